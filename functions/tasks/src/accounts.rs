//! The task tracker's own copy of accounts: just what assignment needs (role, active).

use ates_kernel::identity::Role;
use serde::Deserialize;
use uuid::Uuid;

/// The payload of every `Account.*` event, as this context reads it (v1). Unknown fields are
/// ignored so auth can add fields without breaking us.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AccountSnapshot {
    pub account_id: Uuid,
    pub email: String,
    pub full_name: String,
    pub role: Role,
    pub active: bool,
    pub revision: u64,
}

impl AccountSnapshot {
    /// Tasks go to active accounts that are neither admins nor managers.
    pub fn is_assignable(&self) -> bool {
        self.active && self.role.is_assignable()
    }
}

/// The events this context listens to about accounts.
pub const ACCOUNT_EVENTS: [&str; 3] = ["Account.Created", "Account.Updated", "Account.Deactivated"];

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(role: Role, active: bool) -> AccountSnapshot {
        AccountSnapshot {
            account_id: Uuid::now_v7(),
            email: "a@b.io".into(),
            full_name: "A".into(),
            role,
            active,
            revision: 1,
        }
    }

    #[test]
    fn only_active_workers_and_accountants_take_tasks() {
        assert!(snapshot(Role::Worker, true).is_assignable());
        assert!(snapshot(Role::Accountant, true).is_assignable());
        assert!(!snapshot(Role::Worker, false).is_assignable());
        assert!(!snapshot(Role::Manager, true).is_assignable());
        assert!(!snapshot(Role::Admin, true).is_assignable());
    }
}
