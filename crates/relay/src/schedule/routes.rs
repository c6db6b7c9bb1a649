//! `GET /api/runs`: the scheduled runs of the profiles the caller may use,
//! newest first, under the same allowlist, sign-in and rules as the rest.

use std::sync::Arc;

use axum::{
    Extension, Json,
    extract::{RawQuery, State},
};
use billing::api::runs::{RunsPage, RunsQuery};

use crate::{
    RelayError,
    auth::state::Auth,
    identity::Caller,
    store::{Runs, runs::RunFilter},
};

pub async fn list(
    State(runs): State<Arc<dyn Runs>>,
    State(auth): State<Arc<Auth>>,
    Extension(caller): Extension<Caller>,
    RawQuery(raw_query): RawQuery,
) -> Result<Json<RunsPage>, RelayError> {
    let query = RunsQuery::parse(raw_query.as_deref().unwrap_or_default())
        .map_err(|detail| RelayError::BadParameter { detail })?;
    let allowed: Option<Vec<String>> = match caller {
        Caller::Admitted => None,
        Caller::SignedIn(_) => {
            Some(auth.allowed_profiles(&caller).map(|(profile, _)| profile.name.clone()).collect())
        }
    };
    // A profile asked for that the caller may not use lists nothing, as an
    // unknown one does.
    let profiles = match (allowed, query.profile.clone()) {
        (Some(allowed), Some(asked)) => Some(allowed.into_iter().filter(|name| *name == asked).collect()),
        (allowed, asked) => asked.map(|asked| vec![asked]).or(allowed),
    };
    let filter = RunFilter { profiles, job: query.job.clone(), limit: query.limit() };
    let runs = runs.list(&filter).await.map_err(|error| {
        tracing::error!(%error, "the runs' database failed");
        RelayError::RunsUnavailable
    })?;
    Ok(Json(RunsPage { runs }))
}
