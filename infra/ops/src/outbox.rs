//! Republishing a context's outbox records whose stream batch was lost (its relay gave up, or
//! its on-failure record says so): the records are still in the table (they expire after a
//! week), so they are read from it and handed, as stream records, to the relay's own code
//! (`ates_kernel::outbox::relay`): the same entries on the same bus (work records on the same
//! work queue), ten per call, stopping at the first refusal. Consumers deduplicate, so records
//! that did go out before go out again harmlessly, and a second run is as safe as the first.

use crate::aws::{describe, Aws, Result};
use crate::options::Republish;
use crate::progress::Progress;
use ates_kernel::outbox::{self, DynamoDbEvent, EventBus, WorkQueue};
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};

/// How long the kernel keeps an outbox record (`ttl` is its writing time plus this): how a work
/// record, which carries no time of its own, tells when it was written.
const RETENTION: chrono::Duration = chrono::Duration::days(7);
/// Stream records handed to the relay at once (it sends them ten per call).
const BATCH: usize = 100;

type Item = HashMap<String, AttributeValue>;

/// An outbox record read from the table, with when it was written.
struct Record {
    at: DateTime<Utc>,
    pk: String,
    /// The names of the events it carries; none for a work record.
    events: Vec<String>,
    item: Item,
}

fn text<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)?.as_s().ok().map(String::as_str)
}

/// When the record was written, and its events' names (none for work); None if it is neither.
fn read(item: Item) -> Option<Record> {
    let pk = text(&item, "pk")?.to_string();
    let events = outbox::events_in(&item).ok()?;
    if let Some(first) = events.first() {
        return Some(Record {
            at: first.occurred_at,
            pk,
            events: events.iter().map(|e| e.name.clone()).collect(),
            item,
        });
    }
    text(&item, "work")?;
    let ttl: i64 = item.get("ttl")?.as_n().ok()?.parse().ok()?;
    Some(Record {
        at: DateTime::from_timestamp(ttl, 0)? - RETENTION,
        pk,
        events: Vec::new(),
        item,
    })
}

/// `--context tasks` → `Tasks`, the prefix of its resources' logical ids.
fn capitalized(context: &str) -> String {
    let mut chars = context.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

async fn the_bus(aws: &Aws) -> Result<String> {
    let buses = aws.of_kind("AWS::Events::EventBus").await?;
    match buses.as_slice() {
        [(_, name)] => Ok(name.clone()),
        [] => Err(format!(
            "the stack {} has no event bus: give --bus",
            aws.stack
        )),
        _ => Err(format!(
            "the stack {} has several buses: give --bus",
            aws.stack
        )),
    }
}

pub async fn republish(aws: &Aws, args: &Republish) -> Result<()> {
    let context = capitalized(&args.context);
    let table = match &args.table {
        Some(t) => t.clone(),
        None => aws.physical_id(&format!("{context}Table")).await?,
    };
    let bus = match &args.bus {
        Some(b) => b.clone(),
        None => the_bus(aws).await?,
    };
    // A context without a work queue has no work records; the relay refuses any it finds.
    let work_queue = match &args.work_queue {
        Some(q) => Some(q.clone()),
        None if args.table.is_some() && args.bus.is_some() => None,
        None => aws.physical_id(&format!("{context}WorkQueue")).await.ok(),
    };

    let mut records = outbox_records(aws, &table).await?;
    records.retain(|r| r.at >= args.since);
    records.sort_by(|a, b| (a.at, &a.pk).cmp(&(b.at, &b.pk)));
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &records {
        if r.events.is_empty() {
            *kinds.entry("(work)").or_default() += 1;
        }
        for name in &r.events {
            *kinds.entry(name.as_str()).or_default() += 1;
        }
    }
    let summary: Vec<String> = kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
    eprintln!(
        "{table}: {} outbox records since {}{}",
        records.len(),
        args.since.to_rfc3339(),
        if summary.is_empty() {
            String::new()
        } else {
            format!(" ({})", summary.join(", "))
        }
    );
    if aws.dry_run {
        println!(
            "would republish {} records to the bus {bus}{}",
            records.len(),
            work_queue
                .as_deref()
                .map(|q| format!(" and the work queue {q}"))
                .unwrap_or_default()
        );
        return Ok(());
    }

    let events = EventBus::new(&aws.config, bus.clone());
    let work = WorkQueue::new(&aws.config, work_queue);
    let mut progress = Progress::new("republished", Some(records.len() as u64));
    for (n, chunk) in records.chunks(BATCH).enumerate() {
        let stream = stream_batch(n * BATCH, chunk)?;
        let response = outbox::relay(&events, &work, stream).await;
        if let Some(failure) = response.batch_item_failures.first() {
            progress.finish();
            let index = failure
                .item_identifier
                .as_deref()
                .and_then(|s| s.parse::<usize>().ok())
                .unwrap_or(n * BATCH);
            let pk = records.get(index).map_or("?", |r| r.pk.as_str());
            return Err(format!(
                "the relay stopped at {pk} (the log above says why): {index} of {} records went out; run again to finish",
                records.len()
            ));
        }
        progress.add(chunk.len() as u64);
    }
    progress.finish();
    println!("republished {} records to {bus}", records.len());
    Ok(())
}

/// Every outbox record of the table (a consistent scan of `OUTBOX#` keys).
async fn outbox_records(aws: &Aws, table: &str) -> Result<Vec<Record>> {
    let mut pages = aws
        .dynamodb
        .scan()
        .table_name(table)
        .consistent_read(true)
        .filter_expression("begins_with(pk, :outbox)")
        .expression_attribute_values(":outbox", AttributeValue::S(outbox::KEY_PREFIX.into()))
        .into_paginator()
        .send();
    let mut records = Vec::new();
    let mut unreadable = 0;
    let mut scanned = Progress::new(&format!("{table}: items scanned"), None);
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| describe(&format!("scan {table}"), e))?;
        scanned.add(page.scanned_count().max(0) as u64);
        for item in page.items.unwrap_or_default() {
            match read(item) {
                Some(r) => records.push(r),
                None => unreadable += 1,
            }
        }
    }
    scanned.finish();
    if unreadable > 0 {
        eprintln!("{unreadable} outbox records are neither an event nor work: left out");
    }
    Ok(records)
}

/// Records as the table's stream hands them to the relay: inserts, the new image, in order;
/// each one's sequence number is its index among all, so a failure names the record.
fn stream_batch(first: usize, records: &[Record]) -> Result<DynamoDbEvent> {
    let records: Vec<Value> = records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let image = serde_dynamo::Item::from(r.item.clone());
            let image = serde_json::to_value(&*image).map_err(|e| e.to_string())?;
            let keys = json!({"pk": image["pk"].clone(), "sk": image["sk"].clone()});
            Ok(json!({
                "eventID": format!("ates-ops-{}", first + i),
                "eventName": "INSERT",
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": "-",
                "dynamodb": {
                    "SequenceNumber": (first + i).to_string(),
                    "SizeBytes": 0,
                    "Keys": keys,
                    "NewImage": image,
                    "StreamViewType": "NEW_IMAGE",
                },
            }))
        })
        .collect::<Result<_>>()?;
    serde_json::from_value(json!({ "Records": records }))
        .map_err(|e| format!("the outbox records as stream records: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.into())
    }

    #[test]
    fn events_are_dated_by_their_envelope_and_work_by_its_expiry() {
        let event = Item::from([
            ("pk".into(), s("OUTBOX#1")),
            ("sk".into(), s("OUTBOX")),
            (
                "event".into(),
                s(
                    r#"{"id":"0190a000-0000-7000-8000-000000000001","name":"Task.Created","version":2,
                     "occurred_at":"2026-12-06T10:00:00Z","producer":"tasks","correlation_id":"c",
                     "data":{}}"#,
                ),
            ),
        ]);
        let record = read(event).unwrap();
        assert_eq!(record.events, ["Task.Created"]);
        assert_eq!(record.at.to_rfc3339(), "2026-12-06T10:00:00+00:00");
        let work = Item::from([
            ("pk".into(), s("OUTBOX#work#page-2")),
            ("work".into(), s("{}")),
            ("ttl".into(), AttributeValue::N("1765620000".into())),
        ]);
        let record = read(work).unwrap();
        assert!(record.events.is_empty());
        assert_eq!(record.at.timestamp(), 1_765_620_000 - 7 * 86_400);
        assert!(read(Item::from([("pk".into(), s("OUTBOX#x"))])).is_none());
    }

    #[test]
    fn records_become_the_stream_records_the_relay_reads() {
        let item = Item::from([
            ("pk".into(), s("OUTBOX#1")),
            ("sk".into(), s("OUTBOX")),
            ("work".into(), s("page")),
            ("ttl".into(), AttributeValue::N("1765620000".into())),
        ]);
        let stream = stream_batch(7, &[read(item).unwrap()]).unwrap();
        let record = &stream.records[0];
        assert_eq!(record.event_name, "INSERT");
        assert_eq!(record.change.sequence_number.as_deref(), Some("7"));
        assert!(record.change.new_image.contains_key("work"));
        assert_eq!(capitalized("tasks"), "Tasks");
    }
}
