//! The task tracker end to end, through the local stack: tasks land on workers only, a shuffle
//! reassigns them, only the assignee completes, and every event on the bus matches its schema.
//!
//! The tests share the stack and each sets up the accounts and tasks it needs. A shuffle reassigns
//! every open task (everyone's), so a test that relies on who holds a task, or on a fresh worker
//! holding none, holds ASSIGNMENTS, and so does every test that creates tasks or shuffles them.

use std::collections::HashSet;
use std::sync::{Mutex, MutexGuard, PoisonError};

use ates_tests::Stack;
use serde_json::{json, Value};

static ASSIGNMENTS: Mutex<()> = Mutex::new(());

fn hold_assignments() -> MutexGuard<'static, ()> {
    ASSIGNMENTS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The accounts the tests work with, made once for them all: the admin, a manager, and two workers
/// and an accountant that the task tracker knows (so tasks can land on them).
struct Crew {
    admin: String,
    manager: String,
}

fn crew(stack: &Stack) -> &'static Crew {
    static CREW: std::sync::OnceLock<Crew> = std::sync::OnceLock::new();
    CREW.get_or_init(|| {
        let admin = stack.admin_token();
        let (_, manager) = stack.employee(&admin, "manager");
        let assignable: HashSet<String> = ["worker", "worker", "accountant"]
            .iter()
            .map(|role| stack.employee(&admin, role).0)
            .collect();
        stack.eventually(60, "the task tracker knows every worker", || {
            assignable.is_subset(&stack.assignable()).then_some(())
        });
        Crew { admin, manager }
    })
}

fn create_task(stack: &Stack, manager: &str, title: &str, jira_id: &str) -> Value {
    let (status, task) = stack.call(
        "POST",
        "/tasks",
        Some(manager),
        Some(&json!({"title": title, "jira_id": jira_id})),
    );
    assert_eq!(status, 201, "{task}");
    task
}

/// Every item of a paged listing (`GET path`, its `field` and `next_cursor`).
fn every(stack: &Stack, token: &str, path: &str, field: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page_path = match &cursor {
            Some(c) => format!("{path}?limit=100&cursor={c}"),
            None => format!("{path}?limit=100"),
        };
        let (status, page) = stack.call("GET", &page_path, Some(token), None);
        assert_eq!(status, 200, "{page_path}: {page}");
        all.extend(page[field].as_array().cloned().unwrap_or_default());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return all,
        }
    }
}

/// A task as the manager's listing shows it now.
fn current(stack: &Stack, manager: &str, task_id: &Value) -> Value {
    every(stack, manager, "/tasks", "tasks")
        .into_iter()
        .find(|t| t["task_id"] == *task_id)
        .unwrap_or_else(|| panic!("task {task_id} is listed"))
}

/// Starts a shuffle and answers its id and its progress once it completed.
fn shuffle(stack: &Stack, manager: &str) -> (String, Value) {
    let (status, shuffle) = stack.call("POST", "/tasks/shuffles", Some(manager), None);
    assert_eq!(status, 202, "{shuffle}");
    let id = shuffle["shuffle_id"].as_str().unwrap();
    let done = stack.eventually(90, "the shuffle completes", || {
        let (_, progress) =
            stack.call("GET", &format!("/tasks/shuffles/{id}"), Some(manager), None);
        (progress["status"] == "completed").then_some(progress)
    });
    (id.to_owned(), done)
}

fn complete(stack: &Stack, token: &str, task_id: &str) -> (u16, Value) {
    stack.call(
        "POST",
        &format!("/tasks/{task_id}/complete"),
        Some(token),
        None,
    )
}

#[test]
fn a_task_lands_on_a_worker_or_an_accountant_only() {
    let stack = Stack::shared();
    let Crew { admin, manager } = crew(stack);
    let (admin, manager) = (admin.as_str(), manager.as_str());
    let tasks: Vec<Value> = {
        let _assignments = hold_assignments();
        (0..12)
            .map(|i| {
                let jira = format!("UBERPOP-{}", i + 1);
                create_task(stack, manager, &format!("Nest {i}"), &jira)
            })
            .collect()
    };
    let assignable: HashSet<String> = every(stack, admin, "/accounts", "accounts")
        .into_iter()
        .filter(|a| a["role"] == "worker" || a["role"] == "accountant")
        .filter_map(|a| a["account_id"].as_str().map(str::to_owned))
        .collect();
    for task in &tasks {
        assert!(
            assignable.contains(task["assignee_id"].as_str().unwrap()),
            "a task lands on a worker or accountant only: {task}"
        );
    }
}

#[test]
fn a_title_with_a_jira_id_in_brackets_or_a_jira_id_not_shaped_like_one_is_refused() {
    let stack = Stack::shared();
    let manager = crew(stack).manager.as_str();
    for body in [
        json!({"title": "[UBERPOP-1] legacy"}),
        json!({"title": "Fix", "jira_id": ""}),
        json!({"title": "Fix", "jira_id": " UBERPOP-1"}),
    ] {
        let (status, problem) = stack.call("POST", "/tasks", Some(manager), Some(&body));
        assert_eq!(
            (status, problem["status"].as_u64()),
            (422, Some(422)),
            "{body}"
        );
    }
}

#[test]
fn a_shuffle_reassigns_every_open_task_and_reports_its_progress() {
    let stack = Stack::shared();
    let manager = crew(stack).manager.as_str();
    let assignments = hold_assignments();
    let mine: Vec<Value> = (0..12)
        .map(|i| {
            create_task(
                stack,
                manager,
                &format!("Perch {i}"),
                &format!("PERCH-{}", i + 1),
            )
        })
        .map(|t| t["task_id"].clone())
        .collect();
    let (id, done) = shuffle(stack, manager);
    drop(assignments);
    assert_eq!(done["reassigned"], done["total"], "{done}");
    assert!(
        done["total"].as_u64().unwrap_or(0) >= mine.len() as u64,
        "every open task, these among them: {done}"
    );
    stack.eventually(60, "a shuffle's Task.Assigned for each task", || {
        let reassigned: HashSet<Value> = stack
            .events()
            .into_iter()
            .filter(|e| e["detail-type"] == "Task.Assigned")
            .filter(|e| e["detail"]["data"]["shuffle_id"] == id.as_str())
            .map(|e| e["detail"]["data"]["task_id"].clone())
            .collect();
        mine.iter().all(|t| reassigned.contains(t)).then_some(())
    });
}

#[test]
fn only_a_tasks_assignee_completes_it_and_only_once() {
    let stack = Stack::shared();
    let Crew { admin, manager } = crew(stack);
    let (admin, manager) = (admin.as_str(), manager.as_str());
    let _assignments = hold_assignments();
    let task = create_task(stack, manager, "Feed the chicks", "UBERPOP-77");
    let task_id = task["task_id"].as_str().unwrap();

    let (_, fresh) = stack.employee(admin, "worker"); // a fresh worker holds nothing
    let (_, mine) = stack.call("GET", "/tasks/mine", Some(&fresh), None);
    assert_eq!(mine["tasks"].as_array().map(Vec::len), Some(0), "{mine}");
    assert_eq!(complete(stack, &fresh, task_id).0, 403, "not theirs");

    let holder = current(stack, manager, &task["task_id"])["assignee_id"].clone();
    let holder_token = token_of(stack, admin, holder.as_str().unwrap());
    let (status, completed) = complete(stack, &holder_token, task_id);
    assert_eq!(
        (status, completed["status"].as_str()),
        (200, Some("done")),
        "{completed}"
    );
    assert_eq!(complete(stack, &holder_token, task_id).0, 409);
}

#[test]
fn every_event_on_the_bus_matches_its_schema() {
    let stack = Stack::shared();
    let Crew { admin, manager } = crew(stack);
    let (admin, manager) = (admin.as_str(), manager.as_str());
    // The tracker's every kind of event: created and assigned, reassigned by a shuffle, completed.
    let task_id = {
        let _assignments = hold_assignments();
        let task = create_task(stack, manager, "Count the eggs", "UBERPOP-99");
        shuffle(stack, manager);
        let holder = current(stack, manager, &task["task_id"])["assignee_id"].clone();
        let token = token_of(stack, admin, holder.as_str().unwrap());
        let task_id = task["task_id"].as_str().unwrap().to_owned();
        assert_eq!(complete(stack, &token, &task_id).0, 200);
        task_id
    };
    let events = stack.eventually(60, "every event of the task on the bus", || {
        let events = stack.events();
        let count = |name: &str| {
            events
                .iter()
                .filter(|e| e["detail-type"] == name && e["source"] == "ates.tasks")
                .filter(|e| e["detail"]["data"]["task_id"] == task_id.as_str())
                .count()
        };
        (count("Task.Created") >= 1 && count("Task.Assigned") >= 2 && count("Task.Completed") >= 1)
            .then_some(events)
    });
    for event in &events {
        let detail = &event["detail"];
        assert_eq!(event["detail-type"], detail["name"]);
        assert_eq!(
            event["source"],
            format!("ates.{}", detail["producer"].as_str().unwrap())
        );
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
}

/// A token for an existing account, by mailed code: the test holds no password for it.
fn token_of(stack: &Stack, admin: &str, account_id: &str) -> String {
    let email = every(stack, admin, "/accounts", "accounts")
        .into_iter()
        .find(|a| a["account_id"] == account_id)
        .unwrap_or_else(|| panic!("account {account_id} is listed"))["email"]
        .as_str()
        .unwrap()
        .to_owned();
    let code = stack.mailed_code(&email);
    let (status, tokens) = stack.call(
        "POST",
        "/auth/sign-in/code",
        None,
        Some(&json!({"email": email, "code": code})),
    );
    assert_eq!(status, 200, "{tokens}");
    tokens["access_token"].as_str().unwrap().to_owned()
}

#[test]
fn a_cursor_no_listing_gave_is_a_4xx_problem_on_every_listing() {
    use base64::Engine;
    let stack = Stack::shared();
    let admin = stack.admin_token();
    let crafted = |json: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
    let cursors = [
        "not-a-cursor".to_owned(),
        crafted(r#"{"pk":"x"}"#),
        crafted(r#"{"gsi2pk":"x"}"#),
        crafted(r#"{"pk":"x","sk":"y","gsi1pk":"z","gsi1sk":"w","gsi2pk":"v","gsi2sk":"u"}"#),
    ];
    for listing in [
        "/tasks/mine",
        "/tasks",
        "/notifications/mine",
        "/notifications",
        "/accounting/me/entries",
        "/accounting/accounts",
    ] {
        for cursor in &cursors {
            let path = format!("{listing}?cursor={cursor}");
            let (status, body) = stack.call("GET", &path, Some(&admin), None);
            assert!((400..500).contains(&status), "{path}: {status} {body}");
            assert_eq!(body["status"], status, "problem+json for {path}: {body}");
        }
    }
}

/// A request's log lines can be joined to its invocation, its trace and every event it caused:
/// the route's lines carry the correlation id, the Lambda request id and the trace id under
/// Powertools' names; the relay counts the task as a metric (EMF); the consumer in accounting
/// logs under the same correlation id.
#[test]
fn a_requests_lines_carry_its_invocation_its_trace_and_its_correlation_everywhere() {
    let stack = Stack::shared();
    let _held = hold_assignments();
    let manager = &crew(stack).manager;
    let correlation = format!("observed-{}", uuid::Uuid::new_v4());
    let response = ureq::post(&format!("{}/tasks", stack.api))
        .set("authorization", &format!("Bearer {manager}"))
        .set("x-correlation-id", &correlation)
        .send_json(json!({"title": "Polish the beak", "jira_id": "OBS-1"}))
        .expect("a task is created");
    assert_eq!(response.status(), 201);
    assert_eq!(
        response.header("x-correlation-id"),
        Some(correlation.as_str())
    );

    let ours = |function: &str| -> Vec<Value> {
        stack
            .log_lines(function)
            .into_iter()
            .filter(|l| l["correlation_id"] == correlation.as_str())
            .collect()
    };
    // The route's own line: a request's status is the access log's (DEBUG here, since #25).
    let created = stack.eventually(30, "the route logged what it did", || {
        ours("TasksCreateTaskFunction")
            .into_iter()
            .find(|l| l["message"] == "task created")
    });
    assert_eq!(
        (&created["method"], &created["path"]),
        (&json!("POST"), &json!("/tasks")),
        "the request's span: {created}"
    );
    assert_eq!(created["level"], "INFO");
    assert_eq!(
        created["service"], "tasks",
        "the stack's POWERTOOLS_SERVICE_NAME"
    );
    assert!(created["cold_start"].is_boolean(), "{created}");
    assert!(
        created["function_request_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty()),
        "{created}"
    );
    assert!(
        created["xray_trace_id"]
            .as_str()
            .is_some_and(|t| t.starts_with("Root=")),
        "{created}"
    );
    assert!(
        ours("TasksCreateTaskFunction")
            .iter()
            .all(|l| l["message"] != "answered"),
        "a 201 is not logged: the access log has it"
    );

    stack.eventually(
        60,
        "accounting charged the fee under the same correlation id",
        || {
            ours("AccountingChargeFeeFunction")
                .into_iter()
                .find(|l| l["message"] == "posted")
        },
    );
    let counted: u64 = stack
        .log_lines("TasksOutboxRelayFunction")
        .iter()
        .filter(|l| l["_aws"]["CloudWatchMetrics"][0]["Metrics"][0].is_object())
        .filter_map(|l| l["TasksCreated"].as_u64())
        .sum();
    assert!(counted >= 1, "the relay counts tasks created as a metric");
}

/// #25: a worker who leaves does not keep open tasks until the next shuffle. Deactivated, each of
/// their open tasks goes within a minute to someone who takes tasks, with one `Task.Assigned`
/// naming them as the previous assignee, and accounting charges the new assignee that
/// reassignment's fee once.
#[test]
fn a_deactivated_workers_open_tasks_are_reassigned_within_a_minute_and_charged_once() {
    let stack = Stack::shared();
    let Crew { admin, manager } = crew(stack);
    let (admin, manager) = (admin.as_str(), manager.as_str());
    let _assignments = hold_assignments();
    let (leaver, token) = stack.employee(admin, "worker");
    stack.wait_assignable(&leaver);
    let mut theirs = Vec::new();
    for i in 0..200 {
        if theirs.len() == 3 {
            break;
        }
        let task = create_task(
            stack,
            manager,
            &format!("Leaver {i}"),
            &format!("UBERPOP-{}", 700 + i),
        );
        if task["assignee_id"] == leaver.as_str() {
            theirs.push(task["task_id"].clone());
        }
    }
    assert_eq!(theirs.len(), 3, "the new worker was given tasks");
    let (_, mine) = stack.call("GET", "/tasks/mine", Some(&token), None);
    assert!(mine["tasks"].as_array().unwrap().len() >= 3, "{mine}");

    let (status, gone) = stack.call(
        "POST",
        &format!("/accounts/{leaver}/deactivate"),
        Some(admin),
        None,
    );
    assert_eq!(
        (status, gone["active"].as_bool()),
        (200, Some(false)),
        "{gone}"
    );
    let moves = stack.eventually(60, "each of their tasks has a new assignee", || {
        let moves: Vec<Value> = stack
            .events()
            .into_iter()
            .filter(|e| e["detail-type"] == "Task.Assigned")
            .filter(|e| e["detail"]["data"]["previous_assignee_id"] == leaver.as_str())
            .collect();
        theirs
            .iter()
            .all(|t| moves.iter().any(|e| e["detail"]["data"]["task_id"] == *t))
            .then_some(moves)
    });
    for task in &theirs {
        let of_task: Vec<&Value> = moves
            .iter()
            .filter(|e| e["detail"]["data"]["task_id"] == *task)
            .collect();
        assert_eq!(of_task.len(), 1, "moved once: {of_task:?}");
        let now = current(stack, manager, task);
        assert_eq!(
            now["assignee_id"],
            of_task[0]["detail"]["data"]["assignee_id"]
        );
        assert_ne!(now["assignee_id"], leaver.as_str());
        let fee = format!("TXN#fee:{}", of_task[0]["detail"]["id"].as_str().unwrap());
        stack.eventually(60, "the new assignee is charged the fee", || {
            (stack.items("AccountingTable", &fee).len() == 1).then_some(())
        });
    }
}

/// #25: `GET /tasks` is an index query, newest first: ten new tasks come back on the first page
/// however much else the table holds (a thousand other items here, which a scan's page would
/// land on), each with its assignee's name; filtered by status and by assignee too.
#[test]
fn the_newest_tasks_come_first_among_a_thousand_other_items_with_their_assignees_names() {
    let stack = Stack::shared();
    let Crew { manager, .. } = crew(stack);
    let manager = manager.as_str();
    for batch in 0..40 {
        let puts: Vec<Value> = (0..25)
            .map(|i| {
                json!({"PutRequest": {"Item": {
                    "pk": {"S": format!("INBOX#e2e-noise#{batch}-{i}-{}", uuid::Uuid::now_v7())},
                    "sk": {"S": "INBOX"}
                }}})
            })
            .collect();
        stack.aws(
            "DynamoDB_20120810.BatchWriteItem",
            json!({"RequestItems": {"TasksTable": puts}}),
        );
    }
    let _assignments = hold_assignments();
    let mine: Vec<Value> = (0..10)
        .map(|i| {
            create_task(
                stack,
                manager,
                &format!("Newest {i}"),
                &format!("UBERPOP-{}", 900 + i),
            )
        })
        .collect();
    let (status, page) = stack.call("GET", "/tasks?limit=10", Some(manager), None);
    assert_eq!(status, 200, "{page}");
    let listed: Vec<&Value> = page["tasks"].as_array().unwrap().iter().collect();
    let ids: Vec<&Value> = listed.iter().map(|t| &t["task_id"]).collect();
    let newest_first: Vec<&Value> = mine.iter().rev().map(|t| &t["task_id"]).collect();
    assert_eq!(
        ids, newest_first,
        "the ten, newest first, on the first page"
    );
    assert!(page["next_cursor"].is_string(), "more exist");
    for task in &listed {
        let name = task["assignee_name"].as_str().unwrap_or_default();
        assert!(!name.is_empty(), "named: {task}");
    }
    let assignee = listed[0]["assignee_id"].as_str().unwrap();
    let path = format!("/tasks?status=open&assignee={assignee}&limit=100");
    let (status, theirs) = stack.call("GET", &path, Some(manager), None);
    assert_eq!(status, 200, "{theirs}");
    let theirs = theirs["tasks"].as_array().unwrap();
    assert!(theirs.iter().any(|t| t["task_id"] == listed[0]["task_id"]));
    assert!(theirs
        .iter()
        .all(|t| t["assignee_id"] == assignee && t["status"] == "open"));
    let (status, problem) = stack.call("GET", "/tasks?status=closed", Some(manager), None);
    assert_eq!(
        (status, problem["status"].as_u64()),
        (422, Some(422)),
        "{problem}"
    );
}
