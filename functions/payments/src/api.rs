//! The HTTP edge of payments: one function per route. Each reads its request into a use case's
//! input, calls the use case (`app`), and maps its answer to a response; errors map to
//! problems once, in `error.rs`. The use case resolves the token's claims to the caller and its
//! rights before it reads anything else.

use ates_kernel::http::{self, HttpResult, Problem};
use ates_kernel::identity::AccountCopies;
use chrono::Utc;
use lambda_http::http::StatusCode;
use lambda_http::Request;
use serde::Deserialize;
use uuid::Uuid;

use crate::app;
use crate::ports::{Acquirer, Cards, Collections};

/// `GET /payments/me` (any signed-in account): `{card: {last4, brand} | null, payout_details:
/// null}`.
pub async fn me(store: &(impl Cards + AccountCopies), req: Request) -> HttpResult {
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
