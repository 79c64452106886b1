//! An in-memory [`CalculatorStore`] for testing the use cases without AWS: every write is atomic
//! under one lock and checks the same conditions the DynamoDB store's transaction does (a newer
//! revision, an order estimated once, a price changed only from the match read, a payment
//! counted once on the total read), so a use case that is right here is right there.

use std::collections::{HashMap, HashSet};

use ates_kernel::dynamo::StoreError;
use ates_kernel::event::Envelope;
use ates_kernel::inbox::Outcome;
use uuid::Uuid;

use crate::copies::{ServiceType, WorkerLevel};
use crate::loyalty::{PaidTotal, Payment};
use crate::order::{ExecutorPrice, PricedOrder};
use crate::ports::{
    CalculatorStore, Estimates, PaidTotals, Prices, Saved, ServiceTypes, WorkerLevels,
};

#[derive(Default)]
struct State {
    service_types: HashMap<Uuid, ServiceType>,
    workers: HashMap<Uuid, WorkerLevel>,
    orders: HashMap<Uuid, PricedOrder>,
    prices: HashMap<(Uuid, Uuid), ExecutorPrice>,
    totals: HashMap<Uuid, PaidTotal>,
    payments: HashSet<Uuid>,
    published: Vec<Envelope>,
}

ates_kernel::memory_store!(MemoryStore(State) + published);

impl CalculatorStore for MemoryStore {}

/// Keeps `value` under `id` unless what is there has its revision or a later one.
fn keep_newer<T: Clone>(
    copies: &mut HashMap<Uuid, T>,
    id: Uuid,
    value: &T,
    revision: impl Fn(&T) -> u64,
) -> Outcome {
    if copies
        .get(&id)
        .is_some_and(|kept| revision(kept) >= revision(value))
    {
        return Outcome::Superseded;
    }
    copies.insert(id, value.clone());
    Outcome::Applied
}

impl ServiceTypes for MemoryStore {
    async fn service_type(&self, id: Uuid) -> Result<Option<ServiceType>, StoreError> {
        Ok(self.state.lock().service_types.get(&id).cloned())
    }

    async fn keep_service_type(&self, service_type: &ServiceType) -> Result<Outcome, StoreError> {
        let id = service_type.service_type_id;
        let copies = &mut self.state.lock().service_types;
        Ok(keep_newer(copies, id, service_type, |t| t.revision))
    }
}

impl WorkerLevels for MemoryStore {
    async fn worker_level(&self, account_id: Uuid) -> Result<Option<WorkerLevel>, StoreError> {
        Ok(self.state.lock().workers.get(&account_id).cloned())
    }

    async fn keep_worker_level(&self, level: &WorkerLevel) -> Result<Outcome, StoreError> {
        let copies = &mut self.state.lock().workers;
        Ok(keep_newer(copies, level.account_id, level, |w| w.revision))
    }
}

impl PaidTotals for MemoryStore {
    async fn paid_total(&self, client_id: Uuid) -> Result<PaidTotal, StoreError> {
        let state = self.state.lock();
        let total = state.totals.get(&client_id).cloned();
        Ok(total.unwrap_or_else(|| PaidTotal::none(client_id)))
    }

    async fn payment_recorded(&self, invoice_id: Uuid) -> Result<bool, StoreError> {
        Ok(self.state.lock().payments.contains(&invoice_id))
    }

    async fn record_payment(
        &self,
        payment: &Payment,
        before: &PaidTotal,
        after: &PaidTotal,
    ) -> Result<Saved, StoreError> {
        let state = &mut *self.state.lock();
        let version = state
            .totals
            .get(&payment.client_id)
            .map_or(0, |t| t.version);
        if version != before.version || state.payments.contains(&payment.invoice_id) {
            return Ok(Saved::Stale);
        }
        state.payments.insert(payment.invoice_id);
        state.totals.insert(payment.client_id, after.clone());
        Ok(Saved::Done)
    }
}

impl Estimates for MemoryStore {
    async fn order(&self, order_id: Uuid) -> Result<Option<PricedOrder>, StoreError> {
        Ok(self.state.lock().orders.get(&order_id).cloned())
    }

    async fn give_estimate(
        &self,
        order: &PricedOrder,
        event: &Envelope,
    ) -> Result<Outcome, StoreError> {
        let state = &mut *self.state.lock();
        if state.orders.contains_key(&order.order_id) {
            return Ok(Outcome::Duplicate);
        }
        state.orders.insert(order.order_id, order.clone());
        state.published.push(event.clone());
        Ok(Outcome::Applied)
    }
}

impl Prices for MemoryStore {
    async fn price(
        &self,
        order_id: Uuid,
        executor_id: Uuid,
    ) -> Result<Option<ExecutorPrice>, StoreError> {
        Ok(self
            .state
            .lock()
            .prices
            .get(&(order_id, executor_id))
            .cloned())
    }

    async fn set_price(
        &self,
        price: &ExecutorPrice,
        previous: Option<&ExecutorPrice>,
        event: &Envelope,
    ) -> Result<Saved, StoreError> {
        let state = &mut *self.state.lock();
        let at = (price.order_id, price.executor_id);
        let stored = state.prices.get(&at).map(|p| p.match_version);
        if stored != previous.map(|p| p.match_version) {
            return Ok(Saved::Stale);
        }
        state.prices.insert(at, price.clone());
        state.published.push(event.clone());
        Ok(Saved::Done)
    }
}
