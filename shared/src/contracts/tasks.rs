//! Task events (SPEC T5). Producers emit the current versions: `Task.Created` v3 (`title` +
//! `jira_id`, and the task's `version`), `Task.Assigned` v2 and `Task.Completed` v2 (with the
//! task's `version`, so a consumer can order the events of one task). Consumers read every
//! version through the decoders here: v1's single title may start with the jira id in brackets,
//! and v1 events without a version decode as [`UNVERSIONED`].

use chrono::{DateTime, Utc};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use uuid::Uuid;

use crate::event::{DomainEvent, Envelope, EventError};

/// A task appeared (v3, the current shape): always at version 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskCreated {
    pub task_id: Uuid,
    pub title: String,
    pub jira_id: Option<String>,
    pub description: String,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    /// The task's version after this event (1).
    pub version: u64,
}

impl DomainEvent for TaskCreated {
    const NAME: &'static str = "Task.Created";
    const VERSION: u32 = 3;
}

/// v2: title and jira id apart, no task version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskCreatedV2 {
    pub task_id: Uuid,
    pub title: String,
    pub jira_id: Option<String>,
    pub description: String,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

impl DomainEvent for TaskCreatedV2 {
    const NAME: &'static str = "Task.Created";
    const VERSION: u32 = 2;
}

/// The legacy shape, still accepted from old producers and old event history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskCreatedV1 {
    pub task_id: Uuid,
    pub title: String,
    pub description: String,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

impl DomainEvent for TaskCreatedV1 {
    const NAME: &'static str = "Task.Created";
    const VERSION: u32 = 1;
}

/// A task was given to an assignee: when it appeared, and at every shuffle (v2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskAssigned {
    pub task_id: Uuid,
    pub assignee_id: Uuid,
    pub previous_assignee_id: Option<Uuid>,
    pub shuffle_id: Option<Uuid>,
    pub assigned_at: DateTime<Utc>,
    /// The task's version after this assignment; decoded v1 events, which had none, say 0.
    pub version: u64,
}

impl DomainEvent for TaskAssigned {
    const NAME: &'static str = "Task.Assigned";
    const VERSION: u32 = 2;
}

/// The assignee finished the task (v2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskCompleted {
    pub task_id: Uuid,
    pub assignee_id: Uuid,
    pub completed_at: DateTime<Utc>,
    /// The task's version after completion; decoded v1 events, which had none, say 0.
    pub version: u64,
}

impl DomainEvent for TaskCompleted {
    const NAME: &'static str = "Task.Completed";
    const VERSION: u32 = 2;
}

/// The version of a task that v1 events did not carry: older than any versioned event.
pub const UNVERSIONED: u64 = 0;

/// The payload of a v1 event read into the current shape: the same fields, no version yet.
fn without_version<T: DeserializeOwned>(envelope: &Envelope) -> Result<T, EventError> {
    let mut data = envelope.data.clone();
    if let Some(fields) = data.as_object_mut() {
        fields.insert("version".into(), UNVERSIONED.into());
    }
    Ok(T::deserialize(&data)?)
}

fn unknown_version(envelope: &Envelope, known: &str) -> EventError {
    EventError::Invalid {
        name: envelope.name.clone(),
        version: envelope.version,
        reason: format!("this consumer knows versions {known}"),
    }
}

/// `Task.Created` of any version, in the current shape. The one function every consumer uses.
pub fn decode_task_created(envelope: &Envelope) -> Result<TaskCreated, EventError> {
    let v2 = match envelope.version {
        1 => {
            let v1: TaskCreatedV1 = envelope.decode()?;
            let (title, jira_id) = split_legacy_title(&v1.title);
            TaskCreatedV2 {
                task_id: v1.task_id,
                title,
                jira_id,
                description: v1.description,
                created_by: v1.created_by,
                created_at: v1.created_at,
            }
        }
        2 => envelope.decode()?,
        3 => return envelope.decode(),
        _ => return Err(unknown_version(envelope, "1 to 3")),
    };
    Ok(TaskCreated {
        task_id: v2.task_id,
        title: v2.title,
        jira_id: v2.jira_id,
        description: v2.description,
        created_by: v2.created_by,
        created_at: v2.created_at,
        version: 1,
    })
}

/// `Task.Assigned` of any version, in the current shape.
pub fn decode_task_assigned(envelope: &Envelope) -> Result<TaskAssigned, EventError> {
    match envelope.version {
        1 => without_version(envelope),
        2 => envelope.decode(),
        _ => Err(unknown_version(envelope, "1 and 2")),
    }
}

/// `Task.Completed` of any version, in the current shape.
pub fn decode_task_completed(envelope: &Envelope) -> Result<TaskCompleted, EventError> {
    match envelope.version {
        1 => without_version(envelope),
        2 => envelope.decode(),
        _ => Err(unknown_version(envelope, "1 and 2")),
    }
}

/// `UBERPOP-42`: upper-case project key, a dash, a number.
pub fn is_jira_id(s: &str) -> bool {
    let Some((project, number)) = s.split_once('-') else {
        return false;
    };
    project.len() <= 20
        && project.starts_with(|c: char| c.is_ascii_uppercase())
        && project
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && (1..=10).contains(&number.len())
        && number.chars().all(|c| c.is_ascii_digit())
        && !number.starts_with('0')
}

/// Splits a legacy title `"[UBERPOP-42] Fix the nest"` (or `"[UBERPOP-42]Fix"`, or
/// `"UBERPOP-42 - Fix"`) into `("Fix the nest", Some("UBERPOP-42"))`. Anything else stays as it is,
/// except that stray brackets are dropped, since v2 titles have none.
pub fn split_legacy_title(title: &str) -> (String, Option<String>) {
    let trimmed = title.trim();
    if let Some(rest) = trimmed.strip_prefix('[') {
        if let Some((id, tail)) = rest.split_once(']') {
            let id = id.trim();
            if is_jira_id(id) {
                let tail = tail
                    .trim_start_matches(|c: char| c.is_whitespace() || c == '-' || c == ':')
                    .trim();
                return (clean(tail, id), Some(id.to_owned()));
            }
        }
    }
    if let Some((id, tail)) = trimmed.split_once(" - ") {
        if is_jira_id(id.trim()) {
            return (clean(tail, id.trim()), Some(id.trim().to_owned()));
        }
    }
    (clean(trimmed, ""), None)
}

fn clean(title: &str, fallback: &str) -> String {
    let cleaned: String = title
        .chars()
        .filter(|c| *c != '[' && *c != ']')
        .collect::<String>()
        .trim()
        .to_owned();
    if cleaned.is_empty() {
        fallback.to_owned()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Cause;

    #[test]
    fn legacy_titles_split_into_title_and_jira_id() {
        let cases = [
            (
                "[UBERPOP-42] Fix the nest",
                "Fix the nest",
                Some("UBERPOP-42"),
            ),
            (
                "[UBERPOP-42]Fix the nest",
                "Fix the nest",
                Some("UBERPOP-42"),
            ),
            (
                "  [UBERPOP-7] - Feed the parrots ",
                "Feed the parrots",
                Some("UBERPOP-7"),
            ),
            ("UBERPOP-9 - Count beaks", "Count beaks", Some("UBERPOP-9")),
            ("Fix the nest", "Fix the nest", None),
            ("[not a jira id] Fix", "not a jira id Fix", None),
            ("[UBERPOP-1]", "UBERPOP-1", Some("UBERPOP-1")),
        ];
        for (legacy, title, jira) in cases {
            assert_eq!(
                split_legacy_title(legacy),
                (title.to_owned(), jira.map(str::to_owned)),
                "{legacy}"
            );
        }
    }

    #[test]
    fn jira_ids_look_like_uberpop_42() {
        for good in ["UBERPOP-42", "AB1-7", "X-1"] {
            assert!(is_jira_id(good), "{good}");
        }
        for bad in [
            "uberpop-42",
            "UBERPOP-",
            "-42",
            "UBERPOP-042",
            "UBERPOP42",
            "UBER POP-1",
            "1UBER-2",
            "UBERPOP-4a",
        ] {
            assert!(!is_jira_id(bad), "{bad}");
        }
    }

    #[test]
    fn one_decoder_reads_every_version_of_task_created() {
        let (task, by, at) = (Uuid::now_v7(), Uuid::now_v7(), Utc::now());
        let cause = Cause::request("test");
        let v1 = TaskCreatedV1 {
            task_id: task,
            title: "[UBERPOP-42] Fix the nest".into(),
            description: "d".into(),
            created_by: by,
            created_at: at,
        };
        let v1 = Envelope::wrap("tasks", &v1, &cause, at).unwrap();
        let v2 = TaskCreatedV2 {
            task_id: task,
            title: "Fix the nest".into(),
            jira_id: Some("UBERPOP-42".into()),
            description: "d".into(),
            created_by: by,
            created_at: at,
        };
        let v2 = Envelope::wrap("tasks", &v2, &cause, at).unwrap();
        let v3 = TaskCreated {
            task_id: task,
            title: "Fix the nest".into(),
            jira_id: Some("UBERPOP-42".into()),
            description: "d".into(),
            created_by: by,
            created_at: at,
            version: 1,
        };
        let v3 = Envelope::wrap("tasks", &v3, &cause, at).unwrap();
        let current = decode_task_created(&v3).unwrap();
        assert_eq!(decode_task_created(&v1).unwrap(), current);
        assert_eq!(decode_task_created(&v2).unwrap(), current);
        let mut v4 = v3.clone();
        v4.version = 4;
        assert!(decode_task_created(&v4).is_err());
    }

    #[test]
    fn assignments_and_completions_of_either_version_decode_with_their_order() {
        let (task, who, at) = (Uuid::now_v7(), Uuid::now_v7(), Utc::now());
        let cause = Cause::request("test");
        let v1 = serde_json::json!({"task_id": task, "assignee_id": who, "previous_assignee_id": null,
                                    "shuffle_id": null, "assigned_at": at});
        let mut old = Envelope::wrap(
            "tasks",
            &TaskAssigned {
                task_id: task,
                assignee_id: who,
                previous_assignee_id: None,
                shuffle_id: None,
                assigned_at: at,
                version: 2,
            },
            &cause,
            at,
        )
        .unwrap();
        let new = decode_task_assigned(&old).unwrap();
        assert_eq!(new.version, 2);
        (old.version, old.data) = (1, v1);
        crate::schema::check("Task.Assigned", 1, &old.data).unwrap();
        let decoded = decode_task_assigned(&old).unwrap();
        assert_eq!(decoded.version, UNVERSIONED);
        assert_eq!(
            TaskAssigned {
                version: 2,
                ..decoded
            },
            new
        );

        let completed = TaskCompleted {
            task_id: task,
            assignee_id: who,
            completed_at: at,
            version: 3,
        };
        let mut event = Envelope::wrap("tasks", &completed, &cause, at).unwrap();
        assert_eq!(decode_task_completed(&event).unwrap(), completed);
        event.version = 1;
        event.data.as_object_mut().unwrap().remove("version");
        assert_eq!(decode_task_completed(&event).unwrap().version, UNVERSIONED);
        event.version = 3;
        assert!(decode_task_completed(&event).is_err());
    }

    /// Checked against the registry itself: `Envelope::wrap` checks only in debug builds, and
    /// this must fail in every profile.
    #[test]
    fn a_title_with_brackets_does_not_match_the_schema() {
        let bad = TaskCreated {
            task_id: Uuid::now_v7(),
            title: "[UBERPOP-42] Fix".into(),
            jira_id: None,
            description: String::new(),
            created_by: Uuid::now_v7(),
            created_at: Utc::now(),
            version: 1,
        };
        let data = serde_json::to_value(&bad).unwrap();
        let checked = crate::schema::check(TaskCreated::NAME, TaskCreated::VERSION, &data);
        assert!(checked.is_err());
        let good = TaskCreated {
            title: "Fix".into(),
            jira_id: Some("UBERPOP-42".into()),
            ..bad
        };
        let data = serde_json::to_value(&good).unwrap();
        assert!(crate::schema::check(TaskCreated::NAME, TaskCreated::VERSION, &data).is_ok());
    }
}
