//! What reports knows of an order (SPEC M2, M6), kept from `Order.*` events: who ordered it,
//! who executes it, when its slot starts, its list price, its marked places, and when it was
//! approved or declined. Events arrive duplicated and in any order: each fact is taken once,
//! the places and the executor only from a newer version than the one they were read from, and
//! what never changes (client, slot, price, the decision's time) from whichever event brings it.

use ates_kernel::contracts::orders::Place;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The executor as an order event names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecutorFact {
    /// The order has this executor (`Order.ExecutorAssigned`, and every later step naming it).
    Is(Uuid),
    /// The order has none (`Order.ExecutorReleased`).
    Released,
}

/// What one `Order.*` event says of the order, in reports' words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderFact {
    pub order_id: Uuid,
    pub version: u64,
    pub places: Vec<Place>,
    pub client_id: Option<Uuid>,
    pub executor: Option<ExecutorFact>,
    pub slot_start: Option<DateTime<Utc>>,
    pub list_price_cents: Option<i64>,
    pub approved_at: Option<DateTime<Utc>>,
    pub declined_at: Option<DateTime<Utc>>,
}

impl OrderFact {
    /// A fact that only moves the marking.
    pub fn step(order_id: Uuid, version: u64, places: Vec<Place>) -> OrderFact {
        OrderFact {
            order_id,
            version,
            places,
            client_id: None,
            executor: None,
            slot_start: None,
            list_price_cents: None,
            approved_at: None,
            declined_at: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCopy {
    pub order_id: Uuid,
    /// The version of the newest event whose places are kept.
    pub version: u64,
    pub places: Vec<Place>,
    pub client_id: Option<Uuid>,
    pub executor_id: Option<Uuid>,
    /// The version the executor was read from (an older assignment never undoes a release).
    pub executor_version: u64,
    pub slot_start: Option<DateTime<Utc>>,
    pub list_price_cents: Option<i64>,
    pub approved_at: Option<DateTime<Utc>>,
    pub declined_at: Option<DateTime<Utc>>,
    /// One more with every change: the copy is written only over the revision it was read at.
    pub revision: u64,
}

impl OrderCopy {
    pub fn new(order_id: Uuid) -> OrderCopy {
        OrderCopy {
            order_id,
            version: 0,
            places: Vec::new(),
            client_id: None,
            executor_id: None,
            executor_version: 0,
            slot_start: None,
            list_price_cents: None,
            approved_at: None,
            declined_at: None,
            revision: 0,
        }
    }

    /// The copy with `fact` taken in; `None` when it teaches nothing new (a duplicate, or an
    /// older fact whose every part is already known).
    pub fn apply(&self, fact: &OrderFact) -> Option<OrderCopy> {
        let mut next = self.clone();
        if fact.version > next.version {
            next.version = fact.version;
            next.places = fact.places.clone();
            next.places.sort();
        }
        if let Some(executor) = fact.executor {
            if fact.version > next.executor_version {
                next.executor_version = fact.version;
                next.executor_id = match executor {
                    ExecutorFact::Is(id) => Some(id),
                    ExecutorFact::Released => None,
                };
            }
        }
        next.client_id = next.client_id.or(fact.client_id);
        next.slot_start = next.slot_start.or(fact.slot_start);
        // The list price is the executor's: a re-matched order is valued again.
        if fact.list_price_cents.is_some() && fact.version >= self.version {
            next.list_price_cents = fact.list_price_cents;
        } else {
            next.list_price_cents = next.list_price_cents.or(fact.list_price_cents);
        }
        next.approved_at = next.approved_at.or(fact.approved_at);
        next.declined_at = next.declined_at.or(fact.declined_at);
        (next != *self).then(|| OrderCopy {
            revision: self.revision + 1,
            ..next
        })
    }

    pub fn is_marked(&self, place: Place) -> bool {
        self.places.contains(&place)
    }

    /// The marked places' names, as a conflict names them.
    pub fn marking(&self) -> String {
        if self.places.is_empty() {
            return "unknown yet".into();
        }
        (self.places.iter())
            .map(|p| p.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The order was approved (by its client, or by itself after 72 hours).
    pub fn approved(&self) -> bool {
        self.approved_at.is_some()
    }

    /// The order was declined by its client.
    pub fn declined(&self) -> bool {
        self.declined_at.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn the_newest_version_marks_the_places_whatever_arrives_after() {
        let id = Uuid::new_v4();
        let pending = OrderFact::step(id, 7, vec![Place::Pending]);
        let rated = OrderFact::step(id, 2, vec![Place::ToSupply, Place::Rated, Place::ToMatch]);
        let copy = OrderCopy::new(id).apply(&pending).unwrap();
        assert_eq!(copy.places, vec![Place::Pending]);
        // The older one arrives late: it teaches nothing.
        assert_eq!(copy.apply(&rated), None);
        assert_eq!(copy.apply(&pending), None, "a duplicate changes nothing");
        assert_eq!(copy.revision, 1);
    }

    #[test]
    fn an_old_fact_still_brings_what_never_changes() {
        let id = Uuid::new_v4();
        let client = Uuid::new_v4();
        let copy = OrderCopy::new(id)
            .apply(&OrderFact::step(id, 5, vec![Place::Pending]))
            .unwrap();
        let created = OrderFact {
            client_id: Some(client),
            slot_start: Some(at("2026-12-10T10:00:00Z")),
            ..OrderFact::step(id, 1, vec![Place::New])
        };
        let copy = copy.apply(&created).unwrap();
        assert_eq!(copy.client_id, Some(client));
        assert_eq!(copy.slot_start, Some(at("2026-12-10T10:00:00Z")));
        assert_eq!(copy.places, vec![Place::Pending]);
        assert_eq!(copy.version, 5);
    }

    #[test]
    fn a_release_is_not_undone_by_the_assignment_it_follows() {
        let id = Uuid::new_v4();
        let worker = Uuid::new_v4();
        let released = OrderFact {
            executor: Some(ExecutorFact::Released),
            ..OrderFact::step(id, 6, vec![Place::ToMatch, Place::ToSupply])
        };
        let assigned = OrderFact {
            executor: Some(ExecutorFact::Is(worker)),
            ..OrderFact::step(id, 3, vec![Place::Executor, Place::ToSupply])
        };
        let copy = OrderCopy::new(id).apply(&released).unwrap();
        assert_eq!(copy.apply(&assigned), None);
        let in_order = OrderCopy::new(id)
            .apply(&assigned)
            .unwrap()
            .apply(&released)
            .unwrap();
        assert_eq!(in_order.executor_id, None);
        assert_eq!(
            in_order.places, copy.places,
            "either order of arrival, one copy"
        );
    }

    #[test]
    fn the_marking_is_named_for_a_conflict() {
        let id = Uuid::new_v4();
        let copy = OrderCopy::new(id)
            .apply(&OrderFact::step(
                id,
                2,
                vec![Place::ToSupply, Place::Executor],
            ))
            .unwrap();
        assert_eq!(copy.marking(), "to_supply, executor");
        assert_eq!(OrderCopy::new(id).marking(), "unknown yet");
    }
}
