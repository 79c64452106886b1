//! Hiring end to end, through the local stack: the public form, the applicant's token read from
//! the mail the stack captured, the test bank, a scored test, the decision, and hiring's events
//! on the bus; the hourly deadline step; bad input answered as problems. The tests share the
//! stack; each makes the applications and the bank entries it needs.

use ates_tests::Stack;
use serde_json::{json, Value};

/// What the API answered: status, content type, JSON body (Null when empty), and whether it
/// was a keyed replay.
struct Answer {
    status: u16,
    content_type: String,
    body: Value,
    replayed: bool,
}

/// A request with the headers given (`Application-Token`, `Idempotency-Key`, …) and, if any,
/// a staff member's access token.
fn send(
    stack: &Stack,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Answer {
    let mut req = ureq::request(method, &format!("{}{path}", stack.api));
    if let Some(token) = bearer {
        req = req.set("authorization", &format!("Bearer {token}"));
    }
    for (name, value) in headers {
        req = req.set(name, value);
    }
    let result = match body {
        Some(b) => req.send_json(b.clone()),
        None => req.call(),
    };
    let response = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {path}: {e}"),
    };
    let status = response.status();
    let content_type = response.header("content-type").unwrap_or("").to_owned();
    let replayed = response.header("idempotent-replayed") == Some("true");
    let text = response.into_string().unwrap_or_default();
    Answer {
        status,
        content_type,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        replayed,
    }
}

/// A 4xx `application/problem+json` whose status is `status`.
fn assert_problem(answer: &Answer, status: u16, what: &str) {
    assert_eq!(answer.status, status, "{what}: {}", answer.body);
    assert!(
        answer.content_type.starts_with("application/problem+json"),
        "{what}: {} {}",
        answer.content_type,
        answer.body
    );
    assert_eq!(answer.body["status"], status, "{what}: {}", answer.body);
}

/// A new address of its own.
fn address(name: &str) -> String {
    format!("{name}-{}@popug.test", uuid::Uuid::now_v7().simple())
}

/// A manager's access token (a new manager account), for the whole test binary.
fn manager(stack: &Stack) -> String {
    static TOKEN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TOKEN
        .get_or_init(|| stack.employee(&stack.admin_token(), "manager").1)
        .clone()
}

/// Applies through the public form and answers the application id and the token mailed for it.
fn apply(stack: &Stack, email: &str, kind: &str) -> (String, String) {
    let before = stack.mails_to(email).len();
    let body = json!({"email": email, "full_name": "Kiwi Popug", "kind": kind});
    let applied = send(
        stack,
        "POST",
        "/hiring/applications",
        None,
        &[],
        Some(&body),
    );
    assert_eq!(applied.status, 202, "{}", applied.body);
    let id = applied.body["application_id"]
        .as_str()
        .expect("an application id")
        .to_owned();
    // The token's mail, not notifications' receipt, which may arrive first.
    let mail = stack.eventually(30, "the application token in the mail", || {
        stack.mails_to(email).into_iter().skip(before).find(|m| {
            m["body"]
                .as_str()
                .unwrap_or_default()
                .contains("with this token: ")
        })
    });
    let text = mail["body"].as_str().unwrap_or_default();
    assert!(text.contains(&id), "the mail names the application: {mail}");
    let token = text
        .split("with this token: ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("a token in the mail: {mail}"))
        .to_owned();
    (id, token)
}

/// A question with one right option (5 points) and one wrong, a test of it, and a profile of
/// that test (pass mark 5): answers `(profile id, question id, right option, wrong option)`.
fn bank(stack: &Stack, manager: &str) -> (String, String, String, String) {
    let question = json!({"text": "Which of these is a parrot?", "options": [
        {"text": "A popug", "points": 5}, {"text": "A cat", "points": 0}]});
    let created = send(
        stack,
        "POST",
        "/hiring/questions",
        Some(manager),
        &[],
        Some(&question),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let q = &created.body;
    let (right, wrong) = (
        q["options"][0]["option_id"].as_str().unwrap().to_owned(),
        q["options"][1]["option_id"].as_str().unwrap().to_owned(),
    );
    let question_id = q["question_id"].as_str().unwrap().to_owned();
    let test = json!({"title": "Parrots", "question_ids": [question_id]});
    let created = send(
        stack,
        "POST",
        "/hiring/tests",
        Some(manager),
        &[],
        Some(&test),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let test_id = created.body["test_id"].as_str().unwrap().to_owned();
    let profile =
        json!({"name": "Cleaner", "test_ids": [test_id], "pass_mark": 5, "time_limit_days": 7});
    let created = send(
        stack,
        "POST",
        "/hiring/profiles",
        Some(manager),
        &[],
        Some(&profile),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["max_score"], 5);
    let profile_id = created.body["profile_id"].as_str().unwrap().to_owned();
    (profile_id, question_id, right, wrong)
}

/// Assigns the profile's test to the application (a manager).
fn assign(stack: &Stack, manager: &str, id: &str, profile_id: &str) -> Answer {
    send(
        stack,
        "POST",
        &format!("/hiring/applications/{id}/test"),
        Some(manager),
        &[],
        Some(&json!({"test_profile_id": profile_id})),
    )
}

/// Hiring's events on the bus about one application (by `application_id` in their data).
fn events_of(stack: &Stack, name: &str, application_id: &str) -> Vec<Value> {
    stack
        .events()
        .into_iter()
        .filter(|e| e["detail-type"] == name && e["source"] == "ates.hiring")
        .filter(|e| e["detail"]["data"]["application_id"] == application_id)
        .collect()
}

fn assert_schema_valid(event: &Value) {
    let detail = &event["detail"];
    assert_eq!(event["detail-type"], detail["name"]);
    assert_eq!(detail["producer"], "hiring");
    assert!(detail["correlation_id"]
        .as_str()
        .is_some_and(|c| !c.is_empty()));
    ates_kernel::schema::check(
        detail["name"].as_str().unwrap(),
        detail["version"].as_u64().unwrap() as u32,
        &detail["data"],
    )
    .unwrap_or_else(|e| panic!("{e}: {event}"));
}

#[test]
fn a_worker_applies_takes_the_test_is_scored_and_accepted_once() {
    let stack = Stack::shared();
    let manager = manager(stack);
    let email = address("kiwi");
    let (id, token) = apply(stack, &email, "worker");
    let (profile_id, question_id, right, wrong) = bank(stack, &manager);

    let assigned = assign(stack, &manager, &id, &profile_id);
    assert_eq!(assigned.status, 200, "{}", assigned.body);
    assert_eq!(assigned.body["status"], "test");

    // The applicant sees the test by the token, without its points.
    let applicant = [("application-token", token.as_str())];
    let view = send(
        stack,
        "GET",
        &format!("/hiring/applications/{id}"),
        None,
        &applicant,
        None,
    );
    assert_eq!(view.status, 200, "{}", view.body);
    assert_eq!(view.body["status"], "test");
    assert!(view.body["deadline"].is_string(), "{}", view.body);
    let options = &view.body["test"]["questions"][0]["options"];
    assert_eq!(options.as_array().map(Vec::len), Some(2), "{}", view.body);
    assert!(
        !view.body.to_string().contains("points"),
        "no points shown to the applicant: {}",
        view.body
    );

    // An option of another question, and a question not on the test: refused, nothing written.
    let answers = |question: &str, option: &str| json!({"answers": [{"question_id": question, "option_ids": [option]}]});
    let path = format!("/hiring/applications/{id}/answers");
    let foreign = uuid::Uuid::now_v7().to_string();
    for (what, body) in [
        ("a question not on the test", answers(&foreign, &right)),
        (
            "an option not of its question",
            answers(&question_id, &foreign),
        ),
    ] {
        let refused = send(stack, "POST", &path, None, &applicant, Some(&body));
        assert_problem(&refused, 422, what);
    }

    let scored = send(
        stack,
        "POST",
        &path,
        None,
        &applicant,
        Some(&answers(&question_id, &right)),
    );
    assert_eq!(scored.status, 200, "{}", scored.body);
    assert_eq!(
        (
            &scored.body["status"],
            &scored.body["score"],
            &scored.body["max_score"],
            &scored.body["passed"]
        ),
        (&json!("check"), &json!(5), &json!(5), &json!(true))
    );
    let again = send(
        stack,
        "POST",
        &path,
        None,
        &applicant,
        Some(&answers(&question_id, &wrong)),
    );
    assert_problem(&again, 409, "a second submission");

    // The manager accepts, with a key; the same request again is the first answer, replayed;
    // another acceptance is refused: the application is accepted once.
    let accept = format!("/hiring/applications/{id}/accept");
    let acceptance = json!({"skills": ["carpets", "window-cleaning"], "level": "middle"});
    let key = [("idempotency-key", "accept-kiwi-once")];
    let accepted = send(
        stack,
        "POST",
        &accept,
        Some(&manager),
        &key,
        Some(&acceptance),
    );
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    assert_eq!(accepted.body["status"], "accepted");
    assert_eq!(accepted.body["score"]["score"], 5);
    let replay = send(
        stack,
        "POST",
        &accept,
        Some(&manager),
        &key,
        Some(&acceptance),
    );
    assert_eq!(
        (replay.status, replay.replayed),
        (200, true),
        "{}",
        replay.body
    );
    assert_eq!(replay.body, accepted.body);
    let twice = send(
        stack,
        "POST",
        &accept,
        Some(&manager),
        &[],
        Some(&acceptance),
    );
    assert_problem(&twice, 409, "accepting an accepted application");

    // Application.Accepted on the bus, once, schema-valid, for the account derived from the id.
    let accepted_events = stack.eventually(30, "Application.Accepted on the bus", || {
        let found = events_of(stack, "Application.Accepted", &id);
        (!found.is_empty()).then_some(found)
    });
    let event = &accepted_events[0];
    assert_schema_valid(event);
    let data = &event["detail"]["data"];
    assert_eq!(
        (&data["email"], &data["role"]),
        (&json!(email), &json!("worker"))
    );
    let account_id = data["account_id"].as_str().unwrap().to_owned();
    assert_ne!(account_id, id);
    let profile = send(
        stack,
        "GET",
        &format!("/hiring/workers/{account_id}/profile"),
        Some(&manager),
        &[],
        None,
    );
    assert_eq!(profile.status, 200, "{}", profile.body);
    assert_eq!(
        (&profile.body["level"], &profile.body["revision"]),
        (&json!("middle"), &json!(1))
    );

    // Every event of the application, each once and schema-valid.
    stack.eventually(30, "every event of the application on the bus", || {
        let names = [
            "Application.Submitted",
            "Application.TestAssigned",
            "Application.TestSubmitted",
        ];
        names
            .iter()
            .all(|n| !events_of(stack, n, &id).is_empty())
            .then_some(())
    });
    std::thread::sleep(std::time::Duration::from_secs(2));
    for name in [
        "Application.Submitted",
        "Application.TestAssigned",
        "Application.TestSubmitted",
        "Application.Accepted",
    ] {
        let found = events_of(stack, name, &id);
        assert_eq!(found.len(), 1, "{name} once: {found:?}");
        assert_schema_valid(&found[0]);
    }
    let profiles: Vec<Value> = stack
        .events()
        .into_iter()
        .filter(|e| e["detail-type"] == "Worker.ProfileSet")
        .filter(|e| e["detail"]["data"]["account_id"] == account_id.as_str())
        .collect();
    assert_eq!(profiles.len(), 1, "{profiles:?}");
    assert_schema_valid(&profiles[0]);

    // Auth opened the account: the new worker signs in with a mailed code, and the task
    // tracker learns of an assignable worker.
    stack.wait_assignable(&account_id);
    let code = stack.mailed_code(&email);
    let (status, tokens) = stack.call(
        "POST",
        "/auth/sign-in/code",
        None,
        Some(&json!({"email": email, "code": code})),
    );
    assert_eq!(status, 200, "{tokens}");
    let worker = tokens["access_token"].as_str().unwrap();
    let (status, me) = stack.call("GET", "/auth/me", Some(worker), None);
    assert_eq!((status, &me["role"]), (200, &json!("worker")), "{me}");
    assert_eq!(me["account_id"], account_id.as_str());
}

#[test]
fn an_admin_accepts_a_manager_without_a_test_and_auth_opens_a_managers_account() {
    let stack = Stack::shared();
    let email = address("boss");
    let (id, _) = apply(stack, &email, "manager");
    let accept = format!("/hiring/applications/{id}/accept");
    // Managers decide workers and clients; a manager application is an admin's to decide.
    let refused = send(
        stack,
        "POST",
        &accept,
        Some(&manager(stack)),
        &[],
        Some(&json!({})),
    );
    assert_problem(&refused, 403, "a manager accepting a manager");
    let admin = stack.admin_token();
    let accepted = send(stack, "POST", &accept, Some(&admin), &[], Some(&json!({})));
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    let event = stack.eventually(30, "Application.Accepted on the bus", || {
        events_of(stack, "Application.Accepted", &id).pop()
    });
    assert_eq!(event["detail"]["data"]["role"], "manager");
    let account_id = event["detail"]["data"]["account_id"].clone();
    let created = stack.eventually(30, "the manager's Account.Created", || {
        let created: Vec<Value> = stack
            .events()
            .into_iter()
            .filter(|e| {
                e["detail-type"] == "Account.Created"
                    && e["detail"]["data"]["account_id"] == account_id
            })
            .collect();
        (!created.is_empty()).then_some(created)
    });
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(created[0]["detail"]["data"]["role"], "manager");
    assert_eq!(created[0]["detail"]["data"]["email"], email.as_str());
}

#[test]
fn a_client_is_accepted_without_a_test_and_a_second_application_creates_nothing() {
    let stack = Stack::shared();
    let manager = manager(stack);
    let email = address("kea");
    let (id, first_token) = apply(stack, &email, "client");
    // The same address and kind again: the same application, a new token mailed.
    let (again, token) = apply(stack, &email, "client");
    assert_eq!(again, id);
    assert_ne!(token, first_token);
    let old = send(
        stack,
        "GET",
        &format!("/hiring/applications/{id}"),
        None,
        &[("application-token", &first_token)],
        None,
    );
    assert_problem(&old, 404, "the renewed token replaces the first");

    let (profile_id, ..) = bank(stack, &manager);
    let refused = assign(stack, &manager, &id, &profile_id);
    assert_problem(&refused, 422, "a test for a client application");

    let accepted = send(
        stack,
        "POST",
        &format!("/hiring/applications/{id}/accept"),
        Some(&manager),
        &[],
        Some(&json!({})),
    );
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    let event = stack.eventually(30, "Application.Accepted on the bus", || {
        events_of(stack, "Application.Accepted", &id).pop()
    });
    assert_schema_valid(&event);
    assert_eq!(event["detail"]["data"]["role"], "client");
    assert_eq!(events_of(stack, "Application.Submitted", &id).len(), 1);

    // Auth opens the account hiring named, once, and the client signs in with a mailed code.
    let account_id = event["detail"]["data"]["account_id"].as_str().unwrap();
    let created = stack.eventually(30, "Account.Created on the bus", || {
        let created: Vec<Value> = stack
            .events()
            .into_iter()
            .filter(|e| {
                e["detail-type"] == "Account.Created"
                    && e["detail"]["data"]["account_id"] == account_id
            })
            .collect();
        (!created.is_empty()).then_some(created)
    });
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(created[0]["detail"]["data"]["role"], "client");
    assert_eq!(created[0]["detail"]["causation_id"], event["detail"]["id"]);
    let code = stack.mailed_code(&email);
    let (status, tokens) = stack.call(
        "POST",
        "/auth/sign-in/code",
        None,
        Some(&json!({"email": email, "code": code})),
    );
    assert_eq!(status, 200, "{tokens}");
    let client = tokens["access_token"].as_str().unwrap();
    let (status, me) = stack.call("GET", "/auth/me", Some(client), None);
    assert_eq!((status, me["role"].as_str()), (200, Some("client")), "{me}");
    assert_eq!(me["account_id"], account_id);
    // A customer, not an employee: no tracker, no money.
    for path in ["/tasks/mine", "/accounting/me"] {
        let (status, _) = stack.call("GET", path, Some(client), None);
        assert_eq!(status, 403, "a client GET {path}");
    }
}

#[test]
fn a_test_not_submitted_by_its_deadline_declines_the_application_once() {
    let stack = Stack::shared();
    let manager = manager(stack);
    let (id, token) = apply(stack, &address("kakapo"), "worker");
    let (profile_id, ..) = bank(stack, &manager);
    assert_eq!(assign(stack, &manager, &id, &profile_id).status, 200);

    // The deadline, moved into the past in the table (no test waits a day).
    let past = "2020-01-01T00:00:00Z";
    for due in stack.items("HiringTable", "DUE") {
        if due["application_id"]["S"] == id.as_str() {
            stack.aws(
                "DynamoDB_20120810.DeleteItem",
                json!({"TableName": "HiringTable", "Key": {"pk": due["pk"], "sk": due["sk"]}}),
            );
        }
    }
    stack.aws(
        "DynamoDB_20120810.PutItem",
        json!({"TableName": "HiringTable", "Item": {
            "pk": {"S": "DUE"}, "sk": {"S": format!("2020-01-01T00:00:00.000000Z#{id}")},
            "application_id": {"S": id}}}),
    );
    stack.aws(
        "DynamoDB_20120810.UpdateItem",
        json!({"TableName": "HiringTable",
            "Key": {"pk": {"S": format!("APPLICATION#{id}")}, "sk": {"S": "APPLICATION"}},
            "UpdateExpression": "SET deadline = :d",
            "ExpressionAttributeValues": {":d": {"S": past}}}),
    );

    // The hourly step, run twice: one decline.
    let run = || {
        let (status, answer) = stack.call(
            "POST",
            "/_local/functions/HiringMissDeadlinesFunction/invoke",
            None,
            Some(&json!({"execution_id": "e2e-deadlines"})),
        );
        assert_eq!(status, 200, "{answer}");
        answer["declined"].as_u64().expect("how many it declined")
    };
    assert!(run() >= 1);
    assert_eq!(run(), 0, "the second run finds nothing due");

    let view = send(
        stack,
        "GET",
        &format!("/hiring/applications/{id}"),
        None,
        &[("application-token", &token)],
        None,
    );
    assert_eq!(view.body["status"], "declined", "{}", view.body);
    let declined = stack.eventually(30, "Application.Declined on the bus", || {
        events_of(stack, "Application.Declined", &id).pop()
    });
    assert_schema_valid(&declined);
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert_eq!(events_of(stack, "Application.Declined", &id).len(), 1);
}

#[test]
fn bad_input_is_a_named_problem_and_writes_nothing() {
    let stack = Stack::shared();
    let manager = manager(stack);
    let form = |email: &str, kind: &str| json!({"email": email, "full_name": "Kea", "kind": kind});
    let post = |body: &Value| send(stack, "POST", "/hiring/applications", None, &[], Some(body));
    assert_problem(
        &post(&form(&address("kea"), "parrot")),
        422,
        "an unknown kind",
    );
    assert_problem(
        &post(&form("not-an-address", "worker")),
        422,
        "a bad address",
    );
    assert_problem(
        &post(
            &json!({"email": address("kea"), "full_name": "Kea", "kind": "worker", "role": "admin"}),
        ),
        422,
        "an unknown field",
    );

    let (id, token) = apply(stack, &address("kea"), "worker");
    let view = |headers: &[(&str, &str)]| {
        send(
            stack,
            "GET",
            &format!("/hiring/applications/{id}"),
            None,
            headers,
            None,
        )
    };
    assert_problem(&view(&[]), 401, "no token");
    assert_problem(
        &view(&[("application-token", "not-the-token")]),
        404,
        "a wrong token",
    );
    assert_eq!(view(&[("application-token", &token)]).status, 200);

    let accept_new = send(
        stack,
        "POST",
        &format!("/hiring/applications/{id}/accept"),
        Some(&manager),
        &[],
        Some(&json!({"skills": ["carpets"], "level": "junior"})),
    );
    assert_problem(&accept_new, 409, "accepting a worker who took no test");

    let create =
        |path: &str, body: Value| send(stack, "POST", path, Some(&manager), &[], Some(&body));
    let (_, question_id, ..) = bank(stack, &manager);
    let test = create(
        "/hiring/tests",
        json!({"title": "Parrots", "question_ids": [question_id]}),
    );
    assert_eq!(test.status, 201, "{}", test.body);
    assert_problem(
        &create(
            "/hiring/profiles",
            json!({"name": "Too hard", "test_ids": [test.body["test_id"]], "pass_mark": 6, "time_limit_days": 7}),
        ),
        422,
        "a pass mark above the maximum score",
    );
    assert_problem(
        &create(
            "/hiring/profiles",
            json!({"name": "Empty", "test_ids": [], "pass_mark": 0, "time_limit_days": 7}),
        ),
        422,
        "a profile with no tests",
    );
    assert_problem(
        &create(
            "/hiring/questions",
            json!({"text": "Too few options", "options": [{"text": "One", "points": 1}]}),
        ),
        422,
        "a question with one option",
    );

    // Nothing of the refused application was written.
    assert!(
        stack
            .items("HiringTable", "OPEN#")
            .iter()
            .all(|open| !open["pk"]["S"].to_string().contains("parrot")),
        "an unknown kind opened nothing"
    );
}

/// Enumeration safety: the public form answers an address that has an account as it answers a
/// new one (202, an application id, no faster than a second); the account shows only at the
/// decision, to the manager (409).
#[test]
fn an_address_with_an_account_is_answered_alike_and_refused_at_acceptance() {
    let stack = Stack::shared();
    let manager = manager(stack);
    let (known, _) = ates_tests::admin_credentials();
    stack.eventually(30, "hiring's copy knows the admin's address", || {
        (!stack
            .items("HiringTable", &format!("ADDRESS#{known}"))
            .is_empty())
        .then_some(())
    });
    let timed = |email: &str| {
        let started = std::time::Instant::now();
        let body = json!({"email": email, "full_name": "Kea", "kind": "client"});
        let answer = send(
            stack,
            "POST",
            "/hiring/applications",
            None,
            &[],
            Some(&body),
        );
        (answer, started.elapsed())
    };
    let (fresh, fresh_took) = timed(&address("kea"));
    let (existing, existing_took) = timed(&known);
    for (what, answer, took) in [
        ("a new address", &fresh, fresh_took),
        ("an address with an account", &existing, existing_took),
    ] {
        assert_eq!(answer.status, 202, "{what}: {}", answer.body);
        let keys: Vec<&String> = answer.body.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["application_id"], "{what}");
        assert!(
            took >= std::time::Duration::from_secs(1),
            "{what} answered in {took:?}"
        );
    }
    let id = existing.body["application_id"].as_str().unwrap();
    let refused = send(
        stack,
        "POST",
        &format!("/hiring/applications/{id}/accept"),
        Some(&manager),
        &[],
        Some(&json!({})),
    );
    assert_problem(&refused, 409, "accepting an address that has an account");
    assert!(events_of(stack, "Application.Accepted", id).is_empty());
}

// ------------------------------------------------------------------------------------------
// Every mail of the hiring flow goes through notifications (SPEC M1, M9): hiring's events reach
// notifications-mail-applicant, which mails each step once (the token's mail aside, which hiring
// sends itself) and keeps it in the history: admins read every one, the accepted person their
// welcome.

/// The mails notifications sent to `email` whose subject contains `subject`.
fn mails_about(stack: &Stack, email: &str, subject: &str) -> Vec<Value> {
    stack
        .mails_to(email)
        .into_iter()
        .filter(|m| m["subject"].as_str().unwrap_or_default().contains(subject))
        .collect()
}

/// An application's messages in everyone's history (the admin's listing, every page).
fn application_messages(stack: &Stack, application_id: &str) -> Vec<Value> {
    let admin = stack.admin_token();
    let prefix = format!("application:{application_id}:");
    let mut found = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/notifications?limit=100&cursor={c}"),
            None => "/notifications?limit=100".to_owned(),
        };
        let (status, page) = stack.call("GET", &path, Some(&admin), None);
        assert_eq!(status, 200, "{page}");
        found.extend(
            page["messages"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|m| {
                    m["message_id"]
                        .as_str()
                        .unwrap_or_default()
                        .starts_with(&prefix)
                })
                .cloned(),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return found,
        }
    }
}

/// Waits until the application's messages of `kinds` are all in the history as sent, then a
/// little longer (for any second copy to show), and answers them by kind.
fn sent_messages(stack: &Stack, application_id: &str, kinds: &[&str]) -> Vec<Value> {
    stack.eventually(60, "the applicant's messages sent", || {
        let messages = application_messages(stack, application_id);
        kinds
            .iter()
            .all(|k| {
                messages
                    .iter()
                    .any(|m| m["kind"] == *k && m["status"] == "sent")
            })
            .then_some(())
    });
    std::thread::sleep(std::time::Duration::from_secs(2));
    let messages = application_messages(stack, application_id);
    assert_eq!(
        messages.len(),
        kinds.len(),
        "one message per step: {messages:?}"
    );
    kinds
        .iter()
        .map(|k| {
            let m = messages.iter().find(|m| m["kind"] == *k).unwrap().clone();
            assert_eq!(
                (&m["status"], &m["attempts"]),
                (&json!("sent"), &json!(1)),
                "{m}"
            );
            assert!(m["business_date"].is_null(), "{m}");
            m
        })
        .collect()
}

/// Puts one of hiring's events on the bus again, as a redelivery would.
fn deliver_again(stack: &Stack, event: &Value) {
    let again = json!({"source": event["source"], "detail-type": event["detail-type"],
        "detail": event["detail"]});
    let (status, answer) = stack.call("POST", "/_local/events", None, Some(&again));
    assert!(status < 300, "{status} {answer}");
}

#[test]
fn a_worker_applicant_is_mailed_the_receipt_the_test_and_the_welcome_once_each() {
    let stack = Stack::shared();
    let manager = manager(stack);
    let email = address("kiwi-mailed");
    let (id, token) = apply(stack, &email, "worker");
    let (profile_id, question_id, right, _) = bank(stack, &manager);
    assert_eq!(assign(stack, &manager, &id, &profile_id).status, 200);
    let view = send(
        stack,
        "GET",
        &format!("/hiring/applications/{id}"),
        None,
        &[("application-token", &token)],
        None,
    );
    let deadline: chrono::DateTime<chrono::Utc> =
        view.body["deadline"].as_str().unwrap().parse().unwrap();
    let answers = json!({"answers": [{"question_id": question_id, "option_ids": [right]}]});
    let scored = send(
        stack,
        "POST",
        &format!("/hiring/applications/{id}/answers"),
        None,
        &[("application-token", &token)],
        Some(&answers),
    );
    assert_eq!(scored.status, 200, "{}", scored.body);
    let accepted = send(
        stack,
        "POST",
        &format!("/hiring/applications/{id}/accept"),
        Some(&manager),
        &[],
        Some(&json!({"skills": ["carpets"], "level": "junior"})),
    );
    assert_eq!(accepted.status, 200, "{}", accepted.body);

    let messages = sent_messages(
        stack,
        &id,
        &[
            "application_received",
            "test_assigned",
            "application_accepted",
        ],
    );
    let event = stack.eventually(30, "Application.Accepted on the bus", || {
        events_of(stack, "Application.Accepted", &id).pop()
    });
    let account_id = &event["detail"]["data"]["account_id"];
    for (message, account, step) in [
        (&messages[0], &Value::Null, "received"),
        (&messages[1], &Value::Null, "test_assigned"),
        (&messages[2], account_id, "accepted"),
    ] {
        assert_eq!(message["message_id"], format!("application:{id}:{step}"));
        assert_eq!(&message["account_id"], account, "{message}");
        assert_eq!(message["to"], email.as_str());
    }

    // Redelivered, the welcome is not mailed again: both deliveries handled, one mail.
    deliver_again(stack, &event);
    let event_id = event["detail"]["id"].as_str().unwrap();
    stack.eventually(30, "the redelivered Application.Accepted handled", || {
        let deliveries = stack.call("GET", "/_local/deliveries", None, None).1;
        let outcomes = &deliveries["NotificationsMailApplicantFunction"][event_id]["outcomes"];
        let ok = outcomes.as_array()?.iter().filter(|o| *o == "ok").count();
        (ok == 2).then_some(())
    });

    let received = mails_about(stack, &email, "received your application as a worker");
    assert_eq!(received.len(), 1, "{received:?}");
    let due = deadline.format("%A %-d %B %Y, %H:%M UTC").to_string();
    let test = mails_about(stack, &email, "Your UberPopug test");
    assert_eq!(test.len(), 1, "{test:?}");
    assert!(
        test[0]["subject"].as_str().unwrap().contains(&due),
        "{due}: {}",
        test[0]
    );
    assert!(
        test[0]["body"].as_str().unwrap().contains(&due),
        "{}",
        test[0]
    );
    assert!(
        !test[0]["body"].as_str().unwrap().contains(&token),
        "no token in notifications' mails"
    );
    let welcome = mails_about(stack, &email, "Welcome to UberPopug, Kiwi Popug");
    assert_eq!(
        welcome.len(),
        1,
        "one welcome however often delivered: {welcome:?}"
    );
    let body = welcome[0]["body"].as_str().unwrap();
    assert!(
        body.contains("/#/sign-in") && body.contains("ask for a code"),
        "{body}"
    );
    assert!(body.contains("you join as a worker"), "{body}");
    assert_eq!(
        application_messages(stack, &id).len(),
        3,
        "nothing new in the history"
    );

    // Once auth has opened the account, the new worker signs in as the welcome says and finds
    // it in their own history, and only it: the applicant's earlier mails named no account.
    let account = account_id.as_str().unwrap();
    stack.eventually(30, "Account.Created on the bus", || {
        stack.events().into_iter().find(|e| {
            e["detail-type"] == "Account.Created" && e["detail"]["data"]["account_id"] == account
        })
    });
    let code = stack.mailed_code(&email);
    let (status, tokens) = stack.call(
        "POST",
        "/auth/sign-in/code",
        None,
        Some(&json!({"email": email, "code": code})),
    );
    assert_eq!(status, 200, "{tokens}");
    let worker = tokens["access_token"].as_str().unwrap();
    let (status, mine) = stack.call("GET", "/notifications/mine", Some(worker), None);
    assert_eq!(status, 200, "{mine}");
    let kinds: Vec<&Value> = mine["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["kind"])
        .collect();
    assert_eq!(kinds, [&json!("application_accepted")], "{mine}");
    assert_eq!(
        mine["messages"][0]["message_id"],
        format!("application:{id}:accepted")
    );
}

#[test]
fn a_declined_applicant_is_mailed_the_reason_once() {
    let stack = Stack::shared();
    let manager = manager(stack);
    let email = address("kea-mailed");
    let (id, _) = apply(stack, &email, "client");
    let reason = "We take no new clients in your district this year";
    let declined = send(
        stack,
        "POST",
        &format!("/hiring/applications/{id}/decline"),
        Some(&manager),
        &[],
        Some(&json!({"reason": reason})),
    );
    assert_eq!(declined.status, 200, "{}", declined.body);

    let messages = sent_messages(
        stack,
        &id,
        &["application_received", "application_declined"],
    );
    assert!(
        messages.iter().all(|m| m["account_id"].is_null()),
        "{messages:?}"
    );
    let receipt = mails_about(stack, &email, "received your application as a client");
    assert_eq!(receipt.len(), 1, "{receipt:?}");
    assert!(receipt[0]["body"]
        .as_str()
        .unwrap()
        .contains("a manager reviews"));
    let decline = mails_about(stack, &email, "was declined");
    assert_eq!(decline.len(), 1, "{decline:?}");
    assert!(
        decline[0]["body"].as_str().unwrap().contains(reason),
        "{}",
        decline[0]
    );
}
