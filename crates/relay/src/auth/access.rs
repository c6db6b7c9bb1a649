//! Who is asking and which profiles they may use: deny by default, a
//! profile only to the groups, verified e-mail addresses and service
//! accounts its `[[access]]` rules name, with the highest role those rules
//! give; a denied group wins over any allow.

use billing::Role;

use crate::{config::AccessRule, identity::User};

/// What `user` may do with `profile` under `rules`; `None`: not use it at all.
pub fn role_of(rules: &[AccessRule], user: &User, profile: &str) -> Option<Role> {
    let in_group = |groups: &[String]| groups.iter().any(|group| user.groups.contains(group));
    let rules = || rules.iter().filter(|rule| rule.profile == profile);
    if rules().any(|rule| in_group(&rule.deny_groups)) {
        return None;
    }
    let email = user.verified_email();
    rules()
        .filter(|rule| {
            in_group(&rule.allow_groups)
                || email.is_some_and(|email| {
                    rule.allow_emails.iter().any(|allowed| allowed.eq_ignore_ascii_case(email))
                })
                || user.client_id.as_ref().is_some_and(|client| rule.allow_clients.contains(client))
        })
        .map(|rule| rule.role)
        .max()
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
        assert_eq!(role_of(&rules(), &finance, "production"), Some(Role::Read));
        assert_eq!(role_of(&rules(), &finance, "sandbox"), None);
        assert_eq!(role_of(&rules(), &finance, "unlisted"), None);
        assert_eq!(role_of(&rules(), &user(&[], None, false), "production"), None, "no groups, no access");
    }

    #[test]
    fn a_denied_group_wins_over_every_allow() {
        let both = user(&["finance", "contractors"], Some("cfo@example.com"), true);
        assert_eq!(role_of(&rules(), &both, "production"), None);
    }

    #[test]
    fn an_email_counts_only_when_verified_and_ignores_case() {
        assert_eq!(
            role_of(&rules(), &user(&[], Some("cfo@EXAMPLE.com"), true), "production"),
            Some(Role::Read)
        );
        assert_eq!(role_of(&rules(), &user(&[], Some("cfo@example.com"), false), "production"), None);
        assert_eq!(role_of(&rules(), &user(&[], Some("cfo@example.com.evil"), true), "production"), None);
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
        assert_eq!(role_of(&rules, &service, "production"), Some(Role::Read));
        assert_eq!(role_of(&rules, &service, "sandbox"), None);
        let other = User { client_id: Some("month-end-2".into()), ..user(&[], None, false) };
        assert_eq!(role_of(&rules, &other, "production"), None);
        let suspended = User { client_id: Some("month-end".into()), ..user(&["suspended"], None, false) };
        assert_eq!(role_of(&rules, &suspended, "production"), None);
        assert_eq!(role_of(&rules, &user(&[], None, false), "production"), None, "a person has no client id");
    }

    #[test]
    fn the_highest_role_of_the_matching_rules_counts_and_a_deny_still_wins() {
        let rules = vec![
            AccessRule {
                profile: "production".into(),
                allow_groups: vec!["finance".into()],
                ..Default::default()
            },
            AccessRule {
                profile: "production".into(),
                allow_emails: vec!["cfo@example.com".into()],
                role: Role::Approve,
                ..Default::default()
            },
            AccessRule {
                profile: "production".into(),
                allow_groups: vec!["controllers".into()],
                deny_groups: vec!["suspended".into()],
                role: Role::Review,
                ..Default::default()
            },
        ];
        assert_eq!(role_of(&rules, &user(&["finance"], None, false), "production"), Some(Role::Read));
        assert_eq!(
            role_of(&rules, &user(&["finance", "controllers"], None, false), "production"),
            Some(Role::Review)
        );
        assert_eq!(
            role_of(&rules, &user(&["finance"], Some("cfo@example.com"), true), "production"),
            Some(Role::Approve)
        );
        assert_eq!(
            role_of(&rules, &user(&["finance"], Some("cfo@example.com"), false), "production"),
            Some(Role::Read)
        );
        assert_eq!(
            role_of(&rules, &user(&["finance", "suspended"], Some("cfo@example.com"), true), "production"),
            None
        );
    }

    #[test]
    fn no_rules_admit_nobody() {
        assert_eq!(role_of(&[], &user(&["finance"], Some("cfo@example.com"), true), "production"), None);
    }
}
