//! The task tracker's use cases: one function per command, query and event handler. Each reads
//! what it needs through [`TaskStore`], decides with the domain (`task`, `shuffle`),
//! builds the events, and commits state and events in one store call; it owns the retries when
//! a conditional write loses a race. No HTTP, no AWS: `api` maps requests onto these, `store`
//! and `memory` are the stores they run on.

use ates_kernel::contracts::tasks::{split_legacy_title, TaskAssigned, TaskCompleted, TaskCreated};
use ates_kernel::event::{Cause, Envelope};
use ates_kernel::idempotency::{IdempotencyKey, Replay};

pub use crate::ports::{Listing, PageSaved, Saved, TaskStore};
use ates_kernel::inbox::ConsumeError;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::TaskError;
use crate::shuffle::{reassign_page, Shuffle};
use crate::task::{pick_assignee, NewTask, Status, Task};
use crate::PRODUCER;
use ates_kernel::job::Page;

/// What a shuffle page did.
#[derive(Debug, PartialEq, Eq)]
pub enum PageOutcome {
    Reassigned(usize),
    /// Delivered before and committed then: nothing to do.
    Duplicate,
}

/// An answer that happened now, or the first answer to a repeated keyed request.
#[derive(Debug)]
pub enum Answer<T> {
    Fresh(T),
    Replayed(Replay),
}

/// How often a command re-reads and retries after losing a race for a task.
const ATTEMPTS: usize = 3;

/// Who asks, why, and when: what every command carries besides its own input.
#[derive(Debug, Clone)]
pub struct Request {
    pub by: Uuid,
    pub cause: Cause,
    pub idempotency: Option<IdempotencyKey>,
    pub now: DateTime<Utc>,
}

/// T2: a task appears open and is assigned at once to a uniformly random assignable account.
pub async fn create_task(
    store: &impl TaskStore,
    new: &NewTask,
    request: &Request,
    rng: &mut (impl rand::Rng + Send),
) -> Result<Answer<Task>, TaskError> {
    let new = new.validate()?;
    let pool = store.assignable_accounts().await?;
    let assignee = pick_assignee(&pool, rng).ok_or(TaskError::NobodyAssignable)?;
    let task = Task::open(&new, assignee, request.by, request.now)?;
    let created = TaskCreated {
        task_id: task.task_id,
        title: task.title.clone(),
        jira_id: task.jira_id.clone(),
        description: task.description.clone(),
        created_by: request.by,
        created_at: request.now,
        version: task.version,
    };
    let assigned = TaskAssigned {
        task_id: task.task_id,
        assignee_id: assignee,
        previous_assignee_id: None,
        shuffle_id: None,
        assigned_at: request.now,
        version: task.version,
    };
    let events = [
        Envelope::wrap(PRODUCER, &created, &request.cause, request.now)?,
        Envelope::wrap(PRODUCER, &assigned, &request.cause, request.now)?,
    ];
    let answer = serde_json::to_string(&task).map_err(|e| TaskError::Invalid(e.to_string()))?;
    let keyed = request.idempotency.as_ref().map(|k| (k, answer.as_str()));
    match store.create_task(&task, &events, keyed).await? {
        Saved::Done => {
            tracing::info!(task_id = %task.task_id, assignee_id = %assignee, "task created");
            Ok(Answer::Fresh(task))
        }
        Saved::Replayed(replay) => replayed(replay, request),
        // A new task's id is new: only the key can have been there before.
        Saved::Stale => Err(TaskError::ChangedMeanwhile),
    }
}

/// T4: only the current assignee completes, and a done task stays done. A repeated request
/// with the same `Idempotency-Key` gets the first answer instead of a 409.
pub async fn complete_task(
    store: &impl TaskStore,
    task_id: Uuid,
    request: &Request,
) -> Result<Answer<Task>, TaskError> {
    for _attempt in 0..ATTEMPTS {
        let task = store.task(task_id).await?.ok_or(TaskError::UnknownTask)?;
        let done = match task.complete(request.by, request.now) {
            Ok(done) => done,
            Err(TaskError::AlreadyDone) if request.idempotency.is_some() => {
                let key = request.idempotency.as_ref().expect("checked");
                return match store.replay(key).await? {
                    Some(replay) => replayed(replay, request),
                    None => Err(TaskError::AlreadyDone),
                };
            }
            Err(e) => return Err(e),
        };
        let completed = TaskCompleted {
            task_id,
            assignee_id: request.by,
            completed_at: request.now,
            version: done.version,
        };
        let event = Envelope::wrap(PRODUCER, &completed, &request.cause, request.now)?;
        let answer = serde_json::to_string(&done).map_err(|e| TaskError::Invalid(e.to_string()))?;
        let keyed = request.idempotency.as_ref().map(|k| (k, answer.as_str()));
        match store.complete_task(&done, &event, keyed).await? {
            Saved::Done => {
                tracing::info!(%task_id, "task completed");
                return Ok(Answer::Fresh(done));
            }
            Saved::Replayed(replay) => return replayed(replay, request),
            // Reassigned or completed meanwhile: look again.
            Saved::Stale => continue,
        }
    }
    Err(TaskError::ChangedMeanwhile)
}

/// The first answer, if the key was used for this same request.
fn replayed<T>(replay: Replay, request: &Request) -> Result<Answer<T>, TaskError> {
    let same = request
        .idempotency
        .as_ref()
        .is_some_and(|k| k.request == replay.request);
    if same {
        Ok(Answer::Replayed(replay))
    } else {
        Err(TaskError::KeyReused)
    }
}

/// T4: an employee's own tasks of one status, newest first.
pub async fn my_tasks(
    store: &impl TaskStore,
    me: Uuid,
    status: Status,
    limit: usize,
    cursor: Option<&str>,
) -> Result<Listing, TaskError> {
    store.tasks_of(me, status, limit, cursor).await
}

/// T1: every task (managers and admins; the caller's role is checked at the edge).
pub async fn all_tasks(
    store: &impl TaskStore,
    limit: usize,
    cursor: Option<&str>,
) -> Result<Listing, TaskError> {
    store.all_tasks(limit, cursor).await
}

/// T3: a shuffle of every open task starts; its pages run asynchronously.
pub async fn start_shuffle(
    store: &impl TaskStore,
    request: &Request,
) -> Result<Shuffle, TaskError> {
    if store.assignable_accounts().await?.is_empty() {
        return Err(TaskError::NobodyAssignable);
    }
    let total = store.open_tasks().await?;
    let shuffle = Shuffle::request(request.by, total, request.now);
    store
        .start_shuffle(&shuffle, &request.cause.correlation_id)
        .await?;
    tracing::info!(shuffle_id = %shuffle.shuffle_id, total, "shuffle started");
    Ok(shuffle)
}

pub async fn shuffle_progress(store: &impl TaskStore, id: Uuid) -> Result<Shuffle, TaskError> {
    store.shuffle(id).await?.ok_or(TaskError::UnknownShuffle)
}

/// T3, one page: at most a page of a shard's open tasks goes to random assignable accounts, with
/// one `Task.Assigned` each, the shuffle's progress and the next page, in one commit. Tasks that
/// changed since they were read are read again and the page retried.
pub async fn shuffle_page(
    store: &impl TaskStore,
    page: &Page,
    rng: &mut (impl rand::Rng + Send),
) -> Result<PageOutcome, TaskError> {
    let pool = store.assignable_accounts().await?;
    let (mut tasks, next_cursor) = store
        .open_tasks_page(page.partition, page.cursor.as_ref())
        .await?;
    let next = next_cursor.map(|cursor| page.next(cursor));
    let cause = Cause {
        correlation_id: page.correlation_id.clone(),
        causation_id: Some(page.job_id.to_string()),
    };
    for _attempt in 0..=ATTEMPTS {
        let moves = reassign_page(&tasks, &pool, page.job_id, rng);
        let now = Utc::now();
        let events = moves
            .iter()
            .map(|(before, after)| {
                let assigned = TaskAssigned {
                    task_id: after.task_id,
                    assignee_id: after.assignee_id,
                    previous_assignee_id: Some(before.assignee_id),
                    shuffle_id: Some(page.job_id),
                    assigned_at: now,
                    version: after.version,
                };
                Envelope::wrap(PRODUCER, &assigned, &cause, now)
            })
            .collect::<Result<Vec<_>, _>>()?;
        match store
            .save_shuffle_page(page, &moves, &events, next.as_ref())
            .await?
        {
            PageSaved::Done => return Ok(PageOutcome::Reassigned(moves.len())),
            PageSaved::Duplicate => return Ok(PageOutcome::Duplicate),
            PageSaved::UnknownShuffle => return Err(TaskError::UnknownShuffle),
            PageSaved::Stale(stale) => {
                // Completed, or moved by another shuffle: read those again and try once more.
                let fresh = store.reload(&stale).await?;
                tasks.retain(|t| !stale.contains(&t.task_id));
                tasks.extend(fresh);
            }
        }
    }
    Err(TaskError::ChangedMeanwhile)
}

/// The copy of accounts (`Account.*` events): once per event, and only forward in revision.
pub use ates_kernel::copies::sync_account;

/// A shuffle page as the work queue delivers it: a page of an unknown shuffle is poison;
/// anything else may pass and is retried.
pub async fn shuffle_page_work(store: &impl TaskStore, page: Page) -> Result<(), ConsumeError> {
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
}

/// What a run migrated, and where the next run starts (`None`: done).
#[derive(Debug, serde::Serialize)]
pub struct MigrationPage {
    pub migrated: usize,
    pub cursor: Option<String>,
}

/// T5: stored legacy titles (`[UBERPOP-42] Fix`) become title + jira id, a page per run; safe
/// to run again (a migrated task is not touched twice, one changed meanwhile is left alone).
pub async fn migrate_legacy_titles(
    store: &impl TaskStore,
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
