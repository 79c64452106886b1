//! Matching end to end, through the local stack: a worker's account (made through auth) and
//! profile (put on the bus as hiring publishes it), an order rated (put on the bus as orders
//! publishes it), `Matching.ExecutorMatched` on the bus, managers reading why, an order that
//! waits until someone with its skill enrols, and the 5-minute retry fired through the real
//! schedule path. Each test uses a skill of its own, so the tests share the stack safely.

use ates_tests::Stack;
use chrono::{Duration, SecondsFormat, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

/// A skill no other test uses.
fn skill(name: &str) -> String {
    format!("{name}-{}", Uuid::now_v7().simple())
}

fn time(at: chrono::DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A manager's access token (a new manager account), for the whole test binary.
fn manager(stack: &Stack) -> String {
    static TOKEN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TOKEN
        .get_or_init(|| stack.employee(&stack.admin_token(), "manager").1)
        .clone()
}

/// A new worker account with `skills` (auth's account, hiring's profile); answers its id and
/// token once matching can choose them.
fn worker(stack: &Stack, skills: &[&str]) -> (String, String) {
    let (id, token) = stack.employee(&stack.admin_token(), "worker");
    stack.publish(
        "hiring",
        "Worker.ProfileSet",
        json!({"account_id": id, "skills": skills, "level": "middle", "revision": 1, "set_at": time(Utc::now())}),
    );
    stack.eventually(60, "matching can choose the worker", || {
        let chosen = stack.items("MatchingTable", &format!("SKILL#{}", skills[0]));
        chosen
            .iter()
            .any(|item| item["worker_id"]["S"] == id.as_str())
            .then_some(())
    });
    (id, token)
}

fn rate(stack: &Stack, order_id: Uuid, skill: &str) {
    let start = Utc::now() + Duration::days(1);
    stack.publish(
        "orders",
        "Order.Rated",
        json!({
            "order_id": order_id, "version": 2, "places": ["rated", "to_match", "to_supply"],
            "client_id": Uuid::now_v7(), "estimate_cents": 12000, "required_skill": skill,
            "slot_start": time(start), "slot_end": time(start + Duration::hours(2)),
            "supplies": [{"item": "sponge", "quantity": 2}], "at": time(Utc::now())
        }),
    );
}

fn matched(stack: &Stack, order_id: Uuid) -> Vec<Value> {
    stack
        .events()
        .into_iter()
        .filter(|e| {
            e["detail-type"] == "Matching.ExecutorMatched"
                && e["detail"]["data"]["order_id"] == order_id.to_string()
        })
        .collect()
}

fn view(stack: &Stack, order_id: Uuid, token: &str) -> (u16, Value) {
    stack.call(
        "GET",
        &format!("/matching/orders/{order_id}"),
        Some(token),
        None,
    )
}

#[test]
fn a_rated_order_goes_to_the_worker_with_its_skill_and_managers_read_why() {
    let stack = Stack::shared();
    let carpets = skill("carpets");
    let (kiwi, kiwis_token) = worker(stack, &[&carpets]);
    let order = Uuid::now_v7();
    rate(stack, order, &carpets);
    let event = stack.eventually(60, "Matching.ExecutorMatched reaches the bus", || {
        matched(stack, order).into_iter().next()
    });
    assert_eq!(event["source"], "ates.matching");
    let data = &event["detail"]["data"];
    assert_eq!(data["executor_id"], kiwi.as_str());
    assert_eq!(
        (data["order_version"].as_u64(), data["candidates"].as_u64()),
        (Some(2), Some(1))
    );
    ates_kernel::schema::check("Matching.ExecutorMatched", 1, data).expect("matches its schema");

    let (status, seen) = view(stack, order, &manager(stack));
    assert_eq!(status, 200, "{seen}");
    assert_eq!(seen["status"], "matched");
    assert_eq!(seen["executor_id"], kiwi.as_str());
    assert_eq!(
        seen["candidates"],
        json!([{"worker_id": kiwi, "chosen": true, "orders_in_last_7_days": 0, "why": "chosen"}])
    );
    let (status, refused) = view(stack, order, &kiwis_token);
    assert_eq!(status, 403, "workers do not read matching: {refused}");
    let (status, _) = view(stack, Uuid::now_v7(), &manager(stack));
    assert_eq!(status, 404);
}

#[test]
fn an_order_nobody_can_take_waits_until_a_worker_with_its_skill_enrols() {
    let stack = Stack::shared();
    let roofs = skill("roofs");
    let order = Uuid::now_v7();
    rate(stack, order, &roofs);
    let waiting = stack.eventually(60, "the order waits", || {
        let (status, seen) = view(stack, order, &manager(stack));
        (status == 200).then_some(seen)
    });
    assert_eq!(waiting["status"], "waiting", "{waiting}");
    assert!(waiting["waiting_since"].is_string(), "{waiting}");

    // The retry finds nobody either, and says so; then a roofer enrols.
    let (status, fired) = stack.call(
        "POST",
        "/_local/schedules/MatchingRetryWaitingFunction/EveryFiveMinutes/fire",
        None,
        None,
    );
    assert_eq!(status, 200, "{fired}");
    assert!(fired["response"]["tried"].as_u64() >= Some(1), "{fired}");
    assert!(matched(stack, order).is_empty());

    let (roofer, _) = worker(stack, &[&roofs]);
    let event = stack.eventually(60, "the enrolment matches the waiting order", || {
        matched(stack, order).into_iter().next()
    });
    assert_eq!(event["detail"]["data"]["executor_id"], roofer.as_str());
    let (_, seen) = view(stack, order, &manager(stack));
    assert_eq!(seen["status"], "matched", "{seen}");
    assert_eq!(seen["waiting_since"], Value::Null);
}
