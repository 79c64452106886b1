//! The ports billing's use cases drive: where it keeps its books, one small trait per need (a
//! use case asks only for the ones it uses), and [`BillingStore`] for all of them. `memory` is
//! the in-memory store the tests run on.

use std::future::Future;

use ates_kernel::contracts::clock::{Month, Week};
use ates_kernel::copies::KeepsAccountCopies;
use ates_kernel::dynamo::{Listed, StoreError};
use ates_kernel::event::Envelope;
use ates_kernel::usecase::{KeyedAnswer, Replays};
use chrono::{DateTime, NaiveDate, Utc};

use crate::error::BillingError;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::invoice::{Invoice, InvoiceStatus};
use crate::ledger::{Movement, Period, RevenueLine};
use crate::statement::{Statement, Worker};

/// What a write came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Booked {
    /// Written, with its events.
    Applied,
    /// It exists already (its key was posted, its invoice or statement issued): nothing written.
    AlreadyDone,
    /// What it decided on changed meanwhile (a period was issued, a version moved): nothing
    /// written; read again.
    Stale,
    /// The command's idempotency key was used before: nothing written.
    KeyUsed,
}

/// A manager's bonus, as granted (SPEC M7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bonus {
    pub bonus_id: Uuid,
    pub worker_id: Uuid,
    pub amount_cents: i64,
    pub reason: String,
    pub granted_by: Uuid,
    pub granted_at: DateTime<Utc>,
    /// The month whose statement counts it.
    pub month: Month,
}

/// Movements to post together, all or nothing: each once by its key, each only while its
/// period is not issued.
#[derive(Debug)]
pub struct Posting<'a> {
    pub movements: &'a [Movement],
    pub bonus: Option<&'a Bonus>,
    pub events: &'a [Envelope],
    pub keyed: KeyedAnswer<'a>,
}

/// The periods whose invoices or statements were issued: a fact that happened in one of them
/// is late and posts to the next one open.
pub trait Periods {
    /// The issued periods of `from`'s kind from `from` on.
    fn issued_from(
        &self,
        from: Period,
    ) -> impl Future<Output = Result<Vec<Period>, StoreError>> + Send;
    /// Marks a period issued (once; again is nothing). From then on nothing posts to it.
    fn issue_period(&self, period: Period) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// The ledger's movements.
pub trait Postings {
    /// `Applied`; `AlreadyDone` if a movement's key is there; `Stale` if a period was issued
    /// meanwhile; `KeyUsed`.
    fn post(
        &self,
        posting: &Posting<'_>,
    ) -> impl Future<Output = Result<Booked, StoreError>> + Send;
    /// A period's movements of one party (a client's charges of a week, a worker's lines of a
    /// month).
    fn movements_of(
        &self,
        party: Uuid,
        period: Period,
    ) -> impl Future<Output = Result<Vec<Movement>, StoreError>> + Send;
}

/// Weekly invoices: who to invoice, and each invoice issued once.
pub trait Invoicing {
    /// The clients with charges in `week`.
    fn charged_clients(
        &self,
        week: Week,
    ) -> impl Future<Output = Result<Vec<Uuid>, StoreError>> + Send;
    /// Issues an invoice with its events; `AlreadyDone` if it was issued before.
    fn issue_invoice(
        &self,
        invoice: &Invoice,
        events: &[Envelope],
    ) -> impl Future<Output = Result<Booked, StoreError>> + Send;
}

/// Invoices as they are collected.
pub trait Invoices {
    fn invoice(&self, id: Uuid)
        -> impl Future<Output = Result<Option<Invoice>, StoreError>> + Send;
    /// The invoice after a collection's answer or a retry, with the money it posts: `Stale` if
    /// the invoice is not at the version read, `AlreadyDone` if the movement is posted.
    fn save_invoice(
        &self,
        before: &Invoice,
        after: &Invoice,
        movement: Option<&Movement>,
        events: &[Envelope],
    ) -> impl Future<Output = Result<Booked, StoreError>> + Send;
    /// Invoices in `status` (the dunning: `retrying`).
    fn invoices_in(
        &self,
        status: InvoiceStatus,
    ) -> impl Future<Output = Result<Vec<Invoice>, StoreError>> + Send;
}

/// Monthly statements.
pub trait Statements {
    /// The workers with lines in `month` or debt carried.
    fn workers_to_state(
        &self,
        month: Month,
    ) -> impl Future<Output = Result<Vec<Uuid>, StoreError>> + Send;
    fn worker(&self, id: Uuid) -> impl Future<Output = Result<Option<Worker>, StoreError>> + Send;
    fn statement(
        &self,
        id: Uuid,
    ) -> impl Future<Output = Result<Option<Statement>, StoreError>> + Send;
    /// Issues a statement and the worker's new carried debt: `AlreadyDone` if it was issued,
    /// `Stale` if the worker is not at the version read.
    fn issue_statement(
        &self,
        before: Option<&Worker>,
        after: &Worker,
        statement: &Statement,
        events: &[Envelope],
    ) -> impl Future<Output = Result<Booked, StoreError>> + Send;
    /// The statement after its salary was paid, with the salary's movement.
    fn save_statement(
        &self,
        before: &Statement,
        after: &Statement,
        movement: &Movement,
    ) -> impl Future<Output = Result<Booked, StoreError>> + Send;
}

/// What the reads list, a page at a time (on the table's indexes, never a scan).
pub trait Listings {
    /// A client's invoices, newest week first.
    fn invoices_of_client(
        &self,
        client: Uuid,
        limit: usize,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<Listed<Invoice>, BillingError>> + Send;
    /// The invoices of a week, or in a status, or both (at least one).
    fn invoices_where(
        &self,
        week: Option<Week>,
        status: Option<InvoiceStatus>,
        limit: usize,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<Listed<Invoice>, BillingError>> + Send;
    /// A worker's statements, newest month first.
    fn statements_of_worker(
        &self,
        worker: Uuid,
        limit: usize,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<Listed<Statement>, BillingError>> + Send;
    fn statements_of_month(
        &self,
        month: Month,
        limit: usize,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<Listed<Statement>, BillingError>> + Send;
    /// Bonuses, newest first.
    fn bonuses(
        &self,
        limit: usize,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<Listed<Bonus>, BillingError>> + Send;
    /// Revenue's lines of the business days from `from` to `to`.
    fn revenue_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> impl Future<Output = Result<Vec<RevenueLine>, StoreError>> + Send;
}

/// Revenue's projection (N4): each movement's line is written with the movement; a replay
/// writes again the lines of the facts it re-learns.
pub trait RevenueLines {
    /// Writes each line whose movement is in the ledger, as it was; a line without one is
    /// skipped (a replay never counts money the ledger does not hold). Answers how many were
    /// written.
    fn project_replayed(
        &self,
        lines: &[RevenueLine],
    ) -> impl Future<Output = Result<usize, StoreError>> + Send;
}

/// The billing table, as the use cases need it. Each store says it is one.
pub trait BillingStore:
    Periods
    + Postings
    + Invoicing
    + Invoices
    + Statements
    + Listings
    + RevenueLines
    + KeepsAccountCopies
    + Replays
    + Sync
{
}
