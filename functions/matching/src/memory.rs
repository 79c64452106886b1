//! The in-memory store for testing the use cases without AWS: every write is atomic under one
//! lock and checks the same conditions the DynamoDB store's transaction does (the stamp read,
//! the booked worker's schedule version, a booking written once), so a use case that is right
//! here is right there.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use ates_kernel::contracts::accounts::AccountSnapshot;
use ates_kernel::dynamo::StoreError;
use ates_kernel::event::Envelope;
use ates_kernel::identity::AccountCopies;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::choice::{Booking, Schedule};
use crate::order::Order;
use crate::person::Person;
use crate::ports::{Change, Orders, People, Saved, Schedules, Waiting};

#[derive(Default)]
struct State {
    people: HashMap<Uuid, Person>,
    /// Who can be chosen for each skill, as the table's `SKILL#` items say.
    skills: BTreeMap<String, BTreeSet<Uuid>>,
    orders: HashMap<Uuid, Order>,
    bookings: HashMap<Uuid, Vec<Booking>>,
    schedule_versions: HashMap<Uuid, u64>,
    published: Vec<Envelope>,
}

ates_kernel::memory_store!(MemoryStore(State), own copies + published);

impl MemoryStore {
    /// Every booking of a worker.
    pub fn bookings_of(&self, worker_id: Uuid) -> Vec<Booking> {
        let state = self.state.lock();
        state.bookings.get(&worker_id).cloned().unwrap_or_default()
    }
}

impl AccountCopies for MemoryStore {
    async fn account_copy(&self, id: Uuid) -> Result<Option<AccountSnapshot>, StoreError> {
        let state = self.state.lock();
        Ok(state.people.get(&id).and_then(|p| p.account.clone()))
    }
}

impl People for MemoryStore {
    async fn person(&self, account_id: Uuid) -> Result<Option<Person>, StoreError> {
        Ok(self.state.lock().people.get(&account_id).cloned())
    }

    async fn save_person(
        &self,
        before: Option<&Person>,
        after: &Person,
    ) -> Result<Saved, StoreError> {
        let mut state = self.state.lock();
        let stored = state.people.get(&after.account_id).map(|p| p.stamp);
        if stored != before.map(|p| p.stamp) {
            return Ok(Saved::Stale);
        }
        for skill in before.map(Person::eligible_skills).unwrap_or_default() {
            if let Some(workers) = state.skills.get_mut(&skill) {
                workers.remove(&after.account_id);
            }
        }
        for skill in after.eligible_skills() {
            state
                .skills
                .entry(skill)
                .or_default()
                .insert(after.account_id);
        }
        state.people.insert(after.account_id, after.clone());
        Ok(Saved::Done)
    }

    async fn workers_with(&self, skill: &str) -> Result<Vec<Uuid>, StoreError> {
        let state = self.state.lock();
        Ok(state
            .skills
            .get(skill)
            .into_iter()
            .flatten()
            .copied()
            .collect())
    }
}

impl Orders for MemoryStore {
    async fn order(&self, order_id: Uuid) -> Result<Option<Order>, StoreError> {
        Ok(self.state.lock().orders.get(&order_id).cloned())
    }

    async fn save_order(
        &self,
        before: Option<&Order>,
        after: &Order,
        change: Change<'_>,
    ) -> Result<Saved, StoreError> {
        let mut state = self.state.lock();
        let stored = state.orders.get(&after.order_id).map(|o| o.stamp);
        if stored != before.map(|o| o.stamp) {
            return Ok(Saved::Stale);
        }
        if let Some((booking, version)) = change.booked {
            let current = state.schedule_versions.get(&booking.worker_id).copied();
            let twice = state
                .bookings
                .get(&booking.worker_id)
                .into_iter()
                .flatten()
                .any(|b| b.order_id == booking.order_id && b.slot.start == booking.slot.start);
            if current.unwrap_or(0) != version || twice {
                return Ok(Saved::Stale);
            }
            state
                .schedule_versions
                .insert(booking.worker_id, version + 1);
            let bookings = state.bookings.entry(booking.worker_id).or_default();
            bookings.push(booking.clone());
        }
        if let Some(freed) = change.freed {
            if let Some(bookings) = state.bookings.get_mut(&freed.worker_id) {
                bookings
                    .retain(|b| b.order_id != freed.order_id || b.slot.start != freed.slot.start);
            }
        }
        state.orders.insert(after.order_id, after.clone());
        state.published.extend(change.events.iter().cloned());
        Ok(Saved::Done)
    }
}

impl Schedules for MemoryStore {
    async fn schedule(&self, worker_id: Uuid) -> Result<Schedule, StoreError> {
        let state = self.state.lock();
        Ok(Schedule {
            worker_id,
            version: state
                .schedule_versions
                .get(&worker_id)
                .copied()
                .unwrap_or(0),
            bookings: state.bookings.get(&worker_id).cloned().unwrap_or_default(),
        })
    }
}

impl MemoryStore {
    /// The waiting orders that `admits`, longest waiting first (then by id, as the table's keys
    /// order them).
    fn waiting_where(
        &self,
        admits: impl Fn(&Order) -> bool,
        limit: usize,
    ) -> Vec<(DateTime<Utc>, Uuid)> {
        let state = self.state.lock();
        let mut waiting: Vec<(DateTime<Utc>, Uuid)> = state
            .orders
            .values()
            .filter(|o| o.waits() && admits(o))
            .filter_map(|o| Some((o.waiting_since?, o.order_id)))
            .collect();
        waiting.sort();
        waiting.truncate(limit);
        waiting
    }
}

impl Waiting for MemoryStore {
    async fn waiting(&self, limit: usize) -> Result<Vec<(DateTime<Utc>, Uuid)>, StoreError> {
        Ok(self.waiting_where(|_| true, limit))
    }

    async fn waiting_for(&self, skill: &str, limit: usize) -> Result<Vec<Uuid>, StoreError> {
        let needs = |o: &Order| o.need.as_ref().is_some_and(|n| n.required_skill == skill);
        Ok(self
            .waiting_where(needs, limit)
            .into_iter()
            .map(|(_, id)| id)
            .collect())
    }
}
