//! A week and a month of the marketplace's money, end to end on the local stack and through the
//! real schedules (issue #23's "done when"). Two orders of one client, filed for by the worker
//! through the reports API (the local stack's one-minute slot notice lets the pre-report be real):
//! one approved, one declined. A QA case on the decline waives the worker's fine; a manager gives
//! a bonus. The week ends: one invoice with two lines, collected from the card by the simulated
//! acquirer, both orders paid. A second client's card is declined: billing's dunning schedule
//! retries it after 1, 3 and 7 days, then it is uncollectible. The month ends: the worker's
//! statement is share − fine + waiver + bonus, and its salary leaves through the bank port.
//!
//! Its own process, so its own stack: it ends this stack's week and month.

use ates_tests::market::{
    charged, give_iban, hand_out_kit, marked, order_when, paid_statement, time, worker, PeriodEnds,
};
use ates_tests::Stack;
use chrono::{Duration, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

/// A manager's service type needing `skill`: $120.00 for 15 minutes (short slots, so one worker
/// takes two orders minutes apart), a sponge.
fn short_service(stack: &Stack, manager: &str, skill: &str) -> String {
    let body = json!({
        "name": format!("Perches {skill}"), "base_price_cents": 12000, "required_skill": skill,
        "duration_minutes": 15, "supplies": [{"item": "sponge", "quantity": 1}]
    });
    let (status, created) = stack.call("POST", "/orders/service-types", Some(manager), Some(&body));
    assert_eq!(status, 201, "{created}");
    created["service_type_id"].as_str().unwrap().to_owned()
}

/// `client` orders `kind` for a slot `minutes` from now; the order is matched to `executor`,
/// priced, supplied and its kit handed out: `pending`. Answers its id.
fn pending_order(
    stack: &Stack,
    client: &str,
    manager: &str,
    kind: &str,
    executor: &str,
    minutes: i64,
) -> String {
    let body = json!({"service_type_id": kind, "description": "The perches",
        "address": "7 Perch Street", "slot_start": time(Utc::now() + Duration::minutes(minutes))});
    let key = format!("order-{}", Uuid::now_v7());
    let (status, order, _) = stack.call_with_key("POST", "/orders", client, &key, &body);
    assert_eq!(status, 201, "{order}");
    let order_id = order["order_id"].as_str().unwrap().to_owned();
    let valued = order_when(stack, &order_id, client, "matched and valued", |o| {
        marked(o, "valued")
    });
    assert_eq!(valued["executor_id"], executor, "{valued}");
    hand_out_kit(stack, manager, &order_id, executor);
    let pending = order_when(stack, &order_id, client, "pending", |o| {
        marked(o, "pending")
    });
    assert_eq!(
        pending["value_cents"], 12_000,
        "a middle: 100 % of the base price"
    );
    order_id
}

/// The executor files the pre-report and, once the order is in work, the report.
fn file_reports(stack: &Stack, order_id: &str, executor: &str) {
    let file = |kind: &str| {
        let body = json!({"text": format!("{kind}: the perches")});
        let path = format!("/reports/{order_id}/{kind}");
        stack.eventually(60, "reports takes the filing", || {
            let (status, filed) = stack.call("POST", &path, Some(executor), Some(&body));
            // 409 while reports' copy of the order has not reached the place yet.
            assert!(status == 201 || status == 409, "{kind}: {status} {filed}");
            (status == 201).then_some(())
        });
    };
    file("pre-report");
    order_when(stack, order_id, executor, "in work", |o| {
        marked(o, "in_work")
    });
    file("report");
    order_when(stack, order_id, executor, "reported", |o| {
        marked(o, "report")
    });
}

fn decide(stack: &Stack, order_id: &str, client: &str, how: &str, body: Value) {
    let path = format!("/orders/{order_id}/{how}");
    let (status, decided) = stack.call("POST", &path, Some(client), Some(&body));
    assert_eq!(status, 200, "{how}: {decided}");
}

/// Billing's dunning schedule fired `at`, until it requests the one retry due (billing learns of
/// the last attempt's failure a moment after payments records it; a run with nothing due does
/// nothing).
fn dun_at(stack: &Stack, at: chrono::DateTime<Utc>) {
    stack.eventually(60, "the dunning schedule requests the retry", || {
        let (status, fired) = stack.call(
            "POST",
            &format!(
                "/_local/schedules/BillingDunFunction/EveryFifteenMinutes/fire?at={}",
                time(at)
            ),
            None,
            None,
        );
        assert_eq!(status, 200, "{fired}");
        (fired["response"]["requested"] == 1).then_some(())
    });
}

/// The client's invoice once `ready` says so.
fn invoice_when(stack: &Stack, client: &str, what: &str, ready: impl Fn(&Value) -> bool) -> Value {
    stack.eventually(90, what, || {
        let (status, page) = stack.call("GET", "/billing/me/invoices", Some(client), None);
        assert_eq!(status, 200, "{page}");
        page["invoices"]
            .as_array()?
            .iter()
            .find(|i| ready(i))
            .cloned()
    })
}

#[test]
fn a_week_and_a_month_of_orders_invoices_collections_fines_bonuses_statements_and_salaries() {
    let stack = Stack::shared();
    let admin = stack.admin_token();
    let (_, manager) = stack.employee(&admin, "manager");
    let card = |client: &str, token: &str| {
        let body = json!({"card_token": token});
        let (status, kept) = stack.call("PUT", "/payments/me/card", Some(client), Some(&body));
        assert_eq!(status, 200, "{kept}");
    };
    let (_, paying) = stack.employee(&admin, "client");
    card(&paying, "tok_visa");
    let (_, declining) = stack.employee(&admin, "client");
    card(&declining, "tok_chargeDeclined");
    let run = Uuid::now_v7().simple().to_string();
    let (kiwi, kiwis_token) = worker(stack, &format!("perches-{run}"), "middle");
    let (mango, mangos_token) = worker(stack, &format!("roosts-{run}"), "middle");
    let perches = short_service(stack, &manager, &format!("perches-{run}"));
    let roosts = short_service(stack, &manager, &format!("roosts-{run}"));
    give_iban(stack, &kiwis_token);

    // Two orders of the paying client for Kiwi, one of the declining client's for Mango.
    let approved = pending_order(stack, &paying, &manager, &perches, &kiwi, 3);
    let declined = pending_order(stack, &paying, &manager, &perches, &kiwi, 21);
    let unpaid = pending_order(stack, &declining, &manager, &roosts, &mango, 3);
    for (order_id, executor) in [
        (&approved, &kiwis_token),
        (&declined, &kiwis_token),
        (&unpaid, &mangos_token),
    ] {
        file_reports(stack, order_id, executor);
    }
    decide(stack, &approved, &paying, "approve", json!({}));
    decide(
        stack,
        &declined,
        &paying,
        "decline",
        json!({"reason": "Streaks on every perch"}),
    );
    decide(stack, &unpaid, &declining, "approve", json!({}));

    // The decline opens a QA case; the manager finds the client at fault: the fine is waived.
    let case = stack.eventually(60, "the decline's QA case", || {
        let (status, listed) =
            stack.call("GET", "/reports/qa-cases?limit=100", Some(&manager), None);
        assert_eq!(status, 200, "{listed}");
        listed["cases"]
            .as_array()?
            .iter()
            .find(|c| c["order_id"] == declined.as_str())
            .cloned()
    });
    assert_eq!(case["cause"], "declined", "{case}");
    let (status, closed) = stack.call(
        "POST",
        &format!(
            "/reports/qa-cases/{}/report",
            case["case_id"].as_str().unwrap()
        ),
        Some(&manager),
        Some(&json!({"verdict": "client_at_fault", "notes": "The perches were clean"})),
    );
    assert_eq!(status, 200, "{closed}");
    // A bonus, once however often it is sent.
    let bonus = json!({"worker_id": kiwi, "amount_cents": 1_000, "reason": "Spotless perches"});
    for _ in 0..2 {
        let (status, granted, _) =
            stack.call_with_key("POST", "/billing/bonuses", &manager, "bonus-kiwi-1", &bonus);
        assert_eq!(status, 201, "{granted}");
    }
    let month = stack.eventually(
        60,
        "Kiwi's month has the share, fine, waiver and bonus",
        || {
            let (_, month) = stack.call("GET", "/billing/me", Some(&kiwis_token), None);
            (month["waivers_cents"] == 4_800 && month["bonuses_cents"] == 1_000).then_some(month)
        },
    );
    assert_eq!(
        (
            month["shares_cents"].as_i64(),
            month["fines_cents"].as_i64()
        ),
        (Some(7_200), Some(4_800)),
        "60 % of the approved list price, 40 % of the declined: {month}"
    );
    for order_id in [&approved, &declined, &unpaid] {
        charged(stack, order_id);
    }

    // The week ends through the clock's schedule (a month that ends first, first).
    let ends = PeriodEnds::from_today();
    ends.end_week(stack);

    // One invoice with both orders, collected from the card; both orders paid.
    let invoice = invoice_when(stack, &paying, "the paying client's invoice is paid", |i| {
        i["status"] == "paid"
    });
    assert_eq!(invoice["total_cents"], 24_000, "{invoice}");
    let mut lines: Vec<&str> = invoice["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["order_id"].as_str().unwrap())
        .collect();
    lines.sort();
    let mut both = [approved.as_str(), declined.as_str()];
    both.sort();
    assert_eq!(lines, both, "{invoice}");
    order_when(stack, &approved, &paying, "the approved order paid", |o| {
        marked(o, "success_paid")
    });
    order_when(stack, &declined, &paying, "the declined order paid", |o| {
        marked(o, "failed_paid")
    });

    // The declined card: tried again after 1, 3 and 7 days by the dunning schedule, then
    // uncollectible; its order stays unpaid.
    let first = invoice_when(stack, &declining, "the first attempt declined", |i| {
        i["status"] == "retrying"
    });
    let failed_at = Utc::now();
    for (days, attempts) in [(1, 2), (3, 3), (7, 4)] {
        dun_at(stack, failed_at + Duration::days(days) + Duration::hours(1));
        stack.eventually(60, "the retry's collection fails", || {
            let path = format!(
                "/payments/collections?invoice_id={}",
                first["invoice_id"].as_str().unwrap()
            );
            let (status, found) = stack.call("GET", &path, Some(&admin), None);
            assert_eq!(status, 200, "{found}");
            let voided = found["collections"]
                .as_array()?
                .iter()
                .filter(|c| c["status"] == "voided")
                .count();
            (voided == attempts).then_some(())
        });
    }
    let given_up = invoice_when(stack, &declining, "uncollectible", |i| {
        i["status"] == "uncollectible"
    });
    assert_eq!(given_up["total_cents"], 12_000, "{given_up}");
    let (_, unpaid_order) = stack.call("GET", &format!("/orders/{unpaid}"), Some(&declining), None);
    assert!(!marked(&unpaid_order, "success_paid"), "{unpaid_order}");

    // The month ends: Kiwi's statement, and its salary through the bank.
    ends.end_month(stack);
    let (statement, salary) = paid_statement(stack, &kiwis_token, &kiwi, &ends.month);
    let figures: Vec<i64> = [
        "shares_cents",
        "fines_cents",
        "waivers_cents",
        "bonuses_cents",
        "total_cents",
        "salary_cents",
    ]
    .iter()
    .map(|f| statement[f].as_i64().unwrap())
    .collect();
    assert_eq!(
        figures,
        [7_200, 4_800, 4_800, 1_000, 8_200, 8_200],
        "share − fine + waiver + bonus: {statement}"
    );
    assert_eq!(salary["amount_cents"], 8_200, "{salary}");

    // M9: each cause mailed once and kept as sent: the paying client's invoice issued and paid,
    // the declining client's issued and each of its four declined attempts, Kiwi's statement.
    let mailed = |token: &str, want: usize| {
        stack.eventually(60, "the invoices' and statements' mails, sent", || {
            let (_, mine) = stack.call("GET", "/notifications/mine?limit=100", Some(token), None);
            let mut kinds: Vec<String> = mine["messages"]
                .as_array()?
                .iter()
                .filter(|m| m["status"] == "sent")
                .filter_map(|m| m["kind"].as_str())
                .filter(|k| k.starts_with("invoice_") || *k == "monthly_statement")
                .map(str::to_owned)
                .collect();
            kinds.sort();
            (kinds.len() == want).then_some(kinds)
        })
    };
    assert_eq!(mailed(&paying, 2), ["invoice_issued", "invoice_paid"]);
    assert_eq!(
        mailed(&declining, 5),
        [
            "invoice_declined",
            "invoice_declined",
            "invoice_declined",
            "invoice_declined",
            "invoice_issued"
        ]
    );
    assert_eq!(mailed(&kiwis_token, 1), ["monthly_statement"]);
}
