//! The decisions' routes under `/api/profiles/{profile}/`: `settings`,
//! `reviews/{month}`, `sign-off/{month}`, their histories, and `events`.
//! Reading needs any role on the profile; a mark or a settings change
//! needs `review`, a sign-off or a reopening `approve`.

use std::sync::Arc;

use axum::{
    Extension, Json,
    extract::{FromRequest, Path, Request, State, rejection::JsonRejection},
    http::{HeaderMap, header},
};
use billing::{
    Role,
    api::decisions::{
        InvoiceMonth, LOCAL_PERSON, Mark, MonthDecisions, Review, ReviewChange, ReviewHistoryEntry, Settings,
        SettingsChange, SettingsHistoryEntry, SharedSettings, SignOff, SignOffAction, SignOffChange,
        SignOffState,
    },
};
use serde::de::DeserializeOwned;

use super::{
    KeptReview, Shared, pinned, refused, review, review_subject, settings_subject, shared_settings, sign_off,
    sign_off_subject, stamp,
};
use crate::{
    RelayError,
    auth::state::Auth,
    identity::Caller,
    observe::audit::{self, RequestId},
    store::decisions::{MonthState, NewState, Stored, Write, Written},
};

/// The most corrections a profile keeps.
const CORRECTIONS_AT_MOST: usize = 10_000;

/// A JSON body, refused in the relay's own words when it is not one.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = RelayError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(RelayError::BadParameter { detail: explain(&rejection) }),
        }
    }
}

fn explain(rejection: &JsonRejection) -> String {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => {
            "send the change as JSON, with Content-Type: application/json".to_owned()
        }
        other => format!("the body is not the change this route takes: {}", other.body_text()),
    }
}

/// Who the caller may be on `profile`: refused as for documents when the
/// rules do not name it, and unknown when no profile has that name.
pub(super) fn role(auth: &Auth, caller: &Caller, profile: &str) -> Result<Role, RelayError> {
    let role = auth.check_access(caller, profile)?;
    if !auth.config.profiles.iter().any(|configured| configured.name == profile) {
        return Err(RelayError::UnknownProfile { profile: billing::api::request::echoed(profile) });
    }
    Ok(role)
}

/// What a change needs: a role, in a person's words, and the route.
struct Needs<'a> {
    role: Role,
    doing: &'static str,
    path: &'a str,
}

/// A change, from a caller whose role allows it and from the relay's own
/// page (or a script), never from another site's; returns who makes it.
fn may_change(
    auth: &Auth,
    caller: &Caller,
    request_id: RequestId,
    headers: &HeaderMap,
    profile: &str,
    needs: Needs<'_>,
) -> Result<String, RelayError> {
    let Needs { role: needed, doing, path } = needs;
    let role = role(auth, caller, profile)?;
    if !from_this_site(headers) {
        audit::refused(
            request_id,
            caller.user(),
            billing::api::ErrorCode::CrossSiteRequest,
            path,
            Some(profile),
        );
        return Err(RelayError::CrossSiteRequest);
    }
    if !role.includes(needed) {
        audit::refused(
            request_id,
            caller.user(),
            billing::api::ErrorCode::RoleForbidden,
            path,
            Some(profile),
        );
        return Err(RelayError::RoleForbidden {
            profile: billing::api::request::echoed(profile),
            role,
            needed,
            doing,
        });
    }
    Ok(caller.user().map_or(LOCAL_PERSON, |user| user.account()).to_owned())
}

/// A browser says where a request comes from (`Sec-Fetch-Site`, else
/// `Origin` against `Host`); a script says nothing and is let through.
fn from_this_site(headers: &HeaderMap) -> bool {
    let text = |name| headers.get(name).and_then(|value: &header::HeaderValue| value.to_str().ok());
    if let Some(site) = text(header::HeaderName::from_static("sec-fetch-site")) {
        return site == "same-origin" || site == "none";
    }
    match (text(header::ORIGIN), text(header::HOST)) {
        (None, _) => true,
        (Some(origin), Some(host)) => {
            origin.split_once("://").is_some_and(|(_, authority)| authority == host)
        }
        (Some(_), None) => false,
    }
}

fn month_of(text: &str) -> Result<InvoiceMonth, RelayError> {
    text.parse().map_err(|error: billing::api::decisions::NotAMonth| RelayError::BadParameter {
        detail: error.to_string(),
    })
}

fn audited(request_id: RequestId, caller: &Caller, written: &Written) {
    let stored = &written.stored;
    audit::decided(
        request_id,
        caller.user(),
        &stored.subject,
        stored.version,
        written.before.as_deref(),
        &stored.state,
    );
}

pub async fn get_settings(
    State(shared): State<Arc<Shared>>,
    State(auth): State<Arc<Auth>>,
    Extension(caller): Extension<Caller>,
    Path(profile): Path<String>,
) -> Result<Json<SharedSettings>, RelayError> {
    role(&auth, &caller, &profile)?;
    Ok(Json(shared.settings(&profile).await?))
}

pub async fn settings_history(
    State(shared): State<Arc<Shared>>,
    State(auth): State<Arc<Auth>>,
    Extension(caller): Extension<Caller>,
    Path(profile): Path<String>,
) -> Result<Json<Vec<SettingsHistoryEntry>>, RelayError> {
    role(&auth, &caller, &profile)?;
    Ok(Json(shared.settings_history(&profile).await?))
}

pub async fn put_settings(
    State(shared): State<Arc<Shared>>,
    State(auth): State<Arc<Auth>>,
    Extension(caller): Extension<Caller>,
    Extension(request_id): Extension<RequestId>,
    Path(profile): Path<String>,
    headers: HeaderMap,
    Body(change): Body<SettingsChange>,
) -> Result<Json<SharedSettings>, RelayError> {
    let path = billing::api::decisions::paths::settings(&profile);
    let by = may_change(
        &auth,
        &caller,
        request_id,
        &headers,
        &profile,
        Needs { role: Role::Review, doing: "changing the settings", path: &path },
    )?;
    let settings: Settings = change.settings;
    settings.check().map_err(|error| RelayError::BadParameter { detail: error.to_string() })?;
    if settings.corrections.len() > CORRECTIONS_AT_MOST
        || settings.corrections.iter().any(|(product, publisher)| {
            product.chars().count() > Settings::NAME_AT_MOST
                || publisher.chars().count() > Settings::NAME_AT_MOST
        })
    {
        return Err(RelayError::BadParameter {
            detail: format!(
                "a profile keeps at most {CORRECTIONS_AT_MOST} corrections, each name at most {} characters",
                Settings::NAME_AT_MOST
            ),
        });
    }
    let state = serde_json::to_string(&settings).unwrap_or_default();
    let write = Write {
        subject: settings_subject(&profile),
        base_version: change.base_version,
        state: NewState::Given(state),
        changed: stamp(&by),
        refused_when_signed_off: false,
        locks_month: false,
    };
    let written = shared
        .decisions
        .write(write)
        .await
        .map_err(|error| refused(error, change.base_version, shared_settings))?;
    audited(request_id, &caller, &written);
    Ok(Json(shared_settings(Some(written.stored))?))
}

pub async fn month_decisions(
    State(shared): State<Arc<Shared>>,
    State(auth): State<Arc<Auth>>,
    Extension(caller): Extension<Caller>,
    Path((profile, month)): Path<(String, String)>,
) -> Result<Json<MonthDecisions>, RelayError> {
    let month = month_of(&month)?;
    role(&auth, &caller, &profile)?;
    Ok(Json(shared.month(&profile, month).await?))
}

pub async fn review_history(
    State(shared): State<Arc<Shared>>,
    State(auth): State<Arc<Auth>>,
    Extension(caller): Extension<Caller>,
    Path((profile, month)): Path<(String, String)>,
) -> Result<Json<Vec<ReviewHistoryEntry>>, RelayError> {
    let month = month_of(&month)?;
    role(&auth, &caller, &profile)?;
    Ok(Json(shared.review_history(&profile, month).await?))
}

pub async fn put_review(
    State(shared): State<Arc<Shared>>,
    State(auth): State<Arc<Auth>>,
    Extension(caller): Extension<Caller>,
    Extension(request_id): Extension<RequestId>,
    Path((profile, month)): Path<(String, String)>,
    headers: HeaderMap,
    Body(change): Body<ReviewChange>,
) -> Result<Json<Review>, RelayError> {
    let month = month_of(&month)?;
    let path = billing::api::decisions::paths::reviews(&profile, month);
    let by = may_change(
        &auth,
        &caller,
        request_id,
        &headers,
        &profile,
        Needs { role: Role::Review, doing: "marking an exception", path: &path },
    )?;
    let mark = Mark { status: change.mark.status, note: change.mark.note.trim().to_owned() };
    if mark.note.chars().count() > Mark::NOTE_AT_MOST {
        return Err(RelayError::BadParameter {
            detail: format!("a note is at most {} characters", Mark::NOTE_AT_MOST),
        });
    }
    let state = serde_json::to_string(&KeptReview { item: change.item.clone(), mark }).unwrap_or_default();
    let write = Write {
        subject: review_subject(&profile, month, &change.item),
        base_version: change.base_version,
        state: NewState::Given(state),
        changed: stamp(&by),
        refused_when_signed_off: true,
        locks_month: false,
    };
    let written = shared.decisions.write(write).await.map_err(|error| {
        refused(error, change.base_version, |kept: Option<Stored>| kept.map(review).transpose())
    })?;
    audited(request_id, &caller, &written);
    Ok(Json(review(written.stored)?))
}

pub async fn put_sign_off(
    State(shared): State<Arc<Shared>>,
    State(auth): State<Arc<Auth>>,
    Extension(caller): Extension<Caller>,
    Extension(request_id): Extension<RequestId>,
    Path((profile, month)): Path<(String, String)>,
    headers: HeaderMap,
    Body(change): Body<SignOffChange>,
) -> Result<Json<SignOff>, RelayError> {
    let month = month_of(&month)?;
    let path = billing::api::decisions::paths::sign_off(&profile, month);
    let doing = match change.action {
        SignOffAction::SignOff { .. } => "signing a month off",
        SignOffAction::Reopen { .. } => "reopening a month",
    };
    let by = may_change(
        &auth,
        &caller,
        request_id,
        &headers,
        &profile,
        Needs { role: Role::Approve, doing, path: &path },
    )?;
    let subject = sign_off_subject(&profile, month, change.endpoint);
    let current = |kept: Option<Stored>| kept.map(sign_off).transpose();
    // Signing off writes the month's marks as they stand under the write's
    // lock; reopening writes the reason. Only a sign-off makes the month read-only.
    let mut pinned_documents = Vec::new();
    let reopened = match change.action {
        SignOffAction::SignOff { documents } => {
            let documents = archived(&shared, &documents).await?;
            pinned_documents = pinned(documents, &profile, month)?;
            if !pinned_documents.iter().any(|document| document.endpoint == change.endpoint) {
                return Err(RelayError::BadParameter {
                    detail: format!(
                        "a sign-off of {} holds to its own archived document for {month}; name it among the \
                         documents",
                        change.endpoint.path()
                    ),
                });
            }
            None
        }
        SignOffAction::Reopen { reason } => {
            let reason = reason.trim().to_owned();
            if reason.is_empty() {
                return Err(RelayError::BadParameter {
                    detail: "reopening a signed-off month needs a reason, for the audit".to_owned(),
                });
            }
            let kept = shared.decisions.decision(&subject).await.map_err(super::unavailable)?;
            if !kept.map(sign_off).transpose()?.is_some_and(|kept| kept.is_in_force()) {
                return Err(RelayError::BadParameter {
                    detail: format!(
                        "{} for {month} is not signed off, so there is nothing to reopen",
                        change.endpoint.path()
                    ),
                });
            }
            Some(serde_json::to_string(&SignOffState::Reopened { reason }).unwrap_or_default())
        }
    };
    let make = |month_state: &MonthState| signed_off_state(month_state, &pinned_documents);
    let write = Write {
        subject,
        base_version: change.base_version,
        locks_month: reopened.is_none(),
        state: match reopened {
            Some(state) => NewState::Given(state),
            None => NewState::OfMonth(&make),
        },
        changed: stamp(&by),
        refused_when_signed_off: false,
    };
    let written =
        shared.decisions.write(write).await.map_err(|error| refused(error, change.base_version, current))?;
    audited(request_id, &caller, &written);
    Ok(Json(sign_off(written.stored)?))
}

/// The archive's records of `ids`, each required to exist.
async fn archived(shared: &Shared, ids: &[i64]) -> Result<Vec<billing::api::ArchivedDocument>, RelayError> {
    if ids.is_empty() || ids.len() > 16 {
        return Err(RelayError::BadParameter {
            detail:
                "a sign-off names the archived documents it holds to: the run's own, and up to 15 it was \
                     compared with"
                    .to_owned(),
        });
    }
    let mut documents = Vec::with_capacity(ids.len());
    for id in ids {
        let document = shared.records.get(*id).await.map_err(super::unavailable)?;
        documents.push(document.ok_or_else(|| RelayError::BadParameter {
            detail: format!("the archive has no document {id}: a sign-off holds only to archived documents"),
        })?);
    }
    Ok(documents)
}

fn signed_off_state(
    month_state: &MonthState,
    documents: &[billing::api::decisions::PinnedDocument],
) -> String {
    let reviews = month_state.reviews.iter().cloned().filter_map(|stored| review(stored).ok()).collect();
    let settings =
        shared_settings(month_state.settings.clone()).map(|shared| shared.settings).unwrap_or_default();
    serde_json::to_string(&SignOffState::SignedOff { documents: documents.to_vec(), reviews, settings })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn only_this_site_or_a_script_may_change_decisions() {
        assert!(from_this_site(&headers(&[])), "a script");
        assert!(from_this_site(&headers(&[("sec-fetch-site", "same-origin")])));
        assert!(!from_this_site(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(!from_this_site(&headers(&[("sec-fetch-site", "same-site")])));
        assert!(from_this_site(&headers(&[("origin", "http://127.0.0.1:8080"), ("host", "127.0.0.1:8080")])));
        assert!(!from_this_site(&headers(&[("origin", "https://evil.example"), ("host", "127.0.0.1:8080")])));
        assert!(!from_this_site(&headers(&[("origin", "null")])));
    }
}
