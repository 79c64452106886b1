//! HTTP edge of every command and query: problem+json errors (RFC 9457), JSON bodies with a
//! size limit and no unknown fields, the caller as API Gateway's JWT authorizer saw them (and
//! as a [`Capability`] for the use cases that admit only some roles: [`Caller::may`]), and the
//! correlation id.

use lambda_http::http::{header, StatusCode};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::{de::DeserializeOwned, Serialize};

use uuid::Uuid;

use crate::contracts::accounts::AccountSnapshot;
use crate::dynamo::StoreError;
use crate::identity::{Capability, NotAllowed, Rights, Role};

/// Larger bodies are refused before parsing; no command needs more.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
pub const CORRELATION_HEADER: &str = "x-correlation-id";

/// An error answer: `application/problem+json` with a stable `type`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub status: StatusCode,
    pub kind: &'static str,
    pub title: &'static str,
    pub detail: String,
}

impl Problem {
    pub fn new(
        status: StatusCode,
        kind: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            status,
            kind,
            title,
            detail: detail.into(),
        }
    }
    pub fn malformed(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "malformed-request",
            "The request cannot be read",
            detail,
        )
    }
    pub fn invalid(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-request",
            "The request is not valid",
            detail,
        )
    }
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Not signed in",
            detail,
        )
    }
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "Not allowed", detail)
    }
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "conflict",
            "Conflicts with the current state",
            detail,
        )
    }
    pub fn too_many_requests(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too-many-requests",
            "Too many requests",
            detail,
        )
    }
    /// An unexpected failure: logged in full, answered without internals.
    pub fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Something went wrong",
            "the request could not be completed; it is safe to retry",
        )
    }

    pub fn into_response(self) -> Response<Body> {
        let body = serde_json::json!({
            "type": format!("urn:ates:problem:{}", self.kind),
            "title": self.title,
            "status": self.status.as_u16(),
            "detail": self.detail,
        });
        Response::builder()
            .status(self.status)
            .header(header::CONTENT_TYPE, "application/problem+json")
            .body(Body::Text(body.to_string()))
            .expect("a static response builds")
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.title,
            self.detail
        )
    }
}

pub type HttpResult = Result<Response<Body>, Problem>;

pub fn json<T: Serialize>(status: StatusCode, body: &T) -> HttpResult {
    let text = serde_json::to_string(body).map_err(Problem::internal)?;
    Ok(Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::Text(text))
        .expect("a JSON response builds"))
}

pub fn no_content() -> HttpResult {
    Ok(Response::builder()
        .status(StatusCode::NO_CONTENT)
        .body(Body::Empty)
        .expect("an empty response builds"))
}

/// The JSON body of a command. Unknown fields are refused by the command's own type
/// (`#[serde(deny_unknown_fields)]`).
pub fn body<T: DeserializeOwned>(req: &Request) -> Result<T, Problem> {
    if let Some(kind) = req.headers().get(header::CONTENT_TYPE) {
        let kind = kind.to_str().unwrap_or_default().to_ascii_lowercase();
        if !kind.starts_with("application/json") {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Only JSON is accepted",
                format!("content type {kind} is not application/json"),
            ));
        }
    }
    let bytes: &[u8] = req.body().as_ref();
    if bytes.len() > MAX_BODY_BYTES {
        return Err(Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "The request body is too large",
            format!("at most {MAX_BODY_BYTES} bytes are accepted"),
        ));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Problem::malformed("a JSON body is required"));
    }
    serde_json::from_slice(bytes).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => Problem::invalid(e.to_string()),
        _ => Problem::malformed(format!("the body is not valid JSON: {e}")),
    })
}

/// A path parameter the route declares.
pub fn path_param(req: &Request, name: &str) -> Result<String, Problem> {
    req.path_parameters_ref()
        .and_then(|p| p.first(name))
        .map(str::to_owned)
        .ok_or_else(|| Problem::not_found(format!("no {name} in the path")))
}

/// A query string parameter, if present.
pub fn query_param(req: &Request, name: &str) -> Option<String> {
    req.query_string_parameters_ref()
        .and_then(|q| q.first(name))
        .map(str::to_owned)
}

/// A listing's `limit` query parameter: 1 to 100, 50 if absent.
pub fn limit(req: &Request) -> Result<usize, Problem> {
    match query_param(req, "limit") {
        None => Ok(50),
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=100).contains(l))
            .ok_or_else(|| Problem::invalid("limit must be 1 to 100")),
    }
}

/// The account copies a context keeps from `Account.*` events, as the caller check needs them.
/// SPEC: rights follow the account, not the token; every context checks a caller against its
/// own copy, so a deactivated or demoted account loses its rights as soon as the event arrives
/// (seconds), not when its access token expires.
pub trait AccountCopies: Sync {
    /// This context's copy of the account, if an event about it has arrived.
    fn account_copy(
        &self,
        account_id: Uuid,
    ) -> impl std::future::Future<Output = Result<Option<AccountSnapshot>, StoreError>> + Send;
}

/// Who is calling: the subject of the token API Gateway's JWT authorizer verified, with the
/// role its account has now. Only [`caller`] makes one, so no handler can skip the check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub account_id: Uuid,
    pub role: Role,
}

/// The caller of a signed-in route, checked against the context's own copy of the account: a
/// deactivated account is not signed in (401), and the role is the account's, not the token's
/// (a demoted admin's token keeps only the new role's rights). One read per request.
pub async fn caller(req: &Request, copies: &impl AccountCopies) -> Result<Caller, Problem> {
    let token = Caller::in_token(req)?;
    let copy = copies.account_copy(token.account_id).await?;
    token.checked_against(copy.as_ref())
}

impl Caller {
    /// The claims as the token states them, before the account is asked.
    fn in_token(req: &Request) -> Result<Caller, Problem> {
        let claims = match req.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(ctx)) => ctx
                .authorizer
                .as_ref()
                .and_then(|a| a.jwt.as_ref())
                .map(|j| &j.claims),
            _ => None,
        }
        .ok_or_else(|| Problem::unauthorized("no verified token"))?;
        let account_id = claims
            .get("sub")
            .and_then(|s| Uuid::parse_str(s).ok())
            .ok_or_else(|| Problem::unauthorized("the token's subject is not an account"))?;
        let role = claims
            .get("role")
            .and_then(|r| Role::parse(r))
            .ok_or_else(|| Problem::unauthorized("token has no known role"))?;
        Ok(Caller { account_id, role })
    }

    /// The token's caller as the account copy says today. Without a copy (the account's first
    /// event has not reached this context yet: seconds after it was created) the token stands.
    fn checked_against(self, copy: Option<&AccountSnapshot>) -> Result<Caller, Problem> {
        match copy {
            None => Ok(self),
            Some(account) if !account.active => {
                Err(Problem::unauthorized("the account is deactivated"))
            }
            Some(account) => Ok(Caller {
                role: account.role,
                ..self
            }),
        }
    }

    /// The caller as the proof a use case of `R` asks for: the one way a handler gets one, behind
    /// the gateway's scope check; another role is refused (403).
    pub fn may<R: Rights>(&self) -> Result<Capability<R>, Problem> {
        Ok(Capability::check(self.account_id, self.role)?)
    }
}

impl From<NotAllowed> for Problem {
    fn from(e: NotAllowed) -> Problem {
        Problem::forbidden(e.to_string())
    }
}

/// The correlation id of a request: the caller's `X-Correlation-Id` if it is sane, else the
/// gateway's request id, else a new one.
pub fn correlation_id(req: &Request) -> String {
    let sane = |s: &&str| {
        !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if let Some(given) = req
        .headers()
        .get(CORRELATION_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(sane)
    {
        return given.to_owned();
    }
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.request_id.clone(),
        _ => None,
    }
    .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

impl From<crate::event::EventError> for Problem {
    fn from(e: crate::event::EventError) -> Problem {
        Problem::internal(e)
    }
}

impl From<crate::dynamo::StoreError> for Problem {
    fn from(e: crate::dynamo::StoreError) -> Problem {
        Problem::internal(e)
    }
}

/// The caller's `Idempotency-Key`, if the request carries one.
pub fn idempotency_key(
    req: &Request,
    caller: &str,
) -> Result<Option<crate::idempotency::IdempotencyKey>, Problem> {
    let Some(key) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    key.to_str()
        .ok()
        .and_then(|key| crate::idempotency::IdempotencyKey::new(caller, key))
        .map(Some)
        .ok_or_else(|| Problem::invalid("Idempotency-Key must be 1 to 128 ASCII characters"))
}

/// The first answer to a keyed request, answered again.
pub fn replayed(status: StatusCode, replay: crate::idempotency::Replay) -> HttpResult {
    Ok(Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .header("idempotent-replayed", "true")
        .body(Body::Text(replay.body))
        .expect("a stored response builds"))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Admins;
    impl Rights for Admins {
        const ROLES: &'static [Role] = &[Role::Admin];
    }

    fn token(role: Role) -> Caller {
        Caller {
            account_id: Uuid::new_v4(),
            role,
        }
    }

    fn copy(of: &Caller, role: Role, active: bool) -> AccountSnapshot {
        AccountSnapshot {
            account_id: of.account_id,
            email: "kiwi@popug.test".into(),
            full_name: "Kiwi".into(),
            role,
            active,
            revision: 2,
        }
    }

    #[test]
    fn a_deactivated_account_is_not_signed_in_whatever_its_token_says() {
        let admin = token(Role::Admin);
        let gone = copy(&admin, Role::Admin, false);
        let refused = admin.checked_against(Some(&gone)).unwrap_err();
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    }

    #[test]
    fn the_role_is_the_accounts_not_the_tokens() {
        let admin = token(Role::Admin);
        let demoted = copy(&admin, Role::Worker, true);
        let caller = admin.checked_against(Some(&demoted)).unwrap();
        assert_eq!(caller.role, Role::Worker);
        let refused = caller.may::<Admins>().unwrap_err();
        assert_eq!(
            (refused.status, refused.kind, refused.detail.as_str()),
            (
                StatusCode::FORBIDDEN,
                "forbidden",
                "a worker may not do this"
            )
        );
    }

    #[test]
    fn a_caller_of_the_rights_may_as_themselves() {
        let admin = token(Role::Admin);
        let may = admin.may::<Admins>().unwrap();
        assert_eq!(
            (may.account_id(), may.role()),
            (admin.account_id, Role::Admin)
        );
    }

    #[test]
    fn without_a_copy_yet_the_token_stands() {
        let manager = token(Role::Manager);
        let caller = manager.clone().checked_against(None).unwrap();
        assert_eq!(caller, manager);
    }
}
