//! The relay's shared state: one part per room, and each route takes only
//! the part it needs (axum's `FromRef`), so the rooms never import the
//! whole.

use std::{ops::Deref, sync::Arc};

use axum::extract::FromRef;

use crate::{
    RelayConfig, admission::Admission, archive::routes::MaybeArchive, auth::state::Auth, decisions::Shared,
    documents::Forwarding, store::Runs,
};

/// axum clones the state for every request: behind one `Arc`, that is one
/// count up and down rather than one per part.
#[derive(Clone)]
pub struct RelayState(Arc<StateParts>);

impl RelayState {
    pub fn new(parts: StateParts) -> Self {
        Self(Arc::new(parts))
    }
}

impl Deref for RelayState {
    type Target = StateParts;

    fn deref(&self) -> &StateParts {
        &self.0
    }
}

pub struct StateParts {
    pub config: Arc<RelayConfig>,
    pub admission: Arc<Admission>,
    pub auth: Arc<Auth>,
    pub forwarding: Arc<Forwarding>,
    pub archive: MaybeArchive,
    pub decisions: Arc<Shared>,
    pub runs: Arc<dyn Runs>,
}

impl FromRef<RelayState> for Arc<dyn Runs> {
    fn from_ref(state: &RelayState) -> Self {
        state.runs.clone()
    }
}

impl FromRef<RelayState> for Arc<Shared> {
    fn from_ref(state: &RelayState) -> Self {
        state.decisions.clone()
    }
}

impl FromRef<RelayState> for MaybeArchive {
    fn from_ref(state: &RelayState) -> Self {
        state.archive.clone()
    }
}

impl FromRef<RelayState> for Arc<RelayConfig> {
    fn from_ref(state: &RelayState) -> Self {
        state.config.clone()
    }
}

impl FromRef<RelayState> for Arc<Auth> {
    fn from_ref(state: &RelayState) -> Self {
        state.auth.clone()
    }
}

impl FromRef<RelayState> for Arc<Forwarding> {
    fn from_ref(state: &RelayState) -> Self {
        state.forwarding.clone()
    }
}
