//! Notifications end to end, through the local stack: an account reaches notifications' own copy
//! through the bus, a `Statement.Requested` put on the bus (as accounting's close will publish
//! it) is mailed once however often it arrives, the history says so, and a request that cannot
//! be mailed yet is retried while one that never can is parked at once.

use ates_tests::Stack;
use serde_json::{json, Value};

/// A `Statement.Requested` as accounting's relay puts it on the bus.
fn statement_requested(account_id: &str, date: &str, fees: i64, rewards: i64) -> Value {
    let closing = fees + rewards;
    let data = json!({
        "statement_id": format!("statement:{account_id}:{date}"), "account_id": account_id,
        "business_date": date, "opening_balance_cents": 0, "fees_cents": fees,
        "rewards_cents": rewards, "closing_balance_cents": closing,
        "paid_cents": closing.max(0), "carried_cents": closing.min(0), "currency": "USD"
    });
    ates_kernel::schema::check("Statement.Requested", 1, &data).expect("matches its schema");
    json!({"source": "ates.accounting", "detail-type": "Statement.Requested", "detail": {
        "id": uuid::Uuid::now_v7(), "name": "Statement.Requested", "version": 1,
        "occurred_at": "2026-11-21T00:00:05Z", "producer": "accounting",
        "correlation_id": format!("day-close-{date}"), "data": data
    }})
}

fn publish(stack: &Stack, event: &Value) {
    let (status, answer) = stack.call("POST", "/_local/events", None, Some(event));
    assert!(status < 300, "{status} {answer}");
}

/// The messages of `queue`'s dead letters that mention `needle`.
fn dead_letters(stack: &Stack, queue: &str, needle: &str) -> Vec<Value> {
    let dead = stack.call("GET", "/_local/dead-letters", None, None).1;
    dead.as_array()
        .into_iter()
        .flatten()
        .filter(|q| q["queue"] == queue)
        .flat_map(|q| q["messages"].as_array().cloned().unwrap_or_default())
        .filter(|m| m.to_string().contains(needle))
        .collect()
}

/// A worker notifications knows, with their token and address.
fn worker(stack: &Stack) -> (String, String, String) {
    let admin = stack.admin_token();
    let (id, token) = stack.employee(&admin, "worker");
    let copy = stack.eventually(30, "notifications' copy of the account", || {
        stack
            .items("NotificationsTable", &format!("ACCOUNT#{id}"))
            .into_iter()
            .next()
    });
    let email = copy["email"]["S"].as_str().expect("an address").to_owned();
    (id, token, email)
}

#[test]
fn a_statement_requested_three_times_is_mailed_once_and_shows_as_sent() {
    let stack = Stack::shared();
    let (id, token, email) = worker(stack);
    let first = statement_requested(&id, "2026-11-20", -3000, 4900);
    publish(stack, &first);
    publish(stack, &first);
    // The same statement under another event id (a republished outbox record, a re-run close).
    let again = statement_requested(&id, "2026-11-20", -3000, 4900);
    publish(stack, &again);

    let (status, history) = stack.eventually(30, "the message in the history, sent", || {
        let (status, history) = stack.call("GET", "/notifications/mine", Some(&token), None);
        (history["messages"][0]["status"] == "sent").then_some((status, history))
    });
    assert_eq!(status, 200, "{history}");
    let messages = history["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "{history}");
    assert_eq!(messages[0]["to"], email.as_str());
    assert_eq!(messages[0]["business_date"], "2026-11-20");
    assert_eq!(messages[0]["attempts"], 1);
    assert_eq!(
        messages[0]["message_id"],
        format!("statement:{id}:2026-11-20")
    );

    // Every delivery has been handled, and handled well, before the mailbox is counted.
    stack.eventually(30, "all three requests handled", || {
        let handled: Vec<Value> = [&first, &again]
            .iter()
            .map(|e| delivery(stack, e["detail"]["id"].as_str().unwrap()))
            .collect();
        let ok = |d: &Value| {
            d["outcomes"]
                .as_array()
                .map(|o| o.iter().filter(|o| *o == "ok").count())
        };
        (ok(&handled[0]) == Some(2) && ok(&handled[1]) == Some(1)).then_some(())
    });
    let mail = stack.mails_to(&email);
    assert_eq!(mail.len(), 1, "one mail per account and day: {mail:?}");
    let body = mail[0].to_string();
    assert!(body.contains("$19.00"), "{body}");
    assert!(
        body.contains("-$30.00") && body.contains("$49.00"),
        "{body}"
    );

    // Admins read everyone's history; a worker is refused at the gateway.
    let (status, _) = stack.call("GET", "/notifications", Some(&token), None);
    assert_eq!(status, 403);
    let (status, all) = stack.call(
        "GET",
        "/notifications?limit=100",
        Some(&stack.admin_token()),
        None,
    );
    assert_eq!(status, 200, "{all}");
    let (status, bad) = stack.call("GET", "/notifications/mine?limit=0", Some(&token), None);
    assert_eq!(status, 422, "{bad}");
}

#[test]
fn a_statement_for_an_account_not_known_is_retried_and_one_never_mailable_is_parked_at_once() {
    let stack = Stack::shared();
    let stranger = uuid::Uuid::now_v7().to_string();
    let unknown = statement_requested(&stranger, "2026-11-20", -1500, 0);
    let unknown_id = unknown["detail"]["id"].as_str().unwrap().to_owned();
    publish(stack, &unknown);
    let mut poison = statement_requested(&stranger, "2026-11-21", -1500, 0);
    poison["detail"]["data"] = json!({"statement_id": 7});
    let poison_id = poison["detail"]["id"].as_str().unwrap().to_owned();
    publish(stack, &poison);

    let parked = stack.eventually(30, "the poison parked", || {
        let parked = dead_letters(stack, "NotificationsStatementsDeadLetters", &poison_id);
        (!parked.is_empty()).then_some(parked)
    });
    assert!(
        parked[0]["messageAttributes"]["ates-parked-reason"]
            .as_str()
            .is_some_and(|r| !r.is_empty()),
        "{}",
        parked[0]
    );
    assert_eq!(
        delivery(stack, &poison_id)["deliveries"],
        1,
        "parked on its first delivery"
    );

    // Not known: retried (not parked) until the queue's five receives, then dead-lettered.
    let waited = stack.eventually(60, "the unknown account's statement dead-lettered", || {
        let d = delivery(stack, &unknown_id);
        (d["dead_lettered"] == true).then_some(d)
    });
    assert_eq!(waited["deliveries"], 5, "{waited}");
    assert!(
        waited["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("reported as a batch item failure")),
        "{waited}"
    );
    assert_eq!(
        dead_letters(stack, "NotificationsStatementsDeadLetters", &stranger).len(),
        1
    );
}

/// How the send-statement function's deliveries of one event went (`/_local/deliveries`).
fn delivery(stack: &Stack, event_id: &str) -> Value {
    let deliveries = stack.call("GET", "/_local/deliveries", None, None).1;
    deliveries["NotificationsSendStatementFunction"][event_id].clone()
}
