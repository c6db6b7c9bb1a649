//! Who a request comes from, as the relay decided it: a signed-in person
//! or service account, or, with sign-in off, whoever the allowlist admits.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// A signed-in person, as the provider vouched for them at sign-in. Known
/// by issuer and subject; the e-mail is only believed when verified.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub issuer: String,
    pub subject: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub email_verified: bool,
    pub groups: Vec<String>,
    /// Unix seconds, for the session's absolute lifetime.
    pub signed_in_at: i64,
    /// The service account's client, when an access token vouches for the
    /// caller rather than a person's sign-in.
    #[serde(default)]
    pub client_id: Option<String>,
    /// The provider's own session (the ID token's `sid`), by which a
    /// back-channel logout names the sessions it ends.
    #[serde(default)]
    pub provider_session: Option<String>,
}

impl User {
    /// How messages name the account: its e-mail, else its client, else its subject.
    pub fn account(&self) -> &str {
        self.email.as_deref().or(self.client_id.as_deref()).unwrap_or(&self.subject)
    }

    /// The e-mail, only when the provider verified it.
    pub fn verified_email(&self) -> Option<&str> {
        self.email.as_deref().filter(|_| self.email_verified)
    }
}

/// Whoever a request comes from, as the relay decided it.
#[derive(Clone, Debug)]
pub enum Caller {
    /// Sign-in is off: the allowlist is the only gate.
    Admitted,
    SignedIn(Arc<User>),
}

impl Caller {
    pub fn user(&self) -> Option<&User> {
        match self {
            Self::Admitted => None,
            Self::SignedIn(user) => Some(user),
        }
    }
}
