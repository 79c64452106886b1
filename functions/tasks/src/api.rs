//! The HTTP edge of the task tracker: one function per route. Each reads its request (the token's
//! claims among it) into a use case's input, calls the use case (`app`), which resolves the
//! caller and their rights, and maps its answer to a response; errors map to problems once, in
//! `error.rs`.

use ates_kernel::http::{self, HttpResult, Problem};
use chrono::Utc;
use lambda_http::http::StatusCode;
use lambda_http::{Request, Response};
use serde::Serialize;
use uuid::Uuid;

use crate::app::{self, Answer, Listing, TaskFilter, TaskStore};
use crate::task::{NewTask, Status, Task};

/// The use cases' view of a request: who the token names, why, when, and the caller's
/// idempotency key.
fn request(req: &Request) -> Result<app::Issued, Problem> {
    let by = http::claims(req)?;
    let idempotency = http::idempotency_key(req, &by.account_id.to_string())?;
    Ok(app::Issued {
        by,
        cause: http::cause(req),
        idempotency,
        now: Utc::now(),
    })
}

fn answer(status: StatusCode, answer: Answer<Task>) -> HttpResult {
    match answer {
        Answer::Fresh(task) => http::json(status, &task),
        Answer::Replayed(replay) => http::replayed(status, replay),
    }
}

fn with_location(mut response: Response<lambda_http::Body>, location: String) -> HttpResult {
    if let Ok(location) = location.parse() {
        response.headers_mut().insert("location", location);
    }
    Ok(response)
}

/// A sendable generator for the use case (the thread's own cannot cross an await).
fn assignment_rng() -> rand::rngs::StdRng {
    rand::SeedableRng::from_rng(rand::thread_rng()).expect("the thread generator never fails")
}

#[derive(Serialize)]
struct TaskList {
    tasks: Vec<Task>,
    next_cursor: Option<String>,
}

fn task_list(listing: Listing) -> HttpResult {
    http::json(
        StatusCode::OK,
        &TaskList {
            tasks: listing.items,
            next_cursor: listing.next_cursor,
        },
    )
}

/// `POST /tasks`: anyone signed in; the task is assigned at once to a random assignable account.
pub async fn create_task(store: &impl TaskStore, req: Request) -> HttpResult {
    let request = request(&req)?;
    let new: NewTask = http::body(&req)?;
    let new = new.validate()?;
    let created = app::create_task(store, &new, &request, &mut assignment_rng()).await?;
    let location = match &created {
        Answer::Fresh(task) => Some(format!("/tasks/{}", task.task_id)),
        Answer::Replayed(_) => None,
    };
    let response = answer(StatusCode::CREATED, created)?;
    match location {
        Some(location) => with_location(response, location),
        None => Ok(response),
    }
}

/// `GET /tasks/mine?status=open|done&limit=&cursor=`
pub async fn list_my_tasks(store: &impl TaskStore, req: Request) -> HttpResult {
    let me = http::claims(&req)?;
    let status = match http::query_param(&req, "status") {
        None => Status::Open,
        Some(s) => {
            Status::parse(&s).ok_or_else(|| Problem::invalid("status must be open or done"))?
        }
    };
    let cursor = http::query_param(&req, "cursor");
    let limit = http::limit(&req)?;
    let mine = app::my_tasks(store, &me, status, limit, cursor.as_deref()).await?;
    task_list(mine)
}

/// `GET /tasks?status=open|done&assignee=<id>&limit=&cursor=` (managers and admins): newest
/// first, each with its assignee's name.
pub async fn list_tasks(store: &impl TaskStore, req: Request) -> HttpResult {
    let claims = http::claims(&req)?;
    let status = http::query_param(&req, "status")
        .map(|s| Status::parse(&s).ok_or_else(|| Problem::invalid("status must be open or done")))
        .transpose()?;
    let assignee = http::query_param(&req, "assignee")
        .map(|a| {
            Uuid::parse_str(&a).map_err(|_| Problem::invalid("assignee must be an account id"))
        })
        .transpose()?;
    let filter = TaskFilter { status, assignee };
    let cursor = http::query_param(&req, "cursor");
    let limit = http::limit(&req)?;
    let all = app::all_tasks(store, &claims, &filter, limit, cursor.as_deref()).await?;
    http::json(
        StatusCode::OK,
        &serde_json::json!({ "tasks": all.items, "next_cursor": all.next_cursor }),
    )
}

/// `POST /tasks/{task_id}/complete`: only the current assignee. A done task answers 409, unless
/// the request repeats an earlier one with the same `Idempotency-Key`.
pub async fn complete_task(store: &impl TaskStore, req: Request) -> HttpResult {
    let request = request(&req)?;
    let id = http::path_param(&req, "task_id")?;
    let id = Uuid::parse_str(&id).map_err(|_| Problem::not_found(format!("no task {id}")))?;
    answer(
        StatusCode::OK,
        app::complete_task(store, id, &request).await?,
    )
}

/// `POST /tasks/shuffles` (managers and admins): answers 202 with the shuffle; the work runs
/// asynchronously, page by page.
pub async fn start_shuffle(store: &impl TaskStore, req: Request) -> HttpResult {
    let request = request(&req)?;
    let shuffle = app::start_shuffle(store, &request).await?;
    let response = http::json(StatusCode::ACCEPTED, &shuffle.progress())?;
    with_location(response, format!("/tasks/shuffles/{}", shuffle.shuffle_id))
}

/// `GET /tasks/shuffles/{shuffle_id}` (managers and admins): status and progress.
pub async fn shuffle_status(store: &impl TaskStore, req: Request) -> HttpResult {
    let claims = http::claims(&req)?;
    let id = http::path_param(&req, "shuffle_id")?;
    let id = Uuid::parse_str(&id).map_err(|_| Problem::not_found(format!("no shuffle {id}")))?;
    let shuffle = app::shuffle_progress(store, &claims, id).await?;
    http::json(StatusCode::OK, &shuffle.progress())
}
