//! N4: a rebuild of the projections from the bus's archive. The archive is replayed, through
//! analytics' own rules only, into a fresh generation; the generation answering the routes
//! keeps answering until the new one has caught up (the replay is complete and the queues it
//! fed are empty), and then it is switched to. One rebuild at a time.
//!
//! The projections live under a generation number (`META` / `GENERATIONS`, `G<g>#…`). `POST
//! /analytics/rebuilds` (`app::start_rebuild`) records the rebuild and a new generation in one
//! transaction (409 while one runs), then asks EventBridge to replay the bus's archive
//! (`EventArchive` in the template) up to now, filtered to analytics' two projection rules, so no
//! other context ever sees a replayed event. A consumer is told a delivery was replayed
//! (`replay-name`, `Delivery::replayed`): replayed events go only to the new generation, live
//! ones to both (`Generations::targets`). `analytics-settle-rebuild` (every minute) switches in
//! one conditional write once it finds the replay `COMPLETED` and both projection queues empty.
//! A failed replay ends the rebuild; its half-filled generation is never reused (`newest`). The
//! account copy (`ACCOUNT#<id>`, for the caller check) belongs to no generation and is not
//! replayed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::projection::Generations;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RebuildStatus {
    /// The archive is being replayed into the new generation.
    Replaying,
    /// The new generation caught up and answers the routes.
    Completed,
    /// The replay failed or was cancelled; the generation that answered still does.
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rebuild {
    pub rebuild_id: Uuid,
    /// The generation being filled.
    pub generation: u32,
    /// The generation that answered when the rebuild started.
    pub replacing: u32,
    pub status: RebuildStatus,
    pub started_at: DateTime<Utc>,
    /// The replay covers the archive up to here; events after it reach both generations live.
    pub replay_until: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

/// How far the replay of a rebuild has come, as the bus tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplayState {
    /// Still replaying; the archive has been replayed up to `through`, if anything yet.
    Running {
        through: Option<DateTime<Utc>>,
    },
    Completed,
    Failed(String),
}

impl Rebuild {
    /// A rebuild into the next generation, unless one is under way (its id, then).
    pub fn start(
        generations: &Generations,
        rebuild_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(Rebuild, Generations), Uuid> {
        if let Some(running) = generations.rebuild_id {
            return Err(running);
        }
        let generation = generations.current.max(generations.newest) + 1;
        let rebuild = Rebuild {
            rebuild_id,
            generation,
            replacing: generations.current,
            status: RebuildStatus::Replaying,
            started_at: now,
            replay_until: now,
            finished_at: None,
            failure: None,
        };
        let after = Generations {
            current: generations.current,
            building: Some(generation),
            newest: generation,
            rebuild_id: Some(rebuild_id),
        };
        Ok((rebuild, after))
    }

    /// The replay's name on the bus (at most 64 characters: letters, digits, `.`, `-`, `_`).
    pub fn replay_name(&self) -> String {
        format!("analytics-{}", self.rebuild_id.simple())
    }

    /// What the rebuild comes to, given its replay and whether the queues it fed are empty:
    /// the rebuild and generations to write, or `None` while it is still under way.
    pub fn settle(
        &self,
        generations: &Generations,
        replay: &ReplayState,
        drained: bool,
        now: DateTime<Utc>,
    ) -> Option<(Rebuild, Generations)> {
        if self.status != RebuildStatus::Replaying
            || generations.rebuild_id != Some(self.rebuild_id)
        {
            return None;
        }
        let ended = |status, failure| Rebuild {
            status,
            finished_at: Some(now),
            failure,
            ..self.clone()
        };
        match replay {
            ReplayState::Running { .. } => None,
            ReplayState::Completed if !drained => None,
            ReplayState::Completed => Some((
                ended(RebuildStatus::Completed, None),
                Generations {
                    current: self.generation,
                    building: None,
                    newest: generations.newest,
                    rebuild_id: None,
                },
            )),
            ReplayState::Failed(reason) => Some((
                ended(RebuildStatus::Failed, Some(reason.clone())),
                Generations {
                    current: generations.current,
                    building: None,
                    newest: generations.newest,
                    rebuild_id: None,
                },
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-11-22T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_rebuild_fills_a_generation_never_used_before_and_only_one_runs() {
        let first = Generations::default();
        let (rebuild, during) = Rebuild::start(&first, Uuid::new_v4(), now()).unwrap();
        assert_eq!((rebuild.generation, rebuild.replacing), (2, 1));
        assert_eq!(during.targets(false), [1, 2], "live events reach both");
        assert_eq!(during.targets(true), [2], "replayed ones only the new");
        assert_eq!(
            Rebuild::start(&during, Uuid::new_v4(), now()).unwrap_err(),
            rebuild.rebuild_id
        );

        // A failed rebuild's generation is never filled again: its items may be half there.
        let failed = ReplayState::Failed("cancelled".into());
        let (gone, after) = rebuild.settle(&during, &failed, true, now()).unwrap();
        assert_eq!(gone.status, RebuildStatus::Failed);
        assert_eq!((after.current, after.building), (1, None));
        let (next, _) = Rebuild::start(&after, Uuid::new_v4(), now()).unwrap();
        assert_eq!(next.generation, 3);
    }

    #[test]
    fn the_new_generation_answers_only_once_the_replay_is_done_and_the_queues_are_empty() {
        let (rebuild, during) =
            Rebuild::start(&Generations::default(), Uuid::new_v4(), now()).unwrap();
        let running = ReplayState::Running { through: None };
        assert_eq!(rebuild.settle(&during, &running, true, now()), None);
        assert_eq!(
            rebuild.settle(&during, &ReplayState::Completed, false, now()),
            None,
            "replayed events still wait in a queue"
        );
        let (done, after) = rebuild
            .settle(&during, &ReplayState::Completed, true, now())
            .unwrap();
        assert_eq!(done.status, RebuildStatus::Completed);
        assert_eq!((after.current, after.building), (2, None));
        assert_eq!(after.targets(true), Vec::<u32>::new());
        assert_eq!(
            done.settle(&after, &ReplayState::Completed, true, now()),
            None,
            "settled once"
        );
    }

    #[test]
    fn a_replay_name_is_one_the_bus_takes() {
        let (rebuild, _) = Rebuild::start(&Generations::default(), Uuid::new_v4(), now()).unwrap();
        let name = rebuild.replay_name();
        assert!(name.len() <= 64);
        assert!(name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c)));
    }
}
