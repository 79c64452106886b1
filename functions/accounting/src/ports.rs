//! The ports the use cases drive: where accounting keeps its state, one small trait per need (a
//! use case asks only for the ones it uses), [`LedgerStore`] for all of them.
//! The DynamoDB table (`store`) implements every one in a Lambda; `memory` is an in-memory one
//! for tests.

use std::collections::BTreeMap;
use std::future::Future;

use ates_kernel::dynamo::{Listed, StoreError};
use ates_kernel::event::Envelope;
use ates_kernel::identity::AccountCopies;
use ates_kernel::job::{Cursor, Page, PageCommit};
use chrono::NaiveDate;
use uuid::Uuid;

use crate::close::{Close, CloseTotals};
use crate::error::AccountingError;
use crate::ledger::{Closing, Entry, LedgerAccount, Task};
use crate::payout::Leftover;

/// What a consumer's write came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Booked {
    /// Written, with the consumer's inbox record.
    Applied,
    /// This consumer handled this event before: nothing written.
    Duplicate,
    /// The money movement exists already (its key was posted before): nothing written.
    AlreadyPosted,
    /// What was read changed meanwhile (or exists now): nothing written; read again.
    Stale,
}

/// A money movement to commit: the account before and after, its line, the task if this
/// movement is what priced it, and the events, all or nothing.
#[derive(Debug)]
pub struct Posting<'a> {
    /// `None`: the account is not stored yet.
    pub before: Option<&'a LedgerAccount>,
    pub after: &'a LedgerAccount,
    pub entry: &'a Entry,
    pub priced: Option<&'a Task>,
    pub events: &'a [Envelope],
}

/// A page of an account's audit log, newest first.
pub type EntryPage = Listed<Entry>;

/// A page of ledger accounts.
pub type AccountPage = Listed<LedgerAccount>;

/// The company's side of one business day: fees debited, rewards credited, paid out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayEarnings {
    pub fees_cents: i64,
    pub rewards_cents: i64,
    pub paid_cents: i64,
}

impl DayEarnings {
    pub fn of(entry: &Entry) -> DayEarnings {
        use ates_kernel::contracts::accounting::EntryKind;
        let cents = entry.amount_cents.abs();
        match entry.kind {
            EntryKind::Fee => DayEarnings {
                fees_cents: cents,
                ..Default::default()
            },
            EntryKind::Reward => DayEarnings {
                rewards_cents: cents,
                ..Default::default()
            },
            EntryKind::Payout => DayEarnings {
                paid_cents: cents,
                ..Default::default()
            },
        }
    }

    pub fn add(&mut self, other: DayEarnings) {
        self.fees_cents += other.fees_cents;
        self.rewards_cents += other.rewards_cents;
        self.paid_cents += other.paid_cents;
    }
}

/// A ledger account read: its balance, its copy of the person, its last close.
pub trait LedgerAccounts {
    fn account(
        &self,
        id: Uuid,
    ) -> impl Future<Output = Result<Option<LedgerAccount>, StoreError>> + Send;
}

/// The ledger account's copy of its person, kept from `Account.*` events.
pub trait AccountProfiles {
    /// Writes an account's copy of its person (`before`: as read, `None` if not stored).
    fn save_profile(
        &self,
        before: Option<&LedgerAccount>,
        after: &LedgerAccount,
        consumer: &str,
        event: &Envelope,
    ) -> impl Future<Output = Result<Booked, StoreError>> + Send;
}

/// The tasks accounting knows, each priced once (B3).
pub trait PricedTasks {
    fn task(&self, id: Uuid) -> impl Future<Output = Result<Option<Task>, StoreError>> + Send;
    fn tasks(&self, ids: &[Uuid]) -> impl Future<Output = Result<Vec<Task>, StoreError>> + Send;
    /// Writes a task's copy (`before`: as read, `None` if not stored) with its events. The
    /// copy's own condition (new, or not titled yet) makes it once, so no inbox record is
    /// written beside it: a redelivered `Task.Created` finds it `Stale`, reads it again and
    /// finds it titled.
    fn save_task(
        &self,
        before: Option<&Task>,
        after: &Task,
        events: &[Envelope],
    ) -> impl Future<Output = Result<Booked, StoreError>> + Send;
}

/// A movement posted to the ledger (B3, B4).
pub trait Postings {
    /// Posts a money movement: the transaction's key, the account, its audit line, the
    /// company's day, the task it priced and the events, once. The movement's own key makes it
    /// once (a redelivered event finds it `AlreadyPosted`), so no inbox record is written beside
    /// it: that would be two more write units per movement for nothing.
    fn post(
        &self,
        posting: &Posting<'_>,
    ) -> impl Future<Output = Result<Booked, StoreError>> + Send;
}

/// An account's entries, newest first (B2).
pub trait AuditLogs {
    fn entries(
        &self,
        account: Uuid,
        limit: usize,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<EntryPage, AccountingError>> + Send;
}

/// Every account's balance, a page at a time (B1).
pub trait BalanceListings {
    fn list_accounts(
        &self,
        limit: usize,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<AccountPage, AccountingError>> + Send;
}

/// What the company earned per business day (B6).
pub trait CompanyEarnings {
    /// The company's figures of every business day from `from` to `to` that has any.
    fn earnings(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> impl Future<Output = Result<BTreeMap<NaiveDate, DayEarnings>, StoreError>> + Send;
}

/// A day's close as it stands, and how many accounts it closes (B5).
pub trait CloseReports {
    /// A close by its job id ([`Close::job_id_of`] a date).
    fn close(&self, job_id: Uuid)
        -> impl Future<Output = Result<Option<Close>, StoreError>> + Send;
    /// How many ledger accounts there are (a close's expected total).
    fn account_count(&self) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

/// A close started: its record and its first pages (B5).
pub trait CloseStarts {
    /// Records a close and the first page of every partition, once per consumer and event.
    fn start_close(
        &self,
        close: &Close,
        consumer: &str,
        event: &Envelope,
    ) -> impl Future<Output = Result<Booked, StoreError>> + Send;
}

/// A close's pages: accounts read and closed a page at a time, and the close finished (B5).
pub trait ClosePages {
    /// Accounts read consistently; unknown ids are left out.
    fn accounts(
        &self,
        ids: &[Uuid],
    ) -> impl Future<Output = Result<Vec<LedgerAccount>, StoreError>> + Send;
    /// At most a page of a partition's account ids after `cursor`, and where the next starts.
    fn accounts_page(
        &self,
        partition: u32,
        cursor: Option<&Cursor>,
    ) -> impl Future<Output = Result<(Vec<Uuid>, Option<Cursor>), StoreError>> + Send;
    /// One account's close: its state (if still at the sequence read), statement, payout and
    /// events. `Applied` or `Stale`.
    fn save_closing(
        &self,
        before: &LedgerAccount,
        closing: &Closing,
        events: &[Envelope],
    ) -> impl Future<Output = Result<Booked, StoreError>> + Send;
    /// A page's end: the close's totals and progress, and the next page (or the partition's
    /// end), together.
    fn finish_page(
        &self,
        page: &Page,
        accounts: usize,
        totals: &CloseTotals,
        next: Option<&Page>,
    ) -> impl Future<Output = Result<PageCommit, StoreError>> + Send;
    /// Marks a finished close closed and publishes `event` (`Day.Closed`), once.
    fn finish_close(
        &self,
        close: &Close,
        event: &Envelope,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// What accounting kept of payouts before payments took them (SPEC M7's move), read once.
pub trait PayoutHandover {
    /// One page of the kept payout details and held transfers, from `cursor`.
    fn payout_leftovers(
        &self,
        limit: usize,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<Listed<Leftover>, AccountingError>> + Send;
    /// Publishes `events` through the outbox, each once: one published before is left alone.
    fn hand_over(&self, events: &[Envelope])
        -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// The accounting table, as the use cases need it: every port above and the kernel's copy of
/// accounts. Every write is one atomic step. A use case asks only for the ports it uses; the
/// handlers and the binaries hold a whole store.
///
/// Each store says it is one, so a store that lacks a port fails where it is defined.
pub trait LedgerStore:
    AccountCopies
    + LedgerAccounts
    + AccountProfiles
    + PricedTasks
    + Postings
    + AuditLogs
    + BalanceListings
    + CompanyEarnings
    + CloseReports
    + CloseStarts
    + ClosePages
{
}
