//! Dead letters: which queues hold them, what they are, and sending them back.
//!
//! Three kinds of message end in the stack's dead-letter queues, told apart by the message:
//! - an event a consumer's queue gave up on (or its consumer parked at once, with its reason in
//!   the `ates-parked-reason` attribute): redriven to the queue whose RedrivePolicy names the
//!   dead-letter queue; the consumer's inbox makes a second delivery a no-op;
//! - an invocation's input that a schedule or an asynchronous invocation gave up on, with the
//!   function in its `TARGET_ARN` attribute: redriven by invoking that function with it again;
//! - a relay's failed stream batch (`DDBStreamBatchInfo`): its records are in the table, so it is
//!   republished with `outbox republish` from the batch's time, and left where it is here.

use crate::aws::{describe, Aws, Result};
use crate::progress::Progress;
use aws_sdk_sqs::types::{Message, MessageSystemAttributeName, QueueAttributeName};
use serde_json::Value;
use std::collections::HashMap;

/// The attribute a consumer writes when it parks poison (`ates_kernel::inbox::PARKED_REASON`).
use ates_kernel::inbox::PARKED_REASON;

/// A dead-letter queue of the stack and the queues that feed it.
struct DeadLetterQueue {
    name: String,
    url: String,
    depth: u64,
    /// (logical id or URL, URL) of each queue whose RedrivePolicy names it.
    sources: Vec<(String, String)>,
}

async fn attributes(aws: &Aws, url: &str) -> Result<HashMap<QueueAttributeName, String>> {
    let out = aws
        .sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .attribute_names(QueueAttributeName::RedrivePolicy)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .map_err(|e| describe(&format!("read the attributes of {url}"), e))?;
    Ok(out.attributes.unwrap_or_default())
}

fn depth(attributes: &HashMap<QueueAttributeName, String>) -> u64 {
    attributes
        .get(&QueueAttributeName::ApproximateNumberOfMessages)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Every dead-letter queue of the stack: a queue another one's RedrivePolicy names, or one
/// whose logical id says it is one (the on-failure queues of relays, schedules and functions).
async fn dead_letter_queues(aws: &Aws) -> Result<Vec<DeadLetterQueue>> {
    let queues = aws.of_kind("AWS::SQS::Queue").await?;
    let mut read = Vec::new();
    for (name, url) in queues {
        let attributes = attributes(aws, &url).await?;
        read.push((name, url, attributes));
    }
    let arn = |a: &HashMap<QueueAttributeName, String>| {
        a.get(&QueueAttributeName::QueueArn)
            .cloned()
            .unwrap_or_default()
    };
    let mut found = Vec::new();
    for (name, url, attributes) in &read {
        let sources: Vec<(String, String)> = read
            .iter()
            .filter(|(_, _, a)| {
                dead_letter_target(a).is_some_and(|target| target == arn(attributes))
            })
            .map(|(n, u, _)| (n.clone(), u.clone()))
            .collect();
        if !sources.is_empty() || name.ends_with("DeadLetters") {
            found.push(DeadLetterQueue {
                name: name.clone(),
                url: url.clone(),
                depth: depth(attributes),
                sources,
            });
        }
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

fn dead_letter_target(attributes: &HashMap<QueueAttributeName, String>) -> Option<String> {
    let policy: Value =
        serde_json::from_str(attributes.get(&QueueAttributeName::RedrivePolicy)?).ok()?;
    policy["deadLetterTargetArn"].as_str().map(str::to_string)
}

/// The dead-letter queue `queue` names: a logical id of the stack, or a queue URL (then the
/// stack is not read, and its sources are SQS's `ListDeadLetterSourceQueues`).
async fn find(aws: &Aws, queue: &str) -> Result<DeadLetterQueue> {
    if queue.starts_with("http://") || queue.starts_with("https://") {
        let depth = depth(&attributes(aws, queue).await?);
        let sources = aws
            .sqs
            .list_dead_letter_source_queues()
            .queue_url(queue)
            .send()
            .await
            .map_err(|e| describe(&format!("list the sources of {queue}"), e))?
            .queue_urls
            .into_iter()
            .map(|u| (u.clone(), u))
            .collect();
        return Ok(DeadLetterQueue {
            name: queue.to_string(),
            url: queue.to_string(),
            depth,
            sources,
        });
    }
    dead_letter_queues(aws)
        .await?
        .into_iter()
        .find(|q| q.name == queue)
        .ok_or_else(|| {
            format!(
                "{queue} is not a dead-letter queue of the stack {} (ates-ops dlq list)",
                aws.stack
            )
        })
}

pub async fn list(aws: &Aws) -> Result<()> {
    let queues = dead_letter_queues(aws).await?;
    let width = queues
        .iter()
        .map(|q| q.name.len())
        .max()
        .unwrap_or(5)
        .max(5);
    println!("{:width$}  {:>8}  REDRIVES TO", "QUEUE", "MESSAGES");
    for q in &queues {
        let to = match q.sources.as_slice() {
            [] => "(its messages' function, or outbox republish)".to_string(),
            sources => sources
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        };
        println!("{:width$}  {:>8}  {to}", q.name, q.depth);
    }
    let parked: u64 = queues.iter().map(|q| q.depth).sum();
    eprintln!("{} dead-letter queues, {parked} messages", queues.len());
    Ok(())
}

/// Up to `max` messages, received (hidden for a while) so that they can be read or taken.
async fn receive(aws: &Aws, url: &str, max: usize, hide_seconds: i32) -> Result<Vec<Message>> {
    let mut seen: Vec<Message> = Vec::new();
    while seen.len() < max {
        let want = (max - seen.len()).min(10) as i32;
        let batch = aws
            .sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(want)
            .visibility_timeout(hide_seconds)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(|e| describe(&format!("receive from {url}"), e))?
            .messages
            .unwrap_or_default();
        if batch.is_empty() {
            break;
        }
        for m in batch {
            if !seen.iter().any(|s| s.message_id() == m.message_id()) {
                seen.push(m);
            }
        }
    }
    Ok(seen)
}

/// Makes received messages visible again at once.
async fn release(aws: &Aws, url: &str, messages: &[Message]) {
    for m in messages {
        let _ = aws
            .sqs
            .change_message_visibility()
            .queue_url(url)
            .receipt_handle(m.receipt_handle().unwrap_or_default())
            .visibility_timeout(0)
            .send()
            .await;
    }
}

fn attribute<'a>(message: &'a Message, name: &str) -> Option<&'a str> {
    message.message_attributes()?.get(name)?.string_value()
}

/// What a dead letter is: (kind, id, why), read from its body and attributes.
fn describe_message(message: &Message) -> (String, String, String) {
    let body: Value = serde_json::from_str(message.body().unwrap_or_default()).unwrap_or_default();
    let reason = attribute(message, PARKED_REASON)
        .or_else(|| attribute(message, "ERROR_MESSAGE"))
        .or_else(|| attribute(message, "ErrorMessage"))
        .or_else(|| body["requestContext"]["condition"].as_str())
        .unwrap_or("-")
        .to_string();
    if let Some(kind) = body["detail-type"].as_str() {
        let id = body["detail"]["id"].as_str().unwrap_or("-");
        return (kind.to_string(), id.to_string(), reason);
    }
    if let Some(batch) = body.get("DDBStreamBatchInfo") {
        let id = format!(
            "{}..{} (first record {})",
            batch["startSequenceNumber"].as_str().unwrap_or("?"),
            batch["endSequenceNumber"].as_str().unwrap_or("?"),
            batch["approximateArrivalOfFirstRecord"]
                .as_str()
                .unwrap_or("?")
        );
        return ("stream batch".into(), id, reason);
    }
    if let Some(target) = attribute(message, "TARGET_ARN") {
        let function = target.rsplit(':').next().unwrap_or(target);
        return (format!("input of {function}"), "-".into(), reason);
    }
    (
        "message".into(),
        message.message_id().unwrap_or("-").to_string(),
        reason,
    )
}

fn sent_at(message: &Message) -> String {
    message
        .attributes()
        .and_then(|a| a.get(&MessageSystemAttributeName::SentTimestamp))
        .and_then(|t| t.parse::<i64>().ok())
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| "-".into())
}

pub async fn show(aws: &Aws, queue: &str, max: usize) -> Result<()> {
    let dlq = find(aws, queue).await?;
    let messages = receive(aws, &dlq.url, max, 30).await?;
    release(aws, &dlq.url, &messages).await;
    println!(
        "SENT                  KIND                     ID                                    WHY"
    );
    for m in &messages {
        let (kind, id, reason) = describe_message(m);
        println!("{}  {kind:24} {id:37} {reason}", sent_at(m));
    }
    eprintln!(
        "{}: {} messages shown of about {}",
        dlq.name,
        messages.len(),
        dlq.depth
    );
    Ok(())
}

/// Where one dead letter goes back to.
enum Back<'a> {
    Queue(&'a str),
    Function(String),
    /// Not redriven here; why.
    Stays(&'static str),
}

fn back_to<'a>(dlq: &'a DeadLetterQueue, message: &Message) -> Back<'a> {
    if let [(_, url)] = dlq.sources.as_slice() {
        return Back::Queue(url);
    }
    if !dlq.sources.is_empty() {
        return Back::Stays("fed by several queues: give one's URL to redrive from");
    }
    if let Some(target) = attribute(message, "TARGET_ARN") {
        return Back::Function(target.to_string());
    }
    if message
        .body()
        .unwrap_or_default()
        .contains("DDBStreamBatchInfo")
    {
        return Back::Stays("a relay's failed batch: ates-ops outbox republish from its time");
    }
    Back::Stays("no source queue and no function to send it back to")
}

pub async fn redrive(aws: &Aws, queue: &str, max: usize) -> Result<()> {
    let dlq = find(aws, queue).await?;
    // Only what is there now: a message parked again while this runs waits for the next run.
    let bound = (dlq.depth as usize).min(max);
    let verb = if aws.dry_run {
        "would redrive"
    } else {
        "redriven"
    };
    let mut progress = Progress::new(&format!("{}: {verb}", dlq.name), Some(bound as u64));
    let mut left: Vec<Message> = Vec::new();
    let mut why_left: Vec<&str> = Vec::new();
    let mut taken = 0;
    let mut moved = 0;
    while taken < bound {
        let batch = receive(aws, &dlq.url, (bound - taken).min(10), 60).await?;
        if batch.is_empty() {
            break;
        }
        taken += batch.len();
        for message in batch {
            let back = back_to(&dlq, &message);
            if let Back::Stays(why) = back {
                why_left.push(why);
                left.push(message);
                continue;
            }
            if !aws.dry_run {
                send_back(aws, &back, &message).await?;
                aws.sqs
                    .delete_message()
                    .queue_url(&dlq.url)
                    .receipt_handle(message.receipt_handle().unwrap_or_default())
                    .send()
                    .await
                    .map_err(|e| describe("delete a redriven message", e))?;
            } else {
                left.push(message);
            }
            moved += 1;
            progress.add(1);
        }
    }
    progress.finish();
    release(aws, &dlq.url, &left).await;
    why_left.sort_unstable();
    why_left.dedup();
    let to = match dlq.sources.as_slice() {
        [(name, _)] => name.as_str(),
        _ => "their functions",
    };
    println!("{}: {verb} {moved} to {to}", dlq.name);
    let stayed = if aws.dry_run {
        left.len() - moved
    } else {
        left.len()
    };
    if stayed > 0 {
        println!("{stayed} left in place: {}", why_left.join("; "));
    }
    Ok(())
}

async fn send_back(aws: &Aws, back: &Back<'_>, message: &Message) -> Result<()> {
    let body = message.body().unwrap_or_default();
    match back {
        Back::Queue(url) => {
            // Its parked reason stays behind: a consumer that parks it again says why anew.
            let attributes = message.message_attributes().map(|a| {
                a.iter()
                    .filter(|(k, _)| k.as_str() != PARKED_REASON)
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect::<HashMap<_, _>>()
            });
            aws.sqs
                .send_message()
                .queue_url(*url)
                .message_body(body)
                .set_message_attributes(attributes.filter(|a| !a.is_empty()))
                .send()
                .await
                .map_err(|e| describe(&format!("send back to {url}"), e))?;
        }
        Back::Function(function) => {
            let payload: Value = serde_json::from_str(body).unwrap_or(Value::String(body.into()));
            aws.invoke(function, &payload).await?;
        }
        Back::Stays(_) => {}
    }
    Ok(())
}
