//! Matching's HTTP edge on the in-memory store: what a caller sees (status, body, problem) of
//! `GET /matching/orders/{order_id}`.

use ates_kernel::contracts::orders::{OrderRated, Place};
use ates_kernel::identity::Role;
use ates_kernel::testing::{self, answer, api_request, at};
use ates_matching::{api, app, memory::MemoryStore};
use rand::SeedableRng;
use serde_json::json;
use uuid::Uuid;

const ROUTE: &str = "/matching/orders/{order_id}";

async fn get(store: &MemoryStore, order: &str, role: Option<Role>) -> (u16, serde_json::Value) {
    let caller = Uuid::now_v7().to_string();
    let who = role.map(|r| (caller.as_str(), r));
    let req = api_request(
        "GET",
        ROUTE,
        &format!("/matching/orders/{order}"),
        None,
        who,
    );
    answer(api::order(store, req).await)
}

async fn waiting_order(store: &MemoryStore) -> Uuid {
    let order_id = Uuid::now_v7();
    let rated = OrderRated {
        order_id,
        version: 2,
        places: vec![Place::Rated, Place::ToMatch, Place::ToSupply],
        client_id: Uuid::now_v7(),
        estimate_cents: 12_000,
        required_skill: "carpets".into(),
        slot_start: at("2026-12-08T10:00:00Z"),
        slot_end: at("2026-12-08T12:00:00Z"),
        supplies: vec![],
        at: at("2026-12-07T09:00:00Z"),
    };
    let event = testing::event("orders", &rated, at("2026-12-07T09:00:00Z"));
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    app::on_order_event(store, &event, at("2026-12-07T09:00:00Z"), &mut rng)
        .await
        .unwrap();
    order_id
}

#[tokio::test]
async fn a_manager_reads_where_matching_is_with_an_order() {
    let store = MemoryStore::default();
    let order = waiting_order(&store).await;
    let (status, body) = get(&store, &order.to_string(), Some(Role::Manager)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({
            "order_id": order, "status": "waiting", "executor_id": null,
            "waiting_since": "2026-12-07T09:00:00Z", "decided_at": null, "candidates": []
        })
    );
    let (status, _) = get(&store, &order.to_string(), Some(Role::Admin)).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn others_are_refused_and_what_is_not_an_order_is_404() {
    let store = MemoryStore::default();
    let order = waiting_order(&store).await.to_string();
    for role in [Role::Worker, Role::Client, Role::Accountant] {
        let (status, body) = get(&store, &order, Some(role)).await;
        assert_eq!(status, 403, "{role}: {body}");
    }
    assert_eq!(get(&store, &order, None).await.0, 401);
    let (status, body) = get(&store, &Uuid::now_v7().to_string(), Some(Role::Manager)).await;
    assert_eq!((status, body["status"].as_u64()), (404, Some(404)));
    assert_eq!(get(&store, "not-an-id", Some(Role::Manager)).await.0, 404);
}
