//! Roles and scopes. The issuer (auth) puts a role's scopes into every access token; the API
//! gateway checks route scopes, and handlers check the role again.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Manager,
    Accountant,
    Worker,
}

/// Scope names, as they appear in tokens and in the template's `AuthorizationScopes`.
pub mod scope {
    /// Every signed-in employee.
    pub const MEMBER: &str = "ates";
    pub const ACCOUNTS_MANAGE: &str = "accounts:manage";
    pub const TASKS_SHUFFLE: &str = "tasks:shuffle";
    pub const TASKS_READ_ALL: &str = "tasks:read-all";
    pub const ACCOUNTING_READ_ALL: &str = "accounting:read-all";
    pub const ANALYTICS_READ: &str = "analytics:read";
    /// Everyone's message history (notifications).
    pub const NOTIFICATIONS_READ_ALL: &str = "notifications:read-all";
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Manager, Role::Accountant, Role::Worker];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Accountant => "accountant",
            Role::Worker => "worker",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Tasks go to anyone but managers and admins (SPEC, Roles).
    pub fn is_assignable(self) -> bool {
        !matches!(self, Role::Admin | Role::Manager)
    }

    pub fn scopes(self) -> &'static [&'static str] {
        use scope::*;
        match self {
            Role::Admin => &[
                MEMBER,
                ACCOUNTS_MANAGE,
                TASKS_SHUFFLE,
                TASKS_READ_ALL,
                ACCOUNTING_READ_ALL,
                ANALYTICS_READ,
                NOTIFICATIONS_READ_ALL,
            ],
            Role::Manager => &[MEMBER, TASKS_SHUFFLE, TASKS_READ_ALL],
            Role::Accountant => &[MEMBER, ACCOUNTING_READ_ALL],
            Role::Worker => &[MEMBER],
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_workers_and_accountants_are_assignable() {
        let assignable: Vec<_> = Role::ALL
            .into_iter()
            .filter(|r| r.is_assignable())
            .collect();
        assert_eq!(assignable, vec![Role::Accountant, Role::Worker]);
    }

    #[test]
    fn every_role_is_a_member_and_only_admins_manage_accounts() {
        for role in Role::ALL {
            assert!(role.scopes().contains(&scope::MEMBER));
            assert_eq!(
                role.scopes().contains(&scope::ACCOUNTS_MANAGE),
                role == Role::Admin
            );
            assert_eq!(
                role.scopes().contains(&scope::NOTIFICATIONS_READ_ALL),
                role == Role::Admin,
                "only admins read everyone's messages"
            );
        }
    }

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("popug"), None);
    }
}
