//! Hiring's HTTP edge on the in-memory store: what a client sees (status, body, problem) for
//! the public form, the applicant's token, and staff's rights.

use ates_hiring::api::{self, APPLY_TIME, TOKEN_HEADER};
use ates_hiring::memory::{Mailbox, MemoryStore};
use ates_kernel::calendar::Calendar;
use ates_kernel::identity::Role;
use ates_kernel::testing::{answer, api_request};
use chrono::Utc;
use lambda_http::http::HeaderValue;
use lambda_http::Request;
use serde_json::{json, Value};
use uuid::Uuid;

fn with_header(mut req: Request, name: &'static str, value: &str) -> Request {
    req.headers_mut()
        .insert(name, HeaderValue::from_str(value).unwrap());
    req
}

async fn apply(store: &MemoryStore, mail: &Mailbox, body: Value) -> (u16, Value) {
    let req = api_request(
        "POST",
        "/hiring/applications",
        "/hiring/applications",
        Some(&body.to_string()),
        None,
    );
    answer(api::apply(store, mail, req).await)
}

fn staff(role: Role) -> Option<(String, Role)> {
    Some((Uuid::now_v7().to_string(), role))
}

fn request(
    method: &str,
    route: &str,
    path: &str,
    body: Option<Value>,
    who: &Option<(String, Role)>,
) -> Request {
    let body = body.map(|b| b.to_string());
    let caller = who.as_ref().map(|(id, role)| (id.as_str(), *role));
    api_request(method, route, path, body.as_deref(), caller)
}

#[tokio::test]
async fn the_public_form_answers_alike_for_a_new_and_a_known_address_and_in_its_time() {
    let (store, mail) = (MemoryStore::default(), Mailbox::default());
    let form = json!({"email": "kiwi@popug.test", "full_name": "Kiwi", "kind": "worker"});
    let started = std::time::Instant::now();
    let (status, first) = apply(&store, &mail, form.clone()).await;
    assert!(
        started.elapsed() >= APPLY_TIME,
        "answered in its fixed time"
    );
    let (again, second) = apply(&store, &mail, form).await;
    assert_eq!((status, again), (202, 202));
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&first), ["application_id"]);
    assert_eq!(keys(&second), keys(&first));
    assert_eq!(mail.sent().len(), 2, "the token is mailed both times");
}

#[tokio::test]
async fn bad_input_on_the_public_form_is_a_named_problem() {
    let (store, mail) = (MemoryStore::default(), Mailbox::default());
    let (status, problem) = apply(
        &store,
        &mail,
        json!({"email": "kiwi@popug.test", "full_name": "Kiwi", "kind": "parrot"}),
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        problem["detail"].as_str().unwrap().contains("parrot"),
        "{problem}"
    );
    let (status, _) = apply(
        &store,
        &mail,
        json!({"email": "kiwi", "full_name": "Kiwi", "kind": "client"}),
    )
    .await;
    assert_eq!(status, 422);
    assert!(mail.sent().is_empty(), "nothing is mailed for bad input");
}

#[tokio::test]
async fn the_applicant_reads_their_application_with_its_token_only() {
    let (store, mail) = (MemoryStore::default(), Mailbox::default());
    let form = json!({"email": "kiwi@popug.test", "full_name": "Kiwi", "kind": "client"});
    let (_, applied) = apply(&store, &mail, form).await;
    let id = applied["application_id"].as_str().unwrap().to_owned();
    let route = "/hiring/applications/{application_id}";
    let path = format!("/hiring/applications/{id}");
    let read = |token: Option<String>| {
        let req = request("GET", route, &path, None, &None);
        let req = match token {
            Some(t) => with_header(req, TOKEN_HEADER, &t),
            None => req,
        };
        let store = &store;
        async move { answer(api::applicant_view(store, req).await) }
    };
    assert_eq!(read(None).await.0, 401);
    assert_eq!(read(Some("guess".into())).await.0, 404);
    let token = mail.token_of(Uuid::parse_str(&id).unwrap()).unwrap();
    let (status, view) = read(Some(token)).await;
    assert_eq!((status, view["status"].as_str()), (200, Some("new")));
    assert!(
        view.get("email").is_none(),
        "the view shows what SPEC lists, no more"
    );
}

#[tokio::test]
async fn staff_routes_admit_managers_and_admins_and_refuse_the_rest() {
    let store = MemoryStore::default();
    for (role, expected) in [
        (Role::Manager, 200),
        (Role::Admin, 200),
        (Role::Worker, 403),
        (Role::Accountant, 403),
    ] {
        let req = request(
            "GET",
            "/hiring/applications",
            "/hiring/applications?status=new",
            None,
            &staff(role),
        );
        assert_eq!(
            answer(api::list_applications(&store, &utc(), req).await).0,
            expected,
            "{role}"
        );
    }
    let anonymous = request(
        "GET",
        "/hiring/applications",
        "/hiring/applications",
        None,
        &None,
    );
    assert_eq!(
        answer(api::list_applications(&store, &utc(), anonymous).await).0,
        401
    );
}

fn utc() -> Calendar {
    Calendar::new("UTC", "0").unwrap()
}

#[tokio::test]
async fn staff_filter_applications_by_submission_dates_named_as_business_days() {
    let (store, mail) = (MemoryStore::default(), Mailbox::default());
    let form = json!({"email": "kiwi@popug.test", "full_name": "Kiwi", "kind": "client"});
    assert_eq!(apply(&store, &mail, form).await.0, 202);
    let today = Utc::now().date_naive();
    let (yesterday, tomorrow) = (today.pred_opt().unwrap(), today.succ_opt().unwrap());
    let list = |query: String| {
        let store = &store;
        async move {
            let req = request(
                "GET",
                "/hiring/applications",
                &format!("/hiring/applications?{query}"),
                None,
                &staff(Role::Manager),
            );
            answer(api::list_applications(store, &utc(), req).await)
        }
    };
    for (query, found) in [
        (format!("from={today}&to={today}"), 1),
        (format!("from={yesterday}&to={tomorrow}"), 1),
        (format!("from={today}"), 1),
        (format!("to={today}"), 1),
        (format!("from={tomorrow}"), 0),
        (format!("to={yesterday}"), 0),
        (format!("from={yesterday}&to={yesterday}"), 0),
    ] {
        let (status, page) = list(query.clone()).await;
        assert_eq!(status, 200, "{query}: {page}");
        assert_eq!(
            page["applications"].as_array().unwrap().len(),
            found,
            "{query}"
        );
    }
    for (query, what) in [
        ("from=2026-12-1".to_owned(), "not YYYY-MM-DD"),
        ("to=2026-02-30".to_owned(), "no such date"),
        (format!("from={tomorrow}&to={today}"), "from after to"),
        ("from=2025-01-01&to=2026-01-02".to_owned(), "over 366 days"),
    ] {
        let (status, problem) = list(query).await;
        assert_eq!(status, 422, "{what}: {problem}");
    }
}

#[tokio::test]
async fn only_an_admin_accepts_a_manager_and_a_repeat_with_its_key_is_replayed() {
    let (store, mail) = (MemoryStore::default(), Mailbox::default());
    let form = json!({"email": "boss@popug.test", "full_name": "Boss", "kind": "manager"});
    let (_, applied) = apply(&store, &mail, form).await;
    let id = applied["application_id"].as_str().unwrap();
    let route = "/hiring/applications/{application_id}/accept";
    let path = format!("/hiring/applications/{id}/accept");
    let by_manager = request("POST", route, &path, Some(json!({})), &staff(Role::Manager));
    assert_eq!(answer(api::accept(&store, by_manager).await).0, 403);
    let admin = staff(Role::Admin);
    let keyed = || {
        with_header(
            request("POST", route, &path, Some(json!({})), &admin),
            "idempotency-key",
            "accept-1",
        )
    };
    let (status, accepted) = answer(api::accept(&store, keyed()).await);
    assert_eq!(
        (status, accepted["status"].as_str()),
        (200, Some("accepted"))
    );
    let replayed = api::accept(&store, keyed()).await.unwrap();
    assert_eq!(replayed.headers()["idempotent-replayed"], "true");
    let again = request("POST", route, &path, Some(json!({})), &admin);
    let (status, problem) = answer(api::accept(&store, again).await);
    assert_eq!(status, 409);
    assert!(
        problem["detail"].as_str().unwrap().contains("accepted"),
        "{problem}"
    );
}

#[tokio::test]
async fn a_profile_whose_pass_mark_no_paper_reaches_is_422() {
    let store = MemoryStore::default();
    let manager = staff(Role::Manager);
    let question = json!({"text": "Seed?", "options": [{"text": "yes", "points": 3}, {"text": "no", "points": 0}]});
    let req = request(
        "POST",
        "/hiring/questions",
        "/hiring/questions",
        Some(question),
        &manager,
    );
    let (status, question) = answer(api::create_question(&store, req).await);
    assert_eq!(status, 201);
    let test = json!({"title": "Seeds", "question_ids": [question["question_id"]]});
    let req = request(
        "POST",
        "/hiring/tests",
        "/hiring/tests",
        Some(test),
        &manager,
    );
    let (status, test) = answer(api::create_test(&store, req).await);
    assert_eq!(status, 201);
    let profile = json!({"name": "Sorter", "test_ids": [test["test_id"]], "pass_mark": 4, "time_limit_days": 7});
    let req = request(
        "POST",
        "/hiring/profiles",
        "/hiring/profiles",
        Some(profile),
        &manager,
    );
    let (status, problem) = answer(api::create_profile(&store, req).await);
    assert_eq!(status, 422);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("maximum score 3"),
        "{problem}"
    );
}

#[tokio::test]
async fn a_listing_names_its_items_as_every_listing_of_the_api_does() {
    let (store, mail) = (MemoryStore::default(), Mailbox::default());
    let form = json!({"email": "kiwi@popug.test", "full_name": "Kiwi", "kind": "client"});
    assert_eq!(apply(&store, &mail, form).await.0, 202);
    let manager = staff(Role::Manager);
    let list = request(
        "GET",
        "/hiring/applications",
        "/hiring/applications",
        None,
        &manager,
    );
    let (status, page) = answer(api::list_applications(&store, &utc(), list).await);
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        page["applications"][0]["email"], "kiwi@popug.test",
        "{page}"
    );
    assert!(page["next_cursor"].is_null(), "{page}");
    assert!(page.get("items").is_none(), "{page}");
}
