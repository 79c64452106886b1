//! The shuffle (SPEC T3): every open task goes to a random assignable account. It runs
//! asynchronously, one bounded page at a time per shard of the open-task index; each page commits
//! its reassignments, its events, its progress and the next page together, so a redelivered page
//! changes nothing and no page ever rescans the table.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::task::{pick_assignee, Task, SHARDS};

/// Tasks per page: each takes two items of a transaction (the task and its event), and a
/// transaction holds at most 100.
pub const PAGE_SIZE: usize = 40;

/// One page of work: which shuffle, which shard of open tasks, where in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    pub shuffle_id: Uuid,
    pub shard: u32,
    /// 0 for the first page of a shard.
    pub page: u32,
    /// Where the previous page stopped (the index's last evaluated key).
    pub cursor: Option<HashMap<String, String>>,
    pub correlation_id: String,
}

impl Page {
    /// The key that makes this page's work record unique.
    pub fn work_key(&self) -> String {
        format!("shuffle#{}#{}#{}", self.shuffle_id, self.shard, self.page)
    }

    pub fn next(&self, cursor: HashMap<String, String>) -> Page {
        Page {
            page: self.page + 1,
            cursor: Some(cursor),
            ..self.clone()
        }
    }
}

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
}

#[derive(Debug, Serialize)]
pub struct ShuffleProgress<'a> {
    #[serde(flatten)]
    pub shuffle: &'a Shuffle,
    pub status: &'static str,
}

impl Shuffle {
    pub fn request(requested_by: Uuid, total: u64, now: DateTime<Utc>) -> Shuffle {
        Shuffle {
            shuffle_id: Uuid::now_v7(),
            requested_by,
            requested_at: now,
            total,
            reassigned: 0,
            shards: SHARDS,
            shards_done: 0,
        }
    }

    pub fn status(&self) -> &'static str {
        if self.shards_done >= self.shards {
            "completed"
        } else {
            "running"
        }
    }

    pub fn progress(&self) -> ShuffleProgress<'_> {
        ShuffleProgress {
            shuffle: self,
            status: self.status(),
        }
    }

    /// The first page of every shard.
    pub fn first_pages(&self, correlation_id: &str) -> Vec<Page> {
        (0..self.shards)
            .map(|shard| Page {
                shuffle_id: self.shuffle_id,
                shard,
                page: 0,
                cursor: None,
                correlation_id: correlation_id.to_owned(),
            })
            .collect()
    }
}

/// The reassignments of a page: each open task not yet moved by this shuffle goes to a uniformly
/// random assignable account. Pairs of (before, after).
pub fn reassign_page(
    tasks: &[Task],
    pool: &[Uuid],
    shuffle_id: Uuid,
    rng: &mut impl Rng,
) -> Vec<(Task, Task)> {
    tasks
        .iter()
        .filter_map(|task| {
            let to = pick_assignee(pool, rng)?;
            task.reassign(to, shuffle_id)
                .map(|after| (task.clone(), after))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::{NewTask, Status};
    use rand::SeedableRng;

    fn open_task() -> Task {
        let new = NewTask {
            title: "Fix".into(),
            jira_id: None,
            description: String::new(),
        };
        Task::open(&new, Uuid::now_v7(), Uuid::now_v7(), Utc::now()).unwrap()
    }

    #[test]
    fn a_shuffle_starts_one_page_per_shard_and_completes_when_every_shard_is_done() {
        let mut shuffle = Shuffle::request(Uuid::now_v7(), 10, Utc::now());
        let pages = shuffle.first_pages("c");
        assert_eq!(pages.len(), SHARDS as usize);
        assert!(pages.iter().all(|p| p.page == 0 && p.cursor.is_none()));
        assert_eq!(shuffle.status(), "running");
        shuffle.shards_done = SHARDS;
        assert_eq!(shuffle.status(), "completed");
    }

    #[test]
    fn a_page_reassigns_open_tasks_only() {
        let pool = vec![Uuid::now_v7(), Uuid::now_v7()];
        let mut done = open_task();
        done.status = Status::Done;
        let tasks = vec![open_task(), done, open_task()];
        let shuffle = Uuid::now_v7();
        let moved = reassign_page(
            &tasks,
            &pool,
            shuffle,
            &mut rand::rngs::StdRng::seed_from_u64(3),
        );
        assert_eq!(moved.len(), 2);
        for (before, after) in &moved {
            assert_eq!(before.status, Status::Open);
            assert!(pool.contains(&after.assignee_id));
            assert_eq!(after.last_shuffle_id, Some(shuffle));
        }
        assert!(reassign_page(
            &tasks,
            &[],
            shuffle,
            &mut rand::rngs::StdRng::seed_from_u64(3)
        )
        .is_empty());
    }

    #[test]
    fn pages_have_distinct_work_keys() {
        let shuffle = Shuffle::request(Uuid::now_v7(), 0, Utc::now());
        let first = &shuffle.first_pages("c")[0];
        let second = first.next(HashMap::from([("pk".into(), "TASK#x".into())]));
        assert_ne!(first.work_key(), second.work_key());
        assert_eq!(second.page, 1);
    }
}
