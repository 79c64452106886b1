//! The task tracker's use cases: one function per command, query and event handler. Each is a
//! try of the kernel's executor (`usecase::execute`): it reads what it needs through the small
//! ports it names (`ports`), decides with the domain (`task`, `shuffle`, which also build the events), and
//! commits state and events in one store call. No HTTP, no AWS: `api` maps requests onto these,
//! `store` and `memory` are the stores they run on. Each request's use case first asks the
//! account copy who is calling (`Claims::caller`); what only managers and admins may do needs a
//! `Capability<Managers>` from it, so it cannot run for anyone else.

use ates_kernel::contracts::tasks::split_legacy_title;
use ates_kernel::event::{Cause, Envelope};
use ates_kernel::idempotency::IdempotencyKey;
use ates_kernel::identity::{Capability, Claims, Rights, Role};
use ates_kernel::usecase::Failure;
use ates_kernel::usecase::{execute, execute_keyed, Attempt, Contended, Keyed, ATTEMPTS};

pub use crate::ports::{
    AssignablePool, Listing, PageSaved, PoolMembership, Saved, ShufflePages, Shuffles,
    TaskCompletion, TaskCreation, TaskFilter, TaskListings, TaskStore, TitleMigration,
};
use ates_kernel::contracts::accounts::decode_account;
use ates_kernel::copies::{AccountCopies, KeepsAccountCopies};
use ates_kernel::dynamo::Listed;
use ates_kernel::inbox::{ConsumeError, Outcome};
pub use ates_kernel::usecase::Answer;
use ates_kernel::usecase::Replays;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::TaskError;
use crate::pool::{self, pick_slots};
use crate::shuffle::{reassign_page, Shuffle};
use crate::task::{Status, Task, ValidTask};
use crate::PRODUCER;
use ates_kernel::job::Page;

/// Who oversees every task (SPEC Roles): managers and admins see all tasks (T1) and shuffle
/// them (T3).
#[derive(Debug)]
pub struct Managers;

impl Rights for Managers {
    const ROLES: &'static [Role] = &[Role::Manager, Role::Admin];
}

/// What a shuffle page did.
#[derive(Debug, PartialEq, Eq)]
pub enum PageOutcome {
    Reassigned(usize),
    /// Delivered before and committed then: nothing to do.
    Duplicate,
}

/// A command as issued: by whom (as the token says), why, when, and under which idempotency key;
/// what every command carries besides its own input.
#[derive(Debug, Clone)]
pub struct Issued {
    pub by: Claims,
    pub cause: Cause,
    pub idempotency: Option<IdempotencyKey>,
    pub now: DateTime<Utc>,
}

impl Issued {
    /// The key, if the command was issued with one, for the command `fingerprint` names.
    fn keyed(&self, fingerprint: String) -> Option<Keyed> {
        self.idempotency
            .clone()
            .map(|key| Keyed { key, fingerprint })
    }
}

/// What a write came to, as the executor reads it: a refusal of the key is the first answer's
/// to decide; a stale read is read again.
fn attempt<T>(saved: Saved, answer: T) -> Attempt<T, TaskError> {
    match saved {
        Saved::Done => Attempt::Done(answer),
        Saved::KeyUsed => Attempt::KeyUsed(TaskError::Failed(Failure::ChangedMeanwhile)),
        Saved::Stale => Attempt::Lost,
    }
}

fn json(task: &Task) -> Result<String, TaskError> {
    serde_json::to_string(task).map_err(|e| TaskError::Invalid(e.to_string()))
}

/// `n` accounts drawn uniformly and independently from the pool of `size` (T2, T3): the slots
/// drawn, read at once, whatever the number of accounts. A slot the pool lost since its size was
/// read is drawn again from the size read again.
async fn draw(
    store: &impl AssignablePool,
    mut size: u64,
    n: usize,
    rng: &mut (impl rand::Rng + Send),
) -> Result<Vec<Uuid>, TaskError> {
    let mut drawn = Vec::with_capacity(n);
    for _ in 0..ATTEMPTS {
        if size == 0 {
            return Err(TaskError::NobodyAssignable);
        }
        let slots = pick_slots(size, n - drawn.len(), rng);
        let found = store.accounts_at(&slots).await?;
        drawn.extend(slots.iter().filter_map(|slot| found.get(slot)));
        if drawn.len() == n {
            return Ok(drawn);
        }
        size = store.pool_size().await?;
    }
    Err(Contended.into())
}

/// T2: a task appears open and is assigned at once to a uniformly random assignable account.
pub async fn create_task(
    store: &(impl AccountCopies + AssignablePool + TaskCreation + Replays),
    new: &ValidTask,
    issued: &Issued,
    rng: &mut (impl rand::Rng + Send),
) -> Result<Answer<Task>, TaskError> {
    let size = async { Ok::<_, TaskError>(store.pool_size().await?) };
    let (caller, size) = issued.by.caller_and(store, size).await?;
    let by = caller.account_id();
    let fingerprint = serde_json::to_string(new).map_err(|e| TaskError::Invalid(e.to_string()))?;
    let keyed = issued.keyed(fingerprint);
    let assignee = draw(store, size, 1, rng).await?[0];
    execute_keyed(store, keyed.as_ref(), || async {
        let task = Task::open(new, assignee, by, issued.now);
        let events = [
            Envelope::wrap(PRODUCER, &task.created(), &issued.cause, issued.now)?,
            Envelope::wrap(
                PRODUCER,
                &task.assigned(None, issued.now),
                &issued.cause,
                issued.now,
            )?,
        ];
        let answer = json(&task)?;
        let keyed = keyed.as_ref().map(|k| (k, answer.as_str()));
        let saved = store.create_task(&task, &events, keyed, issued.now).await?;
        if saved == Saved::Done {
            tracing::info!(task_id = %task.task_id, assignee_id = %assignee, "task created");
        }
        Ok(attempt(saved, task))
    })
    .await
}

/// T4: only the current assignee completes, and a done task stays done. A repeated request
/// with the same `Idempotency-Key` gets the first answer instead of a 409.
pub async fn complete_task(
    store: &(impl AccountCopies + TaskCompletion + Replays),
    task_id: Uuid,
    issued: &Issued,
) -> Result<Answer<Task>, TaskError> {
    // The caller check and the first read of the task at once; a retry reads the task again.
    let first_read = async { Ok::<_, TaskError>(store.task(task_id).await?) };
    let (caller, first_read) = issued.by.caller_and(store, first_read).await?;
    let me = caller.account_id();
    let first_read = std::sync::Mutex::new(Some(first_read));
    let keyed = issued.keyed(format!("complete {task_id}"));
    execute_keyed(store, keyed.as_ref(), || async {
        let read = first_read.lock().expect("not poisoned").take();
        let task = match read {
            Some(task) => task,
            None => store.task(task_id).await?,
        };
        let task = task.ok_or(TaskError::UnknownTask)?;
        let (done, completed) = match task.complete(me, issued.now) {
            Ok(done) => done,
            // Done already: by this same request, if it carries the key of the first.
            Err(TaskError::AlreadyDone) => return Ok(Attempt::KeyUsed(TaskError::AlreadyDone)),
            Err(e) => return Err(e),
        };
        let event = Envelope::wrap(PRODUCER, &completed, &issued.cause, issued.now)?;
        let answer = json(&done)?;
        let keyed = keyed.as_ref().map(|k| (k, answer.as_str()));
        let saved = store
            .complete_task(&task, &done, &event, keyed, issued.now)
            .await?;
        if saved == Saved::Done {
            tracing::info!(%task_id, "task completed");
        }
        Ok(attempt(saved, done))
    })
    .await
}

/// T4: an employee's own tasks of one status, newest first.
pub async fn my_tasks(
    store: &(impl AccountCopies + TaskListings),
    me: &Claims,
    status: Status,
    limit: usize,
    cursor: Option<&str>,
) -> Result<Listing, TaskError> {
    // The caller check alongside the read of the token's account's tasks: one round trip to
    // the table, not two in a row. The tasks are handed back only to an admitted caller.
    let mine = store.tasks_of(me.account_id, status, limit, cursor);
    let (_, mine) = me.caller_and(store, mine).await?;
    Ok(mine)
}

/// A task as `GET /tasks` lists it: with its assignee's name, as the tracker's copy of the
/// account has it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ListedTask {
    #[serde(flatten)]
    pub task: Task,
    pub assignee_name: Option<String>,
}

/// T1: every task, or those of a status, of an assignee, or both, newest first (managers and
/// admins), each with its assignee's name.
pub async fn all_tasks(
    store: &(impl AccountCopies + TaskListings),
    caller: &Claims,
    filter: &TaskFilter,
    limit: usize,
    cursor: Option<&str>,
) -> Result<Listed<ListedTask>, TaskError> {
    let _managers: Capability<Managers> = caller.may(store).await?;
    let page = store.all_tasks(filter, limit, cursor).await?;
    // Each assignee's copy once, all at once: one round trip whatever the page holds.
    let assignees: std::collections::BTreeSet<Uuid> =
        page.items.iter().map(|t| t.assignee_id).collect();
    let copies = futures_util::future::try_join_all(assignees.iter().map(|id| async move {
        let copy = store.account_copy(*id).await?;
        Ok::<_, TaskError>((*id, copy.map(|a| a.full_name)))
    }))
    .await?;
    let names: std::collections::HashMap<Uuid, Option<String>> = copies.into_iter().collect();
    Ok(Listed {
        items: page
            .items
            .into_iter()
            .map(|task| ListedTask {
                assignee_name: names.get(&task.assignee_id).cloned().flatten(),
                task,
            })
            .collect(),
        next_cursor: page.next_cursor,
    })
}

/// T3 (managers and admins): a shuffle of every open task starts; its pages run asynchronously.
pub async fn start_shuffle(
    store: &(impl AccountCopies + AssignablePool + Shuffles),
    issued: &Issued,
) -> Result<Shuffle, TaskError> {
    let managers: Capability<Managers> = issued.by.may(store).await?;
    if store.pool_size().await? == 0 {
        return Err(TaskError::NobodyAssignable);
    }
    let total = store.open_tasks().await?;
    let shuffle = Shuffle::request(managers.account_id(), total, issued.now);
    store
        .start_shuffle(&shuffle, &issued.cause.correlation_id)
        .await?;
    tracing::info!(shuffle_id = %shuffle.shuffle_id, total, "shuffle started");
    Ok(shuffle)
}

/// T3 (managers and admins): how far a shuffle got.
pub async fn shuffle_progress(
    store: &(impl AccountCopies + Shuffles),
    caller: &Claims,
    id: Uuid,
) -> Result<Shuffle, TaskError> {
    let _managers: Capability<Managers> = caller.may(store).await?;
    store.shuffle(id).await?.ok_or(TaskError::UnknownShuffle)
}

/// T3, one page: at most a page of a shard's open tasks goes to random assignable accounts, with
/// one `Task.Assigned` each, the shuffle's progress and the next page, in one commit. Tasks that
/// changed since they were read are read again and the page tried again.
pub async fn shuffle_page(
    store: &(impl AssignablePool + ShufflePages),
    page: &Page,
    rng: &mut (impl rand::Rng + Send),
) -> Result<PageOutcome, TaskError> {
    let tasks = async {
        match page.scope.as_deref().map(Uuid::parse_str) {
            // A release: the account's own open tasks.
            Some(Ok(account)) => Ok(store
                .open_tasks_of_page(account, page.cursor.as_ref())
                .await?),
            Some(Err(_)) => Err(TaskError::UnknownShuffle),
            None => Ok(store
                .open_tasks_page(page.partition, page.cursor.as_ref())
                .await?),
        }
    };
    let size = async { Ok::<_, TaskError>(store.pool_size().await?) };
    let ((tasks, next_cursor), size) = futures_util::try_join!(tasks, size)?;
    // One drawn account per task; a retry after stale tasks holds no more tasks than this.
    let assignees = match draw(store, size, tasks.len(), rng).await {
        Err(TaskError::NobodyAssignable) => Vec::new(),
        drawn => drawn?,
    };
    let next = next_cursor.map(|cursor| page.next(cursor));
    let cause = Cause {
        correlation_id: page.correlation_id.clone(),
        causation_id: Some(page.job_id.to_string()),
    };
    let tasks = std::sync::Mutex::new(tasks);
    execute(|| async {
        let read = tasks.lock().expect("not poisoned").clone();
        let moves = reassign_page(&read, &assignees, page.job_id);
        let now = Utc::now();
        let events = moves
            .iter()
            .map(|(before, after)| {
                let assigned = after.assigned(Some(before.assignee_id), now);
                Envelope::wrap(PRODUCER, &assigned, &cause, now)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(
            match store
                .save_shuffle_page(page, &moves, &events, next.as_ref(), now)
                .await?
            {
                PageSaved::Done => Attempt::Done(PageOutcome::Reassigned(moves.len())),
                PageSaved::Duplicate => Attempt::Done(PageOutcome::Duplicate),
                PageSaved::UnknownShuffle => return Err(TaskError::UnknownShuffle),
                PageSaved::Stale(stale) => {
                    // Completed, or moved by another shuffle: read those again.
                    let fresh = store.reload(&stale).await?;
                    let mut tasks = tasks.lock().expect("not poisoned");
                    tasks.retain(|t| !stale.contains(&t.task_id));
                    tasks.extend(fresh);
                    Attempt::Lost
                }
            },
        )
    })
    .await
}

/// The copy of accounts (`Account.*` events): once per event, and only forward in revision;
/// then the pool of assignable accounts in step with the copy (T2), whether or not this event
/// moved it, so that a delivery which failed between the two finishes the pool when redelivered.
pub async fn sync_account(
    store: &(impl KeepsAccountCopies + PoolMembership),
    event: &Envelope,
) -> Result<Outcome, ConsumeError> {
    let outcome = ates_kernel::copies::sync_account(store, event).await?;
    if let Some(Ok(account)) = decode_account(event) {
        keep_pool(store, account.account_id)
            .await
            .map_err(|e| ConsumeError::Retry(e.to_string()))?;
    }
    Ok(outcome)
}

/// The pool in step with `account`'s newest copy: a member while it takes tasks, out once it
/// takes none. Any order of events ends in the same pool, since only the copy decides. Answers
/// whether it changed anything.
async fn keep_pool(
    store: &(impl AccountCopies + PoolMembership),
    account: Uuid,
) -> Result<bool, TaskError> {
    execute(|| async {
        let (copy, place) =
            futures_util::try_join!(store.account_copy(account), store.place(account))?;
        let (revision, assignable) = copy.map_or((0, false), |c| (c.revision, c.is_assignable()));
        Ok(match pool::change(account, revision, assignable, &place) {
            None => Attempt::Done(false),
            Some(change) if store.change_pool(&change).await? => Attempt::Done(true),
            Some(_) => Attempt::Lost,
        })
    })
    .await
}

/// `Account.*` (T3): the copy of the account, then, when the event says the account can no
/// longer take tasks (deactivated, or a role that takes none) and no newer revision is known,
/// the release of its open tasks: a shuffle of those only, so none waits for the next shuffle
/// with an assignee who cannot complete it. The release is keyed by the account and that
/// revision, so a repeated event (redelivered, or republished under a new id) starts nothing
/// more; an event that arrives again after the copy was committed still starts it.
pub async fn on_account_event(
    store: &(impl KeepsAccountCopies + PoolMembership + Shuffles),
    event: &Envelope,
    now: DateTime<Utc>,
) -> Result<Outcome, ConsumeError> {
    let outcome = sync_account(store, event).await?;
    let Some(Ok(account)) = decode_account(event) else {
        return Ok(outcome);
    };
    if account.is_assignable() {
        return Ok(outcome);
    }
    // Applied, this revision is the copy's now; otherwise (a repeat, or the same revision
    // republished) only the copy says whether a newer revision decides instead.
    if outcome != Outcome::Applied {
        let newest = store.account_copy(account.account_id).await?;
        if newest.is_some_and(|copy| copy.revision > account.revision) {
            return Ok(outcome);
        }
    }
    let open = store.open_tasks_of(account.account_id).await?;
    if open == 0 {
        return Ok(outcome);
    }
    let release = Shuffle::release(account.account_id, account.revision, open, now);
    if store.start_shuffle(&release, &event.correlation_id).await? {
        tracing::info!(shuffle_id = %release.shuffle_id, open, "open tasks of an account that takes none any more released");
    }
    Ok(outcome)
}

/// A shuffle page as the work queue delivers it: a page of an unknown shuffle is poison;
/// anything else may pass and is retried.
pub async fn shuffle_page_work(
    store: &(impl AssignablePool + ShufflePages),
    page: Page,
) -> Result<(), ConsumeError> {
    let span = tracing::info_span!("shuffle_page", correlation_id = %page.correlation_id, shuffle_id = %page.job_id, shard = page.partition, page = page.page);
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::from_entropy();
    match tracing::Instrument::instrument(shuffle_page(store, &page, &mut rng), span.clone()).await
    {
        Ok(outcome) => {
            span.in_scope(|| tracing::info!(?outcome, "shuffle page done"));
            Ok(())
        }
        Err(TaskError::UnknownShuffle) => Err(ConsumeError::Poison("no such shuffle".into())),
        Err(e) => Err(ConsumeError::Retry(e.to_string())),
    }
}

/// An operator's run of the title migration: a page at a time, from `cursor`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MigrationRun {
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    pub limit: Option<usize>,
    /// The pool filled from the account copies instead of titles migrated.
    #[serde(default)]
    pub pool: bool,
}

/// What a run migrated, and where the next run starts (`None`: done).
#[derive(Debug, serde::Serialize)]
pub struct MigrationPage {
    pub migrated: usize,
    pub cursor: Option<String>,
}

/// An operator's migration run: titles (T5), or with `pool` the pool of assignable accounts.
pub async fn migrate(
    store: &(impl TitleMigration + PoolMembership + AccountCopies),
    run: &MigrationRun,
) -> Result<MigrationPage, TaskError> {
    if run.pool {
        fill_pool(store, run).await
    } else {
        migrate_legacy_titles(store, run).await
    }
}

/// The pool in step with every account copy, a page of copies per run: what a deployment over
/// data kept before the pool was slots runs once (`POOL`/`ASSIGNABLE`, one set of every id, is
/// then no longer read). Safe to run again and alongside account events: each account's place
/// is decided by its copy, as the account consumer decides it.
pub async fn fill_pool(
    store: &(impl PoolMembership + AccountCopies),
    run: &MigrationRun,
) -> Result<MigrationPage, TaskError> {
    let limit = run.limit.unwrap_or(500).clamp(1, 1000);
    let page = store.account_copies(limit, run.cursor.as_deref()).await?;
    let mut migrated = 0;
    for copy in &page.items {
        if keep_pool(store, copy.account_id).await? {
            migrated += 1;
        }
    }
    tracing::info!(
        migrated,
        done = page.next_cursor.is_none(),
        "pool filled from the copies"
    );
    Ok(MigrationPage {
        migrated,
        cursor: page.next_cursor,
    })
}

/// T5: stored legacy titles (`[UBERPOP-42] Fix`) become title + jira id, a page per run; safe
/// to run again (a migrated task is not touched twice, one changed meanwhile is left alone).
pub async fn migrate_legacy_titles(
    store: &impl TitleMigration,
    run: &MigrationRun,
) -> Result<MigrationPage, TaskError> {
    let limit = run.limit.unwrap_or(500).clamp(1, 1000);
    let page = store
        .tasks_without_jira_id(limit, run.cursor.as_deref())
        .await?;
    let mut migrated = 0;
    for task in &page.items {
        let (title, jira_id) = split_legacy_title(&task.title);
        if title == task.title && jira_id.is_none() {
            continue;
        }
        if store.retitle(task, &title, jira_id.as_deref()).await? {
            migrated += 1;
        }
    }
    tracing::info!(
        migrated,
        done = page.next_cursor.is_none(),
        "legacy titles migrated"
    );
    Ok(MigrationPage {
        migrated,
        cursor: page.next_cursor,
    })
}
