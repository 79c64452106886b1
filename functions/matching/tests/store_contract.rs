//! The contract of matching's store ports: what the use cases rely on, asserted through the
//! ports alone. Every contract runs on the in-memory store the use-case tests use (`memory::…`)
//! and on the DynamoDB store over a fresh table of one emulator shared by this binary
//! (`dynamo::…`).

use ates_kernel::contracts::accounts::AccountSnapshot;
use ates_kernel::contracts::hiring::{Level, WorkerProfileSet};
use ates_kernel::contracts::matching::ExecutorMatched;
use ates_kernel::contracts::orders::{OrderRated, Place};
use ates_kernel::event::{Cause, Envelope};
use ates_kernel::identity::Role;
use ates_kernel::testing::at;
use ates_matching::choice::{Booking, Choice, Slot};
use ates_matching::order::Order;
use ates_matching::person::Person;
use ates_matching::ports::{Change, Orders, People, Saved, Schedules, Waiting};
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

ates_kernel::store_contracts!(
    ates_matching::memory::MemoryStore::default(),
    ates_matching::store::Store::new,
    "Matching";
    a_person_is_written_over_the_stamp_read_and_who_has_a_skill_follows,
    the_account_copy_is_the_persons_account,
    an_order_is_written_over_the_stamp_read,
    a_booking_is_written_only_over_the_schedule_version_read_and_freed_with_its_order,
    waiting_orders_are_listed_longest_waiting_first_and_by_skill_while_they_wait,
);

fn now() -> DateTime<Utc> {
    at("2026-12-07T09:00:00.123456Z")
}

fn account(role: Role, active: bool, revision: u64, id: Uuid) -> AccountSnapshot {
    AccountSnapshot {
        account_id: id,
        email: "kiwi@popug.test".into(),
        full_name: "Kiwi".into(),
        role,
        active,
        revision,
    }
}

fn profile(id: Uuid, skills: &[&str], revision: u64) -> WorkerProfileSet {
    WorkerProfileSet {
        account_id: id,
        skills: skills.iter().map(|s| s.to_string()).collect(),
        level: Level::Senior,
        revision,
        set_at: now(),
    }
}

/// A skill no other contract of this table uses.
fn skill(name: &str) -> String {
    format!("{name}-{}", Uuid::new_v4().simple())
}

fn sorted(mut ids: Vec<Uuid>) -> Vec<Uuid> {
    ids.sort();
    ids
}

async fn a_person_is_written_over_the_stamp_read_and_who_has_a_skill_follows<S: People>(store: &S) {
    let (carpets, windows) = (skill("carpets"), skill("windows"));
    let id = Uuid::now_v7();
    let hired = Person::with_profile(None, &profile(id, &[&carpets, &windows], 1)).unwrap();
    assert_eq!(store.save_person(None, &hired).await.unwrap(), Saved::Done);
    assert!(
        store.workers_with(&carpets).await.unwrap().is_empty(),
        "no account yet"
    );
    let worker = Person::with_account(Some(&hired), &account(Role::Worker, true, 1, id)).unwrap();
    assert_eq!(
        store.save_person(Some(&hired), &worker).await.unwrap(),
        Saved::Done
    );
    assert_eq!(store.person(id).await.unwrap(), Some(worker.clone()));
    assert_eq!(store.workers_with(&carpets).await.unwrap(), [id]);
    assert_eq!(store.workers_with(&windows).await.unwrap(), [id]);

    // A second worker with one of the skills; then the first drops a skill.
    let other = Uuid::now_v7();
    let them = Person::with_profile(None, &profile(other, &[&carpets], 1)).unwrap();
    let them = Person::with_account(Some(&them), &account(Role::Worker, true, 1, other)).unwrap();
    assert_eq!(store.save_person(None, &them).await.unwrap(), Saved::Done);
    let narrower = Person::with_profile(Some(&worker), &profile(id, &[&carpets], 2)).unwrap();
    assert_eq!(
        store.save_person(Some(&worker), &narrower).await.unwrap(),
        Saved::Done
    );
    assert_eq!(
        sorted(store.workers_with(&carpets).await.unwrap()),
        sorted(vec![id, other])
    );
    assert!(store.workers_with(&windows).await.unwrap().is_empty());

    // Written from a stale reading: nothing changes.
    let stale = Person::with_account(Some(&worker), &account(Role::Worker, false, 2, id)).unwrap();
    assert_eq!(
        store.save_person(Some(&worker), &stale).await.unwrap(),
        Saved::Stale
    );
    assert_eq!(store.save_person(None, &stale).await.unwrap(), Saved::Stale);
    assert_eq!(store.person(id).await.unwrap(), Some(narrower.clone()));

    // Deactivated: chosen for nothing.
    let left = Person::with_account(Some(&narrower), &account(Role::Worker, false, 2, id)).unwrap();
    assert_eq!(
        store.save_person(Some(&narrower), &left).await.unwrap(),
        Saved::Done
    );
    assert_eq!(store.workers_with(&carpets).await.unwrap(), [other]);
}

async fn the_account_copy_is_the_persons_account<S: People>(store: &S) {
    let id = Uuid::now_v7();
    assert_eq!(store.account_copy(id).await.unwrap(), None);
    let manager = account(Role::Manager, true, 3, id);
    let person = Person::with_account(None, &manager).unwrap();
    store.save_person(None, &person).await.unwrap();
    assert_eq!(store.account_copy(id).await.unwrap(), Some(manager));
}

fn rated(skill: &str, start: DateTime<Utc>) -> OrderRated {
    OrderRated {
        order_id: Uuid::now_v7(),
        version: 2,
        places: vec![Place::Rated, Place::ToMatch, Place::ToSupply],
        client_id: Uuid::now_v7(),
        estimate_cents: 12_000,
        required_skill: skill.into(),
        slot_start: start,
        slot_end: start + Duration::hours(2),
        supplies: vec![],
        at: now(),
    }
}

/// A rated order that waits since `since`.
fn waiting(skill: &str, since: DateTime<Utc>) -> Order {
    let order = Order::rated(None, &rated(skill, now() + Duration::days(1)))
        .unwrap()
        .order;
    let nobody = Choice {
        executor_id: None,
        candidates: vec![],
    };
    order.decide(nobody, since).0
}

async fn an_order_is_written_over_the_stamp_read<S: Orders>(store: &S) {
    let order = waiting(&skill("carpets"), now());
    let none = Change::default();
    assert_eq!(
        store.save_order(None, &order, none).await.unwrap(),
        Saved::Done
    );
    assert_eq!(
        store.order(order.order_id).await.unwrap(),
        Some(order.clone())
    );
    assert_eq!(
        store.save_order(None, &order, none).await.unwrap(),
        Saved::Stale
    );
    let again = order.decide(
        Choice {
            executor_id: None,
            candidates: vec![],
        },
        now() + Duration::minutes(5),
    );
    assert_eq!(
        store
            .save_order(Some(&order), &again.0, none)
            .await
            .unwrap(),
        Saved::Done
    );
    assert_eq!(
        store
            .save_order(Some(&order), &again.0, none)
            .await
            .unwrap(),
        Saved::Stale
    );
    assert_eq!(store.order(order.order_id).await.unwrap(), Some(again.0));
    assert_eq!(store.order(Uuid::now_v7()).await.unwrap(), None);
}

fn matched_event(order: &Order, executor_id: Uuid) -> Envelope {
    let matched = ExecutorMatched {
        order_id: order.order_id,
        order_version: order.version,
        executor_id,
        candidates: 1,
        matched_at: now(),
    };
    Envelope::wrap("matching", &matched, &Cause::request("test"), now()).unwrap()
}

async fn a_booking_is_written_only_over_the_schedule_version_read_and_freed_with_its_order<
    S: Orders + Schedules,
>(
    store: &S,
) {
    let worker = Uuid::now_v7();
    let empty = store.schedule(worker).await.unwrap();
    assert_eq!((empty.version, empty.bookings.len()), (0, 0));
    let book = |order: &Order| Booking {
        worker_id: worker,
        order_id: order.order_id,
        slot: Slot {
            start: now() + Duration::days(1),
            end: now() + Duration::days(1) + Duration::hours(2),
        },
        matched_at: now(),
    };
    let (first, second) = (waiting("carpets", now()), waiting("carpets", now()));
    store
        .save_order(None, &first, Change::default())
        .await
        .unwrap();
    store
        .save_order(None, &second, Change::default())
        .await
        .unwrap();

    let booking = book(&first);
    let events = [matched_event(&first, worker)];
    let change = Change {
        booked: Some((&booking, 0)),
        events: &events,
        ..Change::default()
    };
    assert_eq!(
        store
            .save_order(Some(&first), &first, change)
            .await
            .unwrap(),
        Saved::Done
    );
    let schedule = store.schedule(worker).await.unwrap();
    assert_eq!(schedule.version, 1);
    assert_eq!(schedule.bookings, std::slice::from_ref(&booking));

    // Another order booked from the same (now old) reading: refused, nothing written.
    let competing = book(&second);
    let change = Change {
        booked: Some((&competing, 0)),
        ..Change::default()
    };
    assert_eq!(
        store
            .save_order(Some(&second), &second, change)
            .await
            .unwrap(),
        Saved::Stale
    );
    assert_eq!(
        store.schedule(worker).await.unwrap().bookings,
        std::slice::from_ref(&booking)
    );
    assert_eq!(
        store.order(second.order_id).await.unwrap(),
        Some(second.clone())
    );

    // From the version as it is now, it goes in.
    let change = Change {
        booked: Some((&competing, 1)),
        ..Change::default()
    };
    assert_eq!(
        store
            .save_order(Some(&second), &second, change)
            .await
            .unwrap(),
        Saved::Done
    );
    let after = store.schedule(worker).await.unwrap();
    assert_eq!((after.version, after.bookings.len()), (2, 2));

    // Freed with the first order's write.
    let first_now = store.order(first.order_id).await.unwrap().unwrap();
    let change = Change {
        freed: Some(&booking),
        ..Change::default()
    };
    assert_eq!(
        store
            .save_order(Some(&first_now), &first_now, change)
            .await
            .unwrap(),
        Saved::Done
    );
    assert_eq!(store.schedule(worker).await.unwrap().bookings, [competing]);
}

async fn waiting_orders_are_listed_longest_waiting_first_and_by_skill_while_they_wait<
    S: Orders + Waiting,
>(
    store: &S,
) {
    let (carpets, roofs) = (skill("carpets"), skill("roofs"));
    let newest = waiting(&carpets, now() + Duration::minutes(10));
    let oldest = waiting(&roofs, now() - Duration::minutes(10));
    let middle = waiting(&carpets, now());
    for order in [&newest, &oldest, &middle] {
        store
            .save_order(None, order, Change::default())
            .await
            .unwrap();
    }
    // The contracts share one table: only these three are listed by their skills; all of them
    // are among the waiting ones in order.
    assert_eq!(
        store.waiting_for(&carpets, 10).await.unwrap(),
        [middle.order_id, newest.order_id]
    );
    assert_eq!(
        store.waiting_for(&carpets, 1).await.unwrap(),
        [middle.order_id]
    );
    assert_eq!(
        store.waiting_for(&roofs, 10).await.unwrap(),
        [oldest.order_id]
    );
    let all = store.waiting(1000).await.unwrap();
    let mine: Vec<(DateTime<Utc>, Uuid)> = all
        .into_iter()
        .filter(|(_, id)| [newest.order_id, oldest.order_id, middle.order_id].contains(id))
        .collect();
    assert_eq!(
        mine,
        [
            (now() - Duration::minutes(10), oldest.order_id),
            (now(), middle.order_id),
            (now() + Duration::minutes(10), newest.order_id),
        ]
    );

    // Matched: no longer waiting.
    let worker = Uuid::now_v7();
    let booking = Booking {
        worker_id: worker,
        order_id: middle.order_id,
        slot: middle.need.as_ref().unwrap().slot,
        matched_at: now(),
    };
    let choice = Choice {
        executor_id: Some(worker),
        candidates: vec![],
    };
    let (matched, _) = middle.decide(choice, now());
    assert_eq!(matched.booking, Some(booking.clone()));
    let change = Change {
        booked: Some((&booking, 0)),
        ..Change::default()
    };
    assert_eq!(
        store
            .save_order(Some(&middle), &matched, change)
            .await
            .unwrap(),
        Saved::Done
    );
    assert_eq!(
        store.waiting_for(&carpets, 10).await.unwrap(),
        [newest.order_id]
    );
    let still: Vec<Uuid> = store
        .waiting(1000)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, id)| id)
        .collect();
    assert!(!still.contains(&middle.order_id));
}
