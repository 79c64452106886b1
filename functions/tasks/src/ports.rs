//! The ports the use cases drive: where the task tracker keeps its state, one small trait per
//! need (a use case asks only for the ones it uses), and [`TaskStore`], all of them. The DynamoDB
//! table (`store`) implements every one in a Lambda; `memory` is an in-memory one for tests.

use std::collections::HashMap;
use std::future::Future;

use ates_kernel::contracts::accounts::AccountSnapshot;
use ates_kernel::copies::KeepsAccountCopies;
use ates_kernel::dynamo::{Listed, StoreError};
use ates_kernel::event::Envelope;
use ates_kernel::job::{Cursor, Page};
use ates_kernel::usecase::Replays;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::TaskError;
use crate::pool::{Place, PoolChange};
use crate::shuffle::Shuffle;
use crate::task::{Status, Task};

/// A page of tasks and where the next one starts.
pub type Listing = Listed<Task>;

/// A write answers the kernel's `Saved`; a keyed one takes its `KeyedAnswer`.
pub use ates_kernel::usecase::{KeyedAnswer, Saved};

/// What a shuffle page's transaction came to.
#[derive(Debug, PartialEq, Eq)]
pub enum PageSaved {
    Done,
    /// This page was committed before (a redelivery).
    Duplicate,
    UnknownShuffle,
    /// These tasks changed since they were read; nothing was written.
    Stale(Vec<Uuid>),
}

/// Who may take a task: what a creation and a shuffle assign from (`pool`: the assignable
/// accounts fill slots `0..size`).
pub trait AssignablePool {
    /// How many accounts are assignable; it may lag an account that joined a moment ago.
    fn pool_size(&self) -> impl Future<Output = Result<u64, StoreError>> + Send;
    /// The accounts in `slots`; a slot at or past the size (the pool shrank since its size was
    /// read) is left out.
    fn accounts_at(
        &self,
        slots: &[u64],
    ) -> impl Future<Output = Result<HashMap<u64, Uuid>, StoreError>> + Send;
}

/// The pool kept in step with the copy of accounts.
pub trait PoolMembership {
    /// A page of the account copies, in no order: what a pool filled from scratch starts from
    /// (a deployment over data kept before the pool was slots).
    fn account_copies(
        &self,
        limit: usize,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<Listed<AccountSnapshot>, TaskError>> + Send;
    /// Where `account` stands: its slot, the size and the last member.
    fn place(&self, account: Uuid) -> impl Future<Output = Result<Place, StoreError>> + Send;
    /// Applies `change` if the pool is still as it was read; `false`: it changed meanwhile and
    /// nothing was written.
    fn change_pool(
        &self,
        change: &PoolChange,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// Where a new task is written (T2).
pub trait TaskCreation {
    /// Writes a new, open task with its events (and the answer to its key).
    fn create_task(
        &self,
        task: &Task,
        events: &[Envelope],
        keyed: KeyedAnswer<'_>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Saved, StoreError>> + Send;
}

/// A task read and its completion written (T4).
pub trait TaskCompletion {
    fn task(&self, id: Uuid) -> impl Future<Output = Result<Option<Task>, StoreError>> + Send;
    /// Writes a completion if the task is still as it was read (`before`).
    fn complete_task(
        &self,
        before: &Task,
        done: &Task,
        event: &Envelope,
        keyed: KeyedAnswer<'_>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Saved, StoreError>> + Send;
}

/// The task lists people read (T1, T4).
pub trait TaskListings {
    /// An assignee's tasks of one status, newest first.
    fn tasks_of(
        &self,
        assignee: Uuid,
        status: Status,
        limit: usize,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<Listing, TaskError>> + Send;
    /// Every task `filter` lets through, newest first.
    fn all_tasks(
        &self,
        filter: &TaskFilter,
        limit: usize,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<Listing, TaskError>> + Send;
}

/// What `GET /tasks` lists: every task, or those of one status, of one assignee, or both.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TaskFilter {
    pub status: Option<Status>,
    pub assignee: Option<Uuid>,
}

impl TaskFilter {
    pub fn lets_through(&self, task: &Task) -> bool {
        self.status.is_none_or(|s| s == task.status)
            && self.assignee.is_none_or(|a| a == task.assignee_id)
    }
}

/// A shuffle started and followed (T3).
pub trait Shuffles {
    /// How many tasks are open.
    fn open_tasks(&self) -> impl Future<Output = Result<u64, StoreError>> + Send;
    /// How many of `account`'s tasks are open.
    fn open_tasks_of(&self, account: Uuid) -> impl Future<Output = Result<u64, StoreError>> + Send;
    /// Records a shuffle (a paged job) and its first pages; `false` if it was recorded before
    /// (a release of the same fact).
    fn start_shuffle(
        &self,
        shuffle: &Shuffle,
        correlation_id: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    fn shuffle(&self, id: Uuid)
        -> impl Future<Output = Result<Option<Shuffle>, StoreError>> + Send;
}

/// A shuffle's pages: the open tasks of a shard, read and reassigned a page at a time (T3).
pub trait ShufflePages {
    /// At most a page of a shard's open tasks after `cursor`, and where the next page starts.
    fn open_tasks_page(
        &self,
        shard: u32,
        cursor: Option<&Cursor>,
    ) -> impl Future<Output = Result<(Vec<Task>, Option<Cursor>), StoreError>> + Send;
    /// At most a page of `account`'s open tasks after `cursor` (a release's), and where the
    /// next page starts.
    fn open_tasks_of_page(
        &self,
        account: Uuid,
        cursor: Option<&Cursor>,
    ) -> impl Future<Output = Result<(Vec<Task>, Option<Cursor>), StoreError>> + Send;
    /// Tasks read again, consistently.
    fn reload(&self, ids: &[Uuid]) -> impl Future<Output = Result<Vec<Task>, StoreError>> + Send;
    /// A page's reassignments (each if the task is still open at the version read), their
    /// events, the shuffle's progress, and the next page or the shard's end, together.
    fn save_shuffle_page(
        &self,
        page: &Page,
        moves: &[(Task, Task)],
        events: &[Envelope],
        next: Option<&Page>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<PageSaved, StoreError>> + Send;
}

/// Legacy titles found and split (T5).
pub trait TitleMigration {
    /// A page of tasks stored without a jira id (legacy titles among them), in no order.
    fn tasks_without_jira_id(
        &self,
        limit: usize,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<Listing, TaskError>> + Send;
    /// Sets a task's title and jira id if its title is still the one read; `false` otherwise.
    fn retitle(
        &self,
        task: &Task,
        title: &str,
        jira_id: Option<&str>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// The tasks table, as the use cases need it: every port above, and the kernel's copy of accounts
/// and first answers. Every write is one atomic step: its state, its events and its bookkeeping
/// together, or nothing. A use case asks only for the ports it uses; the handlers and the binaries
/// hold a whole store.
///
/// Each store says it is one, so a store that lacks a port fails where it is defined.
pub trait TaskStore:
    KeepsAccountCopies
    + Replays
    + AssignablePool
    + PoolMembership
    + TaskCreation
    + TaskCompletion
    + TaskListings
    + Shuffles
    + ShufflePages
    + TitleMigration
{
}
