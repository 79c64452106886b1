//! Billing end to end, through the local stack and its real binaries: another context's facts
//! injected on the bus (an approved order, the week's end, payments' answer), the client's
//! invoice issued and collected, the order settled, a manager's bonus once per key, the worker's
//! month so far.

use ates_tests::Stack;
use chrono::{Datelike, SecondsFormat, Utc};
use serde_json::json;
use uuid::Uuid;

#[test]
fn an_approved_order_is_invoiced_at_the_weeks_end_collected_and_settled() {
    let stack = Stack::shared();
    let admin = stack.admin_token();
    let (client_id, client) = stack.employee(&admin, "client");
    let (worker_id, worker) = stack.employee(&admin, "worker");
    let (_, manager) = stack.employee(&admin, "manager");
    let now = Utc::now();
    let at = now.to_rfc3339_opts(SecondsFormat::Secs, true);
    let order_id = Uuid::now_v7().to_string();
    stack.publish(
        "orders",
        "Order.SuccessInvoiced",
        json!({"order_id": order_id, "version": 9, "places": ["rated", "success_invoiced"],
               "client_id": client_id, "executor_id": worker_id, "list_price_cents": 10_001,
               "value_cents": 9_500, "decided_by": client_id, "reason": null, "at": at}),
    );
    // The week ends once the charge is posted (a later one would go to the next week).
    stack.eventually(60, "the charge is posted", || {
        let found = stack.items("BillingTable", &format!("MOVE#charge:{order_id}"));
        (!found.is_empty()).then_some(())
    });
    let date = now.date_naive();
    let monday = date - chrono::Days::new(date.weekday().num_days_from_monday().into());
    let iso = monday.iso_week();
    let week = format!("{}-W{:02}", iso.year(), iso.week());
    stack.publish(
        "clock",
        "Clock.WeekEnded",
        json!({"week": week, "time_zone": "UTC",
               "started_at": format!("{monday}T00:00:00Z"),
               "ended_at": format!("{}T00:00:00Z", monday + chrono::Days::new(7))}),
    );
    let invoice = stack.eventually(60, "the client's invoice", || {
        let (status, page) = stack.call("GET", "/billing/me/invoices", Some(&client), None);
        assert_eq!(status, 200, "{page}");
        page["invoices"].as_array()?.first().cloned()
    });
    assert_eq!(invoice["total_cents"], 9_500);
    assert_eq!(invoice["status"], "open");
    assert_eq!(invoice["lines"][0]["order_id"], order_id.as_str());
    let invoice_id = invoice["invoice_id"].as_str().unwrap().to_owned();
    let (status, _) = stack.call(
        "GET",
        &format!("/billing/invoices/{invoice_id}"),
        Some(&worker),
        None,
    );
    assert_eq!(status, 404, "not the worker's invoice");

    stack.publish(
        "payments",
        "Payment.CollectionSucceeded",
        json!({"invoice_id": invoice_id, "client_id": client_id, "attempt": 1,
               "amount_cents": 9_500, "card_last4": "4242", "collected_at": at}),
    );
    stack.eventually(60, "the invoice paid and the order settled", || {
        let settled = stack.events().into_iter().any(|e| {
            e["detail-type"] == "Billing.OrderSettled"
                && e["detail"]["data"]["order_id"] == order_id.as_str()
        });
        let (_, paid) = stack.call(
            "GET",
            &format!("/billing/invoices/{invoice_id}"),
            Some(&client),
            None,
        );
        (settled && paid["status"] == "paid").then_some(())
    });

    let bonus = json!({"worker_id": worker_id, "amount_cents": 700, "reason": "tidy kit"});
    let key = Uuid::now_v7().to_string();
    let (status, first, _) =
        stack.call_with_key("POST", "/billing/bonuses", &manager, &key, &bonus);
    assert_eq!(status, 201, "{first}");
    let (status, again, replayed) =
        stack.call_with_key("POST", "/billing/bonuses", &manager, &key, &bonus);
    assert_eq!((status, replayed), (201, true));
    assert_eq!(again["bonus_id"], first["bonus_id"]);
    let too_much = json!({"worker_id": worker_id, "amount_cents": 100_001, "reason": "too much"});
    let (status, problem) = stack.call("POST", "/billing/bonuses", Some(&manager), Some(&too_much));
    assert_eq!(status, 422, "{problem}");

    let (status, me) = stack.call("GET", "/billing/me", Some(&worker), None);
    assert_eq!(status, 200, "{me}");
    assert_eq!(
        (me["shares_cents"].as_i64(), me["bonuses_cents"].as_i64()),
        (Some(6_000), Some(700))
    );
}
