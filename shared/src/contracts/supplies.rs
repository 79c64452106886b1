//! Supplies' event (SPEC M5): an order's kit handed to its executor.

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
