//! The calculator's events (SPEC M3): an order's estimate, and its exact price for one executor.
//! Amounts are integer cents, rounded down; a price, once set for an (order, executor), never
//! changes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::hiring::Level;
use super::only_v1;
use crate::event::{DomainEvent, Envelope, EventError};

/// The preliminary estimate of a new order: the base price less the client's loyalty discount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EstimateGiven {
    pub order_id: Uuid,
    pub client_id: Uuid,
    pub base_price_cents: i64,
    pub discount_pct: u32,
    pub estimate_cents: i64,
    pub given_at: DateTime<Utc>,
}

impl DomainEvent for EstimateGiven {
    const NAME: &'static str = "Calculator.EstimateGiven";
    const VERSION: u32 = 1;
}

/// The exact price of an order done by `executor_id`: the list price (base × the executor's
/// level) less the client's loyalty discount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceSet {
    pub order_id: Uuid,
    pub executor_id: Uuid,
    pub level: Level,
    pub list_price_cents: i64,
    pub discount_pct: u32,
    pub value_cents: i64,
    pub set_at: DateTime<Utc>,
}

impl DomainEvent for PriceSet {
    const NAME: &'static str = "Calculator.PriceSet";
    const VERSION: u32 = 1;
}

pub fn decode_estimate_given(e: &Envelope) -> Result<EstimateGiven, EventError> {
    only_v1(e)
}

pub fn decode_price_set(e: &Envelope) -> Result<PriceSet, EventError> {
    only_v1(e)
}
