//! The ports the use cases drive, one small trait per need: the copies the calculator keeps
//! (service types, workers' levels, clients' paid totals), the orders it estimated and the
//! prices it set. The DynamoDB table (`store`) implements every one in a Lambda; `memory` does
//! in tests. [`CalculatorStore`] is all of them, with the kernel's copy of accounts.

use std::future::Future;

use ates_kernel::copies::KeepsAccountCopies;
use ates_kernel::dynamo::StoreError;
use ates_kernel::event::Envelope;
use ates_kernel::inbox::Outcome;
use uuid::Uuid;

use crate::copies::{ServiceType, WorkerLevel};
use crate::loyalty::{PaidTotal, Payment};
use crate::order::{ExecutorPrice, PricedOrder};

/// A write answers what happened, not a bool.
pub use ates_kernel::usecase::Saved;

/// The service types, as `ServiceType.Set` last said of each.
pub trait ServiceTypes: Sync {
    fn service_type(
        &self,
        id: Uuid,
    ) -> impl Future<Output = Result<Option<ServiceType>, StoreError>> + Send;
    /// Keeps `service_type` unless the copy has its revision or a later one: `Applied`, or
    /// `Superseded` (nothing written).
    fn keep_service_type(
        &self,
        service_type: &ServiceType,
    ) -> impl Future<Output = Result<Outcome, StoreError>> + Send;
}

/// Workers' levels, as `Worker.ProfileSet` last said of each.
pub trait WorkerLevels: Sync {
    fn worker_level(
        &self,
        account_id: Uuid,
    ) -> impl Future<Output = Result<Option<WorkerLevel>, StoreError>> + Send;
    /// Keeps `level` unless the copy has its revision or a later one: `Applied`, or
    /// `Superseded` (nothing written).
    fn keep_worker_level(
        &self,
        level: &WorkerLevel,
    ) -> impl Future<Output = Result<Outcome, StoreError>> + Send;
}

/// What clients have paid, and the payments counted.
pub trait PaidTotals: Sync {
    /// The client's total; [`PaidTotal::none`] for a client who has paid nothing.
    fn paid_total(
        &self,
        client_id: Uuid,
    ) -> impl Future<Output = Result<PaidTotal, StoreError>> + Send;
    fn payment_recorded(
        &self,
        invoice_id: Uuid,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Counts `payment` and writes `after` if the total is still `before` (by version) and the
    /// payment was not counted yet; `Stale` otherwise (nothing written).
    fn record_payment(
        &self,
        payment: &Payment,
        before: &PaidTotal,
        after: &PaidTotal,
    ) -> impl Future<Output = Result<Saved, StoreError>> + Send;
}

/// The orders the calculator estimated.
pub trait Estimates: Sync {
    fn order(
        &self,
        order_id: Uuid,
    ) -> impl Future<Output = Result<Option<PricedOrder>, StoreError>> + Send;
    /// Keeps the order with its estimate and `Calculator.EstimateGiven`, once per order:
    /// `Applied`, or `Duplicate` when the order was estimated before (nothing written).
    fn give_estimate(
        &self,
        order: &PricedOrder,
        event: &Envelope,
    ) -> impl Future<Output = Result<Outcome, StoreError>> + Send;
}

/// The prices set, one per (order, executor).
pub trait Prices: Sync {
    fn price(
        &self,
        order_id: Uuid,
        executor_id: Uuid,
    ) -> impl Future<Output = Result<Option<ExecutorPrice>, StoreError>> + Send;
    /// Keeps `price` with its `Calculator.PriceSet` if the stored one is still `previous` (by
    /// the match it answered; absent for `None`); `Stale` otherwise (nothing written).
    fn set_price(
        &self,
        price: &ExecutorPrice,
        previous: Option<&ExecutorPrice>,
        event: &Envelope,
    ) -> impl Future<Output = Result<Saved, StoreError>> + Send;
}

/// The calculator's table, as the handlers and binaries hold it. Each store says it is one, so
/// a store that lacks a port fails where it is defined.
pub trait CalculatorStore:
    KeepsAccountCopies + ServiceTypes + WorkerLevels + PaidTotals + Estimates + Prices
{
}
