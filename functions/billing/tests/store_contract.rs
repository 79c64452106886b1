//! The contract of billing's store ports: what the use cases rely on, asserted through the
//! ports (and the use cases over them). Every contract runs on the in-memory store the use-case
//! tests use (`memory::…`) and on the DynamoDB store over a fresh table (`dynamo::…`).

use ates_billing::app::{self, NewBonus, Request};
use ates_billing::invoice::{invoice_id, InvoiceStatus};
use ates_billing::ledger::{Fact, Movement, Period};
use ates_billing::ports::{BillingStore, Booked, Posting};
use ates_kernel::calendar::Calendar;
use ates_kernel::contracts::billing::Outcome as Line;
use ates_kernel::contracts::clock::{Month, MonthEnded, Week, WeekEnded};
use ates_kernel::contracts::orders::{OrderFailedInvoiced, OrderInvoiced, Place};
use ates_kernel::contracts::payments::{CollectionFailed, CollectionFailure};
use ates_kernel::event::{Cause, Envelope};
use ates_kernel::idempotency::IdempotencyKey;
use ates_kernel::identity::Role;
use ates_kernel::testing::{
    account, account_copies_move_only_forward, account_event, at, claims, date, event,
};
use ates_kernel::usecase::Answer;
use uuid::Uuid;

ates_kernel::store_contracts!(
    ates_billing::memory::MemoryStore::default(),
    ates_billing::store::Store::new,
    "Billing";
    a_movement_is_posted_once_and_never_to_an_issued_period,
    an_invoice_is_issued_once_and_changes_only_from_the_version_read,
    a_statement_is_issued_once_and_carries_the_debt,
    a_used_key_writes_nothing_and_keeps_the_first_answer,
    revenue_lines_are_listed_by_their_business_day,
    a_replay_writes_revenue_lines_only_beside_their_movements,
    account_copies_move_only_forward,
);

/// Posts `fact` to its own period, alone: no bonus, no events, no key.
async fn post_alone(store: &impl BillingStore, fact: &Fact) -> (Movement, Booked) {
    let movement = [fact.post(fact.natural_period())];
    let posting = Posting {
        movements: &movement,
        bonus: None,
        events: &[],
        keyed: None,
    };
    let booked = store.post(&posting).await.unwrap();
    let [movement] = movement;
    (movement, booked)
}

fn utc() -> Calendar {
    Calendar::new("UTC", "0").unwrap()
}

fn week() -> Week {
    Week::parse("2026-W49").unwrap()
}

fn declined(client: Uuid, worker: Uuid) -> Envelope {
    let o = OrderInvoiced {
        order_id: Uuid::now_v7(),
        version: 9,
        places: vec![Place::Rated, Place::FailedInvoiced],
        client_id: client,
        executor_id: worker,
        list_price_cents: 10_000,
        value_cents: 9_000,
        decided_by: Some(client),
        reason: Some("no".into()),
        at: at("2026-12-02T10:00:00Z"),
    };
    event(
        "orders",
        &OrderFailedInvoiced(o),
        at("2026-12-02T10:00:00Z"),
    )
}

fn week_ended() -> Envelope {
    let end = at("2026-12-07T00:00:00Z");
    let ended = WeekEnded {
        week: week(),
        time_zone: "UTC".into(),
        started_at: at("2026-11-30T00:00:00Z"),
        ended_at: end,
    };
    event("clock", &ended, end)
}

async fn a_movement_is_posted_once_and_never_to_an_issued_period(store: &impl BillingStore) {
    let client = Uuid::now_v7();
    let fact = Fact::charge(
        Uuid::now_v7(),
        client,
        Line::Approved,
        500,
        at("2026-12-02T10:00:00Z"),
        date("2026-12-02"),
    );
    let movement = [fact.post(Period::Week(week()))];
    let posting = Posting {
        movements: &movement,
        bonus: None,
        events: &[],
        keyed: None,
    };
    assert_eq!(store.post(&posting).await.unwrap(), Booked::Applied);
    assert_eq!(store.post(&posting).await.unwrap(), Booked::AlreadyDone);
    assert_eq!(
        store
            .movements_of(client, Period::Week(week()))
            .await
            .unwrap(),
        movement.to_vec()
    );
    store.issue_period(Period::Week(week())).await.unwrap();
    store.issue_period(Period::Week(week())).await.unwrap();
    let issued = store.issued_from(Period::Week(week())).await.unwrap();
    assert_eq!(issued, vec![Period::Week(week())]);
    assert!(store
        .issued_from(Period::Week(week().next()))
        .await
        .unwrap()
        .is_empty());
    let late = Fact::charge(
        Uuid::now_v7(),
        client,
        Line::Approved,
        700,
        at("2026-12-03T10:00:00Z"),
        date("2026-12-03"),
    );
    let stale = [late.post(Period::Week(week()))];
    let posting = Posting {
        movements: &stale,
        bonus: None,
        events: &[],
        keyed: None,
    };
    assert_eq!(store.post(&posting).await.unwrap(), Booked::Stale);
    let days = store
        .revenue_between(date("2026-12-02"), date("2026-12-03"))
        .await
        .unwrap();
    assert_eq!(days.len(), 1, "nothing of the stale posting was written");
}

async fn an_invoice_is_issued_once_and_changes_only_from_the_version_read(
    store: &impl BillingStore,
) {
    let (client, worker) = (Uuid::now_v7(), Uuid::now_v7());
    app::book_order(store, &utc(), &declined(client, worker), false)
        .await
        .unwrap();
    let now = at("2026-12-07T00:05:00Z");
    app::issue_invoices(store, &week_ended(), now)
        .await
        .unwrap();
    app::issue_invoices(store, &week_ended(), now)
        .await
        .unwrap();
    let id = invoice_id(client, week());
    let invoice = store.invoice(id).await.unwrap().unwrap();
    assert_eq!((invoice.total_cents, invoice.lines.len()), (9_000, 1));
    let listed = store.invoices_of_client(client, 10, None).await.unwrap();
    assert_eq!(listed.items, vec![invoice.clone()]);
    let of_week = store
        .invoices_where(Some(week()), None, 10, None)
        .await
        .unwrap();
    assert!(of_week.items.iter().any(|i| i.invoice_id == id));

    let failed = CollectionFailed {
        invoice_id: id,
        client_id: client,
        attempt: 1,
        amount_cents: 9_000,
        reason: CollectionFailure::CardDeclined,
        failed_at: at("2026-12-07T01:00:00Z"),
    };
    let e = event("payments", &failed, failed.failed_at);
    app::record_collection(store, &utc(), &e).await.unwrap();
    let retrying = store.invoices_in(InvoiceStatus::Retrying).await.unwrap();
    assert!(retrying.iter().any(|i| i.invoice_id == id));
    // A write from the version read before the decline is refused.
    let mut late = invoice.clone();
    late.version += 1;
    assert_eq!(
        store
            .save_invoice(&invoice, &late, None, &[])
            .await
            .unwrap(),
        Booked::Stale
    );
    assert_eq!(
        app::dun(store, at("2026-12-08T01:00:00Z")).await.unwrap(),
        1
    );
    assert_eq!(
        app::dun(store, at("2026-12-08T01:00:00Z")).await.unwrap(),
        0
    );
    let by_status = store
        .invoices_where(Some(week()), Some(InvoiceStatus::Retrying), 10, None)
        .await
        .unwrap();
    assert_eq!(by_status.items.len(), 1);
    assert_eq!(by_status.items[0].requested.len(), 2);
}

async fn a_statement_is_issued_once_and_carries_the_debt(store: &impl BillingStore) {
    let (client, worker) = (Uuid::now_v7(), Uuid::now_v7());
    app::book_order(store, &utc(), &declined(client, worker), false)
        .await
        .unwrap();
    let month = Month::parse("2026-12").unwrap();
    let ended = |month: Month| {
        let end = month.last_day().and_hms_opt(23, 0, 0).unwrap().and_utc();
        let m = MonthEnded {
            month,
            time_zone: "UTC".into(),
            started_at: month.first_day().and_hms_opt(0, 0, 0).unwrap().and_utc(),
            ended_at: end,
        };
        (event("clock", &m, end), end)
    };
    let (december, end) = ended(month);
    app::issue_statements(store, &december, end).await.unwrap();
    app::issue_statements(store, &december, end).await.unwrap();
    let stated = store.statements_of_worker(worker, 10, None).await.unwrap();
    assert_eq!(stated.items.len(), 1);
    assert_eq!(stated.items[0].carried_out_cents, -4_000);
    assert_eq!(
        store.worker(worker).await.unwrap().unwrap().carried_cents,
        -4_000
    );
    let (january, end) = ended(month.next());
    app::issue_statements(store, &january, end).await.unwrap();
    let stated = store.statements_of_worker(worker, 1, None).await.unwrap();
    assert_eq!(stated.items[0].month, month.next(), "newest first");
    assert_eq!(stated.items[0].carried_in_cents, -4_000);
    assert!(stated.next_cursor.is_some());
    let of_month = store.statements_of_month(month, 10, None).await.unwrap();
    assert!(of_month.items.iter().any(|s| s.worker_id == worker));
}

async fn a_used_key_writes_nothing_and_keeps_the_first_answer(store: &impl BillingStore) {
    let manager = account("Boss", Role::Manager);
    let worker = account("Kiwi", Role::Worker);
    for a in [&manager, &worker] {
        store.save_account(a, &account_event(a)).await.unwrap();
    }
    let new = NewBonus {
        worker_id: worker.account_id,
        amount_cents: 1_000,
        reason: "tidy".into(),
    };
    let request = Request {
        cause: Cause::request("test"),
        idempotency: Some(IdempotencyKey::new(&manager.account_id.to_string(), "k").unwrap()),
        now: at("2026-12-10T10:00:00Z"),
    };
    let boss = claims(manager.account_id, Role::Manager);
    let Answer::Fresh(first) = app::grant_bonus(store, &utc(), &boss, &new, &request)
        .await
        .unwrap()
    else {
        panic!("a fresh bonus")
    };
    let Answer::Replayed(replay) = app::grant_bonus(store, &utc(), &boss, &new, &request)
        .await
        .unwrap()
    else {
        panic!("the first answer")
    };
    assert!(replay.body.contains(&first.bonus_id.to_string()));
    let listed = store.bonuses(10, None).await.unwrap();
    assert_eq!(listed.items, vec![first]);
}

async fn revenue_lines_are_listed_by_their_business_day(store: &impl BillingStore) {
    // Sunday 2027-01-10 at 20:00 in New York is Monday 01:00 UTC: the movement keeps the
    // business day the use case gave it, and revenue's days are those.
    let new_york = Calendar::new("America/New_York", "0").unwrap();
    let when = at("2027-01-11T01:00:00Z");
    let on = new_york.business_date(when).unwrap();
    assert_eq!(on, date("2027-01-10"));
    let fact = Fact::charge(
        Uuid::now_v7(),
        Uuid::now_v7(),
        Line::Approved,
        300,
        when,
        on,
    );
    let (movement, booked) = post_alone(store, &fact).await;
    assert_eq!(booked, Booked::Applied);
    let key = movement.key.clone();
    let listed = |from: &str, to: &str| {
        let key = key.clone();
        let (from, to) = (date(from), date(to));
        async move {
            store
                .revenue_between(from, to)
                .await
                .unwrap()
                .into_iter()
                .filter(|m| m.key == key)
                .collect::<Vec<_>>()
        }
    };
    let line: Vec<_> = movement.revenue_line().into_iter().collect();
    assert_eq!(line.len(), 1);
    assert_eq!(listed("2027-01-10", "2027-01-10").await, line);
    assert_eq!(listed("2027-01-04", "2027-01-10").await, line);
    assert!(
        listed("2027-01-11", "2027-01-11").await.is_empty(),
        "not on its UTC date"
    );
}

async fn a_replay_writes_revenue_lines_only_beside_their_movements(store: &impl BillingStore) {
    let on = date("2026-11-20");
    let charge = |value| {
        Fact::charge(
            Uuid::now_v7(),
            Uuid::now_v7(),
            Line::Approved,
            value,
            at("2026-11-20T10:00:00Z"),
            on,
        )
    };
    let (posted, never_posted) = (charge(400), charge(500));
    assert_eq!(post_alone(store, &posted).await.1, Booked::Applied);
    let replayed = [
        posted.revenue_line().unwrap(),
        never_posted.revenue_line().unwrap(),
    ];
    assert_eq!(
        store.project_replayed(&replayed).await.unwrap(),
        1,
        "only the line whose movement the ledger holds"
    );
    assert_eq!(store.project_replayed(&replayed).await.unwrap(), 1);
    let mut lines = store.revenue_between(on, on).await.unwrap();
    lines.retain(|l| l.key == posted.key() || l.key == never_posted.key());
    assert_eq!(lines, [posted.revenue_line().unwrap()], "once, as it was");
}
