//! The HTTP edge of hiring: one function per route. Each reads its request into a use case's
//! input, calls the use case (`app`), and maps its answer to a response; errors map to
//! problems once, in `error.rs`. Three kinds of caller:
//! - nobody (`POST /hiring/applications`): the public form, answered in a fixed time;
//! - the applicant, by the `Application-Token` header (no JWT);
//! - staff, by the token's claims, which the use case resolves to the caller and its rights
//!   (`Capability<Staff>`) before it reads anything else.

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
use crate::application::{
    self, Application, Filter, NewAcceptance, NewApplication, NewDecline, Span, Status,
};
use crate::bank::{self, Entry, NewProfile, NewQuestion, NewTest, Profile, Question, Test};
use crate::ports::{Accounts, ApplicationChanges, Applications, Bank, TokenMail, Workers};
use crate::worker::NewWorkerProfile;

/// The header that carries an applicant's token.
pub const TOKEN_HEADER: &str = "application-token";

/// How long `POST /hiring/applications` takes, whatever the address: a known one must not
/// answer faster or slower than a new one.
pub const APPLY_TIME: std::time::Duration = std::time::Duration::from_secs(1);

fn staff_request(req: &Request, claims: &Claims) -> Result<app::Request, Problem> {
    Ok(app::Request {
        cause: Cause::request(correlation_id(req)),
        idempotency: http::idempotency_key(req, &claims.account_id.to_string())?,
        now: Utc::now(),
    })
}

fn answer<T: Serialize>(status: StatusCode, answer: Answer<T>) -> HttpResult {
    match answer {
        Answer::Fresh(value) => http::json(status, &value),
        Answer::Replayed(replay) => http::replayed(status, replay),
    }
}

/// A decision's answer: the application as staff read it.
fn decided(answer: Answer<Application>) -> HttpResult {
    match answer {
        Answer::Fresh(application) => http::json(StatusCode::OK, &application.review()),
        Answer::Replayed(replay) => http::replayed(StatusCode::OK, replay),
    }
}

/// A path id; one that is not an id names nothing (404).
fn id(req: &Request, name: &str) -> Result<Uuid, Problem> {
    let id = http::path_param(req, name)?;
    Uuid::parse_str(&id).map_err(|_| Problem::not_found(format!("no {name} {id}")))
}

fn token(req: &Request) -> Result<String, Problem> {
    req.headers()
        .get(TOKEN_HEADER)
        .and_then(|t| t.to_str().ok())
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| Problem::unauthorized("the Application-Token header is required"))
}

/// A page of a listing, its items under the listing's own name (`applications`, `questions`,
/// …), as every listing of the API names them.
fn page<T: Serialize>(name: &str, items: Vec<T>, next_cursor: Option<String>) -> HttpResult {
    http::json(
        StatusCode::OK,
        &serde_json::json!({ name: items, "next_cursor": next_cursor }),
    )
}

// ----------------------------------------------------------------------------- applicants

#[derive(Serialize)]
struct Applied {
    application_id: Uuid,
}

/// `POST /hiring/applications` (no token): `{email, full_name, kind}` → 202 `{application_id}`,
/// in [`APPLY_TIME`] whatever the address.
pub async fn apply(
    store: &(impl Applications + ApplicationChanges),
    mail: &impl TokenMail,
    req: Request,
) -> HttpResult {
    let new: NewApplication = http::body(&req)?;
    let new = new.validate()?;
    let cause = Cause::request(correlation_id(&req));
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::from_entropy();
    let deadline = tokio::time::Instant::now() + APPLY_TIME;
    let applied = app::apply(store, mail, &new, &cause, Utc::now(), &mut rng).await;
    tokio::time::sleep_until(deadline).await;
    http::json(
        StatusCode::ACCEPTED,
        &Applied {
            application_id: applied?,
        },
    )
}

/// `GET /hiring/applications/{application_id}` (the applicant's token): the applicant's view.
pub async fn applicant_view(store: &impl Applications, req: Request) -> HttpResult {
    let (id, token) = (id(&req, "application_id")?, token(&req)?);
    let view = app::applicant_view(store, id, &token, Utc::now()).await?;
    http::json(StatusCode::OK, &view)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Answers {
    answers: Vec<bank::Answer>,
}

/// `POST /hiring/applications/{application_id}/answers` (the applicant's token).
pub async fn submit_answers(
    store: &(impl Applications + ApplicationChanges),
    req: Request,
) -> HttpResult {
    let (id, token) = (id(&req, "application_id")?, token(&req)?);
    let body: Answers = http::body(&req)?;
    let cause = Cause::request(correlation_id(&req));
    let view = app::submit_answers(store, id, &token, &body.answers, &cause, Utc::now()).await?;
    http::json(StatusCode::OK, &view)
}

// --------------------------------------------------------------------------------- staff

/// `GET /hiring/applications?status=&kind=&from=&to=&limit=&cursor=` (managers, admins): one
/// status's applications (`new` if none is given), of one kind if given, submitted on the
/// business days `from` through `to` if given (either end may be left open), newest first.
pub async fn list_applications(
    store: &(impl Applications + Accounts),
    calendar: &Calendar,
    req: Request,
) -> HttpResult {
    let claims = http::claims(&req)?;
    let status = match http::query_param(&req, "status") {
        None => Status::New,
        Some(s) => Status::parse(&s).ok_or_else(|| {
            Problem::invalid("status must be new, test, check, accepted or declined")
        })?,
    };
    let kind = http::query_param(&req, "kind")
        .map(|k| application::kind(&k))
        .transpose()?;
    let filter = Filter {
        status,
        kind,
        submitted: http::business_days(&req, calendar)?.map(|days| Span {
            from: days.start,
            until: days.end,
        }),
    };
    let cursor = http::query_param(&req, "cursor");
    let limit = http::limit(&req)?;
    let listed = app::applications(store, &claims, &filter, limit, cursor.as_deref()).await?;
    let reviews: Vec<_> = listed.items.iter().map(Application::review).collect();
    page("applications", reviews, listed.next_cursor)
}

/// `GET /hiring/applications/{application_id}/review` (managers, admins): everything, answers
/// and score included.
pub async fn review_application(
    store: &(impl Applications + Accounts),
    req: Request,
) -> HttpResult {
    let claims = http::claims(&req)?;
    let application = app::application(store, &claims, id(&req, "application_id")?).await?;
    http::json(StatusCode::OK, &application.review())
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct TestProfile {
    test_profile_id: Uuid,
}

/// `POST /hiring/applications/{application_id}/test` `{test_profile_id}` (managers, admins).
pub async fn assign_test(
    store: &(impl Applications + ApplicationChanges + Bank + Accounts),
    req: Request,
) -> HttpResult {
    let claims = http::claims(&req)?;
    let application_id = id(&req, "application_id")?;
    let body: TestProfile = http::body(&req)?;
    let request = staff_request(&req, &claims)?;
    let assigned = app::assign_test(
        store,
        &claims,
        application_id,
        body.test_profile_id,
        &request,
    )
    .await?;
    decided(assigned)
}

/// `POST /hiring/applications/{application_id}/accept` `{skills, level}` for a worker, `{}`
/// for the others (managers; admins, and only they for a manager application).
pub async fn accept(
    store: &(impl Applications + ApplicationChanges + Accounts),
    req: Request,
) -> HttpResult {
    let claims = http::claims(&req)?;
    let application_id = id(&req, "application_id")?;
    let acceptance: NewAcceptance = http::body(&req)?;
    let request = staff_request(&req, &claims)?;
    let accepted = app::accept(store, &claims, application_id, &acceptance, &request).await?;
    decided(accepted)
}

/// `POST /hiring/applications/{application_id}/decline` `{reason}`.
pub async fn decline(
    store: &(impl Applications + ApplicationChanges + Accounts),
    req: Request,
) -> HttpResult {
    let claims = http::claims(&req)?;
    let application_id = id(&req, "application_id")?;
    let decline: NewDecline = http::body(&req)?;
    let reason = decline.validate()?;
    let request = staff_request(&req, &claims)?;
    let declined = app::decline(store, &claims, application_id, &reason, &request).await?;
    decided(declined)
}

// -------------------------------------------------------------------------- the test bank

/// The route's parameter that names an entry of `T`'s kind (`question_id`, …).
fn entry_param<T: Entry>() -> String {
    format!("{}_id", T::KIND)
}

/// `POST /hiring/questions` → 201.
pub async fn create_question(store: &(impl Bank + Accounts), req: Request) -> HttpResult {
    let claims = http::claims(&req)?;
    let new: NewQuestion = http::body(&req)?;
    let new = new.validate()?;
    let request = staff_request(&req, &claims)?;
    answer(
        StatusCode::CREATED,
        app::create_question(store, &claims, &new, &request).await?,
    )
}

/// `PUT /hiring/questions/{question_id}`: the next revision.
pub async fn revise_question(store: &(impl Bank + Accounts), req: Request) -> HttpResult {
    let claims = http::claims(&req)?;
    let question_id = id(&req, &entry_param::<Question>())?;
    let new: NewQuestion = http::body(&req)?;
    let new = new.validate()?;
    let request = staff_request(&req, &claims)?;
    answer(
        StatusCode::OK,
        app::revise_question(store, &claims, question_id, &new, &request).await?,
    )
}

/// `POST /hiring/tests` → 201.
pub async fn create_test(store: &(impl Bank + Accounts), req: Request) -> HttpResult {
    let claims = http::claims(&req)?;
    let new: NewTest = http::body(&req)?;
    let new = new.validate()?;
    let request = staff_request(&req, &claims)?;
    answer(
        StatusCode::CREATED,
        app::create_test(store, &claims, &new, &request).await?,
    )
}

/// `PUT /hiring/tests/{test_id}`: the next revision.
pub async fn revise_test(store: &(impl Bank + Accounts), req: Request) -> HttpResult {
    let claims = http::claims(&req)?;
    let test_id = id(&req, &entry_param::<Test>())?;
    let new: NewTest = http::body(&req)?;
    let new = new.validate()?;
    let request = staff_request(&req, &claims)?;
    answer(
        StatusCode::OK,
        app::revise_test(store, &claims, test_id, &new, &request).await?,
    )
}

/// `POST /hiring/profiles` → 201 (a pass mark above the maximum score is 422).
pub async fn create_profile(store: &(impl Bank + Accounts), req: Request) -> HttpResult {
    let claims = http::claims(&req)?;
    let new: NewProfile = http::body(&req)?;
    let new = new.validate()?;
    let request = staff_request(&req, &claims)?;
    answer(
        StatusCode::CREATED,
        app::create_profile(store, &claims, &new, &request).await?,
    )
}

/// `PUT /hiring/profiles/{profile_id}`: the next revision.
pub async fn revise_profile(store: &(impl Bank + Accounts), req: Request) -> HttpResult {
    let claims = http::claims(&req)?;
    let profile_id = id(&req, &entry_param::<Profile>())?;
    let new: NewProfile = http::body(&req)?;
    let new = new.validate()?;
    let request = staff_request(&req, &claims)?;
    answer(
        StatusCode::OK,
        app::revise_profile(store, &claims, profile_id, &new, &request).await?,
    )
}

/// `POST /hiring/{questions|tests|profiles}/{id}/retire`.
pub async fn retire<T: Entry>(
    store: &(impl crate::ports::Shelf<T> + Accounts),
    req: Request,
) -> HttpResult {
    let claims = http::claims(&req)?;
    let entry_id = id(&req, &entry_param::<T>())?;
    let request = staff_request(&req, &claims)?;
    answer(
        StatusCode::OK,
        app::retire::<T>(store, &claims, entry_id, &request).await?,
    )
}

/// `GET /hiring/{questions|tests|profiles}/{id}`, with points and pass marks (staff only).
pub async fn bank_entry<T: Entry>(
    store: &(impl crate::ports::Shelf<T> + Accounts),
    req: Request,
) -> HttpResult {
    let claims = http::claims(&req)?;
    let entry_id = id(&req, &entry_param::<T>())?;
    let entry: T = app::bank_entry(store, &claims, T::KIND, entry_id).await?;
    http::json(StatusCode::OK, &entry)
}

/// `GET /hiring/{questions|tests|profiles}?limit=&cursor=`: newest first, retired included.
pub async fn bank_entries<T: Entry>(
    store: &(impl crate::ports::Shelf<T> + Accounts),
    req: Request,
) -> HttpResult {
    let claims = http::claims(&req)?;
    let cursor = http::query_param(&req, "cursor");
    let limit = http::limit(&req)?;
    let listed = app::bank_entries::<T>(store, &claims, limit, cursor.as_deref()).await?;
    page(&format!("{}s", T::KIND), listed.items, listed.next_cursor)
}

// ------------------------------------------------------------------------------- workers

/// `GET /hiring/workers/{account_id}/profile` (managers, admins).
pub async fn worker_profile(store: &(impl Workers + Accounts), req: Request) -> HttpResult {
    let claims = http::claims(&req)?;
    let profile = app::worker_profile(store, &claims, id(&req, "account_id")?).await?;
    http::json(StatusCode::OK, &profile)
}

/// `PUT /hiring/workers/{account_id}/profile` `{skills, level}` (managers, admins).
pub async fn set_worker_profile(store: &(impl Workers + Accounts), req: Request) -> HttpResult {
    let claims = http::claims(&req)?;
    let account_id = id(&req, "account_id")?;
    let profile: NewWorkerProfile = http::body(&req)?;
    let profile = profile.validate()?;
    let request = staff_request(&req, &claims)?;
    answer(
        StatusCode::OK,
        app::set_worker_profile(store, &claims, account_id, &profile, &request).await?,
    )
}
