//! The reports table (DynamoDB). Items, keyed by `pk`/`sk`:
//! - `ORDER#<order id>` / `ORDER`: what reports knows of the order (by its revision); once
//!   approved, `gsi1` lists it by approval (`APPROVED`, `<approved_at>#<order id>`), for the
//!   weekly sample;
//! - `REPORT#<order id>` / `pre_report` | `report`: the executor's reports, one of each;
//! - `CASE#<case id>` / `CASE`: a QA case; `gsi1` lists one status's cases newest first
//!   (`CASES#<status>`, `<opened_at>#<case id>`), `gsi2` every case (`CASES`, the same);
//! - `OPEN#<order id>` / `OPEN`: the order's one open case (`case_id`), written and deleted with
//!   the case's opening and closing;
//! - `SAMPLE#<week>` / `SAMPLE`: the week's random sample, with its seed;
//! - `ACCOUNT#<id>` / `ACCOUNT`: the copy of an account (who calls);
//! - `INBOX#reports.sync-account#<event id>` / `INBOX`: account events applied;
//! - `OUTBOX#<event id>` / `OUTBOX`: events to publish.
//!
//! Every write of a use case is one transaction of named items; no clock is read here.

use ates_kernel::contracts::clock::Week;
use ates_kernel::dynamo::{from_item, key, n, s, to_item, Item, Listed, StoreError, Transaction};
use ates_kernel::event::Envelope;
use ates_kernel::outbox;
use chrono::{DateTime, SecondsFormat, Utc};
use uuid::Uuid;

use crate::error::ReportsError;
use crate::order::OrderCopy;
use crate::ports::{Cases, OrderChanges, Orders, Reports, ReportsStore, Samples, Saved};
use crate::qa::{QaCase, Sample, Status};
use crate::report::{Kind, Report};

/// The inbox name of the account-copy consumer.
const SYNC_ACCOUNT: &str = "reports.sync-account";

/// The names of a transaction's items whose conditions mean "read again".
const ORDER: &str = "order";
const REPORT: &str = "report";
const CASE: &str = "case";
const OPEN: &str = "open";
const SAMPLE: &str = "sample";

/// Fixed-width times, so a sort key orders as time does.
fn instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn order_key(id: Uuid) -> Item {
    key(format!("ORDER#{id}"), "ORDER")
}

fn report_key(order_id: Uuid, kind: Kind) -> Item {
    key(format!("REPORT#{order_id}"), kind.as_str())
}

fn case_key(id: Uuid) -> Item {
    key(format!("CASE#{id}"), "CASE")
}

fn open_key(order_id: Uuid) -> Item {
    key(format!("OPEN#{order_id}"), "OPEN")
}

fn sample_key(week: Week) -> Item {
    key(format!("SAMPLE#{week}"), "SAMPLE")
}

fn order_item(order: &OrderCopy) -> Item {
    let mut item = to_item(order);
    item.extend(order_key(order.order_id));
    if let Some(at) = order.approved_at {
        item.extend([
            ("gsi1pk".to_owned(), s("APPROVED")),
            (
                "gsi1sk".to_owned(),
                s(format!("{}#{}", instant(at), order.order_id)),
            ),
        ]);
    }
    item
}

fn case_item(case: &QaCase) -> Item {
    let mut item = to_item(case);
    item.extend(case_key(case.case_id));
    let sort = s(format!("{}#{}", instant(case.opened_at), case.case_id));
    item.extend([
        ("gsi1pk".to_owned(), s(format!("CASES#{}", case.status))),
        ("gsi1sk".to_owned(), sort.clone()),
        ("gsi2pk".to_owned(), s("CASES")),
        ("gsi2sk".to_owned(), sort),
    ]);
    item
}

ates_kernel::table_store!(Store + copies(SYNC_ACCOUNT));

impl Store {
    /// Runs a transaction with the events; no command here is keyed.
    async fn commit(
        &self,
        transaction: Transaction,
        events: &[Envelope],
    ) -> Result<Saved, StoreError> {
        let stale = [ORDER, REPORT, CASE, OPEN, SAMPLE];
        outbox::commit_unkeyed(&self.table, transaction, events, &stale).await
    }
}

impl ReportsStore for Store {}

impl Orders for Store {
    async fn order(&self, order_id: Uuid) -> Result<Option<OrderCopy>, StoreError> {
        self.table.get_as(order_key(order_id)).await
    }

    /// Every page of the index's `APPROVED` partition from `from` until `until`.
    async fn approved_between(
        &self,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<Uuid>, StoreError> {
        // Sort keys are `<instant>#<id>`; `#` sorts before every character of an id, so
        // `<from>#` is the first key at `from`, and `<until>#` lies before every key at `until`.
        let (low, high) = (
            format!("{}#", instant(from)),
            format!("{}#", instant(until)),
        );
        let query = self
            .table
            .client()
            .query()
            .table_name(self.table.name())
            .index_name("gsi1")
            .key_condition_expression("gsi1pk = :approved AND gsi1sk BETWEEN :low AND :high")
            .expression_attribute_values(":approved", s("APPROVED"))
            .expression_attribute_values(":low", s(low))
            .expression_attribute_values(":high", s(high));
        let items = self.table.query_all(query).await?;
        items
            .iter()
            .map(|item| Ok(from_item::<OrderCopy>(item)?.order_id))
            .collect()
    }
}

impl OrderChanges for Store {
    async fn change_order(
        &self,
        before: Option<&OrderCopy>,
        after: &OrderCopy,
    ) -> Result<Saved, StoreError> {
        let put = self
            .table
            .put_over_revision(order_item(after), before.map(|b| b.revision));
        self.commit(Transaction::new().with(ORDER, put), &[]).await
    }
}

impl Reports for Store {
    async fn report(&self, order_id: Uuid, kind: Kind) -> Result<Option<Report>, StoreError> {
        self.table.get_as(report_key(order_id, kind)).await
    }

    async fn add_report(&self, report: &Report, event: &Envelope) -> Result<Saved, StoreError> {
        let mut item = to_item(report);
        item.extend(report_key(report.order_id, report.kind));
        let transaction = Transaction::new().with(
            REPORT,
            self.table
                .put_item(item, Some("attribute_not_exists(pk)"), &[]),
        );
        self.commit(transaction, std::slice::from_ref(event)).await
    }
}

impl Cases for Store {
    async fn case(&self, case_id: Uuid) -> Result<Option<QaCase>, StoreError> {
        self.table.get_as(case_key(case_id)).await
    }

    async fn open_case_of(&self, order_id: Uuid) -> Result<Option<Uuid>, StoreError> {
        let Some(item) = self.table.get(open_key(order_id)).await? else {
            return Ok(None);
        };
        let id = ates_kernel::dynamo::get_s(&item, "case_id")?;
        Uuid::parse_str(id)
            .map(Some)
            .map_err(|e| StoreError::Malformed(format!("OPEN#{order_id}: {e}")))
    }

    async fn cases(
        &self,
        status: Option<Status>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listed<QaCase>, ReportsError> {
        match status {
            Some(status) => {
                let partition = format!("CASES#{status}");
                self.table
                    .newest_first(Some("gsi1"), &partition, None, limit, cursor)
                    .await
            }
            None => {
                self.table
                    .newest_first(Some("gsi2"), "CASES", None, limit, cursor)
                    .await
            }
        }
    }

    async fn open_case(&self, case: &QaCase) -> Result<Saved, StoreError> {
        let mut open = open_key(case.order_id);
        open.insert("case_id".to_owned(), s(case.case_id.to_string()));
        let transaction = Transaction::new()
            .with(
                CASE,
                self.table
                    .put_item(case_item(case), Some("attribute_not_exists(pk)"), &[]),
            )
            .with(
                OPEN,
                self.table
                    .put_item(open, Some("attribute_not_exists(pk)"), &[]),
            );
        self.commit(transaction, &[]).await
    }

    async fn close_case(
        &self,
        before: &QaCase,
        after: &QaCase,
        events: &[Envelope],
    ) -> Result<Saved, StoreError> {
        let release = self.table.delete_item(
            open_key(after.order_id),
            Some("case_id = :case"),
            &[(":case", s(after.case_id.to_string()))],
        );
        let transaction = Transaction::new()
            .with(
                CASE,
                self.table.put_item(
                    case_item(after),
                    Some("version = :version"),
                    &[(":version", n(before.version))],
                ),
            )
            .with(OPEN, release);
        self.commit(transaction, events).await
    }
}

impl Samples for Store {
    async fn sample(&self, week: Week) -> Result<Option<Sample>, StoreError> {
        self.table.get_as(sample_key(week)).await
    }

    async fn add_sample(&self, sample: &Sample) -> Result<Saved, StoreError> {
        let mut item = to_item(sample);
        item.extend(sample_key(sample.week));
        let transaction = Transaction::new().with(
            SAMPLE,
            self.table
                .put_item(item, Some("attribute_not_exists(pk)"), &[]),
        );
        self.commit(transaction, &[]).await
    }
}
