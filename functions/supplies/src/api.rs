//! The HTTP edge of supplies: one function per route. Each reads its request into a use case's
//! input, calls the use case (`app`), and maps its answer to a response; errors map to
//! problems once, in `error.rs`. Two kinds of caller:
//! - supply staff (managers, admins), by the token's claims, which the use case resolves to the
//!   caller and its rights (`Capability<SupplyStaff>`) before it reads anything else;
//! - the supplier (no token), by the signature of its delivery's body (`signature`).

use ates_kernel::calendar::Calendar;
use ates_kernel::http::{self, cause, HttpResult, Problem};
use chrono::Utc;
use lambda_http::http::StatusCode;
use lambda_http::Request;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use ates_kernel::identity::AccountCopies;

use crate::app::{self, Delivery};
use crate::kit::Status;
use crate::ports::{Audit, KitChanges, Kits};
use crate::signature;

/// A path id; one that is not an id names nothing (404).
fn id(req: &Request, name: &str) -> Result<Uuid, Problem> {
    let id = http::path_param(req, name)?;
    Uuid::parse_str(&id).map_err(|_| Problem::not_found(format!("no kit {id}")))
}

/// A page of a listing, its items under the listing's own name.
fn page<T: Serialize>(name: &str, items: Vec<T>, next_cursor: Option<String>) -> HttpResult {
    http::json(
        StatusCode::OK,
        &serde_json::json!({ name: items, "next_cursor": next_cursor }),
    )
}

/// `GET /supplies/kits?status=&limit=&cursor=` (managers, admins): one status's kits, newest
/// first; `received` (what to hand out) when no status is given.
pub async fn list_kits(store: &(impl Kits + AccountCopies), req: Request) -> HttpResult {
    let claims = http::claims(&req)?;
    let status = match http::query_param(&req, "status") {
        None => Status::Received,
        Some(s) => Status::parse(&s).ok_or_else(|| {
            Problem::invalid(format!(
                "status {s:?} is not one of requested, ordered, received, issued, cancelled, unsupplied"
            ))
        })?,
    };
    let cursor = http::query_param(&req, "cursor");
    let limit = http::limit(&req)?;
    let listed = app::kits(store, &claims, status, limit, cursor.as_deref()).await?;
    page("kits", listed.items, listed.next_cursor)
}

/// The body of an issue: empty, or naming the executor the manager hands the kit to (it must
/// be the order's).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Issue {
    executor_id: Option<Uuid>,
}

/// `POST /supplies/kits/{kit_id}/issue` (managers, admins): `{}` or `{executor_id}` → 200 the
/// kit as issued.
pub async fn issue_kit(
    store: &(impl Kits + KitChanges + AccountCopies),
    req: Request,
) -> HttpResult {
    let claims = http::claims(&req)?;
    let kit_id = id(&req, "kit_id")?;
    let blank = req.body().as_ref().iter().all(u8::is_ascii_whitespace);
    let issue: Issue = if blank {
        Issue::default()
    } else {
        http::body(&req)?
    };
    let kit = app::issue_kit(
        store,
        &claims,
        kit_id,
        issue.executor_id,
        &cause(&req),
        Utc::now(),
    )
    .await?;
    http::json(StatusCode::OK, &kit)
}

/// `GET /supplies/audit?from=&to=&limit=&cursor=` (managers, admins): what was handed out (and
/// returned) on the business days `from` through `to` (either end may be left open), newest
/// first.
pub async fn audit(
    store: &(impl Audit + AccountCopies),
    calendar: &Calendar,
    req: Request,
) -> HttpResult {
    let claims = http::claims(&req)?;
    let days = http::business_days(&req, calendar)?.unwrap_or_else(http::every_day);
    let (from, until) = (days.start, days.end);
    let cursor = http::query_param(&req, "cursor");
    let limit = http::limit(&req)?;
    let listed = app::audit(store, &claims, from, until, limit, cursor.as_deref()).await?;
    page("entries", listed.items, listed.next_cursor)
}

/// `POST /supplies/supplier/deliveries` (the supplier; no token, the body signed):
/// `{kit_id, attempt}` → 200 `{kit_id, attempt, accepted, status}`. A delivery that does not
/// count (an older attempt, a repeat) is answered with `accepted: false`, so the supplier stops
/// calling.
pub async fn receive_delivery(
    store: &(impl Kits + KitChanges),
    secret: &[u8],
    req: Request,
) -> HttpResult {
    let header = req
        .headers()
        .get(signature::HEADER)
        .and_then(|h| h.to_str().ok());
    signature::verify(secret, req.body().as_ref(), header)?;
    let delivery: Delivery = http::body(&req)?;
    let taken = app::receive_delivery(store, &delivery, &cause(&req), Utc::now()).await?;
    http::json(StatusCode::OK, &taken)
}
