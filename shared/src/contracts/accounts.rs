//! Account events (SPEC A1): auth publishes every change of an account as a full snapshot with
//! the account's `revision`, so a consumer's copy only ever moves forward, whatever the order.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::event::{DomainEvent, Envelope, EventError};
use crate::identity::Role;

/// The public snapshot every `Account.*` event carries (v1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSnapshot {
    pub account_id: Uuid,
    pub email: String,
    pub full_name: String,
    pub role: Role,
    pub active: bool,
    /// Grows by one with every change of the account: a copy keeps the highest it has seen.
    pub revision: u64,
}

impl AccountSnapshot {
    /// Tasks go to active accounts that are neither admins nor managers (SPEC "Roles").
    pub fn is_assignable(&self) -> bool {
        self.active && self.role.is_assignable()
    }
}

macro_rules! account_event {
    ($type:ident, $name:literal) => {
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $type(pub AccountSnapshot);
        impl DomainEvent for $type {
            const NAME: &'static str = $name;
            const VERSION: u32 = 1;
        }
    };
}
account_event!(AccountCreated, "Account.Created");
account_event!(AccountUpdated, "Account.Updated");
account_event!(AccountDeactivated, "Account.Deactivated");

/// The names of every account event.
pub const ACCOUNT_EVENTS: [&str; 3] = [
    AccountCreated::NAME,
    AccountUpdated::NAME,
    AccountDeactivated::NAME,
];

/// The snapshot of any `Account.*` event; `None` for an event that is not about an account.
/// Unknown fields are ignored, so auth can add fields without breaking a consumer.
pub fn decode_account(envelope: &Envelope) -> Option<Result<AccountSnapshot, EventError>> {
    if !ACCOUNT_EVENTS.contains(&envelope.name.as_str()) {
        return None;
    }
    Some(match envelope.version {
        1 => envelope.decode(),
        other => Err(EventError::Invalid {
            name: envelope.name.clone(),
            version: other,
            reason: "this consumer knows version 1".into(),
        }),
    })
}

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
        // Clients are customers, not employees (SPEC Roles).
        assert!(!snapshot(Role::Client, true).is_assignable());
    }

    #[test]
    fn the_decoder_reads_every_account_event_and_nothing_else() {
        let account = snapshot(Role::Worker, true);
        let cause = crate::event::Cause::request("test");
        let now = chrono::Utc::now();
        let created =
            Envelope::wrap("auth", &AccountCreated(account.clone()), &cause, now).unwrap();
        assert_eq!(decode_account(&created).unwrap().unwrap(), account);
        let mut other = created.clone();
        other.name = "Task.Created".into();
        assert!(decode_account(&other).is_none());
        let mut future = created;
        future.version = 2;
        assert!(decode_account(&future).unwrap().is_err());
    }
}
