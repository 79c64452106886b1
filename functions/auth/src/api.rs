//! The HTTP edge of auth, one function per route: reads the request (body, path, the token's
//! claims), calls its use case in [`app`](crate::app), which resolves the caller from the
//! account, and answers; errors map once, in `error.rs`.

use ates_kernel::http::{self, HttpResult, Problem};
use chrono::Utc;
use lambda_http::http::StatusCode;
use lambda_http::Request;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::account::{Account, AccountChange, NewAccount};
use crate::app;
use crate::challenge;
use crate::issuer;
use crate::ports::{AuthStore, Mailer};
use crate::signing_key::{PublicKeys, SigningKeys};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordSignIn {
    email: String,
    password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RefreshRequest {
    refresh_token: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeRequest {
    email: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeSignIn {
    email: String,
    code: String,
}

/// `POST /auth/sign-in`
pub async fn sign_in(store: &impl AuthStore, keys: &SigningKeys, req: Request) -> HttpResult {
    let PasswordSignIn { email, password } = http::body(&req)?;
    let pair = app::sign_in(store, &*keys.get().await, &email, &password, Utc::now()).await?;
    http::json(StatusCode::OK, &pair)
}

/// `POST /auth/refresh`
pub async fn refresh(store: &impl AuthStore, keys: &SigningKeys, req: Request) -> HttpResult {
    let RefreshRequest { refresh_token } = http::body(&req)?;
    let pair = app::refresh(store, &*keys.get().await, &refresh_token, Utc::now()).await?;
    http::json(StatusCode::OK, &pair)
}

/// `POST /auth/sign-out`
pub async fn sign_out(store: &impl AuthStore, req: Request) -> HttpResult {
    let RefreshRequest { refresh_token } = http::body(&req)?;
    app::sign_out(store, &refresh_token).await?;
    http::no_content()
}

/// `POST /auth/sign-in/code/request`: 202 whether or not the address has an account, in the
/// same time ([`app::CODE_REQUEST_TIME`]).
pub async fn request_code(
    store: &impl AuthStore,
    mailer: &impl Mailer,
    req: Request,
) -> HttpResult {
    let CodeRequest { email } = http::body(&req)?;
    app::request_code_paced(store, mailer, &email, Utc::now(), app::CODE_REQUEST_TIME).await?;
    http::json(
        StatusCode::ACCEPTED,
        &serde_json::json!({
            "detail": "if this address belongs to an active account, a code is on its way",
            "expires_in": challenge::CODE_LIFETIME_SECONDS
        }),
    )
}

/// `POST /auth/sign-in/code`
pub async fn sign_in_with_code(
    store: &impl AuthStore,
    keys: &SigningKeys,
    req: Request,
) -> HttpResult {
    let CodeSignIn { email, code } = http::body(&req)?;
    let issuer = keys.get().await;
    let pair = app::sign_in_with_code(store, &issuer, &email, &code, Utc::now()).await?;
    http::json(StatusCode::OK, &pair)
}

/// `GET /auth/me`
pub async fn me(store: &impl AuthStore, req: Request) -> HttpResult {
    let me = http::claims(&req)?;
    let account = app::me(store, &me).await?;
    http::json(StatusCode::OK, &account)
}

#[derive(Serialize)]
struct AccountList {
    accounts: Vec<Account>,
    next_cursor: Option<String>,
}

/// `GET /accounts?limit=&cursor=` (admins)
pub async fn list_accounts(store: &impl AuthStore, req: Request) -> HttpResult {
    let caller = http::claims(&req)?;
    let limit = match http::query_param(&req, "limit") {
        None => None,
        Some(l) => Some(
            l.parse::<i32>()
                .map_err(|_| Problem::invalid(format!("limit must be 1 to {}", app::MAX_PAGE)))?,
        ),
    };
    let cursor = http::query_param(&req, "cursor");
    let page = app::list_accounts(store, &caller, limit, cursor.as_deref()).await?;
    http::json(
        StatusCode::OK,
        &AccountList {
            accounts: page.accounts,
            next_cursor: page.next,
        },
    )
}

/// `POST /accounts` (admins): 201 with the account and its location.
pub async fn create_account(store: &impl AuthStore, req: Request) -> HttpResult {
    let caller = http::claims(&req)?;
    let new: NewAccount = http::body(&req)?;
    let cause = http::cause(&req);
    let account = app::create_account(store, &caller, &new, &cause, Utc::now()).await?;
    let mut response = http::json(StatusCode::CREATED, &account)?;
    if let Ok(location) = format!("/accounts/{}", account.account_id).parse() {
        response.headers_mut().insert("location", location);
    }
    Ok(response)
}

/// `PATCH /accounts/{account_id}` (admins): name and/or role.
pub async fn update_account(store: &impl AuthStore, req: Request) -> HttpResult {
    let caller = http::claims(&req)?;
    let id = target_account(&req)?;
    let change: AccountChange = http::body(&req)?;
    let cause = http::cause(&req);
    let account = app::update_account(store, &caller, id, &change, &cause, Utc::now()).await?;
    http::json(StatusCode::OK, &account)
}

/// `POST /accounts/{account_id}/deactivate` (admins)
pub async fn deactivate_account(store: &impl AuthStore, req: Request) -> HttpResult {
    let caller = http::claims(&req)?;
    let id = target_account(&req)?;
    let cause = http::cause(&req);
    let account = app::deactivate_account(store, &caller, id, &cause, Utc::now()).await?;
    http::json(StatusCode::OK, &account)
}

/// `GET /.well-known/openid-configuration` and `GET /.well-known/jwks.json` of the issuer at
/// `issuer_url`: the JWKS is every published key (the one signing now, the one before it, and
/// the next one ahead of its use), public halves only.
pub async fn well_known(issuer_url: &str, keys: &PublicKeys, req: Request) -> HttpResult {
    let document = if req.uri().path().ends_with("/jwks.json") {
        (*keys.get().await).clone()
    } else {
        issuer::discovery(issuer_url)
    };
    let mut response = http::json(StatusCode::OK, &document)?;
    response.headers_mut().insert(
        "cache-control",
        lambda_http::http::HeaderValue::from_static("public, max-age=300"),
    );
    Ok(response)
}

/// The account a route's path names; one that cannot exist is not found.
fn target_account(req: &Request) -> Result<Uuid, Problem> {
    let id = http::path_param(req, "account_id")?;
    Uuid::parse_str(&id).map_err(|_| Problem::not_found(format!("no account {id}")))
}
