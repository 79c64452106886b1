//! Applications (SPEC M1): who applies for what, and the lifecycle. Workers go `new → test →
//! check → accepted | declined`; clients and managers `new → accepted | declined`. `test` and
//! `check` are never chosen by a person: assigning a test moves `new → test`, a submission (or
//! the deadline) moves on from `test`. Accepting and declining are a person's decision.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use ates_kernel::contracts::hiring::{
    ApplicationAccepted, ApplicationDeclined, ApplicationSubmitted, ApplicationTestAssigned,
    ApplicationTestSubmitted,
};
use ates_kernel::identity::Role;

use crate::bank::{Answer, BlankQuestion, Paper, Score};
use crate::error::HiringError;
use crate::token::TokenHash;
use crate::worker::{NewWorkerProfile, ValidWorkerProfile};

pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_REASON_CHARS: usize = 1000;
/// Why the deadline timer declines (the reason mailed to the applicant).
pub const MISSED_DEADLINE: &str = "The test was not submitted before its deadline.";

/// The namespace of the account ids derived from application ids; never change it: auth
/// creates each account once by its id.
const ACCOUNT_NAMESPACE: Uuid = Uuid::from_u128(0x5a1c_3e0f_7b2d_4c8a_9e61_d04f_2b7a_c3e5);

/// What an applicant wants to become (the published language's, as events carry it).
pub use ates_kernel::contracts::hiring::Kind;

/// A kind by its name, or its name in a 4xx.
pub fn kind(name: &str) -> Result<Kind, HiringError> {
    Kind::parse(name).ok_or_else(|| HiringError::UnknownKind(name.to_owned()))
}

/// Managers (and admins, who hold every manager's right) decide worker and client
/// applications; only admins decide manager applications, so nobody makes a peer.
pub fn decides(role: Role, kind: Kind) -> bool {
    match kind {
        Kind::Manager => role == Role::Admin,
        Kind::Worker | Kind::Client => matches!(role, Role::Manager | Role::Admin),
    }
}

/// Which applications a staff listing shows (M1): one status, of one kind if given,
/// submitted within a span of time if given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Filter {
    pub status: Status,
    pub kind: Option<Kind>,
    pub submitted: Option<Span>,
}

/// From `from` (included) until `until` (excluded). Listings compare times to the
/// microsecond, as the table's sort keys hold them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

impl Span {
    pub fn holds(&self, at: DateTime<Utc>) -> bool {
        let micros = at.timestamp_micros();
        self.from.timestamp_micros() <= micros && micros < self.until.timestamp_micros()
    }
}

impl Filter {
    pub fn admits(&self, application: &Application) -> bool {
        application.status == self.status
            && self.kind.is_none_or(|k| application.kind == k)
            && self
                .submitted
                .is_none_or(|span| span.holds(application.submitted_at))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    New,
    Test,
    Check,
    Accepted,
    Declined,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::New,
        Status::Test,
        Status::Check,
        Status::Accepted,
        Status::Declined,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Test => "test",
            Status::Check => "check",
            Status::Accepted => "accepted",
            Status::Declined => "declined",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Not decided yet: the address has an open application of this kind.
    pub fn is_open(self) -> bool {
        !matches!(self, Status::Accepted | Status::Declined)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An application as the public form sends it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NewApplication {
    pub email: String,
    pub full_name: String,
    pub kind: String,
}

/// An application that passed its checks: the address normalised (lower case), the name trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidApplication {
    pub email: String,
    pub full_name: String,
    pub kind: Kind,
}

impl NewApplication {
    pub fn validate(&self) -> Result<ValidApplication, HiringError> {
        let too_long = self.full_name.chars().count() > MAX_NAME_CHARS;
        let full_name = self.full_name.trim();
        if full_name.is_empty() || too_long || full_name.chars().any(char::is_control) {
            return Err(HiringError::Invalid(format!(
                "full_name must be 1 to {MAX_NAME_CHARS} printable characters"
            )));
        }
        Ok(ValidApplication {
            email: address(&self.email)?,
            full_name: full_name.to_owned(),
            kind: kind(&self.kind)?,
        })
    }
}

/// The address in lower case if it is one auth will take for an account: a dot-atom local
/// part of at most 64 characters, `@`, a domain of two or more labels of letters, digits and
/// inner hyphens; 254 at most. (Auth's check of the same shape decides at account creation; an
/// address it refused would leave an accepted applicant without an account.)
pub fn address(email: &str) -> Result<String, HiringError> {
    let email = email.to_ascii_lowercase();
    let bad = || HiringError::BadAddress(email.clone());
    let (local, domain) = email.split_once('@').ok_or_else(bad)?;
    let special = b"!#$%&'*+-/=?^_`{|}~";
    let atom = |a: &str| {
        !a.is_empty()
            && a.bytes()
                .all(|b| b.is_ascii_alphanumeric() || special.contains(&b))
    };
    let label = |l: &str| {
        (1..=63).contains(&l.len())
            && !l.starts_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let fits = email.len() <= 254 && local.len() <= 64;
    if !fits
        || !local.split('.').all(atom)
        || !domain.contains('.')
        || !domain.split('.').all(label)
    {
        return Err(bad());
    }
    Ok(email)
}

/// A decline as a person sends it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NewDecline {
    pub reason: String,
}

impl NewDecline {
    /// The reason, trimmed: 1 to [`MAX_REASON_CHARS`] characters (it is mailed as written).
    pub fn validate(&self) -> Result<String, HiringError> {
        let too_long = self.reason.chars().count() > MAX_REASON_CHARS;
        let reason = self.reason.trim();
        if reason.is_empty() || too_long {
            return Err(HiringError::Invalid(format!(
                "reason must be 1 to {MAX_REASON_CHARS} characters"
            )));
        }
        Ok(reason.to_owned())
    }
}

/// An acceptance as a person sends it: skills and a level for a worker, nothing for the others.
/// Read from a JSON object only: serde would read `[null, null]` as a struct of two fields in
/// order, and every field here may be absent.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(try_from = "serde_json::Map<String, serde_json::Value>")]
pub struct NewAcceptance {
    pub skills: Option<Vec<String>>,
    pub level: Option<String>,
}

/// [`NewAcceptance`]'s fields, as the object names them.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AcceptanceFields {
    #[serde(default)]
    skills: Option<Vec<String>>,
    #[serde(default)]
    level: Option<String>,
}

impl TryFrom<serde_json::Map<String, serde_json::Value>> for NewAcceptance {
    type Error = serde_json::Error;

    fn try_from(object: serde_json::Map<String, serde_json::Value>) -> Result<Self, Self::Error> {
        let AcceptanceFields { skills, level } =
            serde_json::from_value(serde_json::Value::Object(object))?;
        Ok(NewAcceptance { skills, level })
    }
}

impl NewAcceptance {
    /// The worker's profile for a worker application (both fields needed), none for the other
    /// kinds (neither field allowed).
    pub fn validate(&self, kind: Kind) -> Result<Option<ValidWorkerProfile>, HiringError> {
        match (kind, &self.skills, &self.level) {
            (Kind::Worker, Some(skills), Some(level)) => Ok(Some(
                NewWorkerProfile {
                    skills: skills.clone(),
                    level: level.clone(),
                }
                .validate()?,
            )),
            (Kind::Worker, _, _) => Err(HiringError::WorkerProfileNeeded(kind)),
            (_, None, None) => Ok(None),
            (_, _, _) => Err(HiringError::NoWorkerProfileFor(kind)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Application {
    pub application_id: Uuid,
    pub kind: Kind,
    pub email: String,
    pub full_name: String,
    pub status: Status,
    pub token: TokenHash,
    pub submitted_at: DateTime<Utc>,
    /// The test as given (workers, from `test` on).
    pub paper: Option<Paper>,
    pub assigned_by: Option<Uuid>,
    pub assigned_at: Option<DateTime<Utc>>,
    pub deadline: Option<DateTime<Utc>>,
    /// The answers as submitted, and what they scored (from `check` on).
    pub answers: Option<Vec<Answer>>,
    pub answered_at: Option<DateTime<Utc>>,
    pub score: Option<Score>,
    /// Who decided (none when the deadline declined it), when, and why a decline.
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decline_reason: Option<String>,
    /// Grows with every change; every write expects the version it read.
    pub version: u64,
}

/// An application as staff read it: everything but its token's hash, which only ever checks
/// a token (the answer to a keyed decision is kept in this form too); once accepted, the
/// account it became (where a worker's skills are changed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review<'a>(pub &'a Application);

impl Serialize for Review<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut value = serde_json::to_value(self.0).map_err(serde::ser::Error::custom)?;
        if let Some(fields) = value.as_object_mut() {
            fields.remove("token");
            if self.0.status == Status::Accepted {
                fields.insert("account_id".into(), self.0.account_id().to_string().into());
            }
        }
        value.serialize(serializer)
    }
}

/// What the applicant sees of their application: no points, no other answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApplicantView {
    pub application_id: Uuid,
    pub kind: Kind,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_score: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test: Option<BlankTest>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlankTest {
    pub questions: Vec<BlankQuestion>,
}

/// The account an accepted application becomes: the same id from every attempt, so auth
/// creates it once however often the acceptance reaches it.
pub fn account_id_of(application_id: Uuid) -> Uuid {
    Uuid::new_v5(&ACCOUNT_NAMESPACE, application_id.as_bytes())
}

impl Application {
    /// A new application, guarded by `token`.
    pub fn submit(new: &ValidApplication, token: TokenHash, now: DateTime<Utc>) -> Application {
        Application {
            // Random, not time-ordered: an id answered to a second application of the same
            // address must not tell when the first was made.
            application_id: Uuid::new_v4(),
            kind: new.kind,
            email: new.email.clone(),
            full_name: new.full_name.clone(),
            status: Status::New,
            token,
            submitted_at: now,
            paper: None,
            assigned_by: None,
            assigned_at: None,
            deadline: None,
            answers: None,
            answered_at: None,
            score: None,
            decided_by: None,
            decided_at: None,
            decline_reason: None,
            version: 1,
        }
    }

    /// The same address applied again for the same kind while this is open: nothing new, but a
    /// fresh token (the old one stops working: only a hash was kept, so it cannot be mailed again).
    pub fn reissue(&self, token: TokenHash) -> Result<Application, HiringError> {
        self.must_be(
            &[Status::New, Status::Test, Status::Check],
            "take a new token",
        )?;
        Ok(Application {
            token,
            version: self.version + 1,
            ..self.clone()
        })
    }

    fn must_be(&self, allowed: &[Status], action: &'static str) -> Result<(), HiringError> {
        if allowed.contains(&self.status) {
            Ok(())
        } else {
            Err(HiringError::WrongState {
                status: self.status,
                action,
            })
        }
    }

    /// The account this application becomes if accepted.
    pub fn account_id(&self) -> Uuid {
        account_id_of(self.application_id)
    }

    /// A worker application in `new` is given a test and moves to `test` by itself, with a
    /// deadline `time_limit_days` from now.
    pub fn assign_test(
        &self,
        paper: Paper,
        by: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(Application, ApplicationTestAssigned), HiringError> {
        if self.kind != Kind::Worker {
            return Err(HiringError::NoTestFor(self.kind));
        }
        self.must_be(&[Status::New], "be given a test")?;
        let deadline = now + Duration::days(i64::from(paper.time_limit_days));
        let assigned = ApplicationTestAssigned {
            application_id: self.application_id,
            email: self.email.clone(),
            full_name: self.full_name.clone(),
            profile_id: paper.profile_id,
            profile_revision: paper.profile_revision,
            deadline,
            assigned_by: by,
            assigned_at: now,
        };
        let testing = Application {
            status: Status::Test,
            paper: Some(paper),
            assigned_by: Some(by),
            assigned_at: Some(now),
            deadline: Some(deadline),
            version: self.version + 1,
            ..self.clone()
        };
        Ok((testing, assigned))
    }

    /// The applicant's answers, once, before the deadline: scored at once against the paper
    /// they were given, and the application moves to `check` by itself.
    pub fn answer(
        &self,
        answers: &[Answer],
        now: DateTime<Utc>,
    ) -> Result<(Application, ApplicationTestSubmitted), HiringError> {
        self.must_be(&[Status::Test], "take answers")?;
        let (Some(paper), Some(deadline)) = (&self.paper, self.deadline) else {
            return Err(HiringError::WrongState {
                status: self.status,
                action: "take answers without a test",
            });
        };
        if now >= deadline {
            return Err(HiringError::Late);
        }
        let score = paper.score(answers)?;
        let submitted = ApplicationTestSubmitted {
            application_id: self.application_id,
            score: score.score,
            max_score: score.max_score,
            passed: score.passed,
            submitted_at: now,
        };
        let checked = Application {
            status: Status::Check,
            answers: Some(answers.to_vec()),
            answered_at: Some(now),
            score: Some(score),
            version: self.version + 1,
            ..self.clone()
        };
        Ok((checked, submitted))
    }

    /// A person accepts: a worker from `check`, a client or a manager from `new`, each by a role
    /// that decides its kind. The event names the account auth creates.
    pub fn accept(
        &self,
        role: Role,
        by: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(Application, ApplicationAccepted), HiringError> {
        if !decides(role, self.kind) {
            return Err(HiringError::NotYourDecision);
        }
        let from = if self.kind == Kind::Worker {
            Status::Check
        } else {
            Status::New
        };
        self.must_be(&[from], "be accepted")?;
        let accepted = ApplicationAccepted {
            application_id: self.application_id,
            account_id: self.account_id(),
            email: self.email.clone(),
            full_name: self.full_name.clone(),
            role: self.kind,
            accepted_by: by,
            accepted_at: now,
        };
        Ok((
            self.decided(Status::Accepted, Some(by), None, now),
            accepted,
        ))
    }

    /// A person declines, from `new` or `check`, with the reason the applicant is mailed.
    pub fn decline(
        &self,
        role: Role,
        by: Uuid,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(Application, ApplicationDeclined), HiringError> {
        if !decides(role, self.kind) {
            return Err(HiringError::NotYourDecision);
        }
        self.must_be(&[Status::New, Status::Check], "be declined")?;
        Ok(self.declined(Some(by), reason, now))
    }

    /// The deadline timer: a test not submitted by its deadline declines the application.
    /// `None` when there is nothing to do (submitted, decided, or not due yet).
    pub fn miss_deadline(&self, now: DateTime<Utc>) -> Option<(Application, ApplicationDeclined)> {
        let due = self.status == Status::Test && self.deadline.is_some_and(|d| now >= d);
        due.then(|| self.declined(None, MISSED_DEADLINE, now))
    }

    fn declined(
        &self,
        by: Option<Uuid>,
        reason: &str,
        now: DateTime<Utc>,
    ) -> (Application, ApplicationDeclined) {
        let declined = ApplicationDeclined {
            application_id: self.application_id,
            kind: self.kind,
            email: self.email.clone(),
            full_name: self.full_name.clone(),
            reason: reason.to_owned(),
            declined_by: by,
            declined_at: now,
        };
        (
            self.decided(Status::Declined, by, Some(reason), now),
            declined,
        )
    }

    fn decided(
        &self,
        status: Status,
        by: Option<Uuid>,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Application {
        Application {
            status,
            decided_by: by,
            decided_at: Some(now),
            decline_reason: reason.map(str::to_owned),
            version: self.version + 1,
            ..self.clone()
        }
    }

    /// What staff see.
    pub fn review(&self) -> Review<'_> {
        Review(self)
    }

    /// What the applicant sees: the test without points while it is theirs to take.
    pub fn applicant_view(&self) -> ApplicantView {
        let test = (self.status == Status::Test)
            .then_some(self.paper.as_ref())
            .flatten()
            .map(|p| BlankTest {
                questions: p.blank(),
            });
        ApplicantView {
            application_id: self.application_id,
            kind: self.kind,
            status: self.status,
            deadline: self.deadline,
            score: self.score.map(|s| s.score),
            max_score: self.score.map(|s| s.max_score),
            passed: self.score.map(|s| s.passed),
            test,
        }
    }
}

impl Application {
    /// `Application.Submitted`, as it was received.
    pub fn submitted(&self) -> ApplicationSubmitted {
        ApplicationSubmitted {
            application_id: self.application_id,
            kind: self.kind,
            email: self.email.clone(),
            full_name: self.full_name.clone(),
            submitted_at: self.submitted_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bank::{NewChoice, NewProfile, NewQuestion, NewTest, Profile, Question, Test};
    use crate::token::Token;
    use rand::SeedableRng;

    fn now() -> DateTime<Utc> {
        "2026-12-01T10:00:00Z".parse().unwrap()
    }

    fn apply(kind: &str) -> Application {
        let new = NewApplication {
            email: " Kiwi@Popug.Test".trim().into(),
            full_name: " Kiwi Popug ".into(),
            kind: kind.into(),
        };
        let token = Token::issue(&mut rand::rngs::StdRng::seed_from_u64(3), now());
        Application::submit(&new.validate().unwrap(), token.kept, now())
    }

    /// One question: option 0 is worth 4 points, option 1 nothing; pass mark 4, seven days.
    fn paper() -> Paper {
        let question = Question::create(
            &NewQuestion {
                text: "Which seed?".into(),
                options: vec![
                    NewChoice {
                        text: "Sunflower".into(),
                        points: 4,
                    },
                    NewChoice {
                        text: "Gravel".into(),
                        points: 0,
                    },
                ],
            }
            .validate()
            .unwrap(),
            now(),
        );
        let test = Test::create(
            &NewTest {
                title: "Seeds".into(),
                question_ids: vec![question.question_id],
            }
            .validate()
            .unwrap(),
            std::slice::from_ref(&question),
            now(),
        )
        .unwrap();
        let profile = Profile::create(
            &NewProfile {
                name: "Sorter".into(),
                test_ids: vec![test.test_id],
                pass_mark: 4,
                time_limit_days: 7,
            }
            .validate()
            .unwrap(),
            std::slice::from_ref(&test),
            std::slice::from_ref(&question),
            now(),
        )
        .unwrap();
        Paper::assemble(&profile, &[test], &[question]).unwrap()
    }

    fn right_answer(paper: &Paper) -> Vec<Answer> {
        let q = &paper.questions[0];
        vec![Answer {
            question_id: q.question_id,
            option_ids: vec![q.options[0].option_id],
        }]
    }

    fn manager() -> Uuid {
        Uuid::from_u128(42)
    }

    #[test]
    fn an_application_starts_new_with_its_address_in_lower_case() {
        let application = apply("worker");
        assert_eq!(application.status, Status::New);
        assert_eq!(application.email, "kiwi@popug.test");
        assert_eq!(application.full_name, "Kiwi Popug");
        assert_eq!(application.version, 1);
    }

    #[test]
    fn an_unknown_kind_and_a_bad_address_are_refused_by_name() {
        let new = |email: &str, kind: &str| NewApplication {
            email: email.into(),
            full_name: "Kiwi".into(),
            kind: kind.into(),
        };
        assert!(
            matches!(new("k@popug.test", "parrot").validate(), Err(HiringError::UnknownKind(k)) if k == "parrot")
        );
        for bad in [
            "kiwi",
            "kiwi@popug",
            "@popug.test",
            "ki wi@popug.test",
            "k@-popug.test",
            "k..i@popug.test",
        ] {
            assert!(
                matches!(
                    new(bad, "client").validate(),
                    Err(HiringError::BadAddress(_))
                ),
                "{bad}"
            );
        }
        assert!(new("k@popug.test", "client").validate().is_ok());
        assert!(
            new("k@popug.test", "admin").validate().is_err(),
            "nobody applies to be an admin"
        );
    }

    #[test]
    fn a_worker_goes_new_test_check_accepted_by_itself_but_for_the_decision() {
        let paper = paper();
        let new = apply("worker");
        let testing = new.assign_test(paper.clone(), manager(), now()).unwrap().0;
        assert_eq!(testing.status, Status::Test);
        assert_eq!(testing.deadline, Some(now() + Duration::days(7)));
        let checked = testing
            .answer(&right_answer(&paper), now() + Duration::days(1))
            .unwrap()
            .0;
        assert_eq!(checked.status, Status::Check);
        let score = checked.score.unwrap();
        assert_eq!((score.score, score.max_score, score.passed), (4, 4, true));
        let accepted = checked.accept(Role::Manager, manager(), now()).unwrap().0;
        assert_eq!(accepted.status, Status::Accepted);
        assert_eq!(accepted.decided_by, Some(manager()));
        assert_eq!(accepted.version, 4);
    }

    #[test]
    fn a_worker_is_not_accepted_before_the_test_is_checked() {
        let new = apply("worker");
        assert!(matches!(
            new.accept(Role::Manager, manager(), now()),
            Err(HiringError::WrongState {
                status: Status::New,
                ..
            })
        ));
        let testing = new.assign_test(paper(), manager(), now()).unwrap().0;
        assert!(matches!(
            testing.accept(Role::Manager, manager(), now()),
            Err(HiringError::WrongState {
                status: Status::Test,
                ..
            })
        ));
        assert!(matches!(
            testing.decline(Role::Manager, manager(), "no", now()),
            Err(HiringError::WrongState {
                status: Status::Test,
                ..
            })
        ));
    }

    #[test]
    fn clients_and_managers_are_decided_from_new_without_a_test() {
        for kind in ["client", "manager"] {
            let new = apply(kind);
            assert!(matches!(
                new.assign_test(paper(), manager(), now()),
                Err(HiringError::NoTestFor(_))
            ));
            let accepted = new.accept(Role::Admin, manager(), now()).unwrap().0;
            assert_eq!(accepted.status, Status::Accepted);
            assert!(matches!(
                accepted.decline(Role::Admin, manager(), "late", now()),
                Err(HiringError::WrongState {
                    status: Status::Accepted,
                    ..
                })
            ));
        }
    }

    #[test]
    fn managers_decide_workers_and_clients_and_only_admins_decide_managers() {
        for (kind, role, allowed) in [
            (Kind::Worker, Role::Manager, true),
            (Kind::Client, Role::Manager, true),
            (Kind::Client, Role::Admin, true),
            (Kind::Manager, Role::Manager, false),
            (Kind::Manager, Role::Admin, true),
            (Kind::Client, Role::Accountant, false),
            (Kind::Worker, Role::Worker, false),
        ] {
            assert_eq!(decides(role, kind), allowed, "{kind} by {role}");
        }
        assert!(matches!(
            apply("manager").accept(Role::Manager, manager(), now()),
            Err(HiringError::NotYourDecision)
        ));
        assert!(matches!(
            apply("manager").decline(Role::Manager, manager(), "no", now()),
            Err(HiringError::NotYourDecision)
        ));
    }

    #[test]
    fn a_test_is_submitted_once_and_before_its_deadline() {
        let paper = paper();
        let testing = apply("worker")
            .assign_test(paper.clone(), manager(), now())
            .unwrap()
            .0;
        let deadline = testing.deadline.unwrap();
        assert!(matches!(
            testing.answer(&right_answer(&paper), deadline),
            Err(HiringError::Late)
        ));
        let checked = testing
            .answer(&right_answer(&paper), deadline - Duration::seconds(1))
            .unwrap()
            .0;
        assert!(matches!(
            checked.answer(&right_answer(&paper), now()),
            Err(HiringError::WrongState {
                status: Status::Check,
                ..
            })
        ));
    }

    #[test]
    fn the_deadline_declines_a_test_not_submitted_and_nothing_else() {
        let paper = paper();
        let testing = apply("worker")
            .assign_test(paper.clone(), manager(), now())
            .unwrap()
            .0;
        let deadline = testing.deadline.unwrap();
        assert_eq!(testing.miss_deadline(deadline - Duration::seconds(1)), None);
        let declined = testing.miss_deadline(deadline).unwrap().0;
        assert_eq!(declined.status, Status::Declined);
        assert_eq!(
            (declined.decided_by, declined.decline_reason.as_deref()),
            (None, Some(MISSED_DEADLINE))
        );
        let checked = testing.answer(&right_answer(&paper), now()).unwrap().0;
        assert_eq!(checked.miss_deadline(deadline + Duration::days(1)), None);
    }

    #[test]
    fn a_declined_application_keeps_its_reason() {
        let declined = apply("client")
            .decline(Role::Manager, manager(), "Not now", now())
            .unwrap()
            .0;
        assert_eq!(declined.status, Status::Declined);
        assert_eq!(declined.decline_reason.as_deref(), Some("Not now"));
        assert!(NewDecline {
            reason: "  ".into()
        }
        .validate()
        .is_err());
        assert!(NewDecline {
            reason: "x".repeat(MAX_REASON_CHARS + 1)
        }
        .validate()
        .is_err());
    }

    #[test]
    fn a_worker_is_accepted_with_skills_and_a_level_and_the_others_without() {
        let worker = NewAcceptance {
            skills: Some(vec!["carpets".into()]),
            level: Some("junior".into()),
        };
        assert!(worker.validate(Kind::Worker).unwrap().is_some());
        assert!(matches!(
            NewAcceptance::default().validate(Kind::Worker),
            Err(HiringError::WorkerProfileNeeded(_))
        ));
        assert_eq!(
            NewAcceptance::default().validate(Kind::Client).unwrap(),
            None
        );
        assert!(matches!(
            worker.validate(Kind::Manager),
            Err(HiringError::NoWorkerProfileFor(_))
        ));
    }

    #[test]
    fn the_account_id_is_derived_from_the_application_id() {
        let application = apply("client");
        assert_eq!(
            application.account_id(),
            account_id_of(application.application_id)
        );
        assert_eq!(
            application.account_id(),
            apply_again(&application).account_id()
        );
        assert_ne!(application.account_id(), apply("client").account_id());
    }

    fn apply_again(application: &Application) -> Application {
        let token = Token::issue(&mut rand::rngs::StdRng::seed_from_u64(9), now());
        application.reissue(token.kept).unwrap()
    }

    #[test]
    fn applying_again_while_open_only_renews_the_token() {
        let first = apply("worker");
        let again = apply_again(&first);
        assert_ne!(again.token, first.token);
        assert_eq!(
            (again.application_id, again.status, again.version),
            (first.application_id, Status::New, 2)
        );
        let declined = first
            .decline(Role::Manager, manager(), "no", now())
            .unwrap()
            .0;
        assert!(declined.reissue(again.token).is_err());
    }

    #[test]
    fn the_applicant_sees_the_test_without_points_and_then_the_score() {
        let paper = paper();
        let testing = apply("worker")
            .assign_test(paper.clone(), manager(), now())
            .unwrap()
            .0;
        let view = testing.applicant_view();
        assert_eq!(view.test.as_ref().unwrap().questions.len(), 1);
        assert!(!serde_json::to_string(&view).unwrap().contains("points"));
        let checked = testing
            .answer(&right_answer(&paper), now())
            .unwrap()
            .0
            .applicant_view();
        assert_eq!(
            (checked.score, checked.max_score, checked.passed),
            (Some(4), Some(4), Some(true))
        );
        assert!(checked.test.is_none());
    }

    /// Checked against the registry itself, so it fails in every profile.
    #[test]
    fn every_step_publishes_its_event_as_its_schema_says() {
        fn check(name: &str, event: &impl serde::Serialize) {
            let data = serde_json::to_value(event).unwrap();
            ates_kernel::schema::check(name, 1, &data).unwrap_or_else(|e| panic!("{e}"));
        }
        let paper = paper();
        let new = apply("worker");
        let (testing, assigned) = new.assign_test(paper.clone(), manager(), now()).unwrap();
        let (checked, submitted) = testing.answer(&right_answer(&paper), now()).unwrap();
        let (_, accepted) = checked.accept(Role::Manager, manager(), now()).unwrap();
        let (_, declined) = testing.miss_deadline(now() + Duration::days(8)).unwrap();
        check("Application.Submitted", &new.submitted());
        check("Application.TestAssigned", &assigned);
        check("Application.TestSubmitted", &submitted);
        check("Application.Accepted", &accepted);
        check("Application.Declined", &declined);
        assert_eq!(
            (accepted.account_id, accepted.role),
            (account_id_of(new.application_id), Kind::Worker)
        );
        assert_eq!(
            (declined.declined_by, declined.reason.as_str()),
            (None, MISSED_DEADLINE)
        );
        assert_eq!((submitted.score, submitted.passed), (4, true));
    }

    #[test]
    fn an_acceptance_is_read_from_an_object_only() {
        let read = |json: &str| serde_json::from_str::<NewAcceptance>(json);
        assert!(read("[null, null]").is_err(), "not from an array");
        assert!(read(r#"{"rank": 1}"#).is_err(), "no unknown field");
        let none = read("{}").unwrap();
        assert_eq!((none.skills, none.level), (None, None));
        let worker = read(r#"{"skills": ["carpets"], "level": "junior"}"#).unwrap();
        assert_eq!(worker.level.as_deref(), Some("junior"));
    }
}
