//! The HTTP edge of accounting: one function per route (SPEC "Accounting API"). Each reads its
//! request into a use case's input, calls the use case (`app`), and maps the answer to JSON;
//! errors map to problems once, in `error.rs`. The company routes are for admins and
//! accountants: the gateway checks the scope, and each handler turns its caller into the
//! `Capability<Bookkeepers>` its use case takes (`Caller::may`), before reading anything else.

use ates_kernel::calendar::Calendar;
use ates_kernel::http::{self, HttpResult, Problem};
use ates_kernel::identity::Capability;
use chrono::{NaiveDate, Utc};
use lambda_http::http::StatusCode;
use lambda_http::Request;
use uuid::Uuid;

use crate::app::{self, Bank, Bookkeepers, LedgerStore};

/// The caller's own account (any employee).
async fn caller_id(store: &impl LedgerStore, req: &Request) -> Result<Uuid, Problem> {
    Ok(http::caller(req, store).await?.account_id)
}

/// An admin or an accountant, as the company's use cases ask for them.
async fn bookkeeper(
    store: &impl LedgerStore,
    req: &Request,
) -> Result<Capability<Bookkeepers>, Problem> {
    http::caller(req, store).await?.may()
}

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
    let me = caller_id(store, &req).await?;
    let balance = app::my_balance(store, calendar, me, Utc::now()).await?;
    http::json(StatusCode::OK, &balance)
}

/// `GET /accounting/me/entries?limit&cursor`: the caller's audit log, newest first.
pub async fn my_entries(store: &impl LedgerStore, req: Request) -> HttpResult {
    let me = caller_id(store, &req).await?;
    let cursor = http::query_param(&req, "cursor");
    let log = app::my_audit_log(store, me, http::limit(&req)?, cursor.as_deref()).await?;
    http::json(StatusCode::OK, &log)
}

/// `GET /accounting/accounts?limit&cursor` (admins, accountants).
pub async fn list_accounts(
    store: &impl LedgerStore,
    calendar: &Calendar,
    req: Request,
) -> HttpResult {
    let books = bookkeeper(store, &req).await?;
    let cursor = http::query_param(&req, "cursor");
    let page = app::balances(
        store,
        &books,
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
    let books = bookkeeper(store, &req).await?;
    let id = account_in_path(&req)?;
    let balance = app::account_balance(store, &books, calendar, id, Utc::now()).await?;
    http::json(StatusCode::OK, &balance)
}

/// `GET /accounting/accounts/{account_id}/entries?limit&cursor` (admins, accountants).
pub async fn account_entries(store: &impl LedgerStore, req: Request) -> HttpResult {
    let books = bookkeeper(store, &req).await?;
    let id = account_in_path(&req)?;
    let cursor = http::query_param(&req, "cursor");
    let limit = http::limit(&req)?;
    let log = app::audit_log(store, &books, id, limit, cursor.as_deref()).await?;
    http::json(StatusCode::OK, &log)
}

/// `GET /accounting/earnings?from&to` (admins, accountants): per business day, at most 366.
/// Without a range: today.
pub async fn earnings(store: &impl LedgerStore, calendar: &Calendar, req: Request) -> HttpResult {
    let books = bookkeeper(store, &req).await?;
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
    let earnings = app::earnings(store, &books, calendar, from, to, now).await?;
    http::json(StatusCode::OK, &earnings)
}

/// `GET /accounting/closes/{date}` (admins, accountants).
pub async fn close(store: &impl LedgerStore, req: Request) -> HttpResult {
    let books = bookkeeper(store, &req).await?;
    let date = date(http::path_param(&req, "date").ok(), "date")?;
    let report = app::close_report(store, &books, date).await?;
    http::json(StatusCode::OK, &report)
}

/// `GET /accounting/me/payout-details`: the caller's IBAN, masked, and what waits for it.
pub async fn my_payout_details(store: &impl LedgerStore, req: Request) -> HttpResult {
    let me = caller_id(store, &req).await?;
    http::json(StatusCode::OK, &app::payout_details(store, me).await?)
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NewPayoutDetails {
    iban: String,
}

/// `PUT /accounting/me/payout-details` `{iban}`: checked by its checksum; held payouts go now.
pub async fn register_payout_details(
    store: &impl LedgerStore,
    bank: &impl Bank,
    req: Request,
) -> HttpResult {
    let me = caller_id(store, &req).await?;
    let new: NewPayoutDetails = http::body(&req)?;
    let view = app::register_payout_details(store, bank, me, &new.iban, Utc::now()).await?;
    http::json(StatusCode::OK, &view)
}
