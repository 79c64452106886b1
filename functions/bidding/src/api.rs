//! The HTTP edge of bidding: one function per route. Each reads its request into a use case's
//! input and maps the answer to a response; the use case decides who may ask (managers).
//! Errors map to problems once, in `error.rs`.

use ates_kernel::calendar::parse_date;
use ates_kernel::event::Cause;
use ates_kernel::http::{self, correlation_id, HttpResult, Problem};
use ates_kernel::usecase::Answer;
use chrono::{NaiveDate, Utc};
use lambda_http::http::StatusCode;
use lambda_http::Request;
use uuid::Uuid;

use crate::app::{self, BiddingStore};
use crate::bet::NewBet;

/// `POST /bets` (managers; `Idempotency-Key`) → 201 the bet.
pub async fn place_bet(store: &impl BiddingStore, req: Request) -> HttpResult {
    let claims = http::claims(&req)?;
    let new: NewBet = http::body(&req)?;
    let request = app::Request {
        cause: Cause::request(correlation_id(&req)),
        idempotency: http::idempotency_key(&req, &claims.account_id.to_string())?,
        now: Utc::now(),
    };
    match app::place_bet(store, &claims, &new, &request).await? {
        Answer::Fresh(bet) => http::json(StatusCode::CREATED, &bet),
        Answer::Replayed(replay) => http::replayed(StatusCode::CREATED, replay),
    }
}

/// `GET /bets/mine` (managers): the caller's bets, newest first.
pub async fn my_bets(store: &impl BiddingStore, req: Request) -> HttpResult {
    let claims = http::claims(&req)?;
    let bets = app::my_bets(store, &claims).await?;
    http::json(StatusCode::OK, &serde_json::json!({ "bets": bets }))
}

/// `GET /bets/orders/{order_id}` (managers): the order's book.
pub async fn order_book(store: &impl BiddingStore, req: Request) -> HttpResult {
    let claims = http::claims(&req)?;
    let given = http::path_param(&req, "order_id")?;
    let order_id = Uuid::parse_str(&given)
        .map_err(|_| Problem::not_found(format!("{given:?} is no order's id")))?;
    let book = app::order_book(store, &claims, order_id).await?;
    http::json(StatusCode::OK, &book)
}

/// `GET /bets/standings?from&to` (managers): `from` and `to` are business days (the books
/// settled on them).
pub async fn standings(store: &impl BiddingStore, req: Request) -> HttpResult {
    let claims = http::claims(&req)?;
    let day = |name: &str| -> Result<NaiveDate, Problem> {
        http::query_param(&req, name)
            .and_then(|d| parse_date(&d))
            .ok_or_else(|| Problem::invalid(format!("{name} is required, such as 2026-12-01")))
    };
    let standings = app::standings(store, &claims, day("from")?, day("to")?).await?;
    http::json(StatusCode::OK, &standings)
}
