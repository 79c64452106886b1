//! Supplies' HTTP edge on the in-memory store: each route reads its request as the gateway hands
//! it, and every bad input is a named problem with nothing written.

use ates_kernel::contracts::orders::{OrderRated, Place, SupplyLine};
use ates_kernel::copies::KeepsAccountCopies;
use ates_kernel::identity::Role;
use ates_kernel::testing::{account, account_event, answer, api_request, at, event};
use ates_supplies::app::{self, Deadline};
use ates_supplies::kit::kit_id;
use ates_supplies::memory::{FakeSupplier, MemoryStore};
use ates_supplies::{api, signature};
use chrono::Duration;
use uuid::Uuid;

const SECRET: &[u8] = b"a-secret-the-supplier-shares-with-us";

async fn store_with_a_kit(order_id: Uuid) -> (MemoryStore, String) {
    let store = MemoryStore::default();
    let manager = account("Manager", Role::Manager);
    store
        .save_account(&manager, &account_event(&manager))
        .await
        .unwrap();
    let now = at("2026-12-01T10:00:00Z");
    let rated = OrderRated {
        order_id,
        version: 2,
        places: vec![Place::Rated, Place::ToMatch, Place::ToSupply],
        client_id: Uuid::now_v7(),
        estimate_cents: 10_000,
        required_skill: "carpets".into(),
        slot_start: now + Duration::days(1),
        slot_end: now + Duration::days(1),
        supplies: vec![SupplyLine {
            item: "soap".into(),
            quantity: 1,
        }],
        at: now,
    };
    let deadline = Deadline(Duration::minutes(30));
    let supplier = FakeSupplier::default();
    app::on_order_event(
        &store,
        &supplier,
        &event("orders", &rated, now),
        deadline,
        now,
    )
    .await
    .unwrap();
    (store, manager.account_id.to_string())
}

fn delivery(body: &str, signature: Option<&str>) -> lambda_http::Request {
    let mut req = api_request(
        "POST",
        "/supplies/supplier/deliveries",
        "/supplies/supplier/deliveries",
        Some(body),
        None,
    );
    if let Some(signature) = signature {
        req.headers_mut()
            .insert(signature::HEADER, signature.parse().unwrap());
    }
    req
}

#[tokio::test]
async fn a_delivery_is_taken_only_with_the_signature_of_its_body() {
    let order_id = Uuid::now_v7();
    let (store, _) = store_with_a_kit(order_id).await;
    let body = serde_json::json!({"kit_id": kit_id(order_id), "attempt": 1}).to_string();
    for bad in [
        None,
        Some("sha256=00"),
        Some(signature::sign(b"another secret", body.as_bytes()).as_str()),
    ] {
        let (status, problem) =
            answer(api::receive_delivery(&store, SECRET, delivery(&body, bad)).await);
        assert_eq!(status, 401, "{bad:?}: {problem}");
    }
    let signed = signature::sign(SECRET, body.as_bytes());
    let (status, taken) =
        answer(api::receive_delivery(&store, SECRET, delivery(&body, Some(&signed))).await);
    assert_eq!(status, 200, "{taken}");
    assert_eq!(
        (taken["accepted"].as_bool(), taken["status"].as_str()),
        (Some(true), Some("received"))
    );
    let (status, again) =
        answer(api::receive_delivery(&store, SECRET, delivery(&body, Some(&signed))).await);
    assert_eq!(
        (status, again["accepted"].as_bool()),
        (200, Some(false)),
        "a repeat changes nothing"
    );

    let unknown = serde_json::json!({"kit_id": Uuid::now_v7(), "attempt": 1}).to_string();
    let signed = signature::sign(SECRET, unknown.as_bytes());
    let (status, _) =
        answer(api::receive_delivery(&store, SECRET, delivery(&unknown, Some(&signed))).await);
    assert_eq!(status, 404);
}

#[tokio::test]
async fn kits_are_listed_by_a_known_status_only() {
    let order_id = Uuid::now_v7();
    let (store, manager) = store_with_a_kit(order_id).await;
    let list = |query: &str| {
        api_request(
            "GET",
            "/supplies/kits",
            &format!("/supplies/kits{query}"),
            None,
            Some((&manager, Role::Manager)),
        )
    };
    let (status, page) = answer(api::list_kits(&store, list("?status=ordered")).await);
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        page["kits"][0]["kit_id"],
        serde_json::json!(kit_id(order_id))
    );
    assert_eq!(page["kits"][0]["items"][1]["item"], "fortune cookie");
    let (status, page) = answer(api::list_kits(&store, list("")).await);
    assert_eq!(
        (status, page["kits"].as_array().map(Vec::len)),
        (200, Some(0)),
        "received by default"
    );
    let (status, problem) = answer(api::list_kits(&store, list("?status=lost")).await);
    assert_eq!(status, 422);
    assert!(
        problem["detail"].as_str().unwrap().contains("lost"),
        "{problem}"
    );
}

#[tokio::test]
async fn issuing_names_what_stands_in_the_way() {
    let order_id = Uuid::now_v7();
    let (store, manager) = store_with_a_kit(order_id).await;
    let issue = |id: Uuid, body: Option<&str>| {
        let path = format!("/supplies/kits/{id}/issue");
        api_request(
            "POST",
            "/supplies/kits/{kit_id}/issue",
            &path,
            body,
            Some((&manager, Role::Manager)),
        )
    };
    let (status, problem) = answer(api::issue_kit(&store, issue(kit_id(order_id), None)).await);
    assert_eq!(status, 409);
    assert!(
        problem["detail"].as_str().unwrap().contains("ordered"),
        "names the status: {problem}"
    );
    let (status, _) = answer(api::issue_kit(&store, issue(Uuid::now_v7(), Some("{}"))).await);
    assert_eq!(status, 404);
    let (status, _) =
        answer(api::issue_kit(&store, issue(kit_id(order_id), Some(r#"{"to": "x"}"#))).await);
    assert_eq!(status, 422, "an unknown field");
    assert!(store.published().is_empty(), "nothing written");
}
