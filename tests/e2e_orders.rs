//! The order's life end to end, through the local stack and four contexts' real binaries: a
//! manager's service type, a client's order, the calculator's estimate and price, matching's
//! executor, the simulated supplier's kit handed out by a manager, `pending`; the executor
//! deactivated before the work starts and the order matched again; reports' pre-report and
//! report, the client's approval and billing's settlement (stand-ins for those contexts' events);
//! an order cancelled. Each
//! test uses a skill of its own, so the tests share the stack safely.

use ates_tests::market::{hand_out_kit, service_type, worker};
use ates_tests::Stack;
use chrono::{Duration, SecondsFormat, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

fn skill(name: &str) -> String {
    format!("{name}-{}", Uuid::now_v7().simple())
}

fn time(at: chrono::DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn order_body(service_type_id: &str) -> Value {
    json!({
        "service_type_id": service_type_id, "description": "The big carpet in the hall",
        "address": "1 Nest Lane", "slot_start": time(Utc::now() + Duration::days(2))
    })
}

fn get(stack: &Stack, order_id: &str, token: &str) -> (u16, Value) {
    stack.call("GET", &format!("/orders/{order_id}"), Some(token), None)
}

fn places(order: &Value) -> Vec<String> {
    order["places"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_owned())
        .collect()
}

/// Waits until the order's marking is `want`, as its client reads it; on a timeout, says where
/// the order stands and how it got there.
fn marked(stack: &Stack, order_id: &str, client: &str, want: &[&str]) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    loop {
        let (status, order) = get(stack, order_id, client);
        let mut want: Vec<&str> = want.to_vec();
        want.sort();
        let mut got = places(&order);
        got.sort();
        if status == 200 && got == want {
            return order;
        }
        if std::time::Instant::now() > deadline {
            let history = stack.call(
                "GET",
                &format!("/orders/{order_id}/history"),
                Some(client),
                None,
            );
            panic!("not within 90s: the order is {want:?}; it is {order}; history {history:?}; dead letters {}", stack.call("GET", "/_local/dead-letters", None, None).1);
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

#[test]
fn an_order_is_rated_matched_valued_supplied_and_pending_and_matched_again_when_its_executor_goes()
{
    let stack = Stack::shared();
    let admin = stack.admin_token();
    let (_, manager) = stack.employee(&admin, "manager");
    let (client_id, client) = stack.employee(&admin, "client");
    let carpets = skill("carpets");
    let (kiwi, kiwis_token) = worker(stack, &carpets, "senior");
    let kind = service_type(stack, &manager, &carpets);

    // The client orders; the same key and body answer the same order.
    let body = order_body(&kind);
    let key = format!("order-{}", Uuid::now_v7());
    let (status, order, replayed) = stack.call_with_key("POST", "/orders", &client, &key, &body);
    assert_eq!((status, replayed), (201, false), "{order}");
    assert_eq!(places(&order), ["new"]);
    assert_eq!(order["client_id"], client_id.as_str());
    let order_id = order["order_id"].as_str().unwrap().to_owned();
    let (status, again, replayed) = stack.call_with_key("POST", "/orders", &client, &key, &body);
    assert_eq!((status, replayed), (201, true), "{again}");
    assert_eq!(again["order_id"], order["order_id"]);

    // Rated, matched to the one worker with the skill, priced at a senior's 120 %: it waits for
    // its kit.
    let valued = marked(stack, &order_id, &client, &["rated", "valued", "to_supply"]);
    assert_eq!(valued["executor_id"], kiwi.as_str());
    assert_eq!(
        (
            valued["estimate_cents"].as_i64(),
            valued["value_cents"].as_i64()
        ),
        (Some(12000), Some(14400))
    );
    assert_eq!(valued["waiting_for"], json!(["supplied"]));
    let (status, mine) = stack.call("GET", "/orders/mine", Some(&kiwis_token), None);
    assert_eq!(status, 200, "{mine}");
    assert!(mine["orders"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["order_id"] == order_id.as_str()));

    // The kit arrives from the supplier and is handed out: the join marks pending.
    hand_out_kit(stack, &manager, &order_id, &kiwi);
    let pending = marked(stack, &order_id, &client, &["rated", "pending"]);
    assert_eq!(pending["waiting_for"], json!([]));
    let (status, history) = stack.call(
        "GET",
        &format!("/orders/{order_id}/history"),
        Some(&client),
        None,
    );
    assert_eq!(status, 200, "{history}");
    let steps: Vec<&str> = history["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["transition"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        ["create", "rate", "match", "value", "supply", "join"]
    );
    let actors: Vec<&str> = history["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["actor"].as_str().unwrap())
        .collect();
    assert_eq!(
        &actors[1..],
        [
            "calculator",
            "matching",
            "calculator",
            "supplies",
            "supplies"
        ]
    );

    // The executor goes before the work starts: released, matched to the next worker with the
    // skill, priced for them (a junior: 90 %), the kit handed to them, pending again.
    let (kea, _) = worker(stack, &carpets, "junior");
    let (status, _) = stack.call(
        "POST",
        &format!("/accounts/{kiwi}/deactivate"),
        Some(&admin),
        None,
    );
    assert_eq!(status, 200);
    let rematched = stack.eventually(90, "the order is matched to the next worker", || {
        let (_, order) = get(stack, &order_id, &client);
        (order["executor_id"] == kea.as_str() && order["value_cents"].as_i64() == Some(10800))
            .then_some(order)
    });
    assert_eq!(rematched["waiting_for"], json!(["supplied"]));
    hand_out_kit(stack, &manager, &order_id, &kea);
    marked(stack, &order_id, &client, &["rated", "pending"]);
    let released = stack
        .events()
        .into_iter()
        .filter(|e| {
            e["detail-type"] == "Order.ExecutorReleased"
                && e["detail"]["data"]["order_id"] == order_id.as_str()
        })
        .count();
    assert_eq!(released, 1);

    // Managers see every order, by stage.
    let (status, listed) = stack.call("GET", "/orders?place=pending", Some(&manager), None);
    assert_eq!(status, 200, "{listed}");
    assert!(listed["orders"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["order_id"] == order_id.as_str()));

    // Reports' words (M6), told twice each: the pre-report of the released executor begins
    // nothing; the new executor's begins the work, their report finishes it.
    let slot_start: chrono::DateTime<Utc> =
        pending["slot_start"].as_str().unwrap().parse().unwrap();
    let words = |executor: &str, name: &'static str, at: chrono::DateTime<Utc>| {
        let data = json!({"report_id": Uuid::now_v7(), "order_id": order_id,
            "executor_id": executor, "attachment_ids": [], "submitted_at": time(at)});
        (name, data)
    };
    let early_kiwi = words(&kiwi, "Report.PreReportSubmitted", slot_start);
    let pre = words(
        &kea,
        "Report.PreReportSubmitted",
        slot_start - Duration::minutes(10),
    );
    let report = words(
        &kea,
        "Report.ReportSubmitted",
        slot_start + Duration::hours(2),
    );
    for (name, data) in [&early_kiwi, &pre, &pre, &report, &report] {
        stack.publish("reports", name, data.clone());
    }
    let reported = marked(stack, &order_id, &client, &["rated", "report"]);
    assert_eq!(reported["executor_id"], kea.as_str());
    let (status, approved) = stack.call(
        "POST",
        &format!("/orders/{order_id}/approve"),
        Some(&client),
        Some(&json!({})),
    );
    assert_eq!(status, 200, "{approved}");
    // Billing collected the charge (M7): paid.
    let settled = json!({"order_id": order_id, "invoice_id": Uuid::now_v7(),
        "outcome": "approved", "settled_at": time(Utc::now())});
    stack.publish("billing", "Billing.OrderSettled", settled.clone());
    stack.publish("billing", "Billing.OrderSettled", settled);
    marked(stack, &order_id, &client, &["rated", "success_paid"]);
    let (_, history) = stack.call(
        "GET",
        &format!("/orders/{order_id}/history"),
        Some(&client),
        None,
    );
    let steps: Vec<&str> = history["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["transition"].as_str().unwrap())
        .collect();
    assert_eq!(
        &steps[steps.len() - 5..],
        ["pre_report", "begin", "finish", "approve", "settle"]
    );

    // M9: the client was mailed each step once: matched and pending twice (the executor
    // changed: a new step each time), reported once, however often the events were delivered;
    // the supply desk was told the kit waits to be handed out.
    let ours = format!("order:{order_id}:");
    let told = stack.eventually(60, "the client's mails, sent", || {
        let (_, mine) = stack.call("GET", "/notifications/mine?limit=100", Some(&client), None);
        let about: Vec<Value> = mine["messages"]
            .as_array()?
            .iter()
            .filter(|m| {
                m["message_id"]
                    .as_str()
                    .is_some_and(|id| id.starts_with(&ours))
            })
            .cloned()
            .collect();
        (about.len() == 5 && about.iter().all(|m| m["status"] == "sent")).then_some(about)
    });
    let mut kinds: Vec<&str> = told.iter().map(|m| m["kind"].as_str().unwrap()).collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "order_matched",
            "order_matched",
            "order_pending",
            "order_pending",
            "order_reported"
        ]
    );
    let email = told[0]["to"].as_str().unwrap();
    let mailed = stack
        .mails_to(email)
        .into_iter()
        .filter(|m| {
            m["subject"]
                .as_str()
                .is_some_and(|s| s.contains(&order_id[order_id.len() - 8..]))
        })
        .count();
    assert_eq!(mailed, 5, "SES took each once");
    let kits = stack
        .mails_to("supply-desk@")
        .into_iter()
        .filter(|m| m.to_string().contains(&order_id))
        .count();
    // Delivered once by the supplier; returned to the desk when its executor went, and handed
    // to the next one from there without a second delivery.
    assert_eq!(kits, 1, "one mail per delivery");
}

#[test]
fn a_client_cancels_an_order_and_bad_orders_are_refused_by_name() {
    let stack = Stack::shared();
    let admin = stack.admin_token();
    let (_, manager) = stack.employee(&admin, "manager");
    let (_, client) = stack.employee(&admin, "client");
    let (_, stranger) = stack.employee(&admin, "client");
    let (_, worker) = stack.employee(&admin, "worker");
    let kind = service_type(stack, &manager, &skill("roofs"));

    let (status, order) = stack.call("POST", "/orders", Some(&client), Some(&order_body(&kind)));
    assert_eq!(status, 201, "{order}");
    let order_id = order["order_id"].as_str().unwrap();
    let (status, _) = get(stack, order_id, &stranger);
    assert_eq!(status, 404, "someone else's order");
    let cancel = format!("/orders/{order_id}/cancel");
    let (status, refused) = stack.call("POST", &cancel, Some(&stranger), None);
    assert_eq!(status, 404, "{refused}");
    let (status, cancelled) = stack.call("POST", &cancel, Some(&client), None);
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(places(&cancelled), ["cancelled"]);
    let (status, twice) = stack.call("POST", &cancel, Some(&client), None);
    assert_eq!(status, 409, "{twice}");
    assert!(
        twice["detail"].as_str().unwrap().contains("cancelled"),
        "{twice}"
    );
    let (status, early) = stack.call(
        "POST",
        &format!("/orders/{order_id}/approve"),
        Some(&client),
        None,
    );
    assert_eq!(status, 409, "no report to approve: {early}");

    let past = json!({"slot_start": time(Utc::now() - Duration::hours(1))});
    let mut body = order_body(&kind);
    body["slot_start"] = past["slot_start"].clone();
    let (status, problem) = stack.call("POST", "/orders", Some(&client), Some(&body));
    assert_eq!(status, 422, "{problem}");
    let (status, problem) = stack.call(
        "POST",
        "/orders",
        Some(&client),
        Some(&order_body(&Uuid::now_v7().to_string())),
    );
    assert_eq!(status, 422, "an unknown service type: {problem}");
    let (status, _) = stack.call("POST", "/orders", Some(&worker), Some(&order_body(&kind)));
    assert_eq!(status, 403, "only clients order");

    let (status, retired) = stack.call(
        "POST",
        &format!("/orders/service-types/{kind}/retire"),
        Some(&manager),
        None,
    );
    assert_eq!(status, 200, "{retired}");
    let (status, problem) = stack.call("POST", "/orders", Some(&client), Some(&order_body(&kind)));
    assert_eq!(status, 422, "a retired service type: {problem}");
    let (status, types) = stack.call("GET", "/orders/service-types", Some(&client), None);
    assert_eq!(status, 200, "{types}");
    assert!(types["service_types"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["service_type_id"] != kind.as_str()));
    // The order form learns what may be booked: this stack's one-minute notice (local.json), and
    // the SPEC's 90 days ahead.
    assert_eq!(
        types["slots"],
        json!({"notice_minutes": 1, "horizon_days": 90}),
        "{types}"
    );
}
