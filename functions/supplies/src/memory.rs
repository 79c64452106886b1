//! In-memory stores for testing the use cases without AWS: every write is atomic under one lock
//! and checks the same conditions the DynamoDB store's transaction does (the kit's version, the
//! order copy's version, a kit that must not exist yet), so a use case that is right here is
//! right there. A supplier the tests steer keeps every order it was given.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use ates_kernel::dynamo::{Listed, StoreError};
use ates_kernel::event::Envelope;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::SuppliesError;
use crate::kit::{kit_id, AuditEntry, Kit, OrderCopy, Status, SupplyOrder};
use crate::ports::{
    Audit, KitAsRead, KitChanges, Kits, NotPlaced, Orders, Saved, Supplier, SuppliesStore,
};

#[derive(Default)]
struct State {
    kits: HashMap<Uuid, Kit>,
    orders: HashMap<Uuid, OrderCopy>,
    due: BTreeSet<(DateTime<Utc>, Uuid)>,
    audit: HashMap<Uuid, AuditEntry>,
    published: Vec<Envelope>,
}

impl State {
    fn put_kit(&mut self, kit: &Kit) {
        if let Some(old) = self.kits.get(&kit.kit_id) {
            if let Some(due) = old.due_at {
                self.due.remove(&(due, kit.kit_id));
            }
        }
        if let Some(due) = kit.due_at.filter(|_| kit.status.awaits_supplier()) {
            self.due.insert((due, kit.kit_id));
        }
        self.kits.insert(kit.kit_id, kit.clone());
    }

    fn kit_version(&self, id: Uuid) -> Option<u64> {
        self.kits.get(&id).map(|k| k.version)
    }

    fn order_version(&self, id: Uuid) -> Option<u64> {
        self.orders.get(&id).map(|o| o.version)
    }

    /// Appends the entries that are new (the audit is append-only: an entry is written once).
    fn append(&mut self, audit: &[AuditEntry]) -> bool {
        if audit.iter().any(|e| self.audit.contains_key(&e.entry_id)) {
            return false;
        }
        for entry in audit {
            self.audit.insert(entry.entry_id, entry.clone());
        }
        true
    }
}

ates_kernel::memory_store!(MemoryStore(State) + published);

impl SuppliesStore for MemoryStore {}

impl Kits for MemoryStore {
    async fn kit(&self, kit_id: Uuid) -> Result<Option<Kit>, StoreError> {
        Ok(self.state.lock().kits.get(&kit_id).cloned())
    }

    async fn kits_in(
        &self,
        status: Status,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listed<Kit>, SuppliesError> {
        let mut found: Vec<Kit> = (self.state.lock().kits.values())
            .filter(|k| k.status == status)
            .cloned()
            .collect();
        // As the table's index orders them: by the request's time to the microsecond, then id.
        found.sort_by_key(|k| std::cmp::Reverse((k.requested_at.timestamp_micros(), k.kit_id)));
        Ok(Listed::page_of(found, limit, cursor)?)
    }

    async fn due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Uuid>, StoreError> {
        let state = self.state.lock();
        Ok(state
            .due
            .iter()
            .take_while(|(due, _)| *due <= now)
            .take(limit)
            .map(|(_, id)| *id)
            .collect())
    }
}

impl Orders for MemoryStore {
    async fn order(&self, order_id: Uuid) -> Result<Option<OrderCopy>, StoreError> {
        Ok(self.state.lock().orders.get(&order_id).cloned())
    }
}

impl KitChanges for MemoryStore {
    async fn add_kit(&self, kit: &Kit, order: Option<&OrderCopy>) -> Result<Saved, StoreError> {
        let state = &mut *self.state.lock();
        if state.kits.contains_key(&kit.kit_id)
            || state.order_version(kit.order_id) != order.map(|o| o.version)
        {
            return Ok(Saved::Stale);
        }
        state.put_kit(kit);
        Ok(Saved::Done)
    }

    async fn change_kit(
        &self,
        before: &Kit,
        after: &Kit,
        audit: &[AuditEntry],
        events: &[Envelope],
    ) -> Result<Saved, StoreError> {
        let state = &mut *self.state.lock();
        if state.kit_version(before.kit_id) != Some(before.version) || !state.append(audit) {
            return Ok(Saved::Stale);
        }
        state.put_kit(after);
        state.published.extend(events.iter().cloned());
        Ok(Saved::Done)
    }

    async fn change_order(
        &self,
        before: Option<&OrderCopy>,
        after: &OrderCopy,
        kit: KitAsRead<'_>,
        audit: &[AuditEntry],
    ) -> Result<Saved, StoreError> {
        let state = &mut *self.state.lock();
        let kit_as_read = match kit {
            KitAsRead::Absent => !state.kits.contains_key(&kit_id(after.order_id)),
            KitAsRead::Changed { before, .. } => {
                state.kit_version(before.kit_id) == Some(before.version)
            }
        };
        if state.order_version(after.order_id) != before.map(|o| o.version)
            || !kit_as_read
            || !state.append(audit)
        {
            return Ok(Saved::Stale);
        }
        state.orders.insert(after.order_id, after.clone());
        if let KitAsRead::Changed { after, .. } = kit {
            state.put_kit(after);
        }
        Ok(Saved::Done)
    }
}

impl Audit for MemoryStore {
    async fn audit(
        &self,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listed<AuditEntry>, SuppliesError> {
        let micros = |at: DateTime<Utc>| at.timestamp_micros();
        let mut found: Vec<AuditEntry> = (self.state.lock().audit.values())
            .filter(|e| micros(from) <= micros(e.at) && micros(e.at) < micros(until))
            .cloned()
            .collect();
        found.sort_by_key(|e| std::cmp::Reverse((micros(e.at), e.entry_id)));
        Ok(Listed::page_of(found, limit, cursor)?)
    }
}

/// A supplier the tests steer: it keeps every order placed, and refuses them while told to.
#[derive(Default)]
pub struct FakeSupplier {
    placed: Mutex<Vec<SupplyOrder>>,
    refusing: AtomicBool,
}

impl FakeSupplier {
    /// Every order placed so far, in order.
    pub fn placed(&self) -> Vec<SupplyOrder> {
        self.placed
            .lock()
            .expect("no test panicked holding the lock")
            .clone()
    }

    /// From now on the supplier refuses (`true`) or takes (`false`) orders.
    pub fn refuse(&self, refusing: bool) {
        self.refusing.store(refusing, Ordering::SeqCst);
    }
}

impl Supplier for FakeSupplier {
    async fn place(&self, order: &SupplyOrder) -> Result<(), NotPlaced> {
        if self.refusing.load(Ordering::SeqCst) {
            return Err(NotPlaced("the supplier is unreachable".into()));
        }
        self.placed
            .lock()
            .expect("no test panicked holding the lock")
            .push(order.clone());
        Ok(())
    }
}
