//! Orders' use cases on the in-memory store: the requirements (SPEC M2) without HTTP or AWS.

use ates_kernel::contracts::accounts::AccountSnapshot;
use ates_kernel::contracts::billing::{OrderSettled, Outcome as Charged};
use ates_kernel::contracts::calculator::{EstimateGiven, PriceSet};
use ates_kernel::contracts::hiring::Level;
use ates_kernel::contracts::matching::ExecutorMatched;
use ates_kernel::contracts::orders::{Place, SupplyLine};
use ates_kernel::contracts::reports::{PreReportSubmitted, ReportSubmitted};
use ates_kernel::contracts::supplies::KitIssued;
use ates_kernel::event::{Cause, Envelope};
use ates_kernel::idempotency::IdempotencyKey;
use ates_kernel::identity::{Claims, Role};
use ates_kernel::inbox::Outcome;
use ates_kernel::testing::{account, account_event, at, claims, event};
use ates_kernel::usecase::Failure;
use ates_orders::app::{self, Answer, Request};
use ates_orders::error::OrderError;
use ates_orders::memory::MemoryStore;
use ates_orders::order::SlotNotice;
use ates_orders::order::{Listing, NewOrder, Order, Transition};
use ates_orders::service_type::{ServiceType, ServiceTypeFields};
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

fn now() -> DateTime<Utc> {
    at("2026-12-07T09:00:00Z")
}

fn request() -> Request {
    Request {
        cause: Cause::request("test"),
        idempotency: None,
        now: now(),
    }
}

fn keyed(caller: Uuid, key: &str) -> Request {
    Request {
        idempotency: IdempotencyKey::new(&caller.to_string(), key),
        ..request()
    }
}

fn fresh<T>(answer: Answer<T>) -> T {
    match answer {
        Answer::Fresh(t) => t,
        Answer::Replayed(_) => panic!("a fresh answer"),
    }
}

fn manager() -> Claims {
    claims(Uuid::now_v7(), Role::Manager)
}

fn carpets() -> ServiceTypeFields {
    ServiceTypeFields {
        name: Some("Carpet cleaning".into()),
        description: None,
        base_price_cents: Some(12_000),
        required_skill: Some("carpets".into()),
        duration_minutes: Some(120),
        supplies: Some(vec![SupplyLine {
            item: "sponge".into(),
            quantity: 2,
        }]),
    }
}

async fn service_type(store: &MemoryStore) -> ServiceType {
    fresh(
        app::add_service_type(store, &manager(), &carpets(), &request())
            .await
            .unwrap(),
    )
}

fn new_order(service_type_id: Uuid) -> NewOrder {
    NewOrder {
        service_type_id,
        description: "The big carpet in the hall".into(),
        address: "1 Nest Lane".into(),
        slot_start: now() + Duration::days(2),
    }
}

async fn ordered(store: &MemoryStore, client: &Claims) -> Order {
    let kind = service_type(store).await;
    fresh(
        app::create_order(
            store,
            client,
            &new_order(kind.service_type_id),
            SlotNotice::default(),
            &request(),
        )
        .await
        .unwrap(),
    )
}

fn estimate(order: &Order) -> Envelope {
    let payload = EstimateGiven {
        order_id: order.order_id,
        client_id: order.client_id,
        base_price_cents: 12_000,
        discount_pct: 0,
        estimate_cents: 12_000,
        given_at: now(),
    };
    event("calculator", &payload, now())
}

fn matched(order: &Order, executor_id: Uuid, order_version: u64) -> Envelope {
    let payload = ExecutorMatched {
        order_id: order.order_id,
        order_version,
        executor_id,
        candidates: 1,
        matched_at: now(),
    };
    event("matching", &payload, now())
}

fn price(order: &Order, executor_id: Uuid) -> Envelope {
    let payload = PriceSet {
        order_id: order.order_id,
        executor_id,
        level: Level::Senior,
        list_price_cents: 14_400,
        discount_pct: 0,
        value_cents: 14_400,
        set_at: now(),
    };
    event("calculator", &payload, now())
}

fn kit(order: &Order, executor_id: Uuid) -> Envelope {
    let payload = KitIssued {
        kit_id: Uuid::now_v7(),
        order_id: order.order_id,
        executor_id,
        items: vec![SupplyLine {
            item: "fortune cookie".into(),
            quantity: 1,
        }],
        issued_by: Uuid::now_v7(),
        issued_at: now(),
    };
    event("supplies", &payload, now())
}

/// The executor's pre-report, ten minutes before the slot.
fn pre_report(order: &Order, executor_id: Uuid) -> Envelope {
    let payload = PreReportSubmitted {
        report_id: Uuid::now_v7(),
        order_id: order.order_id,
        executor_id,
        attachment_ids: vec![],
        submitted_at: order.slot_start - Duration::minutes(10),
    };
    event("reports", &payload, now())
}

/// The executor's report, at the slot's end.
fn report(order: &Order, executor_id: Uuid) -> Envelope {
    let payload = ReportSubmitted {
        report_id: Uuid::now_v7(),
        order_id: order.order_id,
        executor_id,
        attachment_ids: vec![],
        submitted_at: order.slot_end,
    };
    event("reports", &payload, now())
}

fn settled(order: &Order, outcome: Charged) -> Envelope {
    let payload = OrderSettled {
        order_id: order.order_id,
        invoice_id: Uuid::now_v7(),
        outcome,
        settled_at: now(),
    };
    event("billing", &payload, now())
}

async fn read(store: &MemoryStore, id: Uuid) -> Order {
    app::order(store, &manager(), id).await.unwrap()
}

fn names(store: &MemoryStore) -> Vec<String> {
    store.published().iter().map(|e| e.name.clone()).collect()
}

#[tokio::test]
async fn a_client_orders_and_the_other_contexts_events_take_the_order_to_pending() {
    let store = MemoryStore::default();
    let client = claims(Uuid::now_v7(), Role::Client);
    let order = ordered(&store, &client).await;
    assert_eq!(order.marking(), vec![Place::New]);
    let worker = Uuid::now_v7();

    assert_eq!(
        app::on_estimate(&store, &estimate(&order), now())
            .await
            .unwrap(),
        Outcome::Applied
    );
    assert_eq!(
        app::on_match(&store, &matched(&order, worker, 2), now())
            .await
            .unwrap(),
        Outcome::Applied
    );
    app::on_kit_issued(&store, &kit(&order, worker), now())
        .await
        .unwrap();
    let found = read(&store, order.order_id).await;
    assert_eq!(found.waiting_for(), vec![Place::Valued]);
    app::on_price(&store, &price(&order, worker), now())
        .await
        .unwrap();

    let found = read(&store, order.order_id).await;
    assert_eq!(found.marking(), vec![Place::Rated, Place::Pending]);
    assert_eq!(found.value_cents, Some(14_400));
    assert_eq!(
        names(&store)[1..],
        [
            "Order.Created",
            "Order.Rated",
            "Order.ExecutorAssigned",
            "Order.Supplied",
            "Order.Valued",
            "Order.Pending",
        ]
    );
    // Every transition in the history, by whom, and why.
    let history = app::history(&store, &client, order.order_id).await.unwrap();
    let transitions: Vec<_> = history.iter().map(|h| h.transition).collect();
    assert_eq!(
        transitions,
        [
            Transition::Create,
            Transition::Rate,
            Transition::Match,
            Transition::Supply,
            Transition::Value,
            Transition::Join,
        ]
    );
    assert_eq!(history[0].actor, client.account_id.to_string());
    assert_eq!(history[1].actor, "calculator");
    assert!(history[1].cause_event_id.is_some());
    assert_eq!(history[2].actor, "matching");
    // The executor reads it; another worker does not.
    app::order(&store, &claims(worker, Role::Worker), order.order_id)
        .await
        .unwrap();
    let mine = app::my_orders(&store, &claims(worker, Role::Worker), 10, None)
        .await
        .unwrap();
    assert_eq!(mine.items.len(), 1);
    let other = app::order(
        &store,
        &claims(Uuid::now_v7(), Role::Worker),
        order.order_id,
    )
    .await;
    assert!(matches!(other, Err(OrderError::UnknownOrder)));
}

#[tokio::test]
async fn every_event_delivered_twice_publishes_each_transition_once() {
    let store = MemoryStore::default();
    let order = ordered(&store, &claims(Uuid::now_v7(), Role::Client)).await;
    let worker = Uuid::now_v7();
    let events = [
        price(&order, worker),
        kit(&order, worker),
        matched(&order, worker, 2),
        estimate(&order),
    ];
    for e in events.iter().chain(events.iter()) {
        match e.name.as_str() {
            "Calculator.EstimateGiven" => app::on_estimate(&store, e, now()).await.unwrap(),
            "Matching.ExecutorMatched" => app::on_match(&store, e, now()).await.unwrap(),
            "Calculator.PriceSet" => app::on_price(&store, e, now()).await.unwrap(),
            _ => app::on_kit_issued(&store, e, now()).await.unwrap(),
        };
    }
    let found = read(&store, order.order_id).await;
    assert_eq!(found.marking(), vec![Place::Rated, Place::Pending]);
    let pendings = names(&store)
        .iter()
        .filter(|n| *n == "Order.Pending")
        .count();
    assert_eq!(pendings, 1);
    assert_eq!(
        names(&store).len(),
        1 + 6,
        "the type, then six transitions once each"
    );
}

#[tokio::test]
async fn a_deactivated_executor_is_released_and_the_order_matched_again() {
    let store = MemoryStore::default();
    let order = ordered(&store, &claims(Uuid::now_v7(), Role::Client)).await;
    let worker = account("Kiwi", Role::Worker);
    app::sync_account(&store, &account_event(&worker), now())
        .await
        .unwrap();
    app::on_estimate(&store, &estimate(&order), now())
        .await
        .unwrap();
    app::on_match(&store, &matched(&order, worker.account_id, 2), now())
        .await
        .unwrap();
    app::on_price(&store, &price(&order, worker.account_id), now())
        .await
        .unwrap();

    let gone = AccountSnapshot {
        active: false,
        revision: 2,
        ..worker.clone()
    };
    let deactivated = account_event(&gone);
    app::sync_account(&store, &deactivated, now())
        .await
        .unwrap();
    let found = read(&store, order.order_id).await;
    assert_eq!(
        found.marking(),
        vec![Place::Rated, Place::ToMatch, Place::ToSupply]
    );
    assert_eq!(found.executor_id, None);
    assert_eq!(names(&store).last().unwrap(), "Order.ExecutorReleased");
    // A redelivery releases nothing twice.
    app::sync_account(&store, &deactivated, now())
        .await
        .unwrap();
    let releases = names(&store)
        .iter()
        .filter(|n| *n == "Order.ExecutorReleased")
        .count();
    assert_eq!(releases, 1);

    // A late match naming the deactivated worker is released at once.
    let other_order = ordered(&store, &claims(Uuid::now_v7(), Role::Client)).await;
    app::on_estimate(&store, &estimate(&other_order), now())
        .await
        .unwrap();
    app::on_match(&store, &matched(&other_order, worker.account_id, 2), now())
        .await
        .unwrap();
    let found = read(&store, other_order.order_id).await;
    assert!(found.is_marked(Place::ToMatch));

    // Matched again: another executor takes it to pending.
    let next = Uuid::now_v7();
    app::on_match(&store, &matched(&order, next, found.version), now())
        .await
        .unwrap();
    app::on_price(&store, &price(&order, next), now())
        .await
        .unwrap();
    app::on_kit_issued(&store, &kit(&order, next), now())
        .await
        .unwrap();
    let found = read(&store, order.order_id).await;
    assert_eq!(found.marking(), vec![Place::Rated, Place::Pending]);
    assert_eq!(found.executor_id, Some(next));
}

#[tokio::test]
async fn the_same_key_and_body_answer_the_same_order_and_another_body_is_refused() {
    let store = MemoryStore::default();
    let client = claims(Uuid::now_v7(), Role::Client);
    let kind = service_type(&store).await;
    let new = new_order(kind.service_type_id);
    let first = app::create_order(
        &store,
        &client,
        &new,
        SlotNotice::default(),
        &keyed(client.account_id, "k1"),
    )
    .await
    .unwrap();
    let first = fresh(first);
    let again = app::create_order(
        &store,
        &client,
        &new,
        SlotNotice::default(),
        &keyed(client.account_id, "k1"),
    )
    .await
    .unwrap();
    let Answer::Replayed(replay) = again else {
        panic!("the first answer again")
    };
    let body: serde_json::Value = serde_json::from_str(&replay.body).unwrap();
    assert_eq!(body["order_id"], first.order_id.to_string());
    let other = NewOrder {
        address: "2 Nest Lane".into(),
        ..new
    };
    let refused = app::create_order(
        &store,
        &client,
        &other,
        SlotNotice::default(),
        &keyed(client.account_id, "k1"),
    )
    .await;
    assert!(matches!(
        refused,
        Err(OrderError::Failed(Failure::KeyReused))
    ));
    let listed = app::my_orders(&store, &client, 10, None).await.unwrap();
    assert_eq!(listed.items.len(), 1);
}

#[tokio::test]
async fn bad_orders_are_refused_and_nothing_is_written() {
    let store = MemoryStore::default();
    let client = claims(Uuid::now_v7(), Role::Client);
    let kind = service_type(&store).await;
    let unknown = app::create_order(
        &store,
        &client,
        &new_order(Uuid::now_v7()),
        SlotNotice::default(),
        &request(),
    )
    .await;
    assert!(matches!(unknown, Err(OrderError::UnknownServiceType(_))));
    let past = NewOrder {
        slot_start: now() - Duration::hours(1),
        ..new_order(kind.service_type_id)
    };
    assert!(matches!(
        app::create_order(&store, &client, &past, SlotNotice::default(), &request()).await,
        Err(OrderError::Invalid(_))
    ));
    let far = NewOrder {
        slot_start: now() + Duration::days(91),
        ..new_order(kind.service_type_id)
    };
    assert!(
        app::create_order(&store, &client, &far, SlotNotice::default(), &request())
            .await
            .is_err()
    );
    app::retire_service_type(&store, &manager(), kind.service_type_id, &request())
        .await
        .unwrap();
    let retired = app::create_order(
        &store,
        &client,
        &new_order(kind.service_type_id),
        SlotNotice::default(),
        &request(),
    )
    .await;
    assert!(matches!(retired, Err(OrderError::Retired(_))));
    // Only clients order.
    let worker = claims(Uuid::now_v7(), Role::Worker);
    let refused = app::create_order(
        &store,
        &worker,
        &new_order(kind.service_type_id),
        SlotNotice::default(),
        &request(),
    )
    .await;
    assert!(matches!(
        refused,
        Err(OrderError::Failed(Failure::Refused(_)))
    ));
    let everything = app::orders(
        &store,
        &manager(),
        &Listing::new(None, None, None).unwrap(),
        10,
        None,
    )
    .await
    .unwrap();
    assert!(everything.items.is_empty());
}

#[tokio::test]
async fn only_the_owning_client_cancels_and_only_before_the_work_began() {
    let store = MemoryStore::default();
    let client = claims(Uuid::now_v7(), Role::Client);
    let order = ordered(&store, &client).await;
    let stranger = claims(Uuid::now_v7(), Role::Client);
    let refused = app::cancel(&store, &stranger, order.order_id, &request()).await;
    assert!(matches!(refused, Err(OrderError::UnknownOrder)));
    let cancelled = app::cancel(&store, &client, order.order_id, &request())
        .await
        .unwrap();
    assert_eq!(cancelled.marking(), vec![Place::Cancelled]);
    let twice = app::cancel(&store, &client, order.order_id, &request()).await;
    assert!(matches!(twice, Err(OrderError::NotNow { .. })));
    // Nothing an event says moves a cancelled order.
    app::on_estimate(&store, &estimate(&order), now())
        .await
        .unwrap();
    assert_eq!(
        read(&store, order.order_id).await.marking(),
        vec![Place::Cancelled]
    );
    let staff = app::orders(
        &store,
        &manager(),
        &Listing::new(Some("cancelled"), None, None).unwrap(),
        10,
        None,
    )
    .await
    .unwrap();
    assert_eq!(staff.items.len(), 1);
    // Approve and decline need a report first.
    let approve = app::approve(&store, &client, order.order_id, &request()).await;
    assert!(matches!(approve, Err(OrderError::NotNow { .. })));
}

#[tokio::test]
async fn service_types_are_kept_by_staff_and_chosen_by_clients() {
    let store = MemoryStore::default();
    let kind = service_type(&store).await;
    let client = claims(Uuid::now_v7(), Role::Client);
    let listed = app::service_types(&store, &client, false, 10, None)
        .await
        .unwrap();
    assert_eq!(listed.items, vec![kind.clone()]);
    assert!(app::service_types(&store, &client, true, 10, None)
        .await
        .is_err());
    let worker = claims(Uuid::now_v7(), Role::Worker);
    assert!(app::service_types(&store, &worker, false, 10, None)
        .await
        .is_err());
    assert!(
        app::add_service_type(&store, &client, &carpets(), &request())
            .await
            .is_err()
    );

    let cheaper = ServiceTypeFields {
        base_price_cents: Some(9_000),
        ..ServiceTypeFields::default()
    };
    let changed = app::change_service_type(
        &store,
        &manager(),
        kind.service_type_id,
        &cheaper,
        &request(),
    )
    .await
    .unwrap();
    assert_eq!((changed.base_price_cents, changed.revision), (9_000, 2));
    assert_eq!(changed.name, kind.name);
    let nothing = app::change_service_type(
        &store,
        &manager(),
        kind.service_type_id,
        &ServiceTypeFields::default(),
        &request(),
    )
    .await;
    assert!(matches!(nothing, Err(OrderError::Invalid(_))));
    let too_cheap = ServiceTypeFields {
        base_price_cents: Some(99),
        ..ServiceTypeFields::default()
    };
    assert!(app::change_service_type(
        &store,
        &manager(),
        kind.service_type_id,
        &too_cheap,
        &request()
    )
    .await
    .is_err());
    app::retire_service_type(&store, &manager(), kind.service_type_id, &request())
        .await
        .unwrap();
    assert!(app::service_types(&store, &client, false, 10, None)
        .await
        .unwrap()
        .items
        .is_empty());
    let retired = app::service_types(&store, &manager(), true, 10, None)
        .await
        .unwrap();
    assert_eq!(retired.items.len(), 1);
    let sets = store
        .published()
        .iter()
        .filter(|e| e.name == "ServiceType.Set")
        .count();
    assert_eq!(sets, 3, "added, changed, retired");
}

#[tokio::test]
async fn reports_not_decided_in_72_hours_are_approved_by_themselves_once() {
    let store = MemoryStore::default();
    let client = claims(Uuid::now_v7(), Role::Client);
    let order = ordered(&store, &client).await;
    let worker = Uuid::now_v7();
    app::on_estimate(&store, &estimate(&order), now())
        .await
        .unwrap();
    app::on_match(&store, &matched(&order, worker, 2), now())
        .await
        .unwrap();
    app::on_price(&store, &price(&order, worker), now())
        .await
        .unwrap();
    app::on_kit_issued(&store, &kit(&order, worker), now())
        .await
        .unwrap();
    // The executor's steps come from reports (M6), each told twice.
    for step in [pre_report(&order, worker), report(&order, worker)] {
        for _ in 0..2 {
            app::on_executors_report(&store, &step, now())
                .await
                .unwrap();
        }
    }
    let reported = read(&store, order.order_id).await;
    assert_eq!(reported.marking(), vec![Place::Rated, Place::Report]);
    let transitions: Vec<String> = store
        .published()
        .iter()
        .map(|e| e.name.clone())
        .filter(|n| ["Order.PreReported", "Order.InWork", "Order.Reported"].contains(&n.as_str()))
        .collect();
    assert_eq!(
        transitions,
        ["Order.PreReported", "Order.InWork", "Order.Reported"]
    );
    // The 72 hours run from the report's own time.
    let reported_at = order.slot_end;
    let early = reported_at + Duration::hours(71);
    assert_eq!(
        app::approve_due_reports(&store, early, "t").await.unwrap(),
        0
    );
    let due = reported_at + Duration::hours(72);
    assert_eq!(app::approve_due_reports(&store, due, "t").await.unwrap(), 1);
    assert_eq!(
        app::approve_due_reports(&store, due, "t").await.unwrap(),
        0,
        "once"
    );
    let approved = read(&store, order.order_id).await;
    assert_eq!(
        approved.marking(),
        vec![Place::Rated, Place::SuccessInvoiced]
    );
    let invoiced = store
        .published()
        .into_iter()
        .find(|e| e.name == "Order.SuccessInvoiced")
        .unwrap();
    assert_eq!(
        invoiced.data["decided_by"],
        serde_json::Value::Null,
        "approved by itself"
    );
    assert_eq!(invoiced.data["value_cents"], 14_400);
    // The client's own approval is refused now: the order moved on.
    let late = app::approve(&store, &client, order.order_id, &request()).await;
    assert!(matches!(late, Err(OrderError::NotNow { .. })));

    // Billing collected the charge: paid, once however often it says so.
    let paid = settled(&order, Charged::Approved);
    for _ in 0..2 {
        app::on_settled(&store, &paid, now()).await.unwrap();
    }
    let order_paid = read(&store, order.order_id).await;
    assert_eq!(order_paid.marking(), vec![Place::Rated, Place::SuccessPaid]);
    assert_eq!(
        names(&store).iter().filter(|n| *n == "Order.Paid").count(),
        1
    );
}

#[tokio::test]
async fn a_pre_report_by_someone_not_the_executor_begins_nothing() {
    let store = MemoryStore::default();
    let client = claims(Uuid::now_v7(), Role::Client);
    let order = ordered(&store, &client).await;
    let (worker, stranger) = (Uuid::now_v7(), Uuid::now_v7());
    app::on_estimate(&store, &estimate(&order), now())
        .await
        .unwrap();
    app::on_match(&store, &matched(&order, worker, 2), now())
        .await
        .unwrap();
    app::on_price(&store, &price(&order, worker), now())
        .await
        .unwrap();
    app::on_kit_issued(&store, &kit(&order, worker), now())
        .await
        .unwrap();
    let told = app::on_executors_report(&store, &pre_report(&order, stranger), now())
        .await
        .unwrap();
    assert_eq!(told, Outcome::Applied, "kept as a fact");
    assert_eq!(
        read(&store, order.order_id).await.marking(),
        vec![Place::Rated, Place::Pending]
    );
    // Billing's settlement of an order not yet invoiced waits for the invoice.
    app::on_settled(&store, &settled(&order, Charged::Approved), now())
        .await
        .unwrap();
    assert_eq!(
        read(&store, order.order_id).await.marking(),
        vec![Place::Rated, Place::Pending]
    );
}

#[tokio::test]
async fn a_service_type_a_path_names_is_404_when_missing_and_409_once_retired() {
    let store = MemoryStore::default();
    let missing = app::retire_service_type(&store, &manager(), Uuid::now_v7(), &request()).await;
    assert!(matches!(missing, Err(OrderError::NoSuchServiceType(_))));
    let kind = service_type(&store).await;
    app::retire_service_type(&store, &manager(), kind.service_type_id, &request())
        .await
        .unwrap();
    let twice =
        app::retire_service_type(&store, &manager(), kind.service_type_id, &request()).await;
    assert!(matches!(twice, Err(OrderError::AlreadyRetired(_))));
    let changed = app::change_service_type(
        &store,
        &manager(),
        kind.service_type_id,
        &carpets(),
        &request(),
    )
    .await;
    assert!(
        matches!(changed, Err(OrderError::AlreadyRetired(_))),
        "{changed:?}"
    );
    let null: Result<ServiceTypeFields, _> = serde_json::from_str(r#"{"supplies": null}"#);
    assert!(null.is_err(), "null is not a value");
    let extra: Result<ServiceTypeFields, _> =
        serde_json::from_str(r#"{"supplies": [{"item": "x", "quantity": 1, "colour": "red"}]}"#);
    assert!(extra.is_err(), "a supply line has two fields");
}
