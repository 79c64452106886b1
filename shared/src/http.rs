//! HTTP edge of every command and query: problem+json errors (RFC 9457), JSON bodies with a
//! size limit and no unknown fields, the token's [`Claims`] as API Gateway's JWT authorizer
//! verified them (the use case resolves the caller from them), and the correlation id.

use lambda_http::http::{header, StatusCode};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::{de::DeserializeOwned, Serialize};

use uuid::Uuid;

use crate::identity::{Claims, NotAllowed, Refused, Role};

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

/// The business days `from` through `to` a listing's query names (`YYYY-MM-DD`; either end
/// may be left open), as the span of time they cover: from the start of `from` (included) to the
/// end of `to` (excluded); at most [`calendar::MAX_RANGE_DAYS`] days when both are given. An
/// open end reaches as far as anything listed can: the epoch, or the last day of year 9999
/// (written as wide as the times sort keys hold, so it sorts after them all). `None` for
/// neither.
pub fn business_days(
    req: &Request,
    calendar: &crate::calendar::Calendar,
) -> Result<Option<std::ops::Range<chrono::DateTime<chrono::Utc>>>, Problem> {
    use crate::calendar;
    let date = |name: &str| {
        query_param(req, name)
            .map(|text| {
                calendar::parse_date(&text)
                    .ok_or_else(|| Problem::invalid(format!("`{name}` must be a date, YYYY-MM-DD")))
            })
            .transpose()
    };
    let (from, to) = (date("from")?, date("to")?);
    if let (Some(from), Some(to)) = (from, to) {
        calendar::check_range(from, to).map_err(Problem::invalid)?;
    }
    let day = |date| {
        calendar
            .day(date)
            .map_err(|e| Problem::invalid(e.to_string()))
    };
    let every_day = every_day();
    Ok(match (from, to) {
        (None, None) => None,
        (from, to) => Some(
            match from {
                Some(date) => day(date)?.start,
                None => every_day.start,
            }..match to {
                Some(date) => day(date)?.end,
                None => every_day.end,
            },
        ),
    })
}

/// All the time a listing can hold, where [`business_days`]' open ends reach: from the epoch
/// to the last day of year 9999 (written as wide as the times sort keys hold, so it sorts after
/// them all). What a listing that names no days at all reads.
pub fn every_day() -> std::ops::Range<chrono::DateTime<chrono::Utc>> {
    let last_day = chrono::NaiveDate::from_ymd_opt(9999, 12, 31)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("a valid date")
        .and_utc();
    chrono::DateTime::UNIX_EPOCH..last_day
}

/// The claims of the token API Gateway's JWT authorizer verified: what a use case resolves its
/// caller from (rights follow the account, so the use case asks the account, not this).
pub fn claims(req: &Request) -> Result<Claims, Problem> {
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
    Ok(Claims { account_id, role })
}

/// A refused caller: a deactivated account is not signed in (401), another role is not allowed
/// (403).
impl From<Refused> for Problem {
    fn from(e: Refused) -> Problem {
        match e {
            Refused::Deactivated => Problem::unauthorized(e.to_string()),
            Refused::NotAllowed(e) => e.into(),
            Refused::Store(e) => Problem::internal(e),
        }
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

/// Why a command happens: this request, known by its correlation id.
pub fn cause(req: &Request) -> crate::event::Cause {
    crate::event::Cause::request(correlation_id(req))
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

/// What any use case can fail by, answered alike in every context. A key reused for another
/// request and a cursor no listing gave are requests that read fine but break a rule no schema
/// can say: 422, as `openapi.yaml`'s `IdempotencyKey` and `Cursor` say (400 is for a body that
/// cannot be read). Losing every try to other writers is a 409 the caller may retry.
impl From<crate::usecase::Failure> for Problem {
    fn from(e: crate::usecase::Failure) -> Problem {
        use crate::usecase::Failure;
        let detail = e.to_string();
        match e {
            Failure::KeyReused | Failure::BadCursor => Problem::invalid(detail),
            Failure::ChangedMeanwhile => Problem::conflict(detail),
            Failure::Refused(refused) => refused.into(),
            Failure::Store(_) | Failure::Event(_) => Problem::internal(detail),
        }
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

    #[test]
    fn a_refused_caller_is_not_signed_in_or_not_allowed() {
        let gone = Problem::from(Refused::Deactivated);
        assert_eq!(
            (gone.status, gone.detail.as_str()),
            (StatusCode::UNAUTHORIZED, "the account is deactivated")
        );
        let worker = Problem::from(Refused::from(NotAllowed { role: Role::Worker }));
        assert_eq!(
            (worker.status, worker.kind, worker.detail.as_str()),
            (
                StatusCode::FORBIDDEN,
                "forbidden",
                "a worker may not do this"
            )
        );
    }

    #[test]
    fn a_use_cases_failure_is_answered_alike_in_every_context() {
        use crate::usecase::Failure;
        let answer = |failure: Failure| {
            let problem = Problem::from(failure);
            (problem.status, problem.kind, problem.detail)
        };
        assert_eq!(
            answer(Failure::KeyReused),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-request",
                "this Idempotency-Key was used for a different request".into()
            )
        );
        assert_eq!(
            answer(Failure::BadCursor),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-request",
                "the cursor is not one this listing gave".into()
            )
        );
        assert_eq!(
            answer(Failure::ChangedMeanwhile),
            (
                StatusCode::CONFLICT,
                "conflict",
                "the state changed meanwhile; retry".into()
            )
        );
        assert_eq!(
            answer(Failure::Refused(Refused::Deactivated)).0,
            StatusCode::UNAUTHORIZED
        );
        let (status, kind, detail) = answer(Failure::Store(crate::dynamo::StoreError::Aws(
            "the table is gone".into(),
        )));
        assert_eq!(
            (status, kind),
            (StatusCode::INTERNAL_SERVER_ERROR, "internal")
        );
        assert!(
            !detail.contains("table"),
            "the store's words stay ours: {detail}"
        );
    }
}
