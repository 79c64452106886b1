//! `ates-bench cost`: what one task lifecycle costs on AWS, measured on the local stack.
//!
//! A lifecycle: a task is created through the API (by the admin, a manager's right), reassigned
//! once by a shuffle, completed by its assignee through the API; with its share of the day's close
//! (fired through the schedule path, as `ates-bench close` does) and of the mails that follow. The
//! run makes one worker per ten tasks (BENCHMARKS.md's assumption: ten tasks per worker per day),
//! so the close and the mails are measured whole and divided by the tasks: no scaling.
//!
//! Everything the stack did between a snapshot of `GET /_local/aws-calls?units` before the first
//! task and one after the last mail is divided by the tasks and priced, line by line, at the list
//! prices below. DynamoDB units need the stack started with `ATES_LOCAL_CAPACITY=1`.

use super::arg;
use super::tasks::{admin_token, call};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// List prices, us-east-1, on-demand, checked on 2026-12-07.
pub mod prices {
    /// DynamoDB on-demand, per write request unit, after the November 2024 cut
    /// (aws.amazon.com/dynamodb/pricing/on-demand: $0.625 per million).
    pub const DYNAMODB_WRU: f64 = 0.625e-6;
    /// DynamoDB on-demand, per read request unit (same page: $0.125 per million).
    pub const DYNAMODB_RRU: f64 = 0.125e-6;
    /// EventBridge custom events, per 64 KB chunk of an entry put (aws.amazon.com/eventbridge/pricing:
    /// $1.00 per million); rules' deliveries to targets are not charged.
    pub const EVENTBRIDGE_EVENT: f64 = 1.00e-6;
    /// EventBridge archive, per GB of events processed into it (same page: $0.10 per GB; storage
    /// $0.023 per GB-month more, not here).
    pub const EVENTBRIDGE_ARCHIVE_GB: f64 = 0.10;
    /// SQS standard queue, per request, a batch of up to 10 one request, each 64 KB chunk of a
    /// payload a request (aws.amazon.com/sqs/pricing: $0.40 per million after the free million).
    pub const SQS_REQUEST: f64 = 0.40e-6;
    /// Lambda, per request (aws.amazon.com/lambda/pricing: $0.20 per million).
    pub const LAMBDA_REQUEST: f64 = 0.20e-6;
    /// Lambda duration, Arm (production runs arm64: template.yaml's `Architecture`), per GB-second,
    /// the first 7.5 billion GB-s a month (same page: $0.0000133334).
    pub const LAMBDA_GB_SECOND: f64 = 0.000_013_333_4;
    /// API Gateway HTTP API, per request, the first 300 million a month
    /// (aws.amazon.com/api-gateway/pricing: $1.00 per million).
    pub const HTTP_API_REQUEST: f64 = 1.00e-6;
    /// SES, per outbound mail (aws.amazon.com/ses/pricing: $0.10 per 1,000).
    pub const SES_MAIL: f64 = 0.10e-3;
    /// CloudWatch Logs, standard log class, per GB ingested (aws.amazon.com/cloudwatch/pricing:
    /// $0.50 per GB; storage $0.03 per GB-month more, not here).
    pub const LOGS_GB: f64 = 0.50;
    /// Secrets Manager, per API call (aws.amazon.com/secrets-manager/pricing: $0.05 per 10,000).
    pub const SECRETS_CALL: f64 = 0.05e-4;
    pub const GB: f64 = 1024.0 * 1024.0 * 1024.0;
}

/// Assumptions where the local stack cannot measure what AWS bills.
pub mod assumed {
    /// Log bytes per invocation that Lambda writes on AWS beyond the local stack's own START,
    /// END and REPORT lines (≈ 200 bytes, counted): with `LogFormat: JSON`, a `platform.start`
    /// (≈ 130 bytes) and a `platform.report` (≈ 250 bytes, its metrics) record.
    pub const PLATFORM_LOG_BYTES: f64 = 180.0;
    /// Bytes of one API access log line (template.yaml's `AccessLogSettings` format: 14 fields).
    pub const ACCESS_LOG_BYTES: f64 = 450.0;

    /// Milliseconds a call takes on AWS, in-region, warm connection (typical p50s): what a
    /// function's billed duration holds in place of the emulator's time.
    pub fn latency_ms(operation: &str) -> f64 {
        match operation {
            "dynamodb:GetItem"
            | "dynamodb:PutItem"
            | "dynamodb:UpdateItem"
            | "dynamodb:DeleteItem" => 5.0,
            "dynamodb:Query"
            | "dynamodb:Scan"
            | "dynamodb:BatchGetItem"
            | "dynamodb:BatchWriteItem" => 8.0,
            "dynamodb:TransactWriteItems" | "dynamodb:TransactGetItems" => 15.0,
            "events:PutEvents" => 20.0,
            "sesv2:SendEmail" => 40.0,
            op if op.starts_with("sqs:") => 10.0,
            _ => 15.0,
        }
    }
}

/// Functions whose work is not the lifecycle's: the bench's own status polling and sign-ins,
/// and schedules that run every minute or quarter whatever happens (a fixed monthly cost).
pub const NOT_THE_LIFECYCLE: [&str; 5] = [
    "TasksShuffleStatusFunction",
    "AccountingCloseStatusFunction",
    "AuthSignInFunction",
    "AnalyticsSettleRebuildFunction",
    "BillingDunFunction",
];

/// What the stack did, per function, between two snapshots.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Spent {
    /// (function, `service:Operation`) → calls.
    pub calls: BTreeMap<(String, String), f64>,
    /// (function, `dynamodb:WriteRequestUnits`, ...) → amount.
    pub units: BTreeMap<(String, String), f64>,
    /// function → Lambda's figures.
    pub lambda: BTreeMap<String, LambdaUse>,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct LambdaUse {
    pub memory_mb: f64,
    pub invocations: f64,
    pub duration_ms: f64,
    pub log_bytes: f64,
    pub sqs_batches: f64,
    pub sqs_messages: f64,
}

fn numbers(v: &Value) -> impl Iterator<Item = (&String, f64)> {
    v.as_object()
        .into_iter()
        .flatten()
        .map(|(k, n)| (k, n.as_f64().unwrap_or(0.0)))
}

impl Spent {
    /// `after` − `before`, two answers of `GET /_local/aws-calls?units`, without `excluded`.
    pub fn between(before: &Value, after: &Value, excluded: &[&str]) -> Spent {
        let mut spent = Spent::default();
        let keep = |f: &str| !excluded.contains(&f);
        for (f, ops) in after["calls"].as_object().into_iter().flatten() {
            for (op, n) in numbers(ops) {
                let d = n - before["calls"][f][op].as_f64().unwrap_or(0.0);
                if keep(f) && d > 0.0 {
                    spent.calls.insert((f.clone(), op.clone()), d);
                }
            }
        }
        for (f, units) in after["units"]["functions"]
            .as_object()
            .into_iter()
            .flatten()
        {
            for (what, n) in numbers(units) {
                let d = n - before["units"]["functions"][f][what]
                    .as_f64()
                    .unwrap_or(0.0);
                if keep(f) && d > 0.0 {
                    spent.units.insert((f.clone(), what.clone()), d);
                }
            }
        }
        for (f, l) in after["lambda"].as_object().into_iter().flatten() {
            let was = &before["lambda"][f];
            let d = |k: &str| l[k].as_f64().unwrap_or(0.0) - was[k].as_f64().unwrap_or(0.0);
            let usage = LambdaUse {
                memory_mb: l["memory_mb"].as_f64().unwrap_or(128.0),
                invocations: d("invocations"),
                duration_ms: d("duration_ms"),
                log_bytes: d("log_bytes"),
                sqs_batches: d("sqs_batches"),
                sqs_messages: d("sqs_messages"),
            };
            if keep(f) && (usage.invocations > 0.0 || usage.log_bytes > 0.0) {
                spent.lambda.insert(f.clone(), usage);
            }
        }
        spent
    }

    fn unit(&self, function: &str, what: &str) -> f64 {
        self.units
            .get(&(function.to_string(), what.to_string()))
            .copied()
            .unwrap_or(0.0)
    }

    fn functions(&self) -> Vec<String> {
        let mut all: Vec<String> = self
            .calls
            .keys()
            .map(|(f, _)| f.clone())
            .chain(self.lambda.keys().cloned())
            .collect();
        all.sort();
        all.dedup();
        all
    }

    fn calls_of<'a>(&'a self, function: &'a str) -> impl Iterator<Item = (&'a str, f64)> + 'a {
        self.calls
            .iter()
            .filter(move |((f, _), _)| f == function)
            .map(|((_, op), n)| (op.as_str(), *n))
    }

    fn total_calls(&self, pred: impl Fn(&str) -> bool) -> f64 {
        self.calls
            .iter()
            .filter(|((_, op), _)| pred(op))
            .map(|(_, n)| n)
            .sum()
    }

    /// Billed milliseconds of `function` on AWS, modelled: the local duration less the time its
    /// calls waited on the emulator, plus each call at its AWS latency.
    pub fn modelled_ms(&self, function: &str) -> f64 {
        let Some(l) = self.lambda.get(function) else {
            return 0.0;
        };
        let own = (l.duration_ms - self.unit(function, "aws:Milliseconds")).max(0.0);
        let calls: f64 = self
            .calls_of(function)
            .map(|(op, n)| n * assumed::latency_ms(op))
            .sum();
        own + calls
    }
}

/// One line of the table: quantities per lifecycle, dollars per million lifecycles.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub service: &'static str,
    pub what: String,
    pub quantity: String,
    pub dollars: f64,
}

/// Prices `spent` over `lifecycles`, with `api_requests` made through the HTTP API.
pub fn lines(spent: &Spent, lifecycles: f64, api_requests: f64) -> Vec<Line> {
    let per = |x: f64| x / lifecycles;
    let million = 1e6;
    let mut out = Vec::new();
    let functions = spent.functions();

    for f in &functions {
        let wru = per(spent.unit(f, "dynamodb:WriteRequestUnits"));
        let index = per(spent.unit(f, "dynamodb:IndexWriteRequestUnits"));
        let rru = per(spent.unit(f, "dynamodb:ReadRequestUnits"));
        if wru + index + rru > 0.0 {
            let calls: Vec<String> = spent
                .calls_of(f)
                .filter(|(op, _)| op.starts_with("dynamodb:"))
                .map(|(op, n)| format!("{} ×{:.2}", &op[9..], per(n)))
                .collect();
            out.push(Line {
                service: "DynamoDB",
                what: format!("{} ({})", short(f), calls.join(", ")),
                quantity: format!(
                    "{:.2} WRU ({index:.2} of them index) + {rru:.2} RRU",
                    wru + index
                ),
                dollars: ((wru + index) * prices::DYNAMODB_WRU + rru * prices::DYNAMODB_RRU)
                    * million,
            });
        }
    }

    let entries: f64 = spent
        .units
        .iter()
        .filter(|((_, w), _)| w == "events:Entries")
        .map(|(_, n)| n)
        .sum();
    let event_bytes: f64 = spent
        .units
        .iter()
        .filter(|((_, w), _)| w == "events:Bytes")
        .map(|(_, n)| n)
        .sum();
    let put_events = spent.total_calls(|op| op == "events:PutEvents");
    out.push(Line {
        service: "EventBridge",
        what: "events put (PutEvents entries, per 64 KB)".into(),
        quantity: format!(
            "{:.2} events in {:.2} PutEvents",
            per(entries),
            per(put_events)
        ),
        dollars: per(entries) * prices::EVENTBRIDGE_EVENT * million,
    });
    out.push(Line {
        service: "EventBridge",
        what: "archive (every event of the bus)".into(),
        quantity: format!("{:.0} bytes", per(event_bytes)),
        dollars: per(event_bytes) / prices::GB * prices::EVENTBRIDGE_ARCHIVE_GB * million,
    });

    // SQS: what the code sends, what the bus sends to queues, and each delivered batch's receive
    // and delete (Lambda's event source mapping; its empty polls are a fixed cost, not here).
    let code_sends = spent.total_calls(|op| op.starts_with("sqs:Send"));
    let code_messages: f64 = spent
        .units
        .iter()
        .filter(|((_, w), _)| w == "sqs:Messages")
        .map(|(_, n)| n)
        .sum::<f64>()
        + spent.total_calls(|op| op == "sqs:SendMessage");
    let other_sqs = spent.total_calls(|op| op.starts_with("sqs:") && !op.starts_with("sqs:Send"));
    let delivered: f64 = spent.lambda.values().map(|l| l.sqs_messages).sum();
    let batches: f64 = spent.lambda.values().map(|l| l.sqs_batches).sum();
    let from_bus = (delivered - code_messages).max(0.0);
    let sqs = code_sends + other_sqs + from_bus + 2.0 * batches;
    out.push(Line {
        service: "SQS",
        what: "requests: the bus's sends to queues, the code's sends, a receive and a delete per delivered batch".into(),
        quantity: format!(
            "{:.2} requests ({:.2} from the bus, {:.2} sent by code, {:.2} batches × 2)",
            per(sqs),
            per(from_bus),
            per(code_sends + other_sqs),
            per(batches)
        ),
        dollars: per(sqs) * prices::SQS_REQUEST * million,
    });

    for f in &functions {
        let Some(l) = spent.lambda.get(f) else {
            continue;
        };
        let ms = per(spent.modelled_ms(f));
        let gb_s = ms / 1000.0 * l.memory_mb / 1024.0;
        out.push(Line {
            service: "Lambda",
            what: format!("{} ({} MB)", short(f), l.memory_mb),
            quantity: format!(
                "{:.3} invocations, {ms:.1} ms modelled ({:.1} ms locally)",
                per(l.invocations),
                per(l.duration_ms)
            ),
            dollars: (per(l.invocations) * prices::LAMBDA_REQUEST
                + gb_s * prices::LAMBDA_GB_SECOND)
                * million,
        });
    }

    out.push(Line {
        service: "API Gateway",
        what: "HTTP API requests".into(),
        quantity: format!("{:.3} requests", per(api_requests)),
        dollars: per(api_requests) * prices::HTTP_API_REQUEST * million,
    });
    let mails = spent.total_calls(|op| op == "sesv2:SendEmail");
    out.push(Line {
        service: "SES",
        what: "mails sent".into(),
        quantity: format!("{:.3} mails", per(mails)),
        dollars: per(mails) * prices::SES_MAIL * million,
    });
    let invocations: f64 = spent.lambda.values().map(|l| l.invocations).sum();
    let function_logs: f64 = spent.lambda.values().map(|l| l.log_bytes).sum();
    let log_bytes = function_logs
        + invocations * assumed::PLATFORM_LOG_BYTES
        + api_requests * assumed::ACCESS_LOG_BYTES;
    out.push(Line {
        service: "CloudWatch Logs",
        what: "ingested: functions' lines, Lambda's platform records, API access log".into(),
        quantity: format!(
            "{:.0} bytes ({:.0} written by the functions)",
            per(log_bytes),
            per(function_logs)
        ),
        dollars: per(log_bytes) / prices::GB * prices::LOGS_GB * million,
    });
    let secrets = spent.total_calls(|op| op.starts_with("secretsmanager:"));
    if secrets > 0.0 {
        out.push(Line {
            service: "Secrets Manager",
            what: "GetSecretValue".into(),
            quantity: format!("{:.4} calls", per(secrets)),
            dollars: per(secrets) * prices::SECRETS_CALL * million,
        });
    }
    let failed: f64 = spent
        .units
        .iter()
        .filter(|((_, w), _)| w == "dynamodb:FailedWrites")
        .map(|(_, n)| n)
        .sum();
    if failed > 0.0 {
        out.push(Line {
            service: "not priced",
            what: "DynamoDB writes refused (a condition not met, priced above as a write of the item when single; a transaction cancelled, not priced)".into(),
            quantity: format!("{:.3} calls", per(failed)),
            dollars: 0.0,
        });
    }
    let unpriced: Vec<String> = spent
        .calls
        .iter()
        .filter(|((_, op), _)| {
            ![
                "dynamodb:",
                "events:PutEvents",
                "sqs:",
                "sesv2:SendEmail",
                "secretsmanager:",
            ]
            .iter()
            .any(|p| op.starts_with(p))
        })
        .map(|((f, op), n)| format!("{} {op} ×{:.3}", short(f), per(*n)))
        .collect();
    if !unpriced.is_empty() {
        out.push(Line {
            service: "not priced",
            what: unpriced.join(", "),
            quantity: String::new(),
            dollars: 0.0,
        });
    }
    out
}

fn short(function: &str) -> &str {
    function.strip_suffix("Function").unwrap_or(function)
}

/// The table: every line, a subtotal per service, the total.
pub fn table(lines: &[Line]) -> String {
    let mut s = String::from(
        "| service | line | per lifecycle | $ per million lifecycles |\n|---|---|---|---:|\n",
    );
    for l in lines {
        s += &format!(
            "| {} | {} | {} | {:.2} |\n",
            l.service, l.what, l.quantity, l.dollars
        );
    }
    let mut by_service: Vec<(&str, f64)> = Vec::new();
    for l in lines {
        match by_service.iter_mut().find(|(s, _)| *s == l.service) {
            Some((_, d)) => *d += l.dollars,
            None => by_service.push((l.service, l.dollars)),
        }
    }
    by_service.sort_by(|a, b| b.1.total_cmp(&a.1));
    let total: f64 = lines.iter().map(|l| l.dollars).sum();
    s += "\n| service | $ per million lifecycles | share |\n|---|---:|---:|\n";
    for (service, d) in by_service {
        if d > 0.0 {
            s += &format!("| {service} | {d:.2} | {:.0}% |\n", 100.0 * d / total);
        }
    }
    s += &format!("| **total** | **{total:.2}** | |\n");
    s
}

pub(crate) fn snapshot(api: &str) -> Value {
    call(api, "GET", "/_local/aws-calls?units", None, None).1
}

/// The snapshot once nothing of the lifecycle's functions moved for `quiet`.
fn settled(api: &str, quiet: Duration) -> Value {
    let moving = |v: &Value| {
        let mut v = v.clone();
        for f in NOT_THE_LIFECYCLE {
            for part in ["calls", "lambda"] {
                if let Some(m) = v[part].as_object_mut() {
                    m.remove(f);
                }
            }
        }
        json!([v["calls"], v["lambda"]])
    };
    let mut last = snapshot(api);
    let mut since = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let now = snapshot(api);
        if moving(&now) != moving(&last) {
            last = now;
            since = Instant::now();
        } else if since.elapsed() >= quiet {
            return now;
        }
    }
}

struct Person {
    email: String,
    token: String,
}

fn sign_in(api: &str, email: &str) -> String {
    let body = json!({"email": email, "password": PASSWORD});
    let (status, tokens) = call(api, "POST", "/auth/sign-in", None, Some(body));
    assert_eq!(status, 200, "sign-in of {email}: {tokens}");
    tokens["access_token"].as_str().expect("a token").to_owned()
}

const PASSWORD: &str = "a-bench-popug-password";

pub fn run() {
    let n: usize = arg("--tasks", "200").parse().unwrap_or(200);
    let api = arg("--api", "http://127.0.0.1:3000");
    let per_worker: usize = arg("--tasks-per-worker", "10").parse().unwrap_or(10);
    let workers_n = n.div_ceil(per_worker).max(1);
    let quiet = Duration::from_secs(6);
    let probe = snapshot(&api);
    if probe["units"]["capacity"] != true {
        eprintln!("the stack does not compute DynamoDB units: start it with ATES_LOCAL_CAPACITY=1 (DynamoDB lines will read 0)");
    }
    let mut admin = admin_token(&api);
    let run = std::process::id();
    let mut workers: BTreeMap<String, Person> = BTreeMap::new();
    for i in 0..workers_n {
        let email = format!("cost-worker-{i}-{run}@popug.test");
        let body = json!({"email": email, "full_name": format!("Cost Worker {i}"), "role": "worker", "password": PASSWORD});
        let (status, account) = call(&api, "POST", "/accounts", Some(&admin), Some(body));
        assert_eq!(status, 201, "{account}");
        let id = account["account_id"].as_str().expect("an id").to_owned();
        let token = sign_in(&api, &email);
        workers.insert(id, Person { email, token });
    }
    // The task tracker and accounting learn of the workers; then the day's date.
    settled(&api, quiet);
    let any = workers.values().next().expect("a worker");
    let (_, me) = call(&api, "GET", "/accounting/me", Some(&any.token), None);
    let today = me["business_date"]
        .as_str()
        .expect("business_date")
        .to_owned();
    println!("{workers_n} workers ({per_worker} tasks each on average), business date {today}");

    let before = snapshot(&api);
    let started = Instant::now();
    let mut api_requests = 0usize;
    let mut ids = Vec::new();
    for i in 0..n {
        let body =
            json!({"title": format!("Cost task {i}"), "jira_id": format!("UBERPOP-{}", 9000 + i)});
        let (mut status, mut task) = call(&api, "POST", "/tasks", Some(&admin), Some(body.clone()));
        api_requests += 1;
        if status == 401 {
            admin = admin_token(&api);
            (status, task) = call(&api, "POST", "/tasks", Some(&admin), Some(body));
            api_requests += 1;
        }
        assert_eq!(status, 201, "{task}");
        ids.push(task["task_id"].as_str().expect("task_id").to_owned());
    }
    settled(&api, quiet);
    println!("created {n} tasks: {:.0}s", started.elapsed().as_secs_f64());

    let (status, shuffle) = call(&api, "POST", "/tasks/shuffles", Some(&admin), None);
    api_requests += 1;
    assert_eq!(status, 202, "{shuffle}");
    let shuffle_id = shuffle["shuffle_id"]
        .as_str()
        .expect("shuffle_id")
        .to_owned();
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let (status, progress) = call(
            &api,
            "GET",
            &format!("/tasks/shuffles/{shuffle_id}"),
            Some(&admin),
            None,
        );
        if status == 401 {
            admin = admin_token(&api);
            continue;
        }
        if progress["status"] == "completed" {
            println!(
                "shuffle: {} of {} reassigned, {:.0}s in",
                progress["reassigned"],
                progress["total"],
                started.elapsed().as_secs_f64()
            );
            break;
        }
    }
    settled(&api, quiet);

    // Each task's assignee now: its latest Task.Assigned (read from the stack, not the API).
    let (_, assigned) = call(
        &api,
        "GET",
        "/_local/events?detail-type=Task.Assigned",
        None,
        None,
    );
    let mut assignee: BTreeMap<String, (i64, String)> = BTreeMap::new();
    for e in assigned.as_array().into_iter().flatten() {
        let d = &e["detail"]["data"];
        let (Some(task), Some(who)) = (d["task_id"].as_str(), d["assignee_id"].as_str()) else {
            continue;
        };
        let version = d["version"].as_i64().unwrap_or(0);
        let slot = assignee
            .entry(task.to_owned())
            .or_insert((i64::MIN, String::new()));
        if version >= slot.0 {
            *slot = (version, who.to_owned());
        }
    }
    for id in &ids {
        let who = &assignee
            .get(id)
            .unwrap_or_else(|| panic!("no Task.Assigned for {id}"))
            .1;
        let person = workers
            .get_mut(who)
            .unwrap_or_else(|| panic!("{id} went to {who}, not a bench worker"));
        let path = format!("/tasks/{id}/complete");
        let (mut status, mut done) = call(&api, "POST", &path, Some(&person.token), None);
        api_requests += 1;
        if status == 401 {
            person.token = sign_in(&api, &person.email);
            (status, done) = call(&api, "POST", &path, Some(&person.token), None);
            api_requests += 1;
        }
        assert_eq!(status, 200, "{done}");
    }
    settled(&api, quiet);
    println!(
        "completed {n} tasks: {:.0}s in",
        started.elapsed().as_secs_f64()
    );

    let tomorrow = next_day(&today);
    let (status, fired) = call(
        &api,
        "POST",
        &format!("/_local/schedules/ClockEndDayFunction/DayEnd/fire?at={tomorrow}T00:00:00Z"),
        None,
        None,
    );
    assert_eq!(status, 200, "{fired}");
    let close = loop {
        std::thread::sleep(Duration::from_secs(1));
        let (status, close) = call(
            &api,
            "GET",
            &format!("/accounting/closes/{today}"),
            Some(&admin),
            None,
        );
        match status {
            200 if close["status"] == "completed" => break close,
            401 => admin = admin_token(&api),
            _ => {}
        }
    };
    let after = settled(&api, Duration::from_secs(10));
    let took = started.elapsed().as_secs_f64();
    let spent = Spent::between(&before, &after, &NOT_THE_LIFECYCLE);
    let mails = spent.total_calls(|op| op == "sesv2:SendEmail");
    println!(
        "close of {today}: {} accounts closed, {} payouts, {} debts; {mails} mails; the whole run {took:.0}s",
        close["accounts_closed"], close["payouts"], close["debts"]
    );
    println!();
    println!(
        "`ates-bench cost --tasks {n}`: {n} lifecycles (created, shuffled once, completed; the day's close of {workers_n} workers' accounts and the admin's, its payouts and mails), per lifecycle, at us-east-1 list prices; {api_requests} API requests"
    );
    println!();
    print!("{}", table(&lines(&spent, n as f64, api_requests as f64)));
    let excluded: Vec<String> = NOT_THE_LIFECYCLE
        .iter()
        .filter_map(|f| {
            let calls: f64 = after["calls"][f]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(op, c)| {
                    c.as_f64().unwrap_or(0.0) - before["calls"][f][op].as_f64().unwrap_or(0.0)
                })
                .sum();
            (calls > 0.0).then(|| format!("{} ({calls} calls)", short(f)))
        })
        .collect();
    if !excluded.is_empty() {
        println!("\nnot the lifecycle's, left out: {}", excluded.join(", "));
    }
}

/// The day after a `YYYY-MM-DD` date.
fn next_day(date: &str) -> String {
    chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .expect("a date")
        .succ_opt()
        .expect("a next day")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (Value, Value) {
        let before = json!({
            "calls": {"A": {"dynamodb:TransactWriteItems": 1}},
            "units": {"capacity": true, "functions": {"A": {"dynamodb:WriteRequestUnits": 2.0}}},
            "lambda": {"A": {"memory_mb": 128, "invocations": 1, "duration_ms": 10.0, "log_bytes": 100, "sqs_batches": 0, "sqs_messages": 0}}
        });
        let after = json!({
            "calls": {
                "A": {"dynamodb:TransactWriteItems": 11, "dynamodb:GetItem": 10, "events:PutEvents": 5},
                "B": {"sesv2:SendEmail": 1, "dynamodb:PutItem": 2},
                "AuthSignInFunction": {"dynamodb:GetItem": 3}
            },
            "units": {"capacity": true, "functions": {
                "A": {"dynamodb:WriteRequestUnits": 82.0, "dynamodb:IndexWriteRequestUnits": 20.0,
                      "dynamodb:ReadRequestUnits": 10.0, "events:Entries": 20.0, "events:Bytes": 20000.0,
                      "aws:Milliseconds": 300.0},
                "B": {"dynamodb:WriteRequestUnits": 2.0}}},
            "lambda": {
                "A": {"memory_mb": 128, "invocations": 11, "duration_ms": 510.0, "log_bytes": 1100, "sqs_batches": 0, "sqs_messages": 0},
                "B": {"memory_mb": 256, "invocations": 10, "duration_ms": 100.0, "log_bytes": 0, "sqs_batches": 10, "sqs_messages": 10}
            }
        });
        (before, after)
    }

    #[test]
    fn the_difference_leaves_out_what_is_not_the_lifecycle() {
        let (before, after) = sample();
        let spent = Spent::between(&before, &after, &NOT_THE_LIFECYCLE);
        assert_eq!(
            spent.calls[&("A".into(), "dynamodb:TransactWriteItems".into())],
            10.0
        );
        assert!(!spent.calls.keys().any(|(f, _)| f == "AuthSignInFunction"));
        assert_eq!(spent.unit("A", "dynamodb:WriteRequestUnits"), 80.0);
        assert_eq!(spent.lambda["A"].invocations, 10.0);
        assert_eq!(spent.lambda["A"].duration_ms, 500.0);
        // 500 ms locally, 300 of them waiting on the emulator: 200 + 10 transactions × 15 +
        // 10 GetItem × 5 + 5 PutEvents × 20.
        assert_eq!(spent.modelled_ms("A"), 200.0 + 150.0 + 50.0 + 100.0);
    }

    #[test]
    fn each_line_is_priced_at_its_list_price() {
        let (before, after) = sample();
        let spent = Spent::between(&before, &after, &NOT_THE_LIFECYCLE);
        let lines = lines(&spent, 10.0, 20.0);
        let dollars = |service: &str, what: &str| {
            lines
                .iter()
                .find(|l| l.service == service && l.what.starts_with(what))
                .map(|l| l.dollars)
                .unwrap_or_else(|| panic!("no {service} {what}: {lines:?}"))
        };
        let close = |a: f64, b: f64| assert!((a - b).abs() < 1e-9, "{a} != {b}");
        // A: (80 + 20) WRU + 10 RRU over 10 lifecycles = 10 WRU + 1 RRU each:
        // 10 × $0.625 + 1 × $0.125 per million.
        close(dollars("DynamoDB", "A"), 6.25 + 0.125);
        close(dollars("DynamoDB", "B"), 0.2 * 0.625);
        // 20 events / 10 = 2 per lifecycle: $2 per million.
        close(dollars("EventBridge", "events"), 2.0);
        // 2,000 bytes per lifecycle archived at $0.10 per GB.
        close(
            dollars("EventBridge", "archive"),
            2000.0 / prices::GB * 0.10 * 1e6,
        );
        // 10 messages delivered, none sent by code: 10 from the bus + 10 batches × 2 = 30 requests.
        close(dollars("SQS", "requests"), 3.0 * 0.40);
        // B: 1 invocation per lifecycle; 100 ms locally (no emulator time counted) + a mail (40)
        // + 2 PutItem (2 × 5) over 10 lifecycles: 15 ms at 256 MB each.
        close(
            dollars("Lambda", "B"),
            0.20 + 15.0 / 1000.0 * 0.25 * prices::LAMBDA_GB_SECOND * 1e6,
        );
        close(dollars("API Gateway", "HTTP"), 2.0);
        // 1 mail over 10 lifecycles at $0.10 per thousand: $10 per million lifecycles.
        close(dollars("SES", "mails"), 10.0);
        let logs =
            (1000.0 + 20.0 * assumed::PLATFORM_LOG_BYTES + 20.0 * assumed::ACCESS_LOG_BYTES) / 10.0;
        close(
            dollars("CloudWatch Logs", "ingested"),
            logs / prices::GB * 0.50 * 1e6,
        );
        let total: f64 = lines.iter().map(|l| l.dollars).sum();
        assert!(table(&lines).contains(&format!("**{total:.2}**")));
    }

    #[test]
    fn the_day_after() {
        assert_eq!(next_day("2026-12-31"), "2027-01-01");
        assert_eq!(next_day("2028-02-28"), "2028-02-29");
    }
}
