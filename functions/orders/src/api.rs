//! The HTTP edge of orders: one function per route. Each reads its request into a use case's
//! input, calls the use case (`app`), and maps its answer to a response; errors map to
//! problems once, in `error.rs`. The use case resolves the caller from the token's claims.

use ates_kernel::calendar::Calendar;
use ates_kernel::event::Cause;
use ates_kernel::http::{self, correlation_id, HttpResult, Problem};
use ates_kernel::identity::Claims;
use chrono::Utc;
use lambda_http::http::StatusCode;
use lambda_http::Request;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::app::{self, Answer};
use crate::order::{HistoryEntry, Listing, NewOrder, Order, SlotNotice};
use crate::ports::OrderStore;
use crate::service_type::ServiceTypeFields;

fn request(req: &Request, claims: &Claims) -> Result<app::Request, Problem> {
    Ok(app::Request {
        cause: Cause::request(correlation_id(req)),
        idempotency: http::idempotency_key(req, &claims.account_id.to_string())?,
        now: Utc::now(),
    })
}

/// A path id; one that is not an id names nothing (404).
fn id(req: &Request, name: &str) -> Result<Uuid, Problem> {
    let id = http::path_param(req, name)?;
    Uuid::parse_str(&id).map_err(|_| Problem::not_found(format!("no {name} {id}")))
}

/// A page of a listing, its items under the listing's own name.
fn page<T: Serialize>(name: &str, items: Vec<T>, next_cursor: Option<String>) -> HttpResult {
    http::json(
        StatusCode::OK,
        &serde_json::json!({ name: items, "next_cursor": next_cursor }),
    )
}

fn order(status: StatusCode, order: &Order) -> HttpResult {
    http::json(status, &order.view())
}

// ------------------------------------------------------------------------- service types

/// `POST /orders/service-types` (managers, admins) → 201 the type.
pub async fn add_service_type(store: &impl OrderStore, req: Request) -> HttpResult {
    let claims = http::claims(&req)?;
    let fields: ServiceTypeFields = http::body(&req)?;
    let request = request(&req, &claims)?;
    match app::add_service_type(store, &claims, &fields, &request).await? {
        Answer::Fresh(added) => http::json(StatusCode::CREATED, &added),
        Answer::Replayed(replay) => http::replayed(StatusCode::CREATED, replay),
    }
}

/// `PATCH /orders/service-types/{service_type_id}` (managers, admins): the fields sent change.
pub async fn change_service_type(store: &impl OrderStore, req: Request) -> HttpResult {
    let claims = http::claims(&req)?;
    let fields: ServiceTypeFields = http::body(&req)?;
    let id = id(&req, "service_type_id")?;
    let changed =
        app::change_service_type(store, &claims, id, &fields, &request(&req, &claims)?).await?;
    http::json(StatusCode::OK, &changed)
}

/// `POST /orders/service-types/{service_type_id}/retire` (managers, admins).
pub async fn retire_service_type(store: &impl OrderStore, req: Request) -> HttpResult {
    let claims = http::claims(&req)?;
    let id = id(&req, "service_type_id")?;
    let retired = app::retire_service_type(store, &claims, id, &request(&req, &claims)?).await?;
    http::json(StatusCode::OK, &retired)
}

/// `GET /orders/service-types?retired=&limit=&cursor=`: the active types (clients, managers,
/// admins), or the retired ones (`retired=true`: managers, admins), newest first; with the slots
/// that may be booked (`slots`: the notice and the horizon), so the order form need not guess.
pub async fn list_service_types(
    store: &impl OrderStore,
    notice: SlotNotice,
    req: Request,
) -> HttpResult {
    let claims = http::claims(&req)?;
    let retired = match http::query_param(&req, "retired").as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(Problem::invalid("retired must be true or false")),
    };
    let cursor = http::query_param(&req, "cursor");
    let limit = http::limit(&req)?;
    let listed = app::service_types(store, &claims, retired, limit, cursor.as_deref()).await?;
    http::json(
        StatusCode::OK,
        &serde_json::json!({
            "service_types": listed.items,
            "next_cursor": listed.next_cursor,
            "slots": notice.window(),
        }),
    )
}

// -------------------------------------------------------------------------------- orders

/// `POST /orders` (clients; `Idempotency-Key`) → 201 the order in `new`.
pub async fn create_order(store: &impl OrderStore, notice: SlotNotice, req: Request) -> HttpResult {
    let claims = http::claims(&req)?;
    let new: NewOrder = http::body(&req)?;
    match app::create_order(store, &claims, &new, notice, &request(&req, &claims)?).await? {
        Answer::Fresh(created) => order(StatusCode::CREATED, &created),
        Answer::Replayed(replay) => http::replayed(StatusCode::CREATED, replay),
    }
}

/// `GET /orders/{order_id}` (its client, its executor, managers, admins; 404 for others).
pub async fn get_order(store: &impl OrderStore, req: Request) -> HttpResult {
    let claims = http::claims(&req)?;
    let found = app::order(store, &claims, id(&req, "order_id")?).await?;
    order(StatusCode::OK, &found)
}

#[derive(Serialize)]
struct History {
    order_id: Uuid,
    transitions: Vec<HistoryEntry>,
}

/// `GET /orders/{order_id}/history`: every transition, in order.
pub async fn order_history(store: &impl OrderStore, req: Request) -> HttpResult {
    let claims = http::claims(&req)?;
    let order_id = id(&req, "order_id")?;
    let transitions = app::history(store, &claims, order_id).await?;
    http::json(
        StatusCode::OK,
        &History {
            order_id,
            transitions,
        },
    )
}

/// `GET /orders/mine?limit=&cursor=` (clients: theirs; workers: those they execute).
pub async fn my_orders(store: &impl OrderStore, req: Request) -> HttpResult {
    let claims = http::claims(&req)?;
    let cursor = http::query_param(&req, "cursor");
    let limit = http::limit(&req)?;
    let listed = app::my_orders(store, &claims, limit, cursor.as_deref()).await?;
    let views = listed.items.iter().map(Order::view).collect();
    page("orders", views, listed.next_cursor)
}

/// `GET /orders?place=&from=&to=&limit=&cursor=` (managers, admins): every order, at one
/// stage if given, created on the business days `from` through `to` if given, newest first.
pub async fn list_orders(store: &impl OrderStore, calendar: &Calendar, req: Request) -> HttpResult {
    let claims = http::claims(&req)?;
    let days = http::business_days(&req, calendar)?;
    let place = http::query_param(&req, "place");
    let listing = Listing::new(
        place.as_deref(),
        days.as_ref().map(|d| d.start),
        days.as_ref().map(|d| d.end),
    )?;
    let cursor = http::query_param(&req, "cursor");
    let limit = http::limit(&req)?;
    let listed = app::orders(store, &claims, &listing, limit, cursor.as_deref()).await?;
    let views = listed.items.iter().map(Order::view).collect();
    page("orders", views, listed.next_cursor)
}

/// `POST /orders/{order_id}/cancel` (the owning client).
pub async fn cancel(store: &impl OrderStore, req: Request) -> HttpResult {
    let claims = http::claims(&req)?;
    let id = id(&req, "order_id")?;
    let cancelled = app::cancel(store, &claims, id, &request(&req, &claims)?).await?;
    order(StatusCode::OK, &cancelled)
}

/// `POST /orders/{order_id}/approve` (the owning client).
pub async fn approve(store: &impl OrderStore, req: Request) -> HttpResult {
    let claims = http::claims(&req)?;
    let id = id(&req, "order_id")?;
    let approved = app::approve(store, &claims, id, &request(&req, &claims)?).await?;
    order(StatusCode::OK, &approved)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Decline {
    reason: String,
}

/// `POST /orders/{order_id}/decline` `{reason}` (the owning client).
pub async fn decline(store: &impl OrderStore, req: Request) -> HttpResult {
    let claims = http::claims(&req)?;
    let id = id(&req, "order_id")?;
    let body: Decline = http::body(&req)?;
    let request = request(&req, &claims)?;
    let declined = app::decline(store, &claims, id, &body.reason, &request).await?;
    order(StatusCode::OK, &declined)
}
