//! The ports the use cases drive, one small trait per need: the order copies, the reports, the
//! QA cases and the weekly samples (the DynamoDB table, `store`; `memory` in tests), and the
//! attachments' bucket (`bucket::Bucket`; `memory::FakeBucket` in tests).

use std::future::Future;

use ates_kernel::dynamo::{Listed, StoreError};
use ates_kernel::event::Envelope;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::ReportsError;
use crate::order::OrderCopy;
use crate::qa::{QaCase, Sample, Status};
use crate::report::{ImageType, Kind, Report};
use ates_kernel::contracts::clock::Week;

/// A write answers the kernel's `Saved`.
pub use ates_kernel::usecase::Saved;

/// What reports knows of orders.
pub trait Orders: Sync {
    fn order(
        &self,
        order_id: Uuid,
    ) -> impl Future<Output = Result<Option<OrderCopy>, StoreError>> + Send;
    /// The orders approved from `from` (included) until `until` (excluded).
    fn approved_between(
        &self,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<Uuid>, StoreError>> + Send;
}

/// Where the order copies are written.
pub trait OrderChanges: Sync {
    /// `after`, if the stored copy is still `before` (absent for `None`), by revision.
    fn change_order(
        &self,
        before: Option<&OrderCopy>,
        after: &OrderCopy,
    ) -> impl Future<Output = Result<Saved, StoreError>> + Send;
}

/// The reports filed, as read and written.
pub trait Reports: Sync {
    fn report(
        &self,
        order_id: Uuid,
        kind: Kind,
    ) -> impl Future<Output = Result<Option<Report>, StoreError>> + Send;
    /// The report and its event, if the order has none of its kind yet; `Stale` otherwise.
    fn add_report(
        &self,
        report: &Report,
        event: &Envelope,
    ) -> impl Future<Output = Result<Saved, StoreError>> + Send;
}

/// The QA cases.
pub trait Cases: Sync {
    fn case(
        &self,
        case_id: Uuid,
    ) -> impl Future<Output = Result<Option<QaCase>, StoreError>> + Send;
    /// The order's open case, if it has one.
    fn open_case_of(
        &self,
        order_id: Uuid,
    ) -> impl Future<Output = Result<Option<Uuid>, StoreError>> + Send;
    /// Cases newest (by opening) first: one status's, or all.
    fn cases(
        &self,
        status: Option<Status>,
        limit: usize,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<Listed<QaCase>, ReportsError>> + Send;
    /// A new open case, if its id is unused and its order has no open case; `Stale` otherwise.
    fn open_case(&self, case: &QaCase) -> impl Future<Output = Result<Saved, StoreError>> + Send;
    /// The case closed (`after`), if it is still `before` (by version), with its events; the
    /// order may have a new open case from then on.
    fn close_case(
        &self,
        before: &QaCase,
        after: &QaCase,
        events: &[Envelope],
    ) -> impl Future<Output = Result<Saved, StoreError>> + Send;
}

/// The weekly random samples, one per week.
pub trait Samples: Sync {
    fn sample(&self, week: Week)
        -> impl Future<Output = Result<Option<Sample>, StoreError>> + Send;
    /// The week's sample, if the week has none yet; `Stale` otherwise.
    fn add_sample(&self, sample: &Sample)
        -> impl Future<Output = Result<Saved, StoreError>> + Send;
}

/// Everything a reports store is.
pub trait ReportsStore:
    Orders + OrderChanges + Reports + Cases + Samples + ates_kernel::copies::KeepsAccountCopies
{
}

/// An upload the bucket signed: a PUT of exactly that type and size, until `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

/// An object as the bucket holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    /// As the upload declared it; `None` for a type that is no image of ours.
    pub content_type: Option<ImageType>,
    pub size_bytes: u64,
}

/// Why the bucket did not answer.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BucketError(pub String);

impl From<BucketError> for ReportsError {
    fn from(e: BucketError) -> ReportsError {
        ReportsError::Bucket(e.0)
    }
}

/// The attachments' bucket: presigned URLs to put and get an image, and what lies at a key.
pub trait Attachments: Sync {
    fn upload_url(
        &self,
        key: &str,
        content_type: ImageType,
        size_bytes: u64,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Upload, BucketError>> + Send;
    fn download_url(
        &self,
        key: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<String, BucketError>> + Send;
    fn stored(&self, key: &str)
        -> impl Future<Output = Result<Option<Stored>, BucketError>> + Send;
    /// The image is cited by a report: it no longer expires as an abandoned upload.
    fn keep(&self, key: &str) -> impl Future<Output = Result<(), BucketError>> + Send;
}
