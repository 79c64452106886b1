//! `ates-bench pool`: what a task creation costs as the pool of assignable accounts grows (#25:
//! the same calls and read units at 100 and at 100,000 accounts). On a running local stack the
//! pool is grown to each size by writing slots straight into the tasks table, each naming one of
//! the accounts already in it (a creation reads a slot, never the account behind it, so what it
//! reads is the same as with as many real accounts); tasks are created through the API and the
//! create function's AWS calls and DynamoDB read units counted by the stack (started with
//! `ATES_LOCAL_CAPACITY=1`, as for `ates-bench cost`). Afterwards the pool is put back as it was.

use super::arg;
use super::close::{dynamodb, emulator_table};
use super::cost::Spent;
use super::tasks::{admin_token, call};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

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
    let (endpoint, table) = emulator_table(&api, "Tasks");
    let units = || call(&api, "GET", "/_local/aws-calls?units", None, None).1;
    if units()["units"]["capacity"] != true {
        eprintln!("the stack does not compute DynamoDB units: start it with ATES_LOCAL_CAPACITY=1 (read units will read 0)");
    }
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
    println!("| pool size | seeded in | creations | AWS calls per creation (create function) | read units per creation |");
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
        let before = units();
        for i in 0..n {
            let body = json!({"title": format!("Pool bench task {i}")});
            let (status, answer) = call(&api, "POST", "/tasks", Some(&admin), Some(body));
            assert_eq!(status, 201, "{answer}");
        }
        let spent = Spent::between(&before, &units(), &[]);
        let of_creation = |counted: &std::collections::BTreeMap<(String, String), f64>| {
            counted
                .iter()
                .filter(|((f, _), _)| f == "TasksCreateTaskFunction")
                .map(|((_, what), c)| (what.clone(), c / n as f64))
                .collect::<Vec<_>>()
        };
        let per: Vec<String> = of_creation(&spent.calls)
            .iter()
            .map(|(op, c)| format!("{op} {c:.2}"))
            .collect();
        let read: f64 = of_creation(&spent.units)
            .iter()
            .filter(|(what, _)| what == "dynamodb:ReadRequestUnits")
            .map(|(_, c)| c)
            .sum();
        println!(
            "| {} | {seeded:.1} s | {n} | {} | {read:.2} |",
            size.max(was),
            per.join(", "),
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
            bytes.div_ceil(4096)
        );
    }
    println!("pool put back to {was} members");
}
