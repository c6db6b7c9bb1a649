//! What the sign-in room shares between its routes: sign-in as configured
//! (or not), the session store, the access rules and the profiles they
//! admit to.

use std::sync::Arc;

use billing::api::request::echoed;

use super::{access::may_use, provider::SignIn, sessions::Store};
use crate::{Profile, RelayConfig, RelayError, identity::Caller, observe::metrics::Metrics};

/// Sign-in, sessions and access, for the routes that ask who is calling.
pub struct Auth {
    pub config: Arc<RelayConfig>,
    /// `None` with sign-in off: one person on loopback.
    pub sign_in: Option<SignIn>,
    /// Where sessions live, when sign-in is on.
    pub sessions: Option<Store>,
    pub metrics: Arc<Metrics>,
}

impl Auth {
    /// Sign-in, for the routes that exist only with it.
    pub fn configured(&self) -> Result<&SignIn, RelayError> {
        self.sign_in.as_ref().ok_or(RelayError::UnknownRoute { path: "/auth".to_owned() })
    }

    /// Refuses `profile` to a caller whose rules do not name it, with the same
    /// answer whether or not the profile exists.
    pub fn check_access(&self, caller: &Caller, profile: &str) -> Result<(), RelayError> {
        let Caller::SignedIn(user) = caller else { return Ok(()) };
        if may_use(&self.config.access, user, profile) {
            return Ok(());
        }
        let contact = self
            .sign_in
            .as_ref()
            .and_then(|sign_in| sign_in.config.access_contact.clone())
            .unwrap_or_else(|| "the relay's administrator".to_owned());
        Err(RelayError::ProfileForbidden {
            profile: echoed(profile),
            account: user.account().to_owned(),
            contact,
        })
    }

    /// The profiles `caller` may use, in the configured order.
    pub fn allowed_profiles<'a>(&'a self, caller: &'a Caller) -> impl Iterator<Item = &'a Profile> {
        self.config.profiles.iter().filter(move |profile| match caller {
            Caller::Admitted => true,
            Caller::SignedIn(user) => may_use(&self.config.access, user, &profile.name),
        })
    }
}
