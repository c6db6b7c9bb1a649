//! The team's shared decisions: each profile's settings, the marks on a
//! month's exceptions, and a month's sign-off. Kept in the relay's
//! database, versioned (a change made on an old version is refused with
//! what is kept now), audited with before and after, and told to every
//! page that has the profile open, through whichever relay.

pub mod events;
pub mod routes;

use std::{collections::BTreeMap, sync::Arc};

use billing::api::{
    Endpoint,
    decisions::{
        InvoiceMonth, ItemId, Mark, MonthDecisions, PinnedDocument, Review, ReviewHistoryEntry, Settings,
        SettingsHistoryEntry, SharedSettings, SignOff, SignOffState, Stamp,
    },
};
use serde::{Deserialize, Serialize};

use crate::{
    RelayError,
    store::{
        Records, StoreError,
        decisions::{Decisions, Stored, StoredChange, Subject, Topic, WriteError},
    },
};

/// The database, as the decisions' routes use it.
pub struct Shared {
    pub decisions: Arc<dyn Decisions>,
    /// The archive's records, which a sign-off pins.
    pub records: Arc<dyn Records>,
}

/// How many changes a history answers with at most.
const HISTORY_AT_MOST: u32 = 1000;

fn unavailable(error: StoreError) -> RelayError {
    tracing::error!(%error, "the decisions' database failed");
    RelayError::DecisionsUnavailable
}

fn unreadable(subject: &Subject, error: &serde_json::Error) -> RelayError {
    tracing::error!(?subject, %error, "a decision the relay cannot read");
    RelayError::DecisionsUnavailable
}

/// A mark's state as kept: the mark, and the item it is on.
#[derive(Serialize, Deserialize)]
struct KeptReview {
    item: ItemId,
    #[serde(flatten)]
    mark: Mark,
}

fn settings_subject(profile: &str) -> Subject {
    Subject { profile: profile.to_owned(), topic: Topic::Settings, month: String::new(), item: String::new() }
}

fn review_subject(profile: &str, month: InvoiceMonth, item: &ItemId) -> Subject {
    Subject { profile: profile.to_owned(), topic: Topic::Review, month: month.to_string(), item: item.key() }
}

fn sign_off_subject(profile: &str, month: InvoiceMonth, endpoint: Endpoint) -> Subject {
    Subject {
        profile: profile.to_owned(),
        topic: Topic::SignOff,
        month: month.to_string(),
        item: endpoint.path().to_owned(),
    }
}

fn shared_settings(stored: Option<Stored>) -> Result<SharedSettings, RelayError> {
    let Some(stored) = stored else {
        return Ok(SharedSettings { settings: Settings::default(), version: 0, changed: None });
    };
    let settings =
        serde_json::from_str(&stored.state).map_err(|error| unreadable(&stored.subject, &error))?;
    Ok(SharedSettings { settings, version: stored.version, changed: Some(stored.changed) })
}

fn review(stored: Stored) -> Result<Review, RelayError> {
    let kept: KeptReview =
        serde_json::from_str(&stored.state).map_err(|error| unreadable(&stored.subject, &error))?;
    let month = stored.subject.month.parse().map_err(|_| RelayError::DecisionsUnavailable)?;
    Ok(Review { item: kept.item, month, mark: kept.mark, version: stored.version, changed: stored.changed })
}

fn sign_off(stored: Stored) -> Result<SignOff, RelayError> {
    let state: SignOffState =
        serde_json::from_str(&stored.state).map_err(|error| unreadable(&stored.subject, &error))?;
    let endpoint = Endpoint::from_path(&stored.subject.item).ok_or(RelayError::DecisionsUnavailable)?;
    let month = stored.subject.month.parse().map_err(|_| RelayError::DecisionsUnavailable)?;
    Ok(SignOff { endpoint, month, version: stored.version, state, changed: stored.changed })
}

fn json<T: Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or_default()
}

impl Shared {
    pub async fn settings(&self, profile: &str) -> Result<SharedSettings, RelayError> {
        shared_settings(self.decisions.decision(&settings_subject(profile)).await.map_err(unavailable)?)
    }

    pub async fn settings_history(&self, profile: &str) -> Result<Vec<SettingsHistoryEntry>, RelayError> {
        let changes = self
            .decisions
            .changes(profile, Topic::Settings, "", HISTORY_AT_MOST)
            .await
            .map_err(unavailable)?;
        changes
            .into_iter()
            .map(|change| {
                let read = |state: &str| -> Result<Settings, RelayError> {
                    serde_json::from_str(state).map_err(|error| unreadable(&change.subject, &error))
                };
                Ok(SettingsHistoryEntry {
                    version: change.version,
                    before: change.before.as_deref().map(read).transpose()?.unwrap_or_default(),
                    after: read(&change.after)?,
                    changed: change.changed,
                })
            })
            .collect()
    }

    /// The month's marks, the latest earlier mark of each other item from
    /// the year before, and the month's sign-offs.
    pub async fn month(&self, profile: &str, month: InvoiceMonth) -> Result<MonthDecisions, RelayError> {
        let this = month.to_string();
        let earliest = month.back(MonthDecisions::EARLIER_MONTHS).to_string();
        let before = month.back(1).to_string();
        let reviews =
            self.decisions.decisions(profile, Topic::Review, &this, &this).await.map_err(unavailable)?;
        let reviews: Vec<Review> = reviews.into_iter().map(review).collect::<Result<_, _>>()?;
        let older = self
            .decisions
            .decisions(profile, Topic::Review, &earliest, &before)
            .await
            .map_err(unavailable)?;
        // Months come in order, so the last one kept per item is its latest.
        let mut earlier: BTreeMap<ItemId, Review> = BTreeMap::new();
        for stored in older {
            let review = review(stored)?;
            earlier.insert(review.item.clone(), review);
        }
        for review in &reviews {
            earlier.remove(&review.item);
        }
        let sign_offs =
            self.decisions.decisions(profile, Topic::SignOff, &this, &this).await.map_err(unavailable)?;
        Ok(MonthDecisions {
            month,
            reviews,
            earlier: earlier.into_values().collect(),
            sign_offs: sign_offs.into_iter().map(sign_off).collect::<Result<_, _>>()?,
        })
    }

    pub async fn review_history(
        &self,
        profile: &str,
        month: InvoiceMonth,
    ) -> Result<Vec<ReviewHistoryEntry>, RelayError> {
        let changes = self
            .decisions
            .changes(profile, Topic::Review, &month.to_string(), HISTORY_AT_MOST)
            .await
            .map_err(unavailable)?;
        changes.into_iter().map(review_change).collect()
    }
}

fn review_change(change: StoredChange) -> Result<ReviewHistoryEntry, RelayError> {
    let read = |state: &str| -> Result<KeptReview, RelayError> {
        serde_json::from_str(state).map_err(|error| unreadable(&change.subject, &error))
    };
    let after = read(&change.after)?;
    Ok(ReviewHistoryEntry {
        item: after.item,
        version: change.version,
        before: change.before.as_deref().map(read).transpose()?.map(|kept| kept.mark),
        after: after.mark,
        changed: change.changed,
    })
}

/// A refused write as the route answers it: the conflict with what is
/// kept now (as its own route would answer it), or the sign-off in force.
fn refused<T: Serialize>(
    error: WriteError,
    base_version: u64,
    current: impl FnOnce(Option<Stored>) -> Result<T, RelayError>,
) -> RelayError {
    match error {
        WriteError::Conflict { current: kept } => {
            let current_version = kept.as_ref().map_or(0, |kept| kept.version);
            match current(kept) {
                Ok(current) => {
                    RelayError::DecisionConflict { base_version, current_version, current: json(&current) }
                }
                Err(error) => error,
            }
        }
        WriteError::SignedOff { sign_off: stored } => match sign_off(stored) {
            Ok(sign_off) => RelayError::MonthSignedOff {
                month: sign_off.month.to_string(),
                by: sign_off.changed.by.clone(),
                current: json(&sign_off),
            },
            Err(error) => error,
        },
        WriteError::Store(error) => unavailable(error),
    }
}

/// The documents a sign-off holds to, from their archive records: each
/// must be the profile's, for exactly the month.
fn pinned(
    documents: Vec<billing::api::ArchivedDocument>,
    profile: &str,
    month: InvoiceMonth,
) -> Result<Vec<PinnedDocument>, RelayError> {
    documents
        .into_iter()
        .map(|document| {
            let request = &document.request;
            let window = match request.scope() {
                billing::api::Scope::Window(window) => Some(*window),
                billing::api::Scope::Subscription(_) => None,
            };
            if request.profile() != profile || window.and_then(InvoiceMonth::of_window) != Some(month) {
                return Err(RelayError::BadParameter {
                    detail: format!(
                        "archived document {} is not one of profile {profile}'s documents for {month}; a sign-off \
                         holds to the documents of its own month",
                        document.id
                    ),
                });
            }
            Ok(PinnedDocument {
                id: document.id,
                endpoint: request.endpoint(),
                sha256: document.sha256,
                fetched_at: document.fetched_at,
            })
        })
        .collect()
}

/// The one stamp a change carries: who, and now to the millisecond, as
/// both databases keep it.
fn stamp(by: &str) -> Stamp {
    use chrono::SubsecRound;
    Stamp { by: by.to_owned(), at: chrono::Utc::now().trunc_subsecs(3) }
}
