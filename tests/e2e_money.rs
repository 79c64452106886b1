//! The order's money end to end, through the local stack and seven contexts' real binaries:
//! a client with a card on file orders; the calculator, matching and supplies take the order to
//! `pending`; the executor's pre-report and report (reports' events, put on the bus here: a real
//! pre-report waits for the slot, two hours away at least) take it to `report`; the client
//! approves; the clock's schedule ends the week; billing invoices the client, payments collects
//! the invoice from the card through the simulated acquirer, billing settles the order and
//! orders marks it paid. The worker's month so far shows their share; the month's end issues
//! their statement, and payments sends the salary through the (simulated) bank.
//!
//! Its own process, so its own stack: no other test ends this stack's weeks.

use ates_tests::market::{
    charged, give_iban, hand_out_kit, marked, order_when, paid_statement, service_type, time,
    worker, PeriodEnds,
};
use ates_tests::Stack;
use chrono::{Duration, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

#[test]
fn an_approved_order_is_invoiced_at_the_weeks_end_collected_from_the_card_and_paid() {
    let stack = Stack::shared();
    let admin = stack.admin_token();
    let (_, manager) = stack.employee(&admin, "manager");
    let (client_id, client) = stack.employee(&admin, "client");
    let (status, card) = stack.call(
        "PUT",
        "/payments/me/card",
        Some(&client),
        Some(&json!({"card_token": "tok_visa"})),
    );
    assert_eq!(
        (status, card["last4"].as_str()),
        (200, Some("4242")),
        "{card}"
    );
    let skill = format!("perches-{}", Uuid::now_v7().simple());
    let (kiwi, kiwis_token) = worker(stack, &skill, "middle");
    let kind = service_type(stack, &manager, &skill);

    // Ordered, matched, priced (a middle: 100 % of $120.00), supplied: pending.
    let slot_start = Utc::now() + Duration::days(2);
    let body = json!({"service_type_id": kind, "description": "The perches",
        "address": "7 Perch Street", "slot_start": time(slot_start)});
    let key = format!("order-{}", Uuid::now_v7());
    let (status, order, _) = stack.call_with_key("POST", "/orders", &client, &key, &body);
    assert_eq!(status, 201, "{order}");
    let order_id = order["order_id"].as_str().unwrap().to_owned();
    order_when(stack, &order_id, &client, "matched and valued", |o| {
        marked(o, "valued")
    });
    hand_out_kit(stack, &manager, &order_id, &kiwi);
    let pending = order_when(stack, &order_id, &client, "pending", |o| {
        marked(o, "pending")
    });
    assert_eq!(pending["value_cents"], 12_000);

    // The executor's pre-report and report; the client approves.
    let slot_start: chrono::DateTime<Utc> =
        pending["slot_start"].as_str().unwrap().parse().unwrap();
    for (name, at) in [
        (
            "Report.PreReportSubmitted",
            slot_start - Duration::minutes(10),
        ),
        ("Report.ReportSubmitted", slot_start + Duration::hours(2)),
    ] {
        stack.publish(
            "reports",
            name,
            json!({"report_id": Uuid::now_v7(), "order_id": order_id, "executor_id": kiwi,
                   "attachment_ids": [], "submitted_at": time(at)}),
        );
    }
    order_when(stack, &order_id, &client, "reported", |o| {
        marked(o, "report")
    });
    let (status, approved) = stack.call(
        "POST",
        &format!("/orders/{order_id}/approve"),
        Some(&client),
        Some(&json!({})),
    );
    assert_eq!(status, 200, "{approved}");
    charged(stack, &order_id);

    // The schedule ends this week: at the next Monday's midnight (UTC here), Sunday's day ends.
    let ends = PeriodEnds::from_today();
    let fired = ends.end_week(stack);
    let names: Vec<&str> = fired["response"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert!(names.contains(&"Clock.WeekEnded"), "{fired}");

    // Invoiced, collected from the card, paid; the order settled.
    let invoice = stack.eventually(90, "the client's invoice is paid", || {
        let (status, page) = stack.call("GET", "/billing/me/invoices", Some(&client), None);
        assert_eq!(status, 200, "{page}");
        page["invoices"]
            .as_array()?
            .iter()
            .find(|i| i["status"] == "paid")
            .cloned()
    });
    assert_eq!(invoice["total_cents"], 12_000, "{invoice}");
    assert_eq!(
        invoice["lines"].as_array().map(Vec::len),
        Some(1),
        "{invoice}"
    );
    assert_eq!(invoice["lines"][0]["order_id"], order_id.as_str());
    let paid = order_when(stack, &order_id, &client, "paid", |o| {
        marked(o, "success_paid")
    });
    assert_eq!(paid["client_id"], client_id.as_str());
    let collected: Vec<Value> = stack
        .events()
        .into_iter()
        .filter(|e| {
            e["detail-type"] == "Payment.CollectionSucceeded"
                && e["detail"]["data"]["invoice_id"] == invoice["invoice_id"]
        })
        .collect();
    assert_eq!(collected.len(), 1, "collected once");
    assert_eq!(collected[0]["detail"]["data"]["card_last4"], "4242");

    // The worker's month so far: 60 % of the list price.
    let (status, month) = stack.call("GET", "/billing/me", Some(&kiwis_token), None);
    assert_eq!(status, 200, "{month}");
    assert_eq!(month["shares_cents"], 7_200, "{month}");

    // The worker gives an IBAN; the schedule ends the month: the statement, and its salary
    // through the bank.
    give_iban(stack, &kiwis_token);
    ends.end_month(stack);
    let (statement, _) = paid_statement(stack, &kiwis_token, &kiwi, &ends.month);
    assert_eq!(
        (
            statement["shares_cents"].as_i64(),
            statement["salary_cents"].as_i64()
        ),
        (Some(7_200), Some(7_200)),
        "{statement}"
    );
    let confirmed = stack
        .events()
        .into_iter()
        .filter(|e| {
            e["detail-type"] == "Payment.SalaryPaid"
                && e["detail"]["data"]["worker_id"] == kiwi.as_str()
        })
        .count();
    assert_eq!(confirmed, 1, "confirmed once");
}
