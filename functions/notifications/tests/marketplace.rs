//! The marketplace's mails (SPEC M9) on the in-memory store and courier: each once per cause
//! however often and in whatever order its event arrives, kept in the history with its status,
//! retried while SES does not take it and parked on the last delivery; and a message a manager
//! or an admin writes (`POST /notifications/messages`), sent now.

use ates_kernel::contracts::billing::{
    Dunning, InvoiceDeclined, InvoiceIssued, InvoiceLine, InvoicePaid, Outcome as Settled,
    StatementIssued,
};
use ates_kernel::contracts::clock::{Month, Week};
use ates_kernel::contracts::orders::{
    OrderCreated, OrderExecutorAssigned, OrderPending, OrderReported, OrderStep, Place, SupplyLine,
};
use ates_kernel::contracts::supplies::KitReceived;
use ates_kernel::event::{Cause, DomainEvent, Envelope};
use ates_kernel::idempotency::IdempotencyKey;
use ates_kernel::identity::{NotAllowed, Refused, Role};
use ates_kernel::inbox::{ConsumeError, Delivery, Outcome};
use ates_kernel::testing::{account, account_event, at, claims};
use ates_kernel::usecase::Failure;
use ates_notifications::app::{self, Mailing, MessageHistory, Messages, NewMessage, Undelivered};
use ates_notifications::error::NotificationError;
use ates_notifications::memory::{MemoryStore, RecordingCourier};
use ates_notifications::message::{Kind, Status};
use chrono::Utc;
use uuid::Uuid;

const MAX_RECEIVE_COUNT: u32 = 5;
const MAILING: Mailing = Mailing {
    site: "https://ates.test",
    supply_desk: "supply-desk@popug.test",
};

fn delivery(receive_count: u32) -> Delivery {
    Delivery {
        receive_count,
        max_receive_count: MAX_RECEIVE_COUNT,
        replayed: false,
    }
}

/// An event as its producer's relay would put it on the bus, under a new event id each time.
fn event(producer: &str, payload: &impl DomainEvent) -> Envelope {
    Envelope::wrap(producer, payload, &Cause::request("test"), Utc::now()).unwrap()
}

async fn mail(
    store: &MemoryStore,
    courier: &RecordingCourier,
    event: &Envelope,
    receive_count: u32,
) -> Result<Outcome, ConsumeError> {
    let now = Utc::now();
    app::mail_marketplace(
        store,
        courier,
        &MAILING,
        event,
        delivery(receive_count),
        now,
    )
    .await
}

/// An account notifications knows (its copy, from `Account.Created`).
async fn known(store: &MemoryStore, name: &str, role: Role) -> Uuid {
    let person = account(name, role);
    app::sync_account(store, &account_event(&person))
        .await
        .unwrap();
    person.account_id
}

fn created(order_id: Uuid, client_id: Uuid) -> OrderCreated {
    OrderCreated {
        order_id,
        version: 1,
        places: vec![Place::Pending],
        client_id,
        service_type_id: Uuid::now_v7(),
        service_type_revision: 1,
        base_price_cents: 12_000,
        required_skill: "windows".into(),
        slot_start: at("2026-12-08T10:00:00Z"),
        slot_end: at("2026-12-08T12:00:00Z"),
        supplies: vec![],
        at: at("2026-12-07T09:00:00Z"),
    }
}

fn step(order_id: Uuid, version: u64) -> OrderStep {
    OrderStep {
        order_id,
        version,
        places: vec![Place::Pending],
        executor_id: Uuid::now_v7(),
        at: at("2026-12-07T09:00:00Z"),
    }
}

/// One event of each marketplace mail: an order's three steps for `client`, a kit, an invoice
/// issued, declined and paid, `worker`'s statement of a month.
fn the_marketplace(client: Uuid, worker: Uuid) -> (Uuid, Vec<Envelope>) {
    let order = Uuid::now_v7();
    let week = Week::parse("2026-W50").unwrap();
    let invoice = Uuid::now_v7();
    let total_cents = 12_000;
    let events = vec![
        event("orders", &OrderExecutorAssigned(step(order, 3))),
        event("orders", &OrderPending(step(order, 6))),
        event("orders", &OrderReported(step(order, 9))),
        event(
            "supplies",
            &KitReceived {
                kit_id: order,
                order_id: order,
                executor_id: Some(worker),
                items: vec![SupplyLine {
                    item: "sponge".into(),
                    quantity: 2,
                }],
                attempt: 1,
                received_at: at("2026-12-07T09:00:00Z"),
            },
        ),
        event(
            "billing",
            &InvoiceIssued {
                invoice_id: invoice,
                client_id: client,
                week,
                total_cents,
                lines: vec![InvoiceLine {
                    order_id: order,
                    outcome: Settled::Approved,
                    amount_cents: total_cents,
                }],
                issued_at: at("2026-12-14T00:00:00Z"),
            },
        ),
        event(
            "billing",
            &InvoiceDeclined {
                invoice_id: invoice,
                client_id: client,
                week,
                total_cents,
                attempt: 1,
                status: Dunning::Retrying,
                retry_at: Some(at("2026-12-15T00:00:00Z")),
                reason: "insufficient funds".into(),
                declined_at: at("2026-12-14T00:00:00Z"),
            },
        ),
        event(
            "billing",
            &InvoicePaid {
                invoice_id: invoice,
                client_id: client,
                week,
                total_cents,
                paid_at: at("2026-12-15T00:00:00Z"),
            },
        ),
        event(
            "billing",
            &StatementIssued {
                statement_id: Uuid::now_v7(),
                worker_id: worker,
                month: Month::parse("2026-12").unwrap(),
                carried_in_cents: 0,
                shares_cents: 7_200,
                fines_cents: 0,
                waivers_cents: 0,
                bonuses_cents: 1_000,
                total_cents: 8_200,
                salary_cents: 8_200,
                carried_out_cents: 0,
                issued_at: at("2027-01-01T00:00:00Z"),
            },
        ),
    ];
    (order, events)
}

/// The same payload again under a new event id: what a producer that published twice sends.
fn republished(event: &Envelope) -> Envelope {
    Envelope {
        id: Uuid::now_v7(),
        ..event.clone()
    }
}

#[tokio::test]
async fn every_marketplace_mail_is_sent_and_kept_once_per_cause_however_often_it_arrives() {
    let (store, courier) = (MemoryStore::default(), RecordingCourier::default());
    let client = known(&store, "Mango", Role::Client).await;
    let worker = known(&store, "Kiwi", Role::Worker).await;
    let (order, events) = the_marketplace(client, worker);
    let outcome = mail(
        &store,
        &courier,
        &event("orders", &created(order, client)),
        1,
    )
    .await;
    assert_eq!(outcome.unwrap(), Outcome::Applied, "whose order it is");

    for event in &events {
        let first = mail(&store, &courier, event, 1).await;
        assert_eq!(first.unwrap(), Outcome::Applied, "{}", event.name);
        // Delivered again, and published again under another event id: nothing more is sent.
        for again in [event.clone(), republished(event)] {
            let outcome = mail(&store, &courier, &again, 2).await;
            assert_eq!(outcome.unwrap(), Outcome::Duplicate, "{}", event.name);
        }
    }

    let sent = courier.delivered();
    let kinds: Vec<Kind> = sent.iter().map(|(m, _)| m.kind).collect();
    assert_eq!(
        kinds,
        [
            Kind::OrderMatched,
            Kind::OrderPending,
            Kind::OrderReported,
            Kind::KitToHandOut,
            Kind::InvoiceIssued,
            Kind::InvoiceDeclined,
            Kind::InvoicePaid,
            Kind::MonthlyStatement,
        ],
        "one mail per cause, each once"
    );
    let to: Vec<&str> = sent.iter().map(|(m, _)| m.to.as_str()).collect();
    assert_eq!(
        to,
        [
            "mango@popug.test",
            "mango@popug.test",
            "mango@popug.test",
            "supply-desk@popug.test",
            "mango@popug.test",
            "mango@popug.test",
            "mango@popug.test",
            "kiwi@popug.test",
        ]
    );
    let (_, reported) = &sent[2];
    assert!(
        reported.text.starts_with("Hello Mango,"),
        "{}",
        reported.text
    );
    assert!(reported
        .text
        .contains(&format!("https://ates.test/#/orders/{order}")));
    let (_, statement) = &sent[7];
    assert!(
        statement.subject.contains("2026-12: $82.00"),
        "{}",
        statement.subject
    );

    // The history: the client's own mails, newest first, and the worker's statement; the
    // supply desk's kit is in everyone's (the admins') only.
    let theirs = store.messages_to(client, 50, None).await.unwrap().items;
    assert_eq!(theirs.len(), 6);
    assert!(theirs.iter().all(|m| m.status == Status::Sent));
    let statement = store.messages_to(worker, 50, None).await.unwrap().items;
    assert_eq!(statement.len(), 1);
    assert_eq!(statement[0].message_id, format!("salary:{worker}:2026-12"));
    let all = store.all_messages(50, None).await.unwrap().items;
    assert_eq!(all.len(), 8);
    assert!(all
        .iter()
        .all(|m| m.status == Status::Sent && m.attempts == 1));
    let kit = all.iter().find(|m| m.kind == Kind::KitToHandOut).unwrap();
    assert_eq!(
        (kit.message_id.as_str(), kit.account_id),
        (format!("kit:{order}:1").as_str(), None)
    );
}

#[tokio::test]
async fn an_orders_step_waits_for_its_order_and_a_step_matched_again_is_a_new_mail() {
    let (store, courier) = (MemoryStore::default(), RecordingCourier::default());
    let client = known(&store, "Mango", Role::Client).await;
    let order = Uuid::now_v7();
    let matched = event("orders", &OrderExecutorAssigned(step(order, 3)));
    let early = mail(&store, &courier, &matched, 1).await;
    assert!(
        matches!(&early, Err(ConsumeError::Retry(why)) if why.contains("is not known yet")),
        "{early:?}"
    );
    assert!(courier.delivered().is_empty());

    let created = event("orders", &created(order, client));
    mail(&store, &courier, &created, 1).await.unwrap();
    assert_eq!(
        mail(&store, &courier, &created, 2).await.unwrap(),
        Outcome::Applied,
        "a repeated Order.Created is harmless"
    );
    assert_eq!(
        mail(&store, &courier, &matched, 2).await.unwrap(),
        Outcome::Applied
    );
    // Released and matched again: a later version, another cause, another mail.
    let again = event("orders", &OrderExecutorAssigned(step(order, 7)));
    assert_eq!(
        mail(&store, &courier, &again, 1).await.unwrap(),
        Outcome::Applied
    );
    assert_eq!(courier.delivered().len(), 2);
}

#[tokio::test]
async fn a_marketplace_mail_ses_does_not_take_is_retried_then_parked_and_redriven() {
    let (store, courier) = (MemoryStore::default(), RecordingCourier::default());
    let client = known(&store, "Mango", Role::Client).await;
    let (_, events) = the_marketplace(client, Uuid::now_v7());
    let issued = &events[4];
    let id = format!(
        "invoice:{}:issued",
        issued.data["invoice_id"].as_str().unwrap()
    );
    courier.fail_with(
        (0..MAX_RECEIVE_COUNT).map(|_| Undelivered::Failed("TooManyRequestsException".into())),
    );
    for receive_count in 1..=MAX_RECEIVE_COUNT {
        let result = mail(&store, &courier, issued, receive_count).await;
        assert!(matches!(result, Err(ConsumeError::Retry(_))), "{result:?}");
        let message = store.message(&id).await.unwrap().unwrap();
        let expected = if receive_count < MAX_RECEIVE_COUNT {
            Status::Retrying
        } else {
            Status::Failed
        };
        assert_eq!(
            (message.status, message.attempts),
            (expected, receive_count)
        );
        assert_eq!(
            message.last_error.as_deref(),
            Some("TooManyRequestsException")
        );
    }
    // Parked: on the admins' list of what was given up, with why; the request waits in the
    // dead-letter queue.
    let admin = claims(Uuid::now_v7(), Role::Admin);
    let parked = app::all_messages(&store, &admin, true, 10, None)
        .await
        .unwrap();
    assert_eq!(parked.items.len(), 1);
    assert_eq!(parked.items[0].message_id, id);

    let redriven = mail(&store, &courier, issued, 1).await;
    assert_eq!(redriven.unwrap(), Outcome::Applied);
    let message = store.message(&id).await.unwrap().unwrap();
    assert_eq!((message.status, message.attempts), (Status::Sent, 6));
    let parked = app::all_messages(&store, &admin, true, 10, None)
        .await
        .unwrap();
    assert!(parked.items.is_empty(), "sent at last: no longer parked");
    assert_eq!(courier.delivered().len(), 1);

    // An address SES refuses is parked at once: sending it again cannot help.
    courier.fail_with([Undelivered::Rejected("MessageRejected".into())]);
    let paid = mail(&store, &courier, &events[6], 1).await;
    assert!(matches!(paid, Err(ConsumeError::Poison(_))), "{paid:?}");
}

#[tokio::test]
async fn an_event_that_is_no_marketplace_mail_or_is_unreadable_is_poison() {
    let (store, courier) = (MemoryStore::default(), RecordingCourier::default());
    let (_, events) = the_marketplace(Uuid::now_v7(), Uuid::now_v7());
    let mut other = events[0].clone();
    other.name = "Order.Paid".into();
    let mut unreadable = events[4].clone();
    unreadable.data = serde_json::json!({"invoice_id": 7});
    for event in [other, unreadable] {
        let result = mail(&store, &courier, &event, 1).await;
        assert!(matches!(result, Err(ConsumeError::Poison(_))), "{result:?}");
    }
}

// ------------------------------------------------------- POST /notifications/messages (M9)

fn written(to: Uuid, subject: &str) -> NewMessage {
    NewMessage {
        account_id: to,
        subject: subject.into(),
        text: "Please come by the office on Monday.\n\nThanks".into(),
    }
}

#[tokio::test]
async fn a_manager_or_an_admin_writes_to_someone_and_it_is_sent_now_once_per_key() {
    let (store, courier) = (MemoryStore::default(), RecordingCourier::default());
    let kiwi = known(&store, "Kiwi", Role::Worker).await;
    let manager = claims(Uuid::now_v7(), Role::Manager);
    let key = IdempotencyKey::new(&manager.account_id.to_string(), "k-1").unwrap();
    let new = written(kiwi, "Monday");
    let (sent, fresh) = app::send_message(&store, &courier, &manager, Some(&key), &new, Utc::now())
        .await
        .unwrap();
    assert!(fresh);
    assert_eq!(
        (sent.status, sent.kind, sent.to.as_str(), sent.sent_by),
        (
            Status::Sent,
            Kind::Direct,
            "kiwi@popug.test",
            Some(manager.account_id)
        )
    );
    // The same request again (a lost answer): the same message, not sent twice.
    let (again, fresh) =
        app::send_message(&store, &courier, &manager, Some(&key), &new, Utc::now())
            .await
            .unwrap();
    assert!(!fresh);
    assert_eq!(again, sent);
    assert_eq!(courier.delivered().len(), 1);
    // The key for another message: refused, nothing sent.
    let reused = app::send_message(
        &store,
        &courier,
        &manager,
        Some(&key),
        &written(kiwi, "Tuesday"),
        Utc::now(),
    )
    .await;
    assert!(
        matches!(reused, Err(NotificationError::Failed(Failure::KeyReused))),
        "{reused:?}"
    );
    // Without a key each request is its own message; an admin may write too.
    let admin = claims(Uuid::now_v7(), Role::Admin);
    for _ in 0..2 {
        app::send_message(&store, &courier, &admin, None, &new, Utc::now())
            .await
            .unwrap();
    }
    assert_eq!(courier.delivered().len(), 3);
    let theirs = store.messages_to(kiwi, 10, None).await.unwrap().items;
    assert_eq!(theirs.len(), 3, "in the recipient's own history");
}

#[tokio::test]
async fn a_message_ses_does_not_take_is_answered_failed_and_the_same_request_retries_it() {
    let (store, courier) = (MemoryStore::default(), RecordingCourier::default());
    let kiwi = known(&store, "Kiwi", Role::Worker).await;
    let admin = claims(Uuid::now_v7(), Role::Admin);
    let key = IdempotencyKey::new(&admin.account_id.to_string(), "k-2").unwrap();
    let new = written(kiwi, "Monday");
    courier.fail_with([Undelivered::Failed("TooManyRequestsException".into())]);
    let (failed, _) = app::send_message(&store, &courier, &admin, Some(&key), &new, Utc::now())
        .await
        .unwrap();
    assert_eq!(failed.status, Status::Failed);
    assert_eq!(
        failed.last_error.as_deref(),
        Some("TooManyRequestsException")
    );
    let (sent, fresh) = app::send_message(&store, &courier, &admin, Some(&key), &new, Utc::now())
        .await
        .unwrap();
    assert!(fresh);
    assert_eq!((sent.status, sent.attempts), (Status::Sent, 2));
}

#[tokio::test]
async fn only_managers_and_admins_write_and_a_bad_message_is_refused_before_anything_is_sent() {
    let (store, courier) = (MemoryStore::default(), RecordingCourier::default());
    let kiwi = known(&store, "Kiwi", Role::Worker).await;
    for role in [Role::Worker, Role::Accountant, Role::Client] {
        let caller = claims(Uuid::now_v7(), role);
        let refused = app::send_message(
            &store,
            &courier,
            &caller,
            None,
            &written(kiwi, "Hi"),
            Utc::now(),
        )
        .await;
        assert!(
            matches!(refused, Err(NotificationError::Failed(Failure::Refused(Refused::NotAllowed(n)))) if n == NotAllowed { role }),
            "{role}: {refused:?}"
        );
    }
    let manager = claims(Uuid::now_v7(), Role::Manager);
    let long = "x".repeat(app::SUBJECT_MAX + 1);
    for bad in [
        written(kiwi, "  "),
        written(kiwi, "two\nlines"),
        written(kiwi, &long),
        NewMessage {
            text: " \n ".into(),
            ..written(kiwi, "Hi")
        },
    ] {
        let refused = app::send_message(&store, &courier, &manager, None, &bad, Utc::now()).await;
        assert!(
            matches!(refused, Err(NotificationError::Invalid(_))),
            "{refused:?}"
        );
    }
    let stranger = Uuid::now_v7();
    let unknown = app::send_message(
        &store,
        &courier,
        &manager,
        None,
        &written(stranger, "Hi"),
        Utc::now(),
    )
    .await;
    assert!(
        matches!(unknown, Err(NotificationError::UnknownAccount(id)) if id == stranger),
        "{unknown:?}"
    );
    assert!(courier.delivered().is_empty());
    assert!(store.all_messages(10, None).await.unwrap().items.is_empty());
}
