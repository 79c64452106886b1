//! Hiring's use cases: one function per command, query and scheduled step. Each is a try of the
//! kernel's executor (`usecase::execute`, `execute_keyed`): it reads through the ports, decides
//! with the domain (`application`, `bank`, `worker`), and commits the state and its events in
//! one store call. What only managers and admins may do takes a `Capability<Staff>`; which of
//! them decides an application is the domain's rule (`application::decides`).
//!
//! The applicant has no account: their application token is their key, checked here against
//! the stored hash. Applying is answered the same way whether or not the address is known: a
//! second application for an open one of the same kind renews and re-mails its token instead
//! of creating anything, and application ids are random (v4), so an id says nothing of when the
//! application it names was made.

use ates_kernel::event::{Cause, Envelope};
use ates_kernel::identity::{AccountCopies, Claims, Rights, Role};
use ates_kernel::usecase::Failure;
use ates_kernel::usecase::{execute, execute_keyed, kept, Attempt, Keyed};
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

pub use ates_kernel::usecase::Answer;

use crate::application::{ApplicantView, Application, Filter, NewAcceptance, ValidApplication};
use crate::bank::{
    self, Entry, Paper, Profile, Question, Test, ValidProfile, ValidQuestion, ValidTest,
};
use crate::error::HiringError;
pub use crate::ports::{
    Accounts, ApplicationChanges, Applications, Bank, Change, Deadlines, Saved, Shelf, TokenMail,
    Workers,
};
use crate::token::Token;
use crate::worker::{ValidWorkerProfile, WorkerProfile};
use crate::PRODUCER;

/// Who keeps the test bank, gives tests, decides applications and sets workers' profiles:
/// managers, and admins, who hold every manager's right (SPEC Roles). Which of them may decide
/// one application is its kind's rule.
#[derive(Debug)]
pub struct Staff;

impl Rights for Staff {
    const ROLES: &'static [Role] = &[Role::Manager, Role::Admin];
}

/// A staff command as it arrived (the kernel's), and its events wrapped under its cause.
pub use ates_kernel::usecase::Request;

trait Wraps {
    fn wrap(&self, event: &impl ates_kernel::event::DomainEvent) -> Result<Envelope, HiringError>;
}

impl Wraps for Request {
    fn wrap(&self, event: &impl ates_kernel::event::DomainEvent) -> Result<Envelope, HiringError> {
        Ok(Envelope::wrap(PRODUCER, event, &self.cause, self.now)?)
    }
}

/// What a write came to, as the executor reads it.
fn attempt<T>(
    saved: Saved,
    answer: T,
    refusal: impl FnOnce() -> HiringError,
) -> Attempt<T, HiringError> {
    match saved {
        Saved::Done => Attempt::Done(answer),
        Saved::KeyUsed => Attempt::KeyUsed(refusal()),
        Saved::Stale => Attempt::Lost,
    }
}

// ----------------------------------------------------------------------------- applicants

/// M1: anyone applies; the token is mailed. A second application of the same address for the
/// same kind while one is open creates nothing: that one's token is renewed and mailed.
pub async fn apply(
    store: &(impl Applications + ApplicationChanges),
    mail: &impl TokenMail,
    new: &ValidApplication,
    cause: &Cause,
    now: DateTime<Utc>,
    rng: &mut (impl rand::RngCore + Send),
) -> Result<Uuid, HiringError> {
    let token = Token::issue(rng, now);
    let application = execute(|| async {
        let change = Change {
            events: &[],
            hired: None,
            keyed: None,
            now,
        };
        if let Some(open) = store.open_application(&new.email, new.kind).await? {
            let renewed = open.reissue(token.kept.clone())?;
            let saved = store.change_application(&open, &renewed, change).await?;
            return Ok(attempt(saved, renewed, || {
                HiringError::Failed(Failure::ChangedMeanwhile)
            }));
        }
        let application = Application::submit(new, token.kept.clone(), now);
        let event = Envelope::wrap(PRODUCER, &application.submitted(), cause, now)?;
        let saved = store.add_application(&application, &event).await?;
        Ok(attempt(saved, application, || {
            HiringError::Failed(Failure::ChangedMeanwhile)
        }))
    })
    .await?;
    mail.mail_token(&application, &token.secret).await?;
    tracing::info!(application_id = %application.application_id, kind = %application.kind, "application submitted");
    Ok(application.application_id)
}

/// The application its token opens, as it is now.
async fn opened(
    store: &impl Applications,
    id: Uuid,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Application, HiringError> {
    let application = store
        .application(id)
        .await?
        .ok_or(HiringError::UnknownApplication)?;
    application.token.admits(token, now)?;
    Ok(application)
}

/// M1: the applicant's own view: status, the test without points, the deadline, the score.
pub async fn applicant_view(
    store: &impl Applications,
    id: Uuid,
    token: &str,
    now: DateTime<Utc>,
) -> Result<ApplicantView, HiringError> {
    Ok(opened(store, id, token, now).await?.applicant_view())
}

/// M1: the applicant's answers, once per test and before its deadline, scored at once: the
/// application moves to `check` with its score.
pub async fn submit_answers(
    store: &(impl Applications + ApplicationChanges),
    id: Uuid,
    token: &str,
    answers: &[bank::Answer],
    cause: &Cause,
    now: DateTime<Utc>,
) -> Result<ApplicantView, HiringError> {
    execute(|| async {
        let application = opened(store, id, token, now).await?;
        let (checked, submitted) = application.answer(answers, now)?;
        let event = Envelope::wrap(PRODUCER, &submitted, cause, now)?;
        let change = Change {
            events: &[event],
            hired: None,
            keyed: None,
            now,
        };
        let saved = store
            .change_application(&application, &checked, change)
            .await?;
        Ok(attempt(saved, checked.applicant_view(), || {
            HiringError::Failed(Failure::ChangedMeanwhile)
        }))
    })
    .await
}

// --------------------------------------------------------------------------------- staff

/// M1: an application with everything hiring knows of it (answers and score included).
pub async fn application(
    store: &(impl Applications + AccountCopies),
    claims: &Claims,
    id: Uuid,
) -> Result<Application, HiringError> {
    claims.may::<Staff>(store).await?;
    store
        .application(id)
        .await?
        .ok_or(HiringError::UnknownApplication)
}

/// M1: the applications a filter admits (a status; a kind, submission dates if given), newest first.
pub async fn applications(
    store: &(impl Applications + AccountCopies),
    claims: &Claims,
    filter: &Filter,
    limit: usize,
    cursor: Option<&str>,
) -> Result<ates_kernel::dynamo::Listed<Application>, HiringError> {
    claims.may::<Staff>(store).await?;
    store.applications_in(filter, limit, cursor).await
}

/// The paper a profile gives now: the profile, its tests and their questions as the bank
/// holds them.
async fn paper_of(store: &impl Bank, profile_id: Uuid) -> Result<Paper, HiringError> {
    let profile: Profile = Shelf::<Profile>::entry(store, profile_id)
        .await?
        .ok_or_else(|| HiringError::UnknownPart(format!("profile {profile_id}")))?;
    let tests: Vec<Test> = Shelf::<Test>::entries(store, &profile.test_ids).await?;
    let questions: Vec<Question> = Shelf::<Question>::entries(store, &question_ids(&tests)).await?;
    Paper::assemble(&profile, &tests, &questions)
}

fn question_ids(tests: &[Test]) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = tests
        .iter()
        .flat_map(|t| t.question_ids.iter().copied())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// A change of one application by staff: read it, decide, commit with its events.
async fn decide<F>(
    store: &(impl Applications + ApplicationChanges),
    id: Uuid,
    keyed: Option<Keyed>,
    request: &Request,
    decision: F,
) -> Result<Answer<Application>, HiringError>
where
    F: Fn(&Application) -> Result<(Application, Vec<Envelope>, Option<WorkerProfile>), HiringError>,
{
    execute_keyed(store, keyed.as_ref(), || async {
        let before = store
            .application(id)
            .await?
            .ok_or(HiringError::UnknownApplication)?;
        let (after, events, hired) = match decision(&before) {
            Ok(decided) => decided,
            // Decided already: by this same request, if it carries the first one's key.
            Err(e @ HiringError::WrongState { .. }) => return Ok(Attempt::KeyUsed(e)),
            Err(e) => return Err(e),
        };
        let answer = kept(&after.review())?;
        let change = Change {
            events: &events,
            hired: hired.as_ref(),
            keyed: keyed.as_ref().map(|k| (k, answer.as_str())),
            now: request.now,
        };
        let saved = store.change_application(&before, &after, change).await?;
        let status = after.status;
        Ok(attempt(saved, after, || HiringError::WrongState {
            status,
            action: "change twice",
        }))
    })
    .await
}

/// M1: a worker application in `new` is given the test of a profile, pinned as the bank holds it
/// now; it moves to `test` with its deadline, and the applicant is told (by the event).
pub async fn assign_test(
    store: &(impl Applications + ApplicationChanges + Bank + AccountCopies),
    claims: &Claims,
    id: Uuid,
    profile_id: Uuid,
    request: &Request,
) -> Result<Answer<Application>, HiringError> {
    let staff = claims.may::<Staff>(store).await?;
    let keyed = request.keyed(&format!("assign-test {id}"), &profile_id)?;
    let paper = paper_of(store, profile_id).await?;
    decide(store, id, keyed, request, |before| {
        let (after, assigned) =
            before.assign_test(paper.clone(), staff.account_id(), request.now)?;
        Ok((after, vec![request.wrap(&assigned)?], None))
    })
    .await
}

/// M1: a person accepts (workers from `check`, with their skills and level; clients and
/// managers from `new`). An address that has an account already is refused. The account itself
/// is auth's to create, from `Application.Accepted`.
pub async fn accept(
    store: &(impl Applications + ApplicationChanges + Accounts),
    claims: &Claims,
    id: Uuid,
    acceptance: &NewAcceptance,
    request: &Request,
) -> Result<Answer<Application>, HiringError> {
    let staff = claims.may::<Staff>(store).await?;
    let keyed = request.keyed(&format!("accept {id}"), acceptance)?;
    let application = store
        .application(id)
        .await?
        .ok_or(HiringError::UnknownApplication)?;
    let profile: Option<ValidWorkerProfile> = acceptance.validate(application.kind)?;
    if store
        .account_with_address(&application.email)
        .await?
        .is_some()
    {
        return Err(HiringError::AddressHasAccount);
    }
    decide(store, id, keyed, request, |before| {
        let (after, accepted) = before.accept(staff.role(), staff.account_id(), request.now)?;
        let mut events = vec![request.wrap(&accepted)?];
        let hired = profile
            .as_ref()
            .map(|p| WorkerProfile::hired(after.account_id(), p, staff.account_id(), request.now));
        if let Some(hired) = &hired {
            events.push(request.wrap(&hired.set())?);
        }
        Ok((after, events, hired))
    })
    .await
}

/// M1: a person declines (from `new` or `check`) with a reason the applicant is mailed.
pub async fn decline(
    store: &(impl Applications + ApplicationChanges + AccountCopies),
    claims: &Claims,
    id: Uuid,
    reason: &str,
    request: &Request,
) -> Result<Answer<Application>, HiringError> {
    let staff = claims.may::<Staff>(store).await?;
    let keyed = request.keyed(&format!("decline {id}"), &reason)?;
    decide(store, id, keyed, request, |before| {
        let (after, declined) =
            before.decline(staff.role(), staff.account_id(), reason, request.now)?;
        Ok((after, vec![request.wrap(&declined)?], None))
    })
    .await
}

/// How many deadlines one run of the timer handles; the next run takes the rest.
pub const DEADLINES_PER_RUN: usize = 100;

/// M1, the deadline timer (a scheduled step, safe to run twice): every test not submitted by
/// its deadline declines its application. Answers how many it declined.
pub async fn miss_deadlines(
    store: &(impl Applications + ApplicationChanges + Deadlines),
    cause: &Cause,
    now: DateTime<Utc>,
) -> Result<usize, HiringError> {
    let mut declined = 0;
    for id in store.due(now, DEADLINES_PER_RUN).await? {
        let done = execute(|| async {
            let Some(before) = store.application(id).await? else {
                return Ok(Attempt::Done(false));
            };
            // Submitted or decided meanwhile: nothing to do.
            let Some((after, declined)) = before.miss_deadline(now) else {
                return Ok(Attempt::Done(false));
            };
            // One event per missed deadline, however often the timer runs into it.
            let event = Envelope::wrap(PRODUCER, &declined, cause, now)?
                .once_for(&format!("deadline:{id}"));
            let change = Change {
                events: &[event],
                hired: None,
                keyed: None,
                now,
            };
            let saved = store.change_application(&before, &after, change).await?;
            Ok(attempt(saved, true, || {
                HiringError::Failed(Failure::ChangedMeanwhile)
            }))
        })
        .await?;
        if done {
            tracing::info!(application_id = %id, "declined: the test's deadline passed");
            declined += 1;
        }
    }
    Ok(declined)
}

/// The copy of accounts (`Account.*` events): once per event, and only forward in revision.
pub use ates_kernel::copies::sync_account;

// -------------------------------------------------------------------------- the test bank

/// Writes a bank entry made by `make` from what it reads; a keyed create answers the first
/// entry again.
async fn save_entry<T, S, F, Fut>(
    store: &S,
    keyed: Option<Keyed>,
    request: &Request,
    make: F,
) -> Result<Answer<T>, HiringError>
where
    T: Serialize + Send + Sync,
    S: Shelf<T>,
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<(T, Option<T>), HiringError>>,
{
    execute_keyed(store, keyed.as_ref(), || async {
        let (entry, previous) = make().await?;
        let answer = kept(&entry)?;
        let keyed = keyed.as_ref().map(|k| (k, answer.as_str()));
        let saved = store
            .save_entry(&entry, previous.as_ref(), keyed, request.now)
            .await?;
        Ok(attempt(saved, entry, || {
            HiringError::Failed(Failure::ChangedMeanwhile)
        }))
    })
    .await
}

/// An entry of the bank, or its name in a 4xx.
async fn entry<T>(store: &impl Shelf<T>, what: &str, id: Uuid) -> Result<T, HiringError> {
    store
        .entry(id)
        .await?
        .ok_or_else(|| HiringError::UnknownPart(format!("{what} {id}")))
}

pub async fn create_question(
    store: &(impl Shelf<Question> + AccountCopies),
    claims: &Claims,
    new: &ValidQuestion,
    request: &Request,
) -> Result<Answer<Question>, HiringError> {
    claims.may::<Staff>(store).await?;
    let keyed = request.keyed("create-question", new)?;
    save_entry(store, keyed, request, || async {
        Ok((Question::create(new, request.now), None))
    })
    .await
}

/// A question's next revision; papers given earlier keep the one they had.
pub async fn revise_question(
    store: &(impl Shelf<Question> + AccountCopies),
    claims: &Claims,
    id: Uuid,
    new: &ValidQuestion,
    request: &Request,
) -> Result<Answer<Question>, HiringError> {
    claims.may::<Staff>(store).await?;
    let keyed = request.keyed(&format!("revise-question {id}"), new)?;
    save_entry(store, keyed, request, || async {
        let current = entry(store, "question", id).await?;
        Ok((current.revise(new, request.now)?, Some(current)))
    })
    .await
}

pub async fn create_test(
    store: &(impl Shelf<Test> + Shelf<Question> + AccountCopies),
    claims: &Claims,
    new: &ValidTest,
    request: &Request,
) -> Result<Answer<Test>, HiringError> {
    claims.may::<Staff>(store).await?;
    let keyed = request.keyed("create-test", new)?;
    save_entry(store, keyed, request, || async {
        let questions: Vec<Question> = Shelf::<Question>::entries(store, &new.question_ids).await?;
        Ok((Test::create(new, &questions, request.now)?, None))
    })
    .await
}

pub async fn revise_test(
    store: &(impl Shelf<Test> + Shelf<Question> + AccountCopies),
    claims: &Claims,
    id: Uuid,
    new: &ValidTest,
    request: &Request,
) -> Result<Answer<Test>, HiringError> {
    claims.may::<Staff>(store).await?;
    let keyed = request.keyed(&format!("revise-test {id}"), new)?;
    save_entry(store, keyed, request, || async {
        let current: Test = entry::<Test>(store, "test", id).await?;
        let questions: Vec<Question> = Shelf::<Question>::entries(store, &new.question_ids).await?;
        Ok((current.revise(new, &questions, request.now)?, Some(current)))
    })
    .await
}

/// The tests a profile names and their questions, as the bank holds them now.
async fn parts_of(
    store: &impl Bank,
    new: &ValidProfile,
) -> Result<(Vec<Test>, Vec<Question>), HiringError> {
    let tests: Vec<Test> = Shelf::<Test>::entries(store, &new.test_ids).await?;
    let questions: Vec<Question> = Shelf::<Question>::entries(store, &question_ids(&tests)).await?;
    Ok((tests, questions))
}

pub async fn create_profile(
    store: &(impl Bank + AccountCopies),
    claims: &Claims,
    new: &ValidProfile,
    request: &Request,
) -> Result<Answer<Profile>, HiringError> {
    claims.may::<Staff>(store).await?;
    let keyed = request.keyed("create-profile", new)?;
    save_entry(store, keyed, request, || async {
        let (tests, questions) = parts_of(store, new).await?;
        Ok((Profile::create(new, &tests, &questions, request.now)?, None))
    })
    .await
}

pub async fn revise_profile(
    store: &(impl Bank + AccountCopies),
    claims: &Claims,
    id: Uuid,
    new: &ValidProfile,
    request: &Request,
) -> Result<Answer<Profile>, HiringError> {
    claims.may::<Staff>(store).await?;
    let keyed = request.keyed(&format!("revise-profile {id}"), new)?;
    save_entry(store, keyed, request, || async {
        let current: Profile = entry::<Profile>(store, "profile", id).await?;
        let (tests, questions) = parts_of(store, new).await?;
        Ok((
            current.revise(new, &tests, &questions, request.now)?,
            Some(current),
        ))
    })
    .await
}

/// An entry of the bank (a question, a test or a profile) is retired: never given again, kept
/// in every paper that has it.
pub async fn retire<T: Entry>(
    store: &(impl Shelf<T> + AccountCopies),
    claims: &Claims,
    id: Uuid,
    request: &Request,
) -> Result<Answer<T>, HiringError> {
    claims.may::<Staff>(store).await?;
    let keyed = request.keyed(&format!("retire-{} {id}", T::KIND), &())?;
    save_entry(store, keyed, request, || async {
        let current: T = entry(store, T::KIND, id).await?;
        Ok((current.retired(request.now)?, Some(current)))
    })
    .await
}

/// One entry of the bank (a question, a test or a profile), with its points: staff only.
pub async fn bank_entry<T>(
    store: &(impl Shelf<T> + AccountCopies),
    claims: &Claims,
    what: &str,
    id: Uuid,
) -> Result<T, HiringError> {
    claims.may::<Staff>(store).await?;
    entry(store, what, id).await
}

/// The bank's entries of one kind, newest first, retired ones included.
pub async fn bank_entries<T>(
    store: &(impl Shelf<T> + AccountCopies),
    claims: &Claims,
    limit: usize,
    cursor: Option<&str>,
) -> Result<ates_kernel::dynamo::Listed<T>, HiringError> {
    claims.may::<Staff>(store).await?;
    store.shelf(limit, cursor).await
}

// ------------------------------------------------------------------------------- workers

/// M1: a manager changes a hired worker's skills and level: the next revision, published as
/// `Worker.ProfileSet`.
pub async fn set_worker_profile(
    store: &(impl Workers + AccountCopies),
    claims: &Claims,
    account_id: Uuid,
    profile: &ValidWorkerProfile,
    request: &Request,
) -> Result<Answer<WorkerProfile>, HiringError> {
    let staff = claims.may::<Staff>(store).await?;
    let keyed = request.keyed(&format!("set-worker-profile {account_id}"), profile)?;
    execute_keyed(store, keyed.as_ref(), || async {
        let current = store
            .worker(account_id)
            .await?
            .ok_or(HiringError::UnknownWorker)?;
        let changed = current.change(profile, staff.account_id(), request.now);
        let event = request.wrap(&changed.set())?;
        let answer = kept(&changed)?;
        let keyed = keyed.as_ref().map(|k| (k, answer.as_str()));
        let saved = store
            .change_worker(&changed, &current, &event, keyed, request.now)
            .await?;
        Ok(attempt(saved, changed, || {
            HiringError::Failed(Failure::ChangedMeanwhile)
        }))
    })
    .await
}

/// A hired worker's profile (staff).
pub async fn worker_profile(
    store: &(impl Workers + AccountCopies),
    claims: &Claims,
    account_id: Uuid,
) -> Result<WorkerProfile, HiringError> {
    claims.may::<Staff>(store).await?;
    store
        .worker(account_id)
        .await?
        .ok_or(HiringError::UnknownWorker)
}
