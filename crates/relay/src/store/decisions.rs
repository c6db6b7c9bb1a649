//! The shared decisions as the database keeps them: a current state per
//! subject, a change per version, and the guard that no change is made on
//! a version other than the current one. What the state means is the
//! relay's `decisions` room's business; here it is JSON text.

use async_trait::async_trait;
use billing::api::decisions::Stamp;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use super::StoreError;

/// What kind of decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    Settings,
    Review,
    SignOff,
}

impl Topic {
    pub fn name(self) -> &'static str {
        match self {
            Self::Settings => "settings",
            Self::Review => "review",
            Self::SignOff => "sign_off",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Settings, Self::Review, Self::SignOff].into_iter().find(|topic| topic.name() == name)
    }
}

/// Which decision: `month` is `YYYY-MM` or empty, `item` the mark's item
/// key, the sign-off's endpoint, or empty.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Subject {
    pub profile: String,
    pub topic: Topic,
    pub month: String,
    pub item: String,
}

/// A decision as it stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    pub subject: Subject,
    pub version: u64,
    pub state: String,
    pub changed: Stamp,
}

/// One change of a decision, `before` empty for its first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredChange {
    pub subject: Subject,
    pub version: u64,
    pub before: Option<String>,
    pub after: String,
    pub changed: Stamp,
}

/// What a month's sign-off holds to, read under the same lock that writes it.
#[derive(Clone, Debug, Default)]
pub struct MonthState {
    pub reviews: Vec<Stored>,
    pub settings: Option<Stored>,
}

/// The state a change writes.
pub enum NewState<'a> {
    Given(String),
    /// Made from the month's marks and the settings as they stand when the
    /// change is written (a sign-off).
    OfMonth(&'a (dyn Fn(&MonthState) -> String + Sync)),
}

/// A change of one decision, made on `base_version` (0: there was none).
pub struct Write<'a> {
    pub subject: Subject,
    pub base_version: u64,
    pub state: NewState<'a>,
    pub changed: Stamp,
    /// Refused while a sign-off of the subject's month is in force.
    pub refused_when_signed_off: bool,
    /// Whether this decision, once written, makes its month read-only.
    pub locks_month: bool,
}

/// A change written: the decision now, and its state before (none for its first).
#[derive(Clone, Debug)]
pub struct Written {
    pub stored: Stored,
    pub before: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("the change was made on an old version")]
    Conflict { current: Option<Stored> },
    #[error("the month is signed off")]
    SignedOff { sign_off: Stored },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for WriteError {
    fn from(error: sqlx::Error) -> Self {
        Self::Store(error.into())
    }
}

/// A decision was written, on this relay or another sharing the database.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Changed {
    Decision {
        subject: Subject,
        version: u64,
    },
    /// Changes may have been missed (the database's notifications were
    /// cut off): read everything again.
    Unknown,
}

/// The shared decisions, in SQLite or PostgreSQL.
#[async_trait]
pub trait Decisions: Send + Sync {
    async fn decision(&self, subject: &Subject) -> Result<Option<Stored>, StoreError>;
    /// A profile's decisions of `topic` for the months `from` to `to`, inclusive.
    async fn decisions(
        &self,
        profile: &str,
        topic: Topic,
        from: &str,
        to: &str,
    ) -> Result<Vec<Stored>, StoreError>;
    /// The changes of a profile's `topic` in `month`, newest first, at most `limit`.
    async fn changes(
        &self,
        profile: &str,
        topic: Topic,
        month: &str,
        limit: u32,
    ) -> Result<Vec<StoredChange>, StoreError>;
    /// Writes the change if it was made on the current version, and tells
    /// every relay sharing the database.
    async fn write(&self, write: Write<'_>) -> Result<Written, WriteError>;
    /// Every change written from now on, by any relay sharing the database.
    fn subscribe(&self) -> broadcast::Receiver<Changed>;
}

/// How many changes a subscriber may lag before it is told it missed some.
pub const CHANGES_BUFFERED: usize = 1024;

/// The lock keys a write takes, in the one order every write takes them:
/// the profile's settings first, then the month.
pub fn lock_keys(write: &Write<'_>) -> Vec<String> {
    let subject = &write.subject;
    let settings = format!("{}\n", subject.profile);
    let month = format!("{}\n{}", subject.profile, subject.month);
    match write.state {
        NewState::OfMonth(_) => vec![settings, month],
        NewState::Given(_) if subject.month.is_empty() => vec![settings],
        NewState::Given(_) => vec![month],
    }
}

/// Why a write must not go ahead, given the current state and the month's
/// sign-off in force.
pub fn refusal(write: &Write<'_>, current: Option<Stored>, sign_off: Option<Stored>) -> Option<WriteError> {
    if write.refused_when_signed_off
        && let Some(sign_off) = sign_off
    {
        return Some(WriteError::SignedOff { sign_off });
    }
    let current_version = current.as_ref().map_or(0, |current| current.version);
    (current_version != write.base_version).then_some(WriteError::Conflict { current })
}
