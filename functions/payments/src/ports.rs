//! The ports the use cases drive, one small trait per need: the cards on file, the
//! collections, the payout details and payouts, the copy of accounts, the acquirer and the bank.
//! The DynamoDB table (`store`) implements every store port in a Lambda; `memory` does in tests.
//! The partners' adapters are `acquirer::SimulatedAcquirer` and `bank::SimulatedBank` (the only
//! ones until real partners are chosen).

use std::future::Future;

use ates_kernel::dynamo::StoreError;
use ates_kernel::event::Envelope;
use uuid::Uuid;

use crate::card::Card;
pub use crate::card::CardDetails;
pub use crate::collection::Charge;
use crate::collection::Collection;
use crate::payout::{Iban, Payout, PayoutDetails, Transfer};

/// A write answers the kernel's `Saved`.
pub use ates_kernel::usecase::Saved;

/// The clients' cards on file: one per client, the newest replacing the last.
pub trait Cards: Sync {
    fn card(
        &self,
        client_id: Uuid,
    ) -> impl Future<Output = Result<Option<Card>, StoreError>> + Send;
    /// Keeps `card` as its client's card on file, replacing any other.
    fn keep_card(&self, card: &Card) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Forgets the client's card; answers whether there was one.
    fn forget_card(&self, client_id: Uuid)
        -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// The collections, keyed by invoice and attempt; each write is the collection and its events,
/// together or not at all.
pub trait Collections: Sync {
    fn collection(
        &self,
        invoice_id: Uuid,
        attempt: u32,
    ) -> impl Future<Output = Result<Option<Collection>, StoreError>> + Send;
    /// An invoice's collections, by attempt.
    fn collections_of(
        &self,
        invoice_id: Uuid,
    ) -> impl Future<Output = Result<Vec<Collection>, StoreError>> + Send;
    /// A new collection with its events, if there is none for its invoice and attempt yet;
    /// `Stale` otherwise (nothing written).
    fn add_collection(
        &self,
        collection: &Collection,
        events: &[Envelope],
    ) -> impl Future<Output = Result<Saved, StoreError>> + Send;
    /// `after` with its events, if the stored collection is still `before` (by version);
    /// `Stale` otherwise (nothing written).
    fn change_collection(
        &self,
        before: &Collection,
        after: &Collection,
        events: &[Envelope],
    ) -> impl Future<Output = Result<Saved, StoreError>> + Send;
}

/// Where employees' money goes: one IBAN per account, the newest replacing the last.
pub trait PayoutDetailsBook: Sync {
    fn payout_details(
        &self,
        account_id: Uuid,
    ) -> impl Future<Output = Result<Option<PayoutDetails>, StoreError>> + Send;
    fn keep_payout_details(
        &self,
        details: &PayoutDetails,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// The payouts, keyed by their id under their account; each write is the payout and its
/// events, together or not at all.
pub trait Payouts: Sync {
    fn payout(
        &self,
        account_id: Uuid,
        payout_id: &str,
    ) -> impl Future<Output = Result<Option<Payout>, StoreError>> + Send;
    /// An account's payouts, oldest key first.
    fn payouts_of(
        &self,
        account_id: Uuid,
    ) -> impl Future<Output = Result<Vec<Payout>, StoreError>> + Send;
    /// An account's payouts that wait for the bank (held, or pending), read consistently: never
    /// its whole history.
    fn waiting_payouts_of(
        &self,
        account_id: Uuid,
    ) -> impl Future<Output = Result<Vec<Payout>, StoreError>> + Send;
    /// A new payout with its events, if there is none of its id yet; `Stale` otherwise.
    fn add_payout(
        &self,
        payout: &Payout,
        events: &[Envelope],
    ) -> impl Future<Output = Result<Saved, StoreError>> + Send;
    /// `after` with its events, if the stored payout is still `before` (by version); `Stale`
    /// otherwise (nothing written).
    fn change_payout(
        &self,
        before: &Payout,
        after: &Payout,
        events: &[Envelope],
    ) -> impl Future<Output = Result<Saved, StoreError>> + Send;
}

/// Everything a payments store is.
pub trait PaymentsStore:
    Cards + Collections + PayoutDetailsBook + Payouts + ates_kernel::copies::KeepsAccountCopies
{
}

/// A partner (the acquirer, the bank) could not be asked, or its answer was lost: ask again,
/// with the same key.
#[derive(Debug, thiserror::Error)]
#[error("the partner did not answer: {0}")]
pub struct Unreachable(pub String);

/// What the acquirer says of a card token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    Accepted(CardDetails),
    /// Not a card the acquirer will charge, in its words.
    Refused(String),
}

/// The acquirer (Stripe or the like): checks a card token, and charges it. A charge under an
/// idempotency key it has seen answers what the first one did and moves no money again.
pub trait Acquirer: Sync {
    fn verify(&self, token: &str)
        -> impl Future<Output = Result<Verification, Unreachable>> + Send;
    fn charge(
        &self,
        token: &str,
        amount_cents: i64,
        idempotency_key: &str,
    ) -> impl Future<Output = Result<Charge, Unreachable>> + Send;
}

/// The bank (seed 004's PaymentService's other partner): sends money to an IBAN. A transfer
/// under an idempotency key it has seen answers what the first one did and sends nothing again.
pub trait Bank: Sync {
    fn transfer(
        &self,
        to: &Iban,
        amount_cents: i64,
        idempotency_key: &str,
    ) -> impl Future<Output = Result<Transfer, Unreachable>> + Send;
}
