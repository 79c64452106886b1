//! The local-only endpoints under /_local: inspect the stack, invoke functions, publish and replay events.

use crate::aws::describe;
use crate::functions::route_key;
use crate::lambda::InvokeError;
use crate::moto;
use crate::pollers::streams;
use crate::scheduler;
use crate::stack::Stack;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use aws_sdk_sqs::types::{Message, MessageSystemAttributeName};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

pub fn router() -> Router<Arc<Stack>> {
    Router::new()
        .route("/info", get(info))
        .route("/functions/{name}/invoke", post(invoke))
        .route("/events", get(events).post(publish))
        .route("/deliveries", get(deliveries))
        .route("/aws-calls", get(aws_calls).delete(reset_aws_calls))
        .route("/iam-denials", get(iam_denials))
        .route("/dead-letters", get(dead_letters))
        .route("/dead-letters/{queue}/redrive", post(redrive))
        .route("/mail", get(mail))
        .route("/schedules/{function}/{event}/fire", post(fire_schedule))
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({"message": message.into()}))).into_response()
}

fn invoke_error(e: &InvokeError) -> Response {
    let status = if e.error_type == "ResourceNotFoundException" {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    };
    (status, Json(json!(e))).into_response()
}

async fn info(State(stack): State<Arc<Stack>>) -> Json<Value> {
    let mut started = BTreeMap::new();
    for spec in stack.lambda.specs() {
        let (instances, most) = stack.lambda.instances(&spec.logical_id).await;
        started.insert(
            spec.logical_id.clone(),
            json!({"started": instances, "most": most}),
        );
    }
    let functions: Vec<Value> = stack
        .lambda
        .specs()
        .map(|spec| {
            json!({
                "instances": started[&spec.logical_id],
                "name": spec.logical_id,
                "binary": spec.binary,
                "built": stack.lambda.executable(&spec.logical_id).is_some_and(|p| p.is_file()),
                "routes": spec.routes.iter().map(route_key).collect::<Vec<_>>(),
                "sqs": spec.sqs_sources.iter().map(|s| &s.queue_arn).collect::<Vec<_>>(),
                "streams": spec.stream_sources.iter().map(|s| &s.stream_arn).collect::<Vec<_>>(),
                "schedules": spec.schedules.iter().map(|s| json!({"event": s.event_name, "expression": s.expression})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let queues: Vec<Value> = stack
        .resources
        .queues
        .values()
        .map(|q| {
            json!({
                "logical_id": q.logical_id, "name": q.name, "url": q.url, "arn": q.arn,
                "dead_letter_arn": q.redrive.as_ref().map(|r| &r.dead_letter_arn),
                "max_receive_count": q.redrive.as_ref().map(|r| r.max_receive_count),
            })
        })
        .collect();
    let tables: Vec<Value> = stack
        .resources
        .tables
        .values()
        .map(|t| json!({"logical_id": t.logical_id, "name": t.name, "stream_arn": t.stream_arn}))
        .collect();
    Json(json!({
        "api_url": stack.api_url,
        "aws_endpoint": stack.aws_endpoint,
        "functions": functions,
        "queues": queues,
        "tables": tables,
        "buses": stack.resources.buses,
        "secrets": stack.resources.secrets,
        "web_dir": stack.site.as_ref().map(|s| s.dir()),
    }))
}

async fn invoke(
    State(stack): State<Arc<Stack>>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let payload: Value = if body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("the payload is not JSON: {e}"),
                )
            }
        }
    };
    match stack.lambda.invoke(&name, &payload).await {
        Ok(answer) => Json(answer).into_response(),
        Err(e) => invoke_error(&e),
    }
}

async fn events(
    State(stack): State<Arc<Stack>>,
    Query(filter): Query<HashMap<String, String>>,
) -> Json<Value> {
    let seen = stack.events.lock().map(|e| e.clone()).unwrap_or_default();
    let wanted = |event: &Value, key: &str| {
        filter
            .get(key)
            .is_none_or(|want| event[key].as_str() == Some(want))
    };
    Json(Value::Array(
        seen.into_iter()
            .filter(|e| wanted(e, "source") && wanted(e, "detail-type"))
            .collect(),
    ))
}

/// Puts `{"source", "detail-type", "detail"}` (or a list of them) on the bus.
async fn publish(State(stack): State<Arc<Stack>>, body: axum::body::Bytes) -> Response {
    // Any content type: tests and curl rarely bother to say application/json.
    let body: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("the body is not JSON: {e}"),
            )
        }
    };
    let items = match body {
        Value::Array(items) => items,
        single => vec![single],
    };
    let mut entries = Vec::new();
    for item in &items {
        let field = |k: &str| item.get(k).and_then(Value::as_str);
        let (Some(source), Some(detail_type)) = (field("source"), field("detail-type")) else {
            return error(
                StatusCode::BAD_REQUEST,
                "each event needs source and detail-type",
            );
        };
        let detail = match item.get("detail") {
            Some(Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
            None => "{}".into(),
        };
        let bus = field("event-bus")
            .or(field("EventBusName"))
            .map(str::to_string)
            .unwrap_or_else(|| stack.resources.default_bus());
        let resources = item.get("resources").and_then(Value::as_array).map(|r| {
            r.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        });
        entries.push(
            PutEventsRequestEntry::builder()
                .source(source)
                .detail_type(detail_type)
                .detail(detail)
                .event_bus_name(bus)
                .set_resources(resources)
                .build(),
        );
    }
    let mut ids = Vec::new();
    let mut failed = 0;
    for chunk in entries.chunks(10) {
        match stack
            .aws
            .events
            .put_events()
            .set_entries(Some(chunk.to_vec()))
            .send()
            .await
        {
            Ok(out) => {
                failed += out.failed_entry_count();
                ids.extend(out.entries().iter().map(|e| json!(e.event_id())));
            }
            Err(e) => return error(StatusCode::BAD_GATEWAY, describe("put events", e)),
        }
    }
    Json(json!({"event_ids": ids, "failed": failed})).into_response()
}

async fn deliveries(State(stack): State<Arc<Stack>>) -> Json<Value> {
    Json(stack.ledger.snapshot())
}

/// The counts; with `?units`, `{"calls": <the counts>, "units": <AwsCalls::units>, "lambda":
/// <Lambda::usage>}`: what pricing needs (`ates-bench cost`).
async fn aws_calls(
    State(stack): State<Arc<Stack>>,
    Query(query): Query<HashMap<String, String>>,
) -> Json<Value> {
    if query.contains_key("units") {
        return Json(json!({
            "calls": stack.aws_calls.snapshot(),
            "units": stack.aws_calls.units(),
            "lambda": stack.lambda.usage(),
        }));
    }
    Json(stack.aws_calls.snapshot())
}

/// Every AWS call a function's IAM policy refused (`iam`), oldest first.
async fn iam_denials(State(stack): State<Arc<Stack>>) -> Json<Value> {
    Json(stack.aws_calls.denials())
}

async fn reset_aws_calls(State(stack): State<Arc<Stack>>) -> StatusCode {
    stack.aws_calls.reset();
    StatusCode::NO_CONTENT
}

/// What sends failures to a dead-letter queue, and so how its messages are redriven.
#[derive(Debug, Clone, Copy, PartialEq)]
enum DeadLetterKind {
    /// A RedrivePolicy's target: messages go back to the source queue.
    Queue,
    /// A stream mapping's OnFailure destination: failure records, whose batches are read again from
    /// the stream and replayed as `{"Records": ...}`.
    StreamFailures,
    /// A function's DeadLetterQueue (its failed asynchronous invocations) or a ScheduleV2's
    /// DeadLetterConfig: invocation payloads, replayed to the function unchanged.
    Invocation,
}

impl DeadLetterKind {
    fn name(self) -> &'static str {
        match self {
            DeadLetterKind::Queue => "queue",
            DeadLetterKind::StreamFailures => "stream",
            DeadLetterKind::Invocation => "invocation",
        }
    }
}

/// A queue that receives failures: some RedrivePolicy's target, some stream mapping's OnFailure,
/// some function's DeadLetterQueue or some schedule's DeadLetterConfig.
struct DeadLetterQueue {
    logical_id: String,
    url: String,
    /// Every (kind, source queue or function) that sends failures here.
    feeds: Vec<(DeadLetterKind, String)>,
}

impl DeadLetterQueue {
    fn fed_by(&self, kinds: &[DeadLetterKind]) -> Vec<&str> {
        self.feeds
            .iter()
            .filter(|(k, _)| kinds.contains(k))
            .map(|(_, from)| from.as_str())
            .collect()
    }

    /// Its one kind; a queue fed in two ways holds messages redrive cannot tell apart.
    fn kind(&self) -> Result<DeadLetterKind, String> {
        let first = self.feeds[0].0;
        match self.feeds.iter().find(|(k, _)| *k != first) {
            None => Ok(first),
            Some((other, _)) => Err(format!(
                "{} is the dead-letter queue of both a {} and a {}",
                self.logical_id,
                first.name(),
                other.name()
            )),
        }
    }
}

fn dead_letter_queues(stack: &Stack) -> BTreeMap<String, DeadLetterQueue> {
    // (dead-letter ARN, kind, source queue or function) for every RedrivePolicy, every OnFailure,
    // every function's DeadLetterQueue and every schedule's DeadLetterConfig.
    let mut links: Vec<(String, DeadLetterKind, String)> = Vec::new();
    for queue in stack.resources.queues.values() {
        if let Some(r) = &queue.redrive {
            links.push((
                r.dead_letter_arn.clone(),
                DeadLetterKind::Queue,
                queue.logical_id.clone(),
            ));
        }
    }
    for spec in stack.lambda.specs() {
        for source in &spec.stream_sources {
            if let Some(arn) = &source.on_failure_arn {
                links.push((
                    arn.clone(),
                    DeadLetterKind::StreamFailures,
                    spec.logical_id.clone(),
                ));
            }
        }
        let parked = spec.schedules.iter().map(|s| &s.dead_letter_arn);
        for arn in parked.chain([&spec.asynchronous.dead_letter_arn]).flatten() {
            links.push((
                arn.clone(),
                DeadLetterKind::Invocation,
                spec.logical_id.clone(),
            ));
        }
    }
    let mut all: BTreeMap<String, DeadLetterQueue> = BTreeMap::new();
    for (arn, kind, from) in links {
        let Some(queue) = stack.resources.queue_by_arn(&arn) else {
            continue;
        };
        let dlq = all
            .entry(queue.logical_id.clone())
            .or_insert_with(|| DeadLetterQueue {
                logical_id: queue.logical_id.clone(),
                url: queue.url.clone(),
                feeds: Vec::new(),
            });
        if !dlq.feeds.contains(&(kind, from.clone())) {
            dlq.feeds.push((kind, from));
        }
    }
    all
}

/// Receives everything visible (hiding it briefly), so the caller can peek at or take all of it.
async fn receive_all(stack: &Stack, url: &str) -> Result<Vec<Message>, String> {
    let mut seen: BTreeMap<String, Message> = BTreeMap::new();
    for _ in 0..100 {
        let out = stack
            .aws
            .sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .visibility_timeout(30)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(|e| describe("receive dead letters", e))?;
        let batch = out.messages.unwrap_or_default();
        if batch.is_empty() {
            break;
        }
        for m in batch {
            seen.insert(m.message_id().unwrap_or_default().to_string(), m);
        }
    }
    let mut messages: Vec<Message> = seen.into_values().collect();
    messages.sort_by_key(|m| {
        m.attributes()
            .and_then(|a| a.get(&MessageSystemAttributeName::SentTimestamp))
            .and_then(|t| t.parse::<u64>().ok())
            .unwrap_or_default()
    });
    Ok(messages)
}

async fn make_visible(stack: &Stack, url: &str, messages: &[Message]) {
    for m in messages {
        let _ = stack
            .aws
            .sqs
            .change_message_visibility()
            .queue_url(url)
            .receipt_handle(m.receipt_handle().unwrap_or_default())
            .visibility_timeout(0)
            .send()
            .await;
    }
}

async fn dead_letters(State(stack): State<Arc<Stack>>) -> Response {
    let mut out = Vec::new();
    for dlq in dead_letter_queues(&stack).into_values() {
        let messages = match receive_all(&stack, &dlq.url).await {
            Ok(m) => m,
            Err(e) => return error(StatusCode::BAD_GATEWAY, e),
        };
        make_visible(&stack, &dlq.url, &messages).await;
        let shown: Vec<Value> = messages
            .iter()
            .map(|m| {
                let body = m.body().unwrap_or_default();
                json!({
                    "messageId": m.message_id(),
                    "body": serde_json::from_str::<Value>(body).unwrap_or_else(|_| json!(body)),
                    "messageAttributes": m.message_attributes().map(|a| {
                        a.iter().map(|(k, v)| (k.clone(), json!(v.string_value()))).collect::<BTreeMap<_, _>>()
                    }),
                })
            })
            .collect();
        out.push(json!({
            "queue": dlq.logical_id,
            "url": dlq.url,
            "kind": dlq.kind().map_or("mixed", DeadLetterKind::name),
            "source_queues": dlq.fed_by(&[DeadLetterKind::Queue]),
            "on_failure_of": dlq.fed_by(&[DeadLetterKind::StreamFailures, DeadLetterKind::Invocation]),
            "count": shown.len(),
            "messages": shown,
        }));
    }
    Json(Value::Array(out)).into_response()
}

/// Moves a dead-letter queue's messages back: to the source queue, or (for a stream's on-failure
/// queue or an invocation's dead-letter queue) straight to the function.
async fn redrive(State(stack): State<Arc<Stack>>, Path(queue): Path<String>) -> Response {
    let Some(dlq) = dead_letter_queues(&stack).remove(&queue) else {
        return error(
            StatusCode::NOT_FOUND,
            format!("{queue} is not a dead-letter queue of the template"),
        );
    };
    let kind = match dlq.kind() {
        Ok(kind) => kind,
        Err(e) => return error(StatusCode::CONFLICT, e),
    };
    let messages = match receive_all(&stack, &dlq.url).await {
        Ok(m) => m,
        Err(e) => return error(StatusCode::BAD_GATEWAY, e),
    };
    let mut redriven = Vec::new();
    let mut failed = Vec::new();
    for message in &messages {
        let result = match kind {
            DeadLetterKind::Queue => send_back(&stack, dlq.feeds[0].1.as_str(), message).await,
            DeadLetterKind::StreamFailures => replay_records(&stack, &dlq, message).await,
            DeadLetterKind::Invocation => replay_input(&stack, &dlq, message).await,
        };
        match result {
            Ok(()) => redriven.push(message),
            Err(e) => {
                tracing::warn!("redrive of {:?} failed: {e}", message.message_id());
                failed.push(message.clone());
            }
        }
    }
    crate::pollers::sqs::delete(&stack, &dlq.url, &redriven).await;
    make_visible(&stack, &dlq.url, &failed).await;
    Json(json!({
        "queue": dlq.logical_id,
        "to": dlq.feeds[0].1,
        "redriven": redriven.len(),
        "failed": failed.len(),
    }))
    .into_response()
}

async fn send_back(stack: &Stack, source: &str, message: &Message) -> Result<(), String> {
    let queue = stack
        .resources
        .queues
        .get(source)
        .ok_or_else(|| format!("no queue {source}"))?;
    stack
        .aws
        .sqs
        .send_message()
        .queue_url(&queue.url)
        .message_body(message.body().unwrap_or_default())
        .set_message_attributes(message.message_attributes().cloned())
        .send()
        .await
        .map(|_| ())
        .map_err(|e| describe("send back to the source queue", e))
}

/// The function an ARN names (`...:function:Name`), or else the queue's first function.
fn function_of(arn: Option<&str>, dlq: &DeadLetterQueue) -> Result<String, String> {
    arn.and_then(|arn| arn.rsplit(':').next())
        .map(str::to_string)
        .or_else(|| dlq.feeds.first().map(|(_, f)| f.clone()))
        .ok_or_else(|| "no function to replay to".into())
}

async fn replay_records(
    stack: &Stack,
    dlq: &DeadLetterQueue,
    message: &Message,
) -> Result<(), String> {
    let body: Value =
        serde_json::from_str(message.body().unwrap_or_default()).map_err(|e| e.to_string())?;
    let info = body
        .get("DDBStreamBatchInfo")
        .ok_or("the failure record has no DDBStreamBatchInfo")?;
    let function = function_of(
        body.pointer("/requestContext/functionArn")
            .and_then(Value::as_str),
        dlq,
    )?;
    let stream_arn = info.get("streamArn").and_then(Value::as_str);
    let source = stack
        .lambda
        .spec(&function)
        .and_then(|spec| {
            spec.stream_sources
                .iter()
                .find(|s| Some(s.stream_arn.as_str()) == stream_arn)
        })
        .ok_or_else(|| format!("{function} reads no stream {stream_arn:?}"))?;
    let records = streams::failed_batch(stack, info, &source.filters).await?;
    let expected = info.get("batchSize").and_then(Value::as_u64);
    if expected != Some(records.len() as u64) {
        tracing::warn!(
            "{function}: the failed batch had {expected:?} records, the stream now gives {}",
            records.len()
        );
    }
    if records.is_empty() {
        return Err("no records of the failed batch are left to replay".into());
    }
    let answer = stack
        .lambda
        .invoke(&function, &json!({"Records": records}))
        .await
        .map_err(|e| e.to_string())?;
    let failures = answer
        .get("batchItemFailures")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    if failures > 0 {
        return Err(format!("{function} still reports {failures} failures"));
    }
    Ok(())
}

/// An invocation's dead letter is its payload; the function (the scheduler's TARGET_ARN, or the
/// queue's function) gets it again.
async fn replay_input(
    stack: &Stack,
    dlq: &DeadLetterQueue,
    message: &Message,
) -> Result<(), String> {
    let target = message
        .message_attributes()
        .and_then(|a| a.get("TARGET_ARN"))
        .and_then(|v| v.string_value());
    let function = function_of(target, dlq)?;
    let payload = scheduler::payload(message.body().unwrap_or_default());
    stack
        .lambda
        .invoke(&function, &payload)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

async fn mail(State(stack): State<Arc<Stack>>) -> Response {
    // moto dumps every service's state for this read, while the stack's functions and pollers
    // change it: a dump that meets a change answers 500 (seen once in CI). Read again, briefly.
    let mut read = moto::get_json(&stack.aws_endpoint, "/moto-api/data.json").await;
    for _ in 0..4 {
        if read.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        read = moto::get_json(&stack.aws_endpoint, "/moto-api/data.json").await;
    }
    match read {
        Ok(data) => Json(Value::Array(moto::sent_mail(&data))).into_response(),
        Err(e) => error(
            StatusCode::BAD_GATEWAY,
            format!("cannot read the emulator's mail: {e}"),
        ),
    }
}

/// Fires a schedule at `?at=` (RFC 3339; default now): one attempt, answered with its payload and
/// response. `?retries=true` instead delivers it in the background exactly as the timer does
/// (retries, then the dead-letter queue) and answers 202 at once.
async fn fire_schedule(
    State(stack): State<Arc<Stack>>,
    Path((function, event)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(spec) = stack.lambda.spec(&function) else {
        return error(StatusCode::NOT_FOUND, format!("no function {function}"));
    };
    let Some(schedule) = spec.schedules.iter().find(|s| s.event_name == event) else {
        return error(
            StatusCode::NOT_FOUND,
            format!("{function} has no schedule {event}"),
        );
    };
    let at = match query.get("at") {
        None => Utc::now(),
        // An unencoded `+03:00` arrives as ` 03:00`.
        Some(at) => match DateTime::parse_from_rfc3339(&at.replace(' ', "+")) {
            Ok(at) => at.with_timezone(&Utc),
            Err(e) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("at={at} is not an RFC 3339 time: {e}"),
                )
            }
        },
    };
    match query.get("retries").map(String::as_str) {
        None | Some("false") => {}
        Some("true") => {
            tokio::spawn(scheduler::deliver(
                stack.clone(),
                function.clone(),
                schedule.clone(),
                at,
            ));
            return (
                StatusCode::ACCEPTED,
                Json(json!({
                    "scheduled_time": scheduler::utc_text(at),
                    "schedule_arn": scheduler::schedule_arn(&function, &event),
                })),
            )
                .into_response();
        }
        Some(other) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("retries={other}: say true or false"),
            )
        }
    }
    let attempt = scheduler::Attempt::new(&function, &event, at, 1);
    let payload = scheduler::payload(&scheduler::input(&function, schedule, &attempt));
    match stack.lambda.invoke(&function, &payload).await {
        Ok(answer) => Json(json!({"payload": payload, "response": answer})).into_response(),
        Err(e) => invoke_error(&e),
    }
}
