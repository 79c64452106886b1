//! Reports' HTTP edge on the in-memory store: each route reads its request as the gateway hands
//! it, answers the status the API document names, and every bad input is a named problem with
//! nothing written.

use ates_kernel::contracts::orders::{OrderCreated, OrderPending, OrderStep, Place};
use ates_kernel::identity::Role;
use ates_kernel::testing::{answer, api_request, event};
use ates_reports::memory::{FakeBucket, MemoryStore};
use ates_reports::report::{object_key, Kind};
use ates_reports::{api, app};
use chrono::{Duration, Utc};
use serde_json::json;
use uuid::Uuid;

/// A pending order whose slot started an hour ago: (order, client, worker).
async fn pending(store: &MemoryStore) -> (Uuid, Uuid, Uuid) {
    let (order_id, client, worker) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let now = Utc::now();
    let slot = now - Duration::hours(1);
    let created = OrderCreated {
        order_id,
        version: 1,
        places: vec![Place::New],
        client_id: client,
        service_type_id: Uuid::now_v7(),
        service_type_revision: 1,
        base_price_cents: 10_000,
        required_skill: "windows".into(),
        slot_start: slot,
        slot_end: slot + Duration::hours(2),
        supplies: vec![],
        at: now,
    };
    let pending = OrderPending(OrderStep {
        order_id,
        version: 5,
        places: vec![Place::Pending],
        executor_id: worker,
        at: now,
    });
    for e in [
        event("orders", &created, now),
        event("orders", &pending, now),
    ] {
        app::on_order_event(store, &e, now).await.unwrap();
    }
    (order_id, client, worker)
}

fn post(
    route: &str,
    path: &str,
    body: &serde_json::Value,
    who: (Uuid, Role),
) -> lambda_http::Request {
    let id = who.0.to_string();
    api_request(
        "POST",
        route,
        path,
        Some(&body.to_string()),
        Some((&id, who.1)),
    )
}

fn get(route: &str, path: &str, who: (Uuid, Role)) -> lambda_http::Request {
    let id = who.0.to_string();
    api_request("GET", route, path, None, Some((&id, who.1)))
}

const PRE_REPORT: &str = "/reports/{order_id}/pre-report";

#[tokio::test]
async fn the_executor_files_once_and_every_refusal_is_a_named_problem() {
    let (store, bucket) = (MemoryStore::default(), FakeBucket::default());
    let (order_id, client, worker) = pending(&store).await;
    let path = format!("/reports/{order_id}/pre-report");
    let file = |body: serde_json::Value, who| {
        let req = post(PRE_REPORT, &path, &body, who);
        let (store, bucket) = (&store, &bucket);
        async move { answer(api::file_report(store, bucket, Kind::PreReport, req).await) }
    };

    let (status, problem) = file(json!({"text": ""}), (worker, Role::Worker)).await;
    assert_eq!(status, 422, "{problem}");
    let (status, _) = file(json!({"text": "x", "extra": 1}), (worker, Role::Worker)).await;
    assert_eq!(status, 422, "an unknown field");
    let (status, _) = file(json!({"text": "x"}), (client, Role::Client)).await;
    assert_eq!(status, 403);
    let (status, _) = file(json!({"text": "x"}), (Uuid::now_v7(), Role::Worker)).await;
    assert_eq!(status, 404);
    let missing = Uuid::now_v7();
    let (status, problem) = file(
        json!({"text": "x", "attachments": [missing]}),
        (worker, Role::Worker),
    )
    .await;
    assert_eq!(status, 422);
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains(&missing.to_string()));
    assert!(store.published().is_empty(), "nothing written");

    let image = Uuid::now_v7();
    bucket.put(&object_key(order_id, image), "image/jpeg", 77);
    let (status, filed) = file(
        json!({"text": "on site", "attachments": [image]}),
        (worker, Role::Worker),
    )
    .await;
    assert_eq!(status, 201, "{filed}");
    assert_eq!(filed["kind"], "pre_report");
    assert_eq!(filed["attachments"][0]["content_type"], "image/jpeg");
    let (status, problem) = file(json!({"text": "again"}), (worker, Role::Worker)).await;
    assert_eq!(
        (status, problem["detail"].as_str()),
        (409, Some("the pre-report of this order was already filed"))
    );

    let (status, report) = file_report_at_wrong_place(&store, &bucket, order_id, worker).await;
    assert_eq!(status, 409, "{report}");
    assert_eq!(
        report["detail"],
        "the report is filed at in_work; the order is at pending"
    );
    assert_eq!(store.published().len(), 1);
}

async fn file_report_at_wrong_place(
    store: &MemoryStore,
    bucket: &FakeBucket,
    order_id: Uuid,
    worker: Uuid,
) -> (u16, serde_json::Value) {
    let req = post(
        "/reports/{order_id}/report",
        &format!("/reports/{order_id}/report"),
        &json!({"text": "done"}),
        (worker, Role::Worker),
    );
    answer(api::file_report(store, bucket, Kind::Report, req).await)
}

#[tokio::test]
async fn an_upload_is_signed_for_an_image_of_the_declared_type_and_size() {
    let (store, bucket) = (MemoryStore::default(), FakeBucket::default());
    let (order_id, _, worker) = pending(&store).await;
    let route = "/reports/{order_id}/attachments";
    let path = format!("/reports/{order_id}/attachments");
    for bad in [
        json!({"content_type": "image/gif", "size_bytes": 10}),
        json!({"content_type": "image/png", "size_bytes": 0}),
        json!({"content_type": "image/png", "size_bytes": 10 * 1024 * 1024 + 1}),
    ] {
        let req = post(route, &path, &bad, (worker, Role::Worker));
        let (status, _) = answer(api::request_upload(&store, &bucket, req).await);
        assert_eq!(status, 422, "{bad}");
    }
    let body = json!({"content_type": "image/png", "size_bytes": 2048});
    let req = post(route, &path, &body, (worker, Role::Worker));
    let (status, granted) = answer(api::request_upload(&store, &bucket, req).await);
    assert_eq!(status, 201, "{granted}");
    assert!(granted["upload_url"]
        .as_str()
        .unwrap()
        .contains("content-length=2048"));
    assert!(granted["attachment_id"].is_string() && granted["expires_at"].is_string());
}

#[tokio::test]
async fn qa_cases_are_opened_listed_and_closed_by_managers() {
    let store = MemoryStore::default();
    let (order_id, client, _) = pending(&store).await;
    let manager = (Uuid::now_v7(), Role::Manager);
    let open = |who| {
        post(
            "/reports/qa-cases",
            "/reports/qa-cases",
            &json!({"order_id": order_id}),
            who,
        )
    };
    let (status, case) = answer(api::open_case(&store, open(manager)).await);
    assert_eq!(status, 201, "{case}");
    assert_eq!(
        (case["cause"].as_str(), case["status"].as_str()),
        (Some("manual"), Some("open"))
    );
    let (status, _) = answer(api::open_case(&store, open(manager)).await);
    assert_eq!(status, 409);
    let (status, _) = answer(api::open_case(&store, open((client, Role::Client))).await);
    assert_eq!(status, 403);

    let list = |query: &str| {
        get(
            "/reports/qa-cases",
            &format!("/reports/qa-cases{query}"),
            manager,
        )
    };
    let (status, listed) = answer(api::list_cases(&store, list("?status=open")).await);
    assert_eq!(status, 200);
    assert_eq!(listed["cases"][0]["case_id"], case["case_id"]);
    assert_eq!(listed["next_cursor"], serde_json::Value::Null);
    let (status, _) = answer(api::list_cases(&store, list("?status=pending")).await);
    assert_eq!(status, 422);
    let (status, _) = answer(api::list_cases(&store, list("?cursor=nonsense")).await);
    assert_eq!(status, 422);

    let case_id = case["case_id"].as_str().unwrap();
    let route = "/reports/qa-cases/{case_id}/report";
    let path = format!("/reports/qa-cases/{case_id}/report");
    let close = |body: serde_json::Value| post(route, &path, &body, manager);
    let (status, _) =
        answer(api::close_case(&store, close(json!({"verdict": "great", "notes": "x"}))).await);
    assert_eq!(status, 422);
    let (status, _) =
        answer(api::close_case(&store, close(json!({"verdict": "ok", "notes": " "}))).await);
    assert_eq!(status, 422);
    let (status, closed) =
        answer(api::close_case(&store, close(json!({"verdict": "ok", "notes": "fine"}))).await);
    assert_eq!((status, closed["status"].as_str()), (200, Some("closed")));
    let (status, _) =
        answer(api::close_case(&store, close(json!({"verdict": "ok", "notes": "fine"}))).await);
    assert_eq!(status, 409);
    let unknown = post(
        route,
        "/reports/qa-cases/not-an-id/report",
        &json!({"verdict": "ok", "notes": "x"}),
        manager,
    );
    assert_eq!(answer(api::close_case(&store, unknown).await).0, 404);
}

#[tokio::test]
async fn the_reports_are_read_by_those_who_may_see_the_order() {
    let (store, bucket) = (MemoryStore::default(), FakeBucket::default());
    let (order_id, client, worker) = pending(&store).await;
    let route = "/reports/{order_id}";
    let path = format!("/reports/{order_id}");
    let (status, read) = answer(
        api::order_reports(&store, &bucket, get(route, &path, (client, Role::Client))).await,
    );
    assert_eq!(status, 200, "{read}");
    assert_eq!(read, json!({"order_id": order_id}), "nothing filed yet");
    let (status, _) = answer(
        api::order_reports(&store, &bucket, get(route, &path, (worker, Role::Worker))).await,
    );
    assert_eq!(status, 200);
    let (status, _) = answer(
        api::order_reports(
            &store,
            &bucket,
            get(route, &path, (Uuid::now_v7(), Role::Accountant)),
        )
        .await,
    );
    assert_eq!(status, 404);
}
