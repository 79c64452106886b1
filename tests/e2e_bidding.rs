//! Bidding end to end, through the local stack and its real binaries: a client's real order
//! (orders publishes its `Order.Created`), managers' bets on it (one each, keyed, none by any
//! other role), the work begun and the order invoiced (orders' events put on the bus as orders
//! publishes them: driving a real order to its invoice takes four more contexts), the book
//! settled pari-mutuel, the standings with their transfers. Bidding's functions log no bet above
//! debug.

use ates_tests::market::{service_type, time};
use ates_tests::Stack;
use chrono::{Duration, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

fn book(stack: &Stack, order_id: &str, manager: &str) -> (u16, Value) {
    stack.call(
        "GET",
        &format!("/bets/orders/{order_id}"),
        Some(manager),
        None,
    )
}

fn payout_of(book: &Value, manager_id: &str) -> Value {
    book["bets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["manager_id"] == manager_id)
        .map(|b| b["payout_cents"].clone())
        .unwrap_or(Value::Null)
}

#[test]
fn managers_bet_on_a_real_order_and_its_invoice_settles_the_book_and_the_standings() {
    let stack = Stack::shared();
    let admin = stack.admin_token();
    let (ann_id, ann) = stack.employee(&admin, "manager");
    let (bob_id, bob) = stack.employee(&admin, "manager");
    let (cid_id, cid) = stack.employee(&admin, "manager");
    let (_, dee) = stack.employee(&admin, "manager");
    let (client_id, client) = stack.employee(&admin, "client");
    let (_, worker) = stack.employee(&admin, "worker");
    let (_, accountant) = stack.employee(&admin, "accountant");

    // A real order: orders publishes Order.Created, and bidding opens its book.
    let skill = format!("bets-{}", Uuid::now_v7().simple());
    let kind = service_type(stack, &ann, &skill);
    let body = json!({
        "service_type_id": kind, "description": "The carpet we bet on",
        "address": "1 Nest Lane", "slot_start": time(Utc::now() + Duration::days(2))
    });
    let (status, order) = stack.call("POST", "/orders", Some(&client), Some(&body));
    assert_eq!(status, 201, "{order}");
    let order_id = order["order_id"].as_str().unwrap().to_owned();
    stack.eventually(60, "bidding knows the order", || {
        let (status, book) = book(stack, &order_id, &ann);
        (status == 200 && book["status"] == "open").then_some(())
    });

    // Ann bets (keyed: the same key answers the same bet), then Bob and Cid.
    let ann_bet = json!({"order_id": order_id, "outcome": "success", "stake_cents": 1_000});
    let key = Uuid::now_v7().to_string();
    let (status, first, replayed) = stack.call_with_key("POST", "/bets", &ann, &key, &ann_bet);
    assert_eq!((status, replayed), (201, false), "{first}");
    assert_eq!(first["manager_id"], ann_id.as_str());
    let (status, again, replayed) = stack.call_with_key("POST", "/bets", &ann, &key, &ann_bet);
    assert_eq!((status, replayed), (201, true), "{again}");
    assert_eq!(again["bet_id"], first["bet_id"]);
    // A second bet of Ann's on the order: 409.
    let second = json!({"order_id": order_id, "outcome": "failed", "stake_cents": 500});
    let (status, problem) = stack.call("POST", "/bets", Some(&ann), Some(&second));
    assert_eq!(status, 409, "{problem}");
    for (token, outcome, cents) in [(&bob, "success", 3_000), (&cid, "failed", 2_000)] {
        let bet = json!({"order_id": order_id, "outcome": outcome, "stake_cents": cents});
        let (status, placed) = stack.call("POST", "/bets", Some(token), Some(&bet));
        assert_eq!(status, 201, "{placed}");
    }
    let (status, problem) = stack.call(
        "POST",
        "/bets",
        Some(&dee),
        Some(&json!({"order_id": order_id, "outcome": "success", "stake_cents": 99})),
    );
    assert_eq!(status, 422, "{problem}");
    let unknown = json!({"order_id": Uuid::now_v7(), "outcome": "success", "stake_cents": 500});
    let (status, problem) = stack.call("POST", "/bets", Some(&dee), Some(&unknown));
    assert_eq!(status, 409, "an order bidding has not heard of: {problem}");

    // Every bets route refuses admins, accountants, workers and clients (403), and no token (401).
    let routes = [
        ("POST", "/bets".to_owned()),
        ("GET", "/bets/mine".to_owned()),
        ("GET", format!("/bets/orders/{order_id}")),
        (
            "GET",
            "/bets/standings?from=2026-01-01&to=2026-01-31".to_owned(),
        ),
    ];
    let bet = json!({"order_id": order_id, "outcome": "success", "stake_cents": 500});
    for (method, path) in &routes {
        let body = (*method == "POST").then_some(&bet);
        for (role, token) in [
            ("admin", &admin),
            ("accountant", &accountant),
            ("worker", &worker),
            ("client", &client),
        ] {
            let (status, answer) = stack.call(method, path, Some(token), body);
            assert_eq!(status, 403, "{role}: {method} {path}: {answer}");
        }
        let (status, answer) = stack.call(method, path, None, body);
        assert_eq!(status, 401, "no token: {method} {path}: {answer}");
    }

    // The work begins: bets close. (A second on: the API's times are whole seconds, and a bet
    // placed at or after the moment the work began would be void.)
    let executor = Uuid::now_v7().to_string();
    let began = Utc::now() + Duration::seconds(2);
    stack.publish(
        "orders",
        "Order.InWork",
        json!({"order_id": order_id, "version": 8, "places": ["in_work"],
               "executor_id": executor, "at": time(began)}),
    );
    stack.eventually(60, "bidding learned that the work began", || {
        let stored = stack.items("BiddingTable", &format!("BOOK#{order_id}"));
        stored
            .first()
            .is_some_and(|b| !b["book"]["M"]["work_began_at"].is_null())
            .then_some(())
    });
    let (status, problem) = stack.call("POST", "/bets", Some(&dee), Some(&bet));
    assert_eq!(status, 409, "bets are closed: {problem}");

    // Invoiced as a success: Ann and Bob share the pool of 6 000 by their stakes 1 000 and 3 000.
    let invoiced = json!({"order_id": order_id, "version": 10, "places": ["success_invoiced"],
        "client_id": client_id, "executor_id": executor, "list_price_cents": 12_000,
        "value_cents": 12_000, "decided_by": client_id, "reason": null,
        "at": time(Utc::now())});
    stack.publish("orders", "Order.SuccessInvoiced", invoiced.clone());
    stack.publish("orders", "Order.SuccessInvoiced", invoiced);
    let settled = stack.eventually(60, "the book is settled", || {
        let (status, book) = book(stack, &order_id, &bob);
        (status == 200 && book["status"] == "settled").then_some(book)
    });
    assert_eq!(settled["pool_cents"], 6_000);
    assert_eq!(settled["bets"].as_array().unwrap().len(), 3);
    assert_eq!(payout_of(&settled, &ann_id), 1_500);
    assert_eq!(payout_of(&settled, &bob_id), 4_500);
    assert_eq!(payout_of(&settled, &cid_id), 0);
    let (status, mine) = stack.call("GET", "/bets/mine", Some(&cid), None);
    assert_eq!(status, 200, "{mine}");
    assert_eq!(mine["bets"][0]["order_id"], order_id.as_str());
    assert_eq!(
        (
            mine["bets"][0]["status"].as_str(),
            mine["bets"][0]["payout_cents"].as_i64()
        ),
        (Some("settled"), Some(0))
    );

    // The standings around today: Ann +500, Bob +1 500, Cid −2 000, settled in two transfers.
    let today = Utc::now().date_naive();
    let path = format!(
        "/bets/standings?from={}&to={}",
        today - Duration::days(1),
        today + Duration::days(1)
    );
    let (status, standings) = stack.call("GET", &path, Some(&dee), None);
    assert_eq!(status, 200, "{standings}");
    let net = |id: &str| {
        standings["managers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["manager_id"] == id)
            .and_then(|m| m["net_cents"].as_i64())
    };
    assert_eq!(
        (net(&ann_id), net(&bob_id), net(&cid_id)),
        (Some(500), Some(1_500), Some(-2_000))
    );
    let transfers = standings["transfers"].as_array().unwrap();
    let from_cid: Vec<(String, i64)> = transfers
        .iter()
        .filter(|t| t["from"] == cid_id.as_str())
        .map(|t| {
            (
                t["to"].as_str().unwrap().to_owned(),
                t["amount_cents"].as_i64().unwrap(),
            )
        })
        .collect();
    let mut from_cid = from_cid;
    from_cid.sort();
    let mut expected = vec![(ann_id.clone(), 500), (bob_id.clone(), 1_500)];
    expected.sort();
    assert_eq!(from_cid, expected, "{standings}");

    // No bet reached a log line above debug.
    for function in [
        "BiddingPlaceBetFunction",
        "BiddingOrderEventsFunction",
        "BiddingOrderBookFunction",
        "BiddingMyBetsFunction",
        "BiddingStandingsFunction",
    ] {
        for line in stack.log_lines(function) {
            let text = line.to_string();
            assert!(
                !text.contains("stake") && !text.contains("bet_id"),
                "{function} logged a bet: {text}"
            );
        }
    }
}
