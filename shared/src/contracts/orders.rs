//! Orders' events (SPEC M2): the service types clients choose from, and the order's net. Every
//! `Order.*` event carries the order's `version` after the transition and the marked `places`,
//! so a consumer keeps the highest version it has seen and needs nothing else to show progress.
//! No event carries the order's description or address (they stay in orders, for the order's
//! client, executor and managers).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::only_v1;
use crate::event::{DomainEvent, Envelope, EventError};

/// A place of the order's Petri net (SPEC M2). A marking is the set of marked places.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Place {
    New,
    Rated,
    ToMatch,
    ToSupply,
    Executor,
    Valued,
    Supplied,
    Pending,
    PreReport,
    InWork,
    Report,
    SuccessInvoiced,
    FailedInvoiced,
    SuccessPaid,
    FailedPaid,
    Cancelled,
}

impl Place {
    pub const ALL: [Place; 16] = [
        Place::New,
        Place::Rated,
        Place::ToMatch,
        Place::ToSupply,
        Place::Executor,
        Place::Valued,
        Place::Supplied,
        Place::Pending,
        Place::PreReport,
        Place::InWork,
        Place::Report,
        Place::SuccessInvoiced,
        Place::FailedInvoiced,
        Place::SuccessPaid,
        Place::FailedPaid,
        Place::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Place::New => "new",
            Place::Rated => "rated",
            Place::ToMatch => "to_match",
            Place::ToSupply => "to_supply",
            Place::Executor => "executor",
            Place::Valued => "valued",
            Place::Supplied => "supplied",
            Place::Pending => "pending",
            Place::PreReport => "pre_report",
            Place::InWork => "in_work",
            Place::Report => "report",
            Place::SuccessInvoiced => "success_invoiced",
            Place::FailedInvoiced => "failed_invoiced",
            Place::SuccessPaid => "success_paid",
            Place::FailedPaid => "failed_paid",
            Place::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Place> {
        Place::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One line of a service type's kit: what to hand the executor, and how many.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupplyLine {
    pub item: String,
    pub quantity: u32,
}

/// A service type as it is now, at its creation and at every change (a consumer keeps the
/// highest `revision`); a retired type has `active: false` and takes no new orders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceTypeSet {
    pub service_type_id: Uuid,
    pub name: String,
    pub base_price_cents: i64,
    pub required_skill: String,
    pub duration_minutes: u32,
    pub supplies: Vec<SupplyLine>,
    pub active: bool,
    pub revision: u64,
    pub set_at: DateTime<Utc>,
}

/// A client ordered a service. The service type is copied as it was when ordered: the
/// calculator, matching and supplies work from this copy, whatever the type becomes later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCreated {
    pub order_id: Uuid,
    pub version: u64,
    pub places: Vec<Place>,
    pub client_id: Uuid,
    pub service_type_id: Uuid,
    pub service_type_revision: u64,
    pub base_price_cents: i64,
    pub required_skill: String,
    pub slot_start: DateTime<Utc>,
    pub slot_end: DateTime<Utc>,
    pub supplies: Vec<SupplyLine>,
    pub at: DateTime<Utc>,
}

/// `rate`: the estimate is known; the net splits into matching and supplying.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRated {
    pub order_id: Uuid,
    pub version: u64,
    pub places: Vec<Place>,
    pub client_id: Uuid,
    pub estimate_cents: i64,
    pub required_skill: String,
    pub slot_start: DateTime<Utc>,
    pub slot_end: DateTime<Utc>,
    pub supplies: Vec<SupplyLine>,
    pub at: DateTime<Utc>,
}

/// An event of the net that names only the order's executor: `match` (`Order.ExecutorAssigned`),
/// `begin` (`Order.PreReported`, `Order.InWork`), `finish` (`Order.Reported`), and the join
/// (`Order.Pending`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderStep {
    pub order_id: Uuid,
    pub version: u64,
    pub places: Vec<Place>,
    pub executor_id: Uuid,
    pub at: DateTime<Utc>,
}

/// `value`: the executor's price is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderValued {
    pub order_id: Uuid,
    pub version: u64,
    pub places: Vec<Place>,
    pub executor_id: Uuid,
    pub list_price_cents: i64,
    pub value_cents: i64,
    pub at: DateTime<Utc>,
}

/// `supply`: the kit was handed to the executor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderSupplied {
    pub order_id: Uuid,
    pub version: u64,
    pub places: Vec<Place>,
    pub executor_id: Uuid,
    pub kit_id: Uuid,
    pub at: DateTime<Utc>,
}

/// `approve` or `decline`: what billing invoices the client (SPEC M7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderInvoiced {
    pub order_id: Uuid,
    pub version: u64,
    pub places: Vec<Place>,
    pub client_id: Uuid,
    pub executor_id: Uuid,
    pub list_price_cents: i64,
    pub value_cents: i64,
    /// The client who decided; null when the report was approved by itself after 72 hours.
    pub decided_by: Option<Uuid>,
    /// A decline's reason, as the client wrote it; null for an approval.
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}

/// `settle`: billing settled the order (`success_paid` or `failed_paid`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderPaid {
    pub order_id: Uuid,
    pub version: u64,
    pub places: Vec<Place>,
    pub at: DateTime<Utc>,
}

/// `cancel`: the client cancelled before the work began. `value_cents` is set when the order
/// had been valued (billing invoices such a cancellation, SPEC M7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCancelled {
    pub order_id: Uuid,
    pub version: u64,
    pub places: Vec<Place>,
    pub client_id: Uuid,
    pub executor_id: Option<Uuid>,
    pub value_cents: Option<i64>,
    pub cancelled_by: Uuid,
    pub at: DateTime<Utc>,
}

/// The executor can no longer do the order (deactivated before `in_work`): `executor`,
/// `valued` and `supplied` are unmarked, `to_match` and `to_supply` marked again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderExecutorReleased {
    pub order_id: Uuid,
    pub version: u64,
    pub places: Vec<Place>,
    pub executor_id: Uuid,
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// Declares an `Order.*` event whose payload has one of the shared shapes above, as a newtype
/// of the shape, with its decoder.
macro_rules! order_step {
    ($name:ident, $shape:ty, $event:literal, $decode:ident) => {
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub $shape);

        impl DomainEvent for $name {
            const NAME: &'static str = $event;
            const VERSION: u32 = 1;
        }

        pub fn $decode(e: &Envelope) -> Result<$name, EventError> {
            only_v1(e)
        }
    };
}

order_step!(
    OrderExecutorAssigned,
    OrderStep,
    "Order.ExecutorAssigned",
    decode_order_executor_assigned
);
order_step!(
    OrderPending,
    OrderStep,
    "Order.Pending",
    decode_order_pending
);
order_step!(
    OrderPreReported,
    OrderStep,
    "Order.PreReported",
    decode_order_pre_reported
);
order_step!(OrderInWork, OrderStep, "Order.InWork", decode_order_in_work);
order_step!(
    OrderReported,
    OrderStep,
    "Order.Reported",
    decode_order_reported
);
order_step!(
    OrderSuccessInvoiced,
    OrderInvoiced,
    "Order.SuccessInvoiced",
    decode_order_success_invoiced
);
order_step!(
    OrderFailedInvoiced,
    OrderInvoiced,
    "Order.FailedInvoiced",
    decode_order_failed_invoiced
);

/// Declares the `DomainEvent` of an event whose payload type is its own, with its decoder.
macro_rules! order_event {
    ($payload:ident, $event:literal, $decode:ident) => {
        impl DomainEvent for $payload {
            const NAME: &'static str = $event;
            const VERSION: u32 = 1;
        }

        pub fn $decode(e: &Envelope) -> Result<$payload, EventError> {
            only_v1(e)
        }
    };
}

order_event!(OrderCreated, "Order.Created", decode_order_created);
order_event!(OrderRated, "Order.Rated", decode_order_rated);
order_event!(OrderValued, "Order.Valued", decode_order_valued);
order_event!(OrderSupplied, "Order.Supplied", decode_order_supplied);
order_event!(OrderPaid, "Order.Paid", decode_order_paid);
order_event!(OrderCancelled, "Order.Cancelled", decode_order_cancelled);
order_event!(
    OrderExecutorReleased,
    "Order.ExecutorReleased",
    decode_order_executor_released
);
order_event!(ServiceTypeSet, "ServiceType.Set", decode_service_type_set);
