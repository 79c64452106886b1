//! The HTTP edge of payments: one function per route. Each reads its request into a use case's
//! input, calls the use case (`app`), and maps its answer to a response; errors map to
//! problems once, in `error.rs`. The use case resolves the token's claims to the caller and its
//! rights before it reads anything else.

use ates_kernel::event::Cause;
use ates_kernel::http::{self, correlation_id, HttpResult, Problem};
use ates_kernel::identity::AccountCopies;
use chrono::Utc;
use lambda_http::http::StatusCode;
use lambda_http::Request;
use serde::Deserialize;
use uuid::Uuid;

use crate::app;
use crate::ports::{Acquirer, Bank, Cards, Collections, PayoutDetailsBook, Payouts};

/// `GET /payments/me` (any signed-in account): `{card: {last4, brand} | null, payout_details:
/// {iban, updated_at, held_transfers, held_cents}, payouts: [...]}`.
pub async fn me(
    store: &(impl Cards + PayoutDetailsBook + Payouts + AccountCopies),
    req: Request,
) -> HttpResult {
    let claims = http::claims(&req)?;
    let mine = app::my_payments(store, &claims).await?;
    http::json(StatusCode::OK, &mine)
}

/// The body of `PUT /payments/me/card`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewCard {
    card_token: String,
}

/// `PUT /payments/me/card` (clients): `{card_token}` → 200 `{last4, brand}`; a token the
/// acquirer refuses is 422, naming it.
pub async fn keep_card(
    store: &(impl Cards + AccountCopies),
    acquirer: &impl Acquirer,
    req: Request,
) -> HttpResult {
    let claims = http::claims(&req)?;
    let card: NewCard = http::body(&req)?;
    let kept = app::keep_card(store, acquirer, &claims, &card.card_token, Utc::now()).await?;
    http::json(StatusCode::OK, &kept)
}

/// `DELETE /payments/me/card` (clients): 204, whether there was a card or not.
pub async fn forget_card(store: &(impl Cards + AccountCopies), req: Request) -> HttpResult {
    let claims = http::claims(&req)?;
    app::forget_card(store, &claims).await?;
    http::no_content()
}

/// `GET /payments/collections?invoice_id=` (accountants, admins): `{collections: [...]}`, the
/// invoice's attempts in order.
pub async fn collections(store: &(impl Collections + AccountCopies), req: Request) -> HttpResult {
    let claims = http::claims(&req)?;
    let invoice_id = http::query_param(&req, "invoice_id")
        .ok_or_else(|| Problem::invalid("invoice_id is required"))?;
    let invoice_id = Uuid::parse_str(&invoice_id)
        .map_err(|_| Problem::invalid(format!("invoice_id {invoice_id:?} is not a UUID")))?;
    let found = app::collections_of(store, &claims, invoice_id).await?;
    http::json(StatusCode::OK, &serde_json::json!({ "collections": found }))
}

/// `GET /accounting/me/payout-details` (any signed-in account; the route accounting had, with
/// its contract): the caller's IBAN, masked, and what waits for it.
pub async fn payout_details(
    store: &(impl PayoutDetailsBook + Payouts + AccountCopies),
    req: Request,
) -> HttpResult {
    let claims = http::claims(&req)?;
    let details = app::payout_details(store, &claims).await?;
    http::json(StatusCode::OK, &details)
}

/// The body of `PUT /accounting/me/payout-details`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewPayoutDetails {
    iban: String,
}

/// `PUT /accounting/me/payout-details` `{iban}`: checked by its checksum (422 if it fails);
/// held payouts go now.
pub async fn register_payout_details(
    store: &(impl PayoutDetailsBook + Payouts + AccountCopies),
    bank: &impl Bank,
    req: Request,
) -> HttpResult {
    let claims = http::claims(&req)?;
    let new: NewPayoutDetails = http::body(&req)?;
    let cause = Cause::request(correlation_id(&req));
    let view =
        app::register_payout_details(store, bank, &claims, &new.iban, &cause, Utc::now()).await?;
    http::json(StatusCode::OK, &view)
}
