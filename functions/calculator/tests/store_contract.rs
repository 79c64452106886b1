//! The contract of every port of the calculator table (`ports`: each contract names the ports
//! it asserts) and of the kernel's `KeepsAccountCopies` beside them: what the use cases rely on,
//! asserted through the ports alone. Every contract runs on the in-memory store the use-case
//! tests use (`memory::…`) and on the DynamoDB store over a fresh table of one emulator shared
//! by this binary (`dynamo::…`).

use ates_calculator::copies::{ServiceType, WorkerLevel};
use ates_calculator::loyalty::{PaidTotal, Payment};
use ates_calculator::order::{ExecutorPrice, PricedOrder};
use ates_calculator::ports::{Estimates, PaidTotals, Prices, Saved, ServiceTypes, WorkerLevels};
use ates_kernel::contracts::hiring::Level;
use ates_kernel::event::Envelope;
use ates_kernel::inbox::Outcome;
use ates_kernel::testing::{account_copies_move_only_forward, at, event};
use chrono::{DateTime, Utc};
use uuid::Uuid;

ates_kernel::store_contracts!(
    ates_calculator::memory::MemoryStore::default(),
    ates_calculator::store::Store::new,
    "Calculator";
    a_service_type_copy_moves_only_forward,
    a_worker_level_copy_moves_only_forward,
    an_order_is_estimated_once,
    a_price_is_written_once_and_changed_only_from_the_match_read,
    a_payment_counts_once_on_the_total_read,
    account_copies_move_only_forward,
);

fn now() -> DateTime<Utc> {
    at("2026-12-06T10:00:00.123456Z")
}

fn service_type(id: Uuid, base_price_cents: i64, active: bool, revision: u64) -> ServiceType {
    ServiceType {
        service_type_id: id,
        name: "Window cleaning".into(),
        base_price_cents,
        active,
        revision,
    }
}

async fn a_service_type_copy_moves_only_forward<S: ServiceTypes>(store: &S) {
    let id = Uuid::now_v7();
    assert_eq!(store.service_type(id).await.unwrap(), None);
    let second = service_type(id, 20_000, true, 2);
    assert_eq!(
        store.keep_service_type(&second).await.unwrap(),
        Outcome::Applied
    );
    for stale in [
        service_type(id, 10_000, true, 1),
        service_type(id, 1, false, 2),
    ] {
        let kept = store.keep_service_type(&stale).await.unwrap();
        assert_eq!(kept, Outcome::Superseded, "{stale:?}");
    }
    assert_eq!(store.service_type(id).await.unwrap(), Some(second));
    let retired = service_type(id, 20_000, false, 3);
    assert_eq!(
        store.keep_service_type(&retired).await.unwrap(),
        Outcome::Applied
    );
    assert_eq!(store.service_type(id).await.unwrap(), Some(retired));
}

async fn a_worker_level_copy_moves_only_forward<S: WorkerLevels>(store: &S) {
    let id = Uuid::now_v7();
    let level = |level, revision| WorkerLevel {
        account_id: id,
        level,
        revision,
    };
    assert_eq!(store.worker_level(id).await.unwrap(), None);
    let kept = store.keep_worker_level(&level(Level::Middle, 4)).await;
    assert_eq!(kept.unwrap(), Outcome::Applied);
    let stale = store.keep_worker_level(&level(Level::Senior, 4)).await;
    assert_eq!(stale.unwrap(), Outcome::Superseded);
    assert_eq!(
        store.worker_level(id).await.unwrap(),
        Some(level(Level::Middle, 4))
    );
}

fn order(estimate_cents: i64) -> PricedOrder {
    PricedOrder {
        order_id: Uuid::from_u128(0x0de7),
        client_id: Uuid::now_v7(),
        service_type_id: Uuid::now_v7(),
        base_price_cents: 10_000,
        discount_pct: 5,
        estimate_cents,
        given_at: now(),
    }
}

fn given(order: &PricedOrder) -> Envelope {
    event("calculator", &order.given(), now())
}

async fn an_order_is_estimated_once<S: Estimates>(store: &S) {
    let first = PricedOrder {
        order_id: Uuid::now_v7(),
        ..order(9_500)
    };
    assert_eq!(store.order(first.order_id).await.unwrap(), None);
    assert_eq!(
        store.give_estimate(&first, &given(&first)).await.unwrap(),
        Outcome::Applied
    );
    let other = PricedOrder {
        estimate_cents: 1,
        ..first.clone()
    };
    assert_eq!(
        store.give_estimate(&other, &given(&other)).await.unwrap(),
        Outcome::Duplicate
    );
    assert_eq!(store.order(first.order_id).await.unwrap(), Some(first));
}

fn price(order_id: Uuid, executor_id: Uuid, match_version: u64) -> ExecutorPrice {
    ExecutorPrice {
        order_id,
        executor_id,
        level: Level::Junior,
        list_price_cents: 9_000,
        discount_pct: 0,
        value_cents: 9_000,
        priced_version: 3,
        match_version,
        set_at: now(),
    }
}

fn set(price: &ExecutorPrice) -> Envelope {
    event("calculator", &price.set(), now())
}

async fn a_price_is_written_once_and_changed_only_from_the_match_read<S: Prices>(store: &S) {
    let (order_id, executor, other) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    assert_eq!(store.price(order_id, executor).await.unwrap(), None);
    let first = price(order_id, executor, 3);
    assert_eq!(
        store.set_price(&first, None, &set(&first)).await.unwrap(),
        Saved::Done
    );
    // A second writer that read nothing.
    let racing = ExecutorPrice {
        value_cents: 1,
        ..first.clone()
    };
    assert_eq!(
        store.set_price(&racing, None, &set(&racing)).await.unwrap(),
        Saved::Stale
    );
    // Another executor of the same order has a price of their own.
    let theirs = price(order_id, other, 3);
    assert_eq!(
        store.set_price(&theirs, None, &set(&theirs)).await.unwrap(),
        Saved::Done
    );
    // A later match answered, from the match read; a writer that read an older one loses.
    let later = price(order_id, executor, 6);
    assert_eq!(
        store
            .set_price(&later, Some(&first), &set(&later))
            .await
            .unwrap(),
        Saved::Done
    );
    let behind = price(order_id, executor, 7);
    assert_eq!(
        store
            .set_price(&behind, Some(&first), &set(&behind))
            .await
            .unwrap(),
        Saved::Stale
    );
    assert_eq!(store.price(order_id, executor).await.unwrap(), Some(later));
    assert_eq!(store.price(order_id, other).await.unwrap(), Some(theirs));
}

async fn a_payment_counts_once_on_the_total_read<S: PaidTotals>(store: &S) {
    let client = Uuid::now_v7();
    let payment = |amount_cents| Payment {
        invoice_id: Uuid::now_v7(),
        client_id: client,
        amount_cents,
        paid_at: now(),
    };
    let none = store.paid_total(client).await.unwrap();
    assert_eq!(none, PaidTotal::none(client));
    let first = payment(60_000);
    assert!(!store.payment_recorded(first.invoice_id).await.unwrap());
    let after = none.with(&first);
    assert_eq!(
        store.record_payment(&first, &none, &after).await.unwrap(),
        Saved::Done
    );
    assert!(store.payment_recorded(first.invoice_id).await.unwrap());
    // The same invoice again, on the total as it is now: counted already.
    let twice = after.with(&first);
    assert_eq!(
        store.record_payment(&first, &after, &twice).await.unwrap(),
        Saved::Stale
    );
    // Another invoice on the total as it was before the first: the total moved meanwhile.
    let second = payment(40_000);
    let lost = none.with(&second);
    assert_eq!(
        store.record_payment(&second, &none, &lost).await.unwrap(),
        Saved::Stale
    );
    assert!(!store.payment_recorded(second.invoice_id).await.unwrap());
    let both = after.with(&second);
    assert_eq!(
        store.record_payment(&second, &after, &both).await.unwrap(),
        Saved::Done
    );
    let total = store.paid_total(client).await.unwrap();
    assert_eq!((total.paid_cents, total.version), (100_000, 2));
    assert_eq!(total.discount_pct(), 5);
}
