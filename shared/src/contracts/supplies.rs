//! Supplies' events (SPEC M5): an order's kit delivered by the supplier, ready to hand out; and
//! handed to its executor.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::only_v1;
use super::orders::SupplyLine;
use crate::event::{DomainEvent, Envelope, EventError};

/// A manager handed the kit `kit_id` (the service type's supplies and a fortune cookie) to the
/// order's executor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KitIssued {
    pub kit_id: Uuid,
    pub order_id: Uuid,
    pub executor_id: Uuid,
    pub items: Vec<SupplyLine>,
    pub issued_by: Uuid,
    pub issued_at: DateTime<Utc>,
}

impl DomainEvent for KitIssued {
    const NAME: &'static str = "Supplies.KitIssued";
    const VERSION: u32 = 1;
}

pub fn decode_kit_issued(e: &Envelope) -> Result<KitIssued, EventError> {
    only_v1(e)
}

/// The supplier delivered the kit `kit_id` (its order `attempt`, the latest): supply staff may
/// hand it to the order's executor now (SPEC M5, M9: "kits to hand out").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KitReceived {
    pub kit_id: Uuid,
    pub order_id: Uuid,
    /// The order's executor as supplies knew it then; null while matching has not named one.
    pub executor_id: Option<Uuid>,
    pub items: Vec<SupplyLine>,
    pub attempt: u32,
    pub received_at: DateTime<Utc>,
}

impl DomainEvent for KitReceived {
    const NAME: &'static str = "Supplies.KitReceived";
    const VERSION: u32 = 1;
}

pub fn decode_kit_received(e: &Envelope) -> Result<KitReceived, EventError> {
    only_v1(e)
}
