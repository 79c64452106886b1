//! Paged jobs: long work (a shuffle of a million tasks, the daily close of a million accounts)
//! done one bounded page at a time, never by rescanning. A job is spread
//! over partitions; each partition is walked page by page through the outbox and the context's
//! work queue. Each page commits its own effects, its partition's progress and the next page (or
//! its partition's end) in one transaction: a redelivered page cancels itself, nothing is done
//! twice, and the job's items always say how far it got.
//!
//! Items, all in the job's partition `JOB#<id>`: `JOB`, the job's record (what it expects, the
//! context's own attributes); `PROGRESS#<n>`, what partition n has done (`done`, the context's
//! counters, its stalled pages), written only by that partition's pages, which run one after
//! another; `PARTITION#<n>`, partition n's end. Pages of different partitions never write the
//! same item, so they neither conflict nor make a hot key however many run at once; [`get`]
//! adds the partitions' progress up into one record.
//!
//! A page that gives up (poison, or its last delivery failing, so SQS parks it in the work
//! queue's dead-letter queue) marks the job stalled; when that page is redriven and succeeds,
//! its commit clears the mark and the job runs on.

use std::collections::HashMap;

use aws_lambda_events::sqs::SqsEvent;
use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use uuid::Uuid;

use crate::dynamo::{
    from_item, get_n, key, n, put, s, update, AttributeValue, Cancelled, Item, StoreError, Table,
    Transaction,
};
use crate::inbox::{ConsumeError, Parking};
use crate::outbox;

/// Where a page stopped in its partition: the store's own position (for DynamoDB, the query's
/// last evaluated key), opaque to everyone else.
pub type Cursor = HashMap<String, String>;

/// One page of work: which job, which partition, where in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    pub job_id: Uuid,
    pub partition: u32,
    /// 0 for the first page of a partition.
    pub page: u32,
    /// Where the previous page stopped.
    pub cursor: Option<Cursor>,
    pub correlation_id: String,
    /// What the job walks, when not its partitions' whole: the context's own name for a part of
    /// them (a tasks release: the account whose open tasks it moves).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

impl Page {
    /// The first page of every partition.
    pub fn first_pages(job_id: Uuid, partitions: u32, correlation_id: &str) -> Vec<Page> {
        (0..partitions)
            .map(|partition| Page {
                job_id,
                partition,
                page: 0,
                cursor: None,
                correlation_id: correlation_id.to_owned(),
                scope: None,
            })
            .collect()
    }

    pub fn next(&self, cursor: Cursor) -> Page {
        Page {
            page: self.page + 1,
            cursor: Some(cursor),
            ..self.clone()
        }
    }

    /// The key that makes this page's work record, and so the page, happen once.
    pub fn work_key(&self) -> String {
        format!("job#{}#{}#{}", self.job_id, self.partition, self.page)
    }
}

/// How far a job got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// The items the job expects to handle (known when it starts; a hint, not a promise).
    pub total: u64,
    /// The items handled so far.
    pub done: u64,
    pub partitions: u32,
    pub partitions_done: u32,
    /// Pages that gave up and wait in the dead-letter queue.
    pub stalled_pages: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Running,
    /// A page gave up; redriving it resumes the job.
    Stalled,
    Completed,
}

impl Progress {
    pub fn new(total: u64, partitions: u32) -> Self {
        Self {
            total,
            done: 0,
            partitions,
            partitions_done: 0,
            stalled_pages: 0,
        }
    }

    pub fn status(&self) -> Status {
        if self.partitions_done >= self.partitions {
            Status::Completed
        } else if self.stalled_pages > 0 {
            Status::Stalled
        } else {
            Status::Running
        }
    }
}

fn job_key(job_id: Uuid) -> Item {
    key(format!("JOB#{job_id}"), "JOB")
}

fn progress_key(job_id: Uuid, partition: u32) -> Item {
    key(format!("JOB#{job_id}"), format!("PROGRESS#{partition}"))
}

/// The job's record (with the context's own attributes, `extra`) and the first page of every
/// partition, to commit together.
pub fn start(
    table: &str,
    job_id: Uuid,
    progress: &Progress,
    extra: Item,
    first_pages: &[Page],
    now: chrono::DateTime<chrono::Utc>,
) -> Transaction {
    let mut item = job_key(job_id);
    item.extend(extra);
    item.extend([
        ("job_id".to_owned(), s(job_id.to_string())),
        ("total".to_owned(), n(progress.total)),
        ("done".to_owned(), n(progress.done)),
        ("partitions".to_owned(), n(progress.partitions)),
        ("partitions_done".to_owned(), n(progress.partitions_done)),
    ]);
    let mut transaction =
        Transaction::new().with(JOB, put(table, item, "attribute_not_exists(pk)"));
    transaction.add_all(
        "progress",
        first_pages.iter().map(|page| {
            let mut progress = progress_key(job_id, page.partition);
            progress.insert("done".to_owned(), n(0));
            put(table, progress, "attribute_not_exists(pk)")
        }),
    );
    transaction.add_all(
        NEXT_PAGE,
        first_pages.iter().map(|page| work(table, page, now)),
    );
    transaction
}

/// The names of a job's items in a page's transaction: the job's record, and the next page (or
/// the partition's end), which exists once per page.
pub const JOB: &str = "job";
pub const NEXT_PAGE: &str = "next-page";

fn work(table: &str, page: &Page, now: chrono::DateTime<chrono::Utc>) -> TransactWriteItem {
    let body = serde_json::to_value(page).expect("a page serialises");
    outbox::work(table, &page.work_key(), &body, now)
}

/// What a page commits besides its own effects, to go into its transaction: its partition's
/// progress (`done` more items, and the context's own `counters` added; the stall mark of this
/// page cleared) and the next page, or the partition's end. Read the transaction's cancellation
/// with [`PageCommit::of`].
pub fn page_done(
    table: &str,
    page: &Page,
    done: usize,
    counters: &[(&str, i64)],
    next: Option<&Page>,
    now: chrono::DateTime<chrono::Utc>,
) -> Transaction {
    let mut values = HashMap::from([
        (":done".to_owned(), n(done)),
        (
            ":page".to_owned(),
            AttributeValue::Ss(vec![page.work_key()]),
        ),
    ]);
    let mut expression = "ADD done :done".to_owned();
    for (i, (name, value)) in counters.iter().enumerate() {
        expression.push_str(&format!(", {name} :c{i}"));
        values.insert(format!(":c{i}"), n(value));
    }
    expression.push_str(" DELETE stalled :page");
    // Its partition's item, which the job's start wrote: absent, the job is unknown.
    let progress = update(
        Update::builder()
            .table_name(table)
            .set_key(Some(progress_key(page.job_id, page.partition)))
            .update_expression(expression)
            .condition_expression("attribute_exists(pk)")
            .set_expression_attribute_values(Some(values)),
    );
    let next_or_end = match next {
        Some(next) => work(table, next, now),
        None => put(
            table,
            key(
                format!("JOB#{}", page.job_id),
                format!("PARTITION#{}", page.partition),
            ),
            "attribute_not_exists(pk)",
        ),
    };
    Transaction::new()
        .with(JOB, progress)
        .with(NEXT_PAGE, next_or_end)
}

/// What a page's transaction came to.
#[derive(Debug, Clone, PartialEq)]
pub enum PageCommit {
    Done,
    /// The page was committed before: this is a redelivery, and nothing changed.
    Duplicate,
    /// No such job.
    UnknownJob,
    /// A condition of the page's own effects failed; nothing was written.
    Refused(Cancelled),
}

impl PageCommit {
    /// Reads a page's transaction that holds [`page_done`]'s items.
    pub fn of(result: Result<(), Cancelled>) -> PageCommit {
        let Err(cancelled) = result else {
            return PageCommit::Done;
        };
        if cancelled.failed(NEXT_PAGE) {
            PageCommit::Duplicate
        } else if cancelled.failed(JOB) {
            PageCommit::UnknownJob
        } else {
            PageCommit::Refused(cancelled)
        }
    }
}

/// At most `limit` items of one partition of a job (read as `T`s), from a (sparse) index
/// whose hash key (`gsi1` → `gsi1pk`) is `partition`, after `cursor`; and where the next page
/// starts.
pub async fn partition_page<T: DeserializeOwned>(
    table: &Table,
    index: &str,
    partition: &str,
    limit: usize,
    cursor: Option<&Cursor>,
) -> Result<(Vec<T>, Option<Cursor>), StoreError> {
    partition_page_from(table, index, (partition, None), limit, cursor).await
}

/// [`partition_page`] of the items of `partition` whose index sort key begins with `prefix`
/// (when given).
pub async fn partition_page_from<T: DeserializeOwned>(
    table: &Table,
    index: &str,
    (partition, prefix): (&str, Option<&str>),
    limit: usize,
    cursor: Option<&Cursor>,
) -> Result<(Vec<T>, Option<Cursor>), StoreError> {
    let start: Option<Item> = cursor.map(|c| c.iter().map(|(k, v)| (k.clone(), s(v))).collect());
    let mut query = table
        .client()
        .query()
        .table_name(table.name())
        .index_name(index)
        .key_condition_expression("#partition = :partition")
        .expression_attribute_names("#partition", format!("{index}pk"))
        .expression_attribute_values(":partition", s(partition));
    if let Some(prefix) = prefix {
        query = query
            .key_condition_expression("#partition = :partition AND begins_with(#sort, :prefix)")
            .expression_attribute_names("#sort", format!("{index}sk"))
            .expression_attribute_values(":prefix", s(prefix));
    }
    let out = query
        .limit(limit as i32)
        .set_exclusive_start_key(start)
        .send()
        .await?;
    let next = out.last_evaluated_key().map(|k| {
        k.iter()
            .filter_map(|(name, v)| Some((name.clone(), v.as_s().ok()?.clone())))
            .collect()
    });
    let items = out
        .items()
        .iter()
        .map(from_item)
        .collect::<Result<_, _>>()?;
    Ok((items, next))
}

/// A job's progress, with the context's own attributes in the item.
pub fn read(item: &Item) -> Result<Progress, StoreError> {
    Ok(Progress {
        total: get_n(item, "total")?,
        done: get_n(item, "done")?,
        partitions: get_n(item, "partitions")?,
        partitions_done: get_n(item, "partitions_done")?,
        stalled_pages: item
            .get("stalled")
            .and_then(|v| v.as_ss().ok())
            .map_or(0, |pages| pages.len() as u32),
    })
}

/// A job's record, read consistently, with its partitions' progress added up into it (`done`
/// and the context's counters summed, `partitions_done` the partitions ended, `stalled` every
/// partition's): one query of the job's partition, whatever the number of pages.
pub async fn get(table: &Table, job_id: Uuid) -> Result<Option<Item>, StoreError> {
    let items = table
        .query_all(
            table
                .client()
                .query()
                .table_name(table.name())
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(format!("JOB#{job_id}")))
                .consistent_read(true),
        )
        .await?;
    Ok(added_up(items))
}

/// The job's record with its partitions' items added into it (see [`get`]).
fn added_up(items: Vec<Item>) -> Option<Item> {
    let sort_key = |item: &Item| {
        item.get("sk")
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_default()
    };
    let mut job = items.iter().find(|i| sort_key(i) == "JOB")?.clone();
    let mut ended: u64 = 0;
    let mut stalled: Vec<String> = Vec::new();
    for item in &items {
        let sk = sort_key(item);
        if sk.starts_with("PARTITION#") {
            ended += 1;
        } else if sk.starts_with("PROGRESS#") {
            for (name, value) in item {
                match value {
                    AttributeValue::N(more) => {
                        let before: i64 = job
                            .get(name)
                            .and_then(|v| v.as_n().ok())
                            .and_then(|v| v.parse().ok())
                            .unwrap_or(0);
                        let more: i64 = more.parse().unwrap_or(0);
                        job.insert(name.clone(), n(before + more));
                    }
                    AttributeValue::Ss(pages) => stalled.extend(pages.iter().cloned()),
                    _ => {}
                }
            }
        }
    }
    // A job started before progress was kept per partition counted its ended partitions
    // (and its stalls) on its record.
    let counted: u64 = job
        .get("partitions_done")
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    job.insert("partitions_done".to_owned(), n(counted.max(ended)));
    if let Some(AttributeValue::Ss(pages)) = job.get("stalled") {
        stalled.extend(pages.iter().cloned());
    }
    stalled.sort();
    stalled.dedup();
    if stalled.is_empty() {
        job.remove("stalled");
    } else {
        job.insert("stalled".to_owned(), AttributeValue::Ss(stalled));
    }
    Some(job)
}

/// The table a context's jobs live in, for the work consumer to mark stalls.
pub struct JobTable(Table);

impl JobTable {
    pub fn new(table: Table) -> Self {
        Self(table)
    }

    /// Marks `page` as given up, on its partition's progress. Harmless if repeated or if the
    /// job is gone.
    pub async fn mark_stalled(&self, page: &Page) -> Result<(), StoreError> {
        let stall = self
            .0
            .update(progress_key(page.job_id, page.partition))
            .update_expression("ADD stalled :page")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":page", AttributeValue::Ss(vec![page.work_key()]));
        self.0.update_if(stall).await.map(|_| ())
    }
}

/// Where a job's stalls are recorded: the context's table, or a recorder in tests.
pub trait Stalls {
    fn mark_stalled(
        &self,
        page: &Page,
    ) -> impl std::future::Future<Output = Result<(), StoreError>> + Send;
}

impl Stalls for JobTable {
    async fn mark_stalled(&self, page: &Page) -> Result<(), StoreError> {
        JobTable::mark_stalled(self, page).await
    }
}

/// Handles a batch of job pages. A page that gives up — poison, or a failure on the delivery
/// that the queue's `maxReceiveCount` makes its last — marks its job stalled before it goes to
/// the dead-letter queue.
pub async fn consume_pages<F, Fut>(
    event: SqsEvent,
    max_receive_count: u32,
    stalls: &impl Stalls,
    parking: &impl Parking,
    handle: F,
) -> aws_lambda_events::sqs::SqsBatchResponse
where
    F: Fn(Page) -> Fut,
    Fut: std::future::Future<Output = Result<(), ConsumeError>>,
{
    crate::inbox::consume_work(event, parking, |page: Page, receive_count: u32| {
        let result_future = handle(page.clone());
        async move {
            let result = result_future.await;
            let gives_up = match &result {
                Ok(()) => false,
                Err(ConsumeError::Poison(_)) => true,
                Err(ConsumeError::Retry(_)) => receive_count >= max_receive_count,
            };
            if gives_up {
                if let Err(e) = stalls.mark_stalled(&page).await {
                    tracing::error!(job_id = %page.job_id, error = %e, "the stall could not be recorded");
                }
                tracing::error!(job_id = %page.job_id, partition = page.partition, page = page.page, "a page gave up: the job is stalled until it is redriven");
            }
            result
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn a_job_is_stalled_while_a_page_waits_in_the_dead_letter_queue_and_done_when_every_partition_is(
    ) {
        let mut progress = Progress::new(100, 4);
        assert_eq!(progress.status(), Status::Running);
        progress.stalled_pages = 1;
        assert_eq!(progress.status(), Status::Stalled);
        progress.partitions_done = 4;
        assert_eq!(progress.status(), Status::Completed);
    }

    #[test]
    fn a_page_commit_tells_a_redelivery_and_an_unknown_job_from_its_own_refusal() {
        let names = ["task", JOB, NEXT_PAGE];
        let cancelled = |codes: &[&str]| {
            Err(Cancelled(
                names
                    .iter()
                    .zip(codes)
                    .map(|(n, c)| (n.to_string(), c.to_string()))
                    .collect(),
            ))
        };
        let failed = crate::dynamo::CONDITION_FAILED;
        assert_eq!(PageCommit::of(Ok(())), PageCommit::Done);
        assert_eq!(
            PageCommit::of(cancelled(&["None", "None", failed])),
            PageCommit::Duplicate
        );
        assert_eq!(
            PageCommit::of(cancelled(&["None", failed, "None"])),
            PageCommit::UnknownJob
        );
        assert!(matches!(
            PageCommit::of(cancelled(&[failed, "None", "None"])),
            PageCommit::Refused(_)
        ));
    }

    #[test]
    fn a_jobs_record_adds_up_its_partitions_progress() {
        let item = |sk: &str, attributes: &[(&str, AttributeValue)]| {
            let mut item = key("JOB#j", sk);
            item.extend(attributes.iter().map(|(k, v)| (k.to_string(), v.clone())));
            item
        };
        let stalled = |page: &str| AttributeValue::Ss(vec![page.to_owned()]);
        let job = item(
            "JOB",
            &[("total", n(10)), ("done", n(0)), ("partitions", n(3))],
        );
        let items = vec![
            job.clone(),
            item("PROGRESS#0", &[("done", n(4)), ("paid", n(-150))]),
            item("PROGRESS#1", &[("done", n(3)), ("stalled", stalled("p1"))]),
            item("PROGRESS#2", &[("done", n(0))]),
            item("PARTITION#0", &[]),
        ];
        let progress = added_up(items.clone()).unwrap();
        assert_eq!(
            read(&progress).unwrap(),
            Progress {
                total: 10,
                done: 7,
                partitions: 3,
                partitions_done: 1,
                stalled_pages: 1,
            }
        );
        assert_eq!(
            progress["paid"],
            n(-150),
            "the context's own counters, summed"
        );
        assert_eq!(added_up(items[1..].to_vec()), None, "no record, no job");

        // A job started before progress was kept per partition: counted on its record.
        let before = item(
            "JOB",
            &[
                ("total", n(10)),
                ("done", n(9)),
                ("partitions", n(3)),
                ("partitions_done", n(2)),
                ("stalled", stalled("p2")),
            ],
        );
        let progress = added_up(vec![
            before,
            item("PARTITION#0", &[]),
            item("PARTITION#1", &[]),
        ]);
        let progress = read(&progress.unwrap()).unwrap();
        assert_eq!(
            (
                progress.done,
                progress.partitions_done,
                progress.stalled_pages
            ),
            (9, 2, 1)
        );
    }

    #[test]
    fn pages_are_keyed_by_job_partition_and_number() {
        let first = &Page::first_pages(Uuid::now_v7(), 3, "c")[2];
        assert_eq!(
            (first.partition, first.page, first.cursor.as_ref()),
            (2, 0, None)
        );
        let second = first.next(Cursor::from([("pk".into(), "x".into())]));
        assert_eq!(second.page, 1);
        assert_ne!(first.work_key(), second.work_key());
    }

    #[derive(Default)]
    struct Recorder {
        stalled: Mutex<Vec<u32>>,
        parked: Mutex<usize>,
    }

    impl Stalls for Recorder {
        async fn mark_stalled(&self, page: &Page) -> Result<(), StoreError> {
            self.stalled.lock().unwrap().push(page.partition);
            Ok(())
        }
    }

    impl Parking for Recorder {
        async fn park(&self, _body: &str, _reason: &str) -> bool {
            *self.parked.lock().unwrap() += 1;
            true
        }
    }

    /// Partition 0 succeeds, 1 is poison, 2 and 3 fail for now, on their 2nd and 5th delivery.
    fn batch() -> SqsEvent {
        let pages = Page::first_pages(Uuid::now_v7(), 4, "c");
        let records: Vec<_> = pages
            .iter()
            .zip(["1", "1", "2", "5"])
            .map(|(page, receives)| {
                serde_json::json!({
                    "messageId": format!("m{}", page.partition),
                    "body": serde_json::to_string(page).unwrap(),
                    "attributes": {"ApproximateReceiveCount": receives}
                })
            })
            .collect();
        serde_json::from_value(serde_json::json!({ "Records": records })).unwrap()
    }

    #[tokio::test]
    async fn a_page_that_gives_up_marks_its_job_stalled_and_one_that_will_be_retried_does_not() {
        let recorder = Recorder::default();
        let response = consume_pages(batch(), 5, &recorder, &recorder, |page: Page| async move {
            match page.partition {
                0 => Ok(()),
                1 => Err(ConsumeError::Poison("unknown job".into())),
                _ => Err(ConsumeError::Retry("throttled".into())),
            }
        })
        .await;
        let retried: Vec<&str> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(retried, ["m2", "m3"]);
        assert_eq!(*recorder.parked.lock().unwrap(), 1, "the poison is parked");
        assert_eq!(
            *recorder.stalled.lock().unwrap(),
            [1, 3],
            "the poison and the page on its last delivery stall the job"
        );
    }
}
