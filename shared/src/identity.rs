//! Roles, scopes and capabilities. The issuer (auth) puts a role's scopes into every access
//! token and the API gateway checks route scopes; behind it, a use case that only some roles may
//! run takes a [`Capability`] of its [`Rights`] as a parameter, so it cannot be called without
//! the proof that the caller's role (the account's, as the context's copy says) is one of them.

use std::marker::PhantomData;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

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
    /// Hiring's staff routes: applications, the test bank, workers' profiles.
    pub const HIRING_MANAGE: &str = "hiring:manage";
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
                HIRING_MANAGE,
            ],
            Role::Manager => &[MEMBER, TASKS_SHUFFLE, TASKS_READ_ALL, HIRING_MANAGE],
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

/// The roles some use cases admit, named for the business (`Managers`, `Bookkeepers`…): each
/// context declares its own next to the use cases that take a [`Capability`] of them.
pub trait Rights {
    const ROLES: &'static [Role];
}

/// Proof that the caller holds one of `R`'s roles. Only [`Capability::check`] makes one, so a
/// use case that takes `&Capability<R>` runs for nobody else.
pub struct Capability<R> {
    account_id: Uuid,
    role: Role,
    rights: PhantomData<fn() -> R>,
}

/// A role outside the rights a use case admits (403 at the HTTP edge).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a {role} may not do this")]
pub struct NotAllowed {
    pub role: Role,
}

impl<R: Rights> Capability<R> {
    /// Admits `account_id` if `role`, the role its account has now, is one of `R`'s.
    pub fn check(account_id: Uuid, role: Role) -> Result<Self, NotAllowed> {
        if R::ROLES.contains(&role) {
            Ok(Capability {
                account_id,
                role,
                rights: PhantomData,
            })
        } else {
            Err(NotAllowed { role })
        }
    }
}

impl<R> Capability<R> {
    /// Who was admitted.
    pub fn account_id(&self) -> Uuid {
        self.account_id
    }

    /// The role they were admitted with.
    pub fn role(&self) -> Role {
        self.role
    }
}

impl<R> std::fmt::Debug for Capability<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Capability")
            .field("rights", &std::any::type_name::<R>())
            .field("account_id", &self.account_id)
            .field("role", &self.role)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rights as a context declares them.
    struct Overseers;
    impl Rights for Overseers {
        const ROLES: &'static [Role] = &[Role::Manager, Role::Admin];
    }

    #[test]
    fn every_role_of_the_rights_is_admitted_as_itself() {
        for role in Overseers::ROLES.iter().copied() {
            let id = Uuid::new_v4();
            let admitted = Capability::<Overseers>::check(id, role).unwrap();
            assert_eq!((admitted.account_id(), admitted.role()), (id, role));
        }
    }

    #[test]
    fn a_role_outside_the_rights_is_refused_by_name() {
        for role in [Role::Accountant, Role::Worker] {
            let refused = Capability::<Overseers>::check(Uuid::new_v4(), role).unwrap_err();
            assert_eq!(refused, NotAllowed { role });
            assert_eq!(refused.to_string(), format!("a {role} may not do this"));
        }
    }

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
