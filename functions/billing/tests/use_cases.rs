//! Billing's use cases on the in-memory store, one requirement at a time (SPEC M7).

use ates_billing::app::{self, NewBonus, Request};
use ates_billing::error::BillingError;
use ates_billing::invoice::{invoice_id, InvoiceStatus};
use ates_billing::ledger::Period;
use ates_billing::memory::MemoryStore;
use ates_kernel::calendar::Calendar;
use ates_kernel::contracts::billing::{decode_collection_requested, decode_invoice_issued};
use ates_kernel::contracts::clock::{Month, Week, WeekEnded};
use ates_kernel::contracts::orders::{OrderCancelled, OrderInvoiced, OrderSuccessInvoiced, Place};
use ates_kernel::contracts::payments::{CollectionFailed, CollectionFailure};
use ates_kernel::copies::sync_account;
use ates_kernel::event::{Cause, Envelope};
use ates_kernel::idempotency::IdempotencyKey;
use ates_kernel::identity::{Refused, Role};
use ates_kernel::inbox::Outcome;
use ates_kernel::testing::{account, account_event, at, claims, event};
use ates_kernel::usecase::Answer;
use ates_kernel::usecase::Failure;
use uuid::Uuid;

fn approved(order: Uuid, client: Uuid, when: &str) -> Envelope {
    let o = OrderInvoiced {
        order_id: order,
        version: 9,
        places: vec![Place::Rated, Place::SuccessInvoiced],
        client_id: client,
        executor_id: Uuid::from_u128(77),
        list_price_cents: 10_000,
        value_cents: 9_500,
        decided_by: Some(client),
        reason: None,
        at: at(when),
    };
    event("orders", &OrderSuccessInvoiced(o), at(when))
}

/// The business calendar of most tests: days end at midnight UTC.
fn utc() -> Calendar {
    Calendar::new("UTC", "0").unwrap()
}

fn week_ended(week: &str) -> Envelope {
    let week = Week::parse(week).unwrap();
    let end = week
        .sunday()
        .succ_opt()
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    let ended = WeekEnded {
        week,
        time_zone: "UTC".into(),
        started_at: week.monday().and_hms_opt(0, 0, 0).unwrap().and_utc(),
        ended_at: end,
    };
    event("clock", &ended, end).once_for(&week.to_string())
}

#[tokio::test]
async fn a_charge_after_its_week_was_invoiced_goes_to_the_next_week() {
    let store = MemoryStore::default();
    let client = Uuid::now_v7();
    let (early, late) = (Uuid::now_v7(), Uuid::now_v7());
    let end = at("2026-12-07T00:05:00Z");
    app::book_order(
        &store,
        &utc(),
        &approved(early, client, "2026-12-02T10:00:00Z"),
        false,
    )
    .await
    .unwrap();
    let outcome = app::issue_invoices(&store, &week_ended("2026-W49"), end).await;
    assert_eq!(outcome.unwrap(), Outcome::Applied);
    // The clock says it again: nothing more.
    let again = app::issue_invoices(&store, &week_ended("2026-W49"), end).await;
    assert_eq!(again.unwrap(), Outcome::Duplicate);
    app::book_order(
        &store,
        &utc(),
        &approved(late, client, "2026-12-06T23:00:00Z"),
        false,
    )
    .await
    .unwrap();

    let charge = |order: Uuid| {
        store
            .movements()
            .into_iter()
            .find(|m| m.key == format!("charge:{order}"))
            .unwrap()
    };
    let w49 = Week::parse("2026-W49").unwrap();
    assert_eq!(charge(early).period, Period::Week(w49));
    assert_eq!(charge(late).period, Period::Week(w49.next()));
    let issued: Vec<_> = store
        .published()
        .iter()
        .filter(|e| e.name == "Billing.InvoiceIssued")
        .map(|e| decode_invoice_issued(e).unwrap())
        .collect();
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0].total_cents, 9_500);
    assert_eq!(issued[0].lines.len(), 1);
    let requested: Vec<_> = store
        .published()
        .iter()
        .filter(|e| e.name == "Billing.CollectionRequested")
        .map(|e| decode_collection_requested(e).unwrap())
        .collect();
    assert_eq!((requested.len(), requested[0].attempt), (1, 1));
}

#[tokio::test]
async fn an_order_cancelled_before_it_was_valued_costs_nothing() {
    let store = MemoryStore::default();
    let client = Uuid::now_v7();
    let cancelled = OrderCancelled {
        order_id: Uuid::now_v7(),
        version: 2,
        places: vec![Place::Cancelled],
        client_id: client,
        executor_id: None,
        value_cents: None,
        cancelled_by: client,
        at: at("2026-12-02T10:00:00Z"),
    };
    let e = event("orders", &cancelled, cancelled.at);
    assert_eq!(
        app::book_order(&store, &utc(), &e, false).await.unwrap(),
        Outcome::NotConcerned
    );
    assert!(store.movements().is_empty());
}

#[tokio::test]
async fn a_declined_collection_is_retried_once_per_attempt_when_due() {
    let store = MemoryStore::default();
    let client = Uuid::now_v7();
    app::book_order(
        &store,
        &utc(),
        &approved(Uuid::now_v7(), client, "2026-12-02T10:00:00Z"),
        false,
    )
    .await
    .unwrap();
    app::issue_invoices(&store, &week_ended("2026-W49"), at("2026-12-07T00:05:00Z"))
        .await
        .unwrap();
    let invoice = invoice_id(client, Week::parse("2026-W49").unwrap());
    let failed = CollectionFailed {
        invoice_id: invoice,
        client_id: client,
        attempt: 1,
        amount_cents: 9_500,
        reason: CollectionFailure::NoCard,
        failed_at: at("2026-12-07T01:00:00Z"),
    };
    let e = event("payments", &failed, failed.failed_at);
    assert_eq!(
        app::record_collection(&store, &utc(), &e).await.unwrap(),
        Outcome::Applied
    );
    assert_eq!(
        app::record_collection(&store, &utc(), &e).await.unwrap(),
        Outcome::Duplicate
    );
    assert_eq!(
        app::dun(&store, at("2026-12-08T00:59:00Z")).await.unwrap(),
        0,
        "not due yet"
    );
    assert_eq!(
        app::dun(&store, at("2026-12-08T01:00:00Z")).await.unwrap(),
        1
    );
    assert_eq!(
        app::dun(&store, at("2026-12-08T01:15:00Z")).await.unwrap(),
        0,
        "once"
    );
    let invoices = store.invoices();
    assert_eq!(invoices[0].status, InvoiceStatus::Retrying);
    let attempts: Vec<u32> = store
        .published()
        .iter()
        .filter(|e| e.name == "Billing.CollectionRequested")
        .map(|e| decode_collection_requested(e).unwrap().attempt)
        .collect();
    assert_eq!(attempts, vec![1, 2]);
    assert!(
        store
            .movements()
            .iter()
            .all(|m| !m.key.starts_with("collection:")),
        "no money moved"
    );
}

struct Office {
    store: MemoryStore,
    manager: Uuid,
    worker: Uuid,
}

async fn office() -> Office {
    let store = MemoryStore::default();
    let manager = account("Boss", Role::Manager);
    let worker = account("Kiwi", Role::Worker);
    for a in [&manager, &worker] {
        sync_account(&store, &account_event(a)).await.unwrap();
    }
    Office {
        store,
        manager: manager.account_id,
        worker: worker.account_id,
    }
}

fn request(key: Option<&str>, manager: Uuid) -> Request {
    Request {
        cause: Cause::request("test"),
        idempotency: key.map(|k| IdempotencyKey::new(&manager.to_string(), k).unwrap()),
        now: at("2026-12-10T10:00:00Z"),
    }
}

fn bonus(worker: Uuid, amount_cents: i64, reason: &str) -> NewBonus {
    NewBonus {
        worker_id: worker,
        amount_cents,
        reason: reason.into(),
    }
}

#[tokio::test]
async fn a_manager_grants_a_bonus_once_per_key() {
    let o = office().await;
    let boss = claims(o.manager, Role::Manager);
    let new = bonus(o.worker, 5_000, "kept the kit tidy");
    let first = app::grant_bonus(
        &o.store,
        &utc(),
        &boss,
        &new,
        &request(Some("k1"), o.manager),
    )
    .await
    .unwrap();
    let Answer::Fresh(granted) = first else {
        panic!("a fresh bonus")
    };
    assert_eq!(granted.month, Month::parse("2026-12").unwrap());
    let again = app::grant_bonus(
        &o.store,
        &utc(),
        &boss,
        &new,
        &request(Some("k1"), o.manager),
    )
    .await
    .unwrap();
    let Answer::Replayed(replay) = again else {
        panic!("the first answer again")
    };
    assert!(replay.body.contains(&granted.bonus_id.to_string()));
    let other = bonus(o.worker, 6_000, "kept the kit tidy");
    let reused = app::grant_bonus(
        &o.store,
        &utc(),
        &boss,
        &other,
        &request(Some("k1"), o.manager),
    )
    .await;
    assert!(matches!(
        reused,
        Err(BillingError::Failed(Failure::KeyReused))
    ));
    assert_eq!(o.store.bonuses().len(), 1);
    let keys: Vec<String> = o.store.movements().into_iter().map(|m| m.key).collect();
    assert_eq!(keys, vec![format!("bonus:{}", granted.bonus_id)]);
}

#[tokio::test]
async fn a_bonus_above_the_cap_without_a_reason_or_for_no_worker_writes_nothing() {
    let o = office().await;
    let boss = claims(o.manager, Role::Manager);
    for new in [
        bonus(o.worker, 100_001, "too generous"),
        bonus(o.worker, 0, "nothing"),
        bonus(o.worker, 100, "   "),
        bonus(o.worker, 100, &"x".repeat(501)),
        bonus(o.manager, 100, "not a worker"),
        bonus(Uuid::now_v7(), 100, "nobody"),
    ] {
        let refused =
            app::grant_bonus(&o.store, &utc(), &boss, &new, &request(None, o.manager)).await;
        assert!(matches!(refused, Err(BillingError::Invalid(_))), "{new:?}");
    }
    assert!(o.store.movements().is_empty() && o.store.bonuses().is_empty());
}

#[tokio::test]
async fn only_managers_grant_bonuses() {
    let o = office().await;
    let worker = claims(o.worker, Role::Worker);
    let new = bonus(o.worker, 100, "to myself");
    let refused = app::grant_bonus(&o.store, &utc(), &worker, &new, &request(None, o.worker)).await;
    assert!(matches!(
        refused,
        Err(BillingError::Failed(Failure::Refused(Refused::NotAllowed(
            _
        ))))
    ));
    assert!(o.store.bonuses().is_empty());
}

#[tokio::test]
async fn an_invoice_is_read_by_its_client_and_the_bookkeepers_only() {
    let store = MemoryStore::default();
    let client = account("Client", Role::Client);
    let stranger = account("Stranger", Role::Client);
    let accountant = account("Counter", Role::Accountant);
    for a in [&client, &stranger, &accountant] {
        sync_account(&store, &account_event(a)).await.unwrap();
    }
    app::book_order(
        &store,
        &utc(),
        &approved(Uuid::now_v7(), client.account_id, "2026-12-02T10:00:00Z"),
        false,
    )
    .await
    .unwrap();
    app::issue_invoices(&store, &week_ended("2026-W49"), at("2026-12-07T00:05:00Z"))
        .await
        .unwrap();
    let id = invoice_id(client.account_id, Week::parse("2026-W49").unwrap());
    let own = app::invoice(&store, &claims(client.account_id, Role::Client), id).await;
    assert_eq!(own.unwrap().total_cents, 9_500);
    let other = app::invoice(&store, &claims(stranger.account_id, Role::Client), id).await;
    assert!(matches!(other, Err(BillingError::UnknownInvoice)));
    let books = app::invoice(&store, &claims(accountant.account_id, Role::Accountant), id).await;
    assert!(books.is_ok());
    let mine = app::my_invoices(&store, &claims(client.account_id, Role::Client), 10, None)
        .await
        .unwrap();
    assert_eq!(mine.items.len(), 1);
    let theirs = app::my_invoices(&store, &claims(stranger.account_id, Role::Client), 10, None)
        .await
        .unwrap();
    assert!(theirs.items.is_empty());
    let week = app::invoices(
        &store,
        &claims(accountant.account_id, Role::Accountant),
        Week::parse("2026-W49"),
        Some(InvoiceStatus::Open),
        10,
        None,
    )
    .await
    .unwrap();
    assert_eq!(week.items.len(), 1);
    let revenue = app::revenue(
        &store,
        &claims(accountant.account_id, Role::Accountant),
        ates_kernel::testing::date("2026-11-30"),
        ates_kernel::testing::date("2026-12-06"),
    )
    .await
    .unwrap();
    assert_eq!(revenue.len(), 1);
    assert_eq!(
        (revenue[0].charged_cents, revenue[0].shares_cents),
        (9_500, 6_000)
    );
    let refused = app::revenue(
        &store,
        &claims(client.account_id, Role::Client),
        ates_kernel::testing::date("2026-11-30"),
        ates_kernel::testing::date("2026-12-06"),
    )
    .await;
    assert!(matches!(
        refused,
        Err(BillingError::Failed(Failure::Refused(_)))
    ));
    // At most 366 days, both ends counted, as every range of the API.
    let day = ates_kernel::testing::date;
    let admin = claims(Uuid::now_v7(), Role::Admin);
    let year = app::revenue(&store, &admin, day("2025-12-07"), day("2026-12-07")).await;
    assert!(year.is_ok(), "{year:?}");
    let longer = app::revenue(&store, &admin, day("2025-12-06"), day("2026-12-07")).await;
    assert!(
        matches!(longer, Err(BillingError::Invalid(_))),
        "{longer:?}"
    );
}

#[tokio::test]
async fn a_worker_sees_the_month_so_far() {
    let o = office().await;
    let boss = claims(o.manager, Role::Manager);
    app::grant_bonus(
        &o.store,
        &utc(),
        &boss,
        &bonus(o.worker, 700, "helped"),
        &request(None, o.manager),
    )
    .await
    .unwrap();
    let fine = ates_kernel::contracts::reports::Fine {
        case_id: Uuid::now_v7(),
        order_id: Uuid::now_v7(),
        executor_id: o.worker,
        list_price_cents: 1_000,
        fined_at: at("2026-12-11T10:00:00Z"),
    };
    app::book_quality(
        &o.store,
        &utc(),
        &event("reports", &fine, fine.fined_at),
        false,
    )
    .await
    .unwrap();
    let me = app::my_month(
        &o.store,
        &utc(),
        &claims(o.worker, Role::Worker),
        at("2026-12-12T00:00:00Z"),
    )
    .await
    .unwrap();
    assert_eq!(me.month, Month::parse("2026-12").unwrap());
    assert_eq!(
        (me.bonuses_cents, me.fines_cents, me.expected_salary_cents),
        (700, 400, 300)
    );
}

/// SPEC M7 in a business time zone: the week and month of a fact are its business day's, not
/// its UTC date's.
mod business_time_zone {
    use super::*;
    use ates_billing::ledger::Movement;
    use ates_kernel::testing::date;

    fn new_york() -> Calendar {
        Calendar::new("America/New_York", "0").unwrap()
    }

    /// Moscow, the business day ending at 18:00 there (15:00 UTC).
    fn moscow_at_six() -> Calendar {
        Calendar::new("Europe/Moscow", "18").unwrap()
    }

    fn posted(store: &MemoryStore, key: String) -> Movement {
        store
            .movements()
            .into_iter()
            .find(|m| m.key == key)
            .unwrap_or_else(|| panic!("{key} is posted"))
    }

    #[tokio::test]
    async fn an_order_approved_on_a_sunday_evening_in_new_york_is_on_that_sundays_invoice() {
        let store = MemoryStore::default();
        let client = Uuid::now_v7();
        let order = Uuid::now_v7();
        // Sunday 2026-12-06 at 20:00 in New York is Monday 01:00 UTC.
        app::book_order(
            &store,
            &new_york(),
            &approved(order, client, "2026-12-07T01:00:00Z"),
            false,
        )
        .await
        .unwrap();
        let w49 = Week::parse("2026-W49").unwrap();
        let charge = posted(&store, format!("charge:{order}"));
        assert_eq!(
            (charge.period, charge.date),
            (Period::Week(w49), date("2026-12-06"))
        );
        let share = posted(&store, format!("share:{order}"));
        assert_eq!(
            share.period,
            Period::Month(Month::parse("2026-12").unwrap())
        );
        app::issue_invoices(&store, &week_ended("2026-W49"), at("2026-12-07T05:05:00Z"))
            .await
            .unwrap();
        let invoice = &store.invoices()[0];
        assert_eq!(invoice.week, w49);
        assert_eq!(
            invoice.lines.iter().map(|l| l.order_id).collect::<Vec<_>>(),
            [order]
        );
    }

    #[tokio::test]
    async fn after_the_business_day_ends_at_six_in_moscow_a_charge_is_the_next_weeks() {
        let store = MemoryStore::default();
        let client = Uuid::now_v7();
        let (before, after) = (Uuid::now_v7(), Uuid::now_v7());
        // Sunday 2026-12-06 at 17:30 and at 18:30 in Moscow: the same UTC date, two weeks.
        for (order, when) in [
            (before, "2026-12-06T14:30:00Z"),
            (after, "2026-12-06T15:30:00Z"),
        ] {
            app::book_order(
                &store,
                &moscow_at_six(),
                &approved(order, client, when),
                false,
            )
            .await
            .unwrap();
        }
        let w49 = Week::parse("2026-W49").unwrap();
        let charge = |order: Uuid| posted(&store, format!("charge:{order}"));
        assert_eq!(
            (charge(before).period, charge(before).date),
            (Period::Week(w49), date("2026-12-06"))
        );
        assert_eq!(
            (charge(after).period, charge(after).date),
            (Period::Week(w49.next()), date("2026-12-07"))
        );
        app::issue_invoices(&store, &week_ended("2026-W49"), at("2026-12-06T15:05:00Z"))
            .await
            .unwrap();
        let invoices = store.invoices();
        assert_eq!(invoices.len(), 1);
        assert_eq!(
            invoices[0]
                .lines
                .iter()
                .map(|l| l.order_id)
                .collect::<Vec<_>>(),
            [before]
        );
    }

    #[tokio::test]
    async fn a_workers_month_so_far_is_the_business_month() {
        // New York: the evening of 2026-11-30 is December in UTC, November here.
        let o = office().await;
        let fine = ates_kernel::contracts::reports::Fine {
            case_id: Uuid::now_v7(),
            order_id: Uuid::now_v7(),
            executor_id: o.worker,
            list_price_cents: 1_000,
            fined_at: at("2026-12-01T03:00:00Z"),
        };
        app::book_quality(
            &o.store,
            &new_york(),
            &event("reports", &fine, fine.fined_at),
            false,
        )
        .await
        .unwrap();
        let me = app::my_month(
            &o.store,
            &new_york(),
            &claims(o.worker, Role::Worker),
            at("2026-12-01T04:00:00Z"),
        )
        .await
        .unwrap();
        assert_eq!(me.month, Month::parse("2026-11").unwrap());
        assert_eq!((me.fines_cents, me.expected_salary_cents), (400, 0));

        // Moscow at six: 18:30 on 2026-11-30 is already December's business; a bonus granted
        // then counts in December, and December is the month so far.
        let o = office().await;
        let boss = claims(o.manager, Role::Manager);
        let evening = Request {
            now: at("2026-11-30T15:30:00Z"),
            ..request(None, o.manager)
        };
        let Answer::Fresh(granted) = app::grant_bonus(
            &o.store,
            &moscow_at_six(),
            &boss,
            &bonus(o.worker, 700, "helped"),
            &evening,
        )
        .await
        .unwrap() else {
            panic!("a fresh bonus")
        };
        let december = Month::parse("2026-12").unwrap();
        assert_eq!(granted.month, december);
        let me = app::my_month(
            &o.store,
            &moscow_at_six(),
            &claims(o.worker, Role::Worker),
            evening.now,
        )
        .await
        .unwrap();
        assert_eq!((me.month, me.bonuses_cents), (december, 700));
    }

    #[tokio::test]
    async fn revenue_counts_each_movement_in_its_business_days_week() {
        let store = MemoryStore::default();
        let accountant = account("Counter", Role::Accountant);
        sync_account(&store, &account_event(&accountant))
            .await
            .unwrap();
        let client = Uuid::now_v7();
        // Two Sunday evenings in New York: 2026-11-29 (W48) and 2026-12-06 (W49), both
        // Mondays in UTC.
        for when in ["2026-11-30T02:00:00Z", "2026-12-07T01:00:00Z"] {
            app::book_order(
                &store,
                &new_york(),
                &approved(Uuid::now_v7(), client, when),
                false,
            )
            .await
            .unwrap();
        }
        let books = claims(accountant.account_id, Role::Accountant);
        let revenue = app::revenue(&store, &books, date("2026-11-29"), date("2026-12-06"))
            .await
            .unwrap();
        let weeks: Vec<_> = revenue
            .iter()
            .map(|w| (w.week.unwrap().to_string(), w.charged_cents))
            .collect();
        assert_eq!(
            weeks,
            [
                ("2026-W48".to_owned(), 9_500),
                ("2026-W49".to_owned(), 9_500)
            ]
        );
        // The business Sunday alone has its evening's order, though UTC says Monday.
        let sunday = app::revenue(&store, &books, date("2026-12-06"), date("2026-12-06"))
            .await
            .unwrap();
        assert_eq!(sunday.len(), 1);
        assert_eq!(sunday[0].week, Week::parse("2026-W49"));
    }
}

/// N4: revenue's lines are a projection of the facts billing learned. Lost, they come back by
/// replaying those facts (twice, out of order) and re-projecting the bonuses, and the replay
/// moves no money: the ledger, the invoices and the events published stay as they were, a late
/// fact's line included (its movement went to the week after its own).
#[tokio::test]
async fn revenue_lost_is_rebuilt_by_replay_and_no_money_moves_again() {
    use ates_kernel::contracts::payments::CollectionSucceeded;
    use ates_kernel::contracts::reports::Fine;
    let o = office().await;
    let store = &o.store;
    let client = Uuid::now_v7();
    let (early, late) = (Uuid::now_v7(), Uuid::now_v7());
    let first = approved(early, client, "2026-12-02T10:00:00Z");
    let second = approved(late, client, "2026-12-06T23:00:00Z");
    app::book_order(store, &utc(), &first, false).await.unwrap();
    app::issue_invoices(store, &week_ended("2026-W49"), at("2026-12-07T00:05:00Z"))
        .await
        .unwrap();
    app::book_order(store, &utc(), &second, false)
        .await
        .unwrap();
    let collected = CollectionSucceeded {
        invoice_id: invoice_id(client, Week::parse("2026-W49").unwrap()),
        client_id: client,
        attempt: 1,
        amount_cents: 9_500,
        card_last4: "4242".into(),
        collected_at: at("2026-12-07T01:00:00Z"),
    };
    let paid = event("payments", &collected, collected.collected_at);
    app::on_payment(store, &utc(), &paid, false).await.unwrap();
    let fine = Fine {
        case_id: Uuid::now_v7(),
        order_id: early,
        executor_id: Uuid::from_u128(77),
        list_price_cents: 10_000,
        fined_at: at("2026-12-08T09:00:00Z"),
    };
    let fined = event("reports", &fine, fine.fined_at);
    app::book_quality(store, &utc(), &fined, false)
        .await
        .unwrap();
    app::grant_bonus(
        store,
        &utc(),
        &claims(o.manager, Role::Manager),
        &bonus(o.worker, 2_500, "well done"),
        &request(None, o.manager),
    )
    .await
    .unwrap();

    let books = claims(Uuid::now_v7(), Role::Admin);
    let (from, to) = (
        ates_kernel::testing::date("2026-11-30"),
        ates_kernel::testing::date("2026-12-13"),
    );
    let revenue = app::revenue(store, &books, from, to).await.unwrap();
    assert_eq!(revenue.len(), 2, "{revenue:?}");
    assert_eq!(
        (revenue[0].charged_cents, revenue[1].collected_cents),
        (19_000, 9_500)
    );
    assert_eq!(
        (revenue[1].fines_cents, revenue[1].bonuses_cents),
        (4_000, 2_500)
    );
    let (movements, invoices, published) =
        (store.movements(), store.invoices(), store.published().len());

    store.lose_revenue_lines();
    assert!(app::revenue(store, &books, from, to)
        .await
        .unwrap()
        .is_empty());
    for _ in 0..2 {
        for e in [&paid, &second, &fined, &first] {
            app::book_order(store, &utc(), e, true).await.unwrap();
            app::book_quality(store, &utc(), e, true).await.unwrap();
            app::on_payment(store, &utc(), e, true).await.unwrap();
        }
        assert_eq!(app::reproject_bonuses(store, &utc()).await.unwrap(), 1);
    }

    assert_eq!(
        app::revenue(store, &books, from, to).await.unwrap(),
        revenue
    );
    assert_eq!(store.movements(), movements, "no money moved again");
    assert_eq!(store.invoices(), invoices);
    assert_eq!(
        store.published().len(),
        published,
        "nothing published again"
    );
}
