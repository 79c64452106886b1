//! The ports the use cases drive, one small trait per need: the service types, the orders and
//! their history, the listings, the approvals that fall due, and the copy of accounts. The
//! DynamoDB table (`store`) implements every one in a Lambda; `memory` does in tests.

use std::future::Future;

use ates_kernel::copies::KeepsAccountCopies;
use ates_kernel::dynamo::{Listed, StoreError};
use ates_kernel::event::Envelope;
use ates_kernel::usecase::Replays;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::OrderError;
use crate::order::{HistoryEntry, Listing, Order};
use crate::service_type::ServiceType;

/// A write answers the kernel's `Saved`; a keyed one takes its `KeyedAnswer`.
pub use ates_kernel::usecase::{KeyedAnswer, Saved};

pub trait ServiceTypes: Replays + Sync {
    fn service_type(
        &self,
        id: Uuid,
    ) -> impl Future<Output = Result<Option<ServiceType>, StoreError>> + Send;
    /// The active types (or the retired ones), newest first.
    fn service_types(
        &self,
        active: bool,
        limit: usize,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<Listed<ServiceType>, OrderError>> + Send;
    /// `service_type` and its event, if the stored one is still `previous` (by revision;
    /// absent for `None`).
    fn save_service_type(
        &self,
        service_type: &ServiceType,
        previous: Option<&ServiceType>,
        event: &Envelope,
        keyed: KeyedAnswer<'_>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Saved, StoreError>> + Send;
}

/// Orders as the use cases read them.
pub trait Orders: Sync {
    fn order(&self, id: Uuid) -> impl Future<Output = Result<Option<Order>, StoreError>> + Send;
    /// Every transition of the order, in order.
    fn history(
        &self,
        id: Uuid,
    ) -> impl Future<Output = Result<Vec<HistoryEntry>, StoreError>> + Send;
}

/// What the listings read: index queries, newest first.
pub trait OrderListings: Sync {
    fn orders_of_client(
        &self,
        client_id: Uuid,
        limit: usize,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<Listed<Order>, OrderError>> + Send;
    /// The orders `executor_id` executes now (an order released from them is no longer theirs).
    fn orders_of_executor(
        &self,
        executor_id: Uuid,
        limit: usize,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<Listed<Order>, OrderError>> + Send;
    fn orders_in(
        &self,
        listing: &Listing,
        limit: usize,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<Listed<Order>, OrderError>> + Send;
}

/// Where orders are written: the order, one history entry and one outbox event per fired
/// transition, and the key's answer, together or not at all.
pub trait OrderChanges: Replays + Sync {
    /// A new order; `KeyUsed` when its `Idempotency-Key` was used.
    fn add_order(
        &self,
        order: &Order,
        history: &[HistoryEntry],
        events: &[Envelope],
        keyed: KeyedAnswer<'_>,
    ) -> impl Future<Output = Result<Saved, StoreError>> + Send;
    /// `after`, if the stored order is still at `before`'s revision.
    fn change_order(
        &self,
        before: &Order,
        after: &Order,
        history: &[HistoryEntry],
        events: &[Envelope],
    ) -> impl Future<Output = Result<Saved, StoreError>> + Send;
}

/// Reports whose 72 hours are over, for the approval timer.
pub trait ApprovalsDue: Sync {
    /// At most `limit` ids of orders in `report` whose approval fell due at or before `now`,
    /// earliest first.
    fn approvals_due(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Uuid>, StoreError>> + Send;
}

/// Everything orders' handlers use, for the binaries; each store declares it.
pub trait OrderStore:
    ServiceTypes + Orders + OrderListings + OrderChanges + ApprovalsDue + KeepsAccountCopies
{
}
