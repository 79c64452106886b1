//! A context's copy of accounts, kept from `Account.*` events (SPEC: rights follow the account).
//! The use case every `*-sync-account` consumer runs, and the copy's two stores: the DynamoDB
//! item (`ACCOUNT#<id>`, kept only forward in revision) and the in-memory map the use-case tests
//! run on (feature `testing`: no test double ships in a Lambda). Accounting keeps its copy on the
//! ledger account instead, and has its own use case.

#[cfg(any(test, feature = "testing"))]
use std::collections::{HashMap, HashSet};
use std::future::Future;
#[cfg(any(test, feature = "testing"))]
use std::sync::{Mutex, MutexGuard};

use uuid::Uuid;

use crate::contracts::accounts::{decode_account, AccountSnapshot};
use crate::dynamo::{key, put_newer_revision, Item, StoreError, Table, Transaction};
use crate::event::Envelope;
use crate::inbox::{self, Committed, ConsumeError, Outcome};

pub use crate::identity::AccountCopies;

/// A store that keeps the copy, not only reads it.
pub trait KeepsAccountCopies: AccountCopies {
    /// Applies an account snapshot once per event, if it is newer than the copy.
    fn save_account(
        &self,
        account: &AccountSnapshot,
        event: &Envelope,
    ) -> impl Future<Output = Result<Outcome, StoreError>> + Send;
}

/// `Account.*`: the copy moves forward to the event's snapshot. Any other event is no concern
/// of this consumer's (superseded); a snapshot that does not decode is poison.
pub async fn sync_account(
    store: &impl KeepsAccountCopies,
    event: &Envelope,
) -> Result<Outcome, ConsumeError> {
    let Some(account) = decode_account(event) else {
        return Ok(Outcome::Superseded);
    };
    let account = account.map_err(|e| ConsumeError::Poison(e.to_string()))?;
    Ok(store.save_account(&account, event).await?)
}

/// Where a store keeps its copy of accounts: [`AccountCopies`] and [`KeepsAccountCopies`]
/// follow from it.
pub enum CopyStore<'a> {
    /// In the context's table, each event applied once under the consumer's inbox name.
    Table(&'a Table, &'static str),
    /// In memory, for the use-case tests (never in a Lambda: feature `testing`).
    #[cfg(any(test, feature = "testing"))]
    Memory(&'a Locked<CopiesInMemory>),
}

/// A store whose copy of accounts is a [`CopyStore`]: the one way every context keeps its copy
/// (accounting keeps it on the ledger account, which its own use case writes).
pub trait HasCopyStore: Sync {
    fn copy_store(&self) -> CopyStore<'_>;

    /// What else the copy changes, in the same transaction as the copy itself (hiring: the
    /// account's address, for telling an applicant who has an account already). Nothing, unless
    /// a store says so.
    fn with_copy(&self, _account: &AccountSnapshot) -> Transaction {
        Transaction::new()
    }
}

impl<S: HasCopyStore> AccountCopies for S {
    async fn account_copy(&self, id: Uuid) -> Result<Option<AccountSnapshot>, StoreError> {
        match self.copy_store() {
            CopyStore::Table(table, _) => read(table, id).await,
            #[cfg(any(test, feature = "testing"))]
            CopyStore::Memory(copies) => Ok(copies.lock().get(id)),
        }
    }
}

impl<S: HasCopyStore> KeepsAccountCopies for S {
    async fn save_account(
        &self,
        account: &AccountSnapshot,
        event: &Envelope,
    ) -> Result<Outcome, StoreError> {
        match self.copy_store() {
            CopyStore::Table(table, consumer) => {
                let more = self.with_copy(account);
                commit(table, consumer, event, account, more).await
            }
            #[cfg(any(test, feature = "testing"))]
            CopyStore::Memory(copies) => Ok(copies.lock().save(account, event)),
        }
    }
}

/// The key of an account's copy.
pub fn account_key(id: Uuid) -> Item {
    key(format!("ACCOUNT#{id}"), "ACCOUNT")
}

/// The copy as DynamoDB keeps it.
pub async fn read(table: &Table, id: Uuid) -> Result<Option<AccountSnapshot>, StoreError> {
    table.get_as(account_key(id)).await
}

/// Commits the copy, `more` effects of it, and `consumer`'s inbox record for `event` in one
/// transaction. Only the copy has a condition, so a refusal means a newer revision is there.
pub async fn commit(
    table: &Table,
    consumer: &str,
    event: &Envelope,
    account: &AccountSnapshot,
    more: Transaction,
) -> Result<Outcome, StoreError> {
    let copy = put_newer_revision(
        table.name(),
        account_key(account.account_id),
        account,
        account.revision,
    );
    let mut effect = Transaction::new().with("copy", copy);
    effect.append(more);
    Ok(match inbox::commit(table, consumer, event, effect).await? {
        Committed::Applied => Outcome::Applied,
        Committed::Duplicate => Outcome::Duplicate,
        Committed::Refused(_) => Outcome::Superseded,
    })
}

/// The copy in memory, with the events applied to it: what [`commit`] checks, under the lock of
/// the in-memory store that holds it.
#[cfg(any(test, feature = "testing"))]
#[derive(Default)]
pub struct CopiesInMemory {
    copies: HashMap<Uuid, AccountSnapshot>,
    applied: HashSet<Uuid>,
}

#[cfg(any(test, feature = "testing"))]
impl CopiesInMemory {
    pub fn get(&self, id: Uuid) -> Option<AccountSnapshot> {
        self.copies.get(&id).cloned()
    }

    /// Every copy kept.
    pub fn all(&self) -> impl Iterator<Item = &AccountSnapshot> {
        self.copies.values()
    }

    pub fn save(&mut self, account: &AccountSnapshot, event: &Envelope) -> Outcome {
        if self.applied.contains(&event.id) {
            return Outcome::Duplicate;
        }
        if self
            .copies
            .get(&account.account_id)
            .is_some_and(|copy| copy.revision >= account.revision)
        {
            return Outcome::Superseded;
        }
        self.applied.insert(event.id);
        self.copies.insert(account.account_id, account.clone());
        Outcome::Applied
    }
}

/// An in-memory store's state behind one lock: every write of a use case is atomic under it, as
/// a DynamoDB transaction is.
#[cfg(any(test, feature = "testing"))]
#[derive(Debug, Default)]
pub struct Locked<T>(Mutex<T>);

#[cfg(any(test, feature = "testing"))]
impl<T> Locked<T> {
    pub fn lock(&self) -> MutexGuard<'_, T> {
        self.0.lock().expect("no test panicked holding the lock")
    }
}

/// A context's DynamoDB store (its `store.rs`): the context's [`Table`] (`table`), built once
/// per cold start and given to `new`. Its parts, each asked for by name: `copies(<consumer>)`,
/// [`HasCopyStore`] keeping the copy of accounts in the table under the inbox name of the
/// consumer that syncs it (a store whose copy also changes more, as hiring's address book,
/// writes its own); `replays`, the kernel's [`Replays`](crate::usecase::Replays) from the
/// table's idempotency records. Written once here, as [`memory_store!`] is for the in-memory
/// stores, so the contexts' stores cannot drift in what they share.
///
/// ```ignore
/// ates_kernel::table_store!(Store + copies(SYNC_ACCOUNT) + replays);
/// ```
#[macro_export]
macro_rules! table_store {
    ($(#[$meta:meta])* $store:ident $(+ $part:ident $(($arg:expr))?)*) => {
        $(#[$meta])*
        pub struct $store {
            table: $crate::dynamo::Table,
        }

        impl $store {
            pub fn new(table: $crate::dynamo::Table) -> Self {
                Self { table }
            }
        }

        $($crate::table_store!(@$part $store $(, $arg)?);)*
    };
    (@copies $store:ident, $consumer:expr) => {
        impl $crate::copies::HasCopyStore for $store {
            fn copy_store(&self) -> $crate::copies::CopyStore<'_> {
                $crate::copies::CopyStore::Table(&self.table, $consumer)
            }
        }
    };
    (@replays $store:ident) => {
        impl $crate::usecase::Replays for $store {
            async fn replay(
                &self,
                key: &$crate::idempotency::IdempotencyKey,
            ) -> Result<Option<$crate::idempotency::Replay>, $crate::dynamo::StoreError> {
                $crate::idempotency::replay(&self.table, key).await
            }
        }
    };
}

/// A context's in-memory store (its `memory.rs`, feature `testing`): the context's `State`
/// behind one lock (`state`) and its copies of accounts (`accounts`), answering
/// [`HasCopyStore`] from them. Its parts, each asked for by name: `published`, the store's
/// `published()` (the events committed so far, from `State::published`); `replays`, the
/// kernel's [`Replays`](crate::usecase::Replays) from `State::answers` (an
/// [`AnswersInMemory`](crate::idempotency::AnswersInMemory)). Written once here, so the stores
/// the contexts test their use cases on cannot drift in what they share.
///
/// A context that keeps its copy of accounts its own way (matching on its people, accounting on
/// the ledger account) says `own copies`: its store is then only the state behind the lock, and
/// the context answers [`AccountCopies`] itself.
///
/// ```ignore
/// ates_kernel::memory_store!(MemoryStore(State) + published + replays);
/// ates_kernel::memory_store!(MemoryStore(State), own copies + published);
/// ```
#[cfg(any(test, feature = "testing"))]
#[macro_export]
macro_rules! memory_store {
    ($(#[$meta:meta])* $store:ident($state:ty), own copies $(+ $part:ident)*) => {
        $(#[$meta])*
        #[derive(Default)]
        pub struct $store {
            state: $crate::copies::Locked<$state>,
        }

        $($crate::memory_store!(@$part $store);)*
    };
    ($(#[$meta:meta])* $store:ident($state:ty) $(+ $part:ident)*) => {
        $(#[$meta])*
        #[derive(Default)]
        pub struct $store {
            state: $crate::copies::Locked<$state>,
            accounts: $crate::copies::Locked<$crate::copies::CopiesInMemory>,
        }

        impl $crate::copies::HasCopyStore for $store {
            fn copy_store(&self) -> $crate::copies::CopyStore<'_> {
                $crate::copies::CopyStore::Memory(&self.accounts)
            }
        }

        $($crate::memory_store!(@$part $store);)*
    };
    (@published $store:ident) => {
        impl $store {
            /// Every event committed so far, in order.
            pub fn published(&self) -> Vec<$crate::event::Envelope> {
                self.state.lock().published.clone()
            }
        }
    };
    (@replays $store:ident) => {
        impl $crate::usecase::Replays for $store {
            async fn replay(
                &self,
                key: &$crate::idempotency::IdempotencyKey,
            ) -> Result<Option<$crate::idempotency::Replay>, $crate::dynamo::StoreError> {
                Ok(self.state.lock().answers.replay(key))
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contracts::accounts::AccountUpdated;
    use crate::event::Cause;
    use crate::identity::Role;

    #[derive(Default)]
    struct Copies(Locked<CopiesInMemory>);

    impl HasCopyStore for Copies {
        fn copy_store(&self) -> CopyStore<'_> {
            CopyStore::Memory(&self.0)
        }
    }

    fn kiwi(active: bool, revision: u64) -> AccountSnapshot {
        AccountSnapshot {
            account_id: Uuid::from_u128(7),
            email: "kiwi@popug.test".into(),
            full_name: "Kiwi".into(),
            role: Role::Worker,
            active,
            revision,
        }
    }

    fn updated(account: &AccountSnapshot) -> Envelope {
        let payload = AccountUpdated(account.clone());
        Envelope::wrap(
            "auth",
            &payload,
            &Cause::request("test"),
            chrono::Utc::now(),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn an_account_event_applies_once_and_never_moves_a_copy_backwards() {
        let copies = Copies::default();
        let (deactivated, created) = (updated(&kiwi(false, 2)), updated(&kiwi(true, 1)));
        let sync = |event| sync_account(&copies, event);
        assert_eq!(sync(&deactivated).await.unwrap(), Outcome::Applied);
        assert_eq!(sync(&deactivated).await.unwrap(), Outcome::Duplicate);
        assert_eq!(
            sync(&created).await.unwrap(),
            Outcome::Superseded,
            "the older revision arrived late"
        );
        let copy = copies.account_copy(kiwi(true, 1).account_id).await;
        assert_eq!(copy.unwrap(), Some(kiwi(false, 2)));
    }

    #[tokio::test]
    async fn an_unreadable_account_event_is_poison_and_other_events_are_no_concern() {
        let copies = Copies::default();
        let mut broken = updated(&kiwi(true, 1));
        broken.data = serde_json::json!({"account_id": "not a uuid"});
        assert!(matches!(
            sync_account(&copies, &broken).await,
            Err(ConsumeError::Poison(_))
        ));
        let mut other = updated(&kiwi(true, 1));
        other.name = "Account.Renamed".into();
        assert_eq!(
            sync_account(&copies, &other).await.unwrap(),
            Outcome::Superseded
        );
        assert_eq!(
            copies.account_copy(kiwi(true, 1).account_id).await.unwrap(),
            None
        );
    }
}
