//! The ports the use cases drive: where analytics keeps its projections, one small trait per need
//! ([`AnalyticsStore`] is all of them), every one of them under a generation number, so a rebuild can fill a fresh one while the
//! current one answers.

use std::collections::BTreeMap;
use std::future::Future;

use ates_kernel::copies::KeepsAccountCopies;
use ates_kernel::dynamo::StoreError;
use ates_kernel::event::Envelope;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::projection::{Completion, DayFigures, Generations, KnownBalance};
use crate::rebuild::{Rebuild, ReplayState};

/// What a consumer's write came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Projected {
    Applied,
    /// This consumer applied this event to this generation before.
    Duplicate,
}

/// A ledger movement as the company's day takes it: its figures.
#[derive(Debug)]
pub struct Movement {
    pub business_date: NaiveDate,
    pub figures: DayFigures,
}

/// A task's title, as the most expensive task is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title {
    pub title: String,
    pub jira_id: Option<String>,
}

/// Which generations of the projections are live and which are being rebuilt.
pub trait LiveGenerations {
    fn generations(&self) -> impl Future<Output = Result<Generations, StoreError>> + Send;
}

/// Rebuilds by replay: begun, followed, settled (N4).
pub trait Rebuilds {
    /// Records a rebuild and the generations it starts, unless another rebuild is under way
    /// (`false`: nothing written).
    fn begin_rebuild(
        &self,
        rebuild: &Rebuild,
        after: &Generations,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Records how a rebuild ended and the generations after it, if it is still the one under
    /// way (`false`: settled before, nothing written).
    fn settle_rebuild(
        &self,
        rebuild: &Rebuild,
        after: &Generations,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    fn rebuild(&self, id: Uuid)
        -> impl Future<Output = Result<Option<Rebuild>, StoreError>> + Send;
}

/// A movement's effect on the projections: known balances, figures, completions (N1–N3).
pub trait MovementProjection {
    fn balance(
        &self,
        generation: u32,
        account: Uuid,
    ) -> impl Future<Output = Result<Option<KnownBalance>, StoreError>> + Send;
    /// Keeps `now` as the employee's latest known balance if the one known is still `before`
    /// (by its sequence), with the count of employees in debt when that changes; `false` when
    /// another was written meanwhile (nothing written). Newer wins, so this needs no inbox.
    fn keep_balance(
        &self,
        generation: u32,
        before: Option<&KnownBalance>,
        now: &KnownBalance,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Adds a movement's figures to its day once per generation and event. The table keeps the
    /// movement (its key makes it once) and folds it into the day from its stream, so the
    /// day's figures follow within the fold's batching window.
    fn add_movement(
        &self,
        generation: u32,
        movement: &Movement,
        event: &Envelope,
    ) -> impl Future<Output = Result<Projected, StoreError>> + Send;
    /// Keeps `completion` as the best of its day and of its month where it beats what is
    /// there (idempotent, order-independent).
    fn offer_completion(
        &self,
        generation: u32,
        completion: &Completion,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Task titles, as `Task.*` events tell them (N3).
pub trait Titles {
    fn record_title(
        &self,
        generation: u32,
        task: Uuid,
        title: &Title,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn title(
        &self,
        generation: u32,
        task: Uuid,
    ) -> impl Future<Output = Result<Option<Title>, StoreError>> + Send;
}

/// The figures of a business day, and who is in debt (N1, N2).
pub trait DailyFigures {
    /// The company's figures of every day from `from` to `to` that has any.
    fn day_figures(
        &self,
        generation: u32,
        from: NaiveDate,
        to: NaiveDate,
    ) -> impl Future<Output = Result<BTreeMap<NaiveDate, DayFigures>, StoreError>> + Send;
    /// How many employees' latest known balance is negative.
    fn in_debt(&self, generation: u32) -> impl Future<Output = Result<i64, StoreError>> + Send;
}

/// The most expensive completions of a period (N3).
pub trait BestCompletions {
    /// The best completion of each of these days and months that has one.
    fn best_completions(
        &self,
        generation: u32,
        days: &[NaiveDate],
        months: &[String],
    ) -> impl Future<Output = Result<Vec<Completion>, StoreError>> + Send;
}

/// The analytics table, as the use cases need it: every port above and the kernel's copy of
/// accounts. A use case asks only for the ports it uses; the handlers and the binaries hold a
/// whole store.
///
/// Each store says it is one, so a store that lacks a port fails where it is defined.
pub trait AnalyticsStore:
    KeepsAccountCopies
    + LiveGenerations
    + Rebuilds
    + MovementProjection
    + Titles
    + DailyFigures
    + BestCompletions
{
}

/// The bus's side of a rebuild: the replay of its archive through analytics' projection rules,
/// and the queues those rules fill.
pub trait Replayer: Sync {
    /// Starts replaying, as `name`, every archived event up to `until`.
    fn start_replay(
        &self,
        name: &str,
        until: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), BusError>> + Send;
    fn replay_state(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<ReplayState, BusError>> + Send;
    /// Whether the projection queues are empty: nothing waiting, nothing being handled.
    fn drained(&self) -> impl Future<Output = Result<bool, BusError>> + Send;
}

/// A call to the bus or a queue that failed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BusError(pub String);
