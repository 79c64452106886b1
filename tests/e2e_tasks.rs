//! The task tracker end to end, through the local stack: tasks land on workers only, a shuffle
//! reassigns them, a worker completes, and every event on the bus matches its schema.

use std::collections::HashSet;

use ates_tests::Stack;
use serde_json::json;

#[test]
fn tasks_land_on_workers_a_shuffle_reassigns_a_worker_completes_and_every_event_matches_its_schema()
{
    let stack = Stack::shared();
    let admin = stack.admin_token();
    let (_, manager) = stack.employee(&admin, "manager");
    let assignable: HashSet<String> = ["worker", "worker", "accountant"]
        .iter()
        .map(|role| stack.employee(&admin, role).0)
        .collect();
    stack.eventually(60, "the task tracker knows every worker", || {
        let pool = stack.items("TasksTable", "POOL");
        let ids: HashSet<String> = pool
            .first()
            .and_then(|p| p["ids"]["SS"].as_array())
            .map(|ids| {
                ids.iter()
                    .filter_map(|i| i.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        assignable.is_subset(&ids).then_some(())
    });

    let mut tasks = Vec::new();
    for i in 0..12 {
        let (status, task) = stack.call(
            "POST",
            "/tasks",
            Some(&manager),
            Some(&json!({"title": format!("Nest {i}"), "jira_id": format!("UBERPOP-{}", i + 1)})),
        );
        assert_eq!(status, 201, "{task}");
        assert!(
            assignable.contains(task["assignee_id"].as_str().unwrap()),
            "a task lands on a worker or accountant only"
        );
        tasks.push(task);
    }
    let (status, problem) = stack.call(
        "POST",
        "/tasks",
        Some(&manager),
        Some(&json!({"title": "[UBERPOP-1] legacy"})),
    );
    assert_eq!((status, problem["status"].as_u64()), (422, Some(422)));

    let (status, shuffle) = stack.call("POST", "/tasks/shuffles", Some(&manager), None);
    assert_eq!(status, 202, "{shuffle}");
    let id = shuffle["shuffle_id"].as_str().unwrap();
    let done = stack.eventually(90, "the shuffle completes", || {
        let (_, progress) = stack.call(
            "GET",
            &format!("/tasks/shuffles/{id}"),
            Some(&manager),
            None,
        );
        (progress["status"] == "completed").then_some(progress)
    });
    assert_eq!(done["reassigned"], done["total"], "{done}");

    // A worker completes one of their own tasks; nobody else can.
    let (holder, token) = {
        let (_, worker_token) = stack.employee(&admin, "worker"); // a fresh worker holds nothing
        let (_, mine) = stack.call("GET", "/tasks/mine", Some(&worker_token), None);
        assert_eq!(mine["tasks"].as_array().map(Vec::len), Some(0));
        let first = &tasks[0]["task_id"];
        let (_, all) = stack.call("GET", "/tasks?limit=100", Some(&manager), None);
        let current = all["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["task_id"] == *first)
            .unwrap()["assignee_id"]
            .clone();
        (current, worker_token)
    };
    let first = tasks[0]["task_id"].as_str().unwrap();
    assert_eq!(
        stack
            .call(
                "POST",
                &format!("/tasks/{first}/complete"),
                Some(&token),
                None
            )
            .0,
        403,
        "not theirs"
    );
    let holder_token = token_of(stack, &admin, holder.as_str().unwrap());
    let (status, completed) = stack.call(
        "POST",
        &format!("/tasks/{first}/complete"),
        Some(&holder_token),
        None,
    );
    assert_eq!(
        (status, completed["status"].as_str()),
        (200, Some("done")),
        "{completed}"
    );
    assert_eq!(
        stack
            .call(
                "POST",
                &format!("/tasks/{first}/complete"),
                Some(&holder_token),
                None
            )
            .0,
        409
    );

    // Every event that crossed the bus matches its registered schema.
    let events = stack.eventually(60, "every task event on the bus", || {
        let events = stack.events();
        let count = |name: &str| {
            events
                .iter()
                .filter(|e| e["detail-type"] == name && e["source"] == "ates.tasks")
                .count()
        };
        (count("Task.Created") >= 12
            && count("Task.Assigned") >= 24
            && count("Task.Completed") >= 1)
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
    let (_, accounts) = stack.call("GET", "/accounts?limit=100", Some(admin), None);
    let email = accounts["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["account_id"] == account_id)
        .unwrap()["email"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = stack.call(
        "POST",
        "/auth/sign-in/code/request",
        None,
        Some(&json!({"email": email})),
    );
    assert_eq!(status, 202);
    let code = stack.eventually(20, "the sign-in code in the mail", || {
        let mail = stack.call("GET", "/_local/mail", None, None).1;
        mail.as_array()?
            .iter()
            .rev()
            .find(|m| m.to_string().contains(&email))
            .and_then(|m| {
                let text = m.to_string();
                text.split(|c: char| !c.is_ascii_digit())
                    .find(|w| w.len() == 6)
                    .map(str::to_owned)
            })
    });
    let (status, tokens) = stack.call(
        "POST",
        "/auth/sign-in/code",
        None,
        Some(&json!({"email": email, "code": code})),
    );
    assert_eq!(status, 200, "{tokens}");
    tokens["access_token"].as_str().unwrap().to_owned()
}
