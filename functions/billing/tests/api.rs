//! The HTTP edge: requests read into the use cases, answers and problems as the contract says.

use ates_billing::api;
use ates_billing::memory::MemoryStore;
use ates_kernel::calendar::Calendar;
use ates_kernel::copies::sync_account;
use ates_kernel::identity::Role;
use ates_kernel::testing::{account, account_event, api_request};
use lambda_http::http::StatusCode;

#[tokio::test]
async fn a_bonus_is_granted_over_http_and_a_bad_one_is_a_problem_with_nothing_written() {
    let store = MemoryStore::default();
    let utc = Calendar::new("UTC", "0").unwrap();
    let manager = account("Boss", Role::Manager);
    let worker = account("Kiwi", Role::Worker);
    for a in [&manager, &worker] {
        sync_account(&store, &account_event(a)).await.unwrap();
    }
    let boss = manager.account_id.to_string();
    let body = |amount: i64| {
        format!(
            r#"{{"worker_id":"{}","amount_cents":{amount},"reason":"tidy"}}"#,
            worker.account_id
        )
    };
    let post = |amount| {
        api_request(
            "POST",
            "/billing/bonuses",
            "/billing/bonuses",
            Some(&body(amount)),
            Some((&boss, Role::Manager)),
        )
    };
    let too_much = api::grant_bonus(&store, &utc, post(100_001))
        .await
        .unwrap_err();
    assert_eq!(too_much.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(store.bonuses().is_empty());
    let granted = api::grant_bonus(&store, &utc, post(2_500)).await.unwrap();
    assert_eq!(granted.status(), StatusCode::CREATED);
    let listed = api::list_bonuses(
        &store,
        api_request(
            "GET",
            "/billing/bonuses",
            "/billing/bonuses",
            None,
            Some((&boss, Role::Manager)),
        ),
    )
    .await
    .unwrap();
    let text = match listed.body() {
        lambda_http::Body::Text(t) => t.clone(),
        other => panic!("{other:?}"),
    };
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["bonuses"][0]["amount_cents"], 2_500);
    let worker_asks = api::grant_bonus(
        &store,
        &utc,
        api_request(
            "POST",
            "/billing/bonuses",
            "/billing/bonuses",
            Some(&body(100)),
            Some((&worker.account_id.to_string(), Role::Worker)),
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(worker_asks.status, StatusCode::FORBIDDEN);
}
