//! The ports the use cases drive, one small trait per need: the kits, the copy of the orders'
//! executors, the audit, the copy of accounts, and the external supplier. The DynamoDB table
//! (`store`) implements every store port in a Lambda; `memory` does in tests. The supplier's
//! adapter is `supplier::SupplierQueue` (the simulated supplier's queue); a real supplier's
//! API would be another adapter of [`Supplier`].

use std::future::Future;

use ates_kernel::dynamo::{Listed, StoreError};
use ates_kernel::event::Envelope;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::SuppliesError;
use crate::kit::{AuditEntry, Kit, OrderCopy, Status, SupplyOrder};

/// A write answers the kernel's `Saved`.
pub use ates_kernel::usecase::Saved;

/// Kits as the use cases read them.
pub trait Kits: Sync {
    fn kit(&self, kit_id: Uuid) -> impl Future<Output = Result<Option<Kit>, StoreError>> + Send;
    /// One status's kits, newest (by request) first.
    fn kits_in(
        &self,
        status: Status,
        limit: usize,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<Listed<Kit>, SuppliesError>> + Send;
    /// At most `limit` ids of kits waiting for the supplier whose `due_at` is at or before
    /// `now`, earliest first.
    fn due(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Uuid>, StoreError>> + Send;
}

/// What supplies knows of orders: their executor and whether they were cancelled.
pub trait Orders: Sync {
    fn order(
        &self,
        order_id: Uuid,
    ) -> impl Future<Output = Result<Option<OrderCopy>, StoreError>> + Send;
}

/// The kit as a write finds it: absent, or as it was read.
#[derive(Debug, Clone, Copy)]
pub enum KitAsRead<'a> {
    Absent,
    Changed { before: &'a Kit, after: &'a Kit },
}

/// Where kits and the order copies are written: each write is the kit (or the order copy and
/// the kit with it), its audit entries and its events, together or not at all.
pub trait KitChanges: Sync {
    /// A new kit, if there is none and the order copy is still `order` (absent for `None`);
    /// `Stale` otherwise.
    fn add_kit(
        &self,
        kit: &Kit,
        order: Option<&OrderCopy>,
    ) -> impl Future<Output = Result<Saved, StoreError>> + Send;
    /// `after`, if the stored kit is still `before` (by version), with its audit entries and
    /// events.
    fn change_kit(
        &self,
        before: &Kit,
        after: &Kit,
        audit: &[AuditEntry],
        events: &[Envelope],
    ) -> impl Future<Output = Result<Saved, StoreError>> + Send;
    /// The order copy `after`, if the stored one is still `before` (absent for `None`), and
    /// the order's kit as `kit` says: still absent, or changed from what was read.
    fn change_order(
        &self,
        before: Option<&OrderCopy>,
        after: &OrderCopy,
        kit: KitAsRead<'_>,
        audit: &[AuditEntry],
    ) -> impl Future<Output = Result<Saved, StoreError>> + Send;
}

/// The append-only audit of what was handed out (and returned).
pub trait Audit: Sync {
    /// The entries written from `from` (included) until `until` (excluded), newest first.
    fn audit(
        &self,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: usize,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<Listed<AuditEntry>, SuppliesError>> + Send;
}

/// Everything a supplies store is.
pub trait SuppliesStore:
    Kits + Orders + KitChanges + Audit + ates_kernel::copies::KeepsAccountCopies
{
}

/// Why an order did not reach the supplier (it is placed again: the event is redelivered, or
/// the timer tries at the deadline).
#[derive(Debug, thiserror::Error)]
#[error("the order did not reach the supplier: {0}")]
pub struct NotPlaced(pub String);

/// The external supplier: takes an order and answers later, by the delivery callback, naming
/// the order's attempt; or never. Placing the same attempt twice is harmless (its second
/// delivery changes nothing).
pub trait Supplier: Sync {
    fn place(&self, order: &SupplyOrder) -> impl Future<Output = Result<(), NotPlaced>> + Send;
}
