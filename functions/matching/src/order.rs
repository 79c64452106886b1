//! An order as matching sees it (SPEC M4): what it needs (a skill, a slot), the highest order
//! version seen, and where matching is with it: `waiting` for someone free, `matched` (booked to
//! its executor), or `cancelled`. Orders publishes the versions; matching keeps the highest it
//! has seen, so a late or repeated event changes nothing.
//!
//! The transitions, each from an order event: `Order.Rated` (the order needs an executor),
//! `Order.ExecutorReleased` (the executor can no longer do it: free the booking, choose again
//! without them), `Order.Cancelled` (free the booking, stop waiting). Then [`Order::decide`]
//! applies a [`Choice`]: the order is booked to the executor, or waits.

use ates_kernel::contracts::matching::ExecutorMatched;
use ates_kernel::contracts::orders::{OrderCancelled, OrderExecutorReleased, OrderRated};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::choice::{Booking, Candidate, Choice, Slot};
use crate::person::Seen;

/// How long an order may wait before operations hear of it (SPEC M4: "after an hour an alarm
/// fires").
pub fn too_long() -> Duration {
    Duration::hours(1)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Waiting,
    Matched,
    Cancelled,
}

/// What the order needs of its executor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Need {
    pub required_skill: String,
    pub slot: Slot,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub order_id: Uuid,
    /// The highest version of the order seen in its events.
    pub version: u64,
    /// None only for an order known from its cancellation alone (its rating never came, or
    /// comes late and is then ignored).
    pub need: Option<Need>,
    pub status: Status,
    /// The executor's booking while matched.
    pub booking: Option<Booking>,
    /// Executors released from this order: never chosen for it again.
    pub released: Vec<Uuid>,
    /// Since when it waits, while it waits.
    pub waiting_since: Option<DateTime<Utc>>,
    /// Everyone considered at the latest choice, and why this one.
    pub candidates: Vec<Candidate>,
    /// How many times this record was written: every write is conditional on it.
    pub stamp: u64,
}

/// How an incoming order version compares with the one kept.
fn newer(kept: Option<&Order>, incoming: u64) -> Result<(), Seen> {
    match kept.map(|o| incoming.cmp(&o.version)) {
        None | Some(std::cmp::Ordering::Greater) => Ok(()),
        Some(std::cmp::Ordering::Equal) => Err(Seen::Duplicate),
        Some(std::cmp::Ordering::Less) => Err(Seen::Superseded),
    }
}

/// An order's transition: the order after it, and the booking it frees, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub order: Order,
    pub freed: Option<Booking>,
}

impl Order {
    fn blank(order_id: Uuid) -> Order {
        Order {
            order_id,
            version: 0,
            need: None,
            status: Status::Waiting,
            booking: None,
            released: Vec::new(),
            waiting_since: None,
            candidates: Vec::new(),
            stamp: 0,
        }
    }

    /// `Order.Rated`: the order needs an executor for its skill and slot (its choice follows).
    pub fn rated(before: Option<&Order>, rated: &OrderRated) -> Result<Step, Seen> {
        newer(before, rated.version)?;
        let mut order = before
            .cloned()
            .unwrap_or_else(|| Order::blank(rated.order_id));
        // Only a cancellation is ever seen before a rating, with a higher version: a rating
        // that gets here is the order's first fact.
        order.version = rated.version;
        order.need = Some(Need {
            required_skill: rated.required_skill.clone(),
            slot: Slot {
                start: rated.slot_start,
                end: rated.slot_end,
            },
        });
        order.status = Status::Waiting;
        order.stamp += 1;
        let freed = order.booking.take();
        Ok(Step { order, freed })
    }

    /// `Order.ExecutorReleased`: the released executor's booking is freed and the order is
    /// matched again without them. A release of someone who is no longer the executor only
    /// keeps them from being chosen again.
    pub fn released(&self, released: &OrderExecutorReleased) -> Result<Step, Seen> {
        newer(Some(self), released.version)?;
        if self.status == Status::Cancelled {
            return Err(Seen::Superseded);
        }
        let mut order = self.clone();
        order.version = released.version;
        if !order.released.contains(&released.executor_id) {
            order.released.push(released.executor_id);
        }
        let freed = match &order.booking {
            Some(b) if b.worker_id == released.executor_id => order.booking.take(),
            _ => None,
        };
        if freed.is_some() {
            order.status = Status::Waiting;
        }
        order.stamp += 1;
        Ok(Step { order, freed })
    }

    /// `Order.Cancelled`: the booking is freed and nobody is sought any more.
    pub fn cancelled(before: Option<&Order>, cancelled: &OrderCancelled) -> Result<Step, Seen> {
        newer(before, cancelled.version)?;
        let mut order = before
            .cloned()
            .unwrap_or_else(|| Order::blank(cancelled.order_id));
        order.version = cancelled.version;
        order.status = Status::Cancelled;
        order.waiting_since = None;
        order.stamp += 1;
        let freed = order.booking.take();
        Ok(Step { order, freed })
    }

    /// Whether matching still has to find someone for it.
    pub fn waits(&self) -> bool {
        self.status == Status::Waiting && self.need.is_some()
    }

    /// Applies `choice`: booked to the executor at `now` (and the event that says so, answering
    /// the order's current version), or waiting, since the first time nobody was free.
    pub fn decide(&self, choice: Choice, now: DateTime<Utc>) -> (Order, Option<ExecutorMatched>) {
        let mut order = self.clone();
        order.stamp += 1;
        let eligible = choice.eligible();
        order.candidates = choice.candidates;
        let (Some(executor_id), Some(need)) = (choice.executor_id, &self.need) else {
            order.status = Status::Waiting;
            order.waiting_since.get_or_insert(now);
            return (order, None);
        };
        order.status = Status::Matched;
        order.waiting_since = None;
        order.booking = Some(Booking {
            worker_id: executor_id,
            order_id: self.order_id,
            slot: need.slot,
            matched_at: now,
        });
        let matched = ExecutorMatched {
            order_id: self.order_id,
            order_version: self.version,
            executor_id,
            candidates: eligible,
            matched_at: now,
        };
        (order, Some(matched))
    }

    /// Whether it has waited longer than [`too_long`] at `now`.
    pub fn waited_too_long(&self, now: DateTime<Utc>) -> bool {
        self.waits()
            && self
                .waiting_since
                .is_some_and(|since| now - since > too_long())
    }

    /// What managers read (`GET /matching/orders/{order_id}`).
    pub fn view(&self) -> OrderView {
        OrderView {
            order_id: self.order_id,
            status: self.status,
            executor_id: self.booking.as_ref().map(|b| b.worker_id),
            waiting_since: self.waiting_since,
            decided_at: self.booking.as_ref().map(|b| b.matched_at),
            candidates: self.candidates.clone(),
        }
    }
}

/// An order's matching as managers read it: where it is, who does it, since when it waits, and
/// the candidates of the latest choice with why each was or was not chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderView {
    pub order_id: Uuid,
    pub status: Status,
    pub executor_id: Option<Uuid>,
    pub waiting_since: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub candidates: Vec<Candidate>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::choice::Why;
    use ates_kernel::contracts::orders::Place;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn id() -> Uuid {
        Uuid::from_u128(42)
    }

    fn rated(version: u64) -> OrderRated {
        OrderRated {
            order_id: id(),
            version,
            places: vec![Place::Rated, Place::ToMatch, Place::ToSupply],
            client_id: Uuid::from_u128(1),
            estimate_cents: 10_000,
            required_skill: "carpets".into(),
            slot_start: at("2026-12-08T14:00:00Z"),
            slot_end: at("2026-12-08T16:00:00Z"),
            supplies: vec![],
            at: at("2026-12-07T09:00:00Z"),
        }
    }

    fn released(version: u64, executor_id: Uuid) -> OrderExecutorReleased {
        OrderExecutorReleased {
            order_id: id(),
            version,
            places: vec![Place::Rated, Place::ToMatch, Place::ToSupply],
            executor_id,
            reason: "deactivated".into(),
            at: at("2026-12-07T10:00:00Z"),
        }
    }

    fn cancelled(version: u64) -> OrderCancelled {
        OrderCancelled {
            order_id: id(),
            version,
            places: vec![Place::Cancelled],
            client_id: Uuid::from_u128(1),
            executor_id: None,
            value_cents: None,
            cancelled_by: Uuid::from_u128(1),
            at: at("2026-12-07T10:00:00Z"),
        }
    }

    fn chosen(worker: Uuid) -> Choice {
        Choice {
            executor_id: Some(worker),
            candidates: vec![Candidate {
                worker_id: worker,
                chosen: true,
                orders_in_last_7_days: 0,
                why: Why::Chosen,
            }],
        }
    }

    fn nobody() -> Choice {
        Choice {
            executor_id: None,
            candidates: vec![],
        }
    }

    fn now() -> DateTime<Utc> {
        at("2026-12-07T09:00:00Z")
    }

    #[test]
    fn a_rating_is_taken_once_and_an_older_one_never() {
        let step = Order::rated(None, &rated(2)).unwrap();
        assert!(step.order.waits());
        assert_eq!(
            Order::rated(Some(&step.order), &rated(2)),
            Err(Seen::Duplicate)
        );
        assert_eq!(
            Order::rated(Some(&step.order), &rated(1)),
            Err(Seen::Superseded)
        );
    }

    #[test]
    fn a_choice_books_the_executor_and_answers_the_orders_version() {
        let worker = Uuid::from_u128(9);
        let order = Order::rated(None, &rated(2)).unwrap().order;
        let (matched, event) = order.decide(chosen(worker), now());
        let event = event.unwrap();
        assert_eq!((event.order_version, event.executor_id), (2, worker));
        assert_eq!(event.candidates, 1);
        assert_eq!(matched.status, Status::Matched);
        assert_eq!(
            matched.booking.as_ref().unwrap().slot,
            order.need.unwrap().slot
        );
        let view = matched.view();
        assert_eq!(
            (view.executor_id, view.decided_at),
            (Some(worker), Some(now()))
        );
    }

    #[test]
    fn nobody_free_keeps_the_first_time_it_started_waiting() {
        let order = Order::rated(None, &rated(2)).unwrap().order;
        let (waiting, event) = order.decide(nobody(), now());
        assert!(event.is_none());
        let later = now() + Duration::minutes(5);
        let (still, _) = waiting.decide(nobody(), later);
        assert_eq!(still.waiting_since, Some(now()));
        assert!(!still.waited_too_long(now() + too_long()));
        assert!(still.waited_too_long(now() + too_long() + Duration::seconds(1)));
    }

    #[test]
    fn a_release_frees_the_executors_booking_and_keeps_them_out() {
        let worker = Uuid::from_u128(9);
        let order = Order::rated(None, &rated(2)).unwrap().order;
        let (matched, _) = order.decide(chosen(worker), now());
        let step = matched.released(&released(5, worker)).unwrap();
        assert_eq!(step.freed, matched.booking);
        assert!(step.order.waits());
        assert_eq!(step.order.released, [worker]);
        assert_eq!(step.order.version, 5);
        assert_eq!(
            step.order.released(&released(5, worker)),
            Err(Seen::Duplicate)
        );
        assert_eq!(
            matched.released(&released(1, worker)),
            Err(Seen::Superseded)
        );
        // Someone who is no longer the executor: kept out, nothing freed, still matched.
        let other = matched.released(&released(6, Uuid::from_u128(10))).unwrap();
        assert_eq!((other.freed, other.order.status), (None, Status::Matched));
    }

    #[test]
    fn a_cancellation_frees_the_booking_and_outranks_a_late_rating() {
        let worker = Uuid::from_u128(9);
        let order = Order::rated(None, &rated(2)).unwrap().order;
        let (matched, _) = order.decide(chosen(worker), now());
        let step = Order::cancelled(Some(&matched), &cancelled(4)).unwrap();
        assert_eq!(step.freed, matched.booking);
        assert_eq!(step.order.status, Status::Cancelled);
        assert!(!step.order.waits());
        let first = Order::cancelled(None, &cancelled(4)).unwrap().order;
        assert_eq!(first.view().status, Status::Cancelled);
        assert_eq!(Order::rated(Some(&first), &rated(2)), Err(Seen::Superseded));
        assert_eq!(first.released(&released(5, worker)), Err(Seen::Superseded));
    }
}
