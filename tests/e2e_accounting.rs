//! Accounting (and analytics, built from its events) end to end, through the local stack: a task costs its assignee a fee, its
//! completion earns the reward, and the day's end — fired through the real schedule path —
//! pays the balance out with a payout line in the audit log.
//!
//! This binary's stack has one assignable account (the worker made here), so every task lands
//! on it; the tests that need that hold WORKER.

use std::sync::{Mutex, PoisonError};

use ates_tests::Stack;
use serde_json::{json, Value};

static WORKER: Mutex<Option<(String, String)>> = Mutex::new(None);

/// The one worker of this stack, made once and known to the task tracker.
fn worker(stack: &Stack) -> (String, String) {
    let mut worker = WORKER.lock().unwrap_or_else(PoisonError::into_inner);
    worker
        .get_or_insert_with(|| {
            let admin = stack.admin_token();
            let (id, token) = stack.employee(&admin, "worker");
            stack.wait_assignable(&id);
            (id, token)
        })
        .clone()
}

fn event_data(stack: &Stack, name: &str, task_id: &str) -> Option<Value> {
    stack
        .events()
        .into_iter()
        .find(|e| e["detail-type"] == name && e["detail"]["data"]["task_id"] == task_id)
        .map(|e| e["detail"]["data"].clone())
}

fn balance(stack: &Stack, token: &str) -> Value {
    let (status, me) = stack.call("GET", "/accounting/me", Some(token), None);
    assert_eq!(status, 200, "{me}");
    me
}

#[test]
fn a_task_costs_a_fee_its_completion_earns_the_reward_and_the_day_end_pays_out() {
    let stack = Stack::shared();
    let admin = stack.admin_token();
    let (worker_id, worker) = worker(stack);
    let (status, task) = stack.call(
        "POST",
        "/tasks",
        Some(&worker),
        Some(&json!({"title": "Count the beaks", "jira_id": "UBERPOP-9"})),
    );
    assert_eq!(status, 201, "{task}");
    assert_eq!(
        task["assignee_id"],
        worker_id.as_str(),
        "the only assignable account"
    );
    let task_id = task["task_id"].as_str().unwrap().to_owned();

    let price = stack.eventually(60, "accounting prices the task", || {
        event_data(stack, "Task.Priced", &task_id)
    });
    ates_kernel::schema::check("Task.Priced", 1, &price).expect("matches its schema");
    let (fee, reward) = (
        price["fee_cents"].as_i64().unwrap(),
        price["reward_cents"].as_i64().unwrap(),
    );
    stack.eventually(60, "the fee is debited", || {
        (balance(stack, &worker)["balance_cents"] == -fee).then_some(())
    });

    let (status, done) = stack.call(
        "POST",
        &format!("/tasks/{task_id}/complete"),
        Some(&worker),
        None,
    );
    assert_eq!(status, 200, "{done}");
    let me = stack.eventually(60, "the reward is credited", || {
        let me = balance(stack, &worker);
        (me["balance_cents"] == reward - fee).then_some(me)
    });
    assert_eq!(me["earned_today_cents"], reward - fee, "{me}");
    let today = me["business_date"].as_str().unwrap().to_owned();

    let (status, log) = stack.call("GET", "/accounting/me/entries", Some(&worker), None);
    assert_eq!(status, 200, "{log}");
    let kinds: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["reward", "fee"], "newest first: {log}");
    let titled = |log: &Value| {
        log["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] != "payout")
            .all(|e| e["title"] == "Count the beaks" && e["jira_id"] == "UBERPOP-9")
    };
    assert!(titled(&log), "{log}");

    // The day ends through the schedule, as the scheduler would fire it at the next midnight.
    let tomorrow = chrono::NaiveDate::parse_from_str(&today, "%Y-%m-%d")
        .unwrap()
        .succ_opt()
        .unwrap();
    let (status, fired) = stack.call(
        "POST",
        &format!("/_local/schedules/ClockEndDayFunction/DayEnd/fire?at={tomorrow}T00:00:00Z"),
        None,
        None,
    );
    assert_eq!(status, 200, "{fired}");
    let close = stack.eventually(90, "the close of the day completes", || {
        let (status, close) = stack.call(
            "GET",
            &format!("/accounting/closes/{today}"),
            Some(&admin),
            None,
        );
        assert_eq!(status, 200, "{close}");
        (close["status"] == "completed").then_some(close)
    });
    let earned = reward - fee;
    assert_eq!(close["paid_cents"], earned.max(0), "{close}");
    let me = balance(stack, &worker);
    assert_eq!(me["balance_cents"], 0, "paid out and reset: {me}");
    if earned > 0 {
        let (_, log) = stack.call("GET", "/accounting/me/entries?limit=1", Some(&worker), None);
        let line = &log["entries"][0];
        assert_eq!(
            (line["kind"].as_str(), line["amount_cents"].as_i64()),
            (Some("payout"), Some(-earned)),
            "{log}"
        );
        assert_eq!(line["business_date"], today.as_str());
        let payout = stack.eventually(60, "the payout is published", || {
            stack.events().into_iter().find(|e| {
                e["detail-type"] == "Payout.Made"
                    && e["detail"]["data"]["account_id"] == worker_id.as_str()
            })
        });
        assert_eq!(payout["detail"]["data"]["amount_cents"], earned);
        stack.eventually(60, "the statement is requested", || {
            stack.events().into_iter().find(|e| {
                e["detail-type"] == "Statement.Requested"
                    && e["detail"]["data"]["account_id"] == worker_id.as_str()
            })
        });
        // Payments sends it (the details moved there; the route kept its contract): no bank
        // details yet, so it is held until they are given.
        let details = stack.eventually(60, "the payout is held by payments", || {
            let (_, d) = stack.call("GET", "/accounting/me/payout-details", Some(&worker), None);
            (d["held_transfers"] == 1).then_some(d)
        });
        assert_eq!(details["held_cents"], earned, "{details}");
        let put = |iban: &str| {
            stack.call(
                "PUT",
                "/accounting/me/payout-details",
                Some(&worker),
                Some(&json!({ "iban": iban })),
            )
        };
        let (status, refused) = put("DE88 3704 0044 0532 0130 00");
        assert_eq!(
            (status, refused["status"].as_i64()),
            (422, Some(422)),
            "{refused}"
        );
        let (status, details) = put("DE89 3704 0044 0532 0130 00");
        assert_eq!(status, 200, "{details}");
        assert_eq!(
            (details["iban"].as_str(), details["held_transfers"].as_i64()),
            (Some("••••3000"), Some(0))
        );
        // Posted once the (simulated) bank took it, under the payout's key, once.
        let (_, mine) = stack.call("GET", "/payments/me", Some(&worker), None);
        let payouts = mine["payouts"].as_array().expect("payouts").clone();
        assert_eq!(payouts.len(), 1, "{mine}");
        assert_eq!(
            (
                payouts[0]["status"].as_str(),
                payouts[0]["amount_cents"].as_i64()
            ),
            (Some("posted"), Some(earned)),
            "{mine}"
        );
        assert_eq!(
            payouts[0]["payout_id"].as_str(),
            payout["detail"]["data"]["payout_id"].as_str()
        );
    }
    // The company saw the same day, once the ledger's lines are folded into it.
    let earnings = stack.eventually(30, "the company's day", || {
        let (status, earnings) = stack.call(
            "GET",
            &format!("/accounting/earnings?from={today}&to={today}"),
            Some(&admin),
            None,
        );
        assert_eq!(status, 200, "{earnings}");
        (earnings["days"][0]["earnings_cents"] == fee - reward).then_some(earnings)
    });
    assert_eq!(earnings["today"]["date"], today.as_str(), "{earnings}");
    // Analytics, from the events alone, comes to the same figure and knows the task.
    let path = format!("/analytics/earnings?from={today}&to={today}");
    stack.eventually(60, "analytics agrees with accounting", || {
        let (status, ours) = stack.call("GET", &path, Some(&admin), None);
        assert_eq!(status, 200, "{ours}");
        (ours["days"][0]["earnings_cents"] == fee - reward).then_some(())
    });
    let (status, best) = stack.call(
        "GET",
        &format!("/analytics/most-expensive-task?period=day&date={today}"),
        Some(&admin),
        None,
    );
    assert_eq!(status, 200, "{best}");
    assert_eq!(best["task"]["reward_cents"], reward, "{best}");
    assert_eq!(best["task"]["title"], "Count the beaks", "{best}");
    let (status, summary) = stack.call("GET", "/analytics/summary", Some(&admin), None);
    assert_eq!(status, 200, "{summary}");
    assert_eq!(
        summary["negative_balance_accounts"], 0,
        "paid out: {summary}"
    );
    // Every event accounting published matches its schema.
    for event in stack.events() {
        let detail = &event["detail"];
        if detail["producer"] == "accounting" {
            let (name, version) = (
                detail["name"].as_str().unwrap(),
                detail["version"].as_u64().unwrap(),
            );
            ates_kernel::schema::check(name, version as u32, &detail["data"])
                .unwrap_or_else(|e| panic!("{e}: {detail}"));
        }
    }
}

fn problem(stack: &Stack, token: &str, path: &str) -> (u16, Value) {
    let (status, body) = stack.call("GET", path, Some(token), None);
    (status, body)
}

#[test]
fn bad_dates_ranges_and_accounts_are_clear_4xx_problems() {
    let stack = Stack::shared();
    let admin = stack.admin_token();
    for path in [
        "/accounting/earnings?from=2026-13-01&to=2026-12-01",
        "/accounting/earnings?from=2026-11-20",
        "/accounting/earnings?from=2026-11-21&to=2026-11-20",
        "/accounting/earnings?from=2025-01-01&to=2026-01-02",
        "/accounting/closes/yesterday",
        "/accounting/me/entries?limit=0",
        "/accounting/me/entries?cursor=not-a-cursor",
        "/analytics/earnings?from=2026-11-21&to=2026-11-20",
        "/analytics/earnings?from=2025-01-01&to=2026-01-02",
        "/analytics/earnings?from=2026-11-20",
        "/analytics/earnings?to=2026-11-20",
        "/analytics/most-expensive-task?period=year&date=2026-11-20",
        "/analytics/most-expensive-task?period=week",
        "/analytics/most-expensive-task?from=2026-02-30&to=2026-03-01",
        "/analytics/most-expensive-task?period=week&date=2026-11-20&from=2026-11-20&to=2026-11-20",
        "/analytics/most-expensive-task?period=week&date=2026-11-20&to=not-a-date",
        "/analytics/most-expensive-task?date=2026-11-20",
        "/analytics/most-expensive-task?period=day&date=2026-11-2",
        "/accounting/earnings?from=2026-11-2&to=2026-11-20",
        "/accounting/closes/+2026-11-20",
        "/analytics/earnings?from=2026-11-20&to=20261-01-01",
    ] {
        let (status, body) = problem(stack, &admin, path);
        assert_eq!(status, 422, "{path}: {body}");
        assert_eq!(body["status"], 422, "problem+json for {path}: {body}");
    }
    let (status, body) = problem(
        stack,
        &admin,
        &format!("/accounting/accounts/{}", uuid::Uuid::now_v7()),
    );
    assert_eq!(
        (status, body["status"].as_i64()),
        (404, Some(404)),
        "{body}"
    );
    let (status, body) = problem(
        stack,
        &admin,
        "/accounting/earnings?from=2025-01-01&to=2026-01-01",
    );
    assert_eq!(status, 200, "366 days is allowed: {body}");
    assert_eq!(body["days"].as_array().unwrap().len(), 366);
    let (status, pending) = problem(stack, &admin, "/accounting/closes/2031-01-01");
    assert_eq!(
        (status, pending["status"].as_str()),
        (200, Some("pending")),
        "{pending}"
    );
}
