//! The HTTP edge of analytics: one function per route (SPEC "Analytics API"), admins only: the
//! gateway checks the scope, and each use case the account's role (`Capability<Admins>`); a
//! handler only reads the request, the token's claims among it.

use ates_kernel::calendar::Calendar;
use ates_kernel::http::{self, HttpResult, Problem};
use chrono::{NaiveDate, Utc};
use lambda_http::http::StatusCode;
use lambda_http::Request;
use uuid::Uuid;

use crate::app::{self, AnalyticsStore, Asked, Replayer};
use crate::projection::Period;

fn date(req: &Request, name: &str) -> Result<Option<NaiveDate>, Problem> {
    http::query_param(req, name)
        .map(|value| {
            ates_kernel::calendar::parse_date(&value)
                .ok_or_else(|| Problem::invalid(format!("`{name}` must be a date like 2026-11-20")))
        })
        .transpose()
}

fn range(req: &Request) -> Result<(NaiveDate, NaiveDate), Problem> {
    match (date(req, "from")?, date(req, "to")?) {
        (Some(from), Some(to)) => Ok((from, to)),
        _ => Err(Problem::invalid("`from` and `to` are required")),
    }
}

/// `GET /analytics/summary`.
pub async fn summary(store: &impl AnalyticsStore, calendar: &Calendar, req: Request) -> HttpResult {
    let caller = http::claims(&req)?;
    let summary = app::summary(store, &caller, calendar, Utc::now()).await?;
    http::json(StatusCode::OK, &summary)
}

/// `GET /analytics/earnings?from&to` (without a range: today).
pub async fn earnings(
    store: &impl AnalyticsStore,
    calendar: &Calendar,
    req: Request,
) -> HttpResult {
    let caller = http::claims(&req)?;
    let range = match (
        http::query_param(&req, "from"),
        http::query_param(&req, "to"),
    ) {
        (None, None) => None,
        _ => Some(range(&req)?),
    };
    let answer = app::earnings(store, &caller, calendar, range, Utc::now()).await?;
    http::json(StatusCode::OK, &answer)
}

/// `GET /analytics/most-expensive-task?from&to` or `?period=day|week|month&date=`: one or the
/// other, never a mix (every parameter given is read and checked).
pub async fn most_expensive_task(store: &impl AnalyticsStore, req: Request) -> HttpResult {
    let caller = http::claims(&req)?;
    let period = http::query_param(&req, "period")
        .map(|p| {
            Period::parse(&p).ok_or_else(|| Problem::invalid("`period` is day, week or month"))
        })
        .transpose()?;
    let asked = match (
        period,
        date(&req, "date")?,
        date(&req, "from")?,
        date(&req, "to")?,
    ) {
        (Some(period), Some(date), None, None) => Asked::Period(period, date),
        (None, None, Some(from), Some(to)) => Asked::Range(from, to),
        (Some(_), None, None, None) => return Err(Problem::invalid("`date` is required")),
        (None, None, _, _) => return Err(Problem::invalid("`from` and `to` are required")),
        _ => {
            return Err(Problem::invalid(
                "either `period` and `date`, or `from` and `to`, not both",
            ))
        }
    };
    let most = app::most_expensive_task(store, &caller, asked).await?;
    http::json(StatusCode::OK, &most)
}

/// `POST /analytics/rebuilds`: 202 with the rebuild and where to follow it; 409 while one runs.
pub async fn start_rebuild(
    store: &impl AnalyticsStore,
    bus: &impl Replayer,
    req: Request,
) -> HttpResult {
    let caller = http::claims(&req)?;
    let rebuild = app::start_rebuild(store, bus, &caller, Utc::now()).await?;
    let mut response = http::json(StatusCode::ACCEPTED, &rebuild)?;
    if let Ok(location) = format!("/analytics/rebuilds/{}", rebuild.rebuild_id).parse() {
        response.headers_mut().insert("location", location);
    }
    Ok(response)
}

/// `GET /analytics/rebuilds/{rebuild_id}`: status and progress.
pub async fn rebuild_progress(
    store: &impl AnalyticsStore,
    bus: &impl Replayer,
    req: Request,
) -> HttpResult {
    let caller = http::claims(&req)?;
    let id = http::path_param(&req, "rebuild_id")?;
    let id = Uuid::parse_str(&id).map_err(|_| Problem::not_found(format!("no rebuild {id}")))?;
    let progress = app::rebuild_progress(store, bus, &caller, id).await?;
    http::json(StatusCode::OK, &progress)
}
