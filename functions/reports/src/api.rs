//! The HTTP edge of reports: one function per route. Each reads its request into a use case's
//! input, calls the use case (`app`), and maps its answer to a response; errors map to
//! problems once, in `error.rs`. Who may do what is the use case's to decide.

use ates_kernel::http::{self, cause, HttpResult, Problem};
use ates_kernel::identity::AccountCopies;
use chrono::Utc;
use lambda_http::http::StatusCode;
use lambda_http::Request;
use serde::Deserialize;
use uuid::Uuid;

use crate::app;
use crate::error::ReportsError;
use crate::ports::{Attachments, Cases, Orders, Reports};
use crate::qa::{NewQaReport, Status};
use crate::report::{Kind, NewAttachment, NewReport};

/// A path id; one that is not an id names nothing (404).
fn id(req: &Request, name: &str, what: &str) -> Result<Uuid, Problem> {
    let id = http::path_param(req, name)?;
    Uuid::parse_str(&id).map_err(|_| Problem::not_found(format!("no {what} {id}")))
}

/// `POST /reports/{order_id}/pre-report` and `/report` (the order's executor):
/// `{text, attachments?}` → 201 the report filed.
pub async fn file_report(
    store: &(impl Orders + Reports + AccountCopies),
    bucket: &impl Attachments,
    kind: Kind,
    req: Request,
) -> HttpResult {
    let claims = http::claims(&req)?;
    let order_id = id(&req, "order_id", "order")?;
    let input: NewReport = http::body(&req)?;
    let input = input.validate()?;
    let report = app::file_report(
        store,
        bucket,
        &claims,
        order_id,
        kind,
        &input,
        &cause(&req),
        Utc::now(),
    )
    .await?;
    http::json(StatusCode::CREATED, &report)
}

/// `POST /reports/{order_id}/attachments` (the order's executor): `{content_type, size_bytes}`
/// → 201 `{attachment_id, upload_url, expires_at}`.
pub async fn request_upload(
    store: &(impl Orders + AccountCopies),
    bucket: &impl Attachments,
    req: Request,
) -> HttpResult {
    let claims = http::claims(&req)?;
    let order_id = id(&req, "order_id", "order")?;
    let input: NewAttachment = http::body(&req)?;
    let upload = input.validate()?;
    let granted = app::request_upload(store, bucket, &claims, order_id, upload, Utc::now()).await?;
    http::json(StatusCode::CREATED, &granted)
}

/// `GET /reports/{order_id}` (the order's client, its executor, managers, admins).
pub async fn order_reports(
    store: &(impl Orders + Reports + AccountCopies),
    bucket: &impl Attachments,
    req: Request,
) -> HttpResult {
    let claims = http::claims(&req)?;
    let order_id = id(&req, "order_id", "order")?;
    let reports = app::order_reports(store, bucket, &claims, order_id, Utc::now()).await?;
    http::json(StatusCode::OK, &reports)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenCase {
    order_id: Uuid,
}

/// `POST /reports/qa-cases` (managers, admins): `{order_id}` → 201 the open case.
pub async fn open_case(store: &(impl Orders + Cases + AccountCopies), req: Request) -> HttpResult {
    let claims = http::claims(&req)?;
    let open: OpenCase = http::body(&req)?;
    let case = app::open_case(store, &claims, open.order_id, Utc::now()).await?;
    http::json(StatusCode::CREATED, &case)
}

/// `POST /reports/qa-cases/{case_id}/report` (managers, admins): `{verdict, notes}` → 200 the
/// closed case.
pub async fn close_case(store: &(impl Orders + Cases + AccountCopies), req: Request) -> HttpResult {
    let claims = http::claims(&req)?;
    let case_id = id(&req, "case_id", "QA case")?;
    let input: NewQaReport = http::body(&req)?;
    let report = input.validate()?;
    let case = app::close_case(store, &claims, case_id, &report, &cause(&req), Utc::now()).await?;
    http::json(StatusCode::OK, &case)
}

/// `GET /reports/qa-cases?status=&limit=&cursor=` (managers, admins): newest first.
pub async fn list_cases(store: &(impl Cases + AccountCopies), req: Request) -> HttpResult {
    let claims = http::claims(&req)?;
    let status = http::query_param(&req, "status")
        .map(|s| Status::parse(&s).ok_or(ReportsError::BadStatus(s)))
        .transpose()?;
    let cursor = http::query_param(&req, "cursor");
    let limit = http::limit(&req)?;
    let listed = app::cases(store, &claims, status, limit, cursor.as_deref()).await?;
    http::json(
        StatusCode::OK,
        &serde_json::json!({ "cases": listed.items, "next_cursor": listed.next_cursor }),
    )
}
