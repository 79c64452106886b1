//! Matching's use cases on the in-memory store (SPEC M4): events in as their producers publish
//! them, `Matching.ExecutorMatched` out as its consumers read it.

use ates_kernel::contracts::accounts::AccountSnapshot;
use ates_kernel::contracts::hiring::{Level, WorkerProfileSet};
use ates_kernel::contracts::matching::{decode_executor_matched, ExecutorMatched};
use ates_kernel::contracts::orders::{
    OrderCancelled, OrderExecutorReleased, OrderRated, Place, SupplyLine,
};
use ates_kernel::event::{Cause, Envelope};
use ates_kernel::identity::Role;
use ates_kernel::inbox::{ConsumeError, Outcome};
use ates_kernel::testing::{self, at};
use ates_kernel::usecase::Failure;
use ates_matching::app::{self, Retried};
use ates_matching::choice::Why;
use ates_matching::error::MatchingError;
use ates_matching::memory::MemoryStore;
use ates_matching::order::Status;
use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::SeedableRng;
use uuid::Uuid;

fn now() -> DateTime<Utc> {
    at("2026-12-07T09:00:00Z")
}

fn rng() -> StdRng {
    StdRng::seed_from_u64(7)
}

/// A slot on the 8th, from `from` to `to` o'clock.
fn slot(from: u32, to: u32) -> (DateTime<Utc>, DateTime<Utc>) {
    let day = at("2026-12-08T00:00:00Z");
    (
        day + Duration::hours(from.into()),
        day + Duration::hours(to.into()),
    )
}

fn rated(
    order_id: Uuid,
    version: u64,
    skill: &str,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
) -> Envelope {
    let payload = OrderRated {
        order_id,
        version,
        places: vec![Place::Rated, Place::ToMatch, Place::ToSupply],
        client_id: Uuid::from_u128(1),
        estimate_cents: 12_000,
        required_skill: skill.into(),
        slot_start: start,
        slot_end: end,
        supplies: vec![SupplyLine {
            item: "sponge".into(),
            quantity: 2,
        }],
        at: now(),
    };
    testing::event("orders", &payload, now())
}

fn released(order_id: Uuid, version: u64, executor_id: Uuid) -> Envelope {
    let payload = OrderExecutorReleased {
        order_id,
        version,
        places: vec![Place::Rated, Place::ToMatch, Place::ToSupply],
        executor_id,
        reason: "The executor's account was deactivated.".into(),
        at: now(),
    };
    testing::event("orders", &payload, now())
}

fn cancelled(order_id: Uuid, version: u64) -> Envelope {
    let payload = OrderCancelled {
        order_id,
        version,
        places: vec![Place::Cancelled],
        client_id: Uuid::from_u128(1),
        executor_id: None,
        value_cents: None,
        cancelled_by: Uuid::from_u128(1),
        at: now(),
    };
    testing::event("orders", &payload, now())
}

fn profile(account_id: Uuid, skills: &[&str], revision: u64) -> Envelope {
    let payload = WorkerProfileSet {
        account_id,
        skills: skills.iter().map(|s| s.to_string()).collect(),
        level: Level::Middle,
        revision,
        set_at: now(),
    };
    testing::event("hiring", &payload, now())
}

async fn order_event(store: &MemoryStore, event: &Envelope) -> Outcome {
    app::on_order_event(store, event, now(), &mut rng())
        .await
        .unwrap()
}

async fn person_event(store: &MemoryStore, event: &Envelope) -> Outcome {
    app::keep_person(store, event, now(), &mut rng())
        .await
        .unwrap()
}

/// An account of `role` as auth publishes it, and a profile with `skills` as hiring does.
async fn hired(store: &MemoryStore, role: Role, skills: &[&str]) -> AccountSnapshot {
    let account = testing::account("Kiwi", role);
    person_event(store, &testing::account_event(&account)).await;
    if !skills.is_empty() {
        person_event(store, &profile(account.account_id, skills, 1)).await;
    }
    account
}

async fn worker(store: &MemoryStore, skills: &[&str]) -> Uuid {
    hired(store, Role::Worker, skills).await.account_id
}

fn matches(store: &MemoryStore) -> Vec<ExecutorMatched> {
    store
        .published()
        .iter()
        .map(|e| decode_executor_matched(e).unwrap())
        .collect()
}

async fn status(store: &MemoryStore, order_id: Uuid) -> Status {
    view(store, order_id).await.status
}

async fn view(store: &MemoryStore, order_id: Uuid) -> ates_matching::order::OrderView {
    let manager = hired(store, Role::Manager, &[]).await;
    let claims = testing::claims(manager.account_id, Role::Manager);
    app::order_view(store, &claims, order_id).await.unwrap()
}

#[tokio::test]
async fn a_rated_order_goes_to_a_worker_with_its_skill_and_a_repeat_publishes_nothing_new() {
    let store = MemoryStore::default();
    let kiwi = worker(&store, &["carpets", "windows"]).await;
    worker(&store, &["gardens"]).await;
    let order = Uuid::now_v7();
    let event = rated(order, 2, "carpets", slot(10, 12));
    assert_eq!(order_event(&store, &event).await, Outcome::Applied);
    assert_eq!(order_event(&store, &event).await, Outcome::Duplicate);
    let published = store.published();
    assert_eq!(published.len(), 1, "one match per (order, version)");
    let matched = decode_executor_matched(&published[0]).unwrap();
    assert_eq!(
        (matched.order_id, matched.order_version, matched.executor_id),
        (order, 2, kiwi)
    );
    assert_eq!(matched.candidates, 1, "the gardener was not a candidate");
    assert_eq!(matched.matched_at, now());
    assert_eq!(published[0].producer, "matching");
    assert_eq!(published[0].causation_id, Some(event.id.to_string()));
    let seen = view(&store, order).await;
    assert_eq!(seen.executor_id, Some(kiwi));
    assert_eq!(seen.candidates.len(), 1);
    assert_eq!(seen.candidates[0].why, Why::Chosen);
}

#[tokio::test]
async fn clients_managers_admins_and_accountants_are_never_executors() {
    let store = MemoryStore::default();
    for role in [Role::Client, Role::Manager, Role::Admin, Role::Accountant] {
        hired(&store, role, &["carpets"]).await;
    }
    let order = Uuid::now_v7();
    order_event(&store, &rated(order, 2, "carpets", slot(10, 12))).await;
    assert!(store.published().is_empty());
    let seen = view(&store, order).await;
    assert_eq!(seen.status, Status::Waiting);
    assert_eq!(seen.waiting_since, Some(now()));
    assert!(seen.candidates.is_empty());
}

#[tokio::test]
async fn one_worker_is_never_booked_twice_at_overlapping_slots_the_second_order_waits() {
    let store = MemoryStore::default();
    let kiwi = worker(&store, &["carpets"]).await;
    let (first, second, touching) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    order_event(&store, &rated(first, 2, "carpets", slot(10, 12))).await;
    order_event(&store, &rated(second, 2, "carpets", slot(11, 13))).await;
    order_event(&store, &rated(touching, 2, "carpets", slot(12, 14))).await;
    let matched: Vec<Uuid> = matches(&store).iter().map(|m| m.order_id).collect();
    assert_eq!(
        matched,
        [first, touching],
        "a slot that starts as one ends is free"
    );
    let waiting = view(&store, second).await;
    assert_eq!(waiting.status, Status::Waiting);
    assert_eq!(waiting.candidates[0].worker_id, kiwi);
    assert_eq!(waiting.candidates[0].why, Why::Busy);
    assert_eq!(store.bookings_of(kiwi).len(), 2);
}

#[tokio::test]
async fn the_worker_with_fewer_orders_this_week_is_chosen() {
    let store = MemoryStore::default();
    let kiwi = worker(&store, &["carpets"]).await;
    order_event(&store, &rated(Uuid::now_v7(), 2, "carpets", slot(8, 9))).await;
    let mango = worker(&store, &["carpets"]).await;
    let next = Uuid::now_v7();
    order_event(&store, &rated(next, 2, "carpets", slot(14, 15))).await;
    assert_eq!(matches(&store)[1].executor_id, mango);
    let seen = view(&store, next).await;
    let kiwis = seen
        .candidates
        .iter()
        .find(|c| c.worker_id == kiwi)
        .unwrap();
    assert_eq!(
        (kiwis.why, kiwis.orders_in_last_7_days),
        (Why::MoreOrders, 1)
    );
}

#[tokio::test]
async fn a_release_frees_the_booking_and_matches_again_to_another_worker() {
    let store = MemoryStore::default();
    let order = Uuid::now_v7();
    let first = worker(&store, &["carpets"]).await;
    order_event(&store, &rated(order, 2, "carpets", slot(10, 12))).await;
    let second = worker(&store, &["carpets"]).await;
    let release = released(order, 5, first);
    assert_eq!(order_event(&store, &release).await, Outcome::Applied);
    assert_eq!(order_event(&store, &release).await, Outcome::Duplicate);
    let matched = matches(&store);
    assert_eq!(matched.len(), 2);
    assert_eq!(
        (matched[1].executor_id, matched[1].order_version),
        (second, 5)
    );
    assert!(
        store.bookings_of(first).is_empty(),
        "the released booking is freed"
    );
    assert_eq!(store.bookings_of(second).len(), 1);
    let seen = view(&store, order).await;
    let whys: Vec<(Uuid, Why)> = seen
        .candidates
        .iter()
        .map(|c| (c.worker_id, c.why))
        .collect();
    assert!(whys.contains(&(first, Why::Released)), "{whys:?}");
    assert!(whys.contains(&(second, Why::Chosen)), "{whys:?}");
    // A rating that arrives late changes nothing.
    let late = rated(order, 2, "carpets", slot(10, 12));
    assert_eq!(order_event(&store, &late).await, Outcome::Superseded);
    assert_eq!(matches(&store).len(), 2);
}

#[tokio::test]
async fn a_release_with_nobody_else_leaves_the_order_waiting() {
    let store = MemoryStore::default();
    let order = Uuid::now_v7();
    let only = worker(&store, &["carpets"]).await;
    order_event(&store, &rated(order, 2, "carpets", slot(10, 12))).await;
    order_event(&store, &released(order, 5, only)).await;
    assert_eq!(matches(&store).len(), 1);
    assert_eq!(status(&store, order).await, Status::Waiting);
}

#[tokio::test]
async fn a_release_before_the_rating_is_delivered_again_later() {
    let store = MemoryStore::default();
    let early = released(Uuid::now_v7(), 5, Uuid::now_v7());
    let result = app::on_order_event(&store, &early, now(), &mut rng()).await;
    assert!(matches!(result, Err(ConsumeError::Retry(_))), "{result:?}");
}

#[tokio::test]
async fn a_cancellation_frees_the_booking_for_another_order() {
    let store = MemoryStore::default();
    let kiwi = worker(&store, &["carpets"]).await;
    let (first, second) = (Uuid::now_v7(), Uuid::now_v7());
    order_event(&store, &rated(first, 2, "carpets", slot(10, 12))).await;
    assert_eq!(
        order_event(&store, &cancelled(first, 4)).await,
        Outcome::Applied
    );
    assert!(store.bookings_of(kiwi).is_empty());
    assert_eq!(status(&store, first).await, Status::Cancelled);
    order_event(&store, &rated(second, 2, "carpets", slot(10, 12))).await;
    assert_eq!(matches(&store)[1].executor_id, kiwi);
}

#[tokio::test]
async fn a_cancelled_order_stops_waiting_and_a_late_rating_is_ignored() {
    let store = MemoryStore::default();
    let (waiting, early) = (Uuid::now_v7(), Uuid::now_v7());
    order_event(&store, &rated(waiting, 2, "carpets", slot(10, 12))).await;
    order_event(&store, &cancelled(waiting, 4)).await;
    // Cancelled before its rating was seen: the rating, when it comes, is older.
    assert_eq!(
        order_event(&store, &cancelled(early, 4)).await,
        Outcome::Applied
    );
    assert_eq!(
        order_event(&store, &rated(early, 2, "carpets", slot(10, 12))).await,
        Outcome::Superseded
    );
    worker(&store, &["carpets"]).await;
    let retried = app::retry_waiting(&store, &Cause::request("t"), now(), &mut rng())
        .await
        .unwrap();
    assert_eq!(retried.tried, 0);
    assert!(store.published().is_empty());
    assert_eq!(status(&store, early).await, Status::Cancelled);
}

#[tokio::test]
async fn a_worker_who_enrols_with_the_skill_takes_a_waiting_order_at_once() {
    let store = MemoryStore::default();
    let order = Uuid::now_v7();
    order_event(&store, &rated(order, 2, "carpets", slot(10, 12))).await;
    let account = testing::account("Kiwi", Role::Worker);
    person_event(&store, &testing::account_event(&account)).await;
    assert!(store.published().is_empty(), "no profile yet");
    person_event(&store, &profile(account.account_id, &["gardens"], 1)).await;
    assert!(store.published().is_empty(), "another skill");
    person_event(
        &store,
        &profile(account.account_id, &["gardens", "carpets"], 2),
    )
    .await;
    assert_eq!(matches(&store)[0].executor_id, account.account_id);
    assert_eq!(status(&store, order).await, Status::Matched);
}

#[tokio::test]
async fn a_worker_who_comes_back_takes_a_waiting_order_and_one_who_left_is_not_chosen() {
    let store = MemoryStore::default();
    let mut account = testing::account("Kiwi", Role::Worker);
    person_event(&store, &profile(account.account_id, &["carpets"], 1)).await;
    account.active = false;
    account.revision = 2;
    person_event(&store, &testing::account_event(&account)).await;
    let order = Uuid::now_v7();
    order_event(&store, &rated(order, 2, "carpets", slot(10, 12))).await;
    assert_eq!(status(&store, order).await, Status::Waiting);
    account.active = true;
    account.revision = 3;
    person_event(&store, &testing::account_event(&account)).await;
    assert_eq!(matches(&store)[0].executor_id, account.account_id);
}

#[tokio::test]
async fn the_scheduled_retry_matches_waiting_orders_once_and_counts_those_waiting_over_an_hour() {
    let store = MemoryStore::default();
    let kiwi = worker(&store, &["carpets"]).await;
    let (booked, waiting, nobody) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    order_event(&store, &rated(booked, 2, "carpets", slot(10, 12))).await;
    order_event(&store, &rated(waiting, 2, "carpets", slot(11, 12))).await;
    order_event(&store, &rated(nobody, 2, "roofs", slot(11, 12))).await;
    // The first order is cancelled; nothing else tries the waiting one until the schedule does.
    order_event(&store, &cancelled(booked, 4)).await;
    assert_eq!(status(&store, waiting).await, Status::Waiting);
    let later = now() + Duration::minutes(61);
    let cause = Cause::request("schedule");
    let run = app::retry_waiting(&store, &cause, later, &mut rng())
        .await
        .unwrap();
    assert_eq!(
        run,
        Retried {
            tried: 2,
            matched: 1,
            waiting_over_an_hour: 1
        }
    );
    let again = app::retry_waiting(&store, &cause, later, &mut rng())
        .await
        .unwrap();
    assert_eq!((again.tried, again.matched), (1, 0));
    let matched = matches(&store);
    assert_eq!(matched.len(), 2, "the first match and the retry's, once");
    assert_eq!(
        (matched[1].order_id, matched[1].executor_id),
        (waiting, kiwi)
    );
    assert_eq!(matched[1].matched_at, later);
    let roofs = view(&store, nobody).await;
    assert_eq!(
        roofs.waiting_since,
        Some(now()),
        "waiting since the first time"
    );
}

#[tokio::test]
async fn a_tie_goes_where_the_injected_draw_says() {
    let pick = |seed: u64| async move {
        let store = MemoryStore::default();
        let mut workers = [
            worker(&store, &["carpets"]).await,
            worker(&store, &["carpets"]).await,
        ];
        workers.sort();
        let event = rated(Uuid::now_v7(), 2, "carpets", slot(10, 12));
        let mut rng = StdRng::seed_from_u64(seed);
        app::on_order_event(&store, &event, now(), &mut rng)
            .await
            .unwrap();
        let chosen = matches(&store)[0].executor_id;
        let draw = StdRng::seed_from_u64(seed).next_u64();
        assert_eq!(chosen, workers[(draw % 2) as usize]);
        chosen == workers[0]
    };
    use rand::RngCore;
    let mut firsts = Vec::new();
    for seed in 0..8 {
        firsts.push(pick(seed).await);
    }
    assert!(
        firsts.contains(&true) && firsts.contains(&false),
        "{firsts:?}"
    );
}

#[tokio::test]
async fn only_managers_and_admins_read_an_orders_matching_and_an_unknown_order_is_404() {
    let store = MemoryStore::default();
    let order = Uuid::now_v7();
    order_event(&store, &rated(order, 2, "carpets", slot(10, 12))).await;
    let admin = hired(&store, Role::Admin, &[]).await;
    let claims = testing::claims(admin.account_id, Role::Admin);
    assert_eq!(
        app::order_view(&store, &claims, order)
            .await
            .unwrap()
            .status,
        Status::Waiting
    );
    let unknown = app::order_view(&store, &claims, Uuid::now_v7()).await;
    assert!(matches!(unknown, Err(MatchingError::UnknownOrder)));
    for role in [Role::Worker, Role::Client, Role::Accountant] {
        let someone = hired(&store, role, &["carpets"]).await;
        let claims = testing::claims(someone.account_id, role);
        let refused = app::order_view(&store, &claims, order).await;
        assert!(
            matches!(refused, Err(MatchingError::Failed(Failure::Refused(_)))),
            "{role}"
        );
    }
}

/// The memory store, with another order rated for the same worker right after the first
/// schedule read: the race two concurrent handlers run.
struct Racing {
    inner: MemoryStore,
    competitor: std::sync::Mutex<Option<Envelope>>,
}

mod racing {
    use super::*;
    use ates_kernel::dynamo::StoreError;
    use ates_kernel::identity::AccountCopies;
    use ates_matching::choice::Schedule;
    use ates_matching::order::Order;
    use ates_matching::person::Person;
    use ates_matching::ports::{Change, Orders, People, Saved, Schedules, Waiting};

    impl AccountCopies for Racing {
        async fn account_copy(&self, id: Uuid) -> Result<Option<AccountSnapshot>, StoreError> {
            self.inner.account_copy(id).await
        }
    }

    impl People for Racing {
        async fn person(&self, id: Uuid) -> Result<Option<Person>, StoreError> {
            self.inner.person(id).await
        }
        async fn save_person(&self, b: Option<&Person>, a: &Person) -> Result<Saved, StoreError> {
            self.inner.save_person(b, a).await
        }
        async fn workers_with(&self, skill: &str) -> Result<Vec<Uuid>, StoreError> {
            self.inner.workers_with(skill).await
        }
    }

    impl Orders for Racing {
        async fn order(&self, id: Uuid) -> Result<Option<Order>, StoreError> {
            self.inner.order(id).await
        }
        async fn save_order(
            &self,
            b: Option<&Order>,
            a: &Order,
            c: Change<'_>,
        ) -> Result<Saved, StoreError> {
            self.inner.save_order(b, a, c).await
        }
    }

    impl Schedules for Racing {
        async fn schedule(&self, worker_id: Uuid) -> Result<Schedule, StoreError> {
            let read = self.inner.schedule(worker_id).await;
            let competitor = self.competitor.lock().unwrap().take();
            if let Some(competitor) = competitor {
                order_event(&self.inner, &competitor).await;
            }
            read
        }
    }

    impl Waiting for Racing {
        async fn waiting(&self, limit: usize) -> Result<Vec<(DateTime<Utc>, Uuid)>, StoreError> {
            self.inner.waiting(limit).await
        }
        async fn waiting_for(&self, skill: &str, limit: usize) -> Result<Vec<Uuid>, StoreError> {
            self.inner.waiting_for(skill, limit).await
        }
    }
}

#[tokio::test]
async fn two_orders_racing_for_one_worker_never_both_book_them_the_loser_reads_again_and_waits() {
    let (first, second) = (Uuid::now_v7(), Uuid::now_v7());
    let store = Racing {
        inner: MemoryStore::default(),
        competitor: std::sync::Mutex::new(Some(rated(second, 2, "carpets", slot(11, 13)))),
    };
    let kiwi = worker(&store.inner, &["carpets"]).await;
    let outcome = app::on_order_event(
        &store,
        &rated(first, 2, "carpets", slot(10, 12)),
        now(),
        &mut rng(),
    )
    .await
    .unwrap();
    assert_eq!(outcome, Outcome::Applied);
    let matched = matches(&store.inner);
    assert_eq!(matched.len(), 1, "{matched:?}");
    assert_eq!(
        (matched[0].order_id, matched[0].executor_id),
        (second, kiwi)
    );
    assert_eq!(status(&store.inner, first).await, Status::Waiting);
    let seen = view(&store.inner, first).await;
    assert_eq!(
        seen.candidates[0].why,
        Why::Busy,
        "decided again on what the winner wrote"
    );
    assert_eq!(store.inner.bookings_of(kiwi).len(), 1);
}
