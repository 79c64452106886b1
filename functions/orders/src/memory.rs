//! The in-memory store for testing the use cases without AWS: every write is atomic under one
//! lock and checks the same conditions the DynamoDB store's transaction does (the order's and
//! the type's revision, the key), so a use case that is right here is right there.

use std::collections::HashMap;

use ates_kernel::dynamo::{Listed, StoreError};
use ates_kernel::event::Envelope;
use ates_kernel::idempotency::AnswersInMemory;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::OrderError;
use crate::order::{HistoryEntry, Listing, Order};
use crate::ports::{
    ApprovalsDue, KeyedAnswer, OrderChanges, OrderListings, OrderStore, Orders, Saved, ServiceTypes,
};
use crate::service_type::ServiceType;

#[derive(Default)]
struct State {
    service_types: HashMap<Uuid, ServiceType>,
    orders: HashMap<Uuid, Order>,
    history: HashMap<Uuid, Vec<HistoryEntry>>,
    answers: AnswersInMemory,
    published: Vec<Envelope>,
}

ates_kernel::memory_store!(MemoryStore(State) + published + replays);

impl OrderStore for MemoryStore {}

impl MemoryStore {
    /// Listed newest first, as the table's indexes list.
    fn listed(
        &self,
        admits: impl Fn(&Order) -> bool,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listed<Order>, OrderError> {
        let mut found: Vec<Order> = self
            .state
            .lock()
            .orders
            .values()
            .filter(|o| admits(o))
            .cloned()
            .collect();
        found.sort_by_key(|o| std::cmp::Reverse((o.created_at, o.order_id)));
        Ok(Listed::page_of(found, limit, cursor)?)
    }
}

impl ServiceTypes for MemoryStore {
    async fn service_type(&self, id: Uuid) -> Result<Option<ServiceType>, StoreError> {
        Ok(self.state.lock().service_types.get(&id).cloned())
    }

    async fn service_types(
        &self,
        active: bool,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listed<ServiceType>, OrderError> {
        let mut found: Vec<ServiceType> = self
            .state
            .lock()
            .service_types
            .values()
            .filter(|t| t.active == active)
            .cloned()
            .collect();
        found.sort_by_key(|t| std::cmp::Reverse((t.created_at, t.service_type_id)));
        Ok(Listed::page_of(found, limit, cursor)?)
    }

    async fn save_service_type(
        &self,
        service_type: &ServiceType,
        previous: Option<&ServiceType>,
        event: &Envelope,
        keyed: KeyedAnswer<'_>,
        _now: DateTime<Utc>,
    ) -> Result<Saved, StoreError> {
        let state = &mut *self.state.lock();
        let stored = state
            .service_types
            .get(&service_type.service_type_id)
            .map(|t| t.revision);
        let as_read = stored == previous.map(|p| p.revision);
        Ok(state.answers.commit(keyed, as_read, || {
            state
                .service_types
                .insert(service_type.service_type_id, service_type.clone());
            state.published.push(event.clone());
        }))
    }
}

impl Orders for MemoryStore {
    async fn order(&self, id: Uuid) -> Result<Option<Order>, StoreError> {
        Ok(self.state.lock().orders.get(&id).cloned())
    }

    async fn history(&self, id: Uuid) -> Result<Vec<HistoryEntry>, StoreError> {
        Ok(self
            .state
            .lock()
            .history
            .get(&id)
            .cloned()
            .unwrap_or_default())
    }
}

impl OrderListings for MemoryStore {
    async fn orders_of_client(
        &self,
        client_id: Uuid,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listed<Order>, OrderError> {
        self.listed(|o| o.client_id == client_id, limit, cursor)
    }

    async fn orders_of_executor(
        &self,
        executor_id: Uuid,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listed<Order>, OrderError> {
        self.listed(|o| o.executor_id == Some(executor_id), limit, cursor)
    }

    async fn orders_in(
        &self,
        listing: &Listing,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listed<Order>, OrderError> {
        self.listed(|o| listing.admits(o), limit, cursor)
    }
}

impl OrderChanges for MemoryStore {
    async fn add_order(
        &self,
        order: &Order,
        history: &[HistoryEntry],
        events: &[Envelope],
        keyed: KeyedAnswer<'_>,
    ) -> Result<Saved, StoreError> {
        let state = &mut *self.state.lock();
        let as_read = !state.orders.contains_key(&order.order_id);
        Ok(state.answers.commit(keyed, as_read, || {
            state.orders.insert(order.order_id, order.clone());
            state.history.insert(order.order_id, history.to_vec());
            state.published.extend(events.iter().cloned());
        }))
    }

    async fn change_order(
        &self,
        before: &Order,
        after: &Order,
        history: &[HistoryEntry],
        events: &[Envelope],
    ) -> Result<Saved, StoreError> {
        let state = &mut *self.state.lock();
        let stored = state.orders.get(&before.order_id).map(|o| o.revision);
        // As the table's conditions: the order at the revision read, and no history entry
        // written twice.
        let entries = state.history.entry(before.order_id).or_default();
        let new_entries = history
            .iter()
            .all(|h| entries.iter().all(|e| e.version != h.version));
        if stored != Some(before.revision) || !new_entries {
            return Ok(Saved::Stale);
        }
        entries.extend(history.iter().cloned());
        state.orders.insert(after.order_id, after.clone());
        state.published.extend(events.iter().cloned());
        Ok(Saved::Done)
    }
}

impl ApprovalsDue for MemoryStore {
    async fn approvals_due(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Uuid>, StoreError> {
        let state = self.state.lock();
        let mut due: Vec<(DateTime<Utc>, Uuid)> = state
            .orders
            .values()
            .filter_map(|o| o.approval_due().map(|at| (at, o.order_id)))
            .filter(|(at, _)| *at <= now)
            .collect();
        due.sort();
        Ok(due.into_iter().take(limit).map(|(_, id)| id).collect())
    }
}
