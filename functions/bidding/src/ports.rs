//! The ports the use cases drive, one small trait per need: the order's book (read, and a bet
//! placed in it), the facts of the order learned from its events, and the two indexes the reads
//! walk (a manager's orders, the books settled by day). The DynamoDB table (`store`) implements
//! every one in a Lambda; `memory` does in tests. [`BiddingStore`] is all of them, with the
//! kernel's copy of accounts and its first answers to keyed commands.

use std::future::Future;

use ates_kernel::copies::KeepsAccountCopies;
use ates_kernel::dynamo::StoreError;
use ates_kernel::event::Envelope;
use ates_kernel::usecase::{KeyedAnswer, Replays};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::bet::{Bet, Book};

/// A write answers what happened, not a bool.
pub use ates_kernel::usecase::Saved;

/// An order's book as stored: the book, and the version every write of it is conditional on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredBook {
    pub order_id: Uuid,
    pub book: Book,
    /// 1 for the first write; a book never written is version 0 (no item).
    pub version: u64,
}

impl StoredBook {
    /// The book of an order bidding has heard nothing of.
    pub fn none(order_id: Uuid) -> StoredBook {
        StoredBook {
            order_id,
            book: Book::default(),
            version: 0,
        }
    }
}

/// What learning a fact came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Learned {
    /// The book and the consumer's inbox record were written.
    Applied,
    /// The consumer handled this event before: nothing was written.
    Duplicate,
    /// The book is no longer as it was read: nothing was written.
    Stale,
}

/// Orders' books, and a bet placed in one.
pub trait Books: Sync {
    fn book(
        &self,
        order_id: Uuid,
    ) -> impl Future<Output = Result<Option<StoredBook>, StoreError>> + Send;
    /// The books of these orders that exist, in no particular order.
    fn books(
        &self,
        order_ids: &[Uuid],
    ) -> impl Future<Output = Result<Vec<StoredBook>, StoreError>> + Send;
    /// Writes `after` (the book read as `read`, with `bet` placed) and the manager's index of
    /// it, with the key's answer when keyed: `Stale` when the book is no longer at the version
    /// read or the manager has a bet on the order already, `KeyUsed` when the key has an answer.
    fn place_bet(
        &self,
        read: &StoredBook,
        after: &Book,
        bet: &Bet,
        keyed: KeyedAnswer<'_>,
    ) -> impl Future<Output = Result<Saved, StoreError>> + Send;
}

/// The facts of orders, from their events.
pub trait OrderFacts: Sync {
    /// Writes `after` as the book of `read` (if it is still at the version read) with
    /// `consumer`'s inbox record for `event`; with `settled_on`, the order is listed among the
    /// books settled that day too. A `replayed` event was handled before: it is written without
    /// the inbox's check (never `Duplicate`).
    fn learn(
        &self,
        consumer: &str,
        event: &Envelope,
        read: &StoredBook,
        after: &Book,
        settled_on: Option<NaiveDate>,
        replayed: bool,
    ) -> impl Future<Output = Result<Learned, StoreError>> + Send;
}

/// The indexes the reads walk.
pub trait Readings: Sync {
    /// Every order `manager_id` has bet on.
    fn orders_bet_by(
        &self,
        manager_id: Uuid,
    ) -> impl Future<Output = Result<Vec<Uuid>, StoreError>> + Send;
    /// Every order whose book settled (was invoiced) on a business day `from` to `to`.
    fn settled_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> impl Future<Output = Result<Vec<Uuid>, StoreError>> + Send;
}

/// Bidding's table, as the handlers and binaries hold it. Each store says it is one, so a store
/// that lacks a port fails where it is defined.
pub trait BiddingStore: KeepsAccountCopies + Replays + Books + OrderFacts + Readings {}
