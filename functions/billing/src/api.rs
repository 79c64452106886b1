//! The HTTP edge of billing: one function per route. Each reads its request into a use case's
//! input, calls the use case (`app`), and maps its answer to a response; errors map to problems
//! once, in `error.rs`. The use case resolves the caller from the token's claims.

use ates_kernel::calendar::Calendar;
use ates_kernel::contracts::billing::InvoiceLine;
use ates_kernel::contracts::clock::{Month, Week};
use ates_kernel::event::Cause;
use ates_kernel::http::{self, correlation_id, HttpResult, Problem};
use ates_kernel::identity::Claims;
use ates_kernel::usecase::Answer;
use chrono::{DateTime, NaiveDate, Utc};
use lambda_http::http::StatusCode;
use lambda_http::Request;
use serde::Serialize;
use uuid::Uuid;

use crate::app::{self, NewBonus};
use crate::invoice::{Invoice, InvoiceStatus};
use crate::ports::BillingStore;
use crate::statement::{SalaryStatus, Statement};

fn request(req: &Request, claims: &Claims) -> Result<app::Request, Problem> {
    Ok(app::Request {
        cause: Cause::request(correlation_id(req)),
        idempotency: http::idempotency_key(req, &claims.account_id.to_string())?,
        now: Utc::now(),
    })
}

/// A page of a listing, its items under the listing's own name.
fn page<T: Serialize>(name: &str, items: Vec<T>, next_cursor: Option<String>) -> HttpResult {
    http::json(
        StatusCode::OK,
        &serde_json::json!({ name: items, "next_cursor": next_cursor }),
    )
}

/// An invoice as its readers see it (SPEC M7).
#[derive(Debug, Serialize)]
pub struct InvoiceView {
    pub invoice_id: Uuid,
    pub client_id: Uuid,
    pub week: Week,
    pub status: InvoiceStatus,
    pub total_cents: i64,
    pub lines: Vec<InvoiceLine>,
    pub issued_at: DateTime<Utc>,
    pub retry_at: Option<DateTime<Utc>>,
    pub paid_at: Option<DateTime<Utc>>,
}

impl From<Invoice> for InvoiceView {
    fn from(i: Invoice) -> Self {
        InvoiceView {
            invoice_id: i.invoice_id,
            client_id: i.client_id,
            week: i.week,
            status: i.status,
            total_cents: i.total_cents,
            lines: i.lines,
            issued_at: i.issued_at,
            retry_at: i.retry_at,
            paid_at: i.paid_at,
        }
    }
}

/// A statement as its readers see it.
#[derive(Debug, Serialize)]
pub struct StatementView {
    pub statement_id: Uuid,
    pub worker_id: Uuid,
    pub month: Month,
    pub carried_in_cents: i64,
    pub shares_cents: i64,
    pub fines_cents: i64,
    pub waivers_cents: i64,
    pub bonuses_cents: i64,
    pub total_cents: i64,
    pub salary_cents: i64,
    pub carried_out_cents: i64,
    pub salary: SalaryStatus,
    pub issued_at: DateTime<Utc>,
}

impl From<Statement> for StatementView {
    fn from(s: Statement) -> Self {
        StatementView {
            statement_id: s.statement_id,
            worker_id: s.worker_id,
            month: s.month,
            carried_in_cents: s.carried_in_cents,
            shares_cents: s.shares_cents,
            fines_cents: s.fines_cents,
            waivers_cents: s.waivers_cents,
            bonuses_cents: s.bonuses_cents,
            total_cents: s.total_cents,
            salary_cents: s.salary_cents,
            carried_out_cents: s.carried_out_cents,
            salary: s.salary,
            issued_at: s.issued_at,
        }
    }
}

fn views<T, V: From<T>>(items: Vec<T>) -> Vec<V> {
    items.into_iter().map(V::from).collect()
}

/// `POST /billing/bonuses` (managers; `Idempotency-Key`) → 201 the bonus.
pub async fn grant_bonus(
    store: &impl BillingStore,
    calendar: &Calendar,
    req: Request,
) -> HttpResult {
    let claims = http::claims(&req)?;
    let new: NewBonus = http::body(&req)?;
    let request = request(&req, &claims)?;
    match app::grant_bonus(store, calendar, &claims, &new, &request).await? {
        Answer::Fresh(bonus) => http::json(StatusCode::CREATED, &bonus),
        Answer::Replayed(replay) => http::replayed(StatusCode::CREATED, replay),
    }
}

/// `GET /billing/bonuses` (managers), newest first.
pub async fn list_bonuses(store: &impl BillingStore, req: Request) -> HttpResult {
    let claims = http::claims(&req)?;
    let cursor = http::query_param(&req, "cursor");
    let listed = app::bonuses(store, &claims, http::limit(&req)?, cursor.as_deref()).await?;
    page("bonuses", listed.items, listed.next_cursor)
}

/// `GET /billing/me/invoices` (clients), newest first.
pub async fn my_invoices(store: &impl BillingStore, req: Request) -> HttpResult {
    let claims = http::claims(&req)?;
    let cursor = http::query_param(&req, "cursor");
    let listed = app::my_invoices(store, &claims, http::limit(&req)?, cursor.as_deref()).await?;
    page::<InvoiceView>("invoices", views(listed.items), listed.next_cursor)
}

/// `GET /billing/invoices/{invoice_id}` (its client, accountants, admins; 404 for others).
pub async fn get_invoice(store: &impl BillingStore, req: Request) -> HttpResult {
    let claims = http::claims(&req)?;
    let text = http::path_param(&req, "invoice_id")?;
    let id =
        Uuid::parse_str(&text).map_err(|_| Problem::not_found(format!("no invoice {text}")))?;
    let invoice = app::invoice(store, &claims, id).await?;
    http::json(StatusCode::OK, &InvoiceView::from(invoice))
}

/// `GET /billing/invoices?week&status` (accountants, admins).
pub async fn list_invoices(store: &impl BillingStore, req: Request) -> HttpResult {
    let claims = http::claims(&req)?;
    let week = match http::query_param(&req, "week") {
        None => None,
        Some(w) => {
            Some(Week::parse(&w).ok_or_else(|| Problem::invalid("week is such as 2026-W49"))?)
        }
    };
    let status =
        match http::query_param(&req, "status") {
            None => None,
            Some(s) => Some(InvoiceStatus::parse(&s).ok_or_else(|| {
                Problem::invalid("status is open, paid, retrying or uncollectible")
            })?),
        };
    let cursor = http::query_param(&req, "cursor");
    let listed = app::invoices(
        store,
        &claims,
        week,
        status,
        http::limit(&req)?,
        cursor.as_deref(),
    )
    .await?;
    page::<InvoiceView>("invoices", views(listed.items), listed.next_cursor)
}

/// `GET /billing/me` (workers): this business month so far.
pub async fn my_month(store: &impl BillingStore, calendar: &Calendar, req: Request) -> HttpResult {
    let claims = http::claims(&req)?;
    let month = app::my_month(store, calendar, &claims, Utc::now()).await?;
    http::json(StatusCode::OK, &month)
}

/// `GET /billing/me/statements` (workers), newest first.
pub async fn my_statements(store: &impl BillingStore, req: Request) -> HttpResult {
    let claims = http::claims(&req)?;
    let cursor = http::query_param(&req, "cursor");
    let listed = app::my_statements(store, &claims, http::limit(&req)?, cursor.as_deref()).await?;
    page::<StatementView>("statements", views(listed.items), listed.next_cursor)
}

/// `GET /billing/statements?month` (accountants, admins).
pub async fn list_statements(store: &impl BillingStore, req: Request) -> HttpResult {
    let claims = http::claims(&req)?;
    let month = http::query_param(&req, "month")
        .and_then(|m| Month::parse(&m))
        .ok_or_else(|| Problem::invalid("month is required, such as 2026-12"))?;
    let cursor = http::query_param(&req, "cursor");
    let listed =
        app::statements(store, &claims, month, http::limit(&req)?, cursor.as_deref()).await?;
    page::<StatementView>("statements", views(listed.items), listed.next_cursor)
}

/// `GET /billing/revenue?from&to` (accountants, admins): per week; `from` and `to` are
/// business days.
pub async fn revenue(store: &impl BillingStore, req: Request) -> HttpResult {
    let claims = http::claims(&req)?;
    let day = |name: &str| -> Result<NaiveDate, Problem> {
        http::query_param(&req, name)
            .and_then(|d| d.parse().ok())
            .ok_or_else(|| Problem::invalid(format!("{name} is required, such as 2026-12-01")))
    };
    let weeks = app::revenue(store, &claims, day("from")?, day("to")?).await?;
    http::json(StatusCode::OK, &serde_json::json!({ "weeks": weeks }))
}
