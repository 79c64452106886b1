//! The task tracker's use cases on the in-memory store: the requirements (SPEC T2–T4), without
//! HTTP or AWS. The same use cases run on DynamoDB in `flows.rs`.

use ates_kernel::contracts::accounts::AccountSnapshot;
use ates_kernel::event::{Cause, Envelope};
use ates_kernel::idempotency::IdempotencyKey;
use ates_kernel::identity::{Claims, NotAllowed, Refused, Role};
use ates_kernel::inbox::{ConsumeError, Outcome};
use ates_kernel::testing;
use ates_kernel::usecase::Failure;
use ates_tasks::app::AssignablePool;
use ates_tasks::app::Shuffles;
use ates_tasks::app::TaskCompletion;
use ates_tasks::app::TaskCreation;
use ates_tasks::app::{self, Answer, Issued, PageOutcome, TaskFilter};
use ates_tasks::error::TaskError;
use ates_tasks::memory::MemoryStore;
use ates_tasks::task::{NewTask, Status, Task, ValidTask};
use chrono::Utc;
use rand::rngs::StdRng;
use rand::SeedableRng;
use uuid::Uuid;

/// An `Account.*` event of `account` in `role`.
fn account_event(account: Uuid, role: Role, active: bool, revision: u64) -> Envelope {
    testing::account_event(&AccountSnapshot {
        account_id: account,
        active,
        revision,
        ..testing::account("Popug", role)
    })
}

async fn account(store: &MemoryStore, role: Role) -> Uuid {
    let id = Uuid::now_v7();
    let outcome = app::sync_account(store, &account_event(id, role, true, 1)).await;
    assert_eq!(outcome.unwrap(), Outcome::Applied);
    id
}

/// What a verified token says of `who`: its role is the one they signed in with, so the
/// account copy, not this, decides what they may do.
fn token(who: Uuid) -> Claims {
    Claims {
        account_id: who,
        role: Role::Worker,
    }
}

fn by(who: Uuid, key: Option<&str>) -> Issued {
    Issued {
        by: token(who),
        cause: Cause::request("test"),
        idempotency: key.and_then(|k| IdempotencyKey::new(&who.to_string(), k)),
        now: Utc::now(),
    }
}

fn new_task(title: &str) -> ValidTask {
    NewTask {
        title: title.into(),
        jira_id: None,
        description: String::new(),
    }
    .validate()
    .unwrap()
}

async fn create(store: &MemoryStore, who: Uuid, title: &str) -> Task {
    let rng = &mut StdRng::seed_from_u64(7);
    match app::create_task(store, &new_task(title), &by(who, None), rng).await {
        Ok(Answer::Fresh(task)) => task,
        other => panic!("not created: {other:?}"),
    }
}

fn names(store: &MemoryStore) -> Vec<String> {
    store.published().into_iter().map(|e| e.name).collect()
}

#[tokio::test]
async fn a_new_task_is_open_and_assigned_at_once_to_a_worker_or_accountant_never_a_client() {
    let store = MemoryStore::default();
    let manager = account(&store, Role::Manager).await;
    let worker = account(&store, Role::Worker).await;
    let accountant = account(&store, Role::Accountant).await;
    account(&store, Role::Admin).await;
    account(&store, Role::Client).await;
    for i in 0..40 {
        let task = create(&store, manager, &format!("Task {i}")).await;
        assert_eq!(task.status, Status::Open);
        assert!([worker, accountant].contains(&task.assignee_id));
    }
    assert_eq!(
        names(&store).len(),
        80,
        "Task.Created and Task.Assigned per task"
    );
}

#[tokio::test]
async fn with_nobody_assignable_a_task_is_refused_and_nothing_is_written() {
    let store = MemoryStore::default();
    let manager = account(&store, Role::Manager).await;
    let rng = &mut StdRng::seed_from_u64(1);
    let refused = app::create_task(&store, &new_task("Fix"), &by(manager, None), rng).await;
    assert!(matches!(refused, Err(TaskError::NobodyAssignable)));
    assert!(store.published().is_empty());
    assert_eq!(store.open_tasks().await.unwrap(), 0);
}

#[tokio::test]
async fn a_deactivated_or_demoted_account_gets_no_new_tasks() {
    let store = MemoryStore::default();
    let manager = account(&store, Role::Manager).await;
    let (leaving, promoted) = (
        account(&store, Role::Worker).await,
        account(&store, Role::Worker).await,
    );
    let staying = account(&store, Role::Worker).await;
    app::sync_account(&store, &account_event(leaving, Role::Worker, false, 2))
        .await
        .unwrap();
    app::sync_account(&store, &account_event(promoted, Role::Manager, true, 2))
        .await
        .unwrap();
    for i in 0..20 {
        assert_eq!(
            create(&store, manager, &format!("T{i}")).await.assignee_id,
            staying
        );
    }
}

#[tokio::test]
async fn a_deactivated_accounts_live_token_neither_completes_nor_lists_nor_creates() {
    let store = MemoryStore::default();
    let manager = account(&store, Role::Manager).await;
    let worker = account(&store, Role::Worker).await;
    let task = create(&store, manager, "Fix").await;
    assert_eq!(task.assignee_id, worker);
    app::sync_account(&store, &account_event(worker, Role::Worker, false, 2))
        .await
        .unwrap();
    let gone = |answer: Result<(), TaskError>| {
        matches!(
            answer,
            Err(TaskError::Failed(Failure::Refused(Refused::Deactivated)))
        )
    };
    let completed = app::complete_task(&store, task.task_id, &by(worker, None)).await;
    assert!(gone(completed.map(drop)));
    let mine = app::my_tasks(&store, &token(worker), Status::Open, 10, None).await;
    assert!(gone(mine.map(drop)));
    let rng = &mut StdRng::seed_from_u64(3);
    let created = app::create_task(&store, &new_task("Mine"), &by(worker, None), rng).await;
    assert!(gone(created.map(drop)));
    assert_eq!(
        store.task(task.task_id).await.unwrap().unwrap().status,
        Status::Open,
        "nothing was written"
    );
}

#[tokio::test]
async fn account_events_apply_once_and_never_move_a_copy_backwards() {
    let store = MemoryStore::default();
    let worker = Uuid::now_v7();
    let deactivated = account_event(worker, Role::Worker, false, 2);
    let created = account_event(worker, Role::Worker, true, 1);
    assert_eq!(
        app::sync_account(&store, &deactivated).await.unwrap(),
        Outcome::Applied
    );
    assert_eq!(
        app::sync_account(&store, &deactivated).await.unwrap(),
        Outcome::Duplicate
    );
    assert_eq!(
        app::sync_account(&store, &created).await.unwrap(),
        Outcome::Superseded,
        "the older revision arrived late"
    );
    assert_eq!(store.pool_size().await.unwrap(), 0);
}

#[tokio::test]
async fn a_retried_create_with_the_same_key_creates_one_task_and_another_request_under_it_is_refused(
) {
    let store = MemoryStore::default();
    let manager = account(&store, Role::Manager).await;
    account(&store, Role::Worker).await;
    let rng = &mut StdRng::seed_from_u64(3);
    let first = app::create_task(&store, &new_task("Once"), &by(manager, Some("k-1")), rng).await;
    let Ok(Answer::Fresh(task)) = first else {
        panic!("{first:?}")
    };
    let again = app::create_task(&store, &new_task("Once"), &by(manager, Some("k-1")), rng).await;
    let Ok(Answer::Replayed(replay)) = again else {
        panic!("{again:?}")
    };
    assert_eq!(serde_json::from_str::<Task>(&replay.body).unwrap(), task);
    let other = app::create_task(&store, &new_task("Other"), &by(manager, Some("k-1")), rng).await;
    assert!(matches!(other, Err(TaskError::Failed(Failure::KeyReused))));
    assert_eq!(store.open_tasks().await.unwrap(), 1);
}

#[tokio::test]
async fn only_the_assignee_completes_and_a_done_task_stays_done() {
    let store = MemoryStore::default();
    let manager = account(&store, Role::Manager).await;
    let worker = account(&store, Role::Worker).await;
    let task = create(&store, manager, "Fix the nest").await;
    let stranger = app::complete_task(&store, task.task_id, &by(manager, None)).await;
    assert!(matches!(stranger, Err(TaskError::NotYours)));
    let done = app::complete_task(&store, task.task_id, &by(worker, None)).await;
    assert!(matches!(
        done,
        Ok(Answer::Fresh(Task {
            status: Status::Done,
            ..
        }))
    ));
    let twice = app::complete_task(&store, task.task_id, &by(worker, None)).await;
    assert!(matches!(twice, Err(TaskError::AlreadyDone)));
    let unknown = app::complete_task(&store, Uuid::now_v7(), &by(worker, None)).await;
    assert!(matches!(unknown, Err(TaskError::UnknownTask)));
    assert_eq!(
        names(&store)
            .iter()
            .filter(|n| *n == "Task.Completed")
            .count(),
        1
    );
}

#[tokio::test]
async fn a_repeated_keyed_completion_gets_the_first_answer_not_a_conflict() {
    let store = MemoryStore::default();
    let manager = account(&store, Role::Manager).await;
    let worker = account(&store, Role::Worker).await;
    let task = create(&store, manager, "Fix").await;
    let request = by(worker, Some("done-1"));
    assert!(matches!(
        app::complete_task(&store, task.task_id, &request).await,
        Ok(Answer::Fresh(_))
    ));
    assert!(matches!(
        app::complete_task(&store, task.task_id, &request).await,
        Ok(Answer::Replayed(_))
    ));
    assert_eq!(
        names(&store)
            .iter()
            .filter(|n| *n == "Task.Completed")
            .count(),
        1
    );
}

/// Runs every queued shuffle page (each delivered twice, as SQS may) until none is left.
async fn drive_shuffle(store: &MemoryStore) -> usize {
    let rng = &mut StdRng::seed_from_u64(11);
    let mut done = 0;
    while done < store.work().len() {
        let page = store.work()[done].clone();
        let first = app::shuffle_page(store, &page, rng).await.unwrap();
        assert!(matches!(first, PageOutcome::Reassigned(_)));
        assert_eq!(
            app::shuffle_page(store, &page, rng).await.unwrap(),
            PageOutcome::Duplicate
        );
        done += 1;
    }
    done
}

#[tokio::test]
async fn a_shuffle_reassigns_every_open_task_once_page_by_page_and_leaves_done_tasks_alone() {
    let store = MemoryStore::default();
    let manager = account(&store, Role::Manager).await;
    let worker = account(&store, Role::Worker).await;
    for _ in 0..4 {
        account(&store, Role::Worker).await;
    }
    let mut tasks = Vec::new();
    for i in 0..1000 {
        tasks.push(create(&store, manager, &format!("T{i}")).await);
    }
    let mut done = 0;
    for task in tasks.iter().filter(|t| t.assignee_id == worker).take(10) {
        app::complete_task(&store, task.task_id, &by(task.assignee_id, None))
            .await
            .unwrap();
        done += 1;
    }
    let before = store.published().len();
    let shuffle = app::start_shuffle(&store, &by(manager, None))
        .await
        .unwrap();
    assert_eq!(shuffle.total, 1000 - done);
    let pages = drive_shuffle(&store).await;
    assert!(
        pages > 16,
        "some shard took more than one page ({pages} pages)"
    );
    let progress = app::shuffle_progress(&store, &token(manager), shuffle.shuffle_id)
        .await
        .unwrap();
    assert_eq!(
        (progress.reassigned, progress.status()),
        (1000 - done, "completed")
    );
    let assigned = store.published()[before..]
        .iter()
        .filter(|e| e.name == "Task.Assigned")
        .count() as u64;
    assert_eq!(assigned, 1000 - done, "one Task.Assigned per open task");
    for task in &tasks {
        let now = store.task(task.task_id).await.unwrap().unwrap();
        match now.status {
            Status::Open => assert_eq!(now.last_shuffle_id, Some(shuffle.shuffle_id)),
            Status::Done => assert_eq!(now.last_shuffle_id, None),
        }
    }
}

#[tokio::test]
async fn the_shuffle_is_refused_with_nobody_to_assign_to() {
    let store = MemoryStore::default();
    let manager = account(&store, Role::Manager).await;
    let refused = app::start_shuffle(&store, &by(manager, None)).await;
    assert!(matches!(refused, Err(TaskError::NobodyAssignable)));
    assert!(store.work().is_empty());
}

#[tokio::test]
async fn only_managers_and_admins_may_see_every_task_and_shuffle() {
    let store = MemoryStore::default();
    let manager = account(&store, Role::Manager).await;
    let admin = account(&store, Role::Admin).await;
    account(&store, Role::Worker).await;
    let task = create(&store, manager, "Fix").await;
    for role in [Role::Worker, Role::Accountant] {
        let id = account(&store, role).await;
        let refused = |answer: Result<(), TaskError>| matches!(answer, Err(TaskError::Failed(Failure::Refused(Refused::NotAllowed(n)))) if n == NotAllowed { role });
        let all = app::all_tasks(&store, &token(id), &TaskFilter::default(), 10, None).await;
        assert!(refused(all.map(drop)));
        let shuffle = app::start_shuffle(&store, &by(id, None)).await;
        assert!(refused(shuffle.map(drop)));
        let progress = app::shuffle_progress(&store, &token(id), Uuid::now_v7()).await;
        assert!(refused(progress.map(drop)));
        let as_manager = Claims {
            account_id: id,
            role: Role::Manager,
        };
        assert!(
            refused(
                app::all_tasks(&store, &as_manager, &TaskFilter::default(), 10, None)
                    .await
                    .map(drop)
            ),
            "the account's role counts, not the token's"
        );
    }
    assert!(store.work().is_empty(), "no shuffle started");
    for (id, role) in [(manager, Role::Manager), (admin, Role::Admin)] {
        let all = app::all_tasks(&store, &token(id), &TaskFilter::default(), 10, None)
            .await
            .unwrap();
        let ids: Vec<Uuid> = all.items.iter().map(|t| t.task.task_id).collect();
        assert_eq!(ids, [task.task_id], "{role} sees every task");
        assert_eq!(
            all.items[0].assignee_name.as_deref(),
            Some("Popug"),
            "by name"
        );
    }
}

#[tokio::test]
async fn a_page_of_an_unknown_shuffle_is_poison() {
    let store = MemoryStore::default();
    let page = ates_kernel::job::Page::first_pages(Uuid::now_v7(), 1, "c").remove(0);
    assert!(matches!(
        app::shuffle_page_work(&store, page).await,
        Err(ConsumeError::Poison(_))
    ));
}

#[tokio::test]
async fn the_events_of_one_task_carry_its_version_so_a_consumer_can_order_them() {
    let store = MemoryStore::default();
    let manager = account(&store, Role::Manager).await;
    account(&store, Role::Worker).await;
    let task = create(&store, manager, "Fix").await;
    app::start_shuffle(&store, &by(manager, None))
        .await
        .unwrap();
    drive_shuffle(&store).await;
    let moved = store.task(task.task_id).await.unwrap().unwrap();
    app::complete_task(&store, task.task_id, &by(moved.assignee_id, None))
        .await
        .unwrap();
    let versions: Vec<(String, u32, u64)> = store
        .published()
        .into_iter()
        .map(|e| (e.name, e.version, e.data["version"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        versions,
        [
            ("Task.Created".to_owned(), 3, 1),
            ("Task.Assigned".to_owned(), 2, 1),
            ("Task.Assigned".to_owned(), 2, 2),
            ("Task.Completed".to_owned(), 2, 3),
        ]
    );
}

#[tokio::test]
async fn legacy_titles_are_split_into_title_and_jira_id_once() {
    let store = MemoryStore::default();
    let manager = account(&store, Role::Manager).await;
    account(&store, Role::Worker).await;
    let modern = create(&store, manager, "Modern").await;
    // A task the first tracker stored, with the jira id in its title.
    let legacy = Task {
        task_id: Uuid::now_v7(),
        title: "[UBERPOP-7] Feed the parrots".into(),
        ..modern.clone()
    };
    store
        .create_task(&legacy, &[], None, Utc::now())
        .await
        .unwrap();
    let run = app::MigrationRun::default();
    let page = app::migrate_legacy_titles(&store, &run).await.unwrap();
    assert_eq!((page.migrated, page.cursor), (1, None));
    let fixed = store.task(legacy.task_id).await.unwrap().unwrap();
    assert_eq!(
        (fixed.title.as_str(), fixed.jira_id.as_deref()),
        ("Feed the parrots", Some("UBERPOP-7"))
    );
    let again = app::migrate_legacy_titles(&store, &run).await.unwrap();
    assert_eq!(again.migrated, 0, "safe to run twice");
    assert_eq!(
        store.task(modern.task_id).await.unwrap().unwrap().title,
        "Modern"
    );
}

/// T3, #25: an account that can no longer take tasks does not keep them until the next shuffle.
/// Its open tasks (more than a page of them) go to random accounts that take tasks, each once
/// with its `Task.Assigned` (accounting charges the new assignee the fee from it), however often
/// the account event arrives; its done tasks stay as they were.
#[tokio::test]
async fn a_deactivated_accounts_open_tasks_are_released_once_to_accounts_that_take_tasks() {
    let store = MemoryStore::default();
    let manager = account(&store, Role::Manager).await;
    let leaver = account(&store, Role::Worker).await;
    let mut stayers = Vec::new();
    for _ in 0..2 {
        stayers.push(account(&store, Role::Worker).await);
    }
    for i in 0..200 {
        create(&store, manager, &format!("T{i}")).await;
    }
    let theirs: Vec<Task> = store
        .tasks()
        .into_iter()
        .filter(|t| t.assignee_id == leaver)
        .collect();
    assert!(theirs.len() > 45, "more than a page: {}", theirs.len());
    let finished = &theirs[0];
    app::complete_task(&store, finished.task_id, &by(leaver, None))
        .await
        .unwrap();
    let before = store.published().len();

    let gone = account_event(leaver, Role::Worker, false, 2);
    for event in [&gone, &gone, &account_event(leaver, Role::Worker, false, 2)] {
        app::on_account_event(&store, event, Utc::now())
            .await
            .unwrap();
    }
    assert_eq!(
        store.work().len(),
        1,
        "one release, however often the event arrives"
    );
    let release = store.work()[0].job_id;
    // Each page delivered twice, as SQS may. A release's page read again finds the account's
    // remaining tasks (its own left the account): it may take the next page's and end the
    // release, and that page then finds it ended.
    let rng = &mut StdRng::seed_from_u64(11);
    let mut pages = 0;
    while pages < store.work().len() {
        let page = store.work()[pages].clone();
        for _ in 0..2 {
            app::shuffle_page(&store, &page, rng).await.unwrap();
        }
        pages += 1;
    }
    assert!(pages > 1, "page by page");

    let progress = app::shuffle_progress(&store, &token(manager), release)
        .await
        .unwrap();
    assert_eq!(
        (progress.released, progress.status()),
        (Some(leaver), "completed")
    );
    assert_eq!(progress.reassigned, theirs.len() as u64 - 1);
    let assigned: Vec<_> = store.published()[before..]
        .iter()
        .filter(|e| e.name == "Task.Assigned")
        .map(|e| e.data["task_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(assigned.len(), theirs.len() - 1, "each open task once");
    for task in &theirs[1..] {
        let now = store.task(task.task_id).await.unwrap().unwrap();
        assert!(stayers.contains(&now.assignee_id), "{now:?}");
        assert_eq!(now.last_shuffle_id, Some(release));
        assert!(assigned.contains(&task.task_id.to_string()));
    }
    let done = store.task(finished.task_id).await.unwrap().unwrap();
    assert_eq!((done.status, done.assignee_id), (Status::Done, leaver));

    // A manager made admin holds no tasks: nothing to release.
    let work = store.work().len();
    app::on_account_event(
        &store,
        &account_event(manager, Role::Admin, true, 2),
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(store.work().len(), work);
}
