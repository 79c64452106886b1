//! The ports the use cases drive, one small trait per need: the people (accounts and skills,
//! and who has a skill), the orders, the workers' schedules, the waiting orders. The DynamoDB
//! table (`store`) implements every one in a Lambda; `memory` does in tests.

use std::future::Future;

use ates_kernel::dynamo::StoreError;
use ates_kernel::event::Envelope;
use ates_kernel::identity::AccountCopies;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::choice::{Booking, Schedule};
use crate::order::Order;
use crate::person::Person;

/// A write answers the kernel's `Saved` (`Stale`: what it was decided on changed; nothing was
/// written).
pub use ates_kernel::usecase::Saved;

/// The people matching knows, and which workers can be chosen for a skill.
pub trait People: AccountCopies {
    fn person(
        &self,
        account_id: Uuid,
    ) -> impl Future<Output = Result<Option<Person>, StoreError>> + Send;
    /// `after`, if the stored person is still `before` (by stamp), and with it who can be
    /// chosen for which skill.
    fn save_person(
        &self,
        before: Option<&Person>,
        after: &Person,
    ) -> impl Future<Output = Result<Saved, StoreError>> + Send;
    /// Every worker who can be chosen for `skill` now (a query of the skill, never a scan).
    fn workers_with(
        &self,
        skill: &str,
    ) -> impl Future<Output = Result<Vec<Uuid>, StoreError>> + Send;
}

/// What else an order's write does.
#[derive(Debug, Clone, Copy, Default)]
pub struct Change<'a> {
    /// A booking given up (release, cancellation).
    pub freed: Option<&'a Booking>,
    /// A booking made, if the worker's schedule is still at this version.
    pub booked: Option<(&'a Booking, u64)>,
    pub events: &'a [Envelope],
}

/// Orders as matching keeps them.
pub trait Orders: Sync {
    fn order(
        &self,
        order_id: Uuid,
    ) -> impl Future<Output = Result<Option<Order>, StoreError>> + Send;
    /// `after` with its change and events, if the stored order is still `before` (by stamp)
    /// and a booking's worker's schedule is still as read. A waiting order is listed among the
    /// waiting ones (for its skill too) exactly while it waits.
    fn save_order(
        &self,
        before: Option<&Order>,
        after: &Order,
        change: Change<'_>,
    ) -> impl Future<Output = Result<Saved, StoreError>> + Send;
}

/// Workers' bookings.
pub trait Schedules: Sync {
    /// The worker's bookings and the version of their schedule (0 before any booking).
    fn schedule(
        &self,
        worker_id: Uuid,
    ) -> impl Future<Output = Result<Schedule, StoreError>> + Send;
}

/// Orders that wait for an executor.
pub trait Waiting: Sync {
    /// At most `limit` waiting orders, longest waiting first, with since when.
    fn waiting(
        &self,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<(DateTime<Utc>, Uuid)>, StoreError>> + Send;
    /// At most `limit` orders waiting for `skill`, longest waiting first.
    fn waiting_for(
        &self,
        skill: &str,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Uuid>, StoreError>> + Send;
}

/// Everything matching's handlers use: what a Lambda's store implements.
pub trait MatchingStore: People + Orders + Schedules + Waiting {}
impl<S: People + Orders + Schedules + Waiting> MatchingStore for S {}
