//! The calculator's HTTP edge on the in-memory store: what a client sees (status, body,
//! problem) when asking for a quote.

use ates_calculator::api;
use ates_calculator::app;
use ates_calculator::memory::MemoryStore;
use ates_kernel::contracts::orders::ServiceTypeSet;
use ates_kernel::identity::Role;
use ates_kernel::testing::{answer, api_request, at, event};
use serde_json::json;
use uuid::Uuid;

const ROUTE: &str = "/calculator/quote";

fn service_type(id: Uuid, active: bool) -> ServiceTypeSet {
    ServiceTypeSet {
        service_type_id: id,
        name: "Garden".into(),
        base_price_cents: 25_050,
        required_skill: "gardens".into(),
        duration_minutes: 60,
        supplies: vec![],
        active,
        revision: 1,
        set_at: at("2026-12-06T10:00:00Z"),
    }
}

async fn quote(store: &MemoryStore, query: &str, role: Role) -> (u16, serde_json::Value) {
    let caller = Uuid::now_v7().to_string();
    let path = format!("{ROUTE}{query}");
    let req = api_request("GET", ROUTE, &path, None, Some((&caller, role)));
    answer(api::quote(store, req).await)
}

#[tokio::test]
async fn a_client_is_quoted_a_known_service_type_and_told_why_not_otherwise() {
    let store = MemoryStore::default();
    let (active, retired) = (Uuid::now_v7(), Uuid::now_v7());
    for set in [service_type(active, true), service_type(retired, false)] {
        let delivered = event("orders", &set, at("2026-12-06T10:00:00Z"));
        app::keep_service_type(&store, &delivered).await.unwrap();
    }
    let (status, body) = quote(&store, &format!("?service_type_id={active}"), Role::Client).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"service_type_id": active, "base_price_cents": 25_050, "discount_pct": 0,
               "estimate_cents": 25_050})
    );
    let asked = |query: String| {
        let store = &store;
        async move { quote(store, &query, Role::Client).await.0 }
    };
    assert_eq!(asked(format!("?service_type_id={retired}")).await, 404);
    assert_eq!(
        asked(format!("?service_type_id={}", Uuid::now_v7())).await,
        404
    );
    assert_eq!(asked("?service_type_id=carpets".into()).await, 422);
    assert_eq!(asked(String::new()).await, 422);
    let (status, _) = quote(&store, &format!("?service_type_id={active}"), Role::Worker).await;
    assert_eq!(status, 403, "clients only");
}
