//! Matching's event (SPEC M4): the executor chosen for an order.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::only_v1;
use crate::event::{DomainEvent, Envelope, EventError};

/// `executor_id` will do the order. `order_version` is the version of the `Order.Rated` or
/// `Order.ExecutorReleased` this match answers: a re-match after a release names a later one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutorMatched {
    pub order_id: Uuid,
    pub order_version: u64,
    pub executor_id: Uuid,
    /// How many workers were eligible when the choice was made.
    pub candidates: u32,
    pub matched_at: DateTime<Utc>,
}

impl DomainEvent for ExecutorMatched {
    const NAME: &'static str = "Matching.ExecutorMatched";
    const VERSION: u32 = 1;
}

pub fn decode_executor_matched(e: &Envelope) -> Result<ExecutorMatched, EventError> {
    only_v1(e)
}
