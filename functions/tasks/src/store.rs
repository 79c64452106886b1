//! The tasks table (DynamoDB). Items, keyed by `pk`/`sk`:
//! - `TASK#<id>` / `TASK`: a task. `gsi1` finds an assignee's tasks (`ASSIGNEE#<id>`,
//!   `<status>#<created_at>#<id>`); the sparse `gsi2` holds open tasks only, spread over
//!   `OPEN#<shard>` partitions, which is what a shuffle walks;
//!   `gsi3` lists every task newest first (`TASKS#<status>#<n>`, sixteen partitions per status so
//!   no partition takes every creation; `<created_at>#<id>`), merged by `merged::newest_first`;
//! - `JOB#<id>` / `JOB`: a shuffle (the kernel's paged job, `kind` = shuffle; a release also
//!   names the account it releases, `released`); `JOB#<id>` / `PROGRESS#<n>`: what its pages of
//!   shard n did; `JOB#<id>` / `PARTITION#<n>`: a shard it finished;
//! - `IDEMPOTENCY#<account>#<key>` / `IDEMPOTENCY`: the first answer to a keyed request
//!   (the kernel's `idempotency`);
//! - `ACCOUNT#<id>` / `ACCOUNT`: the copy of an account, at its newest revision seen;
//! - the pool of assignable accounts (`pool`): `POOL#<n>` / `SLOT` the account in slot n, for n
//!   below the size; `POOL#SIZE#<0..7>` / `SIZE` the size, in eight copies written together so
//!   that the read every creation makes is spread; `ACCOUNT#<id>` / `POOL` the slot of a member,
//!   beside its copy. A pick reads a copy of the size, then a slot;
//! - `INBOX#tasks.sync-account#<event id>` / `INBOX`: events already consumed;
//! - `OUTBOX#<event id>` / `OUTBOX`: events to publish.

use std::collections::HashMap;

use ates_kernel::copies::{CopyStore, HasCopyStore};
use ates_kernel::dynamo::{
    from_item, get_n, get_s, key, n, s, to_item, update, Item, Listed, StoreError, Table,
    Transaction,
};
use ates_kernel::event::Envelope;
use ates_kernel::idempotency::{self, IdempotencyKey, Replay};
use ates_kernel::outbox;
use ates_kernel::usecase::Replays;
use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

use crate::error::TaskError;
use crate::pool::{Place, PoolChange};
use crate::ports::{
    AssignablePool, KeyedAnswer, Listing, PageSaved, PoolMembership, Saved, ShufflePages, Shuffles,
    TaskCompletion, TaskCreation, TaskFilter, TaskListings, TaskStore, TitleMigration,
};
use crate::shuffle::{Shuffle, PAGE_SIZE};
use crate::task::{shard_of, Status, Task, SHARDS};
use ates_kernel::contracts::accounts::AccountSnapshot;
use ates_kernel::job::{self, Cursor, Page, PageCommit};
use ates_kernel::merged::{self, Partition};

/// The inbox name of the account-copy consumer.
const SYNC_ACCOUNT: &str = "tasks.sync-account";

/// The task's item in a command's transaction.
const TASK: &str = "task";

/// A reassignment's item in a shuffle page's transaction.
fn moved(task_id: Uuid) -> String {
    format!("task:{task_id}")
}

fn task_pk(id: Uuid) -> String {
    format!("TASK#{id}")
}

fn assignee_sort_key(task: &Task) -> String {
    format!(
        "{}#{}#{}",
        task.status.as_str(),
        task.created_at.to_rfc3339(),
        task.task_id
    )
}

fn task_item(task: &Task) -> Item {
    let mut item = to_item(task);
    item.extend(key(task_pk(task.task_id), "TASK"));
    item.extend([
        (
            "gsi1pk".to_owned(),
            s(format!("ASSIGNEE#{}", task.assignee_id)),
        ),
        ("gsi1sk".to_owned(), s(assignee_sort_key(task))),
    ]);
    if task.status == Status::Open {
        item.insert("gsi2pk".to_owned(), s(format!("OPEN#{}", task.shard())));
        item.insert("gsi2sk".to_owned(), s(task.task_id.to_string()));
    }
    item.insert(
        "gsi3pk".to_owned(),
        s(listed_under(task.status, task.task_id)),
    );
    item.insert("gsi3sk".to_owned(), s(listing_sort_key(task)));
    item
}

/// Partitions of the every-task listing per status: writes spread over them, a page merges
/// them (`merged::newest_first`).
const LISTING_SHARDS: u32 = 16;

fn listed_under(status: Status, task_id: Uuid) -> String {
    let shard = shard_of(task_id) % LISTING_SHARDS;
    format!("TASKS#{}#{shard}", status.as_str())
}

fn listing_sort_key(task: &Task) -> String {
    format!("{}#{}", task.created_at.to_rfc3339(), task.task_id)
}

pub fn read_task(item: &Item) -> Result<Task, StoreError> {
    from_item(item)
}

/// What a shuffle's job record carries besides the job's progress.
#[derive(Deserialize)]
struct ShuffleItem {
    kind: String,
    requested_by: Uuid,
    requested_at: chrono::DateTime<chrono::Utc>,
    #[serde(default)]
    released: Option<Uuid>,
}

pub struct Store {
    table: Table,
}

impl Store {
    pub fn new(table: Table) -> Store {
        Store { table }
    }

    /// Runs a command's transaction, with the answer to its idempotency key if it has one.
    async fn commit_keyed(
        &self,
        transaction: Transaction,
        keyed: KeyedAnswer<'_>,
        now: DateTime<Utc>,
    ) -> Result<Saved, StoreError> {
        idempotency::commit(&self.table, transaction, keyed, now.timestamp(), &[TASK]).await
    }

    fn reassignment(&self, page: &Page, before: &Task, after: &Task) -> TransactWriteItem {
        update(
            Update::builder()
                .table_name(self.table.name())
                .set_key(Some(key(task_pk(after.task_id), "TASK")))
                .update_expression("SET assignee_id = :to, gsi1pk = :assignee, version = :version, last_shuffle_id = :shuffle")
                .condition_expression("version = :previous AND #status = :open")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":to", s(after.assignee_id.to_string()))
                .expression_attribute_values(":assignee", s(format!("ASSIGNEE#{}", after.assignee_id)))
                .expression_attribute_values(":version", n(after.version))
                .expression_attribute_values(":previous", n(before.version))
                .expression_attribute_values(":open", s("open"))
                .expression_attribute_values(":shuffle", s(page.job_id.to_string())),
        )
    }
}

impl TaskStore for Store {}

impl HasCopyStore for Store {
    fn copy_store(&self) -> CopyStore<'_> {
        CopyStore::Table(&self.table, SYNC_ACCOUNT)
    }
}

impl Replays for Store {
    async fn replay(&self, key: &IdempotencyKey) -> Result<Option<Replay>, StoreError> {
        idempotency::replay(&self.table, key).await
    }
}

/// The pool's size is kept in this many copies, on partitions of their own, all written by
/// every change: each creation reads one at random, so at 10,000 creations a second none takes
/// more than 625 read units a second (a partition serves 3,000).
const SIZE_COPIES: u32 = 8;

/// Copy 0 is the one a change reads and is conditional on.
fn pool_size_key(copy: u32) -> Item {
    key(format!("POOL#SIZE#{copy}"), "SIZE")
}

fn slot_key(slot: u64) -> Item {
    key(format!("POOL#{slot}"), "SLOT")
}

fn member_key(account: Uuid) -> Item {
    key(format!("ACCOUNT#{account}"), "POOL")
}

fn size_of(item: Option<&Item>) -> Result<u64, StoreError> {
    item.map_or(Ok(0), |item| get_n(item, "size"))
}

impl AssignablePool for Store {
    /// A copy of the size at random, read eventually consistent (half a read unit). An account
    /// that joined a moment ago may not be drawn yet; one that left is never drawn, since its
    /// slot is read consistently.
    async fn pool_size(&self) -> Result<u64, StoreError> {
        let copy = rand::random::<u32>() % SIZE_COPIES;
        let out = self
            .table
            .client()
            .get_item()
            .table_name(self.table.name())
            .set_key(Some(pool_size_key(copy)))
            .send()
            .await?;
        size_of(out.item())
    }

    async fn accounts_at(&self, slots: &[u64]) -> Result<HashMap<u64, Uuid>, StoreError> {
        let distinct: std::collections::BTreeSet<u64> = slots.iter().copied().collect();
        let distinct: Vec<u64> = distinct.into_iter().collect();
        let mut found = HashMap::new();
        for keys in distinct.chunks(100) {
            for item in self
                .table
                .batch_get(keys.iter().map(|&n| slot_key(n)).collect())
                .await?
            {
                let slot = get_s(&item, "pk")?
                    .strip_prefix("POOL#")
                    .and_then(|n| n.parse().ok())
                    .ok_or_else(|| StoreError::Malformed("a pool slot's key".into()))?;
                let account = Uuid::parse_str(get_s(&item, "account_id")?)
                    .map_err(|e| StoreError::Malformed(e.to_string()))?;
                found.insert(slot, account);
            }
        }
        Ok(found)
    }
}

impl PoolMembership for Store {
    async fn account_copies(
        &self,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listed<AccountSnapshot>, TaskError> {
        // A member's slot shares the copy's partition; only the copy has a revision.
        let copies = Some("attribute_exists(revision)");
        self.table
            .scan_prefix("ACCOUNT#", copies, limit, cursor)
            .await
    }

    async fn place(&self, account: Uuid) -> Result<Place, StoreError> {
        let items = self
            .table
            .batch_get(vec![member_key(account), pool_size_key(0)])
            .await?;
        let is = |pk: &str, item: &&Item| get_s(item, "pk").is_ok_and(|p| p == pk);
        let size = size_of(items.iter().find(|i| is("POOL#SIZE#0", i)))?;
        let member = format!("ACCOUNT#{account}");
        let slot = items
            .iter()
            .find(|i| is(&member, i))
            .map(|item| get_n(item, "slot"))
            .transpose()?;
        let last = match size {
            0 => None,
            size => self.accounts_at(&[size - 1]).await?.remove(&(size - 1)),
        };
        Ok(Place { slot, size, last })
    }

    async fn change_pool(&self, change: &PoolChange) -> Result<bool, StoreError> {
        let table = &self.table;
        let copy_at = table.check_item(
            ates_kernel::copies::account_key(change.account()),
            "revision = :revision",
            &[(":revision", n(change.revision()))],
        );
        // Copy 0 as read, and every copy to the new size.
        let resize = |from: u64, to: u64| {
            let mut copies = Transaction::new();
            for copy in 0..SIZE_COPIES {
                let write = table
                    .update(pool_size_key(copy))
                    .update_expression("SET #size = :to")
                    .expression_attribute_names("#size", "size")
                    .expression_attribute_values(":to", n(to));
                let write = match copy {
                    0 => write
                        .condition_expression("attribute_not_exists(#size) OR #size = :from")
                        .expression_attribute_values(":from", n(from)),
                    _ => write,
                };
                copies.add(format!("size-{copy}"), update(write));
            }
            copies
        };
        let slot_item = |slot: u64, account: Uuid| {
            let mut item = slot_key(slot);
            item.insert("account_id".into(), s(account.to_string()));
            item
        };
        let member_item = |account: Uuid, slot: u64| {
            let mut item = member_key(account);
            item.insert("slot".into(), n(slot));
            item
        };
        let holds = |account: Uuid| [(":account", s(account.to_string()))];
        let transaction = match *change {
            PoolChange::Join { account, size, .. } => resize(size, size + 1)
                .with("copy", copy_at)
                .with(
                    "slot",
                    table.put(slot_item(size, account), "attribute_not_exists(pk)"),
                )
                .with(
                    "member",
                    table.put(member_item(account, size), "attribute_not_exists(pk)"),
                ),
            PoolChange::Leave {
                account,
                slot,
                size,
                last,
                ..
            } => {
                let transaction = resize(size, size - 1).with("copy", copy_at).with(
                    "member",
                    table.delete_item(
                        member_key(account),
                        Some("slot = :slot"),
                        &[(":slot", n(slot))],
                    ),
                );
                if last == account {
                    transaction.with(
                        "slot",
                        table.delete_item(
                            slot_key(slot),
                            Some("account_id = :account"),
                            &holds(account),
                        ),
                    )
                } else {
                    // The last member moves into the slot left, so the slots stay without a gap.
                    transaction
                        .with(
                            "slot",
                            table.put_item(
                                slot_item(slot, last),
                                Some("account_id = :account"),
                                &holds(account),
                            ),
                        )
                        .with(
                            "last-slot",
                            table.delete_item(
                                slot_key(size - 1),
                                Some("account_id = :account"),
                                &holds(last),
                            ),
                        )
                        .with(
                            "last-member",
                            table.put_item(
                                member_item(last, slot),
                                Some("slot = :last"),
                                &[(":last", n(size - 1))],
                            ),
                        )
                }
            }
        };
        Ok(table.transact(transaction).await?.is_ok())
    }
}

impl TaskCreation for Store {
    async fn create_task(
        &self,
        task: &Task,
        events: &[Envelope],
        keyed: KeyedAnswer<'_>,
        now: DateTime<Utc>,
    ) -> Result<Saved, StoreError> {
        let mut transaction = Transaction::new().with(
            TASK,
            self.table.put(task_item(task), "attribute_not_exists(pk)"),
        );
        transaction.add_all(outbox::OUTBOX, outbox::records(self.table.name(), events));
        self.commit_keyed(transaction, keyed, now).await
    }
}

impl TaskCompletion for Store {
    async fn task(&self, id: Uuid) -> Result<Option<Task>, StoreError> {
        let out = self
            .table
            .client()
            .get_item()
            .table_name(self.table.name())
            .set_key(Some(key(task_pk(id), "TASK")))
            .consistent_read(true)
            .send()
            .await?;
        out.item().map(read_task).transpose()
    }

    async fn complete_task(
        &self,
        before: &Task,
        done: &Task,
        event: &Envelope,
        keyed: KeyedAnswer<'_>,
        now: DateTime<Utc>,
    ) -> Result<Saved, StoreError> {
        let completed_at = done
            .completed_at
            .map(|t| t.to_rfc3339())
            .unwrap_or_default();
        let task = update(
            Update::builder()
                .table_name(self.table.name())
                .set_key(Some(key(task_pk(done.task_id), "TASK")))
                .update_expression("SET #status = :done, completed_at = :at, version = :version, gsi1sk = :sort, gsi3pk = :listed REMOVE gsi2pk, gsi2sk")
                .condition_expression("version = :previous AND #status = :open AND assignee_id = :assignee")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":done", s("done"))
                .expression_attribute_values(":open", s("open"))
                .expression_attribute_values(":at", s(completed_at))
                .expression_attribute_values(":version", n(done.version))
                .expression_attribute_values(":previous", n(before.version))
                .expression_attribute_values(":assignee", s(before.assignee_id.to_string()))
                .expression_attribute_values(":sort", s(assignee_sort_key(done)))
                .expression_attribute_values(":listed", s(listed_under(Status::Done, done.task_id))),
        );
        let transaction = Transaction::new()
            .with(TASK, task)
            .with(outbox::OUTBOX, outbox::record(self.table.name(), event));
        self.commit_keyed(transaction, keyed, now).await
    }
}

impl TaskListings for Store {
    async fn tasks_of(
        &self,
        assignee: Uuid,
        status: Status,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listing, TaskError> {
        let (assignee, status) = (
            format!("ASSIGNEE#{assignee}"),
            format!("{}#", status.as_str()),
        );
        let index = Some("gsi1");
        self.table
            .newest_first(index, &assignee, Some(&status), limit, cursor)
            .await
    }

    /// An index query newest first: one partition per status of the assignee's (`gsi1`), or
    /// the listing's shards of each status asked (`gsi3`), merged.
    async fn all_tasks(
        &self,
        filter: &TaskFilter,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listing, TaskError> {
        let statuses = match filter.status {
            Some(status) => vec![status],
            None => vec![Status::Open, Status::Done],
        };
        let (index, partitions): (&str, Vec<Partition>) = match filter.assignee {
            Some(assignee) => (
                "gsi1",
                statuses
                    .iter()
                    .map(|s| {
                        Partition::prefixed(
                            format!("ASSIGNEE#{assignee}"),
                            format!("{}#", s.as_str()),
                        )
                    })
                    .collect(),
            ),
            None => (
                "gsi3",
                statuses
                    .iter()
                    .flat_map(|s| {
                        (0..LISTING_SHARDS).map(move |shard| {
                            Partition::whole(format!("TASKS#{}#{shard}", s.as_str()))
                        })
                    })
                    .collect(),
            ),
        };
        merged::newest_first(&self.table, index, &partitions, limit, cursor).await
    }
}

impl Store {
    /// How many entries of the index partition `partition` there are (whose sort key begins
    /// with `prefix`, when given): a COUNT query, paged. It reads the entries (billed as read),
    /// so no counter has to be written beside every task.
    async fn count(
        &self,
        index: &str,
        partition: String,
        prefix: Option<String>,
    ) -> Result<u64, StoreError> {
        let mut total = 0;
        let mut start = None;
        loop {
            let mut query = self
                .table
                .client()
                .query()
                .table_name(self.table.name())
                .index_name(index)
                .key_condition_expression("#pk = :partition")
                .expression_attribute_names("#pk", format!("{index}pk"))
                .expression_attribute_values(":partition", s(&partition));
            if let Some(prefix) = &prefix {
                query = query
                    .key_condition_expression("#pk = :partition AND begins_with(#sk, :prefix)")
                    .expression_attribute_names("#sk", format!("{index}sk"))
                    .expression_attribute_values(":prefix", s(prefix));
            }
            let out = query
                .select(aws_sdk_dynamodb::types::Select::Count)
                .set_exclusive_start_key(start)
                .send()
                .await?;
            total += out.count().max(0) as u64;
            match out.last_evaluated_key() {
                Some(key) => start = Some(key.clone()),
                None => return Ok(total),
            }
        }
    }
}

impl Shuffles for Store {
    /// Counted in the open-task index, its shards at once: no counter is written beside every
    /// creation and completion (a counter in their transactions cost 4 write units a task,
    /// BENCHMARKS.md). A million open tasks is about 150 MB of entries read, 32 shards of
    /// 5 MB each: under a second, under a cent.
    async fn open_tasks(&self) -> Result<u64, StoreError> {
        let counts = futures_util::future::try_join_all(
            (0..SHARDS).map(|shard| self.count("gsi2", format!("OPEN#{shard}"), None)),
        )
        .await?;
        Ok(counts.into_iter().sum())
    }

    async fn open_tasks_of(&self, account: Uuid) -> Result<u64, StoreError> {
        self.count(
            "gsi1",
            format!("ASSIGNEE#{account}"),
            Some(format!("{}#", Status::Open.as_str())),
        )
        .await
    }

    async fn start_shuffle(
        &self,
        shuffle: &Shuffle,
        correlation_id: &str,
    ) -> Result<bool, StoreError> {
        let mut extra = HashMap::from([
            ("kind".to_owned(), s("shuffle")),
            (
                "requested_by".to_owned(),
                s(shuffle.requested_by.to_string()),
            ),
            (
                "requested_at".to_owned(),
                s(shuffle.requested_at.to_rfc3339()),
            ),
        ]);
        if let Some(account) = shuffle.released {
            extra.insert("released".to_owned(), s(account.to_string()));
        }
        let transaction = job::start(
            self.table.name(),
            shuffle.shuffle_id,
            &shuffle.job(),
            extra,
            &shuffle.first_pages(correlation_id),
            shuffle.requested_at,
        );
        match self.table.transact(transaction).await? {
            Ok(()) => Ok(true),
            Err(cancelled) if cancelled.failed(job::JOB) => Ok(false),
            Err(cancelled) => Err(cancelled.into()),
        }
    }

    async fn shuffle(&self, id: Uuid) -> Result<Option<Shuffle>, StoreError> {
        let Some(item) = job::get(&self.table, id).await? else {
            return Ok(None);
        };
        let shuffle: ShuffleItem = from_item(&item)?;
        if shuffle.kind != "shuffle" {
            return Ok(None);
        }
        Ok(Some(Shuffle {
            released: shuffle.released,
            ..Shuffle::of_job(
                id,
                shuffle.requested_by,
                shuffle.requested_at,
                &job::read(&item)?,
            )
        }))
    }
}

impl ShufflePages for Store {
    async fn open_tasks_page(
        &self,
        shard: u32,
        cursor: Option<&Cursor>,
    ) -> Result<(Vec<Task>, Option<Cursor>), StoreError> {
        let partition = format!("OPEN#{shard}");
        job::partition_page(&self.table, "gsi2", &partition, PAGE_SIZE, cursor).await
    }

    async fn open_tasks_of_page(
        &self,
        account: Uuid,
        cursor: Option<&Cursor>,
    ) -> Result<(Vec<Task>, Option<Cursor>), StoreError> {
        let assignee = format!("ASSIGNEE#{account}");
        let open = format!("{}#", Status::Open.as_str());
        job::partition_page_from(
            &self.table,
            "gsi1",
            (&assignee, Some(&open)),
            PAGE_SIZE,
            cursor,
        )
        .await
    }

    async fn reload(&self, ids: &[Uuid]) -> Result<Vec<Task>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let items = self
            .table
            .batch_get(ids.iter().map(|id| key(task_pk(*id), "TASK")).collect())
            .await?;
        items.iter().map(read_task).collect()
    }

    async fn save_shuffle_page(
        &self,
        page: &Page,
        moves: &[(Task, Task)],
        events: &[Envelope],
        next: Option<&Page>,
        now: DateTime<Utc>,
    ) -> Result<PageSaved, StoreError> {
        let mut transaction = Transaction::new();
        for (before, after) in moves {
            transaction.add(
                moved(before.task_id),
                self.reassignment(page, before, after),
            );
        }
        transaction.add_all(outbox::OUTBOX, outbox::records(self.table.name(), events));
        transaction.append(job::page_done(
            self.table.name(),
            page,
            moves.len(),
            &[],
            next,
            now,
        ));
        let cancelled = match PageCommit::of(self.table.transact(transaction).await?) {
            PageCommit::Done => return Ok(PageSaved::Done),
            PageCommit::Duplicate => return Ok(PageSaved::Duplicate),
            PageCommit::UnknownJob => return Ok(PageSaved::UnknownShuffle),
            PageCommit::Refused(cancelled) => cancelled,
        };
        // Tasks changed since they were read.
        let stale: Vec<Uuid> = moves
            .iter()
            .map(|(before, _)| before.task_id)
            .filter(|id| cancelled.failed(&moved(*id)))
            .collect();
        if stale.is_empty() {
            return Err(cancelled.into());
        }
        Ok(PageSaved::Stale(stale))
    }
}

impl TitleMigration for Store {
    async fn tasks_without_jira_id(
        &self,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listing, TaskError> {
        let without_jira_id = Some("attribute_not_exists(jira_id)");
        self.table
            .scan_prefix("TASK#", without_jira_id, limit, cursor)
            .await
    }

    async fn retitle(
        &self,
        task: &Task,
        title: &str,
        jira_id: Option<&str>,
    ) -> Result<bool, StoreError> {
        let mut change = self
            .table
            .update(key(task_pk(task.task_id), "TASK"))
            .condition_expression("title = :old")
            .expression_attribute_values(":old", s(&task.title))
            .expression_attribute_values(":title", s(title));
        change = match jira_id {
            Some(id) => change
                .update_expression("SET title = :title, jira_id = :jira")
                .expression_attribute_values(":jira", s(id)),
            None => change.update_expression("SET title = :title"),
        };
        self.table.update_if(change).await
    }
}
