//! The HTTP edge of accounting: one function per route (SPEC "Accounting API"). Each reads its
//! request (the token's claims among it) into a use case's input, calls the use case (`app`),
//! and maps the answer to JSON; errors map to problems once, in `error.rs`. The company routes
//! are for admins and accountants: the gateway checks the scope, and the use case the account's
//! role (`Capability<Bookkeepers>`).

use ates_kernel::calendar::Calendar;
use ates_kernel::http::{self, HttpResult, Problem};
use chrono::{NaiveDate, Utc};
use lambda_http::http::StatusCode;
use lambda_http::Request;
use uuid::Uuid;

use crate::app::{self, LedgerStore};

fn account_in_path(req: &Request) -> Result<Uuid, Problem> {
    Uuid::parse_str(&http::path_param(req, "account_id")?)
        .map_err(|_| Problem::not_found("no such account"))
}

/// A `YYYY-MM-DD` date, from the query or the path.
fn date(value: Option<String>, name: &str) -> Result<NaiveDate, Problem> {
    let value = value.ok_or_else(|| Problem::invalid(format!("`{name}` is required")))?;
    ates_kernel::calendar::parse_date(&value)
        .ok_or_else(|| Problem::invalid(format!("`{name}` must be a date like 2026-11-20")))
}

/// `GET /accounting/me`: any employee's own balance and what they earned today.
pub async fn me(store: &impl LedgerStore, calendar: &Calendar, req: Request) -> HttpResult {
    let me = http::claims(&req)?;
    let balance = app::my_balance(store, calendar, &me, Utc::now()).await?;
    http::json(StatusCode::OK, &balance)
}

/// `GET /accounting/me/entries?limit&cursor`: the caller's audit log, newest first.
pub async fn my_entries(store: &impl LedgerStore, req: Request) -> HttpResult {
    let me = http::claims(&req)?;
    let cursor = http::query_param(&req, "cursor");
    let log = app::my_audit_log(store, &me, http::limit(&req)?, cursor.as_deref()).await?;
    http::json(StatusCode::OK, &log)
}

/// `GET /accounting/accounts?limit&cursor` (admins, accountants).
pub async fn list_accounts(
    store: &impl LedgerStore,
    calendar: &Calendar,
    req: Request,
) -> HttpResult {
    let caller = http::claims(&req)?;
    let cursor = http::query_param(&req, "cursor");
    let page = app::balances(
        store,
        &caller,
        calendar,
        http::limit(&req)?,
        cursor.as_deref(),
        Utc::now(),
    )
    .await?;
    http::json(StatusCode::OK, &page)
}

/// `GET /accounting/accounts/{account_id}` (admins, accountants).
pub async fn account(store: &impl LedgerStore, calendar: &Calendar, req: Request) -> HttpResult {
    let caller = http::claims(&req)?;
    let id = account_in_path(&req)?;
    let balance = app::account_balance(store, &caller, calendar, id, Utc::now()).await?;
    http::json(StatusCode::OK, &balance)
}

/// `GET /accounting/accounts/{account_id}/entries?limit&cursor` (admins, accountants).
pub async fn account_entries(store: &impl LedgerStore, req: Request) -> HttpResult {
    let caller = http::claims(&req)?;
    let id = account_in_path(&req)?;
    let cursor = http::query_param(&req, "cursor");
    let limit = http::limit(&req)?;
    let log = app::audit_log(store, &caller, id, limit, cursor.as_deref()).await?;
    http::json(StatusCode::OK, &log)
}

/// `GET /accounting/earnings?from&to` (admins, accountants): per business day, at most 366.
/// Without a range: today.
pub async fn earnings(store: &impl LedgerStore, calendar: &Calendar, req: Request) -> HttpResult {
    let caller = http::claims(&req)?;
    let now = Utc::now();
    let (from, to) = match (
        http::query_param(&req, "from"),
        http::query_param(&req, "to"),
    ) {
        (None, None) => {
            let today = calendar.business_date(now).map_err(Problem::internal)?;
            (today, today)
        }
        (from, to) => (date(from, "from")?, date(to, "to")?),
    };
    let earnings = app::earnings(store, &caller, calendar, from, to, now).await?;
    http::json(StatusCode::OK, &earnings)
}

/// `GET /accounting/closes/{date}` (admins, accountants).
pub async fn close(store: &impl LedgerStore, req: Request) -> HttpResult {
    let caller = http::claims(&req)?;
    let date = date(http::path_param(&req, "date").ok(), "date")?;
    let report = app::close_report(store, &caller, date).await?;
    http::json(StatusCode::OK, &report)
}
