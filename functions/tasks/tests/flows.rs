//! The task tracker against the emulator, called as API Gateway would call it.

use ates_tasks::app::Shuffles;
use ates_tasks::app::TaskCompletion;
use std::collections::HashMap;

use ates_kernel::contracts::accounts::AccountSnapshot;
use ates_kernel::copies::KeepsAccountCopies;
use ates_kernel::identity::Role;
use ates_kernel::job::{JobTable, Page};
use ates_kernel::testing::{self, answer as read, api_request, Emulator};
use ates_tasks::api;
use ates_tasks::app::AssignablePool;
use ates_tasks::app::{self, PageOutcome};
use ates_tasks::store::Store;
use rand::SeedableRng;
use serde_json::{json, Value};
use uuid::Uuid;

struct Tracker {
    _emulator: Emulator,
    jobs: JobTable,
    db: aws_sdk_dynamodb::Client,
    store: Store,
}

impl Tracker {
    async fn start() -> Tracker {
        let (emulator, config, table) = Emulator::with_table("TasksTable").await;
        Tracker {
            db: aws_sdk_dynamodb::Client::new(&config),
            store: Store::new(table.clone()),
            jobs: JobTable::new(table),
            _emulator: emulator,
        }
    }

    /// An account as the auth context announced it.
    async fn account(&self, role: Role) -> String {
        let account = testing::account("Popug", role);
        let event = testing::account_event(&account);
        ates_tasks::app::sync_account(&self.store, &event)
            .await
            .unwrap();
        account.account_id.to_string()
    }

    async fn create(&self, who: &str, role: Role, body: Value) -> (u16, Value) {
        let req = api_request(
            "POST",
            "/tasks",
            "/tasks",
            Some(&body.to_string()),
            Some((who, role)),
        );
        read(api::create_task(&self.store, req).await)
    }

    async fn complete(&self, who: &str, task: &str, key: Option<&str>) -> (u16, Value) {
        let path = format!("/tasks/{task}/complete");
        let mut req = api_request(
            "POST",
            "/tasks/{task_id}/complete",
            &path,
            None,
            Some((who, Role::Worker)),
        );
        if let Some(key) = key {
            req.headers_mut()
                .insert("idempotency-key", key.parse().unwrap());
        }
        read(api::complete_task(&self.store, req).await)
    }

    async fn items(
        &self,
        prefix: &str,
    ) -> Vec<HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .db
                .scan()
                .table_name("TasksTable")
                .set_exclusive_start_key(start)
                .send()
                .await
                .unwrap();
            items.extend(
                out.items()
                    .iter()
                    .filter(|i| i["pk"].as_s().unwrap().starts_with(prefix))
                    .cloned(),
            );
            start = out.last_evaluated_key().cloned();
            if start.is_none() {
                return items;
            }
        }
    }

    async fn events(&self, name: &str) -> Vec<Value> {
        self.items("OUTBOX#")
            .await
            .iter()
            .flat_map(|i| ates_kernel::outbox::events_in(i).unwrap())
            .map(|e| serde_json::to_value(e).unwrap())
            .filter(|e| e["name"] == name)
            .collect()
    }

    /// Runs a shuffle's pages as the relay and the work queue would, until none is left.
    async fn drive_shuffle(&self, shuffle_id: &str) -> usize {
        let mut done = std::collections::HashSet::new();
        let mut pages = 0;
        loop {
            let work: Vec<(String, Page)> = self
                .items(&format!("OUTBOX#work#job#{shuffle_id}"))
                .await
                .iter()
                .map(|i| {
                    (
                        i["pk"].as_s().unwrap().clone(),
                        serde_json::from_str(i["work"].as_s().unwrap()).unwrap(),
                    )
                })
                .filter(|(pk, _)| !done.contains(pk))
                .collect();
            if work.is_empty() {
                return pages;
            }
            for (pk, page) in work {
                let outcome = app::shuffle_page(
                    &self.store,
                    &page,
                    &mut rand::rngs::StdRng::seed_from_u64(pages as u64),
                )
                .await
                .unwrap();
                assert!(matches!(outcome, PageOutcome::Reassigned(_)));
                done.insert(pk);
                pages += 1;
            }
        }
    }
}

#[tokio::test]
async fn a_task_never_exists_without_an_assignee() {
    let tracker = Tracker::start().await;
    let manager = tracker.account(Role::Manager).await;
    tracker.account(Role::Admin).await;
    let (status, problem) = tracker
        .create(&manager, Role::Manager, json!({"title": "Fix the nest"}))
        .await;
    assert_eq!(status, 409, "{problem}");
    assert!(tracker.items("TASK#").await.is_empty());
    assert!(
        tracker.items("OUTBOX#").await.is_empty(),
        "and no event either"
    );
}

#[tokio::test]
async fn tasks_land_on_workers_and_accountants_only() {
    let tracker = Tracker::start().await;
    let manager = tracker.account(Role::Manager).await;
    tracker.account(Role::Admin).await;
    let assignable = [
        tracker.account(Role::Worker).await,
        tracker.account(Role::Worker).await,
        tracker.account(Role::Accountant).await,
    ];
    for i in 0..30 {
        let (status, task) = tracker
            .create(
                &manager,
                Role::Manager,
                json!({"title": format!("Task {i}"), "jira_id": "UBERPOP-42"}),
            )
            .await;
        assert_eq!(status, 201, "{task}");
        assert!(assignable.contains(&task["assignee_id"].as_str().unwrap().to_owned()));
        assert_eq!(
            (task["status"].as_str(), task["jira_id"].as_str()),
            (Some("open"), Some("UBERPOP-42"))
        );
    }
    let created = tracker.events("Task.Created").await;
    let assigned = tracker.events("Task.Assigned").await;
    assert_eq!((created.len(), assigned.len()), (30, 30));
    for event in created.iter().chain(&assigned) {
        ates_kernel::schema::check(
            event["name"].as_str().unwrap(),
            event["version"].as_u64().unwrap() as u32,
            &event["data"],
        )
        .unwrap();
    }
    assert!(
        created.iter().all(|e| e["version"] == 3),
        "producers emit Task.Created v3"
    );
    assert!(
        assigned
            .iter()
            .all(|e| e["version"] == 2 && e["data"]["version"] == 1),
        "producers emit Task.Assigned v2, with the new task's version"
    );
}

#[tokio::test]
async fn bad_tasks_are_problems_and_write_nothing() {
    let tracker = Tracker::start().await;
    let worker = tracker.account(Role::Worker).await;
    let cases = [
        json!({"title": "[UBERPOP-42] Fix the nest"}),
        json!({"title": "Fix ] it"}),
        json!({"title": ""}),
        json!({"title": "x".repeat(201)}),
        json!({"title": "Fix", "jira_id": "uberpop-42"}),
        json!({"title": "Fix", "jira_id": "POPUG"}),
        json!({"title": "Fix", "description": "d".repeat(4001)}),
        json!({"description": "no title"}),
        json!({"title": "Fix", "assignee_id": worker}),
        json!({"title": 42}),
    ];
    for body in cases {
        let (status, _) = tracker.create(&worker, Role::Worker, body.clone()).await;
        assert_eq!(status, 422, "{body}");
    }
    let req = api_request(
        "POST",
        "/tasks",
        "/tasks",
        Some("{\"title\":"),
        Some((&worker, Role::Worker)),
    );
    assert_eq!(read(api::create_task(&tracker.store, req).await).0, 400);
    assert!(tracker.items("TASK#").await.is_empty());
    assert!(tracker.items("OUTBOX#").await.is_empty());
}

#[tokio::test]
async fn a_retried_create_with_the_same_idempotency_key_creates_one_task() {
    let tracker = Tracker::start().await;
    let worker = tracker.account(Role::Worker).await;
    let post = |body: Value, key: &str| {
        let mut req = api_request(
            "POST",
            "/tasks",
            "/tasks",
            Some(&body.to_string()),
            Some((&worker, Role::Worker)),
        );
        req.headers_mut()
            .insert("idempotency-key", key.parse().unwrap());
        req
    };
    let (first, task) =
        read(api::create_task(&tracker.store, post(json!({"title": "Once"}), "k-1")).await);
    let (again, same) =
        read(api::create_task(&tracker.store, post(json!({"title": "Once"}), "k-1")).await);
    assert_eq!((first, again), (201, 201));
    assert_eq!(task["task_id"], same["task_id"]);
    assert_eq!(tracker.items("TASK#").await.len(), 1);
    let (status, _) =
        read(api::create_task(&tracker.store, post(json!({"title": "Other"}), "k-1")).await);
    assert_eq!(status, 422, "a key reused for a different task is refused");
}

#[tokio::test]
async fn only_the_assignee_completes_and_a_done_task_stays_done() {
    let tracker = Tracker::start().await;
    let worker = tracker.account(Role::Worker).await;
    let (_, task) = tracker
        .create(&worker, Role::Worker, json!({"title": "Mine"}))
        .await;
    let id = task["task_id"].as_str().unwrap();
    let stranger = Uuid::now_v7().to_string();
    assert_eq!(tracker.complete(&stranger, id, None).await.0, 403);
    assert_eq!(
        tracker
            .complete(&worker, &Uuid::now_v7().to_string(), None)
            .await
            .0,
        404
    );
    assert_eq!(tracker.complete(&worker, "not-a-task", None).await.0, 404);
    let (status, done) = tracker.complete(&worker, id, Some("done-1")).await;
    assert_eq!((status, done["status"].as_str()), (200, Some("done")));
    assert_eq!(
        tracker.complete(&worker, id, Some("done-1")).await.0,
        200,
        "repeating the same request is harmless"
    );
    assert_eq!(
        tracker.complete(&worker, id, None).await.0,
        409,
        "completing a done task is a conflict"
    );
    assert_eq!(tracker.events("Task.Completed").await.len(), 1);
}

#[tokio::test]
async fn an_employee_lists_their_own_open_and_done_tasks_page_by_page() {
    let tracker = Tracker::start().await;
    let worker = tracker.account(Role::Worker).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            tracker
                .create(&worker, Role::Worker, json!({"title": format!("T{i}")}))
                .await
                .1["task_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    tracker.complete(&worker, &ids[0], None).await;
    let list = |path: &str| {
        let req = api_request(
            "GET",
            "/tasks/mine",
            path,
            None,
            Some((&worker, Role::Worker)),
        );
        api::list_my_tasks(&tracker.store, req)
    };
    let (_, first) = read(list("/tasks/mine?status=open&limit=3").await);
    assert_eq!(first["tasks"].as_array().unwrap().len(), 3);
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let (_, second) = read(list(&format!("/tasks/mine?status=open&limit=3&cursor={cursor}")).await);
    assert_eq!(second["tasks"].as_array().unwrap().len(), 1);
    let (_, done) = read(list("/tasks/mine?status=done").await);
    assert_eq!(done["tasks"][0]["task_id"], ids[0].as_str());
    assert_eq!(read(list("/tasks/mine?status=lost").await).0, 422);
    assert_eq!(read(list("/tasks/mine?cursor=garbage").await).0, 422);
    let all = api_request(
        "GET",
        "/tasks",
        "/tasks",
        None,
        Some((&worker, Role::Worker)),
    );
    assert_eq!(
        read(api::list_tasks(&tracker.store, all).await).0,
        403,
        "a worker does not see everyone's tasks"
    );
}

#[tokio::test]
async fn a_worker_cannot_shuffle_and_an_unknown_shuffle_is_not_found() {
    let tracker = Tracker::start().await;
    let worker = tracker.account(Role::Worker).await;
    let req = api_request(
        "POST",
        "/tasks/shuffles",
        "/tasks/shuffles",
        None,
        Some((&worker, Role::Worker)),
    );
    assert_eq!(read(api::start_shuffle(&tracker.store, req).await).0, 403);
    assert!(tracker.items("SHUFFLE#").await.is_empty());
    let manager = tracker.account(Role::Manager).await;
    let path = format!("/tasks/shuffles/{}", Uuid::now_v7());
    let req = api_request(
        "GET",
        "/tasks/shuffles/{shuffle_id}",
        &path,
        None,
        Some((&manager, Role::Manager)),
    );
    assert_eq!(read(api::shuffle_status(&tracker.store, req).await).0, 404);
}

#[tokio::test]
async fn a_shuffle_reassigns_every_open_task_once_and_publishes_one_task_assigned_per_task() {
    let tracker = Tracker::start().await;
    let manager = tracker.account(Role::Manager).await;
    let workers = [
        tracker.account(Role::Worker).await,
        tracker.account(Role::Worker).await,
        tracker.account(Role::Worker).await,
    ];
    let mut ids = Vec::new();
    for i in 0..90 {
        ids.push(
            tracker
                .create(&manager, Role::Manager, json!({"title": format!("T{i}")}))
                .await
                .1["task_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    // A completed task stays completed through a shuffle.
    let done = tracker
        .store
        .task(Uuid::parse_str(&ids[0]).unwrap())
        .await
        .unwrap()
        .unwrap();
    tracker
        .complete(&done.assignee_id.to_string(), &ids[0], None)
        .await;

    let req = api_request(
        "POST",
        "/tasks/shuffles",
        "/tasks/shuffles",
        None,
        Some((&manager, Role::Manager)),
    );
    let (status, shuffle) = read(api::start_shuffle(&tracker.store, req).await);
    assert_eq!(
        (
            status,
            shuffle["total"].as_u64(),
            shuffle["status"].as_str()
        ),
        (202, Some(89), Some("running"))
    );
    let shuffle_id = shuffle["shuffle_id"].as_str().unwrap();
    let pages = tracker.drive_shuffle(shuffle_id).await;
    assert!(pages >= 16, "one page per shard at least, {pages}");

    let path = format!("/tasks/shuffles/{shuffle_id}");
    let req = api_request(
        "GET",
        "/tasks/shuffles/{shuffle_id}",
        &path,
        None,
        Some((&manager, Role::Manager)),
    );
    let (_, progress) = read(api::shuffle_status(&tracker.store, req).await);
    assert_eq!(
        (progress["status"].as_str(), progress["reassigned"].as_u64()),
        (Some("completed"), Some(89)),
        "{progress}"
    );

    let shuffled: Vec<Value> = tracker
        .events("Task.Assigned")
        .await
        .into_iter()
        .filter(|e| e["data"]["shuffle_id"] == shuffle_id)
        .collect();
    let mut per_task: HashMap<String, usize> = HashMap::new();
    for e in &shuffled {
        *per_task
            .entry(e["data"]["task_id"].as_str().unwrap().to_owned())
            .or_default() += 1;
        assert!(workers.contains(&e["data"]["assignee_id"].as_str().unwrap().to_owned()));
    }
    assert_eq!(per_task.len(), 89);
    assert!(
        per_task.values().all(|n| *n == 1),
        "one Task.Assigned per task"
    );
    assert!(
        !per_task.contains_key(&ids[0]),
        "the done task was not reassigned"
    );
    assert_eq!(
        tracker
            .store
            .task(done.task_id)
            .await
            .unwrap()
            .unwrap()
            .status,
        ates_tasks::task::Status::Done
    );

    // Every page delivered again changes nothing.
    for item in tracker
        .items(&format!("OUTBOX#work#job#{shuffle_id}"))
        .await
    {
        let page: Page = serde_json::from_str(item["work"].as_s().unwrap()).unwrap();
        let outcome = app::shuffle_page(
            &tracker.store,
            &page,
            &mut rand::rngs::StdRng::seed_from_u64(9),
        )
        .await
        .unwrap();
        assert_eq!(outcome, PageOutcome::Duplicate);
    }
    assert_eq!(tracker.events("Task.Assigned").await.len(), 90 + 89);
}

#[tokio::test]
async fn a_shuffle_while_workers_complete_loses_no_completion_and_no_assignment() {
    let tracker = Tracker::start().await;
    let manager = tracker.account(Role::Manager).await;
    for _ in 0..3 {
        tracker.account(Role::Worker).await;
    }
    let mut ids = Vec::new();
    for i in 0..60 {
        ids.push(
            Uuid::parse_str(
                tracker
                    .create(&manager, Role::Manager, json!({"title": format!("T{i}")}))
                    .await
                    .1["task_id"]
                    .as_str()
                    .unwrap(),
            )
            .unwrap(),
        );
    }
    let req = api_request(
        "POST",
        "/tasks/shuffles",
        "/tasks/shuffles",
        None,
        Some((&manager, Role::Manager)),
    );
    let shuffle_id = read(api::start_shuffle(&tracker.store, req).await).1["shuffle_id"]
        .as_str()
        .unwrap()
        .to_owned();

    let completions = async {
        let mut completed = Vec::new();
        for id in ids.iter().step_by(2) {
            // Whoever holds the task right now completes it, racing the shuffle.
            for _ in 0..5 {
                let task = tracker.store.task(*id).await.unwrap().unwrap();
                if tracker
                    .complete(&task.assignee_id.to_string(), &id.to_string(), None)
                    .await
                    .0
                    == 200
                {
                    completed.push(*id);
                    break;
                }
            }
        }
        completed
    };
    let (completed, _) = tokio::join!(completions, tracker.drive_shuffle(&shuffle_id));
    assert_eq!(completed.len(), 30, "every completion went through");

    let assigned = tracker.events("Task.Assigned").await;
    let completed_events = tracker.events("Task.Completed").await;
    for id in &ids {
        let task = tracker.store.task(*id).await.unwrap().unwrap();
        let mine: Vec<&Value> = assigned
            .iter()
            .filter(|e| e["data"]["task_id"] == id.to_string())
            .collect();
        let last = mine
            .iter()
            .max_by_key(|e| e["data"]["assigned_at"].as_str().unwrap().to_owned())
            .unwrap();
        assert_eq!(
            last["data"]["assignee_id"],
            task.assignee_id.to_string(),
            "the last Task.Assigned names the holder"
        );
        assert!(
            mine.len() <= 2,
            "created + at most one reassignment by this shuffle"
        );
        if completed.contains(id) {
            assert_eq!(
                task.status,
                ates_tasks::task::Status::Done,
                "a completed task stays completed"
            );
            let done = completed_events
                .iter()
                .find(|e| e["data"]["task_id"] == id.to_string())
                .unwrap();
            assert_eq!(
                done["data"]["assignee_id"],
                task.assignee_id.to_string(),
                "the reward goes to who held it"
            );
        }
    }
}

#[tokio::test]
async fn stored_legacy_titles_are_migrated_and_a_second_run_changes_nothing() {
    let tracker = Tracker::start().await;
    let worker = tracker.account(Role::Worker).await;
    let (_, task) = tracker
        .create(&worker, Role::Worker, json!({"title": "Modern"}))
        .await;
    // A legacy task, as the first version of the tracker stored it.
    let legacy_id = Uuid::now_v7();
    let mut legacy = HashMap::new();
    for (k, v) in [
        ("pk", format!("TASK#{legacy_id}")),
        ("sk", "TASK".into()),
        ("task_id", legacy_id.to_string()),
        ("title", "[UBERPOP-7] Feed the parrots".into()),
        ("description", "".into()),
        ("status", "open".into()),
        ("assignee_id", worker.clone()),
        ("created_by", worker.clone()),
        ("created_at", "2026-01-01T00:00:00+00:00".into()),
    ] {
        legacy.insert(k.to_owned(), aws_sdk_dynamodb::types::AttributeValue::S(v));
    }
    legacy.insert(
        "version".into(),
        aws_sdk_dynamodb::types::AttributeValue::N("1".into()),
    );
    tracker
        .db
        .put_item()
        .table_name("TasksTable")
        .set_item(Some(legacy))
        .send()
        .await
        .unwrap();

    let run = app::MigrationRun {
        cursor: None,
        limit: Some(100),
        pool: false,
    };
    let page = app::migrate_legacy_titles(&tracker.store, &run)
        .await
        .unwrap();
    assert_eq!((page.migrated, page.cursor), (1, None));
    let fixed = tracker.store.task(legacy_id).await.unwrap().unwrap();
    assert_eq!(
        (fixed.title.as_str(), fixed.jira_id.as_deref()),
        ("Feed the parrots", Some("UBERPOP-7"))
    );
    assert_eq!(
        app::migrate_legacy_titles(&tracker.store, &run)
            .await
            .unwrap()
            .migrated,
        0,
        "safe to run twice"
    );
    let modern = tracker
        .store
        .task(Uuid::parse_str(task["task_id"].as_str().unwrap()).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(modern.title, "Modern");
}

#[tokio::test]
async fn two_shuffles_pressed_at_once_each_reassign_every_open_task_once_and_lose_no_update() {
    let tracker = Tracker::start().await;
    let manager = tracker.account(Role::Manager).await;
    for _ in 0..3 {
        tracker.account(Role::Worker).await;
    }
    let mut ids = Vec::new();
    for i in 0..40 {
        let (_, task) = tracker
            .create(&manager, Role::Manager, json!({"title": format!("T{i}")}))
            .await;
        ids.push(task["task_id"].as_str().unwrap().to_owned());
    }
    let press = || {
        api_request(
            "POST",
            "/tasks/shuffles",
            "/tasks/shuffles",
            None,
            Some((&manager, Role::Manager)),
        )
    };
    let first = read(api::start_shuffle(&tracker.store, press()).await).1["shuffle_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let second = read(api::start_shuffle(&tracker.store, press()).await).1["shuffle_id"]
        .as_str()
        .unwrap()
        .to_owned();
    tokio::join!(
        tracker.drive_shuffle(&first),
        tracker.drive_shuffle(&second)
    );

    for shuffle in [&first, &second] {
        let progress = tracker
            .store
            .shuffle(Uuid::parse_str(shuffle).unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!((progress.status(), progress.reassigned), ("completed", 40));
    }
    let assigned = tracker.events("Task.Assigned").await;
    for id in &ids {
        let task = tracker
            .store
            .task(Uuid::parse_str(id).unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(task.version, 3, "created, then moved once by each shuffle");
        let mut chain: Vec<&Value> = assigned
            .iter()
            .filter(|e| e["data"]["task_id"] == id.as_str())
            .collect();
        assert_eq!(chain.len(), 3);
        // Follow previous → assignee from the creation: one unbroken chain ending at the holder.
        let mut holder = Value::Null;
        while !chain.is_empty() {
            let next = chain
                .iter()
                .position(|e| e["data"]["previous_assignee_id"] == holder)
                .expect("every reassignment starts where the last ended");
            holder = chain.remove(next)["data"]["assignee_id"].clone();
        }
        assert_eq!(holder, task.assignee_id.to_string());
    }
}

#[tokio::test]
async fn a_shuffle_page_that_gave_up_stalls_the_shuffle_until_it_is_redriven() {
    let tracker = Tracker::start().await;
    let manager = tracker.account(Role::Manager).await;
    tracker.account(Role::Worker).await;
    for i in 0..5 {
        tracker
            .create(&manager, Role::Manager, json!({"title": format!("T{i}")}))
            .await;
    }
    let press = api_request(
        "POST",
        "/tasks/shuffles",
        "/tasks/shuffles",
        None,
        Some((&manager, Role::Manager)),
    );
    let shuffle = read(api::start_shuffle(&tracker.store, press).await).1;
    let id = Uuid::parse_str(shuffle["shuffle_id"].as_str().unwrap()).unwrap();
    let pages = tracker.items(&format!("OUTBOX#work#job#{id}")).await;
    let gave_up: Page = serde_json::from_str(pages[0]["work"].as_s().unwrap()).unwrap();

    // Its last delivery failed (or it was poison): the work consumer marks the job.
    tracker.jobs.mark_stalled(&gave_up).await.unwrap();
    tracker.jobs.mark_stalled(&gave_up).await.unwrap();
    let stalled = tracker.store.shuffle(id).await.unwrap().unwrap();
    assert_eq!((stalled.status(), stalled.stalled_pages), ("stalled", 1));

    // Redriven from the dead-letter queue, it succeeds: the shuffle runs on.
    let outcome = app::shuffle_page(
        &tracker.store,
        &gave_up,
        &mut rand::rngs::StdRng::seed_from_u64(5),
    )
    .await
    .unwrap();
    assert!(matches!(outcome, PageOutcome::Reassigned(_)));
    let resumed = tracker.store.shuffle(id).await.unwrap().unwrap();
    assert_eq!((resumed.status(), resumed.stalled_pages), ("running", 0));
    // Five tasks: one page per shard, so the other first pages finish the shuffle.
    for item in &pages[1..] {
        let page: Page = serde_json::from_str(item["work"].as_s().unwrap()).unwrap();
        let rng = &mut rand::rngs::StdRng::seed_from_u64(6);
        app::shuffle_page(&tracker.store, &page, rng).await.unwrap();
    }
    let done = tracker.store.shuffle(id).await.unwrap().unwrap();
    assert_eq!((done.status(), done.reassigned), ("completed", 5));
}

#[tokio::test]
async fn the_pool_is_filled_from_copies_kept_before_it_was_slots_and_a_second_run_changes_nothing()
{
    let tracker = Tracker::start().await;
    // Copies as an older tracker kept them: the copy alone, nobody in the slots.
    let copy = |role: Role, active: bool| {
        let account = AccountSnapshot {
            active,
            ..testing::account("Popug", role)
        };
        (account.account_id, account)
    };
    let copies = [
        copy(Role::Worker, true),
        copy(Role::Accountant, true),
        copy(Role::Manager, true),
        copy(Role::Worker, false),
        copy(Role::Worker, true),
    ];
    for (_, account) in &copies {
        let event = testing::account_event(account);
        tracker.store.save_account(account, &event).await.unwrap();
    }
    assert_eq!(tracker.store.pool_size().await.unwrap(), 0);

    let mut run = app::MigrationRun {
        cursor: None,
        limit: Some(2),
        pool: true,
    };
    let mut migrated = 0;
    loop {
        let page = app::migrate(&tracker.store, &run).await.unwrap();
        migrated += page.migrated;
        match page.cursor {
            Some(cursor) => run.cursor = Some(cursor),
            None => break,
        }
    }
    assert_eq!(migrated, 3, "the active worker, accountant and worker");
    let size = tracker.store.pool_size().await.unwrap();
    let members = tracker
        .store
        .accounts_at(&(0..size).collect::<Vec<_>>())
        .await
        .unwrap();
    let members: std::collections::HashSet<Uuid> = members.into_values().collect();
    let assignable: std::collections::HashSet<Uuid> =
        [copies[0].0, copies[1].0, copies[4].0].into();
    assert_eq!(members, assignable);

    run.cursor = None;
    run.limit = Some(100);
    let again = app::migrate(&tracker.store, &run).await.unwrap();
    assert_eq!(
        (again.migrated, again.cursor),
        (0, None),
        "safe to run twice"
    );
}
