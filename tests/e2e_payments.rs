//! Payments end to end, through the local stack: a client's card put on file with the client's
//! own token (a refused token writes nothing), billing's `Billing.CollectionRequested` put on
//! the bus as billing publishes it, and `Payment.CollectionSucceeded` or
//! `Payment.CollectionFailed` on the bus once the simulated acquirer answered; duplicates
//! charge and publish once; accountants and admins read an invoice's collections. Each test
//! uses clients and invoices of its own, so the tests share the stack safely.

use ates_tests::Stack;
use chrono::{SecondsFormat, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

/// A new client with `token` on file (none for `None`): answers its id and access token.
fn client(stack: &Stack, token: Option<&str>) -> (String, String) {
    let (id, access) = stack.employee(&stack.admin_token(), "client");
    if let Some(token) = token {
        let body = json!({"card_token": token});
        let (status, card) = stack.call("PUT", "/payments/me/card", Some(&access), Some(&body));
        assert_eq!(status, 200, "{token}: {card}");
    }
    (id, access)
}

/// Billing's request for `invoice`'s `attempt`, put on the bus as billing publishes it.
fn request(stack: &Stack, invoice: Uuid, client_id: &str, amount_cents: i64, attempt: u32) {
    let now = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
    stack.publish(
        "billing",
        "Billing.CollectionRequested",
        json!({
            "invoice_id": invoice, "client_id": client_id, "amount_cents": amount_cents,
            "attempt": attempt, "requested_at": now
        }),
    );
}

/// Payments' events about `invoice` on the bus so far.
fn events_of(stack: &Stack, invoice: Uuid) -> Vec<Value> {
    stack
        .events()
        .into_iter()
        .filter(|e| {
            e["source"] == "ates.payments"
                && e["detail"]["data"]["invoice_id"] == invoice.to_string()
        })
        .collect()
}

/// The first event about `invoice`, once it is on the bus; checked against its schema.
fn outcome(stack: &Stack, invoice: Uuid) -> Value {
    let event = stack.eventually(60, "payments' answer reaches the bus", || {
        events_of(stack, invoice).into_iter().next()
    });
    let name = event["detail-type"].as_str().expect("a name").to_owned();
    ates_kernel::schema::check(&name, 1, &event["detail"]["data"]).expect("matches its schema");
    event
}

fn collections(stack: &Stack, invoice: Uuid, token: &str) -> (u16, Value) {
    stack.call(
        "GET",
        &format!("/payments/collections?invoice_id={invoice}"),
        Some(token),
        None,
    )
}

#[test]
fn a_client_keeps_a_card_on_file_a_refused_token_writes_nothing_and_only_the_last_four_show() {
    let stack = Stack::shared();
    let (_, access) = client(stack, None);
    let (status, mine) = stack.call("GET", "/payments/me", Some(&access), None);
    assert_eq!(status, 200, "{mine}");
    assert_eq!(
        mine,
        json!({"card": null, "payouts": [],
               "payout_details": {"iban": null, "updated_at": null, "held_transfers": 0, "held_cents": 0}})
    );

    let body = json!({"card_token": "tok_stolen"});
    let (status, refused) = stack.call("PUT", "/payments/me/card", Some(&access), Some(&body));
    assert_eq!(status, 422, "{refused}");
    assert!(
        refused["detail"].as_str().unwrap().contains("tok_stolen"),
        "{refused}"
    );
    let (_, mine) = stack.call("GET", "/payments/me", Some(&access), None);
    assert_eq!(mine["card"], Value::Null, "nothing written");

    let body = json!({"card_token": "tok_mastercard"});
    let (status, kept) = stack.call("PUT", "/payments/me/card", Some(&access), Some(&body));
    assert_eq!(status, 200, "{kept}");
    assert_eq!(kept, json!({"last4": "4444", "brand": "mastercard"}));
    let (_, mine) = stack.call("GET", "/payments/me", Some(&access), None);
    assert_eq!(
        mine["card"],
        json!({"last4": "4444", "brand": "mastercard"})
    );
    assert!(!mine.to_string().contains("tok_"), "{mine}");

    let (status, _) = stack.call("DELETE", "/payments/me/card", Some(&access), None);
    assert_eq!(status, 204);
    let (_, mine) = stack.call("GET", "/payments/me", Some(&access), None);
    assert_eq!(mine["card"], Value::Null);

    // An employee reads the page (no card); only clients keep one.
    let (_, worker) = stack.employee(&stack.admin_token(), "worker");
    let (status, theirs) = stack.call("GET", "/payments/me", Some(&worker), None);
    assert_eq!(
        (status, theirs["card"].clone()),
        (200, Value::Null),
        "{theirs}"
    );
    let body = json!({"card_token": "tok_visa"});
    let (status, _) = stack.call("PUT", "/payments/me/card", Some(&worker), Some(&body));
    assert_eq!(status, 403);
}

#[test]
fn a_collection_with_a_paying_card_succeeds_once_however_often_billing_asks() {
    let stack = Stack::shared();
    let (client_id, _) = client(stack, Some("tok_visa"));
    let invoice = Uuid::now_v7();
    request(stack, invoice, &client_id, 12_345, 1);
    let event = outcome(stack, invoice);
    assert_eq!(
        event["detail-type"], "Payment.CollectionSucceeded",
        "{event}"
    );
    let data = &event["detail"]["data"];
    assert_eq!(data["client_id"], client_id.as_str());
    assert_eq!(
        (data["amount_cents"].as_i64(), data["attempt"].as_u64()),
        (Some(12_345), Some(1))
    );
    assert_eq!(data["card_last4"], "4242");

    // Billing asks again (a duplicate), then for another invoice: once that one is answered
    // (and a little later), the first invoice still has one collection and one answer.
    request(stack, invoice, &client_id, 12_345, 1);
    let next = Uuid::now_v7();
    request(stack, next, &client_id, 100, 1);
    outcome(stack, next);
    let (status, seen) = collections(stack, invoice, &stack.admin_token());
    assert_eq!(status, 200, "{seen}");
    let found = seen["collections"].as_array().unwrap();
    assert_eq!(found.len(), 1, "{seen}");
    assert_eq!(found[0]["collection_id"], format!("invoice:{invoice}:1"));
    assert_eq!(found[0]["status"], "posted");
    assert!(
        found[0]["charge_id"]
            .as_str()
            .is_some_and(|c| c.starts_with("ch_")),
        "{seen}"
    );
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert_eq!(events_of(stack, invoice).len(), 1, "one answer");
}

#[test]
fn a_declined_card_and_no_card_fail_the_collection_by_name() {
    let stack = Stack::shared();
    let (declining, _) = client(stack, Some("tok_chargeDeclined"));
    let (cardless, _) = client(stack, None);
    let (declined, none) = (Uuid::now_v7(), Uuid::now_v7());
    request(stack, declined, &declining, 900, 2);
    request(stack, none, &cardless, 700, 1);

    let event = outcome(stack, declined);
    assert_eq!(event["detail-type"], "Payment.CollectionFailed", "{event}");
    assert_eq!(event["detail"]["data"]["reason"], "card_declined");
    assert_eq!(event["detail"]["data"]["attempt"], 2);
    let event = outcome(stack, none);
    assert_eq!(event["detail-type"], "Payment.CollectionFailed", "{event}");
    assert_eq!(event["detail"]["data"]["reason"], "no_card");

    let (_, accountant) = stack.employee(&stack.admin_token(), "accountant");
    let (status, seen) = collections(stack, declined, &accountant);
    assert_eq!(status, 200, "{seen}");
    let found = &seen["collections"][0];
    assert_eq!(
        (found["status"].as_str(), found["failure"].as_str()),
        (Some("voided"), Some("card_declined"))
    );
    assert_eq!(found["card_last4"], "0341");
    let (status, seen) = collections(stack, none, &accountant);
    assert_eq!(status, 200);
    assert_eq!(seen["collections"][0]["failure"], "no_card");

    // Clients do not read collections; a missing invoice id is refused by name.
    let (_, someone) = client(stack, None);
    let (status, _) = collections(stack, declined, &someone);
    assert_eq!(status, 403);
    let (status, refused) = stack.call("GET", "/payments/collections", Some(&accountant), None);
    assert_eq!(status, 422, "{refused}");
}

/// The move of payout details from accounting (SPEC M7): the one-off hand-over runs (here, on an
/// accounting table that kept none: nothing to hand over, and done), and details accounting
/// hands over reach payments, which sends the worker's held payout to them through the bank.
#[test]
fn payout_details_handed_over_by_accounting_are_kept_and_release_what_waited_for_them() {
    let stack = Stack::shared();
    let (status, run) = stack.call(
        "POST",
        "/_local/functions/AccountingHandOverPayoutsFunction/invoke",
        None,
        Some(&json!({})),
    );
    assert_eq!(status, 200, "{run}");
    assert_eq!(run["cursor"], Value::Null, "one run: {run}");

    let (worker_id, worker) = stack.employee(&stack.admin_token(), "worker");
    let today = Utc::now().date_naive();
    let payout_id = format!("payout:{worker_id}:{today}");
    stack.publish(
        "accounting",
        "Payout.Made",
        json!({
            "payout_id": payout_id, "account_id": worker_id, "business_date": today,
            "amount_cents": 4_600, "currency": "USD",
            "paid_at": Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
        }),
    );
    let held = stack.eventually(60, "the payout is held: no IBAN yet", || {
        let (_, d) = stack.call("GET", "/accounting/me/payout-details", Some(&worker), None);
        (d["held_transfers"] == 1).then_some(d)
    });
    assert_eq!(held["held_cents"], 4_600, "{held}");

    stack.publish(
        "accounting",
        "PayoutDetails.HandedOver",
        json!({"account_id": worker_id, "iban": "GB82WEST12345698765432",
               "updated_at": "2026-11-19T10:00:00Z"}),
    );
    let sent = stack.eventually(60, "the payout is sent to the handed-over IBAN", || {
        let (_, mine) = stack.call("GET", "/payments/me", Some(&worker), None);
        (mine["payouts"][0]["status"] == "posted").then_some(mine)
    });
    assert_eq!(sent["payout_details"]["iban"], "••••5432", "{sent}");
    assert_eq!(sent["payouts"][0]["sent_to"], "••••5432", "{sent}");
    assert_eq!(
        sent["payouts"][0]["payout_id"],
        payout_id.as_str(),
        "{sent}"
    );
    assert_eq!(sent["payout_details"]["held_transfers"], 0, "{sent}");
}
