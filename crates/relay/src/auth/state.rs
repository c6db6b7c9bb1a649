//! What the sign-in room shares between its routes: sign-in as configured
//! (or not), the session store, the access rules and the profiles they
//! admit to.

use std::sync::Arc;

use billing::{Role, api::request::echoed};

use super::{access::role_of, provider::SignIn, sessions::Store};
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

    /// What the caller may do with `profile`; refuses a caller whose rules
    /// do not name it, with the same answer whether or not the profile
    /// exists. Without sign-in the one local person has every role.
    pub fn check_access(&self, caller: &Caller, profile: &str) -> Result<Role, RelayError> {
        let Caller::SignedIn(user) = caller else { return Ok(Role::Approve) };
        if let Some(role) = role_of(&self.config.access, user, profile) {
            return Ok(role);
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

    /// The profiles `caller` may use, in the configured order, each with
    /// what the caller may do with it.
    pub fn allowed_profiles<'a>(&'a self, caller: &'a Caller) -> impl Iterator<Item = (&'a Profile, Role)> {
        self.config.profiles.iter().filter_map(move |profile| match caller {
            Caller::Admitted => Some((profile, Role::Approve)),
            Caller::SignedIn(user) => {
                role_of(&self.config.access, user, &profile.name).map(|role| (profile, role))
            }
        })
    }
}
