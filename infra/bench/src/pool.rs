//! `ates-bench pool`: what a task creation costs as the pool of assignable accounts grows (#25:
//! the same calls and read units at 100 and at 100,000 accounts). On a running local stack the
//! pool is grown to each size by writing slots straight into the tasks table, each naming one of
//! the accounts already in it (a creation reads a slot, never the account behind it, so what it
//! reads is the same as with as many real accounts); tasks are created through the API and the
//! create function's AWS calls counted. Afterwards the pool is put back as it was.

use super::arg;
use super::close::{dynamodb, table_named};
use super::tasks::{admin_token, call, calls, diff};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// The size DynamoDB bills an item at: each attribute's name and value (strings by their UTF-8
/// length, numbers by about one byte per two digits plus one), as in the developer guide's
/// "Item sizes and formats".
pub(crate) fn item_bytes(item: &Value) -> usize {
    item.as_object()
        .into_iter()
        .flatten()
        .map(|(name, value)| name.len() + value_bytes(value))
        .sum()
}

fn value_bytes(value: &Value) -> usize {
    let Some((kind, inner)) = value.as_object().and_then(|v| v.iter().next()) else {
        return 0;
    };
    match (kind.as_str(), inner) {
        ("S", Value::String(s)) => s.len(),
        ("N", Value::String(n)) => n.trim_start_matches('-').len().div_ceil(2) + 1,
        ("BOOL" | "NULL", _) => 1,
        ("SS", Value::Array(all)) => all.iter().filter_map(Value::as_str).map(str::len).sum(),
        ("L" | "M", _) => {
            3 + inner.as_array().map_or_else(
                || item_bytes(inner) + inner.as_object().map_or(0, |m| m.len()),
                |l| l.iter().map(|v| value_bytes(v) + 1).sum(),
            )
        }
        _ => 0,
    }
}

/// Read units of one strongly consistent read of an item of `bytes`: one per 4 KB begun.
pub(crate) fn read_units(bytes: usize) -> usize {
    bytes.div_ceil(4096).max(1)
}

fn size_item(table: &str, endpoint: &str) -> Option<Value> {
    let got = dynamodb(
        endpoint,
        "GetItem",
        &json!({"TableName": table, "Key": {"pk": {"S": "POOL#SIZE#0"}, "sk": {"S": "SIZE"}}, "ConsistentRead": true}),
    );
    got.get("Item").cloned()
}

fn pool_size(table: &str, endpoint: &str) -> u64 {
    size_item(table, endpoint)
        .and_then(|i| i["size"]["N"].as_str().and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

fn slot(table: &str, endpoint: &str, n: u64) -> Value {
    dynamodb(
        endpoint,
        "GetItem",
        &json!({"TableName": table, "Key": {"pk": {"S": format!("POOL#{n}")}, "sk": {"S": "SLOT"}}, "ConsistentRead": true}),
    )["Item"]
        .clone()
}

/// Every copy of the size (the tracker keeps eight, written together).
fn set_size(table: &str, endpoint: &str, size: u64) {
    for copy in 0..8 {
        dynamodb(
            endpoint,
            "PutItem",
            &json!({"TableName": table, "Item": {"pk": {"S": format!("POOL#SIZE#{copy}")}, "sk": {"S": "SIZE"}, "size": {"N": size.to_string()}}}),
        );
    }
}

/// Writes (or, with `delete`, removes) slots `from..to`, each naming a member of `members`.
fn slots(table: &str, endpoint: &str, from: u64, to: u64, members: &[String], delete: bool) {
    let all: Vec<u64> = (from..to).collect();
    for chunk in all.chunks(25) {
        let requests: Vec<Value> = chunk
            .iter()
            .map(|&n| {
                let key = json!({"pk": {"S": format!("POOL#{n}")}, "sk": {"S": "SLOT"}});
                if delete {
                    json!({"DeleteRequest": {"Key": key}})
                } else {
                    let mut item = key;
                    item["account_id"] = json!({"S": members[n as usize % members.len()]});
                    json!({"PutRequest": {"Item": item}})
                }
            })
            .collect();
        dynamodb(
            endpoint,
            "BatchWriteItem",
            &json!({"RequestItems": {table: requests}}),
        );
    }
}

pub fn run() {
    let sizes: Vec<u64> = arg("--sizes", "100,100000")
        .split(',')
        .filter_map(|s| s.parse().ok())
        .collect();
    let n: usize = arg("--tasks", "200").parse().unwrap_or(200);
    let api = arg("--api", "http://127.0.0.1:3000");
    let info = call(&api, "GET", "/_local/info", None, None).1;
    let endpoint = info["aws_endpoint"]
        .as_str()
        .expect("aws_endpoint")
        .to_owned();
    let table = table_named(&endpoint, "Tasks");
    let mut admin = admin_token(&api);
    // A worker, so that the pool has a member to name.
    let email = format!("pool-bench-{}@popug.test", std::process::id());
    let body = json!({"email": email, "full_name": "Pool Bench", "role": "worker"});
    call(&api, "POST", "/accounts", Some(&admin), Some(body));
    let deadline = Instant::now() + Duration::from_secs(60);
    while pool_size(&table, &endpoint) == 0 {
        assert!(Instant::now() < deadline, "nobody joined the pool");
        std::thread::sleep(Duration::from_millis(250));
    }
    let was = pool_size(&table, &endpoint);
    let members: Vec<String> = (0..was)
        .map(|n| {
            slot(&table, &endpoint, n)["account_id"]["S"]
                .as_str()
                .expect("a member")
                .to_owned()
        })
        .collect();
    println!("pool before: {was} members");
    println!("| pool size | seeded in | creations | AWS calls per creation (create function) | items read per creation, bytes → read units |");
    println!("|---:|---:|---:|---|---|");
    let mut grown = was;
    for &size in &sizes {
        let seeded = Instant::now();
        if size > grown {
            slots(&table, &endpoint, grown, size, &members, false);
            grown = size;
        }
        set_size(&table, &endpoint, size.max(was));
        let seeded = seeded.elapsed().as_secs_f64();
        admin = admin_token(&api);
        let before = calls(&api);
        for i in 0..n {
            let body = json!({"title": format!("Pool bench task {i}")});
            let (status, answer) = call(&api, "POST", "/tasks", Some(&admin), Some(body));
            assert_eq!(status, 201, "{answer}");
        }
        let spent = diff(&before, &calls(&api));
        let ops = spent["TasksCreateTaskFunction"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let per: Vec<String> = ops
            .iter()
            .map(|(op, c)| format!("{op} {:.2}", c.as_u64().unwrap_or(0) as f64 / n as f64))
            .collect();
        let size_bytes = size_item(&table, &endpoint).as_ref().map_or(0, item_bytes);
        let slot_bytes = item_bytes(&slot(&table, &endpoint, size.max(was) - 1));
        // The size is read eventually consistent (half a unit), the slot consistently.
        println!(
            "| {} | {seeded:.1} s | {n} | {} | a copy of the size {size_bytes} B → {:.1}, slot {slot_bytes} B → {} |",
            size.max(was),
            per.join(", "),
            read_units(size_bytes) as f64 / 2.0,
            read_units(slot_bytes),
        );
    }
    set_size(&table, &endpoint, was);
    slots(&table, &endpoint, was, grown, &members, true);
    // The first design for comparison: one string set of every id, read whole per creation.
    for &size in &sizes {
        let bytes = 3 + 3 + 3 + 3 + "ids".len() + size as usize * 36;
        let fits = if bytes <= 400 * 1024 {
            ""
        } else {
            " (over DynamoDB's 400 KB item: cannot exist)"
        };
        println!(
            "before (one set of every id): pool of {size}: {bytes} B → {} read units per creation{fits}",
            read_units(bytes)
        );
    }
    println!("pool put back to {was} members");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_sizes_follow_dynamodbs_rules() {
        // Names and strings by their UTF-8 length; a number by half its digits, plus one.
        let slot = json!({"pk": {"S": "POOL#7"}, "sk": {"S": "SLOT"}, "account_id": {"S": "0193a0e4-0000-7000-8000-000000000000"}});
        assert_eq!(item_bytes(&slot), 2 + 6 + 2 + 4 + 10 + 36);
        let size =
            json!({"pk": {"S": "POOL#SIZE#0"}, "sk": {"S": "SIZE"}, "size": {"N": "100000"}});
        assert_eq!(item_bytes(&size), 2 + 11 + 2 + 4 + 4 + 4);
    }

    #[test]
    fn a_read_costs_a_unit_per_4_kb_begun() {
        assert_eq!(read_units(1), 1);
        assert_eq!(read_units(4096), 1);
        assert_eq!(read_units(4097), 2);
        assert_eq!(read_units(370_000), 91);
    }
}
