//! The shuffle (SPEC T3): every open task goes to a random assignable account. It runs
//! asynchronously, one bounded page at a time per shard of the open-task index; each page commits
//! its reassignments, its events, its progress and the next page together, so a redelivered page
//! changes nothing and no page ever rescans the table.
//!
//! Open tasks live in the sparse index `gsi2`, spread over 32 shards (`OPEN#<n>`). `POST
//! /tasks/shuffles` writes the job (`JOB#<id>`, `kind` = shuffle, via `job::start`) and one work
//! outbox record per shard, in one transaction. The relay sends work records to the context's work
//! queue; `tasks-shuffle-page` (`lambda::serve_job_pages` → `app::shuffle_page_work`) reads at most
//! [`PAGE_SIZE`] open tasks of its shard from where the previous page stopped, and commits, in one
//! transaction: each reassignment (condition: the version it read, still open), one
//! `Task.Assigned` v2 per task, and `job::page_done` (the job's progress and the next page, keyed
//! `job#<id>#<shard>#<page>` so a redelivered page cancels itself, or the shard's end). A task
//! changed meanwhile is read again and the page retried. A page that gives up (poison, or its last
//! delivery by `MAX_RECEIVE_COUNT` failing) marks the job stalled before it lands in the
//! dead-letter queue; the shuffle then reads `status: stalled`, and a redrive of that page clears
//! it. A million tasks are 25,000 bounded pages, 16 at a time.
//!
//! A release is the same job for one account that can no longer take tasks: its open tasks, read
//! from its partition of the assignee index (`gsi1`, `ASSIGNEE#<id>` / `open#…`), go to random
//! assignable accounts as a shuffle's would, each new assignee charged the fee once (accounting,
//! on `Task.Assigned`). It starts when tasks learns the account event, under an id of that fact
//! (`Shuffle::release`), so a repeated event starts nothing more. Its pages differ in one way:
//! a task moved leaves the account's partition, so a redelivered page reads the account's
//! remaining tasks, not its own; it may move the next page's and end the release, and that page
//! then finds the release ended. Each task still moves once: a move is conditional on the
//! version read, and a task this release moved is not moved by it again.

use ates_kernel::job::{self, Page};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::task::{Task, SHARDS};

/// Tasks per page: each takes two items of a transaction (the task and its event), and a
/// transaction holds at most 100.
pub const PAGE_SIZE: usize = 40;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shuffle {
    pub shuffle_id: Uuid,
    pub requested_by: Uuid,
    pub requested_at: DateTime<Utc>,
    /// Open tasks when it was requested.
    pub total: u64,
    pub reassigned: u64,
    pub shards: u32,
    pub shards_done: u32,
    /// Pages that gave up and wait in the dead-letter queue: the shuffle is stalled until they
    /// are redriven.
    pub stalled_pages: u32,
    /// A release: the open tasks of this account only, which can no longer take tasks
    /// (deactivated, or given a role that takes none), walked on its own partition of the
    /// assignee index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub released: Option<Uuid>,
}

#[derive(Debug, Serialize)]
pub struct ShuffleProgress<'a> {
    #[serde(flatten)]
    pub shuffle: &'a Shuffle,
    pub status: &'static str,
}

impl Shuffle {
    /// A shuffle of `total` open tasks: a paged job over every shard of the open-task index.
    pub fn request(requested_by: Uuid, total: u64, now: DateTime<Utc>) -> Shuffle {
        Shuffle::of_job(
            Uuid::now_v7(),
            requested_by,
            now,
            &job::Progress::new(total, SHARDS),
        )
    }

    /// The release of `account`'s `total` open tasks once it stopped taking tasks at
    /// `revision`: its id is that fact's (so a redelivered or republished account event starts
    /// nothing more), and it is requested by the account itself.
    pub fn release(account: Uuid, revision: u64, total: u64, now: DateTime<Utc>) -> Shuffle {
        let id = Uuid::new_v5(
            &Uuid::NAMESPACE_OID,
            format!("ates.tasks.release:{account}:{revision}").as_bytes(),
        );
        Shuffle {
            released: Some(account),
            ..Shuffle::of_job(id, account, now, &job::Progress::new(total, 1))
        }
    }

    /// The shuffle whose job is at `progress`.
    pub fn of_job(
        shuffle_id: Uuid,
        requested_by: Uuid,
        requested_at: DateTime<Utc>,
        progress: &job::Progress,
    ) -> Shuffle {
        Shuffle {
            shuffle_id,
            requested_by,
            requested_at,
            total: progress.total,
            reassigned: progress.done,
            shards: progress.partitions,
            shards_done: progress.partitions_done,
            stalled_pages: progress.stalled_pages,
            released: None,
        }
    }

    /// The job's view of this shuffle.
    pub fn job(&self) -> job::Progress {
        job::Progress {
            total: self.total,
            done: self.reassigned,
            partitions: self.shards,
            partitions_done: self.shards_done,
            stalled_pages: self.stalled_pages,
        }
    }

    pub fn status(&self) -> &'static str {
        match self.job().status() {
            job::Status::Running => "running",
            job::Status::Stalled => "stalled",
            job::Status::Completed => "completed",
        }
    }

    pub fn progress(&self) -> ShuffleProgress<'_> {
        ShuffleProgress {
            shuffle: self,
            status: self.status(),
        }
    }

    /// The first page of every shard; a release's one page, scoped to its account.
    pub fn first_pages(&self, correlation_id: &str) -> Vec<Page> {
        let mut pages = Page::first_pages(self.shuffle_id, self.shards, correlation_id);
        for page in &mut pages {
            page.scope = self.released.map(|account| account.to_string());
        }
        pages
    }
}

/// The reassignments of a page: each open task not yet moved by this shuffle goes to the
/// account drawn for it (`assignees`, drawn uniformly from the pool, one per task in order; a
/// task without one stays). Pairs of (before, after).
pub fn reassign_page(tasks: &[Task], assignees: &[Uuid], shuffle_id: Uuid) -> Vec<(Task, Task)> {
    tasks
        .iter()
        .zip(assignees)
        .filter_map(|(task, &to)| {
            task.reassign(to, shuffle_id)
                .map(|after| (task.clone(), after))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::{NewTask, Status};

    fn open_task() -> Task {
        let new = NewTask {
            title: "Fix".into(),
            jira_id: None,
            description: String::new(),
        };
        Task::open(
            &new.validate().unwrap(),
            Uuid::now_v7(),
            Uuid::now_v7(),
            Utc::now(),
        )
    }

    #[test]
    fn a_shuffle_starts_one_page_per_shard_and_completes_when_every_shard_is_done() {
        let mut shuffle = Shuffle::request(Uuid::now_v7(), 10, Utc::now());
        let pages = shuffle.first_pages("c");
        assert_eq!(pages.len(), SHARDS as usize);
        assert!(pages.iter().all(|p| p.page == 0 && p.cursor.is_none()));
        assert_eq!(shuffle.status(), "running");
        shuffle.stalled_pages = 1;
        assert_eq!(shuffle.status(), "stalled", "a page gave up");
        shuffle.shards_done = SHARDS;
        assert_eq!(shuffle.status(), "completed");
    }

    #[test]
    fn a_page_reassigns_open_tasks_only() {
        let pool = [Uuid::now_v7(), Uuid::now_v7()];
        let mut done = open_task();
        done.status = Status::Done;
        let tasks = vec![open_task(), done, open_task()];
        let shuffle = Uuid::now_v7();
        let moved = reassign_page(&tasks, &[pool[0], pool[1], pool[1]], shuffle);
        assert_eq!(moved.len(), 2);
        for (before, after) in &moved {
            assert_eq!(before.status, Status::Open);
            assert_eq!(after.last_shuffle_id, Some(shuffle));
        }
        assert_eq!(moved[0].1.assignee_id, pool[0]);
        assert_eq!(moved[1].1.assignee_id, pool[1]);
        assert!(reassign_page(&tasks, &[], shuffle).is_empty());
    }

    #[test]
    fn a_release_is_one_scoped_page_under_the_id_of_the_fact_that_started_it() {
        let account = Uuid::now_v7();
        let release = Shuffle::release(account, 7, 3, Utc::now());
        assert_eq!(
            release.shuffle_id,
            Shuffle::release(account, 7, 3, Utc::now()).shuffle_id
        );
        assert_ne!(
            release.shuffle_id,
            Shuffle::release(account, 9, 3, Utc::now()).shuffle_id,
            "deactivated again after a reactivation: a release of its own"
        );
        let pages = release.first_pages("c");
        assert_eq!(pages.len(), 1);
        assert_eq!(pages[0].scope, Some(account.to_string()));
        let next = pages[0].next(job::Cursor::new());
        assert_eq!(next.scope, pages[0].scope, "every page of it");
        assert!(Shuffle::request(account, 3, Utc::now()).first_pages("c")[0]
            .scope
            .is_none());
    }

    #[test]
    fn pages_have_distinct_work_keys() {
        let shuffle = Shuffle::request(Uuid::now_v7(), 0, Utc::now());
        let first = &shuffle.first_pages("c")[0];
        let second = first.next(job::Cursor::from([("pk".into(), "TASK#x".into())]));
        assert_ne!(first.work_key(), second.work_key());
        assert_eq!(second.page, 1);
    }
}
