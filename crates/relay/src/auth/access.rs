//! Who is asking and which profiles they may use: deny by default, a
//! profile only to the groups and verified e-mail addresses its `[[access]]`
//! rules name, and a denied group wins over any allow.

use crate::{config::AccessRule, identity::User};

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
