//! The ports the use cases drive, one small trait per need: the applications, the test bank,
//! the workers' profiles, the deadlines, the copy of accounts, and the mail that carries an
//! application token. The DynamoDB table (`store`) implements every store port in a Lambda;
//! `memory` does in tests.

use std::future::Future;

use ates_kernel::copies::KeepsAccountCopies;
use ates_kernel::dynamo::{Listed, StoreError};
use ates_kernel::event::Envelope;
use ates_kernel::usecase::Replays;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::application::{Application, Filter, Kind};
use crate::bank::{Profile, Question, Test};
use crate::error::HiringError;
use crate::worker::WorkerProfile;

/// A write answers the kernel's `Saved`; a keyed one takes its `KeyedAnswer`.
pub use ates_kernel::usecase::{KeyedAnswer, Saved};

/// Applications as the use cases read them.
pub trait Applications: Sync {
    fn application(
        &self,
        id: Uuid,
    ) -> impl Future<Output = Result<Option<Application>, StoreError>> + Send;
    /// The open (undecided) application of this address and kind, if there is one.
    fn open_application(
        &self,
        email: &str,
        kind: Kind,
    ) -> impl Future<Output = Result<Option<Application>, StoreError>> + Send;
    /// The applications `filter` admits, newest first.
    fn applications_in(
        &self,
        filter: &Filter,
        limit: usize,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<Listed<Application>, HiringError>> + Send;
}

/// Where applications are written: each write is the application, what follows from its
/// status (the address's open application, the deadline), its events, a hired worker's profile
/// and the key's answer, together or not at all.
pub trait ApplicationChanges: Replays + Sync {
    /// A new application; `Stale` when the address has an open application of its kind.
    fn add_application(
        &self,
        application: &Application,
        event: &Envelope,
    ) -> impl Future<Output = Result<Saved, StoreError>> + Send;
    /// `after`, if the stored application is still `before` (by version).
    fn change_application(
        &self,
        before: &Application,
        after: &Application,
        change: Change<'_>,
    ) -> impl Future<Output = Result<Saved, StoreError>> + Send;
}

/// What else an application's change writes.
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    pub events: &'a [Envelope],
    /// A worker's first profile (at acceptance): written only if the worker has none.
    pub hired: Option<&'a WorkerProfile>,
    pub keyed: KeyedAnswer<'a>,
    pub now: DateTime<Utc>,
}

/// Tests whose deadlines passed, for the deadline timer.
pub trait Deadlines: Sync {
    /// At most `limit` ids of applications in `test` whose deadline is at or before `now`,
    /// earliest first.
    fn due(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Uuid>, StoreError>> + Send;
}

/// One kind of the test bank's entries (questions, tests or profiles).
pub trait Shelf<T>: Replays + Sync {
    fn entry(&self, id: Uuid) -> impl Future<Output = Result<Option<T>, StoreError>> + Send;
    /// The entries of these ids that exist (in no order).
    fn entries(&self, ids: &[Uuid]) -> impl Future<Output = Result<Vec<T>, StoreError>> + Send;
    /// `entry` if the stored one is still `previous` (by revision; absent for `None`).
    fn save_entry(
        &self,
        entry: &T,
        previous: Option<&T>,
        keyed: KeyedAnswer<'_>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Saved, StoreError>> + Send;
    /// Every entry, newest first.
    fn shelf(
        &self,
        limit: usize,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<Listed<T>, HiringError>> + Send;
}

/// The whole test bank.
pub trait Bank: Shelf<Question> + Shelf<Test> + Shelf<Profile> {}
impl<S: Shelf<Question> + Shelf<Test> + Shelf<Profile>> Bank for S {}

/// Hired workers' profiles.
pub trait Workers: Replays + Sync {
    fn worker(
        &self,
        account_id: Uuid,
    ) -> impl Future<Output = Result<Option<WorkerProfile>, StoreError>> + Send;
    /// `profile` and its event if the stored one is still `previous` (by revision).
    fn change_worker(
        &self,
        profile: &WorkerProfile,
        previous: &WorkerProfile,
        event: &Envelope,
        keyed: KeyedAnswer<'_>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Saved, StoreError>> + Send;
}

/// The copy of accounts (who calls, and which addresses have an account already).
pub trait Accounts: KeepsAccountCopies {
    /// The account whose address this is, if the copy knows one.
    fn account_with_address(
        &self,
        email: &str,
    ) -> impl Future<Output = Result<Option<Uuid>, StoreError>> + Send;
}

/// Why a token's mail did not leave.
#[derive(Debug, thiserror::Error)]
#[error("the application token was not mailed: {0}")]
pub struct NotMailed(pub String);

/// How an application token reaches its applicant: by mail, and by nothing else (no event, no
/// log, no table carries it).
pub trait TokenMail: Sync {
    fn mail_token(
        &self,
        application: &Application,
        token: &str,
    ) -> impl Future<Output = Result<(), NotMailed>> + Send;
}
