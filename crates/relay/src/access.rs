//! Who is asking and which profiles they may use: deny by default, a
//! profile only to the groups and verified e-mail addresses its `[[access]]`
//! rules name, and a denied group wins over any allow.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::config::AccessRule;

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

    fn verified_email(&self) -> Option<&str> {
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

/// Whether `user` may use `profile` under `rules`.
pub fn may_use(rules: &[AccessRule], user: &User, profile: &str) -> bool {
    let in_group = |groups: &[String]| groups.iter().any(|group| user.groups.contains(group));
    let rules = || rules.iter().filter(|rule| rule.profile == profile);
    if rules().any(|rule| in_group(&rule.deny_groups)) {
        return false;
    }
    let email = user.verified_email();
    rules().any(|rule| {
        in_group(&rule.allow_groups)
            || email.is_some_and(|email| {
                rule.allow_emails.iter().any(|allowed| allowed.eq_ignore_ascii_case(email))
            })
            || user.client_id.as_ref().is_some_and(|client| rule.allow_clients.contains(client))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(groups: &[&str], email: Option<&str>, verified: bool) -> User {
        User {
            issuer: "https://id.example".into(),
            subject: "s-1".into(),
            name: None,
            email: email.map(str::to_owned),
            email_verified: verified,
            groups: groups.iter().map(|group| (*group).to_owned()).collect(),
            signed_in_at: 0,
            client_id: None,
            provider_session: None,
        }
    }

    fn rules() -> Vec<AccessRule> {
        vec![
            AccessRule {
                profile: "production".into(),
                allow_groups: vec!["finance".into()],
                allow_emails: vec!["CFO@example.com".into()],
                deny_groups: vec!["contractors".into()],
                ..Default::default()
            },
            AccessRule {
                profile: "sandbox".into(),
                allow_groups: vec!["everyone".into()],
                ..Default::default()
            },
        ]
    }

    #[test]
    fn groups_allow_only_the_profiles_their_rules_name() {
        let finance = user(&["finance"], None, false);
        assert!(may_use(&rules(), &finance, "production"));
        assert!(!may_use(&rules(), &finance, "sandbox"));
        assert!(!may_use(&rules(), &finance, "unlisted"));
        assert!(!may_use(&rules(), &user(&[], None, false), "production"), "no groups, no access");
    }

    #[test]
    fn a_denied_group_wins_over_every_allow() {
        let both = user(&["finance", "contractors"], Some("cfo@example.com"), true);
        assert!(!may_use(&rules(), &both, "production"));
    }

    #[test]
    fn an_email_counts_only_when_verified_and_ignores_case() {
        assert!(may_use(&rules(), &user(&[], Some("cfo@EXAMPLE.com"), true), "production"));
        assert!(!may_use(&rules(), &user(&[], Some("cfo@example.com"), false), "production"));
        assert!(!may_use(&rules(), &user(&[], Some("cfo@example.com.evil"), true), "production"));
    }

    #[test]
    fn a_service_account_is_admitted_by_its_client_id_and_still_denied_by_group() {
        let rules = vec![AccessRule {
            profile: "production".into(),
            allow_clients: vec!["month-end".into()],
            deny_groups: vec!["suspended".into()],
            ..Default::default()
        }];
        let service = User { client_id: Some("month-end".into()), ..user(&[], None, false) };
        assert!(may_use(&rules, &service, "production"));
        assert!(!may_use(&rules, &service, "sandbox"));
        let other = User { client_id: Some("month-end-2".into()), ..user(&[], None, false) };
        assert!(!may_use(&rules, &other, "production"));
        let suspended = User { client_id: Some("month-end".into()), ..user(&["suspended"], None, false) };
        assert!(!may_use(&rules, &suspended, "production"));
        assert!(!may_use(&rules, &user(&[], None, false), "production"), "a person has no client id");
    }

    #[test]
    fn no_rules_admit_nobody() {
        assert!(!may_use(&[], &user(&["finance"], Some("cfo@example.com"), true), "production"));
    }
}
