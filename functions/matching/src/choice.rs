//! The choice of an executor (SPEC M4), as a pure function of what was read: among the workers
//! with the order's skill, those with no other booked order overlapping its slot; of them, the
//! one with the fewest orders matched to them over the last 7 days; a tie is broken by a draw
//! the caller makes at random (so a test can fix it). Every worker considered is kept with the
//! reason they were or were not chosen: managers read it (`GET /matching/orders/{id}`).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How far back a worker's load is counted.
pub fn load_window() -> Duration {
    Duration::days(7)
}

/// When the work is done: from `start` up to, not including, `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Slot {
    /// Whether the two slots share a moment. One that ends when the other starts does not: a
    /// worker can finish one order at 12:00 and begin the next at 12:00.
    pub fn overlaps(&self, other: &Slot) -> bool {
        self.start < other.end && other.start < self.end
    }
}

/// An order booked to a worker: the worker is busy during its slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Booking {
    pub worker_id: Uuid,
    pub order_id: Uuid,
    pub slot: Slot,
    pub matched_at: DateTime<Utc>,
}

/// A worker's bookings as read, with the version of their schedule: a booking is written only
/// if the schedule is still at this version, so two orders never book one worker from the same
/// reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub worker_id: Uuid,
    pub version: u64,
    pub bookings: Vec<Booking>,
}

impl Schedule {
    /// Whether another order booked to this worker overlaps `slot`.
    pub fn busy_during(&self, order_id: Uuid, slot: &Slot) -> bool {
        self.bookings
            .iter()
            .any(|b| b.order_id != order_id && b.slot.overlaps(slot))
    }

    /// The orders matched to this worker in the 7 days up to `now`: an order matched exactly 7
    /// days ago no longer counts.
    pub fn orders_in_last_7_days(&self, now: DateTime<Utc>) -> u32 {
        let since = now - load_window();
        let recent = self
            .bookings
            .iter()
            .filter(|b| b.matched_at > since && b.matched_at <= now)
            .count();
        u32::try_from(recent).unwrap_or(u32::MAX)
    }
}

/// Why a worker with the skill was or was not chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Why {
    #[serde(rename = "chosen")]
    Chosen,
    /// Another order of theirs overlaps the slot.
    #[serde(rename = "busy")]
    Busy,
    /// They were this order's executor and were released from it.
    #[serde(rename = "released")]
    Released,
    /// Someone free had fewer orders in the last 7 days.
    #[serde(rename = "more orders")]
    MoreOrders,
    /// As few orders as the chosen one; the draw went the other way.
    #[serde(rename = "tie lost")]
    TieLost,
}

/// One worker considered for an order, and why they were or were not chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub worker_id: Uuid,
    pub chosen: bool,
    pub orders_in_last_7_days: u32,
    pub why: Why,
}

/// What the choice came to: every worker considered (by id), and the one chosen, if anyone was
/// free.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub executor_id: Option<Uuid>,
    pub candidates: Vec<Candidate>,
}

impl Choice {
    /// How many workers could have done it (free, not released from it).
    pub fn eligible(&self) -> u32 {
        let n = self
            .candidates
            .iter()
            .filter(|c| !matches!(c.why, Why::Busy | Why::Released))
            .count();
        u32::try_from(n).unwrap_or(u32::MAX)
    }
}

/// Chooses the executor of `order_id` for `slot` among the workers whose `schedules` are given
/// (every active worker with the order's skill), never one of `excluded` (released from this
/// order). `draw` breaks a tie: the tied workers in id order, the `draw % n`-th.
pub fn choose(
    order_id: Uuid,
    slot: &Slot,
    schedules: &[Schedule],
    excluded: &[Uuid],
    now: DateTime<Utc>,
    draw: u64,
) -> Choice {
    let mut considered: Vec<(&Schedule, u32)> = schedules
        .iter()
        .map(|s| (s, s.orders_in_last_7_days(now)))
        .collect();
    // The same candidates in the same order whatever order the store read them in.
    considered.sort_by_key(|(s, _)| s.worker_id);
    considered.dedup_by_key(|(s, _)| s.worker_id);
    let why_not = |s: &Schedule| {
        if excluded.contains(&s.worker_id) {
            Some(Why::Released)
        } else if s.busy_during(order_id, slot) {
            Some(Why::Busy)
        } else {
            None
        }
    };
    let fewest = considered
        .iter()
        .filter(|(s, _)| why_not(s).is_none())
        .map(|(_, load)| *load)
        .min();
    let tied: Vec<Uuid> = considered
        .iter()
        .filter(|(s, load)| why_not(s).is_none() && Some(*load) == fewest)
        .map(|(s, _)| s.worker_id)
        .collect();
    let executor_id = match tied.len() {
        0 => None,
        n => Some(tied[(draw % n as u64) as usize]),
    };
    let candidates = considered
        .iter()
        .map(|(s, load)| {
            let why = match why_not(s) {
                Some(why) => why,
                None if Some(s.worker_id) == executor_id => Why::Chosen,
                None if Some(*load) == fewest => Why::TieLost,
                None => Why::MoreOrders,
            };
            Candidate {
                worker_id: s.worker_id,
                chosen: why == Why::Chosen,
                orders_in_last_7_days: *load,
                why,
            }
        })
        .collect();
    Choice {
        executor_id,
        candidates,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn now() -> DateTime<Utc> {
        at("2026-12-07T09:00:00Z")
    }

    /// 14:00 to 16:00 on the 8th.
    fn afternoon() -> Slot {
        slot("2026-12-08T14:00:00Z", "2026-12-08T16:00:00Z")
    }

    fn slot(start: &str, end: &str) -> Slot {
        Slot {
            start: at(start),
            end: at(end),
        }
    }

    fn worker(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn booking(worker_id: Uuid, slot: Slot, matched_at: DateTime<Utc>) -> Booking {
        Booking {
            worker_id,
            order_id: Uuid::now_v7(),
            slot,
            matched_at,
        }
    }

    fn schedule(worker_id: Uuid, bookings: Vec<Booking>) -> Schedule {
        Schedule {
            worker_id,
            version: 0,
            bookings,
        }
    }

    /// A worker with `n` orders matched yesterday, in slots that are long over.
    fn loaded(worker_id: Uuid, n: usize) -> Schedule {
        let past = slot("2026-12-06T08:00:00Z", "2026-12-06T09:00:00Z");
        let yesterday = now() - Duration::days(1);
        schedule(
            worker_id,
            (0..n)
                .map(|_| booking(worker_id, past, yesterday))
                .collect(),
        )
    }

    fn order() -> Uuid {
        Uuid::from_u128(1000)
    }

    fn why_of(choice: &Choice, worker_id: Uuid) -> Why {
        choice
            .candidates
            .iter()
            .find(|c| c.worker_id == worker_id)
            .unwrap()
            .why
    }

    #[test]
    fn touching_slots_do_not_overlap_and_sharing_a_minute_does() {
        let a = afternoon();
        assert!(!a.overlaps(&slot("2026-12-08T16:00:00Z", "2026-12-08T17:00:00Z")));
        assert!(!a.overlaps(&slot("2026-12-08T13:00:00Z", "2026-12-08T14:00:00Z")));
        assert!(a.overlaps(&slot("2026-12-08T15:59:00Z", "2026-12-08T17:00:00Z")));
        assert!(a.overlaps(&slot("2026-12-08T13:00:00Z", "2026-12-08T14:01:00Z")));
        assert!(a.overlaps(&slot("2026-12-08T14:30:00Z", "2026-12-08T15:00:00Z")));
        assert!(a.overlaps(&slot("2026-12-08T12:00:00Z", "2026-12-08T18:00:00Z")));
    }

    #[test]
    fn a_worker_busy_during_the_slot_is_never_chosen_and_one_free_right_after_is() {
        let (busy, free_after) = (worker(1), worker(2));
        let overlapping = slot("2026-12-08T15:00:00Z", "2026-12-08T17:00:00Z");
        let touching = slot("2026-12-08T16:00:00Z", "2026-12-08T17:00:00Z");
        let schedules = [
            schedule(busy, vec![booking(busy, overlapping, now())]),
            schedule(free_after, vec![booking(free_after, touching, now())]),
        ];
        let choice = choose(order(), &afternoon(), &schedules, &[], now(), 0);
        assert_eq!(choice.executor_id, Some(free_after));
        assert_eq!(why_of(&choice, busy), Why::Busy);
        assert_eq!(why_of(&choice, free_after), Why::Chosen);
        assert_eq!(choice.eligible(), 1);
    }

    #[test]
    fn the_orders_own_booking_does_not_make_its_worker_busy() {
        let w = worker(1);
        let mut own = booking(w, afternoon(), now());
        own.order_id = order();
        let choice = choose(
            order(),
            &afternoon(),
            &[schedule(w, vec![own])],
            &[],
            now(),
            0,
        );
        assert_eq!(choice.executor_id, Some(w));
    }

    #[test]
    fn the_worker_with_the_fewest_orders_in_the_last_7_days_is_chosen() {
        let (busier, idler) = (worker(1), worker(2));
        let schedules = [loaded(busier, 3), loaded(idler, 1)];
        for draw in 0..4 {
            let choice = choose(order(), &afternoon(), &schedules, &[], now(), draw);
            assert_eq!(choice.executor_id, Some(idler), "whatever the draw");
            assert_eq!(why_of(&choice, busier), Why::MoreOrders);
            let chosen = &choice.candidates[1];
            assert_eq!((chosen.chosen, chosen.orders_in_last_7_days), (true, 1));
        }
    }

    #[test]
    fn an_order_matched_exactly_7_days_ago_no_longer_counts_and_one_a_second_later_does() {
        let w = worker(1);
        let past = slot("2026-11-30T10:00:00Z", "2026-11-30T11:00:00Z");
        let edge = booking(w, past, now() - Duration::days(7));
        let inside = booking(w, past, now() - Duration::days(7) + Duration::seconds(1));
        assert_eq!(
            schedule(w, vec![edge.clone()]).orders_in_last_7_days(now()),
            0
        );
        assert_eq!(
            schedule(w, vec![inside.clone()]).orders_in_last_7_days(now()),
            1
        );
        assert_eq!(
            schedule(w, vec![edge, inside]).orders_in_last_7_days(now()),
            1
        );
    }

    #[test]
    fn a_tie_is_broken_by_the_draw_and_the_others_lost_it() {
        let (a, b, c) = (worker(1), worker(2), worker(3));
        // Given in another order than by id: the draw indexes the tied workers by id.
        let schedules = [loaded(c, 1), loaded(a, 1), loaded(b, 1)];
        let picked: Vec<Option<Uuid>> = (0..4)
            .map(|draw| choose(order(), &afternoon(), &schedules, &[], now(), draw).executor_id)
            .collect();
        assert_eq!(picked, [Some(a), Some(b), Some(c), Some(a)]);
        let choice = choose(order(), &afternoon(), &schedules, &[], now(), 1);
        assert_eq!(why_of(&choice, a), Why::TieLost);
        assert_eq!(why_of(&choice, b), Why::Chosen);
        assert_eq!(why_of(&choice, c), Why::TieLost);
        assert_eq!(choice.eligible(), 3);
    }

    #[test]
    fn a_released_executor_is_never_chosen_again_for_that_order() {
        let (released, other) = (worker(1), worker(2));
        let schedules = [loaded(released, 0), loaded(other, 5)];
        let choice = choose(order(), &afternoon(), &schedules, &[released], now(), 0);
        assert_eq!(choice.executor_id, Some(other));
        assert_eq!(why_of(&choice, released), Why::Released);
        assert_eq!(choice.eligible(), 1);
    }

    #[test]
    fn nobody_free_or_nobody_with_the_skill_means_the_order_waits() {
        let w = worker(1);
        let nobody = choose(order(), &afternoon(), &[], &[], now(), 0);
        assert_eq!(nobody.executor_id, None);
        assert!(nobody.candidates.is_empty());
        let busy = [schedule(w, vec![booking(w, afternoon(), now())])];
        let all_busy = choose(order(), &afternoon(), &busy, &[], now(), 0);
        assert_eq!(all_busy.executor_id, None);
        assert_eq!(all_busy.candidates[0].why, Why::Busy);
        assert_eq!(all_busy.eligible(), 0);
    }

    #[test]
    fn the_reasons_read_as_managers_see_them() {
        let reasons = [
            Why::Chosen,
            Why::Busy,
            Why::Released,
            Why::MoreOrders,
            Why::TieLost,
        ]
        .map(|why| serde_json::to_value(why).unwrap());
        assert_eq!(
            reasons,
            ["chosen", "busy", "released", "more orders", "tie lost"].map(serde_json::Value::from)
        );
    }
}
