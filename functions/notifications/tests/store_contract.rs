//! The contract of every port of the notifications table (`ports`: each contract names the ports
//! it asserts) and of the kernel's [`KeepsAccountCopies`] beside them:
//! what the use cases rely on, asserted through the port alone. Every contract runs on the
//! in-memory store the use-case tests use (`memory::…`) and on the DynamoDB store over a fresh
//! table of one emulator shared by this binary (`dynamo::…`).

use ates_kernel::usecase::Failure;

use ates_kernel::testing::{account_copies_move_only_forward, at, date, every_page};
use ates_notifications::error::NotificationError;
use ates_notifications::message::{Addressed, Claim, Kind, Message, Status};
use ates_notifications::ports::{MessageHistory, Messages, OrderClients};
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

ates_kernel::store_contracts!(
    ates_notifications::memory::MemoryStore::default(),
    ates_notifications::store::Store::new,
    "Notifications";
    a_new_message_is_written_once,
    a_message_changes_only_from_the_version_read,
    an_accounts_messages_are_listed_newest_first_and_paged,
    every_message_is_listed_once_newest_first_across_pages,
    a_message_to_an_applicant_is_kept_without_an_account,
    an_orders_client_is_kept_and_never_changes,
    the_messages_given_up_are_listed_latest_first_while_they_are,
    account_copies_move_only_forward,
);

fn now() -> DateTime<Utc> {
    at("2026-11-21T10:00:00.123456Z")
}

fn message(id: &str, account: Uuid, created_at: DateTime<Utc>) -> Message {
    let what = Addressed {
        message_id: id,
        account_id: Some(account),
        to: "kiwi@popug.test",
        subject: "Your statement",
        kind: Kind::DailyStatement,
        business_date: Some(date("2026-11-20")),
    };
    Message::first(&what, created_at)
}

async fn save_new<S: Messages>(store: &S, message: &Message) {
    assert!(
        store.save_message(message, None).await.unwrap(),
        "{message:?} written"
    );
}

fn ids(messages: &[Message]) -> Vec<&str> {
    messages.iter().map(|m| m.message_id.as_str()).collect()
}

async fn a_new_message_is_written_once<S: Messages>(store: &S) {
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

async fn a_message_changes_only_from_the_version_read<S: Messages>(store: &S) {
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

async fn an_accounts_messages_are_listed_newest_first_and_paged<S: MessageHistory + Messages>(
    store: &S,
) {
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
        matches!(forged, Err(NotificationError::Failed(Failure::BadCursor))),
        "{forged:?}"
    );
}

async fn every_message_is_listed_once_newest_first_across_pages<S: MessageHistory + Messages>(
    store: &S,
) {
    let mut all = Vec::new();
    for i in 0..7 {
        let m = message(
            &format!("statement:{i}"),
            Uuid::now_v7(),
            now() + Duration::seconds(i),
        );
        save_new(store, &m).await;
        all.push(m);
    }
    all.reverse();
    for limit in [1, 3, 100] {
        let listed = every_page(limit, |cursor| async move {
            store.all_messages(limit, cursor.as_deref()).await
        })
        .await;
        assert_eq!(
            ids(&listed),
            ids(&all),
            "each once, newest first, by {limit}"
        );
    }
    let forged = store.all_messages(2, Some("not-a-cursor")).await;
    assert!(
        matches!(forged, Err(NotificationError::Failed(Failure::BadCursor))),
        "{forged:?}"
    );
}

/// An applicant has no account: their message is kept and listed for admins, in no account's
/// history; a welcome names the account an acceptance creates, and is in that one's.
async fn a_message_to_an_applicant_is_kept_without_an_account<S: MessageHistory + Messages>(
    store: &S,
) {
    let received = Message::first(
        &Addressed {
            message_id: "application:1:received",
            account_id: None,
            to: "kea@popug.test",
            subject: "We received your application",
            kind: Kind::ApplicationReceived,
            business_date: None,
        },
        now(),
    );
    save_new(store, &received).await;
    let sent = received.sent(now());
    assert!(store.save_message(&sent, Some(&received)).await.unwrap());
    assert_eq!(
        store.message("application:1:received").await.unwrap(),
        Some(sent.clone())
    );
    let kea = Uuid::now_v7();
    let welcome = Message::first(
        &Addressed {
            message_id: "application:1:accepted",
            account_id: Some(kea),
            to: "kea@popug.test",
            subject: "Welcome",
            kind: Kind::ApplicationAccepted,
            business_date: None,
        },
        now() + Duration::seconds(1),
    );
    save_new(store, &welcome).await;

    let all = every_page(1, |cursor| async move {
        store.all_messages(1, cursor.as_deref()).await
    })
    .await;
    assert!(all.contains(&sent) && all.contains(&welcome), "{all:?}");
    let keas = store.messages_to(kea, 10, None).await.unwrap();
    assert_eq!(keas.items, [welcome], "only the welcome names the account");
    let nil = store.messages_to(Uuid::nil(), 10, None).await.unwrap();
    assert!(nil.items.is_empty(), "{nil:?}");
}

async fn an_orders_client_is_kept_and_never_changes<S: OrderClients>(store: &S) {
    let (order, mango) = (Uuid::now_v7(), Uuid::now_v7());
    assert_eq!(store.order_client(order).await.unwrap(), None);
    store.save_order_client(order, mango).await.unwrap();
    store.save_order_client(order, mango).await.unwrap();
    // An order's client never changes: a different one (a bug upstream) does not overwrite it.
    store
        .save_order_client(order, Uuid::now_v7())
        .await
        .unwrap();
    assert_eq!(store.order_client(order).await.unwrap(), Some(mango));
}

async fn the_messages_given_up_are_listed_latest_first_while_they_are<
    S: MessageHistory + Messages,
>(
    store: &S,
) {
    let kiwi = Uuid::now_v7();
    let mut failed = Vec::new();
    for (i, id) in ["parked:1", "parked:2", "parked:3"].into_iter().enumerate() {
        let first = message(id, kiwi, now() + Duration::seconds(i as i64));
        save_new(store, &first).await;
        let given_up = first.failed("MessageRejected", true);
        assert!(store.save_message(&given_up, Some(&first)).await.unwrap());
        failed.push(given_up);
    }
    save_new(store, &message("parked:sent", kiwi, now())).await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = store.parked_messages(2, cursor.as_deref()).await.unwrap();
        seen.extend(page.items.iter().map(|m| m.message_id.clone()));
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(seen, ["parked:3", "parked:2", "parked:1"]);
    // Redriven and sent: it leaves the list.
    let Claim::Send(again) = failed[1].claim(
        &Addressed {
            message_id: "parked:2",
            account_id: Some(kiwi),
            to: "kiwi@popug.test",
            subject: "Your statement",
            kind: Kind::DailyStatement,
            business_date: Some(date("2026-11-20")),
        },
        now() + Duration::minutes(5),
    ) else {
        panic!("a failed message may be sent again");
    };
    assert!(store.save_message(&again, Some(&failed[1])).await.unwrap());
    let sent = again.sent(now() + Duration::minutes(5));
    assert!(store.save_message(&sent, Some(&again)).await.unwrap());
    let left = store.parked_messages(10, None).await.unwrap();
    assert_eq!(ids(&left.items), ["parked:3", "parked:1"]);
}
