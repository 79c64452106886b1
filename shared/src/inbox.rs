//! Idempotent consumption. Events arrive from EventBridge through an SQS queue, at least once
//! and in any order. A consumer commits its effect together with an inbox record keyed by the
//! consumer's name and the event id, in one transaction; a second delivery finds the record and
//! changes nothing. Failed messages are reported one by one (`ReportBatchItemFailures`), so SQS
//! retries only those, and after `maxReceiveCount` moves them to the queue's dead-letter queue.
//! A message that can never be handled (poison) does not wait for that: it is parked in the
//! dead-letter queue at once, where it can be inspected and redriven.

use std::collections::HashMap;
use std::future::Future;

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use aws_sdk_dynamodb::types::TransactWriteItem;
use serde::Deserialize;
use tracing::Instrument;

use crate::dynamo::{n, s, Cancelled, StoreError, Table, Transaction};
use crate::event::Envelope;

/// Longer than SQS keeps a message (14 days), so no duplicate outlives its inbox record.
const RETENTION_SECONDS: i64 = 30 * 24 * 3600;

/// The inbox record that makes `consumer`'s handling of `envelope` happen once. `consumer` names
/// one handler (`tasks.sync-account`), not a context: two handlers of one event in the same
/// context each apply it once.
pub fn record(table: &str, consumer: &str, envelope: &Envelope) -> TransactWriteItem {
    let item = HashMap::from([
        (
            "pk".to_owned(),
            s(format!("INBOX#{consumer}#{}", envelope.id)),
        ),
        ("sk".to_owned(), s("INBOX")),
        ("event".to_owned(), s(&envelope.name)),
        (
            "ttl".to_owned(),
            n(chrono::Utc::now().timestamp() + RETENTION_SECONDS),
        ),
    ]);
    crate::dynamo::put(table, item, "attribute_not_exists(pk)")
}

/// What became of one delivery, as the handler reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The effect and the inbox record were committed.
    Applied,
    /// This event was handled before; nothing changed.
    Duplicate,
    /// A newer state is already there: nothing changed, and nothing needs to.
    Superseded,
    /// The event is none of this consumer's business (accounting and a client's account):
    /// nothing changed, and nothing needs to.
    NotConcerned,
}

/// What a consumer's transaction came to. The kernel recognises only its own inbox record;
/// what a failed condition of the effect means (superseded, or not yet: retry later) is the
/// handler's to say.
#[derive(Debug, Clone, PartialEq)]
pub enum Committed {
    /// The effect and the inbox record were committed.
    Applied,
    /// The inbox record was there: this consumer handled this event before.
    Duplicate,
    /// A condition of the effect failed; nothing was written.
    Refused(Cancelled),
}

/// The name of the inbox record in a consumer's transaction.
pub const INBOX: &str = "inbox";

/// Commits `effect` and `consumer`'s inbox record for `envelope` in one transaction.
pub async fn commit(
    table: &Table,
    consumer: &str,
    envelope: &Envelope,
    mut effect: Transaction,
) -> Result<Committed, StoreError> {
    effect.add(INBOX, record(table.name(), consumer, envelope));
    committed(table.transact(effect).await?)
}

/// [`commit`] of a replayed event's effect (N4, `Delivery::replayed`): its inbox record is there
/// since its live delivery, so only the effect's own conditions guard it. For a consumer whose
/// state keeps each effect once by itself.
pub async fn commit_replayed(table: &Table, effect: Transaction) -> Result<Committed, StoreError> {
    committed(table.transact(effect).await?)
}

fn committed(result: Result<(), Cancelled>) -> Result<Committed, StoreError> {
    match result {
        Ok(()) => Ok(Committed::Applied),
        Err(c) if c.failed(INBOX) => Ok(Committed::Duplicate),
        Err(c) if c.any_failed() => Ok(Committed::Refused(c)),
        Err(c) => Err(c.into()),
    }
}

/// An EventBridge event as a rule delivers it to SQS; `detail` is our envelope.
#[derive(Debug, Deserialize)]
struct BusEvent {
    #[serde(default)]
    source: String,
    detail: Envelope,
    /// Set by EventBridge on an event replayed from an archive.
    #[serde(default, rename = "replay-name")]
    replay_name: Option<String>,
}

impl BusEvent {
    /// An event of the published language comes only from its one producer: under its source
    /// on the bus (which IAM binds to the producer's functions) and as its envelope says.
    fn check_producer(&self) -> Result<(), String> {
        let name = &self.detail.name;
        match crate::contracts::producer_of(name) {
            Some(producer)
                if self.source != format!("ates.{producer}")
                    || self.detail.producer != producer =>
            {
                Err(format!(
                    "{name} comes only from {producer}, not from {} ({})",
                    self.source, self.detail.producer
                ))
            }
            _ => Ok(()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConsumeError {
    /// Not now: a throttled or unreachable table, or an effect that waits for another event.
    /// The message is retried; after the queue's `maxReceiveCount` it goes to its dead-letter
    /// queue.
    #[error("temporary failure: {0}")]
    Retry(String),
    /// The message can never be handled; it is parked in the dead-letter queue at once.
    #[error("unprocessable message: {0}")]
    Poison(String),
}

impl From<StoreError> for ConsumeError {
    fn from(e: StoreError) -> Self {
        ConsumeError::Retry(e.to_string())
    }
}

/// A handler that kept losing to other writers: its message is delivered again later.
impl From<crate::usecase::Contended> for ConsumeError {
    fn from(e: crate::usecase::Contended) -> Self {
        ConsumeError::Retry(e.to_string())
    }
}

/// Where poison goes: the queue's dead-letter queue in production, a recorder in tests.
pub trait Parking {
    /// Parks `body` with the reason it cannot be handled; answers whether it was accepted.
    fn park(&self, body: &str, reason: &str) -> impl Future<Output = bool> + Send;

    /// Delivers `message` again no sooner than `after` (its backoff, [`retry_after`]). Where
    /// this cannot be done the queue's own visibility timeout stands: a retry is never lost,
    /// only sooner.
    fn postpone(
        &self,
        _message: &SqsMessage,
        _after: std::time::Duration,
    ) -> impl Future<Output = ()> + Send {
        async {}
    }
}

/// How long a message not handled now waits before its next delivery: a minute, doubling with
/// each delivery, at most fifteen (SQS's own ceiling is twelve hours). Five deliveries span
/// about fifteen minutes: a throttled SES or a copy still on its way has time to come back,
/// and a message that never can is parked within the quarter hour.
pub fn retry_after(receive_count: u32) -> std::time::Duration {
    let doubled = 60u64 << receive_count.saturating_sub(1).min(4);
    std::time::Duration::from_secs(doubled.min(15 * 60))
}

/// The consumer queue's dead-letter queue, written directly (`DEAD_LETTER_QUEUE_URL`). Its SQS
/// client is made when poison first comes, not at every cold start: most processes never park
/// anything, and a client of a crate not yet used costs init its endpoint tables (BENCHMARKS.md).
pub struct DeadLetters {
    config: aws_config::SdkConfig,
    sqs: std::sync::OnceLock<aws_sdk_sqs::Client>,
    url: String,
    /// The queue the function consumes (`QUEUE_URL`), where a retried message's backoff is set;
    /// without it a retry comes after the queue's visibility timeout.
    source: Option<String>,
}

impl DeadLetters {
    pub fn new(config: &aws_config::SdkConfig, url: String) -> Self {
        Self {
            config: config.clone(),
            sqs: std::sync::OnceLock::new(),
            url,
            source: None,
        }
    }

    /// Retries back off ([`retry_after`]) on `queue_url`, the queue the function consumes.
    pub fn backing_off_on(self, queue_url: Option<String>) -> Self {
        Self {
            source: queue_url,
            ..self
        }
    }

    fn sqs(&self) -> &aws_sdk_sqs::Client {
        self.sqs
            .get_or_init(|| aws_sdk_sqs::Client::new(&self.config))
    }

    pub fn from_env(
        config: &aws_config::SdkConfig,
    ) -> Result<Self, crate::config::MissingVariable> {
        Ok(
            Self::new(config, crate::config::required("DEAD_LETTER_QUEUE_URL")?)
                .backing_off_on(std::env::var("QUEUE_URL").ok()),
        )
    }
}

/// The message attribute that says why a message was parked.
pub const PARKED_REASON: &str = "ates-parked-reason";

impl Parking for DeadLetters {
    async fn park(&self, body: &str, reason: &str) -> bool {
        let reason_attribute = aws_sdk_sqs::types::MessageAttributeValue::builder()
            .data_type("String")
            .string_value(reason.chars().take(1000).collect::<String>())
            .build()
            .expect("type and value are set");
        match self
            .sqs()
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .message_attributes(PARKED_REASON, reason_attribute)
            .send()
            .await
        {
            Ok(_) => true,
            Err(err) => {
                tracing::error!(error = %aws_sdk_sqs::error::DisplayErrorContext(err), "poison could not be parked");
                false
            }
        }
    }

    async fn postpone(&self, message: &SqsMessage, after: std::time::Duration) {
        let (Some(queue), Some(receipt)) = (&self.source, &message.receipt_handle) else {
            return;
        };
        let seconds = i32::try_from(after.as_secs()).unwrap_or(i32::MAX);
        let changed = self
            .sqs()
            .change_message_visibility()
            .queue_url(queue)
            .receipt_handle(receipt)
            .visibility_timeout(seconds)
            .send()
            .await;
        if let Err(err) = changed {
            // The queue's visibility timeout stands: the retry comes sooner, that is all.
            tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(err), "backoff not set");
        }
    }
}

/// One message's fate: handled (acknowledged), or reported so SQS delivers it again.
async fn settle(
    message: &SqsMessage,
    result: Result<(), ConsumeError>,
    parking: &impl Parking,
) -> Option<String> {
    let id = message.message_id.clone().unwrap_or_default();
    match result {
        Ok(()) => None,
        Err(ConsumeError::Retry(reason)) => {
            tracing::warn!(message_id = %id, %reason, "not handled now; it will be retried");
            Some(id)
        }
        Err(ConsumeError::Poison(reason)) => {
            let body = message.body.as_deref().unwrap_or_default();
            if parking.park(body, &reason).await {
                tracing::error!(message_id = %id, %reason, "poison parked in the dead-letter queue");
                crate::metrics::count(crate::metrics::EVENTS_PARKED, 1);
                None
            } else {
                Some(id)
            }
        }
    }
}

fn response(failed: Vec<String>) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failed
        .into_iter()
        .map(|item_identifier| {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = item_identifier;
            failure
        })
        .collect();
    response
}

/// Handles every event of a batch and reports the ones to deliver again.
pub async fn consume_events<F, Fut>(
    event: SqsEvent,
    parking: &impl Parking,
    handle: F,
) -> SqsBatchResponse
where
    F: Fn(Envelope) -> Fut,
    Fut: Future<Output = Result<Outcome, ConsumeError>>,
{
    consume_deliveries(event, u32::MAX, parking, |envelope, _delivery| {
        handle(envelope)
    })
    .await
}

/// Which delivery of its message an event is: a handler that records its failures (a mail that
/// could not be sent) says "failed for good" on the last one, after which SQS moves the message
/// to the dead-letter queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// How many times SQS has delivered the message, this time included.
    pub receive_count: u32,
    /// The queue's `maxReceiveCount`.
    pub max_receive_count: u32,
    /// Whether the bus replayed the event from its archive (it was delivered live before).
    pub replayed: bool,
}

impl Delivery {
    /// Whether a `Retry` now sends the message to the dead-letter queue.
    pub fn is_last(&self) -> bool {
        self.receive_count >= self.max_receive_count
    }
}

/// [`consume_events`] for a handler that is told which delivery each event is.
pub async fn consume_deliveries<F, Fut>(
    event: SqsEvent,
    max_receive_count: u32,
    parking: &impl Parking,
    handle: F,
) -> SqsBatchResponse
where
    F: Fn(Envelope, Delivery) -> Fut,
    Fut: Future<Output = Result<Outcome, ConsumeError>>,
{
    let mut failed = Vec::new();
    for message in &event.records {
        let body = message.body.as_deref().unwrap_or_default();
        let result = match serde_json::from_str::<BusEvent>(body) {
            Err(e) => Err(ConsumeError::Poison(format!("not an aTES event: {e}"))),
            Ok(event) if event.check_producer().is_err() => {
                Err(ConsumeError::Poison(event.check_producer().unwrap_err()))
            }
            Ok(BusEvent {
                detail: envelope,
                replay_name,
                ..
            }) => {
                let (id, name, correlation_id) = (
                    envelope.id,
                    envelope.name.clone(),
                    envelope.correlation_id.clone(),
                );
                let delivery = Delivery {
                    receive_count: receive_count(message),
                    max_receive_count,
                    replayed: replay_name.is_some(),
                };
                // The handler's own lines carry the event's correlation id.
                let span =
                    tracing::info_span!("event", %correlation_id, event_id = %id, event = %name);
                let result = handle(envelope, delivery).instrument(span).await;
                if let Err(ConsumeError::Retry(_)) = &result {
                    let after = retry_after(delivery.receive_count);
                    parking.postpone(message, after).await;
                }
                match &result {
                    // An applied event is DEBUG: the handler's own line says what it did, the
                    // bus's archive holds the event, and logs are billed per byte. What was not
                    // applied (a duplicate, a stale or foreign event) is worth a line.
                    Ok(Outcome::Applied) => {
                        tracing::debug!(event_id = %id, event = %name, %correlation_id, "event consumed")
                    }
                    Ok(outcome) => {
                        tracing::info!(event_id = %id, event = %name, %correlation_id, outcome = ?outcome, "event consumed")
                    }
                    Err(e) => {
                        tracing::warn!(event_id = %id, event = %name, %correlation_id, error = %e, receive_count = delivery.receive_count, "event not consumed")
                    }
                }
                result.map(|_| ())
            }
        };
        failed.extend(settle(message, result, parking).await);
    }
    response(failed)
}

/// How many times SQS has delivered this message, this time included.
fn receive_count(message: &SqsMessage) -> u32 {
    message
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|count| count.parse().ok())
        .unwrap_or(1)
}

/// Handles a batch of a context's own work items (JSON bodies, not events) and reports the ones
/// to deliver again. The handler is told how often the item has been delivered. Work handlers
/// are idempotent themselves (see [`crate::outbox::work`]).
pub async fn consume_work<T, F, Fut>(
    event: SqsEvent,
    parking: &impl Parking,
    handle: F,
) -> SqsBatchResponse
where
    T: serde::de::DeserializeOwned,
    F: Fn(T, u32) -> Fut,
    Fut: Future<Output = Result<(), ConsumeError>>,
{
    let mut failed = Vec::new();
    for message in &event.records {
        let body = message.body.as_deref().unwrap_or_default();
        let result = match serde_json::from_str::<T>(body) {
            Ok(work) => handle(work, receive_count(message)).await,
            Err(e) => Err(ConsumeError::Poison(format!("not a work item: {e}"))),
        };
        failed.extend(settle(message, result, parking).await);
    }
    response(failed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Recorder {
        parked: Mutex<Vec<(String, String)>>,
        postponed: Mutex<Vec<(String, u64)>>,
        refuse: bool,
    }

    impl Parking for Recorder {
        async fn park(&self, body: &str, reason: &str) -> bool {
            if self.refuse {
                return false;
            }
            self.parked
                .lock()
                .unwrap()
                .push((body.to_owned(), reason.to_owned()));
            true
        }

        async fn postpone(&self, message: &SqsMessage, after: std::time::Duration) {
            let id = message.message_id.clone().unwrap_or_default();
            self.postponed.lock().unwrap().push((id, after.as_secs()));
        }
    }

    #[test]
    fn a_retry_waits_a_minute_doubling_to_a_quarter_hour() {
        let waits: Vec<u64> = (1..=7).map(|n| retry_after(n).as_secs()).collect();
        assert_eq!(waits, [60, 120, 240, 480, 900, 900, 900]);
        assert_eq!(retry_after(0).as_secs(), 60, "a count SQS did not give");
    }

    fn message(id: &str, correlation: &str) -> serde_json::Value {
        let detail = serde_json::json!({
            "id": uuid::Uuid::now_v7(), "name": "Account.Created", "version": 1,
            "occurred_at": "2026-11-21T10:00:00Z", "producer": "auth",
            "correlation_id": correlation, "data": {}
        });
        serde_json::json!({
            "messageId": id,
            "body": serde_json::json!({"detail-type": "Account.Created", "source": "ates.auth", "detail": detail}).to_string()
        })
    }

    fn batch() -> SqsEvent {
        serde_json::from_value(serde_json::json!({"Records": [
            message("m1", "ok"), message("m2", "boom"), {"messageId": "m3", "body": "not json"},
            message("m4", "poison"), message("m5", "ok")
        ]}))
        .unwrap()
    }

    async fn handle(e: Envelope) -> Result<Outcome, ConsumeError> {
        match e.correlation_id.as_str() {
            "boom" => Err(ConsumeError::Retry("table unavailable".into())),
            "poison" => Err(ConsumeError::Poison("payload cannot be read".into())),
            _ => Ok(Outcome::Applied),
        }
    }

    fn failures(response: &SqsBatchResponse) -> Vec<&str> {
        response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect()
    }

    #[tokio::test]
    async fn only_the_messages_worth_retrying_are_reported_and_poison_is_parked_at_once() {
        let parking = Recorder::default();
        let response = consume_events(batch(), &parking, handle).await;
        assert_eq!(failures(&response), ["m2"]);
        assert_eq!(
            *parking.postponed.lock().unwrap(),
            [("m2".to_owned(), 60)],
            "the retried one backs off; nothing else waits"
        );
        let parked = parking.parked.lock().unwrap();
        assert_eq!(parked.len(), 2, "the unreadable message and the poison");
        assert_eq!(parked[0].0, "not json");
        assert!(parked[0].1.starts_with("not an aTES event"));
        assert!(parked[1].0.contains("poison"));
        assert_eq!(parked[1].1, "payload cannot be read");
    }

    /// Security: any producer could publish `Account.*` events.
    #[tokio::test]
    async fn an_event_from_another_producer_than_its_own_is_parked_unhandled() {
        let parking = Recorder::default();
        let forged: SqsEvent = serde_json::from_value(serde_json::json!({"Records": [{
            "messageId": "f1",
            "body": serde_json::json!({"detail-type": "Account.Created", "source": "ates.tasks",
                "detail": {"id": uuid::Uuid::now_v7(), "name": "Account.Created", "version": 1,
                    "occurred_at": "2026-11-21T10:00:00Z", "producer": "tasks",
                    "correlation_id": "c", "data": {}}}).to_string()
        }]}))
        .unwrap();
        let handled = std::sync::atomic::AtomicBool::new(false);
        let response = consume_events(forged, &parking, |_| {
            handled.store(true, std::sync::atomic::Ordering::SeqCst);
            async { Ok(Outcome::Applied) }
        })
        .await;
        assert!(failures(&response).is_empty());
        assert!(
            !handled.load(std::sync::atomic::Ordering::SeqCst),
            "never handled"
        );
        let parked = parking.parked.lock().unwrap();
        assert!(parked[0].1.contains("comes only from auth"), "{parked:?}");
    }

    #[tokio::test]
    async fn poison_that_cannot_be_parked_is_delivered_again_rather_than_lost() {
        let parking = Recorder {
            refuse: true,
            ..Recorder::default()
        };
        let response = consume_events(batch(), &parking, handle).await;
        assert_eq!(failures(&response), ["m2", "m3", "m4"]);
    }

    #[tokio::test]
    async fn a_handler_is_told_which_delivery_is_the_last() {
        let mut first = message("m1", "ok");
        first["attributes"] = serde_json::json!({"ApproximateReceiveCount": "2"});
        let mut last = message("m2", "ok");
        last["attributes"] = serde_json::json!({"ApproximateReceiveCount": "5"});
        let event: SqsEvent =
            serde_json::from_value(serde_json::json!({"Records": [first, last]})).unwrap();
        let seen = Mutex::new(Vec::new());
        let response = consume_deliveries(event, 5, &Recorder::default(), |_, delivery| {
            seen.lock()
                .unwrap()
                .push((delivery.receive_count, delivery.is_last()));
            async { Err(ConsumeError::Retry("mail throttled".into())) }
        })
        .await;
        assert_eq!(failures(&response), ["m1", "m2"]);
        assert_eq!(*seen.lock().unwrap(), [(2, false), (5, true)]);
    }

    #[tokio::test]
    async fn unreadable_work_is_parked_and_the_rest_is_done() {
        let parking = Recorder::default();
        let event: SqsEvent = serde_json::from_value(serde_json::json!({"Records": [
            {"messageId": "w1", "body": "{\"page\": 1}"}, {"messageId": "w2", "body": "[]"}
        ]}))
        .unwrap();
        #[derive(Deserialize)]
        struct Work {
            page: u32,
        }
        let done = Mutex::new(Vec::new());
        let response = consume_work(event, &parking, |w: Work, _receive_count| {
            done.lock().unwrap().push(w.page);
            async { Ok(()) }
        })
        .await;
        assert!(failures(&response).is_empty());
        assert_eq!(*done.lock().unwrap(), [1]);
        assert_eq!(parking.parked.lock().unwrap()[0].0, "[]");
    }
}
