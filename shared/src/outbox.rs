//! The transactional outbox: a state change and the events it causes are written in one
//! `TransactWriteItems`, the events as `OUTBOX#<id>` items. The table's stream feeds the relay,
//! which publishes them to EventBridge. So an event is published if and only if its state change
//! committed, at least once (consumers are idempotent, see [`crate::inbox`]).
//!
//! The same road carries a context's internal work (a shuffle's next page): an `OUTBOX#work#<key>`
//! record goes to the context's own work queue instead of the bus. Its key is chosen by the
//! writer, so writing the same work twice cancels the second transaction.

use std::collections::HashMap;

pub use aws_lambda_events::dynamodb::{Event as DynamoDbEvent, EventRecord as DynamoDbRecord};
pub use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use aws_sdk_dynamodb::types::TransactWriteItem;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use serde::Deserialize;
use serde_json::Value;

use crate::dynamo::{n, s, Item, StoreError, Table, Transaction};
use crate::event::Envelope;
use crate::usecase::{KeyedAnswer, Saved};

pub const KEY_PREFIX: &str = "OUTBOX#";
/// Published records expire; a week leaves time to inspect or replay them.
const RETENTION_SECONDS: i64 = 7 * 24 * 3600;
/// EventBridge accepts at most ten entries per PutEvents call.
const PUT_EVENTS_LIMIT: usize = 10;

/// The name of outbox records in a transaction (their condition never fails: event ids are new).
pub const OUTBOX: &str = "outbox";

/// Events one outbox record carries at most: a shuffle's page of 100 is a few records of about
/// 10 KB, well under an item's 400 KB.
const EVENTS_PER_RECORD: usize = 20;

/// The outbox records for `events`, to go into the same transaction as the state change: one
/// record for up to [`EVENTS_PER_RECORD`] of them (a single event as [`record`] writes it). A
/// write is billed per started kilobyte of each item, and an event is about half a kilobyte:
/// two events in one record cost one write unit where two records cost two (BENCHMARKS.md).
pub fn records(table: &str, events: &[Envelope]) -> Vec<TransactWriteItem> {
    events
        .chunks(EVENTS_PER_RECORD)
        .map(|chunk| match chunk {
            [one] => record(table, one),
            several => {
                let json = serde_json::to_string(several).expect("envelopes serialise");
                outbox_item(table, &several[0], "events", json)
            }
        })
        .collect()
}

/// The events an outbox record carries (none for a work record).
pub fn events_in(item: &Item) -> Result<Vec<Envelope>, String> {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok());
    match (text("event"), text("events")) {
        (Some(one), _) => Ok(vec![serde_json::from_str(one).map_err(|e| e.to_string())?]),
        (None, Some(several)) => serde_json::from_str(several).map_err(|e| e.to_string()),
        (None, None) => Ok(Vec::new()),
    }
}

/// The outbox record for `envelope`, to go into the same transaction as the state change.
pub fn record(table: &str, envelope: &Envelope) -> TransactWriteItem {
    let json = serde_json::to_string(envelope).expect("an envelope serialises");
    outbox_item(table, envelope, "event", json)
}

/// An outbox record keyed and dated by `first`, its event or events as JSON under `attribute`.
fn outbox_item(table: &str, first: &Envelope, attribute: &str, json: String) -> TransactWriteItem {
    let item = HashMap::from([
        ("pk".to_owned(), s(format!("{KEY_PREFIX}{}", first.id))),
        ("sk".to_owned(), s("OUTBOX")),
        (attribute.to_owned(), s(json)),
        (
            "ttl".to_owned(),
            n(first.occurred_at.timestamp() + RETENTION_SECONDS),
        ),
    ]);
    crate::dynamo::put(table, item, "attribute_not_exists(pk)")
}

/// Commits a command's `transaction` with its `events` in the outbox and, if it is keyed, its
/// key's answer ([`idempotency::commit`](crate::idempotency::commit): `KeyUsed` when the key
/// was used, `Stale` when an item named in `stale` lost its condition). The one way a context's
/// write publishes what it did.
pub async fn commit(
    table: &Table,
    mut transaction: Transaction,
    events: &[Envelope],
    keyed: KeyedAnswer<'_>,
    now: chrono::DateTime<chrono::Utc>,
    stale: &[&str],
) -> Result<Saved, StoreError> {
    transaction.add_all(OUTBOX, records(table.name(), events));
    crate::idempotency::commit(table, transaction, keyed, now.timestamp(), stale).await
}

/// [`commit`] for a command that writes one entity: `item`, named `name` in the transaction,
/// over the revision read ([`Table::put_over_revision`]), so that the entity having changed
/// since it was read makes the command `Stale`.
pub async fn commit_over_revision(
    table: &Table,
    name: &str,
    item: Item,
    read: Option<u64>,
    events: &[Envelope],
    keyed: KeyedAnswer<'_>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Saved, StoreError> {
    let transaction = Transaction::new().with(name, table.put_over_revision(item, read));
    commit(table, transaction, events, keyed, now, &[name]).await
}

/// [`commit`] for a write no caller keys (an event's effect, a timer's step): no answer is
/// kept, so no clock is read and the key's time is never used.
pub async fn commit_unkeyed(
    table: &Table,
    transaction: Transaction,
    events: &[Envelope],
    stale: &[&str],
) -> Result<Saved, StoreError> {
    let never = chrono::DateTime::UNIX_EPOCH;
    commit(table, transaction, events, None, never, stale).await
}

/// A work item for the context's own work queue, committed with the state change that calls
/// for it. `key` makes it unique: the transaction fails if that work was written before.
pub fn work(
    table: &str,
    key: &str,
    body: &Value,
    now: chrono::DateTime<chrono::Utc>,
) -> TransactWriteItem {
    let item = HashMap::from([
        ("pk".to_owned(), s(format!("{KEY_PREFIX}work#{key}"))),
        ("sk".to_owned(), s("OUTBOX")),
        ("work".to_owned(), s(body.to_string())),
        ("ttl".to_owned(), n(now.timestamp() + RETENTION_SECONDS)),
    ]);
    crate::dynamo::put(table, item, "attribute_not_exists(pk)")
}

/// Where the relay publishes events: the event bus in production, a fake in tests.
pub trait EventSink {
    /// Publishes up to ten envelopes; answers, per envelope in order, whether it was accepted.
    fn publish(&self, batch: &[Envelope]) -> impl std::future::Future<Output = Vec<bool>> + Send;
}

/// Where the relay sends a context's own work: its work queue in production, a fake in tests.
pub trait WorkSink {
    /// Sends up to ten work items; answers, per item in order, whether it was accepted.
    fn send(&self, batch: &[String]) -> impl std::future::Future<Output = Vec<bool>> + Send;
}

/// The EventBridge bus every context publishes to.
pub struct EventBus {
    client: aws_sdk_eventbridge::Client,
    name: String,
}

impl EventBus {
    pub fn new(config: &aws_config::SdkConfig, name: String) -> Self {
        Self {
            client: aws_sdk_eventbridge::Client::new(config),
            name,
        }
    }

    pub fn from_env(
        config: &aws_config::SdkConfig,
    ) -> Result<Self, crate::config::MissingVariable> {
        Ok(Self::new(
            config,
            crate::config::required("EVENT_BUS_NAME")?,
        ))
    }
}

impl EventSink for EventBus {
    async fn publish(&self, batch: &[Envelope]) -> Vec<bool> {
        let entries: Vec<_> = batch
            .iter()
            .map(|e| {
                PutEventsRequestEntry::builder()
                    .event_bus_name(&self.name)
                    .source(e.source())
                    .detail_type(&e.name)
                    .detail(serde_json::to_string(e).expect("an envelope serialises"))
                    .time(aws_sdk_eventbridge::primitives::DateTime::from_secs(
                        e.occurred_at.timestamp(),
                    ))
                    .build()
            })
            .collect();
        match self
            .client
            .put_events()
            .set_entries(Some(entries))
            .send()
            .await
        {
            Ok(out) => {
                let results = out.entries();
                (0..batch.len())
                    .map(|i| {
                        results
                            .get(i)
                            .is_some_and(|r| r.error_code().is_none() && r.event_id().is_some())
                    })
                    .collect()
            }
            Err(err) => {
                tracing::warn!(error = %aws_sdk_eventbridge::error::DisplayErrorContext(err), "PutEvents failed");
                vec![false; batch.len()]
            }
        }
    }
}

/// A context's own work queue (`WORK_QUEUE_URL`), or none for a context without work items.
pub struct WorkQueue(Option<(aws_sdk_sqs::Client, String)>);

impl WorkQueue {
    pub fn new(config: &aws_config::SdkConfig, url: Option<String>) -> Self {
        Self(url.map(|url| (aws_sdk_sqs::Client::new(config), url)))
    }

    pub fn from_env(config: &aws_config::SdkConfig) -> Self {
        let url = std::env::var("WORK_QUEUE_URL")
            .ok()
            .filter(|u| !u.is_empty());
        Self::new(config, url)
    }
}

impl WorkSink for WorkQueue {
    async fn send(&self, batch: &[String]) -> Vec<bool> {
        let Some((sqs, url)) = &self.0 else {
            tracing::error!("work records found but WORK_QUEUE_URL is not set");
            return vec![false; batch.len()];
        };
        let entries: Vec<_> = batch
            .iter()
            .enumerate()
            .map(|(i, body)| {
                aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(body)
                    .build()
                    .expect("id and body are set")
            })
            .collect();
        match sqs
            .send_message_batch()
            .queue_url(url)
            .set_entries(Some(entries))
            .send()
            .await
        {
            Ok(out) => {
                let failed: Vec<&str> = out.failed().iter().map(|f| f.id()).collect();
                (0..batch.len())
                    .map(|i| !failed.contains(&i.to_string().as_str()))
                    .collect()
            }
            Err(err) => {
                tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(err), "SendMessageBatch failed");
                vec![false; batch.len()]
            }
        }
    }
}

/// What an outbox record asks the relay to send.
#[derive(Debug, Clone)]
enum Outgoing {
    Event(Envelope),
    Work(String),
}

/// The attributes of an outbox item the relay reads from the stream's new image: one event,
/// several ([`records`]), or work.
#[derive(Deserialize)]
struct OutboxImage {
    pk: String,
    event: Option<String>,
    events: Option<String>,
    work: Option<String>,
}

/// Sends the outbox records of a stream batch, ten per call (consecutive records of the same
/// kind share a call), all the calls at once: one after another, a stream shard's batch of 100
/// would wait on ten round trips, which caps a shard near 500 events a second (a job of a
/// million pages its events through here). On a failure it reports the first record not sent,
/// so Lambda retries the batch from there (records after it may go twice, as calls after the
/// failed one may have succeeded; receivers are idempotent and take any order). A record that
/// cannot be read is a failure too, never skipped: after the stream's retries its batch's
/// coordinates land in the relay's on-failure destination.
pub async fn relay(
    bus: &impl EventSink,
    work: &impl WorkSink,
    event: DynamoDbEvent,
) -> DynamoDbEventResponse {
    let mut pending: Vec<(String, Outgoing)> = Vec::new();
    let mut unreadable = None;
    for record in event.records {
        let sequence = record.change.sequence_number.clone().unwrap_or_default();
        match outgoing(&record) {
            None => {}
            Some(Ok(items)) => pending.extend(items.into_iter().map(|i| (sequence.clone(), i))),
            Some(Err(reason)) => {
                tracing::error!(%sequence, %reason, "unreadable outbox record: the batch stops here");
                unreadable = Some(sequence);
                break;
            }
        }
    }
    let mut calls = Vec::new();
    let mut start = 0;
    while start < pending.len() {
        let is_event = matches!(pending[start].1, Outgoing::Event(_));
        let same_kind = pending[start..]
            .iter()
            .take(PUT_EVENTS_LIMIT)
            .take_while(|(_, o)| matches!(o, Outgoing::Event(_)) == is_event)
            .count();
        calls.push(&pending[start..start + same_kind]);
        start += same_kind;
    }
    let answers =
        futures_util::future::join_all(calls.iter().map(|call| send(bus, work, call))).await;
    let mut counted: Vec<(&'static str, u64)> = Vec::new();
    let mut published = 0;
    let mut failed = None;
    for (call, accepted) in calls.iter().zip(answers) {
        if let Some(first_failed) = accepted.iter().position(|ok| !ok) {
            failed = Some(call[first_failed].0.clone());
            break;
        }
        for (_, item) in call.iter() {
            if let Outgoing::Event(e) = item {
                published += 1;
                tracing::debug!(event_id = %e.id, event = %e.name, version = e.version, correlation_id = %e.correlation_id, "event published");
                if let Some(metric) = crate::metrics::counted_as(&e.name) {
                    match counted.iter_mut().find(|(m, _)| *m == metric) {
                        Some((_, n)) => *n += 1,
                        None => counted.push((metric, 1)),
                    }
                }
            }
        }
    }
    crate::metrics::counts(&counted);
    // One line a batch: the events themselves are in the bus's archive, each line of theirs
    // (at DEBUG) would be most of a relay's log bill.
    if published > 0 {
        tracing::info!(events = published, "events published");
    }
    if let Some(sequence) = failed {
        tracing::warn!(%sequence, "sending failed; the batch will be retried from this record");
        return failed_from(sequence);
    }
    match unreadable {
        Some(sequence) => failed_from(sequence),
        None => DynamoDbEventResponse::default(),
    }
}

/// One call: up to ten records of one kind, events to the bus or work to the queue.
async fn send(
    bus: &impl EventSink,
    work: &impl WorkSink,
    call: &[(String, Outgoing)],
) -> Vec<bool> {
    let mut envelopes = Vec::new();
    let mut bodies = Vec::new();
    for (_, outgoing) in call {
        match outgoing {
            Outgoing::Event(e) => envelopes.push(e.clone()),
            Outgoing::Work(w) => bodies.push(w.clone()),
        }
    }
    if bodies.is_empty() {
        bus.publish(&envelopes).await
    } else {
        work.send(&bodies).await
    }
}

/// Asks Lambda to retry the batch from the record with this sequence number.
fn failed_from(sequence: String) -> DynamoDbEventResponse {
    let mut failure = DynamoDbBatchItemFailure::default();
    failure.item_identifier = Some(sequence);
    let mut response = DynamoDbEventResponse::default();
    response.batch_item_failures = vec![failure];
    response
}

fn outgoing(record: &DynamoDbRecord) -> Option<Result<Vec<Outgoing>, String>> {
    if record.event_name != "INSERT" {
        return None;
    }
    let image = &record.change.new_image;
    let is_outbox = matches!(image.get("pk"), Some(serde_dynamo::AttributeValue::S(pk)) if pk.starts_with(KEY_PREFIX));
    if !is_outbox {
        return None;
    }
    let image: OutboxImage = match serde_dynamo::from_item(image.clone()) {
        Ok(image) => image,
        Err(e) => return Some(Err(e.to_string())),
    };
    let unreadable = |e: serde_json::Error| format!("{}: {e}", image.pk);
    Some(match (&image.event, &image.events, &image.work) {
        (Some(event), _, _) => serde_json::from_str(event)
            .map(|e| vec![Outgoing::Event(e)])
            .map_err(unreadable),
        (None, Some(events), _) => serde_json::from_str::<Vec<Envelope>>(events)
            .map(|all| all.into_iter().map(Outgoing::Event).collect())
            .map_err(unreadable),
        (None, None, Some(work)) => Ok(vec![Outgoing::Work(work.clone())]),
        (None, None, None) => Err(format!("{}: neither an event nor work", image.pk)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// The bus and the work queue in one fake: what was sent, in order, and how many calls.
    struct Fake {
        sent: Mutex<Vec<String>>,
        refuse: Option<String>,
        calls: Mutex<usize>,
    }

    impl WorkSink for Fake {
        async fn send(&self, batch: &[String]) -> Vec<bool> {
            *self.calls.lock().unwrap() += 1;
            self.sent.lock().unwrap().extend(batch.iter().cloned());
            vec![true; batch.len()]
        }
    }

    impl EventSink for Fake {
        async fn publish(&self, batch: &[Envelope]) -> Vec<bool> {
            *self.calls.lock().unwrap() += 1;
            assert!(batch.len() <= PUT_EVENTS_LIMIT);
            batch
                .iter()
                .map(|e| {
                    let refused = self.refuse.as_deref() == Some(e.correlation_id.as_str());
                    if !refused {
                        self.sent.lock().unwrap().push(e.correlation_id.clone());
                    }
                    !refused
                })
                .collect()
        }
    }

    /// A stream record in the shape Lambda delivers it.
    fn record(sequence: &str, image: Value) -> Value {
        serde_json::json!({
            "eventID": format!("e{sequence}"), "eventName": "INSERT", "eventVersion": "1.1",
            "eventSource": "aws:dynamodb", "awsRegion": "eu-west-1",
            "dynamodb": {"SequenceNumber": sequence, "SizeBytes": 100, "NewImage": image,
                         "Keys": {"pk": image["pk"].clone()}, "StreamViewType": "NEW_IMAGE"}
        })
    }

    fn outbox_record(i: usize) -> Value {
        let envelope = envelope(i);
        record(
            &format!("{i:05}"),
            serde_json::json!({
                "pk": {"S": format!("OUTBOX#{}", envelope.id)},
                "event": {"S": serde_json::to_string(&envelope).unwrap()}
            }),
        )
    }

    fn stream(records: Vec<Value>) -> DynamoDbEvent {
        serde_json::from_value(serde_json::json!({ "Records": records })).unwrap()
    }

    /// `n` outbox records, then a write that is not an outbox record.
    fn stream_of(n: usize) -> Vec<Value> {
        (0..n)
            .map(outbox_record)
            .chain([record(
                "99999",
                serde_json::json!({"pk": {"S": "ACCOUNT#1"}}),
            )])
            .collect()
    }

    fn fake(refuse: Option<&str>) -> Fake {
        Fake {
            sent: Mutex::default(),
            refuse: refuse.map(Into::into),
            calls: Mutex::new(0),
        }
    }

    #[tokio::test]
    async fn every_outbox_record_is_published_in_order_ten_per_call() {
        let bus = fake(None);
        let response = relay(&bus, &bus, stream(stream_of(25))).await;
        assert_eq!(response, DynamoDbEventResponse::default());
        let sent = bus.sent.lock().unwrap().clone();
        assert_eq!(sent, (0..25).map(|i| format!("c{i}")).collect::<Vec<_>>());
        assert_eq!(*bus.calls.lock().unwrap(), 3);
    }

    fn envelope(i: usize) -> Envelope {
        Envelope {
            id: uuid::Uuid::now_v7(),
            name: "Account.Created".into(),
            version: 1,
            occurred_at: chrono::Utc::now(),
            producer: "auth".into(),
            correlation_id: format!("c{i}"),
            causation_id: None,
            data: serde_json::json!({}),
        }
    }

    /// The item a transaction item of [`records`] puts, as its stream record's image.
    fn image_of(write: &TransactWriteItem) -> Value {
        let item = write.put().unwrap().item();
        let text = |v: &aws_sdk_dynamodb::types::AttributeValue| v.as_s().ok().cloned();
        let mut image = serde_json::Map::new();
        for (name, value) in item {
            if let Some(t) = text(value) {
                image.insert(name.clone(), serde_json::json!({ "S": t }));
            }
        }
        Value::Object(image)
    }

    #[test]
    fn a_commits_events_share_records_of_up_to_twenty() {
        let events: Vec<Envelope> = (0..45).map(envelope).collect();
        let written = records("T", &events);
        assert_eq!(written.len(), 3);
        let carried: Vec<usize> = written
            .iter()
            .map(|w| events_in(w.put().unwrap().item()).unwrap().len())
            .collect();
        assert_eq!(carried, [20, 20, 5]);
        let one = records("T", &events[..1]);
        assert!(
            one[0].put().unwrap().item().contains_key("event"),
            "one event as before"
        );
        assert!(records("T", &[]).is_empty());
    }

    #[tokio::test]
    async fn a_record_of_several_events_publishes_them_all_in_order() {
        let bus = fake(None);
        let events: Vec<Envelope> = (0..3).map(envelope).collect();
        let packed = records("T", &events);
        let records = vec![
            outbox_record(7),
            record("00010", image_of(&packed[0])),
            outbox_record(8),
        ];
        assert_eq!(
            relay(&bus, &bus, stream(records)).await,
            DynamoDbEventResponse::default()
        );
        assert_eq!(*bus.sent.lock().unwrap(), ["c7", "c0", "c1", "c2", "c8"]);
    }

    #[tokio::test]
    async fn a_record_of_several_events_is_retried_whole_when_one_is_refused() {
        let bus = fake(Some("c1"));
        let events: Vec<Envelope> = (0..3).map(envelope).collect();
        let packed = records("T", &events);
        let records = vec![outbox_record(7), record("00010", image_of(&packed[0]))];
        assert_eq!(
            relay(&bus, &bus, stream(records)).await,
            failed_from("00010".to_owned())
        );
    }

    #[tokio::test]
    async fn work_records_go_to_the_work_queue_in_their_place() {
        let bus = fake(None);
        let mut records = stream_of(3);
        records.insert(
            1,
            record(
                "00001x",
                serde_json::json!({"pk": {"S": "OUTBOX#work#page-1"}, "work": {"S": "page-1"}}),
            ),
        );
        assert_eq!(
            relay(&bus, &bus, stream(records)).await,
            DynamoDbEventResponse::default()
        );
        assert_eq!(*bus.sent.lock().unwrap(), ["c0", "page-1", "c1", "c2"]);
        assert_eq!(*bus.calls.lock().unwrap(), 3);
    }

    #[tokio::test]
    async fn a_refused_event_is_reported_so_the_batch_is_retried_from_it() {
        let bus = fake(Some("c13"));
        let response = relay(&bus, &bus, stream(stream_of(25))).await;
        assert_eq!(response, failed_from("00013".to_owned()));
        assert_eq!(
            *bus.calls.lock().unwrap(),
            3,
            "the calls go at once: the one after the failing call went too"
        );
        let sent = bus.sent.lock().unwrap().clone();
        assert_eq!(sent.len(), 24, "everything but the refused event: {sent:?}");
        assert!(!sent.contains(&"c13".to_owned()));
    }

    #[tokio::test]
    async fn an_unreadable_outbox_record_is_never_skipped() {
        let bus = fake(None);
        let mut records = stream_of(5);
        records.insert(
            3,
            record(
                "00002x",
                serde_json::json!({"pk": {"S": "OUTBOX#broken"}, "event": {"S": "{not json"}}),
            ),
        );
        let response = relay(&bus, &bus, stream(records)).await;
        assert_eq!(
            response,
            failed_from("00002x".to_owned()),
            "the batch is retried from the unreadable record, and after its retries lands in the on-failure destination"
        );
        assert_eq!(
            *bus.sent.lock().unwrap(),
            ["c0", "c1", "c2"],
            "what came before it is sent, nothing after it"
        );
    }
}
