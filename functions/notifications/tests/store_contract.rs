//! The contract of [`NotificationStore`] (and the kernel's [`KeepsAccountCopies`] it extends):
//! what the use cases rely on, asserted through the port alone. Every contract runs on the
//! in-memory store the use-case tests use (`memory::…`) and on the DynamoDB store over a fresh
//! table of one emulator shared by this binary (`dynamo::…`).

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, Weak};

use ates_kernel::contracts::accounts::AccountSnapshot;
use ates_kernel::dynamo::Table;
use ates_kernel::identity::Role;
use ates_kernel::inbox::Outcome;
use ates_kernel::testing::{self, at, date, Emulator};
use ates_notifications::error::NotificationError;
use ates_notifications::message::{Addressed, Kind, Message, Status};
use ates_notifications::ports::{Listing, NotificationStore};
use ates_notifications::store::Store;
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

/// The emulator this binary's DynamoDB contracts share: started by the first that needs it,
/// stopped when the last one holding it ends.
static EMULATOR: Mutex<Weak<Emulator>> = Mutex::new(Weak::new());

/// A DynamoDB store on a fresh table, and the emulator it lives in (keep it while testing).
async fn dynamo() -> (Store, Arc<Emulator>) {
    let emulator = {
        let mut shared = EMULATOR.lock().unwrap_or_else(|e| e.into_inner());
        shared.upgrade().unwrap_or_else(|| {
            let started = Arc::new(Emulator::start());
            *shared = Arc::downgrade(&started);
            started
        })
    };
    let config = emulator.sdk_config().await;
    let name = format!("Notifications{}", Uuid::new_v4().simple());
    emulator.create_table(&config, &name).await;
    (Store::new(Table::new(&config, name)), emulator)
}

/// Each contract, as a test on either store.
macro_rules! contracts {
    ($($contract:ident),* $(,)?) => {
        mod memory {
            $(#[tokio::test]
            async fn $contract() {
                super::$contract(&ates_notifications::memory::MemoryStore::default()).await;
            })*
        }
        mod dynamo {
            $(#[tokio::test]
            async fn $contract() {
                let (store, _emulator) = super::dynamo().await;
                super::$contract(&store).await;
            })*
        }
    };
}

contracts!(
    a_new_message_is_written_once,
    a_message_changes_only_from_the_version_read,
    an_accounts_messages_are_listed_newest_first_and_paged,
    every_message_is_listed_once_across_pages,
    account_copies_move_only_forward,
);

fn now() -> DateTime<Utc> {
    at("2026-11-21T10:00:00.123456Z")
}

fn message(id: &str, account: Uuid, created_at: DateTime<Utc>) -> Message {
    let what = Addressed {
        message_id: id,
        account_id: account,
        to: "kiwi@popug.test",
        subject: "Your statement",
        kind: Kind::DailyStatement,
        business_date: date("2026-11-20"),
    };
    Message::first(&what, created_at)
}

async fn save_new<S: NotificationStore>(store: &S, message: &Message) {
    assert!(
        store.save_message(message, None).await.unwrap(),
        "{message:?} written"
    );
}

/// Every page of a listing, `limit` at a time. A page may be short (a scan filters after it
/// reads) but never longer than its limit.
async fn every_page<F, Fut>(limit: usize, mut list: F) -> Vec<Message>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<Listing, NotificationError>>,
{
    let (mut all, mut cursor) = (Vec::new(), None);
    for _ in 0..100 {
        let page = list(cursor.take()).await.expect("a page");
        assert!(page.items.len() <= limit, "a page holds at most its limit");
        all.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return all,
        }
    }
    panic!("a listing that does not end");
}

fn ids(messages: &[Message]) -> Vec<&str> {
    messages.iter().map(|m| m.message_id.as_str()).collect()
}

async fn a_new_message_is_written_once<S: NotificationStore>(store: &S) {
    let kiwi = Uuid::now_v7();
    let first = message("statement:1", kiwi, now());
    assert_eq!(store.message("statement:1").await.unwrap(), None);
    save_new(store, &first).await;
    assert_eq!(
        store.message("statement:1").await.unwrap(),
        Some(first.clone())
    );
    // Another delivery of the same request, that read nothing.
    let again = Message {
        subject: "Another".into(),
        ..message("statement:1", kiwi, now() + Duration::seconds(1))
    };
    assert!(!store.save_message(&again, None).await.unwrap());
    assert_eq!(store.message("statement:1").await.unwrap(), Some(first));
}

async fn a_message_changes_only_from_the_version_read<S: NotificationStore>(store: &S) {
    let first = message("statement:2", Uuid::now_v7(), now());
    save_new(store, &first).await;
    let failed = first.failed("throttled", false);
    assert!(store.save_message(&failed, Some(&first)).await.unwrap());
    assert_eq!(
        store.message("statement:2").await.unwrap(),
        Some(failed.clone())
    );
    assert_eq!(failed.status, Status::Retrying);

    // A second writer that read the first version.
    let sent = first.sent(now());
    assert!(!store.save_message(&sent, Some(&first)).await.unwrap());
    assert_eq!(
        store.message("statement:2").await.unwrap(),
        Some(failed.clone())
    );
    let sent = failed.sent(now() + Duration::seconds(3));
    assert!(store.save_message(&sent, Some(&failed)).await.unwrap());
    assert_eq!(store.message("statement:2").await.unwrap(), Some(sent));

    // A message that was never written cannot change.
    let ghost = message("statement:ghost", Uuid::now_v7(), now());
    assert!(!store
        .save_message(&ghost.sent(now()), Some(&ghost))
        .await
        .unwrap());
    assert_eq!(store.message("statement:ghost").await.unwrap(), None);
}

async fn an_accounts_messages_are_listed_newest_first_and_paged<S: NotificationStore>(store: &S) {
    let (kiwi, mango) = (Uuid::now_v7(), Uuid::now_v7());
    let mut kiwis = Vec::new();
    let at = |seconds: i64, nanos: i64| {
        now() + Duration::seconds(seconds) + Duration::nanoseconds(nanos)
    };
    for (id, created) in [
        ("statement:c", at(3, 0)),
        ("statement:a", at(1, 0)),
        ("statement:e", at(9, 0)),
        // Two in the same instant: the greater id first.
        ("statement:b", at(5, 0)),
        ("statement:d", at(5, 0)),
        // Two in the same microsecond, nanoseconds apart.
        ("statement:z", at(7, 100)),
        ("statement:y", at(7, 900)),
    ] {
        let m = message(id, kiwi, created);
        save_new(store, &m).await;
        kiwis.push(m);
    }
    save_new(store, &message("statement:m", mango, at(4, 0))).await;
    let newest_first = [
        "statement:e",
        "statement:z",
        "statement:y",
        "statement:d",
        "statement:b",
        "statement:c",
        "statement:a",
    ];
    for limit in [1, 2, 3, 50] {
        let listed = every_page(limit, |cursor| async move {
            store.messages_to(kiwi, limit, cursor.as_deref()).await
        })
        .await;
        assert_eq!(ids(&listed), newest_first, "newest first, by {limit}");
        for m in &listed {
            assert!(kiwis.contains(m), "{m:?} as written");
        }
    }
    let first = store.messages_to(kiwi, 2, None).await.unwrap();
    assert!(first.next_cursor.is_some(), "a partial listing says so");
    let nobody = store.messages_to(Uuid::now_v7(), 5, None).await.unwrap();
    assert!(nobody.items.is_empty() && nobody.next_cursor.is_none());
    let forged = store.messages_to(kiwi, 2, Some("not-a-cursor")).await;
    assert!(
        matches!(forged, Err(NotificationError::BadCursor)),
        "{forged:?}"
    );
}

async fn every_message_is_listed_once_across_pages<S: NotificationStore>(store: &S) {
    let mut all = Vec::new();
    for i in 0..7 {
        let m = message(&format!("statement:{i}"), Uuid::now_v7(), now());
        save_new(store, &m).await;
        all.push(m);
    }
    for limit in [1, 3, 100] {
        let listed = every_page(limit, |cursor| async move {
            store.all_messages(limit, cursor.as_deref()).await
        })
        .await;
        assert_eq!(listed.len(), all.len(), "each once, by {limit}");
        let listed: BTreeSet<&str> = ids(&listed).into_iter().collect();
        assert_eq!(listed, ids(&all).into_iter().collect());
    }
    let forged = store.all_messages(2, Some("not-a-cursor")).await;
    assert!(
        matches!(forged, Err(NotificationError::BadCursor)),
        "{forged:?}"
    );
}

async fn account_copies_move_only_forward<S: NotificationStore>(store: &S) {
    let kiwi = Uuid::now_v7();
    let snapshot = |active: bool, revision: u64| AccountSnapshot {
        account_id: kiwi,
        active,
        revision,
        ..testing::account("Kiwi", Role::Worker)
    };
    assert_eq!(store.account_copy(kiwi).await.unwrap(), None);
    let first = snapshot(true, 1);
    let event = testing::account_event(&first);
    assert_eq!(
        store.save_account(&first, &event).await.unwrap(),
        Outcome::Applied
    );
    assert_eq!(
        store.save_account(&first, &event).await.unwrap(),
        Outcome::Duplicate
    );
    assert_eq!(store.account_copy(kiwi).await.unwrap(), Some(first));
    let later = snapshot(false, 3);
    let saved = store
        .save_account(&later, &testing::account_event(&later))
        .await;
    assert_eq!(saved.unwrap(), Outcome::Applied);
    for stale in [snapshot(true, 2), snapshot(true, 3)] {
        let saved = store
            .save_account(&stale, &testing::account_event(&stale))
            .await;
        assert_eq!(saved.unwrap(), Outcome::Superseded, "{stale:?}");
    }
    assert_eq!(store.account_copy(kiwi).await.unwrap(), Some(later));
}
