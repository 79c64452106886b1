//! Hiring's events (SPEC M1). Applicants have no account yet, so every event a mail follows
//! from (received, test assigned, accepted, declined) carries the address and the name.
//! `Application.Accepted` is what auth creates the account from: its `account_id` is derived
//! from the application id, the same however often the event is delivered. No event carries
//! the application token, the answers or the answer key.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::only_v1;
use crate::event::{DomainEvent, Envelope, EventError};
use crate::identity::Role;

/// What an applicant wants to become; an accepted application's account gets the role of the
/// same name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Worker,
    Client,
    Manager,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Worker, Kind::Client, Kind::Manager];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Worker => "worker",
            Kind::Client => "client",
            Kind::Manager => "manager",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The role of the account an accepted application of this kind opens.
    pub fn role(self) -> Role {
        match self {
            Kind::Worker => Role::Worker,
            Kind::Client => Role::Client,
            Kind::Manager => Role::Manager,
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A worker's level; the calculator prices by it (SPEC M3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Junior,
    Middle,
    Senior,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::Junior, Level::Middle, Level::Senior];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Junior => "junior",
            Level::Middle => "middle",
            Level::Senior => "senior",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

/// Someone applied (not repeated when the same address applies again for the same kind).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationSubmitted {
    pub application_id: Uuid,
    pub kind: Kind,
    pub email: String,
    pub full_name: String,
    pub submitted_at: DateTime<Utc>,
}

impl DomainEvent for ApplicationSubmitted {
    const NAME: &'static str = "Application.Submitted";
    const VERSION: u32 = 1;
}

/// A worker applicant was given a test, to submit before `deadline`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationTestAssigned {
    pub application_id: Uuid,
    pub email: String,
    pub full_name: String,
    pub profile_id: Uuid,
    pub profile_revision: u64,
    pub deadline: DateTime<Utc>,
    pub assigned_by: Uuid,
    pub assigned_at: DateTime<Utc>,
}

impl DomainEvent for ApplicationTestAssigned {
    const NAME: &'static str = "Application.TestAssigned";
    const VERSION: u32 = 1;
}

/// The applicant submitted the test and it was scored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationTestSubmitted {
    pub application_id: Uuid,
    pub score: u32,
    pub max_score: u32,
    /// The score reached the profile's pass mark.
    pub passed: bool,
    pub submitted_at: DateTime<Utc>,
}

impl DomainEvent for ApplicationTestSubmitted {
    const NAME: &'static str = "Application.TestSubmitted";
    const VERSION: u32 = 1;
}

/// A person accepted the application: auth creates the account `account_id` (once), with the
/// role named like the application's kind, signing in by a mailed code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationAccepted {
    pub application_id: Uuid,
    /// Derived from `application_id`: every delivery names the same account.
    pub account_id: Uuid,
    pub email: String,
    pub full_name: String,
    pub role: Kind,
    pub accepted_by: Uuid,
    pub accepted_at: DateTime<Utc>,
}

impl DomainEvent for ApplicationAccepted {
    const NAME: &'static str = "Application.Accepted";
    const VERSION: u32 = 1;
}

/// The application was declined: by a person (`declined_by`), or by the test's deadline
/// (`declined_by` null). The reason is mailed to the applicant as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationDeclined {
    pub application_id: Uuid,
    pub kind: Kind,
    pub email: String,
    pub full_name: String,
    pub reason: String,
    pub declined_by: Option<Uuid>,
    pub declined_at: DateTime<Utc>,
}

impl DomainEvent for ApplicationDeclined {
    const NAME: &'static str = "Application.Declined";
    const VERSION: u32 = 1;
}

/// A worker's skills and level, at hiring and at every change: a consumer keeps the highest
/// `revision` it has seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerProfileSet {
    pub account_id: Uuid,
    pub skills: Vec<String>,
    pub level: Level,
    pub revision: u64,
    pub set_at: DateTime<Utc>,
}

impl DomainEvent for WorkerProfileSet {
    const NAME: &'static str = "Worker.ProfileSet";
    const VERSION: u32 = 1;
}

pub fn decode_application_submitted(e: &Envelope) -> Result<ApplicationSubmitted, EventError> {
    only_v1(e)
}

pub fn decode_application_test_assigned(
    e: &Envelope,
) -> Result<ApplicationTestAssigned, EventError> {
    only_v1(e)
}

pub fn decode_application_test_submitted(
    e: &Envelope,
) -> Result<ApplicationTestSubmitted, EventError> {
    only_v1(e)
}

pub fn decode_application_accepted(e: &Envelope) -> Result<ApplicationAccepted, EventError> {
    only_v1(e)
}

pub fn decode_application_declined(e: &Envelope) -> Result<ApplicationDeclined, EventError> {
    only_v1(e)
}

pub fn decode_worker_profile_set(e: &Envelope) -> Result<WorkerProfileSet, EventError> {
    only_v1(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Cause;

    fn at() -> DateTime<Utc> {
        "2026-12-01T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn every_hiring_event_round_trips_through_its_decoder_and_schema() {
        let cause = Cause::request("test");
        let id = Uuid::now_v7();
        let accepted = ApplicationAccepted {
            application_id: id,
            account_id: Uuid::new_v5(&Uuid::NAMESPACE_OID, id.as_bytes()),
            email: "kiwi@popug.test".into(),
            full_name: "Kiwi".into(),
            role: Kind::Client,
            accepted_by: Uuid::now_v7(),
            accepted_at: at(),
        };
        let event = Envelope::wrap("hiring", &accepted, &cause, at()).unwrap();
        assert_eq!(decode_application_accepted(&event).unwrap(), accepted);
        let data = serde_json::to_value(&accepted).unwrap();
        crate::schema::check("Application.Accepted", 1, &data).unwrap();

        let declined = ApplicationDeclined {
            application_id: id,
            kind: Kind::Worker,
            email: "kiwi@popug.test".into(),
            full_name: "Kiwi".into(),
            reason: "The deadline passed.".into(),
            declined_by: None,
            declined_at: at(),
        };
        let data = serde_json::to_value(&declined).unwrap();
        crate::schema::check("Application.Declined", 1, &data).unwrap();

        let profile = WorkerProfileSet {
            account_id: accepted.account_id,
            skills: vec!["carpets".into()],
            level: Level::Senior,
            revision: 2,
            set_at: at(),
        };
        let event = Envelope::wrap("hiring", &profile, &cause, at()).unwrap();
        assert_eq!(decode_worker_profile_set(&event).unwrap(), profile);
    }

    #[test]
    fn a_decoder_refuses_another_event_or_version() {
        let cause = Cause::request("test");
        let submitted = ApplicationSubmitted {
            application_id: Uuid::now_v7(),
            kind: Kind::Manager,
            email: "kiwi@popug.test".into(),
            full_name: "Kiwi".into(),
            submitted_at: at(),
        };
        let mut event = Envelope::wrap("hiring", &submitted, &cause, at()).unwrap();
        assert_eq!(decode_application_submitted(&event).unwrap(), submitted);
        assert!(decode_application_accepted(&event).is_err());
        event.version = 2;
        assert!(decode_application_submitted(&event).is_err());
    }

    /// Checked against the registry itself, which every profile compiles.
    #[test]
    fn the_schemas_refuse_what_the_types_never_make() {
        let bad_role = serde_json::json!({
            "application_id": Uuid::now_v7(), "account_id": Uuid::now_v7(),
            "email": "kiwi@popug.test", "full_name": "Kiwi", "role": "admin",
            "accepted_by": Uuid::now_v7(), "accepted_at": at(),
        });
        assert!(crate::schema::check("Application.Accepted", 1, &bad_role).is_err());
        let no_skills = serde_json::json!({
            "account_id": Uuid::now_v7(), "skills": [], "level": "junior", "revision": 1,
            "set_at": at(),
        });
        assert!(crate::schema::check("Worker.ProfileSet", 1, &no_skills).is_err());
    }
}
