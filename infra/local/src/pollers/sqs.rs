//! SQS event source mappings: poll, invoke with a batch, delete what succeeded, dead-letter the rest.

use crate::aws::describe;
use crate::functions::SqsSource;
use crate::ledger::{delivery_key, Outcome};
use crate::provision::QueueInfo;
use crate::resolve::REGION;
use crate::stack::Stack;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Receives per message id, counted here because the emulator's ApproximateReceiveCount cannot be
/// trusted; shared by the pollers of one mapping.
pub type ReceiveCounts = Arc<Mutex<HashMap<String, u32>>>;

pub async fn run(stack: Arc<Stack>, function: String, source: SqsSource, receives: ReceiveCounts) {
    let Some(queue) = stack.resources.queue_by_arn(&source.queue_arn).cloned() else {
        tracing::error!(
            "{function}: queue {} is not in the template",
            source.queue_arn
        );
        return;
    };
    tracing::info!("{function} polls {}", queue.name);
    while !stack.is_shutting_down() {
        let received = stack
            .aws
            .sqs
            .receive_message()
            .queue_url(&queue.url)
            .max_number_of_messages(source.batch_size as i32)
            .wait_time_seconds(1)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await;
        let messages = match received {
            Ok(out) => out.messages.unwrap_or_default(),
            Err(e) => {
                tracing::warn!(
                    "{}",
                    describe(&format!("{function}: receive from {}", queue.name), e)
                );
                stack.pause(Duration::from_secs(1)).await;
                continue;
            }
        };
        if messages.is_empty() {
            continue;
        }
        deliver(&stack, &function, &source, &queue, messages, &receives).await;
    }
}

async fn deliver(
    stack: &Stack,
    function: &str,
    source: &SqsSource,
    queue: &QueueInfo,
    messages: Vec<Message>,
    receives: &ReceiveCounts,
) {
    let counts: Vec<u32> = match receives.lock() {
        Ok(mut receives) => messages
            .iter()
            .map(|m| {
                let count = receives
                    .entry(m.message_id().unwrap_or_default().to_string())
                    .or_insert(0);
                *count += 1;
                *count
            })
            .collect(),
        Err(_) => vec![1; messages.len()],
    };
    let records: Vec<Value> = messages
        .iter()
        .zip(&counts)
        .map(|(m, count)| lambda_record(m, *count, &queue.arn))
        .collect();
    let ids: Vec<String> = messages
        .iter()
        .map(|m| m.message_id().unwrap_or_default().to_string())
        .collect();

    stack.lambda.count_sqs_batch(function, records.len());
    let result = stack
        .lambda
        .invoke(function, &json!({"Records": records}))
        .await;
    let (failed, error): (HashSet<String>, Option<String>) = match &result {
        Err(e) => (ids.iter().cloned().collect(), Some(e.to_string())),
        Ok(answer) if source.report_batch_item_failures => match reported_failures(answer, &ids) {
            Ok(failed) => (failed, Some("reported as a batch item failure".into())),
            Err(why) => (ids.iter().cloned().collect(), Some(why)),
        },
        Ok(_) => (HashSet::new(), None),
    };
    if let Some(e) = &error {
        if !failed.is_empty() {
            tracing::info!(
                "{function}: {} of {} messages failed ({e})",
                failed.len(),
                ids.len()
            );
        }
    }

    let mut done = Vec::new();
    for (message, &count) in messages.iter().zip(&counts) {
        let id = message.message_id().unwrap_or_default();
        let key = delivery_key(message.body().unwrap_or_default(), id);
        if !failed.contains(id) {
            stack
                .ledger
                .record(function, &source.event_name, &key, id, Outcome::Ok);
            done.push(message);
            continue;
        }
        stack.ledger.record(
            function,
            &source.event_name,
            &key,
            id,
            Outcome::Failed(error.as_deref()),
        );
        match &queue.redrive {
            Some(redrive) if count >= redrive.max_receive_count => {
                match dead_letter(stack, queue, &redrive.dead_letter_arn, message).await {
                    Ok(dlq) => {
                        tracing::info!(
                            "{function}: message {id} failed {count} times; moved to {dlq}"
                        );
                        stack.ledger.mark_dead_lettered(function, &key);
                        done.push(message);
                    }
                    Err(e) => tracing::error!("{function}: cannot dead-letter {id}: {e}"),
                }
            }
            _ => retry_later(stack, queue, message).await,
        }
    }

    delete(stack, &queue.url, &done).await;
    if let Ok(mut receives) = receives.lock() {
        for message in done {
            receives.remove(message.message_id().unwrap_or_default());
        }
    }
}

/// `{"batchItemFailures": [{"itemIdentifier": messageId}]}`; an empty or unknown identifier fails the whole batch.
pub fn reported_failures(answer: &Value, ids: &[String]) -> Result<HashSet<String>, String> {
    let Some(items) = answer.get("batchItemFailures") else {
        return Ok(HashSet::new());
    };
    let Some(items) = items.as_array() else {
        return if items.is_null() {
            Ok(HashSet::new())
        } else {
            Err("batchItemFailures is not a list".into())
        };
    };
    items
        .iter()
        .map(
            |item| match item.get("itemIdentifier").and_then(Value::as_str) {
                Some(id) if ids.iter().any(|known| known == id) => Ok(id.to_string()),
                other => Err(format!(
                    "batch item failure names an unknown message {other:?}"
                )),
            },
        )
        .collect()
}

/// The Lambda SQS record; ApproximateReceiveCount is the stack's own count.
fn lambda_record(message: &Message, receive_count: u32, queue_arn: &str) -> Value {
    let mut attributes = Map::new();
    for (name, value) in message.attributes().into_iter().flatten() {
        attributes.insert(name.as_str().to_string(), Value::from(value.clone()));
    }
    attributes.insert(
        "ApproximateReceiveCount".into(),
        Value::from(receive_count.to_string()),
    );
    let message_attributes: Map<String, Value> = message
        .message_attributes()
        .into_iter()
        .flatten()
        .map(|(name, v)| {
            (
                name.clone(),
                json!({
                    "stringValue": v.string_value(),
                    "binaryValue": v.binary_value().map(|b| BASE64.encode(b.as_ref())),
                    "stringListValues": v.string_list_values(),
                    "binaryListValues": v.binary_list_values().iter().map(|b| BASE64.encode(b.as_ref())).collect::<Vec<_>>(),
                    "dataType": v.data_type(),
                }),
            )
        })
        .collect();
    json!({
        "messageId": message.message_id(),
        "receiptHandle": message.receipt_handle(),
        "body": message.body().unwrap_or_default(),
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": message.md5_of_body(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    })
}

/// Makes a failed message visible again soon: the queue's VisibilityTimeout, capped by the local retry delay.
async fn retry_later(stack: &Stack, queue: &QueueInfo, message: &Message) {
    // SQS counts visibility in whole seconds.
    let delay = stack.retry_delay.as_secs_f64().ceil() as u64;
    let seconds = delay.min(queue.visibility_timeout_secs) as i32;
    let changed = stack
        .aws
        .sqs
        .change_message_visibility()
        .queue_url(&queue.url)
        .receipt_handle(message.receipt_handle().unwrap_or_default())
        .visibility_timeout(seconds)
        .send()
        .await;
    if let Err(e) = changed {
        tracing::warn!("{}", describe("change message visibility", e));
    }
}

/// Sends a copy (body and attributes) to the dead-letter queue; the caller deletes the original.
pub async fn dead_letter(
    stack: &Stack,
    queue: &QueueInfo,
    dlq_arn: &str,
    message: &Message,
) -> Result<String, String> {
    let dlq = stack
        .resources
        .queue_by_arn(dlq_arn)
        .ok_or_else(|| format!("dead-letter queue {dlq_arn} is not in the template"))?;
    let mut send = stack
        .aws
        .sqs
        .send_message()
        .queue_url(&dlq.url)
        .message_body(message.body().unwrap_or_default())
        .set_message_attributes(message.message_attributes().cloned());
    if dlq.fifo {
        let group = message
            .attributes()
            .and_then(|a| a.get(&MessageSystemAttributeName::MessageGroupId))
            .cloned()
            .unwrap_or_else(|| queue.name.clone());
        send = send
            .message_group_id(group)
            .message_deduplication_id(message.message_id().unwrap_or_default());
    }
    send.send()
        .await
        .map_err(|e| describe("send to the dead-letter queue", e))?;
    Ok(dlq.name.clone())
}

pub async fn delete(stack: &Stack, queue_url: &str, messages: &[&Message]) {
    for chunk in messages.chunks(10) {
        let entries: Vec<_> = chunk
            .iter()
            .enumerate()
            .filter_map(|(i, m)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(m.receipt_handle().unwrap_or_default())
                    .build()
                    .ok()
            })
            .collect();
        if entries.is_empty() {
            continue;
        }
        let deleted = stack
            .aws
            .sqs
            .delete_message_batch()
            .queue_url(queue_url)
            .set_entries(Some(entries))
            .send()
            .await;
        if let Err(e) = deleted {
            tracing::warn!("{}", describe(&format!("delete from {queue_url}"), e));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_item_failures() {
        let ids = vec!["a".to_string(), "b".to_string()];
        assert!(reported_failures(&json!({}), &ids).unwrap().is_empty());
        assert!(reported_failures(&json!({"batchItemFailures": []}), &ids)
            .unwrap()
            .is_empty());
        assert!(reported_failures(&Value::Null, &ids).unwrap().is_empty());
        let one = reported_failures(
            &json!({"batchItemFailures": [{"itemIdentifier": "b"}]}),
            &ids,
        )
        .unwrap();
        assert_eq!(one, HashSet::from(["b".to_string()]));
        assert!(reported_failures(
            &json!({"batchItemFailures": [{"itemIdentifier": ""}]}),
            &ids
        )
        .is_err());
        assert!(reported_failures(
            &json!({"batchItemFailures": [{"itemIdentifier": "zzz"}]}),
            &ids
        )
        .is_err());
        assert!(reported_failures(&json!({"batchItemFailures": [{}]}), &ids).is_err());
    }
}
