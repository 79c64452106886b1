//! Idempotent consumption. Events arrive from EventBridge through an SQS queue, at least once
//! and in any order. A consumer commits its effect together with an inbox record keyed by the
//! event id, in one transaction; a second delivery finds the record and changes nothing.
//! Failed messages are reported one by one (`ReportBatchItemFailures`), so SQS retries only
//! those, and after `maxReceiveCount` moves them to the queue's dead-letter queue.

use std::collections::HashMap;
use std::future::Future;

use aws_sdk_dynamodb::types::TransactWriteItem;
use serde::Deserialize;

use crate::dynamo::{n, s, transact, StoreError};
use crate::event::Envelope;
use crate::outbox::BatchResponse;

/// Longer than SQS keeps a message (14 days), so no duplicate outlives its inbox record.
const RETENTION_SECONDS: i64 = 30 * 24 * 3600;

/// The inbox record that makes `consumer`'s handling of `envelope` happen once.
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

/// What became of one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The effect and the inbox record were committed.
    Applied,
    /// This event was handled before; nothing changed.
    Duplicate,
    /// The effect's own condition failed (a newer state is already there): nothing changed,
    /// and nothing needs to.
    Superseded,
}

/// Commits `effect` and the inbox record for `envelope` in one transaction.
pub async fn commit(
    db: &aws_sdk_dynamodb::Client,
    table: &str,
    consumer: &str,
    envelope: &Envelope,
    mut effect: Vec<TransactWriteItem>,
) -> Result<Outcome, StoreError> {
    effect.push(record(table, consumer, envelope));
    let inbox_index = effect.len() - 1;
    match transact(db, effect).await? {
        Ok(()) => Ok(Outcome::Applied),
        Err(c) if c.failed_at(inbox_index) => Ok(Outcome::Duplicate),
        Err(c) if c.any_failed() => Ok(Outcome::Superseded),
        Err(c) => Err(c.into()),
    }
}

/// The part of Lambda's SQS event a consumer reads.
#[derive(Debug, Deserialize)]
pub struct SqsEvent {
    #[serde(rename = "Records", default)]
    pub records: Vec<SqsMessage>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SqsMessage {
    pub message_id: String,
    #[serde(default)]
    pub body: String,
}

/// An EventBridge event as a rule delivers it to SQS; `detail` is our envelope.
#[derive(Debug, Deserialize)]
struct BusEvent {
    detail: Envelope,
}

#[derive(Debug, thiserror::Error)]
pub enum ConsumeError {
    /// Retrying may help (a throttled or unreachable table).
    #[error("temporary failure: {0}")]
    Retry(String),
    /// The message can never be handled; it goes to the dead-letter queue after its retries.
    #[error("unprocessable event: {0}")]
    Poison(String),
}

impl From<StoreError> for ConsumeError {
    fn from(e: StoreError) -> Self {
        ConsumeError::Retry(e.to_string())
    }
}

/// Handles every message of a batch and reports the ones that failed.
pub async fn consume_batch<F, Fut>(event: SqsEvent, handle: F) -> BatchResponse
where
    F: Fn(Envelope) -> Fut,
    Fut: Future<Output = Result<Outcome, ConsumeError>>,
{
    let mut failed = Vec::new();
    for message in event.records {
        let envelope = match serde_json::from_str::<BusEvent>(&message.body) {
            Ok(bus_event) => bus_event.detail,
            Err(e) => {
                tracing::error!(message_id = %message.message_id, error = %e, "message is not an aTES event");
                failed.push(message.message_id);
                continue;
            }
        };
        let (id, name, correlation_id) = (
            envelope.id,
            envelope.name.clone(),
            envelope.correlation_id.clone(),
        );
        match handle(envelope).await {
            Ok(outcome) => {
                tracing::info!(event_id = %id, event = %name, %correlation_id, outcome = ?outcome, "event consumed")
            }
            Err(e) => {
                tracing::warn!(event_id = %id, event = %name, %correlation_id, error = %e, "event not consumed");
                failed.push(message.message_id);
            }
        }
    }
    BatchResponse::failed(failed)
}

/// Handles a batch of a context's own work items (JSON bodies, not events) and reports the ones
/// that failed. Work handlers are idempotent themselves (see [`crate::outbox::work`]).
pub async fn work_batch<T, F, Fut>(event: SqsEvent, handle: F) -> BatchResponse
where
    T: serde::de::DeserializeOwned,
    F: Fn(T) -> Fut,
    Fut: Future<Output = Result<(), ConsumeError>>,
{
    let mut failed = Vec::new();
    for message in event.records {
        let result = match serde_json::from_str::<T>(&message.body) {
            Ok(work) => handle(work).await,
            Err(e) => Err(ConsumeError::Poison(e.to_string())),
        };
        if let Err(e) = result {
            tracing::warn!(message_id = %message.message_id, error = %e, "work not done");
            failed.push(message.message_id);
        }
    }
    BatchResponse::failed(failed)
}

/// A work handler, boxed (see [`crate::http::Handler`] for why): it gets the item's JSON body.
pub type WorkHandler =
    Box<dyn Fn(serde_json::Value) -> crate::BoxFuture<Result<(), ConsumeError>> + Send + Sync>;

/// The whole worker function: what a context's work-queue binary runs.
pub async fn run_worker(handle: WorkHandler) -> Result<(), lambda_runtime::Error> {
    let handle = &handle;
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<SqsEvent>| async move {
            Ok::<_, lambda_runtime::Error>(work_batch(event.payload, handle).await)
        },
    ))
    .await
}

/// An event handler, boxed (see [`crate::http::Handler`] for why).
pub type EventHandler =
    Box<dyn Fn(Envelope) -> crate::BoxFuture<Result<Outcome, ConsumeError>> + Send + Sync>;

/// The whole consumer function: what a context's consumer binary runs.
pub async fn run_consumer(handle: EventHandler) -> Result<(), lambda_runtime::Error> {
    let handle = &handle;
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<SqsEvent>| async move {
            Ok::<_, lambda_runtime::Error>(consume_batch(event.payload, handle).await)
        },
    ))
    .await
}

/// A directly invoked function (an operator's command), boxed: JSON in, JSON out.
pub type InvokeHandler = Box<
    dyn Fn(serde_json::Value) -> crate::BoxFuture<Result<serde_json::Value, lambda_runtime::Error>>
        + Send
        + Sync,
>;

/// The whole directly invoked function.
pub async fn run_invoked(handle: InvokeHandler) -> Result<(), lambda_runtime::Error> {
    let handle = &handle;
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<serde_json::Value>| handle(event.payload),
    ))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[tokio::test]
    async fn only_the_failed_messages_of_a_batch_are_reported() {
        let event: SqsEvent = serde_json::from_value(serde_json::json!({"Records": [
            message("m1", "ok"), message("m2", "boom"), {"messageId": "m3", "body": "not json"}, message("m4", "ok")
        ]}))
        .unwrap();
        let response = consume_batch(event, |e: Envelope| async move {
            if e.correlation_id == "boom" {
                Err(ConsumeError::Retry("table unavailable".into()))
            } else {
                Ok(Outcome::Applied)
            }
        })
        .await;
        assert_eq!(
            response,
            BatchResponse::failed(["m2".to_owned(), "m3".to_owned()])
        );
    }
}
