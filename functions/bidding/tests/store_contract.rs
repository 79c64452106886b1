//! The contract of every port of bidding's table (`ports`: each contract names the ports it
//! asserts) and of the kernel's `KeepsAccountCopies` beside them: what the use cases rely on,
//! asserted through the ports alone. Every contract runs on the in-memory store the use-case
//! tests use (`memory::…`) and on the DynamoDB store over a fresh table of one emulator shared
//! by this binary (`dynamo::…`).

use ates_bidding::bet::{Bet, Book, Ending, NewBet, Outcome};
use ates_bidding::ports::{Books, Learned, OrderFacts, Readings, Saved, StoredBook};
use ates_kernel::contracts::accounts::AccountUpdated;
use ates_kernel::event::Envelope;
use ates_kernel::idempotency::IdempotencyKey;
use ates_kernel::identity::Role;
use ates_kernel::testing::{account, account_copies_move_only_forward, at, date, event};
use ates_kernel::usecase::{Keyed, Replays};
use chrono::{DateTime, Utc};
use uuid::Uuid;

ates_kernel::store_contracts!(
    ates_bidding::memory::MemoryStore::default(),
    ates_bidding::store::Store::new,
    "Bidding";
    a_bet_is_placed_on_the_book_read_once_per_manager_and_its_key_keeps_its_answer,
    a_fact_is_learned_once_per_event_on_the_book_read,
    a_managers_orders_and_the_books_settled_in_a_range_are_listed,
    account_copies_move_only_forward,
);

fn now() -> DateTime<Utc> {
    at("2026-12-06T10:00:00.123456Z")
}

/// Some event to learn a fact by (its id is what the inbox keeps).
fn some_event() -> Envelope {
    event("auth", &AccountUpdated(account("Any", Role::Worker)), now())
}

/// A book of `order_id` that takes bets (created).
async fn open_book<S: OrderFacts>(store: &S, order_id: Uuid) -> StoredBook {
    let read = StoredBook::none(order_id);
    let after = read.book.created(now());
    let learned = store
        .learn("test", &some_event(), &read, &after, None, false)
        .await
        .unwrap();
    assert_eq!(learned, Learned::Applied);
    StoredBook {
        order_id,
        book: after,
        version: 1,
    }
}

fn place(read: &StoredBook, manager: Uuid, outcome: Outcome, cents: i64) -> (Book, Bet) {
    let valid = NewBet {
        order_id: read.order_id,
        outcome,
        stake_cents: cents,
    }
    .validate()
    .unwrap();
    read.book
        .place(manager, Uuid::now_v7(), valid, now())
        .unwrap()
}

async fn a_bet_is_placed_on_the_book_read_once_per_manager_and_its_key_keeps_its_answer<
    S: Books + OrderFacts + Replays,
>(
    store: &S,
) {
    let order = Uuid::now_v7();
    assert_eq!(store.book(order).await.unwrap(), None);
    let read = open_book(store, order).await;
    assert_eq!(store.book(order).await.unwrap().as_ref(), Some(&read));
    let (ann, bob) = (Uuid::now_v7(), Uuid::now_v7());
    let keyed = Keyed {
        key: IdempotencyKey::new(&ann.to_string(), "k1").unwrap(),
        fingerprint: "place-bet one".into(),
    };
    let (after, bet) = place(&read, ann, Outcome::Success, 500);
    let saved = store
        .place_bet(&read, &after, &bet, Some((&keyed, "{\"first\":1}")))
        .await
        .unwrap();
    assert_eq!(saved, Saved::Done);
    let stored = store.book(order).await.unwrap().unwrap();
    assert_eq!((stored.version, &stored.book), (2, &after));
    let replay = store.replay(&keyed.key).await.unwrap().unwrap();
    assert_eq!(
        (replay.request.as_str(), replay.body.as_str()),
        ("place-bet one", "{\"first\":1}")
    );
    // Bob on the book as it was before Ann's bet: the book moved meanwhile.
    let (lost, bobs) = place(&read, bob, Outcome::Failed, 300);
    assert_eq!(
        store.place_bet(&read, &lost, &bobs, None).await.unwrap(),
        Saved::Stale
    );
    // The same key again, on the book as it is now: the key has its answer.
    let (again, bobs) = place(&stored, bob, Outcome::Failed, 300);
    assert_eq!(
        store
            .place_bet(&stored, &again, &bobs, Some((&keyed, "{}")))
            .await
            .unwrap(),
        Saved::KeyUsed
    );
    assert_eq!(
        store.place_bet(&stored, &again, &bobs, None).await.unwrap(),
        Saved::Done
    );
    // Ann again, on a book that somehow lost her bet: her index says she has one.
    let stored = store.book(order).await.unwrap().unwrap();
    let forgot = StoredBook {
        book: read.book.clone(),
        ..stored.clone()
    };
    let (twice, anns) = place(&forgot, ann, Outcome::Failed, 100);
    assert_eq!(
        store.place_bet(&stored, &twice, &anns, None).await.unwrap(),
        Saved::Stale
    );
    assert_eq!(store.book(order).await.unwrap().unwrap().book.bets.len(), 2);
}

async fn a_fact_is_learned_once_per_event_on_the_book_read<S: Books + OrderFacts>(store: &S) {
    let order = Uuid::now_v7();
    let none = StoredBook::none(order);
    let began = none.book.work_began(now());
    let event = some_event();
    assert_eq!(
        store
            .learn("c", &event, &none, &began, None, false)
            .await
            .unwrap(),
        Learned::Applied
    );
    // The same event again: handled before, whatever it would write.
    let stored = store.book(order).await.unwrap().unwrap();
    let ended = stored.book.ended(Ending::Cancelled);
    assert_eq!(
        store
            .learn("c", &event, &stored, &ended, None, false)
            .await
            .unwrap(),
        Learned::Duplicate
    );
    // Another event on the book as it was before the first: stale.
    let created = none.book.created(now());
    assert_eq!(
        store
            .learn("c", &some_event(), &none, &created, None, false)
            .await
            .unwrap(),
        Learned::Stale
    );
    // The same event by another consumer, on the book as it is: applied.
    assert_eq!(
        store
            .learn("d", &event, &stored, &ended, None, false)
            .await
            .unwrap(),
        Learned::Applied
    );
    let now_stored = store.book(order).await.unwrap().unwrap();
    assert_eq!(
        (now_stored.version, now_stored.book.clone()),
        (2, ended.clone())
    );
    // Replayed (N4): the inbox has it, and it is written again, on the book as read only.
    assert_eq!(
        store
            .learn("c", &event, &now_stored, &ended, None, true)
            .await
            .unwrap(),
        Learned::Applied
    );
    assert_eq!(
        store
            .learn("c", &event, &now_stored, &ended, None, true)
            .await
            .unwrap(),
        Learned::Stale
    );
    assert_eq!(store.book(order).await.unwrap().unwrap().version, 3);
}

async fn a_managers_orders_and_the_books_settled_in_a_range_are_listed<
    S: Books + OrderFacts + Readings,
>(
    store: &S,
) {
    let manager = Uuid::now_v7();
    assert!(store.orders_bet_by(manager).await.unwrap().is_empty());
    let mut orders = Vec::new();
    for (i, day) in ["2026-12-01", "2026-12-15", "2026-12-31"]
        .iter()
        .enumerate()
    {
        let order = Uuid::now_v7();
        let read = open_book(store, order).await;
        let (after, bet) = place(&read, manager, Outcome::Success, 100 + i as i64);
        assert_eq!(
            store.place_bet(&read, &after, &bet, None).await.unwrap(),
            Saved::Done
        );
        let stored = store.book(order).await.unwrap().unwrap();
        let ended = stored.book.ended(Ending::Invoiced(Outcome::Success));
        let learned = store
            .learn("c", &some_event(), &stored, &ended, Some(date(day)), false)
            .await
            .unwrap();
        assert_eq!(learned, Learned::Applied);
        orders.push(order);
    }
    let mut mine = store.orders_bet_by(manager).await.unwrap();
    mine.sort();
    let mut all = orders.clone();
    all.sort();
    assert_eq!(mine, all);
    assert!(store
        .orders_bet_by(Uuid::now_v7())
        .await
        .unwrap()
        .is_empty());
    let mut found = store
        .settled_between(date("2026-12-01"), date("2026-12-15"))
        .await
        .unwrap();
    found.sort();
    let mut first_two = orders[..2].to_vec();
    first_two.sort();
    assert_eq!(found, first_two);
    let last = store
        .settled_between(date("2026-12-16"), date("2026-12-31"))
        .await
        .unwrap();
    assert!(last.contains(&orders[2]) && !last.contains(&orders[0]));
    let books = store
        .books(&[orders[0], orders[0], Uuid::now_v7()])
        .await
        .unwrap();
    assert_eq!(books.len(), 1);
    assert_eq!(books[0].order_id, orders[0]);
}
