//! In-memory stores for testing the use cases without AWS: every write is atomic under one lock
//! and checks the same conditions the DynamoDB store's transaction does (the copy's revision, a
//! report or case that must not exist yet, the order's one open case, the case's version), so a
//! use case that is right here is right there. A bucket the tests fill keeps what was
//! "uploaded".

use std::collections::HashMap;
use std::sync::Mutex;

use ates_kernel::contracts::clock::Week;
use ates_kernel::dynamo::{Listed, StoreError};
use ates_kernel::event::Envelope;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::app::URL_LIFETIME;
use crate::error::ReportsError;
use crate::order::OrderCopy;
use crate::ports::{
    Attachments, BucketError, Cases, OrderChanges, Orders, Reports, ReportsStore, Samples, Saved,
    Stored, Upload,
};
use crate::qa::{QaCase, Sample, Status};
use crate::report::{ImageType, Kind, Report};

#[derive(Default)]
struct State {
    orders: HashMap<Uuid, OrderCopy>,
    reports: HashMap<(Uuid, Kind), Report>,
    cases: HashMap<Uuid, QaCase>,
    /// The open case of each order under review.
    open: HashMap<Uuid, Uuid>,
    samples: HashMap<Week, Sample>,
    published: Vec<Envelope>,
}

ates_kernel::memory_store!(MemoryStore(State) + published);

impl ReportsStore for MemoryStore {}

impl Orders for MemoryStore {
    async fn order(&self, order_id: Uuid) -> Result<Option<OrderCopy>, StoreError> {
        Ok(self.state.lock().orders.get(&order_id).cloned())
    }

    async fn approved_between(
        &self,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<Uuid>, StoreError> {
        let micros = |at: DateTime<Utc>| at.timestamp_micros();
        let mut found: Vec<(i64, Uuid)> = (self.state.lock().orders.values())
            .filter_map(|o| o.approved_at.map(|at| (micros(at), o.order_id)))
            .filter(|(at, _)| micros(from) <= *at && *at < micros(until))
            .collect();
        found.sort();
        Ok(found.into_iter().map(|(_, id)| id).collect())
    }
}

impl OrderChanges for MemoryStore {
    async fn change_order(
        &self,
        before: Option<&OrderCopy>,
        after: &OrderCopy,
    ) -> Result<Saved, StoreError> {
        let state = &mut *self.state.lock();
        let stored = state.orders.get(&after.order_id).map(|o| o.revision);
        if stored != before.map(|o| o.revision) {
            return Ok(Saved::Stale);
        }
        state.orders.insert(after.order_id, after.clone());
        Ok(Saved::Done)
    }
}

impl Reports for MemoryStore {
    async fn report(&self, order_id: Uuid, kind: Kind) -> Result<Option<Report>, StoreError> {
        Ok(self.state.lock().reports.get(&(order_id, kind)).cloned())
    }

    async fn add_report(&self, report: &Report, event: &Envelope) -> Result<Saved, StoreError> {
        let state = &mut *self.state.lock();
        let key = (report.order_id, report.kind);
        if state.reports.contains_key(&key) {
            return Ok(Saved::Stale);
        }
        state.reports.insert(key, report.clone());
        state.published.push(event.clone());
        Ok(Saved::Done)
    }
}

impl Cases for MemoryStore {
    async fn case(&self, case_id: Uuid) -> Result<Option<QaCase>, StoreError> {
        Ok(self.state.lock().cases.get(&case_id).cloned())
    }

    async fn open_case_of(&self, order_id: Uuid) -> Result<Option<Uuid>, StoreError> {
        Ok(self.state.lock().open.get(&order_id).copied())
    }

    async fn cases(
        &self,
        status: Option<Status>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listed<QaCase>, ReportsError> {
        let mut found: Vec<QaCase> = (self.state.lock().cases.values())
            .filter(|c| status.is_none_or(|s| c.status == s))
            .cloned()
            .collect();
        // As the table's index orders them: by the opening's time to the microsecond, then id.
        found.sort_by_key(|c| std::cmp::Reverse((c.opened_at.timestamp_micros(), c.case_id)));
        Ok(Listed::page_of(found, limit, cursor)?)
    }

    async fn open_case(&self, case: &QaCase) -> Result<Saved, StoreError> {
        let state = &mut *self.state.lock();
        if state.cases.contains_key(&case.case_id) || state.open.contains_key(&case.order_id) {
            return Ok(Saved::Stale);
        }
        state.cases.insert(case.case_id, case.clone());
        state.open.insert(case.order_id, case.case_id);
        Ok(Saved::Done)
    }

    async fn close_case(
        &self,
        before: &QaCase,
        after: &QaCase,
        events: &[Envelope],
    ) -> Result<Saved, StoreError> {
        let state = &mut *self.state.lock();
        if state.cases.get(&before.case_id).map(|c| c.version) != Some(before.version) {
            return Ok(Saved::Stale);
        }
        state.cases.insert(after.case_id, after.clone());
        if state.open.get(&after.order_id) == Some(&after.case_id) {
            state.open.remove(&after.order_id);
        }
        state.published.extend(events.iter().cloned());
        Ok(Saved::Done)
    }
}

impl Samples for MemoryStore {
    async fn sample(&self, week: Week) -> Result<Option<Sample>, StoreError> {
        Ok(self.state.lock().samples.get(&week).cloned())
    }

    async fn add_sample(&self, sample: &Sample) -> Result<Saved, StoreError> {
        let state = &mut *self.state.lock();
        if state.samples.contains_key(&sample.week) {
            return Ok(Saved::Stale);
        }
        state.samples.insert(sample.week, sample.clone());
        Ok(Saved::Done)
    }
}

/// A bucket the tests fill: what was "uploaded" under each key, as S3's HeadObject would say.
#[derive(Default)]
pub struct FakeBucket {
    objects: Mutex<HashMap<String, (String, u64)>>,
    kept: Mutex<Vec<String>>,
}

impl FakeBucket {
    /// An object at `key`, of `content_type` and `size_bytes`, as an upload would leave it.
    pub fn put(&self, key: &str, content_type: &str, size_bytes: u64) {
        self.objects
            .lock()
            .expect("no test panicked holding the lock")
            .insert(key.to_owned(), (content_type.to_owned(), size_bytes));
    }

    /// The keys kept (cited by a report) so far, in order.
    pub fn kept(&self) -> Vec<String> {
        self.kept
            .lock()
            .expect("no test panicked holding the lock")
            .clone()
    }
}

impl Attachments for FakeBucket {
    async fn upload_url(
        &self,
        key: &str,
        content_type: ImageType,
        size_bytes: u64,
        now: DateTime<Utc>,
    ) -> Result<Upload, BucketError> {
        Ok(Upload {
            url: format!(
                "https://bucket.test/{key}?content-type={}&content-length={size_bytes}",
                content_type.as_str()
            ),
            expires_at: now + URL_LIFETIME,
        })
    }

    async fn download_url(&self, key: &str, _now: DateTime<Utc>) -> Result<String, BucketError> {
        Ok(format!("https://bucket.test/{key}"))
    }

    async fn stored(&self, key: &str) -> Result<Option<Stored>, BucketError> {
        let objects = self
            .objects
            .lock()
            .expect("no test panicked holding the lock");
        Ok(objects.get(key).map(|(content_type, size_bytes)| Stored {
            content_type: ImageType::parse(content_type),
            size_bytes: *size_bytes,
        }))
    }

    async fn keep(&self, key: &str) -> Result<(), BucketError> {
        self.kept
            .lock()
            .expect("no test panicked holding the lock")
            .push(key.to_owned());
        Ok(())
    }
}
