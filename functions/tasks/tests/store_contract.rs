//! The contract of every port of the tasks table (`ports`: each contract names the ports it
//! asserts) and of the kernel ports beside them, [`KeepsAccountCopies`] and [`Replays`]: what the
//! use cases rely on, asserted through the ports alone. Every contract runs
//! on the in-memory store the use-case tests use (`memory::…`) and on the DynamoDB store over a
//! fresh table of one emulator shared by this binary (`dynamo::…`), so the one cannot drift from
//! the other unnoticed.

use ates_kernel::usecase::Failure;
use std::collections::BTreeSet;

use ates_kernel::contracts::accounts::AccountSnapshot;
use ates_kernel::copies::{AccountCopies, KeepsAccountCopies};
use ates_kernel::event::Envelope;
use ates_kernel::idempotency::{IdempotencyKey, Replay};
use ates_kernel::identity::Role;
use ates_kernel::inbox::Outcome;
use ates_kernel::job::{Cursor, Page};
use ates_kernel::testing::{self, at, every_page};
use ates_kernel::usecase::Keyed;
use ates_kernel::usecase::Replays;
use ates_tasks::error::TaskError;
use ates_tasks::pool::{self, PoolChange};
use ates_tasks::ports::{
    AssignablePool, PageSaved, PoolMembership, Saved, ShufflePages, Shuffles, TaskCompletion,
    TaskCreation, TaskFilter, TaskListings, TitleMigration,
};
use ates_tasks::shuffle::{Shuffle, PAGE_SIZE};
use ates_tasks::task::{shard_of, Status, Task, SHARDS};
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

ates_kernel::store_contracts!(
    ates_tasks::memory::MemoryStore::default(),
    ates_tasks::store::Store::new,
    "Tasks";
    a_new_task_reads_back_and_counts_as_open,
    a_task_id_taken_writes_nothing,
    a_used_idempotency_key_writes_nothing_and_keeps_the_first_answer,
    a_completion_writes_once_and_a_stale_one_writes_nothing,
    an_assignees_tasks_are_listed_by_status_newest_first_and_paged,
    every_task_is_listed_once_newest_first_by_status_and_by_assignee,
    a_shards_open_tasks_are_paged_in_order_of_id,
    a_shuffle_reads_back_and_each_page_commits_once,
    a_release_reads_its_accounts_open_tasks_and_starts_once,
    a_stale_or_unknown_shuffle_page_writes_nothing,
    tasks_without_a_jira_id_are_found_and_retitled_once,
    account_copies_move_only_forward,
    the_pool_keeps_its_members_in_slots_without_a_gap,
);

// ---------------------------------------------------------------------------------------------
// Test data.

fn now() -> DateTime<Utc> {
    at("2026-11-21T10:00:00.123456Z")
}

/// An open task of `assignee`, created at `created_at`.
fn task(assignee: Uuid, title: &str, created_at: DateTime<Utc>) -> Task {
    Task {
        task_id: Uuid::now_v7(),
        title: title.into(),
        jira_id: None,
        description: "a description".into(),
        status: Status::Open,
        assignee_id: assignee,
        created_by: Uuid::from_u128(1),
        created_at,
        completed_at: None,
        version: 1,
        last_shuffle_id: None,
    }
}

/// A task whose id puts it in `shard`.
fn in_shard(shard: u32, assignee: Uuid) -> Task {
    let shards = u128::from(SHARDS);
    let base = Uuid::now_v7().as_u128() / shards * shards;
    let task = Task {
        task_id: Uuid::from_u128(base + u128::from(shard)),
        ..task(assignee, "sharded", now())
    };
    assert_eq!(shard_of(task.task_id), shard);
    task
}

fn created(task: &Task) -> Envelope {
    testing::event("tasks", &task.created(), task.created_at)
}

async fn create<S: TaskCreation>(store: &S, task: &Task) {
    let saved = store.create_task(task, &[created(task)], None, now()).await;
    assert_eq!(saved.unwrap(), Saved::Done, "{task:?} created");
}

/// `task` done by its assignee, and its event.
fn done(task: &Task) -> (Task, Envelope) {
    let (done, completed) = task.complete(task.assignee_id, now()).unwrap();
    (done, testing::event("tasks", &completed, now()))
}

async fn complete<S: TaskCompletion>(store: &S, task: &Task) -> Task {
    let (done, event) = done(task);
    let saved = store.complete_task(task, &done, &event, None, now()).await;
    assert_eq!(saved.unwrap(), Saved::Done);
    done
}

fn keyed(caller: Uuid, key: &str, fingerprint: &str) -> Keyed {
    Keyed {
        key: IdempotencyKey::new(&caller.to_string(), key).unwrap(),
        fingerprint: fingerprint.into(),
    }
}

fn ids(tasks: &[Task]) -> Vec<Uuid> {
    tasks.iter().map(|t| t.task_id).collect()
}

fn id_set(tasks: &[Task]) -> BTreeSet<Uuid> {
    tasks.iter().map(|t| t.task_id).collect()
}

fn snapshot(role: Role, active: bool, revision: u64, id: Uuid) -> AccountSnapshot {
    AccountSnapshot {
        account_id: id,
        active,
        revision,
        ..testing::account("Popug", role)
    }
}

// ---------------------------------------------------------------------------------------------
// The contracts.

async fn a_new_task_reads_back_and_counts_as_open<
    S: ShufflePages + Shuffles + TaskCompletion + TaskCreation,
>(
    store: &S,
) {
    let assignee = Uuid::now_v7();
    let (first, second) = (
        task(assignee, "First", now()),
        task(assignee, "Second", now()),
    );
    assert_eq!(store.task(first.task_id).await.unwrap(), None);
    assert_eq!(store.open_tasks().await.unwrap(), 0);
    create(store, &first).await;
    create(store, &second).await;
    assert_eq!(
        store.task(first.task_id).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(store.open_tasks().await.unwrap(), 2);
    let unknown = Uuid::now_v7();
    let mut reloaded = store
        .reload(&[second.task_id, unknown, first.task_id])
        .await
        .unwrap();
    reloaded.sort_by_key(|t| t.task_id);
    assert_eq!(reloaded, vec![first, second], "unknown ids are left out");
    assert_eq!(store.reload(&[]).await.unwrap(), vec![]);
}

async fn a_task_id_taken_writes_nothing<S: Shuffles + TaskCompletion + TaskCreation>(store: &S) {
    let original = task(Uuid::now_v7(), "Original", now());
    create(store, &original).await;
    let impostor = Task {
        title: "Impostor".into(),
        ..original.clone()
    };
    let saved = store
        .create_task(&impostor, &[created(&impostor)], None, now())
        .await;
    assert_eq!(saved.unwrap(), Saved::Stale);
    assert_eq!(store.task(original.task_id).await.unwrap(), Some(original));
    assert_eq!(store.open_tasks().await.unwrap(), 1, "counted once");
}

async fn a_used_idempotency_key_writes_nothing_and_keeps_the_first_answer<
    S: Replays + Shuffles + TaskCompletion + TaskCreation,
>(
    store: &S,
) {
    let manager = Uuid::now_v7();
    let key = keyed(manager, "create-1", "create A");
    assert_eq!(store.replay(&key.key).await.unwrap(), None);
    let first = task(Uuid::now_v7(), "A", now());
    let saved = store
        .create_task(&first, &[created(&first)], Some((&key, "{\"a\":1}")), now())
        .await;
    assert_eq!(saved.unwrap(), Saved::Done);
    let answer = Replay {
        request: "create A".into(),
        body: "{\"a\":1}".into(),
    };
    assert_eq!(store.replay(&key.key).await.unwrap(), Some(answer.clone()));

    let again = task(Uuid::now_v7(), "B", now());
    let reused = keyed(manager, "create-1", "create B");
    let saved = store
        .create_task(&again, &[created(&again)], Some((&reused, "{}")), now())
        .await;
    assert_eq!(saved.unwrap(), Saved::KeyUsed);
    assert_eq!(store.task(again.task_id).await.unwrap(), None);
    assert_eq!(store.open_tasks().await.unwrap(), 1);

    let (finished, event) = done(&first);
    let saved = store
        .complete_task(&first, &finished, &event, Some((&reused, "{}")), now())
        .await;
    assert_eq!(saved.unwrap(), Saved::KeyUsed);
    assert_eq!(
        store.task(first.task_id).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(store.replay(&key.key).await.unwrap(), Some(answer));

    // Keys are per caller: another caller's same key is another key.
    let other = keyed(Uuid::now_v7(), "create-1", "complete");
    let saved = store
        .complete_task(&first, &finished, &event, Some((&other, "{}")), now())
        .await;
    assert_eq!(saved.unwrap(), Saved::Done);
    assert_eq!(
        store.replay(&other.key).await.unwrap().map(|r| r.request),
        Some("complete".into())
    );
}

async fn a_completion_writes_once_and_a_stale_one_writes_nothing<
    S: ShufflePages + Shuffles + TaskCompletion + TaskCreation,
>(
    store: &S,
) {
    let assignee = Uuid::now_v7();
    let open = task(assignee, "Open", now());
    create(store, &open).await;
    let finished = complete(store, &open).await;
    assert_eq!(
        store.task(open.task_id).await.unwrap(),
        Some(finished.clone())
    );
    assert_eq!(store.open_tasks().await.unwrap(), 0);

    // Completed again from the same read: the version moved on.
    let (again, event) = done(&open);
    let saved = store
        .complete_task(&open, &again, &event, None, now())
        .await;
    assert_eq!(saved.unwrap(), Saved::Stale);
    assert_eq!(store.open_tasks().await.unwrap(), 0, "counted once");

    // Read as another assignee's: stale, though the version matches.
    let other = task(assignee, "Other", now());
    create(store, &other).await;
    let misread = Task {
        assignee_id: Uuid::now_v7(),
        ..other.clone()
    };
    let (misdone, event) = done(&misread);
    let saved = store
        .complete_task(&misread, &misdone, &event, None, now())
        .await;
    assert_eq!(saved.unwrap(), Saved::Stale);
    assert_eq!(
        store.task(other.task_id).await.unwrap(),
        Some(other.clone())
    );

    // Moved by a shuffle meanwhile, back to the same assignee: only the version tells.
    let shuffle = Shuffle::request(Uuid::now_v7(), 1, now());
    store.start_shuffle(&shuffle, "corr").await.unwrap();
    let page = shuffle.first_pages("corr")[other.shard() as usize].clone();
    let (moved, events) = moves(std::slice::from_ref(&other), assignee, shuffle.shuffle_id);
    let saved = store
        .save_shuffle_page(&page, &moved, &events, None, now())
        .await;
    assert_eq!(saved.unwrap(), PageSaved::Done);
    let (from_old_read, event) = done(&other);
    let saved = store
        .complete_task(&other, &from_old_read, &event, None, now())
        .await;
    assert_eq!(saved.unwrap(), Saved::Stale);
    let other = moved[0].1.clone();
    assert_eq!(
        store.task(other.task_id).await.unwrap(),
        Some(other.clone())
    );

    // A task that is not there.
    let ghost = task(assignee, "Ghost", now());
    let (ghost_done, event) = done(&ghost);
    let saved = store
        .complete_task(&ghost, &ghost_done, &event, None, now())
        .await;
    assert_eq!(saved.unwrap(), Saved::Stale);
    assert_eq!(store.task(ghost.task_id).await.unwrap(), None);
    assert_eq!(store.open_tasks().await.unwrap(), 1);
}

async fn an_assignees_tasks_are_listed_by_status_newest_first_and_paged<
    S: TaskCompletion + TaskCreation + TaskListings,
>(
    store: &S,
) {
    let (kiwi, mango) = (Uuid::now_v7(), Uuid::now_v7());
    let mut kiwis = Vec::new();
    for minutes in [3, 1, 4, 1, 5, 9, 2] {
        let t = task(kiwi, "Kiwi's", now() + Duration::minutes(minutes));
        create(store, &t).await;
        kiwis.push(t);
    }
    create(store, &task(mango, "Mango's", now())).await;
    let mut done_ones = Vec::new();
    for t in [&kiwis[0], &kiwis[3]] {
        done_ones.push(complete(store, t).await);
    }
    let newest_first = |tasks: &mut Vec<Task>| {
        tasks.sort_by_key(|t| std::cmp::Reverse((t.created_at, t.task_id)));
    };
    let mut open: Vec<Task> = kiwis
        .iter()
        .filter(|t| !done_ones.iter().any(|d| d.task_id == t.task_id))
        .cloned()
        .collect();
    newest_first(&mut open);
    newest_first(&mut done_ones);

    for limit in [1, 2, 10] {
        let listed = every_page(limit, |cursor| async move {
            store
                .tasks_of(kiwi, Status::Open, limit, cursor.as_deref())
                .await
        })
        .await;
        assert_eq!(ids(&listed), ids(&open), "open, newest first, by {limit}");
    }
    let listed = every_page(1, |cursor| async move {
        store
            .tasks_of(kiwi, Status::Done, 1, cursor.as_deref())
            .await
    })
    .await;
    assert_eq!(listed, done_ones, "done, newest first, as stored");
    let first = store.tasks_of(kiwi, Status::Open, 2, None).await.unwrap();
    assert!(first.next_cursor.is_some(), "a partial listing says so");
    let nobody = store
        .tasks_of(Uuid::now_v7(), Status::Open, 5, None)
        .await
        .unwrap();
    assert!(nobody.items.is_empty() && nobody.next_cursor.is_none());
    let forged = store
        .tasks_of(kiwi, Status::Open, 2, Some("not-a-cursor"))
        .await;
    assert!(
        matches!(forged, Err(TaskError::Failed(Failure::BadCursor))),
        "{forged:?}: a cursor not given by the listing is the caller's mistake"
    );
}

async fn every_task_is_listed_once_newest_first_by_status_and_by_assignee<
    S: TaskCompletion + TaskCreation + TaskListings,
>(
    store: &S,
) {
    let kiwi = Uuid::now_v7();
    let mut all = Vec::new();
    for i in 0..7 {
        let who = if i % 2 == 0 { kiwi } else { Uuid::now_v7() };
        let t = task(who, &format!("Task {i}"), now() + Duration::seconds(i));
        create(store, &t).await;
        all.push(t);
    }
    all[2] = complete(store, &all[2]).await;
    all.reverse(); // newest first
    let listed = |filter: TaskFilter, limit: usize| async move {
        every_page(limit, |cursor| async move {
            store.all_tasks(&filter, limit, cursor.as_deref()).await
        })
        .await
    };
    let expect = |keep: &dyn Fn(&Task) -> bool| -> Vec<Task> {
        all.iter().filter(|t| keep(t)).cloned().collect()
    };
    for limit in [1, 3, 100] {
        assert_eq!(
            listed(TaskFilter::default(), limit).await,
            all,
            "each once, newest first, by {limit}"
        );
    }
    let open = TaskFilter {
        status: Some(Status::Open),
        assignee: None,
    };
    assert_eq!(listed(open, 2).await, expect(&|t| t.status == Status::Open));
    let done = TaskFilter {
        status: Some(Status::Done),
        assignee: None,
    };
    assert_eq!(listed(done, 2).await, expect(&|t| t.status == Status::Done));
    let kiwis = TaskFilter {
        status: None,
        assignee: Some(kiwi),
    };
    assert_eq!(
        listed(kiwis, 1).await,
        expect(&|t| t.assignee_id == kiwi),
        "open and done, newest first"
    );
    let kiwis_open = TaskFilter {
        status: Some(Status::Open),
        assignee: Some(kiwi),
    };
    assert_eq!(
        listed(kiwis_open, 2).await,
        expect(&|t| t.assignee_id == kiwi && t.status == Status::Open)
    );
    let forged = store
        .all_tasks(&TaskFilter::default(), 2, Some("not-a-cursor"))
        .await;
    assert!(
        matches!(forged, Err(TaskError::Failed(Failure::BadCursor))),
        "{forged:?}"
    );
}

async fn a_shards_open_tasks_are_paged_in_order_of_id<
    S: ShufflePages + TaskCompletion + TaskCreation,
>(
    store: &S,
) {
    let shard = 5;
    let mut open = Vec::new();
    for _ in 0..PAGE_SIZE + 3 {
        let t = in_shard(shard, Uuid::now_v7());
        create(store, &t).await;
        open.push(t);
    }
    let finished = in_shard(shard, Uuid::now_v7());
    create(store, &finished).await;
    complete(store, &finished).await;
    create(store, &in_shard((shard + 1) % SHARDS, Uuid::now_v7())).await;
    open.sort_by_key(|t| t.task_id);

    let (mut paged, mut cursor): (Vec<Task>, Option<Cursor>) = (Vec::new(), None);
    let mut pages = 0;
    loop {
        let (tasks, next) = store.open_tasks_page(shard, cursor.as_ref()).await.unwrap();
        pages += 1;
        assert!(tasks.len() <= PAGE_SIZE);
        paged.extend(tasks);
        match next {
            Some(next) => cursor = Some(next),
            None => break,
        }
        assert!(pages < 10, "the pages end");
    }
    assert_eq!(paged, open, "the shard's open tasks, each once, by id");
    assert!(pages >= 2);
    let (empty, next) = store.open_tasks_page(shard + 2, None).await.unwrap();
    assert!(empty.is_empty() && next.is_none());
}

/// A shuffle's page that moves `tasks` to `to`, with their events.
fn moves(tasks: &[Task], to: Uuid, shuffle: Uuid) -> (Vec<(Task, Task)>, Vec<Envelope>) {
    let moves: Vec<(Task, Task)> = tasks
        .iter()
        .map(|t| (t.clone(), t.reassign(to, shuffle).expect("open")))
        .collect();
    let events = moves
        .iter()
        .map(|(before, after)| {
            let assigned = after.assigned(Some(before.assignee_id), now());
            testing::event("tasks", &assigned, now())
        })
        .collect();
    (moves, events)
}

fn cursor_after(task: &Task) -> Cursor {
    Cursor::from([("task_id".to_owned(), task.task_id.to_string())])
}

async fn a_shuffle_reads_back_and_each_page_commits_once<
    S: ShufflePages + Shuffles + TaskCompletion + TaskCreation + TaskListings,
>(
    store: &S,
) {
    let (kiwi, mango) = (Uuid::now_v7(), Uuid::now_v7());
    let (a, b) = (in_shard(0, kiwi), in_shard(0, kiwi));
    create(store, &a).await;
    create(store, &b).await;
    let shuffle = Shuffle::request(Uuid::now_v7(), 2, now());
    assert_eq!(store.shuffle(shuffle.shuffle_id).await.unwrap(), None);
    store.start_shuffle(&shuffle, "corr-1").await.unwrap();
    assert_eq!(
        store.shuffle(shuffle.shuffle_id).await.unwrap(),
        Some(shuffle.clone())
    );
    assert_eq!(store.shuffle(Uuid::now_v7()).await.unwrap(), None);

    let first = shuffle.first_pages("corr-1")[0].clone();
    let second = first.next(cursor_after(&a));
    let (moved, events) = moves(std::slice::from_ref(&a), mango, shuffle.shuffle_id);
    let save = |page: Page, next: Option<Page>| {
        let (moved, events) = (&moved, &events);
        async move {
            let next = next.as_ref();
            store
                .save_shuffle_page(&page, moved, events, next, now())
                .await
        }
    };
    assert_eq!(
        save(first.clone(), Some(second.clone())).await.unwrap(),
        PageSaved::Done
    );
    let after = &moved[0].1;
    assert_eq!(store.task(a.task_id).await.unwrap(), Some(after.clone()));
    assert_eq!(store.task(b.task_id).await.unwrap(), Some(b.clone()));
    let progress = store.shuffle(shuffle.shuffle_id).await.unwrap().unwrap();
    assert_eq!((progress.reassigned, progress.shards_done), (1, 0));

    // The page delivered again: nothing more happens, though its moves are stale by now.
    assert_eq!(
        save(first.clone(), Some(second.clone())).await.unwrap(),
        PageSaved::Duplicate
    );
    // … even when its tasks read again end elsewhere: a page is known by its number.
    let elsewhere = first.next(cursor_after(&b));
    assert_eq!(
        save(first.clone(), Some(elsewhere)).await.unwrap(),
        PageSaved::Duplicate
    );
    assert_eq!(store.task(a.task_id).await.unwrap(), Some(after.clone()));

    // The shard's last page.
    let (moved, events) = moves(std::slice::from_ref(&b), mango, shuffle.shuffle_id);
    let last = || store.save_shuffle_page(&second, &moved, &events, None, now());
    assert_eq!(last().await.unwrap(), PageSaved::Done);
    let progress = store.shuffle(shuffle.shuffle_id).await.unwrap().unwrap();
    assert_eq!((progress.reassigned, progress.shards_done), (2, 1));
    assert_eq!(last().await.unwrap(), PageSaved::Duplicate);
    let progress = store.shuffle(shuffle.shuffle_id).await.unwrap().unwrap();
    assert_eq!((progress.reassigned, progress.shards_done), (2, 1));
    assert_eq!(
        store
            .tasks_of(mango, Status::Open, 10, None)
            .await
            .unwrap()
            .items
            .len(),
        2,
        "the moved tasks are listed under their new assignee"
    );
    assert!(store
        .tasks_of(kiwi, Status::Open, 10, None)
        .await
        .unwrap()
        .items
        .is_empty());
    assert_eq!(store.open_tasks().await.unwrap(), 2, "still open");
}

async fn a_release_reads_its_accounts_open_tasks_and_starts_once<
    S: ShufflePages + Shuffles + TaskCompletion + TaskCreation,
>(
    store: &S,
) {
    let (leaver, mango) = (Uuid::now_v7(), Uuid::now_v7());
    let yesterday = now() - Duration::days(1);
    let (a, b, c) = (
        task(leaver, "A", yesterday),
        task(leaver, "B", now()),
        task(leaver, "C", now()),
    );
    for t in [&a, &b, &c, &task(mango, "Not theirs", now())] {
        create(store, t).await;
    }
    complete(store, &c).await;
    assert_eq!(store.open_tasks_of(leaver).await.unwrap(), 2);
    let (page, next) = store.open_tasks_of_page(leaver, None).await.unwrap();
    assert_eq!(
        id_set(&page),
        id_set(&[a.clone(), b.clone()]),
        "open ones only"
    );
    assert_eq!(next, None, "less than a page");

    let release = Shuffle::release(leaver, 2, 2, now());
    assert!(store.start_shuffle(&release, "corr").await.unwrap());
    assert!(
        !store.start_shuffle(&release, "corr").await.unwrap(),
        "the same fact again starts nothing"
    );
    assert_eq!(
        store.shuffle(release.shuffle_id).await.unwrap(),
        Some(release.clone())
    );
    let first = release.first_pages("corr")[0].clone();
    let (moved, events) = moves(std::slice::from_ref(&a), mango, release.shuffle_id);
    let next = first.next(cursor_after(&a));
    let saved = store.save_shuffle_page(&first, &moved, &events, Some(&next), now());
    assert_eq!(saved.await.unwrap(), PageSaved::Done);
    assert_eq!(store.open_tasks_of(leaver).await.unwrap(), 1);
    let (page, _) = store.open_tasks_of_page(leaver, None).await.unwrap();
    assert_eq!(ids(&page), [b.task_id], "a moved task left the account");
}

async fn a_stale_or_unknown_shuffle_page_writes_nothing<
    S: ShufflePages + Shuffles + TaskCompletion + TaskCreation,
>(
    store: &S,
) {
    let (kiwi, mango) = (Uuid::now_v7(), Uuid::now_v7());
    let (fresh, changed) = (in_shard(3, kiwi), in_shard(3, kiwi));
    create(store, &fresh).await;
    create(store, &changed).await;
    let shuffle = Shuffle::request(Uuid::now_v7(), 2, now());
    store.start_shuffle(&shuffle, "corr-2").await.unwrap();
    let page = &shuffle.first_pages("corr-2")[3].clone();
    let next = page.next(cursor_after(&changed));

    // `changed` was completed after the page read it.
    complete(store, &changed).await;
    let (moved, events) = moves(&[fresh.clone(), changed.clone()], mango, shuffle.shuffle_id);
    let saved = store
        .save_shuffle_page(page, &moved, &events, Some(&next), now())
        .await;
    assert_eq!(saved.unwrap(), PageSaved::Stale(vec![changed.task_id]));
    assert_eq!(
        store.task(fresh.task_id).await.unwrap(),
        Some(fresh.clone())
    );
    let progress = store.shuffle(shuffle.shuffle_id).await.unwrap().unwrap();
    assert_eq!((progress.reassigned, progress.shards_done), (0, 0));

    // Read again, the page commits: the stale try left no next page behind.
    let (moved, events) = moves(std::slice::from_ref(&fresh), mango, shuffle.shuffle_id);
    let saved = store
        .save_shuffle_page(page, &moved, &events, Some(&next), now())
        .await;
    assert_eq!(saved.unwrap(), PageSaved::Done);
    let progress = store.shuffle(shuffle.shuffle_id).await.unwrap().unwrap();
    assert_eq!(progress.reassigned, 1);

    // A shuffle that was never started.
    let unknown = Shuffle::request(Uuid::now_v7(), 0, now());
    let page = &unknown.first_pages("corr-3")[0].clone();
    let saved = store.save_shuffle_page(page, &[], &[], None, now()).await;
    assert_eq!(saved.unwrap(), PageSaved::UnknownShuffle);
    assert_eq!(store.shuffle(unknown.shuffle_id).await.unwrap(), None);
    let saved = store
        .save_shuffle_page(
            page,
            &[],
            &[],
            Some(&page.next(cursor_after(&fresh))),
            now(),
        )
        .await;
    assert_eq!(saved.unwrap(), PageSaved::UnknownShuffle);
}

async fn tasks_without_a_jira_id_are_found_and_retitled_once<
    S: TaskCompletion + TaskCreation + TitleMigration,
>(
    store: &S,
) {
    let assignee = Uuid::now_v7();
    let legacy = task(assignee, "[UBERPOP-42] Fix the nest", now());
    let plain = task(assignee, "Feed the birds", now());
    let modern = Task {
        jira_id: Some("UBERPOP-7".into()),
        ..task(assignee, "Paint the fence", now())
    };
    for t in [&legacy, &plain, &modern] {
        // A legacy title makes no valid event any more; the store does not read events.
        let saved = store.create_task(t, &[], None, now()).await;
        assert_eq!(saved.unwrap(), Saved::Done);
    }
    let without = |limit: usize| {
        every_page(limit, move |cursor| async move {
            store.tasks_without_jira_id(limit, cursor.as_deref()).await
        })
    };
    for limit in [1, 2, 50] {
        let found = without(limit).await;
        assert_eq!(found.len(), 2, "each once, by {limit}");
        assert_eq!(id_set(&found), id_set(&[legacy.clone(), plain.clone()]));
    }

    assert!(store
        .retitle(&legacy, "Fix the nest", Some("UBERPOP-42"))
        .await
        .unwrap());
    let retitled = store.task(legacy.task_id).await.unwrap().unwrap();
    assert_eq!(
        (retitled.title.as_str(), retitled.jira_id.as_deref()),
        ("Fix the nest", Some("UBERPOP-42"))
    );
    assert_eq!(
        retitled,
        Task {
            title: "Fix the nest".into(),
            jira_id: Some("UBERPOP-42".into()),
            ..legacy.clone()
        },
        "nothing else changes"
    );
    // Retitled from the old read: the title is not the one read any more.
    assert!(!store
        .retitle(&legacy, "Something else", Some("UBERPOP-1"))
        .await
        .unwrap());
    assert_eq!(store.task(legacy.task_id).await.unwrap(), Some(retitled));
    // Without a jira id, only the title changes.
    assert!(store
        .retitle(&plain, "Feed the parrots", None)
        .await
        .unwrap());
    let plain_now = store.task(plain.task_id).await.unwrap().unwrap();
    assert_eq!(
        (plain_now.title.as_str(), plain_now.jira_id),
        ("Feed the parrots", None)
    );
    assert!(!store
        .retitle(&task(assignee, "Ghost", now()), "Ghost", None)
        .await
        .unwrap());
    let found = without(50).await;
    assert_eq!(ids(&found), vec![plain.task_id]);
}

async fn account_copies_move_only_forward<S: AccountCopies + KeepsAccountCopies>(store: &S) {
    let (kiwi, mango) = (Uuid::now_v7(), Uuid::now_v7());
    assert_eq!(store.account_copy(kiwi).await.unwrap(), None);
    let save = |account: AccountSnapshot| async move {
        let event = testing::account_event(&account);
        store.save_account(&account, &event).await.unwrap()
    };
    let first = snapshot(Role::Worker, true, 1, kiwi);
    let event = testing::account_event(&first);
    assert_eq!(
        store.save_account(&first, &event).await.unwrap(),
        Outcome::Applied
    );
    assert_eq!(
        store.save_account(&first, &event).await.unwrap(),
        Outcome::Duplicate,
        "the same event again"
    );
    assert_eq!(
        save(snapshot(Role::Accountant, true, 1, mango)).await,
        Outcome::Applied
    );
    assert_eq!(store.account_copy(kiwi).await.unwrap(), Some(first.clone()));

    let deactivated = snapshot(Role::Worker, false, 3, kiwi);
    assert_eq!(save(deactivated.clone()).await, Outcome::Applied);
    assert_eq!(
        save(snapshot(Role::Worker, true, 2, kiwi)).await,
        Outcome::Superseded,
        "an older revision arriving late"
    );
    assert_eq!(
        save(snapshot(Role::Worker, true, 3, kiwi)).await,
        Outcome::Superseded,
        "the same revision again, by another event"
    );
    assert_eq!(store.account_copy(kiwi).await.unwrap(), Some(deactivated));
}

/// Every member of the pool, by slot.
async fn members<S: AssignablePool>(store: &S) -> Vec<Uuid> {
    let size = store.pool_size().await.unwrap();
    let slots: Vec<u64> = (0..size).collect();
    let found = store.accounts_at(&slots).await.unwrap();
    assert_eq!(
        found.len() as u64,
        size,
        "every slot below the size is taken"
    );
    slots.iter().map(|slot| found[slot]).collect()
}

/// Brings `account`'s place in step with its copy at `revision`, as the use case does.
async fn keep<S: PoolMembership>(store: &S, account: Uuid, revision: u64, assignable: bool) {
    let place = store.place(account).await.unwrap();
    if let Some(change) = pool::change(account, revision, assignable, &place) {
        assert!(store.change_pool(&change).await.unwrap(), "{change:?}");
    }
}

async fn the_pool_keeps_its_members_in_slots_without_a_gap<
    S: AssignablePool + PoolMembership + KeepsAccountCopies,
>(
    store: &S,
) {
    let (kiwi, mango, boss) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    assert!(members(store).await.is_empty());
    assert_eq!(store.accounts_at(&[0]).await.unwrap().len(), 0);
    for account in [kiwi, mango, boss] {
        let copy = snapshot(Role::Worker, true, 1, account);
        store
            .save_account(&copy, &testing::account_event(&copy))
            .await
            .unwrap();
        keep(store, account, 1, true).await;
    }
    assert_eq!(members(store).await, vec![kiwi, mango, boss]);
    assert_eq!(store.place(mango).await.unwrap().slot, Some(1));

    // Decided on a pool or a copy that has changed since: refused, nothing written.
    let stale_size = PoolChange::Join {
        account: Uuid::now_v7(),
        revision: 1,
        size: 2,
    };
    assert!(!store.change_pool(&stale_size).await.unwrap());
    let old_copy = PoolChange::Leave {
        account: kiwi,
        revision: 7,
        slot: 0,
        size: 3,
        last: boss,
    };
    assert!(!store.change_pool(&old_copy).await.unwrap());
    let moved_meanwhile = PoolChange::Leave {
        account: kiwi,
        revision: 1,
        slot: 0,
        size: 3,
        last: mango,
    };
    assert!(!store.change_pool(&moved_meanwhile).await.unwrap());
    assert_eq!(members(store).await, vec![kiwi, mango, boss]);

    // The first leaves: the last member moves into its slot.
    keep(store, kiwi, 1, false).await;
    assert_eq!(members(store).await, vec![boss, mango]);
    assert_eq!(store.place(boss).await.unwrap().slot, Some(0));
    assert_eq!(store.place(kiwi).await.unwrap().slot, None);
    assert_eq!(
        store.accounts_at(&[2]).await.unwrap().len(),
        0,
        "past the size"
    );
    // The last leaves, and comes back.
    keep(store, mango, 1, false).await;
    assert_eq!(members(store).await, vec![boss]);
    keep(store, mango, 1, true).await;
    assert_eq!(members(store).await, vec![boss, mango]);
    let drawn = store.accounts_at(&[1, 1, 0]).await.unwrap();
    assert_eq!(drawn.len(), 2, "a slot drawn twice is read once");
    assert_eq!((drawn[&0], drawn[&1]), (boss, mango));
}
