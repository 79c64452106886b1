//! An in-memory [`TaskStore`] for testing the use cases without AWS: every write is atomic under
//! one lock and checks the same conditions the DynamoDB store's transaction does (version, status,
//! assignee, absent keys), so a use case that is right here is right there.

use std::collections::{BTreeMap, HashMap, HashSet};

use ates_kernel::contracts::accounts::AccountSnapshot;
use ates_kernel::dynamo::{Listed, StoreError};
use ates_kernel::event::Envelope;
use ates_kernel::idempotency::AnswersInMemory;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::TaskError;
use crate::pool::{Place, PoolChange};
use crate::ports::{
    AssignablePool, KeyedAnswer, Listing, PageSaved, PoolMembership, Saved, ShufflePages, Shuffles,
    TaskCompletion, TaskCreation, TaskFilter, TaskListings, TaskStore, TitleMigration,
};
use crate::shuffle::{Shuffle, PAGE_SIZE};
use crate::task::{Status, Task};
use ates_kernel::job::{Cursor, Page};

#[derive(Default)]
struct State {
    tasks: BTreeMap<Uuid, Task>,
    answers: AnswersInMemory,
    shuffles: HashMap<Uuid, Shuffle>,
    partitions_done: HashSet<(Uuid, u32)>,
    work: Vec<Page>,
    /// The assignable accounts by slot.
    pool: Vec<Uuid>,
    published: Vec<Envelope>,
}

ates_kernel::memory_store!(MemoryStore(State) + published + replays);

impl MemoryStore {
    /// Every work item committed so far, in order.
    pub fn work(&self) -> Vec<Page> {
        self.state.lock().work.clone()
    }

    /// Every task, in id order.
    pub fn tasks(&self) -> Vec<Task> {
        self.state.lock().tasks.values().cloned().collect()
    }
}

impl TaskStore for MemoryStore {}

impl AssignablePool for MemoryStore {
    async fn pool_size(&self) -> Result<u64, StoreError> {
        Ok(self.state.lock().pool.len() as u64)
    }

    async fn accounts_at(&self, slots: &[u64]) -> Result<HashMap<u64, Uuid>, StoreError> {
        let pool = &self.state.lock().pool;
        Ok(slots
            .iter()
            .filter_map(|&slot| Some((slot, *pool.get(usize::try_from(slot).ok()?)?)))
            .collect())
    }
}

impl PoolMembership for MemoryStore {
    async fn account_copies(
        &self,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listed<AccountSnapshot>, TaskError> {
        let mut copies: Vec<AccountSnapshot> = self.accounts.lock().all().cloned().collect();
        copies.sort_by_key(|c| c.account_id);
        Ok(Listed::page_of(copies, limit, cursor)?)
    }

    async fn place(&self, account: Uuid) -> Result<Place, StoreError> {
        let pool = &self.state.lock().pool;
        Ok(Place {
            slot: pool.iter().position(|a| *a == account).map(|s| s as u64),
            size: pool.len() as u64,
            last: pool.last().copied(),
        })
    }

    /// The same conditions as the table's transaction: the copy's revision, the size and the
    /// slots as read.
    async fn change_pool(&self, change: &PoolChange) -> Result<bool, StoreError> {
        let copy = self.accounts.lock().get(change.account());
        if copy.map(|c| c.revision) != Some(change.revision()) {
            return Ok(false);
        }
        Ok(change.apply(&mut self.state.lock().pool))
    }
}

impl TaskCreation for MemoryStore {
    async fn create_task(
        &self,
        task: &Task,
        events: &[Envelope],
        keyed: KeyedAnswer<'_>,
        _now: DateTime<Utc>,
    ) -> Result<Saved, StoreError> {
        let state = &mut *self.state.lock();
        let new = !state.tasks.contains_key(&task.task_id);
        Ok(state.answers.commit(keyed, new, || {
            state.tasks.insert(task.task_id, task.clone());
            state.published.extend_from_slice(events);
        }))
    }
}

impl TaskCompletion for MemoryStore {
    async fn task(&self, id: Uuid) -> Result<Option<Task>, StoreError> {
        Ok(self.state.lock().tasks.get(&id).cloned())
    }

    async fn complete_task(
        &self,
        before: &Task,
        done: &Task,
        event: &Envelope,
        keyed: KeyedAnswer<'_>,
        _now: DateTime<Utc>,
    ) -> Result<Saved, StoreError> {
        let state = &mut *self.state.lock();
        let as_read = state.tasks.get(&done.task_id).is_some_and(|t| {
            t.version == before.version
                && t.status == Status::Open
                && t.assignee_id == before.assignee_id
        });
        Ok(state.answers.commit(keyed, as_read, || {
            state.tasks.insert(done.task_id, done.clone());
            state.published.push(event.clone());
        }))
    }
}

impl TaskListings for MemoryStore {
    async fn tasks_of(
        &self,
        assignee: Uuid,
        status: Status,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listing, TaskError> {
        let theirs = TaskFilter {
            status: Some(status),
            assignee: Some(assignee),
        };
        self.all_tasks(&theirs, limit, cursor).await
    }

    async fn all_tasks(
        &self,
        filter: &TaskFilter,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listing, TaskError> {
        let mut tasks: Vec<Task> = self
            .state
            .lock()
            .tasks
            .values()
            .filter(|t| filter.lets_through(t))
            .cloned()
            .collect();
        tasks.sort_by_key(|t| std::cmp::Reverse((t.created_at, t.task_id)));
        Ok(Listing::page_of(tasks, limit, cursor)?)
    }
}

impl Shuffles for MemoryStore {
    async fn open_tasks(&self) -> Result<u64, StoreError> {
        let state = self.state.lock();
        Ok(state
            .tasks
            .values()
            .filter(|t| t.status == Status::Open)
            .count() as u64)
    }

    async fn open_tasks_of(&self, account: Uuid) -> Result<u64, StoreError> {
        let state = self.state.lock();
        Ok(state
            .tasks
            .values()
            .filter(|t| t.status == Status::Open && t.assignee_id == account)
            .count() as u64)
    }

    async fn start_shuffle(
        &self,
        shuffle: &Shuffle,
        correlation_id: &str,
    ) -> Result<bool, StoreError> {
        let mut state = self.state.lock();
        if state.shuffles.contains_key(&shuffle.shuffle_id) {
            return Ok(false);
        }
        state.shuffles.insert(shuffle.shuffle_id, shuffle.clone());
        state.work.extend(shuffle.first_pages(correlation_id));
        Ok(true)
    }

    async fn shuffle(&self, id: Uuid) -> Result<Option<Shuffle>, StoreError> {
        Ok(self.state.lock().shuffles.get(&id).cloned())
    }
}

impl MemoryStore {
    /// At most a page of the open tasks `of` takes, in id order, after `cursor`.
    fn open_page(
        &self,
        cursor: Option<&Cursor>,
        of: impl Fn(&Task) -> bool,
    ) -> (Vec<Task>, Option<Cursor>) {
        let after = cursor
            .and_then(|c| c.get("task_id"))
            .and_then(|id| Uuid::parse_str(id).ok());
        let tasks: Vec<Task> = self
            .state
            .lock()
            .tasks
            .values()
            .filter(|t| t.status == Status::Open && of(t))
            .filter(|t| after.is_none_or(|after| t.task_id > after))
            .take(PAGE_SIZE)
            .cloned()
            .collect();
        // Like DynamoDB, a full page says where to go on, even if nothing follows.
        let next = (tasks.len() == PAGE_SIZE).then(|| {
            let last = tasks.last().expect("a full page").task_id.to_string();
            Cursor::from([("task_id".to_owned(), last)])
        });
        (tasks, next)
    }
}

impl ShufflePages for MemoryStore {
    async fn open_tasks_page(
        &self,
        shard: u32,
        cursor: Option<&Cursor>,
    ) -> Result<(Vec<Task>, Option<Cursor>), StoreError> {
        Ok(self.open_page(cursor, |t| t.shard() == shard))
    }

    async fn open_tasks_of_page(
        &self,
        account: Uuid,
        cursor: Option<&Cursor>,
    ) -> Result<(Vec<Task>, Option<Cursor>), StoreError> {
        Ok(self.open_page(cursor, |t| t.assignee_id == account))
    }

    async fn reload(&self, ids: &[Uuid]) -> Result<Vec<Task>, StoreError> {
        let state = self.state.lock();
        Ok(ids
            .iter()
            .filter_map(|id| state.tasks.get(id).cloned())
            .collect())
    }

    async fn save_shuffle_page(
        &self,
        page: &Page,
        moves: &[(Task, Task)],
        events: &[Envelope],
        next: Option<&Page>,
        _now: DateTime<Utc>,
    ) -> Result<PageSaved, StoreError> {
        let mut state = self.state.lock();
        let already = match next {
            // A page is known by its number (its work key), as the table's work item is, not
            // by where its tasks read again end.
            Some(next) => state.work.iter().any(|w| w.work_key() == next.work_key()),
            None => state
                .partitions_done
                .contains(&(page.job_id, page.partition)),
        };
        if already {
            return Ok(PageSaved::Duplicate);
        }
        if !state.shuffles.contains_key(&page.job_id) {
            return Ok(PageSaved::UnknownShuffle);
        }
        let stale: Vec<Uuid> = moves
            .iter()
            .filter(|(before, _)| {
                !state
                    .tasks
                    .get(&before.task_id)
                    .is_some_and(|t| t.version == before.version && t.status == Status::Open)
            })
            .map(|(before, _)| before.task_id)
            .collect();
        if !stale.is_empty() {
            return Ok(PageSaved::Stale(stale));
        }
        for (_, after) in moves {
            state.tasks.insert(after.task_id, after.clone());
        }
        state.published.extend_from_slice(events);
        let shuffle = state.shuffles.get_mut(&page.job_id).expect("checked above");
        shuffle.reassigned += moves.len() as u64;
        match next {
            Some(next) => state.work.push(next.clone()),
            None => {
                shuffle.shards_done += 1;
                state.partitions_done.insert((page.job_id, page.partition));
            }
        }
        Ok(PageSaved::Done)
    }
}

impl TitleMigration for MemoryStore {
    async fn tasks_without_jira_id(
        &self,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listing, TaskError> {
        let tasks = self
            .state
            .lock()
            .tasks
            .values()
            .filter(|t| t.jira_id.is_none())
            .cloned()
            .collect();
        Ok(Listing::page_of(tasks, limit, cursor)?)
    }

    async fn retitle(
        &self,
        task: &Task,
        title: &str,
        jira_id: Option<&str>,
    ) -> Result<bool, StoreError> {
        let mut state = self.state.lock();
        let Some(stored) = state.tasks.get_mut(&task.task_id) else {
            return Ok(false);
        };
        if stored.title != task.title {
            return Ok(false);
        }
        stored.title = title.to_owned();
        if let Some(id) = jira_id {
            stored.jira_id = Some(id.to_owned());
        }
        Ok(true)
    }
}
