//! Billing's events (SPEC M7): clients' weekly invoices and their collection, orders settled,
//! workers' monthly statements. Every amount is integer cents (USD).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::clock::{Month, Week};
use super::only_v1;
use crate::event::{DomainEvent, Envelope, EventError};

/// How an invoiced order ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Approved,
    Declined,
    /// Cancelled after it was valued: charged in full (course).
    Cancelled,
}

/// One order's charge on an invoice (`charge:<order_id>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceLine {
    pub order_id: Uuid,
    pub outcome: Outcome,
    pub amount_cents: i64,
}

/// The client's invoice of `week` was issued at the week's end (`invoice:<client>:<week>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceIssued {
    pub invoice_id: Uuid,
    pub client_id: Uuid,
    pub week: Week,
    pub total_cents: i64,
    pub lines: Vec<InvoiceLine>,
    pub issued_at: DateTime<Utc>,
}

impl DomainEvent for InvoiceIssued {
    const NAME: &'static str = "Billing.InvoiceIssued";
    const VERSION: u32 = 1;
}

pub fn decode_invoice_issued(e: &Envelope) -> Result<InvoiceIssued, EventError> {
    only_v1(e)
}

/// Collect `amount_cents` for the invoice from the client's card: attempt 1 when the invoice is
/// issued, 2–4 after 1, 3 and 7 days. Payments charges each (invoice, attempt) once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionRequested {
    pub invoice_id: Uuid,
    pub client_id: Uuid,
    pub amount_cents: i64,
    pub attempt: u32,
    pub requested_at: DateTime<Utc>,
}

impl DomainEvent for CollectionRequested {
    const NAME: &'static str = "Billing.CollectionRequested";
    const VERSION: u32 = 1;
}

pub fn decode_collection_requested(e: &Envelope) -> Result<CollectionRequested, EventError> {
    only_v1(e)
}

/// The invoice was collected in full.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoicePaid {
    pub invoice_id: Uuid,
    pub client_id: Uuid,
    pub week: Week,
    pub total_cents: i64,
    pub paid_at: DateTime<Utc>,
}

impl DomainEvent for InvoicePaid {
    const NAME: &'static str = "Billing.InvoicePaid";
    const VERSION: u32 = 1;
}

pub fn decode_invoice_paid(e: &Envelope) -> Result<InvoicePaid, EventError> {
    only_v1(e)
}

/// What a declined invoice became.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dunning {
    /// Tried again at `retry_at`.
    Retrying,
    /// The last attempt failed: accountants take it from here; no order is settled.
    Uncollectible,
}

/// A collection attempt was declined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceDeclined {
    pub invoice_id: Uuid,
    pub client_id: Uuid,
    pub week: Week,
    pub total_cents: i64,
    pub attempt: u32,
    pub status: Dunning,
    pub retry_at: Option<DateTime<Utc>>,
    pub reason: String,
    pub declined_at: DateTime<Utc>,
}

impl DomainEvent for InvoiceDeclined {
    const NAME: &'static str = "Billing.InvoiceDeclined";
    const VERSION: u32 = 1;
}

pub fn decode_invoice_declined(e: &Envelope) -> Result<InvoiceDeclined, EventError> {
    only_v1(e)
}

/// The order's charge was collected: orders' `settle` (`*_invoiced` → `*_paid`). Only approved
/// and declined orders are settled; a cancelled one has nothing left to fire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderSettled {
    pub order_id: Uuid,
    pub invoice_id: Uuid,
    pub outcome: Outcome,
    pub settled_at: DateTime<Utc>,
}

impl DomainEvent for OrderSettled {
    const NAME: &'static str = "Billing.OrderSettled";
    const VERSION: u32 = 1;
}

pub fn decode_order_settled(e: &Envelope) -> Result<OrderSettled, EventError> {
    only_v1(e)
}

/// A worker's monthly statement (`salary:<worker>:<month>`): the total is the debt carried in
/// plus shares, less fines, plus waivers and bonuses. A positive total is `salary_cents`, paid
/// through payments; a negative one is `carried_out_cents`, the next month's debt. Exactly one
/// of the two is non-zero, or neither.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementIssued {
    pub statement_id: Uuid,
    pub worker_id: Uuid,
    pub month: Month,
    pub carried_in_cents: i64,
    pub shares_cents: i64,
    pub fines_cents: i64,
    pub waivers_cents: i64,
    pub bonuses_cents: i64,
    pub total_cents: i64,
    pub salary_cents: i64,
    pub carried_out_cents: i64,
    pub issued_at: DateTime<Utc>,
}

impl DomainEvent for StatementIssued {
    const NAME: &'static str = "Billing.StatementIssued";
    const VERSION: u32 = 1;
}

pub fn decode_statement_issued(e: &Envelope) -> Result<StatementIssued, EventError> {
    only_v1(e)
}
