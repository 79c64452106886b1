//! The hiring table (DynamoDB). Items, keyed by `pk`/`sk`:
//! - `APPLICATION#<id>` / `APPLICATION`: an application, its token's hash, its paper, answers
//!   and score; `gsi1` lists one status's applications newest first (`APPLIED#<status>`,
//!   `<submitted_at>#<id>`), `gsi2` one status and kind's (`APPLIED#<status>#<kind>`);
//! - `OPEN#<kind>#<email>` / `OPEN`: the address's undecided application of that kind, so a
//!   second one creates nothing (written with the application, removed with its decision);
//! - `DUE` / `<deadline>#<id>`: an application in `test` and its deadline, for the timer
//!   (written with the assignment, removed when it leaves `test`);
//! - `QUESTION#<id>` / `QUESTION`, `TEST#<id>` / `TEST`, `PROFILE#<id>` / `PROFILE`: the
//!   bank's entries at their newest revision; `gsi1` lists each kind newest first
//!   (`BANK#<kind>`, `<created_at>#<id>`). Older revisions live on in the papers that pinned them;
//! - `WORKER#<account id>` / `PROFILE`: a hired worker's skills and level;
//! - `ACCOUNT#<id>` / `ACCOUNT`: the copy of an account; `ADDRESS#<email>` / `ACCOUNT`: its
//!   address, to tell an applicant who has an account already;
//! - `IDEMPOTENCY#<caller>#<key>` / `IDEMPOTENCY`: the first answer to a keyed command;
//! - `INBOX#hiring.sync-account#<event id>` / `INBOX`: account events applied;
//! - `OUTBOX#<event id>` / `OUTBOX`: events to publish.
//!
//! Every write of a use case is one transaction of named items; no clock is read here.

use ates_kernel::contracts::accounts::AccountSnapshot;
use ates_kernel::copies::{CopyStore, HasCopyStore};
use ates_kernel::dynamo::{get_s, key, n, s, to_item, Item, Listed, StoreError, Transaction};
use ates_kernel::event::Envelope;
use ates_kernel::outbox;
use chrono::{DateTime, SecondsFormat, Utc};
use uuid::Uuid;

use crate::application::{Application, Filter, Kind, Status};
use crate::bank::Entry;
use crate::error::HiringError;
use crate::ports::{
    Accounts, ApplicationChanges, Applications, Change, Deadlines, KeyedAnswer, Saved, Shelf,
    Workers,
};
use crate::worker::WorkerProfile;

/// The inbox name of the account-copy consumer.
const SYNC_ACCOUNT: &str = "hiring.sync-account";

/// The names of a transaction's items whose conditions mean "read again".
const APPLICATION: &str = "application";
const OPEN: &str = "open";
const WORKER: &str = "worker";
const ENTRY: &str = "entry";

/// DynamoDB reads at most this many keys in one `BatchGetItem`.
const BATCH: usize = 100;

/// Fixed-width times, so a sort key orders as time does.
fn instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn application_key(id: Uuid) -> Item {
    key(format!("APPLICATION#{id}"), "APPLICATION")
}

fn application_item(application: &Application) -> Item {
    let mut item = to_item(application);
    item.extend(application_key(application.application_id));
    let (status, kind) = (application.status, application.kind);
    let submitted = format!(
        "{}#{}",
        instant(application.submitted_at),
        application.application_id
    );
    item.extend([
        ("gsi1pk".to_owned(), s(format!("APPLIED#{status}"))),
        ("gsi1sk".to_owned(), s(&submitted)),
        ("gsi2pk".to_owned(), s(format!("APPLIED#{status}#{kind}"))),
        ("gsi2sk".to_owned(), s(submitted)),
    ]);
    item
}

fn open_key(email: &str, kind: Kind) -> Item {
    key(format!("OPEN#{kind}#{email}"), "OPEN")
}

/// The timer's record of an application in `test`, if it is in `test`.
fn due_key(application: &Application) -> Option<Item> {
    let deadline = application
        .deadline
        .filter(|_| application.status == Status::Test)?;
    Some(key(
        "DUE",
        format!("{}#{}", instant(deadline), application.application_id),
    ))
}

fn entry_key<T: Entry>(id: Uuid) -> Item {
    let kind = T::KIND.to_ascii_uppercase();
    key(format!("{kind}#{id}"), kind)
}

fn worker_key(account_id: Uuid) -> Item {
    key(format!("WORKER#{account_id}"), "PROFILE")
}

fn address_key(email: &str) -> Item {
    key(format!("ADDRESS#{}", email.to_ascii_lowercase()), "ACCOUNT")
}

ates_kernel::table_store!(Store + replays);

impl Store {
    /// Items by key, every batch of them.
    async fn batch(&self, keys: Vec<Item>) -> Result<Vec<Item>, StoreError> {
        let mut found = Vec::new();
        for chunk in keys.chunks(BATCH) {
            found.extend(self.table.batch_get(chunk.to_vec()).await?);
        }
        Ok(found)
    }
}

impl HasCopyStore for Store {
    fn copy_store(&self) -> CopyStore<'_> {
        CopyStore::Table(&self.table, SYNC_ACCOUNT)
    }

    /// The account's address, for telling an applicant who has an account already.
    fn with_copy(&self, account: &AccountSnapshot) -> Transaction {
        let mut item = address_key(&account.email);
        item.insert("account_id".to_owned(), s(account.account_id.to_string()));
        Transaction::new().with("address", self.table.put_item(item, None, &[]))
    }
}

impl Applications for Store {
    async fn application(&self, id: Uuid) -> Result<Option<Application>, StoreError> {
        self.table.get_as(application_key(id)).await
    }

    async fn open_application(
        &self,
        email: &str,
        kind: Kind,
    ) -> Result<Option<Application>, StoreError> {
        let Some(open) = self.table.get(open_key(email, kind)).await? else {
            return Ok(None);
        };
        let id = Uuid::parse_str(get_s(&open, "application_id")?)
            .map_err(|e| StoreError::Malformed(e.to_string()))?;
        self.application(id).await
    }

    async fn applications_in(
        &self,
        filter: &Filter,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listed<Application>, HiringError> {
        // One partition either way: a status's (`gsi1`), or a status and kind's (`gsi2`).
        let status = filter.status;
        let (index, applied) = match filter.kind {
            None => ("gsi1", format!("APPLIED#{status}")),
            Some(kind) => ("gsi2", format!("APPLIED#{status}#{kind}")),
        };
        match filter.submitted {
            None => {
                self.table
                    .newest_first(Some(index), &applied, None, limit, cursor)
                    .await
            }
            // Sort keys are `<instant>#<id>`; `#` sorts before every character of an id, so
            // `<from>#` is the first key at `from`, and `<until>#` lies before every key at
            // `until`.
            Some(span) => {
                let (low, high) = (
                    format!("{}#", instant(span.from)),
                    format!("{}#", instant(span.until)),
                );
                self.table
                    .newest_between(Some(index), &applied, (&low, &high), limit, cursor)
                    .await
            }
        }
    }
}

impl ApplicationChanges for Store {
    async fn add_application(
        &self,
        application: &Application,
        event: &Envelope,
    ) -> Result<Saved, StoreError> {
        let absent = Some("attribute_not_exists(pk)");
        let mut open = open_key(&application.email, application.kind);
        open.insert(
            "application_id".to_owned(),
            s(application.application_id.to_string()),
        );
        let transaction = Transaction::new()
            .with(
                APPLICATION,
                self.table
                    .put_item(application_item(application), absent, &[]),
            )
            .with(OPEN, self.table.put_item(open, absent, &[]));
        let now = application.submitted_at;
        outbox::commit(
            &self.table,
            transaction,
            std::slice::from_ref(event),
            None,
            now,
            &[APPLICATION, OPEN],
        )
        .await
    }

    async fn change_application(
        &self,
        before: &Application,
        after: &Application,
        change: Change<'_>,
    ) -> Result<Saved, StoreError> {
        let mut transaction = Transaction::new().with(
            APPLICATION,
            self.table.put_item(
                application_item(after),
                Some("version = :version"),
                &[(":version", n(before.version))],
            ),
        );
        if before.status.is_open() && !after.status.is_open() {
            let mine = [(":id", s(after.application_id.to_string()))];
            transaction.add(
                OPEN,
                self.table.delete_item(
                    open_key(&after.email, after.kind),
                    Some("application_id = :id"),
                    &mine,
                ),
            );
        }
        if due_key(before) != due_key(after) {
            if let Some(due) = due_key(before) {
                transaction.add("due", self.table.delete_item(due, None, &[]));
            }
            if let Some(due) = due_key(after) {
                let mut item = due;
                item.insert(
                    "application_id".to_owned(),
                    s(after.application_id.to_string()),
                );
                transaction.add("due", self.table.put_item(item, None, &[]));
            }
        }
        if let Some(hired) = change.hired {
            let mut item = to_item(hired);
            item.extend(worker_key(hired.account_id));
            transaction.add(
                WORKER,
                self.table
                    .put_item(item, Some("attribute_not_exists(pk)"), &[]),
            );
        }
        outbox::commit(
            &self.table,
            transaction,
            change.events,
            change.keyed,
            change.now,
            &[APPLICATION, OPEN, WORKER],
        )
        .await
    }
}

impl Deadlines for Store {
    /// One query of the timer's partition up to `now` (its sort keys start with the deadline).
    async fn due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Uuid>, StoreError> {
        // From before any time to just after `now`: `~` sorts after every character of an id,
        // so every deadline at `now` is in. (A key is never empty, hence "0".)
        let to = format!("{}#~", instant(now));
        let items = self.table.query_between("DUE", "0", &to).await?;
        items
            .iter()
            .take(limit)
            .map(|item| {
                Uuid::parse_str(get_s(item, "application_id")?)
                    .map_err(|e| StoreError::Malformed(e.to_string()))
            })
            .collect()
    }
}

impl<T: Entry> Shelf<T> for Store {
    async fn entry(&self, id: Uuid) -> Result<Option<T>, StoreError> {
        self.table.get_as(entry_key::<T>(id)).await
    }

    async fn entries(&self, ids: &[Uuid]) -> Result<Vec<T>, StoreError> {
        let items = self
            .batch(ids.iter().map(|id| entry_key::<T>(*id)).collect())
            .await?;
        items.iter().map(ates_kernel::dynamo::from_item).collect()
    }

    async fn save_entry(
        &self,
        entry: &T,
        previous: Option<&T>,
        keyed: KeyedAnswer<'_>,
        now: DateTime<Utc>,
    ) -> Result<Saved, StoreError> {
        let mut item = to_item(entry);
        item.extend(entry_key::<T>(entry.id()));
        item.extend([
            ("gsi1pk".to_owned(), s(format!("BANK#{}", T::KIND))),
            (
                "gsi1sk".to_owned(),
                s(format!("{}#{}", instant(entry.created_at()), entry.id())),
            ),
        ]);
        let read = previous.map(|p| p.revision());
        outbox::commit_over_revision(&self.table, ENTRY, item, read, &[], keyed, now).await
    }

    async fn shelf(&self, limit: usize, cursor: Option<&str>) -> Result<Listed<T>, HiringError> {
        let shelf = format!("BANK#{}", T::KIND);
        self.table
            .newest_first(Some("gsi1"), &shelf, None, limit, cursor)
            .await
    }
}

impl Workers for Store {
    async fn worker(&self, account_id: Uuid) -> Result<Option<WorkerProfile>, StoreError> {
        self.table.get_as(worker_key(account_id)).await
    }

    async fn change_worker(
        &self,
        profile: &WorkerProfile,
        previous: &WorkerProfile,
        event: &Envelope,
        keyed: KeyedAnswer<'_>,
        now: DateTime<Utc>,
    ) -> Result<Saved, StoreError> {
        let mut item = to_item(profile);
        item.extend(worker_key(profile.account_id));
        outbox::commit_over_revision(
            &self.table,
            WORKER,
            item,
            Some(previous.revision),
            std::slice::from_ref(event),
            keyed,
            now,
        )
        .await
    }
}

impl Accounts for Store {
    async fn account_with_address(&self, email: &str) -> Result<Option<Uuid>, StoreError> {
        let Some(item) = self.table.get(address_key(email)).await? else {
            return Ok(None);
        };
        Uuid::parse_str(get_s(&item, "account_id")?)
            .map(Some)
            .map_err(|e| StoreError::Malformed(e.to_string()))
    }
}
