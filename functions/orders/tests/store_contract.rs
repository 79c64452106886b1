//! The contract of orders' store ports: what the use cases rely on, asserted through the ports
//! alone. Every contract runs on the in-memory store the use-case tests use (`memory::…`) and on
//! the DynamoDB store over a fresh table of one emulator shared by this binary (`dynamo::…`).

use ates_kernel::contracts::orders::{Place, SupplyLine};
use ates_kernel::event::{Cause, Envelope};
use ates_kernel::idempotency::IdempotencyKey;
use ates_kernel::testing::{account_copies_move_only_forward, at, every_page};
use ates_kernel::usecase::Failure;
use ates_kernel::usecase::{Keyed, Replays};
use ates_orders::error::OrderError;
use ates_orders::order::{Fact, HistoryEntry, Listing, NewOrder, Order, SlotNotice, Step};
use ates_orders::ports::{ApprovalsDue, OrderChanges, OrderListings, Orders, Saved, ServiceTypes};
use ates_orders::service_type::{ServiceType, ServiceTypeFields};
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

ates_kernel::store_contracts!(
    ates_orders::memory::MemoryStore::default(),
    ates_orders::store::Store::new,
    "Orders";
    an_order_is_written_once_and_changes_only_from_the_revision_read,
    a_used_key_writes_nothing_and_keeps_the_first_answer,
    orders_are_listed_by_client_executor_stage_and_dates_newest_first,
    a_report_falls_due_72_hours_after_it_until_it_is_decided,
    service_types_change_only_from_the_revision_read_and_list_active_or_retired,
    account_copies_move_only_forward,
);

fn now() -> DateTime<Utc> {
    at("2026-12-07T09:00:00.123456Z")
}

fn service_type(at: DateTime<Utc>) -> ServiceType {
    let fields = ServiceTypeFields {
        name: Some("Carpet cleaning".into()),
        description: None,
        base_price_cents: Some(12_000),
        required_skill: Some("carpets".into()),
        duration_minutes: Some(60),
        supplies: Some(vec![SupplyLine {
            item: "sponge".into(),
            quantity: 1,
        }]),
    };
    ServiceType::create(Uuid::now_v7(), fields.validate_new().unwrap(), at)
}

fn order_of(client_id: Uuid, created_at: DateTime<Utc>) -> (Order, Step) {
    let valid = NewOrder {
        service_type_id: Uuid::now_v7(),
        description: "The carpet".into(),
        address: "1 Nest Lane".into(),
        slot_start: created_at + Duration::days(1),
    }
    .validate(
        service_type(created_at).ordered().unwrap(),
        SlotNotice::default(),
        created_at,
    )
    .unwrap();
    Order::create(Uuid::now_v7(), client_id, valid, created_at)
}

fn entry(step: &Step, at: DateTime<Utc>) -> HistoryEntry {
    HistoryEntry {
        transition: step.transition,
        version: step.version,
        at,
        actor: "test".into(),
        cause_event_id: None,
        correlation_id: "c".into(),
        places: step.places.clone(),
    }
}

fn no_event(at: DateTime<Utc>) -> Envelope {
    let cause = Cause::request("test");
    let set = service_type(at).set();
    Envelope::wrap("orders", &set, &cause, at).unwrap()
}

async fn add<S: OrderChanges>(store: &S, client_id: Uuid, at: DateTime<Utc>) -> Order {
    let (order, step) = order_of(client_id, at);
    let saved = store
        .add_order(&order, &[entry(&step, at)], &[], None)
        .await
        .unwrap();
    assert_eq!(saved, Saved::Done);
    order
}

/// The order told `facts`, committed with its history.
async fn tell<S: OrderChanges>(store: &S, order: &Order, facts: &[Fact]) -> Order {
    let mut after = order.clone();
    let mut steps = Vec::new();
    for fact in facts {
        let (next, fired) = after.learn(fact.clone(), now()).unwrap();
        after = next;
        steps.extend(fired);
    }
    let history: Vec<_> = steps.iter().map(|s| entry(s, now())).collect();
    let saved = store
        .change_order(order, &after, &history, &[])
        .await
        .unwrap();
    assert_eq!(saved, Saved::Done);
    after
}

async fn an_order_is_written_once_and_changes_only_from_the_revision_read<
    S: Orders + OrderChanges,
>(
    store: &S,
) {
    let order = add(store, Uuid::now_v7(), now()).await;
    assert_eq!(
        store.order(order.order_id).await.unwrap(),
        Some(order.clone())
    );
    let again = store.add_order(&order, &[], &[], None).await.unwrap();
    assert_eq!(again, Saved::Stale, "an order is written once");

    let rated = tell(store, &order, &[Fact::Estimated { estimate_cents: 1 }]).await;
    assert_eq!(
        store.order(order.order_id).await.unwrap(),
        Some(rated.clone())
    );
    // A change from the revision read before is refused, and writes no history.
    let (stale, steps) = order
        .learn(Fact::Estimated { estimate_cents: 2 }, now())
        .unwrap();
    let history: Vec<_> = steps.iter().map(|s| entry(s, now())).collect();
    let refused = store
        .change_order(&order, &stale, &history, &[])
        .await
        .unwrap();
    assert_eq!(refused, Saved::Stale);
    assert_eq!(
        store.order(order.order_id).await.unwrap(),
        Some(rated.clone())
    );

    let history = store.history(order.order_id).await.unwrap();
    let versions: Vec<u64> = history.iter().map(|h| h.version).collect();
    assert_eq!(versions, vec![1, 2]);
    assert_eq!(
        history[1].places,
        vec![Place::Rated, Place::ToMatch, Place::ToSupply]
    );
    assert!(store.order(Uuid::now_v7()).await.unwrap().is_none());
    assert!(store.history(Uuid::now_v7()).await.unwrap().is_empty());
}

async fn a_used_key_writes_nothing_and_keeps_the_first_answer<
    S: Orders + OrderChanges + Replays,
>(
    store: &S,
) {
    let client = Uuid::now_v7();
    let keyed = Keyed {
        key: IdempotencyKey::new(&client.to_string(), "k").unwrap(),
        fingerprint: "create-order {}".into(),
    };
    let (first, step) = order_of(client, now());
    let saved = store
        .add_order(&first, &[entry(&step, now())], &[], Some((&keyed, "first")))
        .await
        .unwrap();
    assert_eq!(saved, Saved::Done);
    let (second, step) = order_of(client, now());
    let saved = store
        .add_order(
            &second,
            &[entry(&step, now())],
            &[],
            Some((&keyed, "second")),
        )
        .await
        .unwrap();
    assert_eq!(saved, Saved::KeyUsed);
    assert!(store.order(second.order_id).await.unwrap().is_none());
    let replay = store.replay(&keyed.key).await.unwrap().unwrap();
    assert_eq!(
        (replay.request.as_str(), replay.body.as_str()),
        ("create-order {}", "first")
    );
}

async fn orders_are_listed_by_client_executor_stage_and_dates_newest_first<
    S: OrderChanges + OrderListings,
>(
    store: &S,
) {
    let (client, executor) = (Uuid::now_v7(), Uuid::now_v7());
    let mut mine = Vec::new();
    for i in 0..5 {
        mine.push(add(store, client, now() + Duration::minutes(i)).await);
    }
    let others = add(store, Uuid::now_v7(), now() + Duration::minutes(10)).await;
    let newest_first: Vec<Uuid> = mine.iter().rev().map(|o| o.order_id).collect();
    let listed: Vec<Uuid> = every_page(2, |cursor| async move {
        store.orders_of_client(client, 2, cursor.as_deref()).await
    })
    .await
    .iter()
    .map(|o: &Order| o.order_id)
    .collect();
    assert_eq!(listed, newest_first);

    // An executor's orders are theirs while they execute them.
    let facts = [
        Fact::Estimated { estimate_cents: 1 },
        Fact::Matched {
            executor_id: executor,
            order_version: 2,
        },
    ];
    let assigned = tell(store, &others, &facts).await;
    let theirs = store.orders_of_executor(executor, 10, None).await.unwrap();
    assert_eq!(theirs.items, vec![assigned.clone()]);
    tell(
        store,
        &assigned,
        &[Fact::ExecutorGone {
            executor_id: executor,
        }],
    )
    .await;
    let theirs = store.orders_of_executor(executor, 10, None).await.unwrap();
    assert!(theirs.items.is_empty(), "released, no longer theirs");

    // By stage, and by dates (from included, until excluded).
    let stage = |name| Listing::new(Some(name), None, None).unwrap();
    let rated = store.orders_in(&stage("rated"), 10, None).await.unwrap();
    assert!(rated.items.iter().any(|o| o.order_id == others.order_id));
    assert!(rated.items.iter().all(|o| o.stage() == Place::Rated));
    let new = store.orders_in(&stage("new"), 100, None).await.unwrap();
    for order in &mine {
        assert!(new.items.iter().any(|o| o.order_id == order.order_id));
    }
    let span = Listing::new(
        None,
        Some(now() + Duration::minutes(1)),
        Some(now() + Duration::minutes(3)),
    )
    .unwrap();
    let within: Vec<Uuid> = store
        .orders_in(&span, 10, None)
        .await
        .unwrap()
        .items
        .iter()
        .map(|o| o.order_id)
        .collect();
    assert_eq!(within, vec![mine[2].order_id, mine[1].order_id]);
    let bad = store
        .orders_of_client(client, 2, Some("not a cursor"))
        .await;
    assert!(matches!(bad, Err(OrderError::Failed(Failure::BadCursor))));
}

async fn a_report_falls_due_72_hours_after_it_until_it_is_decided<
    S: Orders + OrderChanges + ApprovalsDue,
>(
    store: &S,
) {
    let executor = Uuid::now_v7();
    let order = add(store, Uuid::now_v7(), now()).await;
    let pending = tell(
        store,
        &order,
        &[
            Fact::Estimated { estimate_cents: 1 },
            Fact::Matched {
                executor_id: executor,
                order_version: 2,
            },
            Fact::Priced {
                executor_id: executor,
                list_price_cents: 10,
                value_cents: 10,
            },
            Fact::KitIssued {
                kit_id: Uuid::now_v7(),
                executor_id: executor,
            },
        ],
    )
    .await;
    // The executor's pre-report (at the slot) and report (now): in work, then reported.
    let reported = tell(
        store,
        &pending,
        &[
            Fact::PreReported {
                executor_id: executor,
                at: pending.slot_start,
            },
            Fact::Reported {
                executor_id: executor,
                at: now(),
            },
        ],
    )
    .await;
    assert!(reported.is_marked(Place::Report));
    let due = now() + Duration::hours(72);
    let ours = |ids: Vec<Uuid>| ids.contains(&reported.order_id);
    assert!(!ours(
        store
            .approvals_due(due - Duration::seconds(1), 100)
            .await
            .unwrap()
    ));
    assert!(ours(store.approvals_due(due, 100).await.unwrap()));
    let (approved, step) = reported.approve(reported.client_id, now()).unwrap();
    store
        .change_order(&reported, &approved, &[entry(&step, now())], &[])
        .await
        .unwrap();
    assert!(!ours(
        store
            .approvals_due(due + Duration::days(1), 100)
            .await
            .unwrap()
    ));
}

async fn service_types_change_only_from_the_revision_read_and_list_active_or_retired<
    S: ServiceTypes,
>(
    store: &S,
) {
    let first = service_type(now());
    let event = || no_event(now());
    let saved = store
        .save_service_type(&first, None, &event(), None, now())
        .await
        .unwrap();
    assert_eq!(saved, Saved::Done);
    let again = store
        .save_service_type(&first, None, &event(), None, now())
        .await
        .unwrap();
    assert_eq!(again, Saved::Stale, "a type is added once");
    let second = service_type(now() + Duration::seconds(1));
    store
        .save_service_type(&second, None, &event(), None, now())
        .await
        .unwrap();
    let active = store.service_types(true, 10, None).await.unwrap();
    let ids: Vec<Uuid> = active.items.iter().map(|t| t.service_type_id).collect();
    let (a, b) = (
        ids.iter().position(|i| *i == second.service_type_id),
        ids.iter().position(|i| *i == first.service_type_id),
    );
    assert!(a.unwrap() < b.unwrap(), "newest first");

    let retired = first.retire(now()).unwrap();
    let saved = store
        .save_service_type(&retired, Some(&first), &event(), None, now())
        .await
        .unwrap();
    assert_eq!(saved, Saved::Done);
    let stale = store
        .save_service_type(&retired, Some(&first), &event(), None, now())
        .await
        .unwrap();
    assert_eq!(stale, Saved::Stale, "changed from an old revision");
    assert_eq!(
        store.service_type(first.service_type_id).await.unwrap(),
        Some(retired.clone())
    );
    let active = store.service_types(true, 10, None).await.unwrap();
    assert!(active
        .items
        .iter()
        .all(|t| t.service_type_id != first.service_type_id));
    let gone = store.service_types(false, 10, None).await.unwrap();
    assert!(gone
        .items
        .iter()
        .any(|t| t.service_type_id == first.service_type_id));
}
