//! Tasks (SPEC T2, T4): what a task is, how it is checked, assigned and completed.

use ates_kernel::contracts::tasks::{is_jira_id, TaskAssigned, TaskCompleted, TaskCreated};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::TaskError;

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_DESCRIPTION_CHARS: usize = 4000;
/// Open tasks are spread over this many index partitions, so no single key takes every write
/// and a shuffle fans out over them in parallel.
pub const SHARDS: u32 = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Open,
    Done,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Done => "done",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        [Status::Open, Status::Done]
            .into_iter()
            .find(|st| st.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub task_id: Uuid,
    pub title: String,
    pub jira_id: Option<String>,
    pub description: String,
    pub status: Status,
    pub assignee_id: Uuid,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    /// Grows with every change; every write expects the version it read.
    pub version: u64,
    /// The last shuffle that reassigned this task: a shuffle reassigns a task once, however
    /// often its page is delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_shuffle_id: Option<Uuid>,
}

/// What a caller sends to create a task.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NewTask {
    pub title: String,
    #[serde(default)]
    pub jira_id: Option<String>,
    #[serde(default)]
    pub description: String,
}

/// A task creation that passed its checks: the only thing [`Task::open`] takes, and what a keyed
/// creation is recognised by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidTask {
    pub title: String,
    pub jira_id: Option<String>,
    pub description: String,
}

impl NewTask {
    /// Checked, and the title and description trimmed: a title without brackets (the jira id
    /// has its own field), a jira id shaped like `UBERPOP-42` exactly (or none: absent or null,
    /// never ""), lengths bounded as given. The API document's schema says the same.
    pub fn validate(&self) -> Result<ValidTask, TaskError> {
        let too_long = self.title.chars().count() > MAX_TITLE_CHARS;
        let title = self.title.trim();
        if title.is_empty() {
            return Err(TaskError::Invalid("title must not be empty".into()));
        }
        if too_long {
            return Err(TaskError::Invalid(format!(
                "title is longer than {MAX_TITLE_CHARS} characters"
            )));
        }
        if title.contains(['[', ']']) {
            return Err(TaskError::Invalid(
                "title must not contain [ or ]: put the jira id in jira_id".into(),
            ));
        }
        if title.chars().any(char::is_control) {
            return Err(TaskError::Invalid("title must be printable".into()));
        }
        let jira_id = match self.jira_id.as_deref() {
            None => None,
            Some(id) if is_jira_id(id) => Some(id.to_owned()),
            Some(id) => {
                return Err(TaskError::Invalid(format!(
                    "jira_id {id:?} does not look like UBERPOP-42"
                )))
            }
        };
        if self.description.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(TaskError::Invalid(format!(
                "description is longer than {MAX_DESCRIPTION_CHARS} characters"
            )));
        }
        Ok(ValidTask {
            title: title.to_owned(),
            jira_id,
            description: self.description.trim().to_owned(),
        })
    }
}

impl Task {
    /// A new task, open and assigned at once.
    pub fn open(new: &ValidTask, assignee_id: Uuid, created_by: Uuid, now: DateTime<Utc>) -> Task {
        Task {
            task_id: Uuid::now_v7(),
            title: new.title.clone(),
            jira_id: new.jira_id.clone(),
            description: new.description.clone(),
            status: Status::Open,
            assignee_id,
            created_by,
            created_at: now,
            completed_at: None,
            version: 1,
            last_shuffle_id: None,
        }
    }

    /// `Task.Created`, as this task appeared.
    pub fn created(&self) -> TaskCreated {
        TaskCreated {
            task_id: self.task_id,
            title: self.title.clone(),
            jira_id: self.jira_id.clone(),
            description: self.description.clone(),
            created_by: self.created_by,
            created_at: self.created_at,
            version: self.version,
        }
    }

    /// `Task.Assigned`, to this task's assignee at `at`: from `previous` by the shuffle that
    /// last moved it, or at creation (no previous assignee).
    pub fn assigned(&self, previous: Option<Uuid>, at: DateTime<Utc>) -> TaskAssigned {
        TaskAssigned {
            task_id: self.task_id,
            assignee_id: self.assignee_id,
            previous_assignee_id: previous,
            shuffle_id: previous.and(self.last_shuffle_id),
            assigned_at: at,
            version: self.version,
        }
    }

    /// The partition of the open-task index this task lives in.
    pub fn shard(&self) -> u32 {
        shard_of(self.task_id)
    }

    /// Only the current assignee completes, and only an open task: the done task and its
    /// `Task.Completed`.
    pub fn complete(
        &self,
        by: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(Task, TaskCompleted), TaskError> {
        if by != self.assignee_id {
            return Err(TaskError::NotYours);
        }
        if self.status == Status::Done {
            return Err(TaskError::AlreadyDone);
        }
        let done = Task {
            status: Status::Done,
            completed_at: Some(now),
            version: self.version + 1,
            ..self.clone()
        };
        let completed = TaskCompleted {
            task_id: done.task_id,
            assignee_id: done.assignee_id,
            completed_at: now,
            version: done.version,
        };
        Ok((done, completed))
    }

    /// Reassignment by a shuffle: `None` for a done task, or one this shuffle reassigned already.
    pub fn reassign(&self, to: Uuid, shuffle_id: Uuid) -> Option<Task> {
        let fresh = self.status == Status::Open && self.last_shuffle_id != Some(shuffle_id);
        fresh.then(|| Task {
            assignee_id: to,
            version: self.version + 1,
            last_shuffle_id: Some(shuffle_id),
            ..self.clone()
        })
    }
}

pub fn shard_of(task_id: Uuid) -> u32 {
    // The low bits of a v7 uuid are random.
    (task_id.as_u128() % u128::from(SHARDS)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(title: &str, jira: Option<&str>) -> NewTask {
        NewTask {
            title: title.into(),
            jira_id: jira.map(Into::into),
            description: "d".into(),
        }
    }

    fn valid(title: &str) -> ValidTask {
        new(title, None).validate().unwrap()
    }

    #[test]
    fn a_task_is_open_and_assigned_when_it_appears() {
        let (worker, manager) = (Uuid::now_v7(), Uuid::now_v7());
        let task = Task::open(
            &new(" Fix the nest ", Some("UBERPOP-42"))
                .validate()
                .unwrap(),
            worker,
            manager,
            Utc::now(),
        );
        assert_eq!(
            (task.status, task.assignee_id, task.version),
            (Status::Open, worker, 1)
        );
        assert_eq!(
            (task.title.as_str(), task.jira_id.as_deref()),
            ("Fix the nest", Some("UBERPOP-42"))
        );
    }

    #[test]
    fn titles_with_brackets_empty_or_too_long_are_refused() {
        for title in [
            "[UBERPOP-42] Fix",
            "Fix ]",
            "   ",
            &"x".repeat(MAX_TITLE_CHARS + 1),
            &format!(" {}", "x".repeat(MAX_TITLE_CHARS)),
        ] {
            assert!(
                matches!(new(title, None).validate(), Err(TaskError::Invalid(_))),
                "{title:?}"
            );
        }
        assert!(new(&"x".repeat(MAX_TITLE_CHARS), None).validate().is_ok());
    }

    #[test]
    fn jira_ids_must_look_like_uberpop_42() {
        assert!(new("Fix", Some("uberpop-42")).validate().is_err());
        assert!(new("Fix", Some("POPUG")).validate().is_err());
        for bad in ["", " UBERPOP-42", "UBERPOP-42 ", "UBERPOP-042", "UBERPOP-"] {
            assert!(new("Fix", Some(bad)).validate().is_err(), "{bad:?}");
        }
        assert_eq!(new("Fix", None).validate().unwrap().jira_id, None);
    }

    #[test]
    fn only_the_assignee_completes_and_a_done_task_stays_done() {
        let worker = Uuid::now_v7();
        let task = Task::open(&valid("Fix"), worker, Uuid::now_v7(), Utc::now());
        assert!(matches!(
            task.complete(Uuid::now_v7(), Utc::now()),
            Err(TaskError::NotYours)
        ));
        let (done, completed) = task.complete(worker, Utc::now()).unwrap();
        assert_eq!((completed.assignee_id, completed.version), (worker, 2));
        assert_eq!((done.status, done.version), (Status::Done, 2));
        assert!(matches!(
            done.complete(worker, Utc::now()),
            Err(TaskError::AlreadyDone)
        ));
        assert_eq!(
            done.reassign(Uuid::now_v7(), Uuid::now_v7()),
            None,
            "a completed task stays completed through a shuffle"
        );
    }

    #[test]
    fn a_shuffle_reassigns_a_task_once() {
        let task = Task::open(&valid("Fix"), Uuid::now_v7(), Uuid::now_v7(), Utc::now());
        let (shuffle, other) = (Uuid::now_v7(), Uuid::now_v7());
        let moved = task.reassign(Uuid::now_v7(), shuffle).unwrap();
        assert_eq!(moved.version, 2);
        assert_eq!(
            moved.reassign(Uuid::now_v7(), shuffle),
            None,
            "a redelivered page changes nothing"
        );
        assert!(
            moved.reassign(Uuid::now_v7(), other).is_some(),
            "the next press reassigns again"
        );
    }

    #[test]
    fn open_tasks_spread_over_every_shard() {
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..1000 {
            seen.insert(shard_of(Uuid::now_v7()));
        }
        assert_eq!(seen.len(), SHARDS as usize);
    }
}
