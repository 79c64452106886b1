//! The transactional outbox: a state change and the events it causes are written in one
//! `TransactWriteItems`, the events as `OUTBOX#<id>` items. The table's stream feeds the relay,
//! which publishes them to EventBridge. So an event is published if and only if its state change
//! committed, at least once (consumers are idempotent, see [`crate::inbox`]).
//!
//! The same road carries a context's internal work (a shuffle's next page): an `OUTBOX#work#<key>`
//! record goes to the context's own work queue instead of the bus. Its key is chosen by the
//! writer, so writing the same work twice cancels the second transaction.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::TransactWriteItem;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::dynamo::{n, s};
use crate::event::Envelope;

pub const KEY_PREFIX: &str = "OUTBOX#";
/// Published records expire; a week leaves time to inspect or replay them.
const RETENTION_SECONDS: i64 = 7 * 24 * 3600;
/// EventBridge accepts at most ten entries per PutEvents call.
const PUT_EVENTS_LIMIT: usize = 10;

/// The outbox record for `envelope`, to go into the same transaction as the state change.
pub fn record(table: &str, envelope: &Envelope) -> TransactWriteItem {
    let expires = envelope.occurred_at.timestamp() + RETENTION_SECONDS;
    let item = HashMap::from([
        ("pk".to_owned(), s(format!("{KEY_PREFIX}{}", envelope.id))),
        ("sk".to_owned(), s("OUTBOX")),
        (
            "event".to_owned(),
            s(serde_json::to_string(envelope).expect("an envelope serialises")),
        ),
        ("ttl".to_owned(), n(expires)),
    ]);
    crate::dynamo::put(table, item, "attribute_not_exists(pk)")
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

/// The part of a DynamoDB stream event (Lambda's shape) the relay reads.
#[derive(Debug, Deserialize)]
pub struct StreamEvent {
    #[serde(rename = "Records", default)]
    pub records: Vec<StreamRecord>,
}

#[derive(Debug, Deserialize)]
pub struct StreamRecord {
    #[serde(rename = "eventName", default)]
    pub event_name: String,
    pub dynamodb: StreamChange,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamChange {
    pub sequence_number: String,
    #[serde(default)]
    pub new_image: HashMap<String, Value>,
}

#[derive(Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchResponse {
    pub batch_item_failures: Vec<BatchItemFailure>,
}

#[derive(Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchItemFailure {
    pub item_identifier: String,
}

impl BatchResponse {
    pub fn failed(ids: impl IntoIterator<Item = String>) -> Self {
        Self {
            batch_item_failures: ids
                .into_iter()
                .map(|item_identifier| BatchItemFailure { item_identifier })
                .collect(),
        }
    }
}

/// Where the relay sends things: the event bus and the work queue in production, a fake in tests.
pub trait Publisher {
    /// Publishes up to ten envelopes; answers, per envelope in order, whether it was accepted.
    fn publish(&self, batch: &[Envelope]) -> impl std::future::Future<Output = Vec<bool>> + Send;
    /// Sends up to ten work items to the work queue; answers per item whether it was accepted.
    fn send_work(&self, batch: &[String]) -> impl std::future::Future<Output = Vec<bool>> + Send;
}

pub struct EventBus {
    client: aws_sdk_eventbridge::Client,
    name: String,
    work: Option<(aws_sdk_sqs::Client, String)>,
}

impl EventBus {
    pub fn new(
        config: &aws_config::SdkConfig,
        name: String,
        work_queue_url: Option<String>,
    ) -> Self {
        Self {
            client: aws_sdk_eventbridge::Client::new(config),
            name,
            work: work_queue_url.map(|url| (aws_sdk_sqs::Client::new(config), url)),
        }
    }
}

impl Publisher for EventBus {
    async fn send_work(&self, batch: &[String]) -> Vec<bool> {
        let Some((sqs, url)) = &self.work else {
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

/// What an outbox record asks the relay to send.
#[derive(Debug, Clone)]
enum Outgoing {
    Event(Envelope),
    Work(String),
}

/// Sends the outbox records of a stream batch, in order, ten per call (consecutive records of
/// the same kind share a call). On the first failure it stops and reports that record, so Lambda
/// retries the batch from there (records after it in the same call may go twice; receivers are
/// idempotent).
pub async fn relay(publisher: &impl Publisher, event: StreamEvent) -> BatchResponse {
    let mut pending: Vec<(String, Outgoing)> = Vec::new();
    for record in event.records {
        match outgoing(&record) {
            None => {}
            Some(Ok(item)) => pending.push((record.dynamodb.sequence_number, item)),
            // A record that cannot be read can never be sent; retrying will not help.
            Some(Err(reason)) => {
                tracing::error!(sequence = %record.dynamodb.sequence_number, %reason, "unreadable outbox record skipped")
            }
        }
    }
    let mut start = 0;
    while start < pending.len() {
        let is_event = matches!(pending[start].1, Outgoing::Event(_));
        let same_kind = pending[start..]
            .iter()
            .take(PUT_EVENTS_LIMIT)
            .take_while(|(_, o)| matches!(o, Outgoing::Event(_)) == is_event)
            .count();
        let chunk = &pending[start..start + same_kind];
        let accepted = if is_event {
            let envelopes: Vec<Envelope> = chunk
                .iter()
                .filter_map(|(_, o)| match o {
                    Outgoing::Event(e) => Some(e.clone()),
                    _ => None,
                })
                .collect();
            publisher.publish(&envelopes).await
        } else {
            let bodies: Vec<String> = chunk
                .iter()
                .filter_map(|(_, o)| match o {
                    Outgoing::Work(w) => Some(w.clone()),
                    _ => None,
                })
                .collect();
            publisher.send_work(&bodies).await
        };
        if let Some(first_failed) = accepted.iter().position(|ok| !ok) {
            let sequence = chunk[first_failed].0.clone();
            tracing::warn!(%sequence, "sending stopped; the batch will be retried from this record");
            return BatchResponse::failed([sequence]);
        }
        for (_, item) in chunk {
            if let Outgoing::Event(e) = item {
                tracing::info!(event_id = %e.id, event = %e.name, version = e.version, correlation_id = %e.correlation_id, "event published");
            }
        }
        start += same_kind;
    }
    BatchResponse::default()
}

fn outgoing(record: &StreamRecord) -> Option<Result<Outgoing, String>> {
    if record.event_name != "INSERT" {
        return None;
    }
    let image = &record.dynamodb.new_image;
    let pk = image.get("pk")?.get("S")?.as_str()?;
    if !pk.starts_with(KEY_PREFIX) {
        return None;
    }
    let text = |name: &str| {
        image
            .get(name)
            .and_then(|v| v.get("S"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    Some(match (text("event"), text("work")) {
        (Some(event), _) => serde_json::from_str(&event)
            .map(Outgoing::Event)
            .map_err(|e| e.to_string()),
        (None, Some(work)) => Ok(Outgoing::Work(work)),
        (None, None) => Err("neither an event nor work".to_owned()),
    })
}

/// The whole relay function: what a context's `*-outbox-relay` binary runs.
pub async fn run_relay() -> Result<(), lambda_runtime::Error> {
    crate::logging::init();
    let config = crate::aws::load().await;
    let work_queue = std::env::var("WORK_QUEUE_URL")
        .ok()
        .filter(|u| !u.is_empty());
    let bus = EventBus::new(
        &config,
        crate::config::required("EVENT_BUS_NAME")?,
        work_queue,
    );
    let bus = &bus;
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<StreamEvent>| async move {
            Ok::<_, lambda_runtime::Error>(relay(bus, event.payload).await)
        },
    ))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    struct FakeBus {
        published: Mutex<Vec<String>>,
        refuse: Option<String>,
        calls: Mutex<usize>,
    }

    impl Publisher for FakeBus {
        async fn send_work(&self, batch: &[String]) -> Vec<bool> {
            *self.calls.lock().unwrap() += 1;
            self.published.lock().unwrap().extend(batch.iter().cloned());
            vec![true; batch.len()]
        }

        async fn publish(&self, batch: &[Envelope]) -> Vec<bool> {
            *self.calls.lock().unwrap() += 1;
            assert!(batch.len() <= PUT_EVENTS_LIMIT);
            batch
                .iter()
                .map(|e| {
                    let refused = self.refuse.as_deref() == Some(e.correlation_id.as_str());
                    if !refused {
                        self.published
                            .lock()
                            .unwrap()
                            .push(e.correlation_id.clone());
                    }
                    !refused
                })
                .collect()
        }
    }

    fn stream_of(n: usize) -> StreamEvent {
        let records = (0..n)
            .map(|i| {
                let envelope = Envelope {
                    id: uuid::Uuid::now_v7(),
                    name: "Account.Created".into(),
                    version: 1,
                    occurred_at: chrono::Utc::now(),
                    producer: "auth".into(),
                    correlation_id: format!("c{i}"),
                    causation_id: None,
                    data: serde_json::json!({}),
                };
                serde_json::json!({
                    "eventName": "INSERT",
                    "dynamodb": {
                        "SequenceNumber": format!("{i:05}"),
                        "NewImage": {
                            "pk": {"S": format!("OUTBOX#{}", envelope.id)},
                            "event": {"S": serde_json::to_string(&envelope).unwrap()}
                        }
                    }
                })
            })
            .chain([serde_json::json!({
                "eventName": "INSERT",
                "dynamodb": {"SequenceNumber": "99999", "NewImage": {"pk": {"S": "ACCOUNT#1"}}}
            })])
            .collect::<Vec<_>>();
        serde_json::from_value(serde_json::json!({ "Records": records })).unwrap()
    }

    fn bus(refuse: Option<&str>) -> FakeBus {
        FakeBus {
            published: Mutex::default(),
            refuse: refuse.map(Into::into),
            calls: Mutex::new(0),
        }
    }

    #[tokio::test]
    async fn every_outbox_record_is_published_in_order_ten_per_call() {
        let bus = bus(None);
        let response = relay(&bus, stream_of(25)).await;
        assert_eq!(response, BatchResponse::default());
        let published = bus.published.lock().unwrap().clone();
        assert_eq!(
            published,
            (0..25).map(|i| format!("c{i}")).collect::<Vec<_>>()
        );
        assert_eq!(*bus.calls.lock().unwrap(), 3);
    }

    #[tokio::test]
    async fn work_records_go_to_the_work_queue_in_their_place() {
        let bus = bus(None);
        let mut event = stream_of(3);
        let work: StreamRecord = serde_json::from_value(serde_json::json!({
            "eventName": "INSERT",
            "dynamodb": {"SequenceNumber": "00001x", "NewImage": {"pk": {"S": "OUTBOX#work#page-1"}, "work": {"S": "page-1"}}}
        }))
        .unwrap();
        event.records.insert(1, work);
        assert_eq!(relay(&bus, event).await, BatchResponse::default());
        assert_eq!(*bus.published.lock().unwrap(), ["c0", "page-1", "c1", "c2"]);
        assert_eq!(*bus.calls.lock().unwrap(), 3);
    }

    #[tokio::test]
    async fn a_refused_event_stops_the_batch_and_is_reported_for_retry() {
        let bus = bus(Some("c13"));
        let response = relay(&bus, stream_of(25)).await;
        assert_eq!(response, BatchResponse::failed(["00013".to_owned()]));
        assert_eq!(
            *bus.calls.lock().unwrap(),
            2,
            "nothing after the failing call is attempted"
        );
    }
}
