//! One function per route of the task tracker. Each reads its request, runs the domain, and
//! lets the store commit state and events together. Errors map to problems in `error.rs`.

use ates_kernel::contracts::tasks::{TaskAssigned, TaskCompleted, TaskCreated};
use ates_kernel::event::{Cause, Envelope};
use ates_kernel::http::{self, correlation_id, Caller, HttpResult, Problem};
use ates_kernel::identity::Role;
use chrono::Utc;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use uuid::Uuid;

use crate::error::TaskError;
use crate::shuffle::Shuffle;
use crate::store::{Commit, Idempotency, Store};
use crate::task::{pick_assignee, NewTask, Status, Task};
use crate::PRODUCER;

const MANAGERS: &[Role] = &[Role::Manager, Role::Admin];

fn caller_id(caller: &Caller) -> Result<Uuid, Problem> {
    Uuid::parse_str(&caller.account_id)
        .map_err(|_| Problem::unauthorized("token subject is not an account"))
}

/// The caller's `Idempotency-Key`, if any, scoped to the caller.
fn idempotency(
    req: &Request,
    caller: Uuid,
    request: String,
) -> Result<Option<Idempotency>, Problem> {
    let Some(key) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let key = key
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= 128 && k.is_ascii());
    let key =
        key.ok_or_else(|| Problem::invalid("Idempotency-Key must be 1 to 128 ASCII characters"))?;
    Ok(Some(Idempotency {
        key: format!("{caller}#{key}"),
        request,
    }))
}

fn replayed(replay: crate::store::Replay, idem: &Idempotency) -> HttpResult {
    if replay.request != idem.request {
        return Err(TaskError::KeyReused.into());
    }
    Ok(Response::builder()
        .status(replay.status)
        .header("content-type", "application/json")
        .header("idempotent-replayed", "true")
        .body(Body::Text(replay.body))
        .expect("a stored response builds"))
}

fn limit(req: &Request) -> Result<i32, Problem> {
    match http::query_param(req, "limit") {
        None => Ok(50),
        Some(l) => l
            .parse::<i32>()
            .ok()
            .filter(|l| (1..=100).contains(l))
            .ok_or_else(|| Problem::invalid("limit must be 1 to 100")),
    }
}

/// `POST /tasks`: anyone signed in; the task is assigned at once to a random assignable account.
pub async fn create_task(store: &Store, req: Request) -> HttpResult {
    let caller = Caller::of(&req)?;
    let by = caller_id(&caller)?;
    let new: NewTask = http::body(&req)?;
    let new = new.validate()?;
    let idem = idempotency(
        &req,
        by,
        serde_json::to_string(&new).map_err(Problem::internal)?,
    )?;
    let pool: Vec<Uuid> = store
        .assignable_accounts()
        .await?
        .iter()
        .filter_map(|id| Uuid::parse_str(id).ok())
        .collect();
    let assignee =
        pick_assignee(&pool, &mut rand::thread_rng()).ok_or(TaskError::NobodyAssignable)?;
    let now = Utc::now();
    let task = Task::open(&new, assignee, by, now)?;
    let cause = Cause::request(correlation_id(&req));
    let created = TaskCreated {
        task_id: task.task_id,
        title: task.title.clone(),
        jira_id: task.jira_id.clone(),
        description: task.description.clone(),
        created_by: by,
        created_at: now,
    };
    let assigned = TaskAssigned {
        task_id: task.task_id,
        assignee_id: assignee,
        previous_assignee_id: None,
        shuffle_id: None,
        assigned_at: now,
    };
    let events = [
        Envelope::wrap(PRODUCER, &created, &cause, now)?,
        Envelope::wrap(PRODUCER, &assigned, &cause, now)?,
    ];
    let body = serde_json::to_string(&task).map_err(Problem::internal)?;
    let keyed = idem
        .as_ref()
        .map(|i| (i, StatusCode::CREATED.as_u16(), body.as_str()));
    match store.create_task(&task, &events, keyed).await? {
        Commit::Replayed(replay) => {
            replayed(replay, idem.as_ref().expect("only keyed requests replay"))
        }
        Commit::Done => {
            tracing::info!(task_id = %task.task_id, assignee_id = %assignee, "task created");
            let mut response = http::json(StatusCode::CREATED, &task)?;
            if let Ok(location) = format!("/tasks/{}", task.task_id).parse() {
                response.headers_mut().insert("location", location);
            }
            Ok(response)
        }
    }
}

#[derive(Serialize)]
struct TaskList {
    tasks: Vec<Task>,
    next_cursor: Option<String>,
}

/// `GET /tasks/mine?status=open|done&limit=&cursor=`
pub async fn list_my_tasks(store: &Store, req: Request) -> HttpResult {
    let me = caller_id(&Caller::of(&req)?)?;
    let status = match http::query_param(&req, "status") {
        None => Status::Open,
        Some(s) => {
            Status::parse(&s).ok_or_else(|| Problem::invalid("status must be open or done"))?
        }
    };
    let listing = store
        .tasks_of(
            me,
            status,
            limit(&req)?,
            http::query_param(&req, "cursor").as_deref(),
        )
        .await?;
    http::json(
        StatusCode::OK,
        &TaskList {
            tasks: listing.tasks,
            next_cursor: listing.next_cursor,
        },
    )
}

/// `GET /tasks?limit=&cursor=` (managers and admins)
pub async fn list_tasks(store: &Store, req: Request) -> HttpResult {
    Caller::of(&req)?.require_any(MANAGERS)?;
    let listing = store
        .all_tasks(limit(&req)?, http::query_param(&req, "cursor").as_deref())
        .await?;
    http::json(
        StatusCode::OK,
        &TaskList {
            tasks: listing.tasks,
            next_cursor: listing.next_cursor,
        },
    )
}

/// `POST /tasks/{task_id}/complete`: only the current assignee. A done task answers 409, unless
/// the request repeats an earlier one with the same `Idempotency-Key`.
pub async fn complete_task(store: &Store, req: Request) -> HttpResult {
    let me = caller_id(&Caller::of(&req)?)?;
    let id = http::path_param(&req, "task_id")?;
    let id = Uuid::parse_str(&id).map_err(|_| Problem::not_found(format!("no task {id}")))?;
    let idem = idempotency(&req, me, format!("complete {id}"))?;
    for _attempt in 0..3 {
        let task = store.task(id).await?.ok_or(TaskError::UnknownTask)?;
        let done = match task.complete(me, Utc::now()) {
            Ok(done) => done,
            Err(TaskError::AlreadyDone) if idem.is_some() => {
                let idem = idem.as_ref().expect("checked");
                return match store.replay(idem).await? {
                    Some(replay) => replayed(replay, idem),
                    None => Err(TaskError::AlreadyDone.into()),
                };
            }
            Err(e) => return Err(e.into()),
        };
        let completed = TaskCompleted {
            task_id: id,
            assignee_id: me,
            completed_at: done.completed_at.unwrap_or_else(Utc::now),
        };
        let event = Envelope::wrap(
            PRODUCER,
            &completed,
            &Cause::request(correlation_id(&req)),
            Utc::now(),
        )?;
        let body = serde_json::to_string(&done).map_err(Problem::internal)?;
        let keyed = idem
            .as_ref()
            .map(|i| (i, StatusCode::OK.as_u16(), body.as_str()));
        match store.complete_task(&done, &event, keyed).await {
            Ok(Commit::Done) => {
                tracing::info!(task_id = %id, "task completed");
                return http::json(StatusCode::OK, &done);
            }
            Ok(Commit::Replayed(replay)) => {
                return replayed(replay, idem.as_ref().expect("only keyed requests replay"))
            }
            // Reassigned or completed meanwhile: look again.
            Err(TaskError::ChangedMeanwhile) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(TaskError::ChangedMeanwhile.into())
}

/// `POST /tasks/shuffles` (managers and admins): answers 202 with the shuffle; the work runs
/// asynchronously, page by page.
pub async fn start_shuffle(store: &Store, req: Request) -> HttpResult {
    let caller = Caller::of(&req)?;
    caller.require_any(MANAGERS)?;
    let by = caller_id(&caller)?;
    if store.assignable_accounts().await?.is_empty() {
        return Err(TaskError::NobodyAssignable.into());
    }
    let total = store.open_tasks().await?;
    let shuffle = Shuffle::request(by, total, Utc::now());
    store
        .start_shuffle(&shuffle, &shuffle.first_pages(&correlation_id(&req)))
        .await?;
    tracing::info!(shuffle_id = %shuffle.shuffle_id, total, "shuffle started");
    let mut response = http::json(StatusCode::ACCEPTED, &shuffle.progress())?;
    if let Ok(location) = format!("/tasks/shuffles/{}", shuffle.shuffle_id).parse() {
        response.headers_mut().insert("location", location);
    }
    Ok(response)
}

/// `GET /tasks/shuffles/{shuffle_id}` (managers and admins): status and progress.
pub async fn shuffle_status(store: &Store, req: Request) -> HttpResult {
    Caller::of(&req)?.require_any(MANAGERS)?;
    let id = http::path_param(&req, "shuffle_id")?;
    let id = Uuid::parse_str(&id).map_err(|_| Problem::not_found(format!("no shuffle {id}")))?;
    let shuffle = store.shuffle(id).await?.ok_or(TaskError::UnknownShuffle)?;
    http::json(StatusCode::OK, &shuffle.progress())
}
