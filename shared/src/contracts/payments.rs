//! Payments' events (SPEC M7, seed 004's PaymentService): money that entered or left the company.
//! Each is published once the partner confirmed it (the acquirer for a collection, the bank for
//! a salary): before that, the money is pending and no ledger says it moved.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::clock::Month;
use super::only_v1;
use crate::event::{DomainEvent, Envelope, EventError};

/// The acquirer collected `Billing.CollectionRequested`'s amount from the client's card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionSucceeded {
    pub invoice_id: Uuid,
    pub client_id: Uuid,
    pub attempt: u32,
    pub amount_cents: i64,
    pub card_last4: String,
    pub collected_at: DateTime<Utc>,
}

impl DomainEvent for CollectionSucceeded {
    const NAME: &'static str = "Payment.CollectionSucceeded";
    const VERSION: u32 = 1;
}

pub fn decode_collection_succeeded(e: &Envelope) -> Result<CollectionSucceeded, EventError> {
    only_v1(e)
}

/// Why a collection failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CollectionFailure {
    /// The acquirer declined the card.
    CardDeclined,
    /// The client has no card on file.
    NoCard,
}

/// The attempt collected nothing; billing decides whether to try again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionFailed {
    pub invoice_id: Uuid,
    pub client_id: Uuid,
    pub attempt: u32,
    pub amount_cents: i64,
    pub reason: CollectionFailure,
    pub failed_at: DateTime<Utc>,
}

impl DomainEvent for CollectionFailed {
    const NAME: &'static str = "Payment.CollectionFailed";
    const VERSION: u32 = 1;
}

pub fn decode_collection_failed(e: &Envelope) -> Result<CollectionFailed, EventError> {
    only_v1(e)
}

/// The bank confirmed the worker's salary for `month` (`salary:<worker>:<month>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalaryPaid {
    pub worker_id: Uuid,
    pub month: Month,
    pub amount_cents: i64,
    pub transfer_id: Uuid,
    pub paid_at: DateTime<Utc>,
}

impl DomainEvent for SalaryPaid {
    const NAME: &'static str = "Payment.SalaryPaid";
    const VERSION: u32 = 1;
}

pub fn decode_salary_paid(e: &Envelope) -> Result<SalaryPaid, EventError> {
    only_v1(e)
}
