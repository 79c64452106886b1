//! One function per route of the auth API. Each reads its request, runs the domain, and lets
//! the store commit state and events together. Errors map to problems in `error.rs`.

use ates_kernel::event::{Cause, Envelope};
use ates_kernel::http::{self, correlation_id, Caller, HttpResult, Problem};
use ates_kernel::identity::Role;
use ates_kernel::mail::Mailer;
use chrono::Utc;
use lambda_http::http::StatusCode;
use lambda_http::Request;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::account::{
    normalize_email, Account, AccountChange, AccountCreated, AccountDeactivated, AccountUpdated,
    NewAccount,
};
use crate::challenge::{self, Guess};
use crate::error::AuthError;
use crate::issuer::{Issuer, RefreshToken, TokenPair};
use crate::password;
use crate::store::Store;
use crate::PRODUCER;

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
pub async fn sign_in(store: &Store, issuer: &Issuer, req: Request) -> HttpResult {
    let PasswordSignIn { email, password } = http::body(&req)?;
    let email = normalize_email(&email)?;
    let stored = store.account_by_email(&email).await?;
    let Some((account, Some(hash))) = stored.map(|s| (s.account, s.password_hash)) else {
        password::verify_nothing(&password);
        return Err(AuthError::WrongCredentials.into());
    };
    if !password::verify(&password, &hash) {
        return Err(AuthError::WrongCredentials.into());
    }
    if !account.active {
        return Err(AuthError::Deactivated.into());
    }
    let now = Utc::now().timestamp();
    let refresh = RefreshToken::start_session(account.account_id);
    store.start_session(&refresh, now).await?;
    tracing::info!(account_id = %account.account_id, "signed in with a password");
    token_pair(issuer, &account, &refresh, now)
}

/// `POST /auth/refresh`: the presented token is used up and a new pair answered.
pub async fn refresh(store: &Store, issuer: &Issuer, req: Request) -> HttpResult {
    let RefreshRequest { refresh_token } = http::body(&req)?;
    let old = RefreshToken::parse(&refresh_token).ok_or(AuthError::BadRefreshToken)?;
    let account = store
        .account(old.account_id)
        .await?
        .ok_or(AuthError::BadRefreshToken)?
        .account;
    if !account.active {
        return Err(AuthError::Deactivated.into());
    }
    let now = Utc::now().timestamp();
    let new = old.next();
    store.rotate_refresh_token(&old, &new, now).await?;
    token_pair(issuer, &account, &new, now)
}

/// `POST /auth/sign-out`: revokes the refresh token and ends its session; repeating it is
/// harmless.
pub async fn sign_out(store: &Store, req: Request) -> HttpResult {
    let RefreshRequest { refresh_token } = http::body(&req)?;
    if let Some(token) = RefreshToken::parse(&refresh_token) {
        store.sign_out(&token).await?;
    }
    http::no_content()
}

/// `POST /auth/sign-in/code/request`: mails a one-time code. The answer is the same whether or
/// not the address belongs to an account, so it cannot be used to find out who works here.
pub async fn request_code(store: &Store, mailer: &Mailer, req: Request) -> HttpResult {
    let CodeRequest { email } = http::body(&req)?;
    let email = normalize_email(&email)?;
    let now = Utc::now().timestamp();
    let previous = store.challenge(&email).await?;
    let (challenge, code) =
        challenge::issue(&email, previous.as_ref(), now, &mut rand::thread_rng())?;
    if !store.save_challenge(&email, &challenge).await? {
        return Err(
            AuthError::TooMany("another code was requested at the same moment".into()).into(),
        );
    }
    if let Some(stored) = store
        .account_by_email(&email)
        .await?
        .filter(|s| s.account.active)
    {
        let minutes = challenge::CODE_LIFETIME_SECONDS / 60;
        let text = format!(
            "Hello {},\n\nyour aTES sign-in code is {code}. It works once, for {minutes} minutes.\n\nIf you did not ask for it, ignore this mail.\n",
            stored.account.full_name
        );
        mailer
            .send(&email, "Your aTES sign-in code", &text)
            .await
            .map_err(Problem::internal)?;
        tracing::info!(account_id = %stored.account.account_id, "sign-in code mailed");
    }
    http::json(
        StatusCode::ACCEPTED,
        &serde_json::json!({
            "detail": "if this address belongs to an active account, a code is on its way",
            "expires_in": challenge::CODE_LIFETIME_SECONDS
        }),
    )
}

/// `POST /auth/sign-in/code`
pub async fn sign_in_with_code(store: &Store, issuer: &Issuer, req: Request) -> HttpResult {
    let CodeSignIn { email, code } = http::body(&req)?;
    let email = normalize_email(&email)?;
    let now = Utc::now().timestamp();
    let challenge = store.challenge(&email).await?.ok_or(AuthError::BadCode)?;
    match challenge::guess(&challenge, &email, &code, now) {
        Guess::Right => {
            if !store.spend_challenge(&email, &challenge).await? {
                return Err(AuthError::BadCode.into());
            }
        }
        Guess::Wrong(counted) => {
            store.save_challenge(&email, &counted).await?;
            return Err(AuthError::BadCode.into());
        }
        Guess::Spent => return Err(AuthError::BadCode.into()),
    }
    let account = store
        .account_by_email(&email)
        .await?
        .ok_or(AuthError::BadCode)?
        .account;
    if !account.active {
        return Err(AuthError::Deactivated.into());
    }
    let refresh = RefreshToken::start_session(account.account_id);
    store.start_session(&refresh, now).await?;
    tracing::info!(account_id = %account.account_id, "signed in with a one-time code");
    token_pair(issuer, &account, &refresh, now)
}

fn token_pair(issuer: &Issuer, account: &Account, refresh: &RefreshToken, now: i64) -> HttpResult {
    let access = issuer.access_token(account, now)?;
    http::json(StatusCode::OK, &TokenPair::new(access, refresh, account))
}

/// `GET /auth/me`
pub async fn me(store: &Store, req: Request) -> HttpResult {
    let caller = Caller::of(&req)?;
    let id = Uuid::parse_str(&caller.account_id)
        .map_err(|_| Problem::unauthorized("token subject is not an account"))?;
    let account = store
        .account(id)
        .await?
        .ok_or(AuthError::UnknownAccount)?
        .account;
    http::json(StatusCode::OK, &account)
}

#[derive(Serialize)]
struct AccountList {
    accounts: Vec<Account>,
    next_cursor: Option<String>,
}

/// `GET /accounts?limit=&cursor=` (admins)
pub async fn list_accounts(store: &Store, req: Request) -> HttpResult {
    Caller::of(&req)?.require_any(&[Role::Admin])?;
    let limit = match http::query_param(&req, "limit") {
        None => 50,
        Some(l) => l
            .parse::<i32>()
            .ok()
            .filter(|l| (1..=100).contains(l))
            .ok_or_else(|| Problem::invalid("limit must be 1 to 100"))?,
    };
    let cursor = http::query_param(&req, "cursor");
    let page = store.accounts(limit, cursor.as_deref()).await?;
    http::json(
        StatusCode::OK,
        &AccountList {
            accounts: page.accounts,
            next_cursor: page.next,
        },
    )
}

/// `POST /accounts` (admins)
pub async fn create_account(store: &Store, req: Request) -> HttpResult {
    Caller::of(&req)?.require_any(&[Role::Admin])?;
    let new: NewAccount = http::body(&req)?;
    let cause = Cause::request(correlation_id(&req));
    let account = open_account(store, &new, &cause).await?;
    let mut response = http::json(StatusCode::CREATED, &account)?;
    if let Ok(location) = format!("/accounts/{}", account.account_id).parse() {
        response.headers_mut().insert("location", location);
    }
    Ok(response)
}

async fn open_account(
    store: &Store,
    new: &NewAccount,
    cause: &Cause,
) -> Result<Account, AuthError> {
    let now = Utc::now();
    let account = Account::open(new, now)?;
    let hash = match &new.password {
        Some(p) => {
            password::check_strength(p, &account.email)?;
            Some(password::hash(p)?)
        }
        None => None,
    };
    let event = Envelope::wrap(PRODUCER, &AccountCreated(account.snapshot()), cause, now)?;
    store
        .create_account(&account, hash.as_deref(), &event)
        .await?;
    tracing::info!(account_id = %account.account_id, role = %account.role, "account created");
    Ok(account)
}

fn target_account(req: &Request) -> Result<Uuid, Problem> {
    let id = http::path_param(req, "account_id")?;
    Uuid::parse_str(&id).map_err(|_| Problem::not_found(format!("no account {id}")))
}

/// `PATCH /accounts/{account_id}` (admins): name and/or role.
pub async fn update_account(store: &Store, req: Request) -> HttpResult {
    Caller::of(&req)?.require_any(&[Role::Admin])?;
    let id = target_account(&req)?;
    let change: AccountChange = http::body(&req)?;
    let current = store
        .account(id)
        .await?
        .ok_or(AuthError::UnknownAccount)?
        .account;
    let Some(changed) = current.change(&change)? else {
        return http::json(StatusCode::OK, &current);
    };
    let cause = Cause::request(correlation_id(&req));
    let event = Envelope::wrap(
        PRODUCER,
        &AccountUpdated(changed.snapshot()),
        &cause,
        Utc::now(),
    )?;
    store.save_account(&changed, &event).await?;
    tracing::info!(account_id = %id, revision = changed.revision, "account updated");
    http::json(StatusCode::OK, &changed)
}

/// `POST /accounts/{account_id}/deactivate` (admins); repeating it is harmless.
pub async fn deactivate_account(store: &Store, req: Request) -> HttpResult {
    let caller = Caller::of(&req)?;
    caller.require_any(&[Role::Admin])?;
    let by = Uuid::parse_str(&caller.account_id)
        .map_err(|_| Problem::unauthorized("token subject is not an account"))?;
    let id = target_account(&req)?;
    let current = store
        .account(id)
        .await?
        .ok_or(AuthError::UnknownAccount)?
        .account;
    let Some(deactivated) = current.deactivate(by)? else {
        return http::json(StatusCode::OK, &current);
    };
    let cause = Cause::request(correlation_id(&req));
    let event = Envelope::wrap(
        PRODUCER,
        &AccountDeactivated(deactivated.snapshot()),
        &cause,
        Utc::now(),
    )?;
    store.save_account(&deactivated, &event).await?;
    tracing::info!(account_id = %id, "account deactivated");
    http::json(StatusCode::OK, &deactivated)
}

/// `GET /.well-known/openid-configuration` and `GET /.well-known/jwks.json`
pub async fn well_known(issuer: &Issuer, req: Request) -> HttpResult {
    let document = if req.uri().path().ends_with("/jwks.json") {
        issuer.jwks()
    } else {
        issuer.discovery()
    };
    let mut response = http::json(StatusCode::OK, &document)?;
    response.headers_mut().insert(
        "cache-control",
        lambda_http::http::HeaderValue::from_static("public, max-age=300"),
    );
    Ok(response)
}

/// The input of the bootstrap function (invoked by an operator, not over HTTP).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BootstrapAdmin {
    pub email: String,
    #[serde(default = "default_admin_name")]
    pub full_name: String,
    /// Local use only: in production leave it out and sign in with a mailed code.
    #[serde(default)]
    pub password: Option<String>,
}

fn default_admin_name() -> String {
    "Administrator".to_owned()
}

/// Creates the first admin unless that email has an account already; safe to run twice.
pub async fn bootstrap_admin(
    store: &Store,
    input: BootstrapAdmin,
) -> Result<serde_json::Value, AuthError> {
    let email = normalize_email(&input.email)?;
    if let Some(existing) = store.account_by_email(&email).await? {
        return Ok(serde_json::json!({ "created": false, "account": existing.account }));
    }
    let new = NewAccount {
        email,
        full_name: input.full_name,
        role: Role::Admin,
        password: input.password,
    };
    let account = open_account(
        store,
        &new,
        &Cause::request(format!("bootstrap-{}", Uuid::new_v4())),
    )
    .await?;
    Ok(serde_json::json!({ "created": true, "account": account }))
}
