//! The calculator's use cases on the in-memory store: the requirements (SPEC M3), without HTTP
//! or AWS. Events are built as their producers publish them, duplicated and out of order as the
//! bus may deliver them.

use ates_calculator::app::{self, Quote};
use ates_calculator::error::CalculatorError;
use ates_calculator::loyalty::Payment;
use ates_calculator::memory::MemoryStore;
use ates_calculator::ports::{Estimates, PaidTotals, Prices};
use ates_kernel::contracts::calculator::{decode_estimate_given, decode_price_set, PriceSet};
use ates_kernel::contracts::hiring::{Level, WorkerProfileSet};
use ates_kernel::contracts::matching::ExecutorMatched;
use ates_kernel::contracts::orders::{OrderCreated, Place, ServiceTypeSet, SupplyLine};
use ates_kernel::event::Envelope;
use ates_kernel::identity::{Refused, Role};
use ates_kernel::inbox::{ConsumeError, Outcome};
use ates_kernel::testing::{account, account_event, at, claims, event};
use ates_kernel::usecase::Failure;
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

fn now() -> DateTime<Utc> {
    at("2026-12-06T10:00:00Z")
}

fn service_type(base_price_cents: i64, active: bool, revision: u64) -> ServiceTypeSet {
    ServiceTypeSet {
        service_type_id: Uuid::from_u128(0x5e),
        name: "Carpet cleaning".into(),
        base_price_cents,
        required_skill: "carpets".into(),
        duration_minutes: 90,
        supplies: vec![SupplyLine {
            item: "shampoo".into(),
            quantity: 1,
        }],
        active,
        revision,
        set_at: now(),
    }
}

fn created(client_id: Uuid, base_price_cents: i64) -> OrderCreated {
    let slot_start = now() + Duration::days(1);
    OrderCreated {
        order_id: Uuid::now_v7(),
        version: 1,
        places: vec![Place::New],
        client_id,
        service_type_id: Uuid::from_u128(0x5e),
        service_type_revision: 1,
        base_price_cents,
        required_skill: "carpets".into(),
        slot_start,
        slot_end: slot_start + Duration::minutes(90),
        supplies: vec![],
        at: now(),
    }
}

fn profile(account_id: Uuid, level: Level, revision: u64) -> Envelope {
    let set = WorkerProfileSet {
        account_id,
        skills: vec!["carpets".into()],
        level,
        revision,
        set_at: now(),
    };
    event("hiring", &set, now())
}

fn matched(order_id: Uuid, executor_id: Uuid, order_version: u64) -> Envelope {
    let matched = ExecutorMatched {
        order_id,
        order_version,
        executor_id,
        candidates: 2,
        matched_at: now(),
    };
    event("matching", &matched, now())
}

/// A payment of `amount_cents` by `client_id`, as billing will report one.
async fn pay(store: &MemoryStore, client_id: Uuid, amount_cents: i64) {
    let payment = Payment {
        invoice_id: Uuid::now_v7(),
        client_id,
        amount_cents,
        paid_at: now(),
    };
    let recorded = app::record_payment(store, &payment).await.unwrap();
    assert_eq!(recorded, Outcome::Applied);
}

fn prices_set(store: &MemoryStore) -> Vec<PriceSet> {
    store
        .published()
        .iter()
        .filter(|e| e.name == "Calculator.PriceSet")
        .map(|e| decode_price_set(e).unwrap())
        .collect()
}

async fn estimate(store: &MemoryStore, order: &OrderCreated) -> Outcome {
    let delivered = event("orders", order, now());
    app::give_estimate(store, &delivered, now()).await.unwrap()
}

// ------------------------------------------------------------------------------- estimate

#[tokio::test]
async fn a_new_order_is_estimated_at_its_base_price_less_the_clients_discount() {
    let store = MemoryStore::default();
    let client = Uuid::now_v7();
    pay(&store, client, 499_999).await;
    let order = created(client, 12_345);
    assert_eq!(estimate(&store, &order).await, Outcome::Applied);

    let published = store.published();
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].producer, "calculator");
    let given = decode_estimate_given(&published[0]).unwrap();
    assert_eq!(given.order_id, order.order_id);
    assert_eq!(given.client_id, client);
    assert_eq!(given.base_price_cents, 12_345);
    assert_eq!(given.discount_pct, 5, "$4,999.99 paid: the 5 % bracket");
    assert_eq!(given.estimate_cents, 11_727, "$117.2775 rounded down");
}

#[tokio::test]
async fn a_client_who_has_paid_nothing_is_estimated_at_the_base_price() {
    let store = MemoryStore::default();
    let order = created(Uuid::now_v7(), 10_000);
    estimate(&store, &order).await;
    let given = decode_estimate_given(&store.published()[0]).unwrap();
    assert_eq!((given.discount_pct, given.estimate_cents), (0, 10_000));
}

#[tokio::test]
async fn an_order_is_estimated_once_however_often_it_is_delivered() {
    let store = MemoryStore::default();
    let client = Uuid::now_v7();
    let order = created(client, 10_000);
    let delivered = event("orders", &order, now());
    let first = app::give_estimate(&store, &delivered, now()).await.unwrap();
    assert_eq!(first, Outcome::Applied);
    // The client's discount changes, and the order arrives again, under its event id and
    // another: the first estimate stands and nothing more is published.
    pay(&store, client, 2_000_000).await;
    let again = app::give_estimate(&store, &delivered, now()).await.unwrap();
    assert_eq!(again, Outcome::Duplicate);
    assert_eq!(estimate(&store, &order).await, Outcome::Duplicate);
    assert_eq!(store.published().len(), 1);
    let kept = store.order(order.order_id).await.unwrap().unwrap();
    assert_eq!((kept.discount_pct, kept.estimate_cents), (0, 10_000));
}

#[tokio::test]
async fn an_unreadable_order_is_poison_and_writes_nothing() {
    let store = MemoryStore::default();
    let mut broken = event("orders", &created(Uuid::now_v7(), 10_000), now());
    broken.data["base_price_cents"] = serde_json::json!("ten dollars");
    let answer = app::give_estimate(&store, &broken, now()).await;
    assert!(matches!(answer, Err(ConsumeError::Poison(_))), "{answer:?}");
    // Below zero, which the schema forbids and the arithmetic refuses.
    let mut negative = event("orders", &created(Uuid::now_v7(), 10_000), now());
    negative.data["base_price_cents"] = serde_json::json!(-1);
    let answer = app::give_estimate(&store, &negative, now()).await;
    assert!(matches!(answer, Err(ConsumeError::Poison(_))), "{answer:?}");
    assert!(store.published().is_empty());
}

// ---------------------------------------------------------------------------------- price

/// An order estimated for a new client, and an executor of `level` known.
async fn ready(store: &MemoryStore, level: Level) -> (OrderCreated, Uuid) {
    let order = created(Uuid::now_v7(), 10_001);
    estimate(store, &order).await;
    let executor = Uuid::now_v7();
    let kept = app::keep_worker_level(store, &profile(executor, level, 1)).await;
    assert_eq!(kept.unwrap(), Outcome::Applied);
    (order, executor)
}

#[tokio::test]
async fn a_matched_executor_gets_the_base_price_at_their_level_less_the_discount() {
    let store = MemoryStore::default();
    let (order, executor) = ready(&store, Level::Senior).await;
    pay(&store, order.client_id, 2_000_000).await;
    let set = app::set_price(&store, &matched(order.order_id, executor, 3), now()).await;
    assert_eq!(set.unwrap(), Outcome::Applied);
    assert_eq!(
        prices_set(&store),
        [PriceSet {
            order_id: order.order_id,
            executor_id: executor,
            level: Level::Senior,
            list_price_cents: 12_001,
            discount_pct: 12,
            value_cents: 10_560,
            set_at: now(),
        }]
    );
}

#[tokio::test]
async fn a_match_delivered_again_publishes_its_price_once() {
    let store = MemoryStore::default();
    let (order, executor) = ready(&store, Level::Junior).await;
    let delivered = matched(order.order_id, executor, 3);
    assert_eq!(
        app::set_price(&store, &delivered, now()).await.unwrap(),
        Outcome::Applied
    );
    assert_eq!(
        app::set_price(&store, &delivered, now()).await.unwrap(),
        Outcome::Duplicate
    );
    // The same match under another event id (matching published it twice).
    let twin = matched(order.order_id, executor, 3);
    let later = now() + Duration::minutes(1);
    assert_eq!(
        app::set_price(&store, &twin, later).await.unwrap(),
        Outcome::Duplicate
    );
    let set = prices_set(&store);
    assert_eq!(set.len(), 1);
    assert_eq!(set[0].value_cents, 9_000);
}

#[tokio::test]
async fn a_different_second_price_is_refused_and_the_first_stands() {
    let store = MemoryStore::default();
    let (order, executor) = ready(&store, Level::Junior).await;
    let delivered = matched(order.order_id, executor, 3);
    app::set_price(&store, &delivered, now()).await.unwrap();
    // The executor is promoted before the match is delivered again.
    let promoted = app::keep_worker_level(&store, &profile(executor, Level::Senior, 2)).await;
    assert_eq!(promoted.unwrap(), Outcome::Applied);
    let again = app::set_price(&store, &delivered, now()).await;
    match again {
        Err(ConsumeError::Poison(reason)) => {
            assert!(
                reason.contains("9000") && reason.contains("12001"),
                "{reason}"
            )
        }
        other => panic!("not refused: {other:?}"),
    }
    // So is a rise of the client's discount.
    let (order, executor) = ready(&store, Level::Middle).await;
    let delivered = matched(order.order_id, executor, 3);
    app::set_price(&store, &delivered, now()).await.unwrap();
    pay(&store, order.client_id, 100_000).await;
    let again = app::set_price(&store, &delivered, now()).await;
    assert!(matches!(again, Err(ConsumeError::Poison(_))), "{again:?}");

    let set = prices_set(&store);
    assert_eq!(
        set.iter().map(|p| p.value_cents).collect::<Vec<_>>(),
        [9_000, 10_001],
        "one price each, the first"
    );
    let first = store.price(set[0].order_id, set[0].executor_id).await;
    assert_eq!(first.unwrap().unwrap().level, Level::Junior);
}

#[tokio::test]
async fn a_match_before_its_order_is_retried_and_priced_once_the_order_arrives() {
    let store = MemoryStore::default();
    let client = Uuid::now_v7();
    let order = created(client, 20_000);
    let executor = Uuid::now_v7();
    app::keep_worker_level(&store, &profile(executor, Level::Middle, 1))
        .await
        .unwrap();
    let delivered = matched(order.order_id, executor, 3);
    let early = app::set_price(&store, &delivered, now()).await;
    assert!(matches!(early, Err(ConsumeError::Retry(_))), "{early:?}");
    assert!(store.published().is_empty(), "nothing priced before");

    estimate(&store, &order).await;
    let redelivered = app::set_price(&store, &delivered, now()).await;
    assert_eq!(redelivered.unwrap(), Outcome::Applied);
    assert_eq!(prices_set(&store)[0].value_cents, 20_000);
}

#[tokio::test]
async fn a_match_before_the_executors_level_is_retried_and_priced_once_it_arrives() {
    let store = MemoryStore::default();
    let order = created(Uuid::now_v7(), 20_000);
    estimate(&store, &order).await;
    let executor = Uuid::now_v7();
    let delivered = matched(order.order_id, executor, 3);
    let early = app::set_price(&store, &delivered, now()).await;
    assert!(matches!(early, Err(ConsumeError::Retry(_))), "{early:?}");
    assert!(prices_set(&store).is_empty());

    app::keep_worker_level(&store, &profile(executor, Level::Junior, 1))
        .await
        .unwrap();
    let redelivered = app::set_price(&store, &delivered, now()).await;
    assert_eq!(redelivered.unwrap(), Outcome::Applied);
    assert_eq!(prices_set(&store)[0].value_cents, 18_000);
}

#[tokio::test]
async fn another_executor_after_a_release_gets_a_price_of_their_own() {
    let store = MemoryStore::default();
    let (order, first) = ready(&store, Level::Junior).await;
    app::set_price(&store, &matched(order.order_id, first, 3), now())
        .await
        .unwrap();
    let second = Uuid::now_v7();
    app::keep_worker_level(&store, &profile(second, Level::Senior, 1))
        .await
        .unwrap();
    let rematched = app::set_price(&store, &matched(order.order_id, second, 6), now()).await;
    assert_eq!(rematched.unwrap(), Outcome::Applied);
    let set = prices_set(&store);
    assert_eq!(
        set.iter()
            .map(|p| (p.executor_id, p.value_cents))
            .collect::<Vec<_>>(),
        [(first, 9_000), (second, 12_001)]
    );
}

#[tokio::test]
async fn the_same_executor_matched_again_after_a_release_is_given_the_first_price_again() {
    let store = MemoryStore::default();
    let (order, executor) = ready(&store, Level::Junior).await;
    app::set_price(&store, &matched(order.order_id, executor, 3), now())
        .await
        .unwrap();
    // Promoted meanwhile, then matched again to the same order: the first price stands, and is
    // published again so the order can be valued again.
    app::keep_worker_level(&store, &profile(executor, Level::Senior, 2))
        .await
        .unwrap();
    let rematched = matched(order.order_id, executor, 6);
    assert_eq!(
        app::set_price(&store, &rematched, now()).await.unwrap(),
        Outcome::Applied
    );
    assert_eq!(
        app::set_price(&store, &rematched, now()).await.unwrap(),
        Outcome::Duplicate
    );
    // The first match, delivered late, answers nothing.
    let late = matched(order.order_id, executor, 3);
    assert_eq!(
        app::set_price(&store, &late, now()).await.unwrap(),
        Outcome::Superseded
    );
    let set = prices_set(&store);
    assert_eq!(set.len(), 2);
    assert_eq!(set[0], set[1], "the same price, twice");
    assert_eq!(set[1].level, Level::Junior);
}

// ---------------------------------------------------------------------------------- copies

#[tokio::test]
async fn copies_keep_the_highest_revision_whatever_the_order_of_arrival() {
    let store = MemoryStore::default();
    let executor = Uuid::now_v7();
    let keep = |level, revision| {
        let store = &store;
        async move {
            app::keep_worker_level(store, &profile(executor, level, revision))
                .await
                .unwrap()
        }
    };
    assert_eq!(keep(Level::Senior, 3).await, Outcome::Applied);
    assert_eq!(keep(Level::Junior, 2).await, Outcome::Superseded);
    assert_eq!(keep(Level::Senior, 3).await, Outcome::Superseded);

    let types = [
        service_type(10_000, true, 2),
        service_type(5_000, true, 1),
        service_type(12_000, false, 3),
    ];
    let outcomes: Vec<Outcome> = {
        let mut outcomes = Vec::new();
        for set in &types {
            let delivered = event("orders", set, now());
            outcomes.push(app::keep_service_type(&store, &delivered).await.unwrap());
        }
        outcomes
    };
    assert_eq!(
        outcomes,
        [Outcome::Applied, Outcome::Superseded, Outcome::Applied]
    );
}

// ---------------------------------------------------------------------------------- quote

async fn quote(store: &MemoryStore, client: Uuid) -> Result<Quote, CalculatorError> {
    app::quote(store, &claims(client, Role::Client), Uuid::from_u128(0x5e)).await
}

#[tokio::test]
async fn a_client_is_quoted_the_estimate_they_would_be_given_now() {
    let store = MemoryStore::default();
    let delivered = event("orders", &service_type(12_345, true, 1), now());
    app::keep_service_type(&store, &delivered).await.unwrap();
    let client = Uuid::now_v7();
    pay(&store, client, 500_000).await;
    assert_eq!(
        quote(&store, client).await.unwrap(),
        Quote {
            service_type_id: Uuid::from_u128(0x5e),
            base_price_cents: 12_345,
            discount_pct: 8,
            estimate_cents: 11_357,
        }
    );
    assert!(store.published().is_empty(), "a quote publishes nothing");
}

#[tokio::test]
async fn an_unknown_or_retired_service_type_is_quoted_to_nobody() {
    let store = MemoryStore::default();
    let client = Uuid::now_v7();
    assert!(matches!(
        quote(&store, client).await,
        Err(CalculatorError::UnknownServiceType)
    ));
    let retired = event("orders", &service_type(12_345, false, 1), now());
    app::keep_service_type(&store, &retired).await.unwrap();
    assert!(matches!(
        quote(&store, client).await,
        Err(CalculatorError::UnknownServiceType)
    ));
}

#[tokio::test]
async fn only_an_active_client_is_quoted() {
    let store = MemoryStore::default();
    let delivered = event("orders", &service_type(12_345, true, 1), now());
    app::keep_service_type(&store, &delivered).await.unwrap();
    for role in [Role::Worker, Role::Manager, Role::Admin, Role::Accountant] {
        let asked = app::quote(&store, &claims(Uuid::now_v7(), role), Uuid::from_u128(0x5e)).await;
        assert!(
            matches!(
                asked,
                Err(CalculatorError::Failed(Failure::Refused(
                    Refused::NotAllowed(_)
                )))
            ),
            "{role}: {asked:?}"
        );
    }
    // The token says client, the account copy says the account was deactivated.
    let mut kiwi = account("Kiwi", Role::Client);
    app::sync_account(&store, &account_event(&kiwi))
        .await
        .unwrap();
    assert!(quote(&store, kiwi.account_id).await.is_ok());
    kiwi.active = false;
    kiwi.revision = 2;
    app::sync_account(&store, &account_event(&kiwi))
        .await
        .unwrap();
    assert!(matches!(
        quote(&store, kiwi.account_id).await,
        Err(CalculatorError::Failed(Failure::Refused(
            Refused::Deactivated
        )))
    ));
}

// ------------------------------------------------------------------------------- payments

#[tokio::test]
async fn a_paid_invoice_counts_once_toward_the_discount() {
    let store = MemoryStore::default();
    let client = Uuid::now_v7();
    let invoice = Payment {
        invoice_id: Uuid::now_v7(),
        client_id: client,
        amount_cents: 100_000,
        paid_at: now(),
    };
    assert_eq!(
        app::record_payment(&store, &invoice).await.unwrap(),
        Outcome::Applied
    );
    assert_eq!(
        app::record_payment(&store, &invoice).await.unwrap(),
        Outcome::Duplicate
    );
    let total = store.paid_total(client).await.unwrap();
    assert_eq!((total.paid_cents, total.discount_pct()), (100_000, 5));
    let nothing = Payment {
        amount_cents: 0,
        invoice_id: Uuid::now_v7(),
        ..invoice
    };
    let refused = app::record_payment(&store, &nothing).await;
    assert!(matches!(refused, Err(ConsumeError::Poison(_))));
    assert_eq!(store.paid_total(client).await.unwrap().paid_cents, 100_000);
}

#[tokio::test]
async fn the_discount_brackets_apply_from_their_first_cent() {
    let store = MemoryStore::default();
    let delivered = event("orders", &service_type(10_000, true, 1), now());
    app::keep_service_type(&store, &delivered).await.unwrap();
    let client = Uuid::now_v7();
    let mut expected = Vec::new();
    let mut quoted = Vec::new();
    // $999.99, $1,000.00, $4,999.99, $5,000.00, $19,999.99, $20,000.00.
    for (step, pct) in [
        (99_999, 0),
        (1, 5),
        (399_999, 5),
        (1, 8),
        (1_499_999, 8),
        (1, 12),
    ] {
        pay(&store, client, step).await;
        expected.push(pct);
        quoted.push(quote(&store, client).await.unwrap().discount_pct);
    }
    assert_eq!(quoted, expected);
}
