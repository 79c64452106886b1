//! aTES benchmarks (see BENCHMARKS.md). Measured, never asserted: nothing here is a test.
//!
//! `ates-bench coldstart [--runs N] [--dir target/lambda]` — init time and memory of release
//! bootstraps against a hello-world Lambda: each binary is started N times against a minimal
//! Runtime API, timing process start → its first `GET /runtime/invocation/next` (the end of init).
//!
//! `ates-bench tasks [--tasks N] [--api URL]` — on a running local stack (`make dev`): creates N
//! tasks, then shuffles them, reporting wall time, tasks per second and AWS calls per task.
//!
//! `ates-bench close [--accounts N] [--api URL]` — on a running local stack: writes N ledger
//! accounts with a day's fees and rewards straight into the accounting table (half end the day
//! in credit, half in debt), fires the end of that day through the schedule, and reports the
//! close's wall time and AWS calls per account.
//!
//! `ates-bench rebuild [--events N] [--api URL]` — on a running local stack: publishes N
//! `Ledger.TransactionPosted` events (200 employees, 30 business days), waits until analytics
//! has them live, then rebuilds analytics by replay (N4) and reports the rebuild's events per
//! second and AWS calls per event.
//!
//! `ates-bench hiring [--applications N] [--api URL]` — on a running local stack: N worker
//! applications each go the whole way (submitted, a test assigned, taken, accepted), and until
//! auth has opened the account and notifications has mailed it; reports AWS calls per
//! application by each function that worked on it.
//!
//! `ates-bench orders [--orders N] [--api URL]` — on a running local stack: a client orders N
//! times (one worker with the skill, slots that do not overlap); each order is estimated,
//! matched, priced, its kit delivered by the simulated supplier and handed out by a manager,
//! until it is pending; reports AWS calls per order, `new` to `pending`, by each function.
//!
//! `ates-bench money [--orders N] [--workers W] [--clients C] [--api URL]` — on a running local
//! stack: N orders (C clients with a card on file, W workers each with a skill of their own) go to
//! `pending` as in `orders`, then on to paid: the executor's pre-report and report (reports'
//! events, put on the bus through `POST /_local/events`), the client's approval, the week's end
//! (the clock's schedule fired at the next Monday: billing invoices, payments collects from the
//! card through the simulated acquirer, billing settles, orders marks `success_paid`); then the
//! month's end (fired at the next month's first day: billing's statements, each salary sent
//! through payments' simulated bank and confirmed back to billing). Reports AWS calls per
//! order (`pending` → `success_paid`) and per statement, by function and operation.
//!
//! `ates-bench pool [--sizes 100,100000] [--tasks N] [--api URL]` — on a running local stack:
//! grows the task tracker's pool of assignable accounts to each size and creates N tasks at
//! each, reporting the create function's AWS calls per creation and the read units of the items
//! it reads (the same at every size), then puts the pool back.
//!
//! `ates-bench mine [--requests N] [--api URL]` — on a running local stack: a worker of its own
//! with 20 open tasks; the p50 and p99 of N warm `GET /tasks/mine` one after another, and the
//! list function's AWS calls per request.
//!
//! `ates-bench cost [--tasks N] [--tasks-per-worker K] [--api URL]` — on a running local stack
//! started with `ATES_LOCAL_CAPACITY=1`: N task lifecycles (created, shuffled once, completed by
//! their assignees; N/K workers; then the day's close through the schedule, its payouts and
//! mails), everything the stack did divided by N and priced line by line at us-east-1 list prices
//! (`cost.rs`): the markdown table of BENCHMARKS.md's cost section.

mod cost;
mod mine;
mod pool;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| default.to_owned())
}

fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("coldstart") => coldstart(),
        Some("tasks") => tasks::run(),
        Some("close") => close::run(),
        Some("rebuild") => rebuild::run(),
        Some("hiring") => hiring::run(),
        Some("orders") => orders::run(),
        Some("money") => money::run(),
        Some("pool") => pool::run(),
        Some("mine") => mine::run(),
        Some("cost") => cost::run(),
        _ => eprintln!(
            "usage: ates-bench coldstart [--runs N] [--dir DIR] | tasks [--tasks N] [--api URL] | close [--accounts N] [--api URL] | rebuild [--events N] [--api URL] | hiring [--applications N] [--api URL] | orders [--orders N] [--api URL] | money [--orders N] [--workers W] [--clients C] [--api URL] | pool [--sizes 100,100000] [--tasks N] [--api URL] | mine [--requests N] [--api URL] | cost [--tasks N] [--tasks-per-worker K] [--api URL]"
        ),
    }
}

/// One start of `binary`: microseconds until its first poll for work, and its peak RSS (KiB) then.
fn one_start(binary: &PathBuf) -> Option<(u128, u64)> {
    let listener = TcpListener::bind("127.0.0.1:0").ok()?;
    let port = listener.local_addr().ok()?.port();
    let started = Instant::now();
    let mut child = Command::new(binary)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}"))
        .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "bench")
        .env("AWS_SECRET_ACCESS_KEY", "bench")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("TABLE_NAME", "Bench")
        .env("EVENT_BUS_NAME", "bench")
        .env(
            "DEAD_LETTER_QUEUE_URL",
            "http://127.0.0.1:9/queue/bench-dlq",
        )
        .env("MAX_RECEIVE_COUNT", "5")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    listener.set_nonblocking(false).ok()?;
    let (stream, _) = {
        let deadline = Instant::now() + Duration::from_secs(10);
        listener.set_nonblocking(true).ok()?;
        loop {
            match listener.accept() {
                Ok(pair) => break pair,
                Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_micros(50))
                }
                Err(_) => {
                    let _ = child.kill();
                    return None;
                }
            }
        }
    };
    stream.set_nonblocking(false).ok()?;
    let mut line = String::new();
    BufReader::new(&stream).read_line(&mut line).ok()?;
    let elapsed = started.elapsed().as_micros();
    let rss = std::fs::read_to_string(format!("/proc/{}/status", child.id()))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0);
    let _ = child.kill();
    let _ = child.wait();
    drop(stream);
    line.contains("/runtime/invocation/next")
        .then_some((elapsed, rss))
}

fn coldstart() {
    let runs: usize = arg("--runs", "30").parse().unwrap_or(30);
    let dir = PathBuf::from(arg("--dir", "target/lambda"));
    let names = [
        "bench-hello",
        "auth-me",
        "auth-create-account",
        "tasks-create-task",
        "tasks-sync-account",
        "tasks-shuffle-page",
        "tasks-outbox-relay",
        "clock-end-day",
    ];
    println!("cold start (process start → first poll for work), {runs} runs each, taken in turns so that the machine's drift reaches every function alike; release bootstraps in {}", dir.display());
    println!(
        "{:<22} {:>10} {:>10} {:>10} {:>10} {:>12} {:>10}",
        "function", "p50 ms", "× hello", "p90 ms", "max ms", "peak RSS KiB", "size KiB"
    );
    let present: Vec<(&str, PathBuf, u64)> = names
        .iter()
        .filter_map(|name| {
            let binary = dir.join(name).join("bootstrap");
            match std::fs::metadata(&binary) {
                Ok(meta) => Some((*name, binary, meta.len())),
                Err(_) => {
                    println!("{name:<22} (no {})", binary.display());
                    None
                }
            }
        })
        .collect();
    for (_, binary, _) in &present {
        let _ = one_start(binary); // page cache warm-up, as a reused Lambda host would have
    }
    let mut times = vec![Vec::new(); present.len()];
    let mut rss = vec![0; present.len()];
    for _ in 0..runs {
        for (i, (_, binary, _)) in present.iter().enumerate() {
            if let Some((us, kib)) = one_start(binary) {
                times[i].push(us);
                rss[i] = rss[i].max(kib);
            }
        }
    }
    let mut hello = None;
    for (i, (name, _, size)) in present.iter().enumerate() {
        let times = &mut times[i];
        if times.is_empty() {
            println!("{name:<22} did not reach its first poll");
            continue;
        }
        times.sort_unstable();
        let pct = |p: usize| times[(times.len() * p / 100).min(times.len() - 1)] as f64 / 1000.0;
        let p50 = pct(50);
        let baseline = *hello.get_or_insert(p50);
        println!(
            "{name:<22} {:>10.2} {:>10.2} {:>10.2} {:>10.2} {:>12} {:>10}",
            p50,
            p50 / baseline,
            pct(90),
            *times.last().unwrap() as f64 / 1000.0,
            rss[i],
            size / 1024
        );
    }
    let _ = std::io::stdout().flush();
}

mod tasks {
    use super::arg;

    use serde_json::{json, Value};
    use std::time::{Duration, Instant};

    /// One request to the local stack's API, a minute at the most.
    pub(crate) fn call(
        api: &str,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let timeout = Some(Duration::from_secs(60));
        ates_tests::call_api(api, method, path, token, body.as_ref(), timeout)
    }

    pub(crate) fn calls(api: &str) -> Value {
        call(api, "GET", "/_local/aws-calls", None, None).1
    }

    pub(crate) fn total(calls: &Value, prefix: &str) -> u64 {
        calls
            .as_object()
            .map(|by_fn| {
                by_fn
                    .iter()
                    .filter(|(f, _)| f.starts_with(prefix))
                    .flat_map(|(_, ops)| {
                        ops.as_object()
                            .into_iter()
                            .flatten()
                            .map(|(_, n)| n.as_u64().unwrap_or(0))
                    })
                    .sum()
            })
            .unwrap_or(0)
    }

    /// Signs the bootstrap admin in (again: access tokens last 15 minutes, a run takes longer).
    pub(crate) fn admin_token(api: &str) -> String {
        let email = std::env::var("ATES_BOOTSTRAP_ADMIN_EMAIL")
            .unwrap_or_else(|_| "admin@ates.local".into());
        let password = std::env::var("ATES_BOOTSTRAP_ADMIN_PASSWORD")
            .unwrap_or_else(|_| "popug-local-admin-pass".into());
        let body = json!({"email": email, "password": password});
        // A busy local stack may answer late (a 503) now and then: a few more tries.
        for _ in 0..10 {
            let (_, tokens) = call(api, "POST", "/auth/sign-in", None, Some(body.clone()));
            if let Some(token) = tokens["access_token"].as_str() {
                return token.to_owned();
            }
            std::thread::sleep(Duration::from_secs(1));
        }
        panic!("the admin could not sign in")
    }

    /// `--tasks 0` skips creation and shuffles whatever is open on the stack.
    pub fn run() {
        let n: usize = arg("--tasks", "10000").parse().unwrap_or(10_000);
        let api = arg("--api", "http://127.0.0.1:3000");
        let mut admin = admin_token(&api);
        if n > 0 {
            for i in 0..5 {
                let email = format!("bench-worker-{i}-{}@popug.test", std::process::id());
                let body = json!({"email": email, "full_name": "Bench", "role": "worker"});
                call(&api, "POST", "/accounts", Some(&admin), Some(body));
            }
            std::thread::sleep(Duration::from_secs(3)); // the task tracker learns of the workers
            let before = calls(&api);
            let started = Instant::now();
            for i in 0..n {
                if i % 1000 == 999 {
                    admin = admin_token(&api);
                }
                let body = json!({"title": format!("Bench task {i}")});
                let (status, answer) = call(&api, "POST", "/tasks", Some(&admin), Some(body));
                assert_eq!(status, 201, "{answer}");
            }
            let took = started.elapsed().as_secs_f64();
            std::thread::sleep(Duration::from_secs(3)); // the relay catches up
            let after = calls(&api);
            let per_task =
                |prefix: &str| (total(&after, prefix) - total(&before, prefix)) as f64 / n as f64;
            println!(
                "create {n} tasks (sequential HTTP): {took:.1}s, {:.0} tasks/s, {:.2} AWS calls per task by the create function, {:.2} by the relay",
                n as f64 / took,
                per_task("TasksCreateTask"),
                per_task("TasksOutboxRelay")
            );
        }

        admin = admin_token(&api);
        let before = calls(&api);
        let started = Instant::now();
        let (status, shuffle) = call(&api, "POST", "/tasks/shuffles", Some(&admin), None);
        assert_eq!(status, 202, "{shuffle}");
        let id = shuffle["shuffle_id"]
            .as_str()
            .expect("a shuffle id")
            .to_owned();
        let deadline = Instant::now() + Duration::from_secs(3600);
        let progress = loop {
            let (status, progress) = call(
                &api,
                "GET",
                &format!("/tasks/shuffles/{id}"),
                Some(&admin),
                None,
            );
            match status {
                200 if progress["status"] == "completed" => break progress,
                200 => {}
                401 => admin = admin_token(&api),
                other => panic!("shuffle status answered {other}: {progress}"),
            }
            assert!(
                Instant::now() < deadline,
                "the shuffle did not complete within an hour: {progress}"
            );
            std::thread::sleep(Duration::from_millis(250));
        };
        let took = started.elapsed().as_secs_f64();
        std::thread::sleep(Duration::from_secs(3)); // the relay publishes the last events
        let reassigned = progress["reassigned"].as_u64().unwrap_or(0).max(1);
        let after = calls(&api);
        let per_task = |prefix: &str| {
            (total(&after, prefix) - total(&before, prefix)) as f64 / reassigned as f64
        };
        println!(
            "shuffle {reassigned} open tasks (of {} counted): {took:.1}s, {:.0} tasks/s, {:.3} AWS calls per task by the page workers, {:.3} by the relay",
            progress["total"],
            reassigned as f64 / took,
            per_task("TasksShufflePage"),
            per_task("TasksOutboxRelay")
        );
        println!(
            "aws calls by function during the shuffle: {}",
            diff(&before, &after)
        );
    }

    pub(crate) fn diff(before: &Value, after: &Value) -> Value {
        let mut out = serde_json::Map::new();
        for (f, ops) in after.as_object().into_iter().flatten() {
            for (op, n) in ops.as_object().into_iter().flatten() {
                let was = before[f][op].as_u64().unwrap_or(0);
                let now = n.as_u64().unwrap_or(0);
                if now > was {
                    out.entry(f.clone()).or_insert_with(|| json!({}))[op] = json!(now - was);
                }
            }
        }
        Value::Object(out)
    }
}

mod close {
    use super::arg;
    use super::tasks::{admin_token, call, calls, diff, total};
    use serde_json::{json, Value};
    use std::time::{Duration, Instant};

    /// A raw DynamoDB call to the stack's emulator.
    pub(crate) fn dynamodb(endpoint: &str, target: &str, body: &Value) -> Value {
        ureq::post(&format!("{endpoint}/"))
            .set("x-amz-target", &format!("DynamoDB_20120810.{target}"))
            .set("content-type", "application/x-amz-json-1.0")
            .set(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=test/20261121/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0",
            )
            .send_string(&body.to_string())
            .unwrap_or_else(|e| panic!("{target}: {e}"))
            .into_json()
            .expect("json")
    }

    /// The stack's emulator and its table whose name holds `context`.
    pub(crate) fn emulator_table(api: &str, context: &str) -> (String, String) {
        let info = call(api, "GET", "/_local/info", None, None).1;
        let endpoint = info["aws_endpoint"]
            .as_str()
            .expect("aws_endpoint")
            .to_owned();
        let tables = dynamodb(&endpoint, "ListTables", &json!({}));
        let table = tables["TableNames"]
            .as_array()
            .and_then(|names| {
                names
                    .iter()
                    .filter_map(Value::as_str)
                    .find(|n| n.contains(context))
            })
            .unwrap_or_else(|| panic!("the {context} table"))
            .to_owned();
        (endpoint, table)
    }

    /// A ledger account as the accounting store keeps it, with one open day.
    fn account(id: &str, date: &str, in_credit: bool) -> Value {
        let partition = u32::from_str_radix(&id[id.len() - 2..], 16).unwrap() % 16;
        let (fees, rewards) = if in_credit { (-1500, 3000) } else { (-1500, 0) };
        json!({
            "pk": {"S": format!("ACCOUNT#{id}")}, "sk": {"S": "ACCOUNT"},
            "account_id": {"S": id}, "balance_cents": {"N": (fees + rewards).to_string()},
            "sequence": {"N": if in_credit { "2" } else { "1" }}, "opening_cents": {"N": "0"},
            "open_days": {"M": {date: {"M": {"fees_cents": {"N": fees.to_string()}, "rewards_cents": {"N": rewards.to_string()}}}}},
            "gsi1pk": {"S": format!("ACCOUNTS#{partition}")}, "gsi1sk": {"S": id}
        })
    }

    pub fn run() {
        let n: usize = arg("--accounts", "10000").parse().unwrap_or(10_000);
        let api = arg("--api", "http://127.0.0.1:3000");
        let date = arg("--date", "2030-01-01");
        let (endpoint, table) = emulator_table(&api, "Accounting");
        let seeded = Instant::now();
        let ids: Vec<String> = (0..n)
            .map(|i| {
                format!(
                    "{:08x}-0000-4000-8000-{:012x}",
                    std::process::id(),
                    i * 7919
                )
            })
            .collect();
        for (c, chunk) in ids.chunks(25).enumerate() {
            let requests: Vec<Value> = chunk
                .iter()
                .enumerate()
                .map(|(i, id)| {
                    let in_credit = (c * 25 + i) % 2 == 0;
                    json!({"PutRequest": {"Item": account(id, &date, in_credit)}})
                })
                .collect();
            dynamodb(
                &endpoint,
                "BatchWriteItem",
                &json!({"RequestItems": {&table: requests}}),
            );
        }
        dynamodb(
            &endpoint,
            "UpdateItem",
            &json!({"TableName": table, "Key": {"pk": {"S": "COUNTER"}, "sk": {"S": "ACCOUNTS"}},
                    "UpdateExpression": "ADD accounts :n", "ExpressionAttributeValues": {":n": {"N": n.to_string()}}}),
        );
        println!(
            "seeded {n} ledger accounts in {:.1}s",
            seeded.elapsed().as_secs_f64()
        );

        let mut admin = admin_token(&api);
        let before = calls(&api);
        let units_before = super::cost::snapshot(&api);
        let started = Instant::now();
        let next_day = chrono_next_day(&date);
        let (status, fired) = call(
            &api,
            "POST",
            &format!("/_local/schedules/ClockEndDayFunction/DayEnd/fire?at={next_day}T00:00:00Z"),
            None,
            None,
        );
        assert_eq!(status, 200, "{fired}");
        let deadline = Instant::now() + Duration::from_secs(7200);
        // (seconds since the day ended, accounts closed by then): does a page slow as it goes?
        let mut progress: Vec<(f64, u64)> = Vec::new();
        // An emulator this busy answers the status route late at times (a 503 after the
        // function's 10 s); the close runs on regardless, so only a long run of them ends the bench.
        let mut unanswered = 0;
        let close = loop {
            let (status, close) = call(
                &api,
                "GET",
                &format!("/accounting/closes/{date}"),
                Some(&admin),
                None,
            );
            match status {
                200 if close["status"] == "completed" => break close,
                200 => {
                    unanswered = 0;
                    progress.push((
                        started.elapsed().as_secs_f64(),
                        close["accounts_closed"].as_u64().unwrap_or(0),
                    ))
                }
                401 => admin = admin_token(&api),
                500..=599 if unanswered < 30 => unanswered += 1,
                other => panic!("the close's status answered {other}: {close}"),
            }
            assert!(
                Instant::now() < deadline,
                "the close did not complete within two hours: {close}"
            );
            std::thread::sleep(Duration::from_millis(500));
        };
        let took = started.elapsed().as_secs_f64();
        std::thread::sleep(Duration::from_secs(5)); // the relay publishes the last events
        let after = calls(&api);
        let closed = close["accounts_closed"].as_u64().unwrap_or(0).max(1);
        let per_account =
            |prefix: &str| (total(&after, prefix) - total(&before, prefix)) as f64 / closed as f64;
        println!(
            "close of {closed} accounts ({} payouts, {} debts, {} cents paid): {took:.1}s, {:.0} accounts/s, {:.2} AWS calls per account by the close pages, {:.2} by the relay",
            close["payouts"], close["debts"], close["paid_cents"],
            closed as f64 / took,
            per_account("AccountingClosePage"),
            per_account("AccountingOutboxRelay"),
        );
        println!(
            "aws calls by function during the close: {}",
            diff(&before, &after)
        );
        println!("{}", pace(&progress, closed));
        pages_and_model(&units_before, &super::cost::snapshot(&api), closed);
    }

    /// Accounts closed a second in the first and the last third of the close: equal, if no
    /// page rescans what the pages before it read.
    fn pace(progress: &[(f64, u64)], closed: u64) -> String {
        let at = |share: f64| {
            progress
                .iter()
                .find(|(_, done)| *done as f64 >= share * closed as f64)
                .copied()
        };
        match (at(0.0), at(1.0 / 3.0), at(2.0 / 3.0), progress.last()) {
            (Some(a), Some(b), Some(c), Some(d)) if b.0 > a.0 && d.0 > c.0 => format!(
                "pace: {:.1} accounts/s in the first third, {:.1} in the last",
                (b.1 - a.1) as f64 / (b.0 - a.0),
                (d.1 - c.1) as f64 / (d.0 - c.0)
            ),
            _ => "pace: too few samples".to_owned(),
        }
    }

    /// Wait between one page's commit and the next page's start on AWS: DynamoDB Streams are
    /// polled four times a second per shard (250 ms at worst), the relay's SendMessageBatch
    /// (10 ms), the queue's long poll handing the message over (100 ms assumed), rounded up.
    const HOP_MS: f64 = 500.0;
    /// Accounts a close page closes at once (`app::CLOSING_AT_ONCE`), of a full page's
    /// (`store::PAGE_SIZE`).
    const CLOSING_AT_ONCE: f64 = 25.0;
    const PAGE_SIZE: f64 = 100.0;
    /// The close's partitions (`ledger::PARTITIONS`), each a chain of pages.
    const PARTITIONS: f64 = 16.0;

    /// Per page, what the pages did here; and the minutes a close of a million accounts takes
    /// on AWS: full pages, each with the reads a page made here at `cost::assumed::latency_ms`,
    /// its accounts' transactions in waves of [`CLOSING_AT_ONCE`] and its own commit, plus
    /// [`HOP_MS`] to the next.
    fn pages_and_model(before: &Value, after: &Value, closed: u64) {
        let spent = super::cost::Spent::between(before, after, &[]);
        let page_fn = |f: &str| f.starts_with("AccountingClosePage");
        let pages: f64 = spent
            .lambda
            .iter()
            .filter(|(f, _)| page_fn(f))
            .map(|(_, l)| l.invocations)
            .sum();
        if pages == 0.0 {
            println!("no close page ran");
            return;
        }
        let per_page = closed as f64 / pages;
        let mut reads_ms = 0.0;
        let mut line = Vec::new();
        for ((f, op), n) in &spent.calls {
            if !page_fn(f) || !op.starts_with("dynamodb:") || op.ends_with("Units") {
                continue;
            }
            let n = n / pages;
            line.push(format!("{op} {n:.2}"));
            if op != "dynamodb:TransactWriteItems" {
                reads_ms += n * super::cost::assumed::latency_ms(op);
            }
        }
        let local_ms: f64 = spent
            .lambda
            .iter()
            .filter(|(f, _)| page_fn(f))
            .map(|(_, l)| l.duration_ms)
            .sum::<f64>()
            / pages;
        // A full page's account transactions go in waves; the page's own commit after them.
        let waves = (PAGE_SIZE / CLOSING_AT_ONCE).ceil();
        let transaction_ms = super::cost::assumed::latency_ms("dynamodb:TransactWriteItems");
        let page_ms = reads_ms + (waves + 1.0) * transaction_ms;
        let pages_per_partition = (1_000_000.0 / PARTITIONS / PAGE_SIZE).ceil();
        let minutes = pages_per_partition * (page_ms + HOP_MS) / 60_000.0;
        println!(
            "per page ({pages:.0} pages, {per_page:.1} accounts a page): {}; {local_ms:.0} ms locally",
            line.join(", ")
        );
        println!(
            "modelled on AWS: {page_ms:.0} ms a page ({reads_ms:.0} ms of reads, {waves:.0} waves of account transactions and the page's commit at {transaction_ms:.0} ms) + {HOP_MS:.0} ms to the next page; a million accounts: {PARTITIONS:.0} partitions of {pages_per_partition:.0} pages, {minutes:.1} minutes"
        );
    }

    /// The day after a `YYYY-MM-DD` date (the bench has no date library).
    fn chrono_next_day(date: &str) -> String {
        let parts: Vec<u32> = date
            .split('-')
            .map(|p| p.parse().expect("a date"))
            .collect();
        let (y, m, d) = (parts[0], parts[1], parts[2]);
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let days = [
            31,
            if leap { 29 } else { 28 },
            31,
            30,
            31,
            30,
            31,
            31,
            30,
            31,
            30,
            31,
        ][m as usize - 1];
        match (d < days, m < 12) {
            (true, _) => format!("{y:04}-{m:02}-{:02}", d + 1),
            (false, true) => format!("{y:04}-{:02}-01", m + 1),
            (false, false) => format!("{:04}-01-01", y + 1),
        }
    }
}

mod rebuild {
    use super::arg;
    use super::tasks::{admin_token, call, calls, total};
    use serde_json::{json, Value};
    use std::time::{Duration, Instant};

    const EMPLOYEES: usize = 200;
    const DAYS: usize = 30;

    /// The `i`th posting: fees and rewards in turn, on one of the employees' accounts, spread
    /// over the days; each account's sequence and balance move forward.
    fn posting(run: u32, i: usize, balances: &mut [(u64, i64)]) -> Value {
        let who = i % EMPLOYEES;
        let account = format!("{run:08x}-0000-4000-8000-{who:012x}");
        let task = format!("{run:08x}-0000-4000-9000-{:012x}", i / 2);
        let reward = (i / EMPLOYEES) % 2 == 1;
        let amount: i64 = if reward {
            2000 + (i % 2000) as i64
        } else {
            -(1000 + (i % 1000) as i64)
        };
        let (sequence, balance) = &mut balances[who];
        *sequence += 1;
        *balance += amount;
        let day = 1 + (i / EMPLOYEES) % DAYS;
        let date = format!("2030-01-{day:02}");
        let kind = if reward { "reward" } else { "fee" };
        let data = json!({
            "transaction_id": format!("{kind}:{run:08x}:{i}"), "kind": kind,
            "account_id": account, "amount_cents": amount, "balance_after_cents": *balance,
            "sequence": *sequence, "business_date": date,
            "occurred_at": format!("{date}T10:00:00Z"), "posted_at": format!("{date}T10:00:01Z"),
            "task_id": task,
            "legs": [{"account": format!("employee:{account}"), "amount_cents": amount},
                     {"account": "company:revenue", "amount_cents": -amount}],
        });
        json!({
            "source": "ates.accounting", "detail-type": "Ledger.TransactionPosted",
            "detail": {"id": format!("{run:08x}-0000-7000-8000-{i:012x}"), "name": "Ledger.TransactionPosted",
                       "version": 1, "occurred_at": format!("{date}T10:00:01Z"), "producer": "accounting",
                       "correlation_id": "bench-rebuild", "data": data},
        })
    }

    fn movements(api: &str) -> u64 {
        total(&calls(api), "AnalyticsRecordMovement")
    }

    fn wait(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + limit;
        while !done() {
            assert!(Instant::now() < deadline, "not within {limit:?}: {what}");
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    pub fn run() {
        let n: usize = arg("--events", "50000").parse().unwrap_or(50_000);
        let api = arg("--api", "http://127.0.0.1:3000");
        let run = std::process::id();
        let mut balances = vec![(0u64, 0i64); EMPLOYEES];
        let before = movements(&api);
        let published = Instant::now();
        let events: Vec<Value> = (0..n).map(|i| posting(run, i, &mut balances)).collect();
        for chunk in events.chunks(10) {
            let (status, answer) = call(&api, "POST", "/_local/events", None, Some(json!(chunk)));
            assert!(status < 300, "publish: {status} {answer}");
        }
        println!(
            "published {n} events in {:.1}s",
            published.elapsed().as_secs_f64()
        );
        // Each movement is at least one AWS call of the consumer's; wait until it is quiet.
        let mut last = (movements(&api), Instant::now());
        wait(
            "analytics takes the events live",
            Duration::from_secs(7200),
            || {
                let now = movements(&api);
                if now != last.0 {
                    last = (now, Instant::now());
                }
                now - before >= n as u64 && last.1.elapsed() > Duration::from_secs(5)
            },
        );
        println!(
            "analytics had them live after {:.1}s",
            published.elapsed().as_secs_f64()
        );

        let admin = admin_token(&api);
        let calls_before = calls(&api);
        let started = Instant::now();
        let (status, rebuild) = call(&api, "POST", "/analytics/rebuilds", Some(&admin), None);
        assert_eq!(status, 202, "{rebuild}");
        let id = rebuild["rebuild_id"].as_str().expect("id").to_owned();
        let mut admin = admin;
        let mut progress = Value::Null;
        wait("the rebuild completes", Duration::from_secs(7200), || {
            call(
                &api,
                "POST",
                "/_local/schedules/AnalyticsSettleRebuildFunction/Watch/fire",
                None,
                None,
            );
            let (status, now) = call(
                &api,
                "GET",
                &format!("/analytics/rebuilds/{id}"),
                Some(&admin),
                None,
            );
            if status == 401 {
                // The access token ran out during a long rebuild: sign in again, keep waiting.
                admin = admin_token(&api);
                return false;
            }
            progress = now;
            progress["status"] != "replaying"
        });
        let took = started.elapsed().as_secs_f64();
        assert_eq!(progress["status"], "completed", "{progress}");
        let after = calls(&api);
        let per_event =
            |prefix: &str| (total(&after, prefix) - total(&calls_before, prefix)) as f64 / n as f64;
        println!(
            "rebuild of {n} events (of {} on the bus): {took:.1}s, {:.0} events/s, {:.2} AWS calls per event by the consumer, {:.4} by start/settle",
            n, n as f64 / took, per_event("AnalyticsRecordMovement"),
            per_event("AnalyticsStartRebuild") + per_event("AnalyticsSettleRebuild"),
        );
    }
}

/// Waits until `found` finds it, for at most two minutes.
fn wait<T>(what: &str, mut found: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(t) = found() {
            return t;
        }
        assert!(Instant::now() < deadline, "not within 2 minutes: {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The AWS calls so far, once they stopped growing (nothing is still at work).
fn settled(api: &str) -> serde_json::Value {
    let mut last = tasks::calls(api);
    loop {
        std::thread::sleep(Duration::from_secs(3));
        let now = tasks::calls(api);
        if now == last {
            return last;
        }
        last = now;
    }
}

/// AWS calls by function and operation in `spent` (`/_local/aws-calls` differences), each per
/// one of the `n` `things` the run made, and their sum.
fn per_function(spent: &serde_json::Value, n: usize, thing: &str) {
    let mut rows: Vec<(String, String)> = spent
        .as_object()
        .into_iter()
        .flatten()
        .map(|(function, ops)| {
            let per: Vec<String> = ops
                .as_object()
                .into_iter()
                .flatten()
                .map(|(op, count)| {
                    format!("{op} x{:.2}", count.as_u64().unwrap_or(0) as f64 / n as f64)
                })
                .collect();
            (function.clone(), per.join(", "))
        })
        .collect();
    rows.sort();
    let total: u64 = spent
        .as_object()
        .into_iter()
        .flatten()
        .flat_map(|(_, ops)| ops.as_object().into_iter().flatten())
        .map(|(_, c)| c.as_u64().unwrap_or(0))
        .sum();
    for (function, per) in rows {
        println!("  {function}: {per}");
    }
    println!(
        "  in all: {:.2} AWS calls per {thing}",
        total as f64 / n as f64
    );
}

mod hiring {
    use super::tasks::{admin_token, call, calls, diff};
    use super::{arg, wait};
    use serde_json::{json, Value};
    use std::time::{Duration, Instant};

    /// A request with an application token (the applicant's routes).
    fn as_applicant(
        api: &str,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Value {
        let mut req =
            ureq::request(method, &format!("{api}{path}")).set("application-token", token);
        req = req.timeout(Duration::from_secs(60));
        let response = match body {
            Some(b) => req.send_json(b),
            None => req.call(),
        }
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        response.into_json().expect("json")
    }

    fn mails_to(api: &str, email: &str) -> Vec<Value> {
        let (_, mail) = call(api, "GET", "/_local/mail", None, None);
        mail.as_array()
            .into_iter()
            .flatten()
            .filter(|m| m["to"].to_string().contains(email))
            .cloned()
            .collect()
    }

    /// A one-question test bank: answers (profile id, question id, the right option).
    fn bank(api: &str, manager: &str) -> (String, String, String) {
        let question = json!({"text": "Which of these is a parrot?", "options": [
            {"text": "A popug", "points": 5}, {"text": "A cat", "points": 0}]});
        let (_, q) = call(
            api,
            "POST",
            "/hiring/questions",
            Some(manager),
            Some(question),
        );
        let question_id = q["question_id"].as_str().expect("question").to_owned();
        let right = q["options"][0]["option_id"].as_str().unwrap().to_owned();
        let test = json!({"title": "Parrots", "question_ids": [question_id]});
        let (_, t) = call(api, "POST", "/hiring/tests", Some(manager), Some(test));
        let profile = json!({"name": "Bench", "test_ids": [t["test_id"]], "pass_mark": 5, "time_limit_days": 7});
        let (_, p) = call(
            api,
            "POST",
            "/hiring/profiles",
            Some(manager),
            Some(profile),
        );
        let profile_id = p["profile_id"].as_str().expect("profile").to_owned();
        (profile_id, question_id, right)
    }

    pub fn run() {
        let n: usize = arg("--applications", "20").parse().unwrap_or(20);
        let api = arg("--api", "http://127.0.0.1:3000");
        let admin = admin_token(&api);
        let run = std::process::id();
        let manager_email = format!("bench-manager-{run}@popug.test");
        let body = json!({"email": manager_email, "full_name": "Bench", "role": "manager", "password": "a-popug-password"});
        call(&api, "POST", "/accounts", Some(&admin), Some(body));
        let body = json!({"email": manager_email, "password": "a-popug-password"});
        let (_, tokens) = call(&api, "POST", "/auth/sign-in", None, Some(body));
        let manager = tokens["access_token"].as_str().expect("manager").to_owned();
        std::thread::sleep(Duration::from_secs(3)); // hiring learns of the manager
        let (profile_id, question_id, right) = bank(&api, &manager);

        let before = calls(&api);
        let started = Instant::now();
        let mut addresses = Vec::new();
        for i in 0..n {
            let email = format!("bench-applicant-{run}-{i}@popug.test");
            let form = json!({"email": email, "full_name": "Bench Popug", "kind": "worker"});
            let (status, applied) = call(&api, "POST", "/hiring/applications", None, Some(form));
            assert_eq!(status, 202, "{applied}");
            let id = applied["application_id"].as_str().unwrap().to_owned();
            let mail = wait("the token mailed", || {
                mails_to(&api, &email).first().cloned()
            });
            let text = mail["body"].as_str().unwrap_or_default().to_owned();
            let token = text
                .split("with this token: ")
                .nth(1)
                .and_then(|rest| rest.split_whitespace().next())
                .expect("a token")
                .to_owned();
            let assign = json!({"test_profile_id": profile_id});
            let path = format!("/hiring/applications/{id}/test");
            let (status, answer) = call(&api, "POST", &path, Some(&manager), Some(assign));
            assert_eq!(status, 200, "{answer}");
            as_applicant(
                &api,
                "GET",
                &format!("/hiring/applications/{id}"),
                &token,
                None,
            );
            let answers = json!({"answers": [{"question_id": question_id, "option_ids": [right]}]});
            let path = format!("/hiring/applications/{id}/answers");
            let scored = as_applicant(&api, "POST", &path, &token, Some(answers));
            assert_eq!(scored["passed"], true, "{scored}");
            let acceptance = json!({"skills": ["carpets"], "level": "middle"});
            let path = format!("/hiring/applications/{id}/accept");
            let (status, answer) = call(&api, "POST", &path, Some(&manager), Some(acceptance));
            assert_eq!(status, 200, "{answer}");
            addresses.push(email);
        }
        // Quiet: every applicant has their mails (token, received, test, accepted) and the
        // calls stop growing.
        for email in &addresses {
            wait("the acceptance mailed", || {
                (mails_to(&api, email).len() >= 4).then_some(())
            });
        }
        let last = super::settled(&api);
        let took = started.elapsed().as_secs_f64();
        let spent = diff(&before, &last);
        println!(
            "hiring: {n} worker applications, submitted to accepted and mailed, in {took:.1}s"
        );
        super::per_function(&spent, n, "application");
    }
}

mod orders {
    use super::tasks::{admin_token, call, calls, diff};
    use super::{arg, wait};
    use serde_json::{json, Value};
    use std::time::{Duration, Instant};

    /// A new account of `role`; answers (id, access token).
    fn account(api: &str, admin: &str, role: &str, run: u32) -> (String, String) {
        let email = format!("bench-{role}-{run}@popug.test");
        let body = json!({"email": email, "full_name": "Bench", "role": role, "password": "a-popug-password"});
        let (status, created) = call(api, "POST", "/accounts", Some(admin), Some(body));
        assert_eq!(status, 201, "{created}");
        let body = json!({"email": email, "password": "a-popug-password"});
        let (_, tokens) = call(api, "POST", "/auth/sign-in", None, Some(body));
        let id = created["account_id"].as_str().expect("id").to_owned();
        (
            id,
            tokens["access_token"].as_str().expect("token").to_owned(),
        )
    }

    fn order(api: &str, client: &str, id: &str) -> Value {
        call(api, "GET", &format!("/orders/{id}"), Some(client), None).1
    }

    pub fn run() {
        let n: usize = arg("--orders", "10").parse().unwrap_or(10);
        let api = arg("--api", "http://127.0.0.1:3000");
        let admin = admin_token(&api);
        let run = std::process::id();
        let skill = format!("bench-{run}");
        let (_, manager) = account(&api, &admin, "manager", run);
        let (_, client) = account(&api, &admin, "client", run);
        let (worker, _) = account(&api, &admin, "worker", run);
        let now = chrono::Utc::now();
        let profile = json!({
            "source": "ates.hiring", "detail-type": "Worker.ProfileSet",
            "detail": {"id": uuid::Uuid::now_v7(), "name": "Worker.ProfileSet", "version": 1,
                "occurred_at": now, "producer": "hiring", "correlation_id": "bench",
                "data": {"account_id": worker, "skills": [skill], "level": "middle", "revision": 1, "set_at": now}}
        });
        call(&api, "POST", "/_local/events", None, Some(profile));
        std::thread::sleep(Duration::from_secs(3)); // every context learns of the accounts
        let kind = json!({"name": "Bench", "base_price_cents": 12000, "required_skill": skill,
            "duration_minutes": 60, "supplies": [{"item": "sponge", "quantity": 1}]});
        let (status, kind) = call(
            &api,
            "POST",
            "/orders/service-types",
            Some(&manager),
            Some(kind),
        );
        assert_eq!(status, 201, "{kind}");
        std::thread::sleep(Duration::from_secs(3)); // the calculator learns of the type

        let before = calls(&api);
        let started = Instant::now();
        for i in 0..n {
            // Slots three hours apart: the one worker is free for every order.
            let slot = now + chrono::Duration::days(1) + chrono::Duration::hours(3 * i as i64);
            let body = json!({"service_type_id": kind["service_type_id"], "description": "Bench",
                "address": "1 Nest Lane", "slot_start": slot});
            let (status, created) = call(&api, "POST", "/orders", Some(&client), Some(body));
            assert_eq!(status, 201, "{created}");
            let id = created["order_id"].as_str().unwrap().to_owned();
            let kit = wait("the kit delivered", || {
                let (_, kits) = call(
                    &api,
                    "GET",
                    "/supplies/kits?status=received",
                    Some(&manager),
                    None,
                );
                kits["kits"]
                    .as_array()?
                    .iter()
                    .find(|k| k["order_id"] == id.as_str() && !k["executor_id"].is_null())
                    .cloned()
            });
            let path = format!("/supplies/kits/{}/issue", kit["kit_id"].as_str().unwrap());
            let (status, issued) = call(&api, "POST", &path, Some(&manager), Some(json!({})));
            assert_eq!(status, 200, "{issued}");
            wait("the order pending", || {
                (order(&api, &client, &id)["places"] == json!(["rated", "pending"])).then_some(())
            });
        }
        let last = super::settled(&api);
        let took = started.elapsed().as_secs_f64();
        println!("orders: {n} orders, new to pending, in {took:.1}s (the reads of this bench's polling included)");
        // This bench's own polling (an order's reads, the kits listed until one arrives) is not
        // the order's cost: shown apart, left out of the sum.
        let mut spent = diff(&before, &last);
        let polling = ["OrdersGet", "SuppliesListKits"];
        if let Some(by_function) = spent.as_object_mut() {
            by_function.retain(|function, ops| {
                let polled = polling.iter().any(|p| function.starts_with(p));
                if polled {
                    println!("  (polling, left out) {function}: {ops}");
                }
                !polled
            });
        }
        super::per_function(&spent, n, "order");
    }
}

mod money {
    use super::tasks::{admin_token, call, diff};
    use super::{arg, settled, wait};
    use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, TimeDelta, Utc};
    use serde_json::{json, Value};
    use std::collections::BTreeMap;
    use std::time::{Duration, Instant};

    /// Calls that are neither an order's nor a statement's, shown apart and left out of the sums:
    /// this bench's own polling; the timers that fire on their own every few minutes, whatever
    /// happens; and the task tracker's day close (accounting, its analytics and mails), which
    /// every `Clock.DayEnded` starts, a month's or a week's last day's too.
    const POLLING: [&str; 3] = ["OrdersGet", "SuppliesListKits", "BillingMyInvoices"];
    const TIMERS: [&str; 6] = [
        "HiringMissDeadlines",
        "MatchingRetryWaiting",
        "OrdersApproveReports",
        "BillingDun",
        "SuppliesChaseKits",
        "AnalyticsSettleRebuild",
    ];
    const DAY_CLOSE: [&str; 3] = ["Accounting", "Analytics", "Notifications"];

    fn time(at: DateTime<Utc>) -> String {
        at.to_rfc3339_opts(SecondsFormat::Secs, true)
    }

    /// A new account of `role`; answers (id, access token).
    fn account(api: &str, admin: &str, role: &str, tag: &str) -> (String, String) {
        let email = format!("bench-{role}-{tag}@popug.test");
        let body = json!({"email": email, "full_name": "Bench", "role": role, "password": "a-popug-password"});
        let (status, created) = call(api, "POST", "/accounts", Some(admin), Some(body));
        assert_eq!(status, 201, "{created}");
        let body = json!({"email": email, "password": "a-popug-password"});
        let (_, tokens) = call(api, "POST", "/auth/sign-in", None, Some(body));
        let id = created["account_id"].as_str().expect("id").to_owned();
        (
            id,
            tokens["access_token"].as_str().expect("token").to_owned(),
        )
    }

    /// An event as its producer's relay would put it on the bus.
    fn publish(api: &str, producer: &str, name: &str, data: Value) {
        let event = json!({
            "source": format!("ates.{producer}"), "detail-type": name,
            "detail": {"id": uuid::Uuid::now_v7(), "name": name, "version": 1,
                "occurred_at": time(Utc::now()), "producer": producer,
                "correlation_id": format!("bench-{}", uuid::Uuid::now_v7()), "data": data}
        });
        let (status, answer) = call(api, "POST", "/_local/events", None, Some(event));
        assert!(
            status == 200 && answer["failed"] == 0,
            "{name}: {status} {answer}"
        );
    }

    fn order(api: &str, client: &str, id: &str) -> Value {
        call(api, "GET", &format!("/orders/{id}"), Some(client), None).1
    }

    fn marked(order: &Value, place: &str) -> bool {
        order["places"]
            .as_array()
            .is_some_and(|places| places.iter().any(|p| p == place))
    }

    /// Fires the clock's end of day at `at` (one attempt); answers the events it published.
    fn end_day_at(api: &str, at: &str) -> Vec<String> {
        let path = format!("/_local/schedules/ClockEndDayFunction/DayEnd/fire?at={at}");
        let (status, fired) = call(api, "POST", &path, None, None);
        assert_eq!(status, 200, "{fired}");
        fired["response"]["events"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["name"].as_str().map(str::to_owned))
            .collect()
    }

    /// How many events named `name` went over the bus (the stack's record, no AWS call).
    fn published(api: &str, name: &str) -> usize {
        let path = format!("/_local/events?detail-type={name}");
        call(api, "GET", &path, None, None)
            .1
            .as_array()
            .map_or(0, Vec::len)
    }

    /// What went over the bus and into the functions so far, from the stack's own records (no
    /// AWS call): events by name, and messages or stream records handed to each function.
    /// The day's close (`Clock.DayEnded`, accounting's events, their consumers) is left out.
    fn traffic(api: &str) -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
        let mut events = BTreeMap::new();
        let (_, seen) = call(api, "GET", "/_local/events", None, None);
        for e in seen.as_array().into_iter().flatten() {
            let name = e["detail-type"].as_str().unwrap_or("?");
            if e["source"] != "ates.accounting" && name != "Clock.DayEnded" {
                *events.entry(name.to_owned()).or_insert(0) += 1;
            }
        }
        let mut delivered = BTreeMap::new();
        let (_, ledger) = call(api, "GET", "/_local/deliveries", None, None);
        for (function, receipts) in ledger.as_object().into_iter().flatten() {
            if DAY_CLOSE.iter().any(|p| function.starts_with(p)) {
                continue;
            }
            let n: u64 = receipts
                .as_object()
                .into_iter()
                .flatten()
                .map(|(_, r)| r["deliveries"].as_u64().unwrap_or(0))
                .sum();
            delivered.insert(function.clone(), n);
        }
        (events, delivered)
    }

    type Traffic = (BTreeMap<String, u64>, BTreeMap<String, u64>);

    /// The events and deliveries between two [`traffic`]s, per one of `n` `thing`s.
    fn print_traffic(before: &Traffic, after: &Traffic, n: usize, thing: &str) {
        for (what, b, a) in [
            ("events on the bus", &before.0, &after.0),
            ("deliveries to functions", &before.1, &after.1),
        ] {
            let mut all = 0;
            let rows: Vec<String> = a
                .iter()
                .filter_map(|(k, v)| {
                    let d = v - b.get(k).copied().unwrap_or(0);
                    all += d;
                    (d > 0).then(|| format!("{k} x{:.2}", d as f64 / n as f64))
                })
                .collect();
            println!(
                "  {what} per {thing}: {:.2} ({})",
                all as f64 / n as f64,
                rows.join(", ")
            );
        }
    }

    /// Takes the polling, the timers and the day close out of `spent` (printing them), and
    /// prints the rest per one of `n` `thing`s.
    fn report(spent: &Value, n: usize, thing: &str) {
        let mut spent = spent.clone();
        if let Some(by_function) = spent.as_object_mut() {
            by_function.retain(|function, ops| {
                let apart = [
                    ("polling", &POLLING[..]),
                    ("timer", &TIMERS[..]),
                    ("the day's close", &DAY_CLOSE[..]),
                ]
                .into_iter()
                .find(|(_, names)| names.iter().any(|p| function.starts_with(p)));
                if let Some((why, _)) = apart {
                    println!("  ({why}, left out) {function}: {ops}");
                }
                apart.is_none()
            });
        }
        super::per_function(&spent, n, thing);
    }

    pub fn run() {
        let n: usize = arg("--orders", "10").parse().unwrap_or(10);
        let w: usize = arg("--workers", "5").parse().unwrap_or(5).clamp(1, n);
        let c: usize = arg("--clients", &n.to_string())
            .parse()
            .unwrap_or(n)
            .clamp(1, n);
        let api = arg("--api", "http://127.0.0.1:3000");
        let admin = admin_token(&api);
        let run = std::process::id();
        let now = Utc::now();

        // The people: a manager, C clients, W workers each with a skill of their own (so that
        // order i goes to worker i mod W and every worker has a statement).
        let (_, manager) = account(&api, &admin, "manager", &run.to_string());
        let clients: Vec<(String, String)> = (0..c)
            .map(|i| account(&api, &admin, "client", &format!("{run}-{i}")))
            .collect();
        let mut skills = Vec::new();
        let mut payees = Vec::new();
        for i in 0..w {
            let (worker, token) = account(&api, &admin, "worker", &format!("{run}-{i}"));
            payees.push(token);
            let skill = format!("bench-{run}-{i}");
            publish(
                &api,
                "hiring",
                "Worker.ProfileSet",
                json!({"account_id": worker, "skills": [skill], "level": "middle",
                    "revision": 1, "set_at": time(now)}),
            );
            skills.push(skill);
        }
        // Every worker gives an IBAN, so the month's salaries go through the (simulated) bank.
        for token in &payees {
            wait("payments keeps the worker's IBAN", || {
                let iban = json!({"iban": "DE89 3704 0044 0532 0130 00"});
                let (status, _) = call(
                    &api,
                    "PUT",
                    "/accounting/me/payout-details",
                    Some(token),
                    Some(iban),
                );
                (status == 200).then_some(())
            });
        }
        for (_, token) in &clients {
            wait("payments keeps the client's card", || {
                let card = json!({"card_token": "tok_visa"});
                let (status, _) = call(&api, "PUT", "/payments/me/card", Some(token), Some(card));
                (status == 200).then_some(())
            });
        }
        let kinds: Vec<Value> = skills
            .iter()
            .map(|skill| {
                let kind = json!({"name": format!("Bench {skill}"), "base_price_cents": 12000,
                    "required_skill": skill, "duration_minutes": 60,
                    "supplies": [{"item": "sponge", "quantity": 1}]});
                let (status, kind) = call(
                    &api,
                    "POST",
                    "/orders/service-types",
                    Some(&manager),
                    Some(kind),
                );
                assert_eq!(status, 201, "{kind}");
                kind["service_type_id"].clone()
            })
            .collect();
        std::thread::sleep(Duration::from_secs(3)); // every context learns of the workers and types

        // `new` to `pending`, as `ates-bench orders` (counted too, as a check against it).
        let started = Instant::now();
        let before = settled(&api);
        let mut ids = Vec::new();
        for i in 0..n {
            let client = &clients[i % c].1;
            // Slots three hours apart: every worker is free for every order.
            let slot = now + TimeDelta::days(1) + TimeDelta::hours(3 * i as i64);
            let body = json!({"service_type_id": kinds[i % w], "description": "Bench",
                "address": "1 Nest Lane", "slot_start": slot});
            let (status, created) = call(&api, "POST", "/orders", Some(client), Some(body));
            assert_eq!(status, 201, "{created}");
            let id = created["order_id"].as_str().unwrap().to_owned();
            let kit = wait("the kit delivered", || {
                let path = "/supplies/kits?status=received";
                let (_, kits) = call(&api, "GET", path, Some(&manager), None);
                kits["kits"]
                    .as_array()?
                    .iter()
                    .find(|k| k["order_id"] == id.as_str() && !k["executor_id"].is_null())
                    .cloned()
            });
            let path = format!("/supplies/kits/{}/issue", kit["kit_id"].as_str().unwrap());
            let (status, issued) = call(&api, "POST", &path, Some(&manager), Some(json!({})));
            assert_eq!(status, 200, "{issued}");
            wait("the order pending", || {
                marked(&order(&api, client, &id), "pending").then_some(())
            });
            ids.push(id);
        }
        let pending = settled(&api);
        let pending_traffic = traffic(&api);
        println!(
            "money: {n} orders by {c} clients to {w} workers, new to pending in {:.1}s",
            started.elapsed().as_secs_f64()
        );
        report(&diff(&before, &pending), n, "order, new to pending");

        // `pending` to approved: the executor's pre-report and report, the client's approval.
        let started = Instant::now();
        for (i, id) in ids.iter().enumerate() {
            let client = &clients[i % c].1;
            let seen = order(&api, client, id);
            let at = |field: &str| -> DateTime<Utc> {
                seen[field].as_str().expect(field).parse().expect(field)
            };
            let (slot_start, slot_end) = (at("slot_start"), at("slot_end"));
            for (name, submitted) in [
                (
                    "Report.PreReportSubmitted",
                    slot_start - TimeDelta::minutes(10),
                ),
                ("Report.ReportSubmitted", slot_end),
            ] {
                publish(
                    &api,
                    "reports",
                    name,
                    json!({"report_id": uuid::Uuid::now_v7(), "order_id": id,
                        "executor_id": seen["executor_id"], "attachment_ids": [],
                        "submitted_at": time(submitted)}),
                );
            }
            wait("the order reported", || {
                marked(&order(&api, client, id), "report").then_some(())
            });
            let path = format!("/orders/{id}/approve");
            let (status, approved) = call(&api, "POST", &path, Some(client), Some(json!({})));
            assert_eq!(status, 200, "{approved}");
        }
        let approved = settled(&api);
        let approved_traffic = traffic(&api);

        // The week's end: the schedule fired at the next Monday's midnight (UTC on the local
        // stack) ends Sunday, and with it the week every order was approved in.
        let today = Utc::now().date_naive();
        let monday = today + chrono::Days::new((7 - today.weekday().num_days_from_monday()).into());
        let events = end_day_at(&api, &format!("{monday}T00:00:00Z"));
        assert!(events.iter().any(|e| e == "Clock.WeekEnded"), "{events:?}");
        for (i, id) in ids.iter().enumerate() {
            let client = &clients[i % c].1;
            wait("the order paid", || {
                marked(&order(&api, client, id), "success_paid").then_some(())
            });
        }
        for (_, token) in &clients {
            wait("the client's invoice paid", || {
                let (_, page) = call(&api, "GET", "/billing/me/invoices", Some(token), None);
                page["invoices"]
                    .as_array()?
                    .iter()
                    .any(|i| i["status"] == "paid")
                    .then_some(())
            });
        }
        let paid = settled(&api);
        let paid_traffic = traffic(&api);
        println!(
            "money: {n} orders pending to success_paid in {:.1}s ({} invoices issued, {} collections succeeded, {} orders settled)",
            started.elapsed().as_secs_f64(),
            published(&api, "Billing.InvoiceIssued"),
            published(&api, "Payment.CollectionSucceeded"),
            published(&api, "Billing.OrderSettled"),
        );
        println!("  of it, pending to approved:");
        report(&diff(&pending, &approved), n, "order");
        print_traffic(&pending_traffic, &approved_traffic, n, "order");
        println!("  of it, the week's end to paid:");
        report(&diff(&approved, &paid), n, "order");
        print_traffic(&approved_traffic, &paid_traffic, n, "order");
        println!("  pending to success_paid:");
        report(&diff(&pending, &paid), n, "order, pending to success_paid");
        print_traffic(&pending_traffic, &paid_traffic, n, "order");

        // The month's end: the schedule fired at the next month's first midnight.
        let started = Instant::now();
        let first = NaiveDate::from_ymd_opt(today.year(), today.month(), 1)
            .and_then(|d| d.checked_add_months(chrono::Months::new(1)))
            .expect("next month");
        let events = end_day_at(&api, &format!("{first}T00:00:00Z"));
        assert!(events.iter().any(|e| e == "Clock.MonthEnded"), "{events:?}");
        let statements = wait("every worker's statement issued", || {
            let issued = published(&api, "Billing.StatementIssued");
            (issued >= w).then_some(issued)
        });
        wait("every salary paid through the bank", || {
            (published(&api, "Payment.SalaryPaid") >= w).then_some(())
        });
        let month = settled(&api);
        let month_traffic = traffic(&api);
        println!(
            "money: the month's end, {statements} statements issued, in {:.1}s",
            started.elapsed().as_secs_f64()
        );
        report(&diff(&paid, &month), statements, "statement");
        print_traffic(&paid_traffic, &month_traffic, statements, "statement");
    }
}
