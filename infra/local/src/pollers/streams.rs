//! DynamoDB stream event source mappings: shard readers with Lambda's retry, bisect and on-failure rules.

use crate::aws::describe;
use crate::functions::StreamSource;
use crate::ledger::Outcome;
use crate::pattern;
use crate::resolve::REGION;
use crate::stack::Stack;
use aws_sdk_dynamodbstreams::types::{AttributeValue, Record, ShardIteratorType};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

const EMPTY_POLL_INTERVAL: Duration = Duration::from_millis(200);
const SHARD_DISCOVERY_INTERVAL: Duration = Duration::from_secs(5);

/// Watches the stream for shards and reads each one in its own task.
pub async fn run(stack: Arc<Stack>, function: String, source: StreamSource) {
    let table = stack
        .resources
        .table_by_stream_arn(&source.stream_arn)
        .map(|t| t.name.clone());
    tracing::info!(
        "{function} reads the stream of {}",
        table.as_deref().unwrap_or(&source.stream_arn)
    );
    let mut readers: HashSet<String> = HashSet::new();
    while !stack.is_shutting_down() {
        match stack
            .aws
            .streams
            .describe_stream()
            .stream_arn(&source.stream_arn)
            .send()
            .await
        {
            Ok(out) => {
                let shards = out
                    .stream_description()
                    .map(|d| d.shards())
                    .unwrap_or_default();
                for shard in shards {
                    let Some(id) = shard.shard_id() else { continue };
                    if readers.insert(id.to_string()) {
                        let reader = ShardReader {
                            stack: stack.clone(),
                            function: function.clone(),
                            source: source.clone(),
                            shard_id: id.to_string(),
                        };
                        tokio::spawn(reader.run());
                    }
                }
            }
            Err(e) => tracing::warn!("{}", describe(&format!("{function}: describe stream"), e)),
        }
        stack.pause(SHARD_DISCOVERY_INTERVAL).await;
    }
}

struct ShardReader {
    stack: Arc<Stack>,
    function: String,
    source: StreamSource,
    shard_id: String,
}

enum BatchResult {
    Done,
    /// Records before this index were processed; retry from it.
    FailedFrom(usize),
    Failed(String),
}

impl ShardReader {
    async fn run(self) {
        let Some(mut iterator) = self.iterator(None).await else {
            return;
        };
        let mut pending: VecDeque<Value> = VecDeque::new();
        // When the oldest pending record arrived: a batch waits for more records at most the
        // mapping's batching window, as Lambda's does.
        let mut waiting_since: Option<Instant> = None;
        // Where to pick up again if an iterator stops working (they expire after 15 minutes).
        let mut last_read: Option<String> = None;
        while !self.stack.is_shutting_down() {
            if pending.len() < self.source.batch_size {
                let Some(current) = iterator.clone() else {
                    if pending.is_empty() {
                        tracing::info!("{}: shard {} is closed", self.function, self.shard_id);
                        return;
                    }
                    self.deliver(pending.drain(..).collect()).await;
                    continue;
                };
                match self
                    .stack
                    .aws
                    .streams
                    .get_records()
                    .shard_iterator(&current)
                    .send()
                    .await
                {
                    Ok(out) => {
                        iterator = out.next_shard_iterator().map(str::to_string);
                        if let Some(last) = out.records().last().and_then(|r| r.dynamodb()) {
                            last_read = last.sequence_number().map(str::to_string).or(last_read);
                        }
                        let records = out
                            .records()
                            .iter()
                            .map(|r| lambda_record(r, &self.source.stream_arn));
                        // Lambda drops records its filters reject before they ever reach a batch.
                        pending
                            .extend(records.filter(|r| pattern::passes(&self.source.filters, r)));
                    }
                    Err(e) => {
                        tracing::warn!(
                            "{}",
                            describe(&format!("{}: get records", self.function), e)
                        );
                        if !self.stack.pause(Duration::from_secs(1)).await {
                            return;
                        }
                        match self.iterator(last_read.as_deref()).await {
                            Some(fresh) => iterator = fresh,
                            None => return,
                        }
                        continue;
                    }
                }
            }
            if pending.is_empty() {
                self.stack.pause(EMPTY_POLL_INTERVAL).await;
                continue;
            }
            let since = *waiting_since.get_or_insert_with(Instant::now);
            if pending.len() < self.source.batch_size
                && since.elapsed() < self.source.batching_window
                && iterator.is_some()
            {
                self.stack.pause(EMPTY_POLL_INTERVAL).await;
                continue;
            }
            waiting_since = None;
            let take = pending.len().min(self.source.batch_size);
            let batch: Vec<Value> = pending.drain(..take).collect();
            self.deliver(batch).await;
        }
    }

    /// An iterator at the mapping's starting position, or just after `after`.
    async fn iterator(&self, after: Option<&str>) -> Option<Option<String>> {
        let kind = match (after, self.source.starting_position.as_str()) {
            (Some(_), _) => ShardIteratorType::AfterSequenceNumber,
            (None, "LATEST") => ShardIteratorType::Latest,
            (None, _) => ShardIteratorType::TrimHorizon,
        };
        loop {
            let out = self
                .stack
                .aws
                .streams
                .get_shard_iterator()
                .stream_arn(&self.source.stream_arn)
                .shard_id(&self.shard_id)
                .shard_iterator_type(kind.clone())
                .set_sequence_number(after.map(str::to_string))
                .send()
                .await;
            match out {
                Ok(out) => return Some(out.shard_iterator().map(str::to_string)),
                Err(e) => {
                    tracing::warn!(
                        "{}",
                        describe(&format!("{}: shard iterator", self.function), e)
                    );
                    if !self.stack.pause(Duration::from_secs(1)).await {
                        return None;
                    }
                }
            }
        }
    }

    /// Delivers one batch until every record succeeded or was given up to the on-failure destination.
    async fn deliver(&self, batch: Vec<Value>) {
        let mut work: VecDeque<Vec<Value>> = VecDeque::from([batch]);
        while let Some(batch) = work.pop_front() {
            let mut start = 0;
            let mut attempts: u32 = 0;
            loop {
                let slice = &batch[start..];
                let error = match self.invoke(slice).await {
                    BatchResult::Done => break,
                    BatchResult::FailedFrom(i) => {
                        start += i;
                        "reported as a batch item failure".to_string()
                    }
                    BatchResult::Failed(e) if self.source.bisect_on_error && slice.len() > 1 => {
                        // Split to isolate the bad record; each half gets its own retries.
                        tracing::info!(
                            "{}: batch of {} failed ({e}); bisecting",
                            self.function,
                            slice.len()
                        );
                        let (left, right) = slice.split_at(slice.len() / 2);
                        work.push_front(right.to_vec());
                        work.push_front(left.to_vec());
                        break;
                    }
                    BatchResult::Failed(e) => e,
                };
                attempts += 1;
                if self
                    .source
                    .maximum_retry_attempts
                    .is_some_and(|max| attempts > max)
                {
                    self.give_up(&batch[start..], attempts, &error).await;
                    break;
                }
                if !self.stack.pause(self.stack.retry_delay).await {
                    return;
                }
            }
        }
    }

    async fn invoke(&self, records: &[Value]) -> BatchResult {
        let result = self
            .stack
            .lambda
            .invoke(&self.function, &json!({"Records": records}))
            .await;
        let outcome = match &result {
            Err(e) => BatchResult::Failed(e.to_string()),
            Ok(answer) if self.source.report_batch_item_failures => first_failure(answer, records),
            Ok(_) => BatchResult::Done,
        };
        let failed_from = match &outcome {
            BatchResult::Done => records.len(),
            BatchResult::FailedFrom(i) => *i,
            BatchResult::Failed(_) => 0,
        };
        let error = match &outcome {
            BatchResult::Failed(e) => Some(e.as_str()),
            _ => None,
        };
        for (i, record) in records.iter().enumerate() {
            let key = record["eventID"].as_str().unwrap_or_default();
            let sequence = record
                .pointer("/dynamodb/SequenceNumber")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let outcome = if i < failed_from {
                Outcome::Ok
            } else {
                Outcome::Failed(error)
            };
            self.stack.ledger.record(
                &self.function,
                &self.source.event_name,
                key,
                sequence,
                outcome,
            );
        }
        outcome
    }

    /// Sends Lambda's OnFailure record for the batch: its coordinates in the stream, not its records.
    async fn give_up(&self, records: &[Value], attempts: u32, error: &str) {
        tracing::warn!(
            "{}: giving up on {} records after {attempts} attempts ({error})",
            self.function,
            records.len()
        );
        for record in records {
            if let Some(id) = record["eventID"].as_str() {
                self.stack.ledger.mark_dead_lettered(&self.function, id);
            }
        }
        let Some(destination) = &self.source.on_failure_arn else {
            return;
        };
        let Some(queue) = self.stack.resources.queue_by_arn(destination) else {
            tracing::error!(
                "{}: on-failure destination {destination} is not a queue of the template",
                self.function
            );
            return;
        };
        let body = failure_record(
            &self.function,
            &self.shard_id,
            &self.source.stream_arn,
            records,
            attempts,
        );
        let sent = self
            .stack
            .aws
            .sqs
            .send_message()
            .queue_url(&queue.url)
            .message_body(body.to_string())
            .send()
            .await;
        if let Err(e) = sent {
            tracing::error!("{}", describe("send the on-failure record", e));
        }
    }
}

/// `{"batchItemFailures": [{"itemIdentifier": SequenceNumber}]}` → retry from the earliest one named.
fn first_failure(answer: &Value, records: &[Value]) -> BatchResult {
    let items = match answer.get("batchItemFailures") {
        None | Some(Value::Null) => return BatchResult::Done,
        Some(Value::Array(items)) => items,
        Some(_) => return BatchResult::Failed("batchItemFailures is not a list".into()),
    };
    let mut earliest: Option<usize> = None;
    for item in items {
        let id = item
            .get("itemIdentifier")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let position = records.iter().position(|r| {
            r.pointer("/dynamodb/SequenceNumber")
                .and_then(Value::as_str)
                == Some(id)
        });
        match position {
            Some(p) if !id.is_empty() => earliest = Some(earliest.map_or(p, |e| e.min(p))),
            _ => {
                return BatchResult::Failed(format!(
                    "batch item failure names an unknown record {id:?}"
                ))
            }
        }
    }
    earliest.map_or(BatchResult::Done, BatchResult::FailedFrom)
}

/// What Lambda sends a stream mapping's on-failure destination: the batch's coordinates in the
/// stream (shard, first and last sequence numbers), never its records; whoever handles it reads
/// them from the stream again ([`failed_batch`]).
pub fn failure_record(
    function: &str,
    shard_id: &str,
    stream_arn: &str,
    records: &[Value],
    attempts: u32,
) -> Value {
    let sequence = |r: Option<&Value>| {
        r.and_then(|r| r.pointer("/dynamodb/SequenceNumber"))
            .cloned()
    };
    let arrival = |r: Option<&Value>| {
        r.and_then(|r| r.pointer("/dynamodb/ApproximateCreationDateTime"))
            .and_then(Value::as_f64)
            .and_then(|t| chrono::DateTime::from_timestamp(t as i64, 0))
            .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
    };
    json!({
        "requestContext": {
            "requestId": uuid::Uuid::new_v4().to_string(),
            "functionArn": format!("arn:aws:lambda:{REGION}:{}:function:{function}", crate::resolve::ACCOUNT_ID),
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": attempts,
        },
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0",
        "timestamp": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": sequence(records.first()),
            "endSequenceNumber": sequence(records.last()),
            "approximateArrivalOfFirstRecord": arrival(records.first()),
            "approximateArrivalOfLastRecord": arrival(records.last()),
            "batchSize": records.len(),
            "streamArn": stream_arn,
        },
    })
}

/// The records an on-failure record's `DDBStreamBatchInfo` describes, read again from the stream
/// as an operator would: an iterator AT_SEQUENCE_NUMBER the start, then GetRecords up to the end
/// sequence number. `filters` are the mapping's, so the function gets the records Lambda gave it.
pub async fn failed_batch(
    stack: &Stack,
    info: &Value,
    filters: &[Value],
) -> Result<Vec<Value>, String> {
    let field = |name: &str| {
        info.get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("DDBStreamBatchInfo has no {name}"))
    };
    let (stream_arn, shard_id) = (field("streamArn")?, field("shardId")?);
    let (start, end) = (field("startSequenceNumber")?, field("endSequenceNumber")?);
    let mut iterator = stack
        .aws
        .streams
        .get_shard_iterator()
        .stream_arn(stream_arn)
        .shard_id(shard_id)
        .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
        .sequence_number(start)
        .send()
        .await
        .map_err(|e| describe(&format!("shard iterator at {start} in {shard_id}"), e))?
        .shard_iterator()
        .map(str::to_string);
    let mut records = Vec::new();
    // An open shard answers empty pages while it waits for writes; the end is long written.
    let mut empty_pages = 0;
    while let Some(current) = iterator.take() {
        let out = stack
            .aws
            .streams
            .get_records()
            .shard_iterator(&current)
            .send()
            .await
            .map_err(|e| describe("get records", e))?;
        for record in out.records() {
            let sequence = record
                .dynamodb()
                .and_then(|d| d.sequence_number())
                .unwrap_or_default();
            if sequence_after(sequence, end) {
                return Ok(records);
            }
            let record = lambda_record(record, stream_arn);
            if pattern::passes(filters, &record) {
                records.push(record);
            }
            if sequence == end {
                return Ok(records);
            }
        }
        empty_pages = if out.records().is_empty() {
            empty_pages + 1
        } else {
            0
        };
        if empty_pages >= 10 {
            break;
        }
        iterator = out.next_shard_iterator().map(str::to_string);
    }
    Err(format!(
        "{shard_id} ends before {end}: the records have left the stream"
    ))
}

/// Sequence numbers are decimal strings of growing length: compare them as numbers.
fn sequence_after(a: &str, b: &str) -> bool {
    (a.len(), a) > (b.len(), b)
}

/// The record as Lambda hands it to a function.
pub fn lambda_record(record: &Record, stream_arn: &str) -> Value {
    let mut dynamodb = Map::new();
    if let Some(s) = record.dynamodb() {
        if let Some(t) = s.approximate_creation_date_time() {
            dynamodb.insert("ApproximateCreationDateTime".into(), json!(t.secs()));
        }
        let image = |m: Option<&HashMap<String, AttributeValue>>| m.map(item_json);
        if let Some(keys) = image(s.keys()) {
            dynamodb.insert("Keys".into(), keys);
        }
        if let Some(new) = image(s.new_image()) {
            dynamodb.insert("NewImage".into(), new);
        }
        if let Some(old) = image(s.old_image()) {
            dynamodb.insert("OldImage".into(), old);
        }
        dynamodb.insert("SequenceNumber".into(), json!(s.sequence_number()));
        dynamodb.insert("SizeBytes".into(), json!(s.size_bytes()));
        dynamodb.insert(
            "StreamViewType".into(),
            json!(s.stream_view_type().map(|v| v.as_str())),
        );
    }
    json!({
        "eventID": record.event_id(),
        "eventName": record.event_name().map(|n| n.as_str()),
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": record.aws_region().unwrap_or(REGION),
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    })
}

fn item_json(item: &HashMap<String, AttributeValue>) -> Value {
    let sorted: BTreeMap<_, _> = item
        .iter()
        .map(|(k, v)| (k.clone(), attribute_json(v)))
        .collect();
    json!(sorted)
}

/// DynamoDB JSON: `{"S": ..}`, `{"N": ..}`, `{"B": base64}`, `{"M": ..}`, `{"L": ..}`, ...
pub fn attribute_json(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::S(s) => json!({"S": s}),
        AttributeValue::N(n) => json!({"N": n}),
        AttributeValue::B(b) => json!({"B": BASE64.encode(b.as_ref())}),
        AttributeValue::Bool(b) => json!({"BOOL": b}),
        AttributeValue::Null(n) => json!({"NULL": n}),
        AttributeValue::Ss(v) => json!({"SS": v}),
        AttributeValue::Ns(v) => json!({"NS": v}),
        AttributeValue::Bs(v) => {
            json!({"BS": v.iter().map(|b| BASE64.encode(b.as_ref())).collect::<Vec<_>>()})
        }
        AttributeValue::L(items) => {
            json!({"L": items.iter().map(attribute_json).collect::<Vec<_>>()})
        }
        AttributeValue::M(map) => json!({"M": item_json(map)}),
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodbstreams::primitives::{Blob, DateTime};
    use aws_sdk_dynamodbstreams::types::{OperationType, StreamRecord, StreamViewType};

    fn record(seq: &str) -> Value {
        json!({"eventID": seq, "dynamodb": {"SequenceNumber": seq, "ApproximateCreationDateTime": 1_700_000_000}})
    }

    #[test]
    fn converts_stream_records_to_lambda_shape() {
        let image = HashMap::from([
            ("pk".to_string(), AttributeValue::S("OUTBOX#1".into())),
            ("n".to_string(), AttributeValue::N("5".into())),
            ("b".to_string(), AttributeValue::B(Blob::new(vec![0, 1]))),
            (
                "m".to_string(),
                AttributeValue::M(HashMap::from([(
                    "x".to_string(),
                    AttributeValue::Bool(true),
                )])),
            ),
            (
                "l".to_string(),
                AttributeValue::L(vec![
                    AttributeValue::Null(true),
                    AttributeValue::Ss(vec!["a".into()]),
                ]),
            ),
        ]);
        let r = Record::builder()
            .event_id("e1")
            .event_name(OperationType::Insert)
            .aws_region("us-east-1")
            .dynamodb(
                StreamRecord::builder()
                    .approximate_creation_date_time(DateTime::from_secs(1_700_000_000))
                    .set_keys(Some(HashMap::from([(
                        "pk".to_string(),
                        AttributeValue::S("OUTBOX#1".into()),
                    )])))
                    .set_new_image(Some(image))
                    .sequence_number("100")
                    .size_bytes(42)
                    .stream_view_type(StreamViewType::NewImage)
                    .build(),
            )
            .build();
        let v = lambda_record(&r, "arn:stream");
        assert_eq!(v["eventName"], "INSERT");
        assert_eq!(v["eventVersion"], "1.1");
        assert_eq!(v["eventSourceARN"], "arn:stream");
        assert_eq!(v["dynamodb"]["ApproximateCreationDateTime"], 1_700_000_000);
        assert_eq!(v["dynamodb"]["Keys"], json!({"pk": {"S": "OUTBOX#1"}}));
        assert_eq!(
            v["dynamodb"]["NewImage"],
            json!({
                "b": {"B": "AAE="}, "l": {"L": [{"NULL": true}, {"SS": ["a"]}]}, "m": {"M": {"x": {"BOOL": true}}},
                "n": {"N": "5"}, "pk": {"S": "OUTBOX#1"},
            })
        );
        assert_eq!(v["dynamodb"]["StreamViewType"], "NEW_IMAGE");
        let filter: Value = serde_json::from_str(
            r#"{"eventName":["INSERT"],"dynamodb":{"Keys":{"pk":{"S":[{"prefix":"OUTBOX#"}]}}}}"#,
        )
        .unwrap();
        assert!(pattern::matches(&filter, &v));
    }

    #[test]
    fn batch_item_failures_restart_from_the_earliest() {
        let records = vec![record("1"), record("2"), record("3")];
        let answer =
            json!({"batchItemFailures": [{"itemIdentifier": "3"}, {"itemIdentifier": "2"}]});
        assert!(matches!(
            first_failure(&answer, &records),
            BatchResult::FailedFrom(1)
        ));
        assert!(matches!(
            first_failure(&json!({"batchItemFailures": []}), &records),
            BatchResult::Done
        ));
        assert!(matches!(
            first_failure(&json!(null), &records),
            BatchResult::Done
        ));
        let unknown = json!({"batchItemFailures": [{"itemIdentifier": "9"}]});
        assert!(matches!(
            first_failure(&unknown, &records),
            BatchResult::Failed(_)
        ));
        let empty = json!({"batchItemFailures": [{"itemIdentifier": ""}]});
        assert!(matches!(
            first_failure(&empty, &records),
            BatchResult::Failed(_)
        ));
    }

    #[test]
    fn failure_records_describe_the_batch() {
        let f = failure_record("Relay", "shard-1", "arn:s", &[record("1"), record("2")], 11);
        assert_eq!(f["DDBStreamBatchInfo"]["startSequenceNumber"], "1");
        assert_eq!(f["DDBStreamBatchInfo"]["endSequenceNumber"], "2");
        assert_eq!(f["DDBStreamBatchInfo"]["batchSize"], 2);
        assert_eq!(f["requestContext"]["condition"], "RetryAttemptsExhausted");
        assert_eq!(f["requestContext"]["approximateInvokeCount"], 11);
        assert_eq!(
            f["DDBStreamBatchInfo"]["approximateArrivalOfFirstRecord"],
            "2023-11-14T22:13:20Z"
        );
        assert_eq!(f["DDBStreamBatchInfo"]["shardId"], "shard-1");
        assert_eq!(f["DDBStreamBatchInfo"]["streamArn"], "arn:s");
        let keys: Vec<&str> = f.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "DDBStreamBatchInfo",
                "requestContext",
                "responseContext",
                "timestamp",
                "version"
            ],
            "AWS's shape: the batch's coordinates, not its records"
        );
        assert!(f["timestamp"].as_str().unwrap().ends_with('Z'));
    }

    #[test]
    fn sequence_numbers_compare_as_numbers() {
        assert!(sequence_after("100", "99"));
        assert!(sequence_after("200", "100"));
        assert!(!sequence_after("100", "100"));
        assert!(!sequence_after("99", "100"));
    }
}
