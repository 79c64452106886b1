//! Accounting's use cases on the in-memory store: the money rules hold under duplicates and any
//! order, and the daily close pays once.

use ates_accounting::app::CloseReports;
use ates_kernel::usecase::Failure;
use std::collections::HashMap;

use ates_accounting::app::{self};
use ates_accounting::close::CloseStatus;
use ates_accounting::error::AccountingError;
use ates_accounting::ledger::Task;
use ates_accounting::memory::MemoryStore;
use ates_kernel::calendar::Calendar;
use ates_kernel::contracts::accounting::{EntryKind, StatementRequested};
use ates_kernel::contracts::clock::DayEnded;
use ates_kernel::contracts::tasks::{TaskAssigned, TaskCompleted, TaskCreated, TaskCreatedV1};
use ates_kernel::event::Envelope;
use ates_kernel::identity::{Claims, NotAllowed, Refused, Role};
use ates_kernel::inbox::{ConsumeError, Outcome};
use ates_kernel::testing::{self, at, date, event};
use chrono::{DateTime, Duration, Utc};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

fn utc() -> Calendar {
    Calendar::new("UTC", "0").unwrap()
}

/// An accountant's proof, as the HTTP edge makes it from the caller.
fn books() -> Claims {
    testing::claims(Uuid::new_v4(), Role::Accountant)
}

/// An employee's own token.
fn own_token(account: Uuid) -> Claims {
    testing::claims(account, Role::Worker)
}

fn created(task: Uuid, when: DateTime<Utc>, legacy: bool) -> Envelope {
    if legacy {
        let v1 = TaskCreatedV1 {
            task_id: task,
            title: "[UBERPOP-7] Feed the parrots".into(),
            description: String::new(),
            created_by: Uuid::now_v7(),
            created_at: when,
        };
        return event("tasks", &v1, when);
    }
    let v3 = TaskCreated {
        task_id: task,
        title: "Feed the parrots".into(),
        jira_id: Some("UBERPOP-7".into()),
        description: String::new(),
        created_by: Uuid::now_v7(),
        created_at: when,
        version: 1,
    };
    event("tasks", &v3, when)
}

fn assigned(task: Uuid, to: Uuid, version: u64, when: DateTime<Utc>) -> Envelope {
    let a = TaskAssigned {
        task_id: task,
        assignee_id: to,
        previous_assignee_id: None,
        shuffle_id: None,
        assigned_at: when,
        version,
    };
    event("tasks", &a, when)
}

fn completed(task: Uuid, by: Uuid, version: u64, when: DateTime<Utc>) -> Envelope {
    let c = TaskCompleted {
        task_id: task,
        assignee_id: by,
        completed_at: when,
        version,
    };
    event("tasks", &c, when)
}

fn day_ended(d: &str) -> Envelope {
    let day = DayEnded {
        business_date: date(d),
        time_zone: "UTC".into(),
        started_at: at(&format!("{d}T00:00:00Z")),
        ended_at: at(&format!("{d}T00:00:00Z")) + Duration::days(1),
    };
    event("clock", &day, day.ended_at)
}

/// Hands an event to the handler its name calls for, as the bus and queues would.
async fn deliver(store: &MemoryStore, e: &Envelope) -> Result<Outcome, ConsumeError> {
    let now = e.occurred_at + Duration::seconds(1);
    match e.name.as_str() {
        "Task.Created" => app::record_task(store, e, now).await,
        "Task.Assigned" => app::charge_fee(store, &utc(), e, now).await,
        "Task.Completed" => app::pay_reward(store, &utc(), e, now).await,
        "Clock.DayEnded" => app::start_close(store, e, now).await,
        other => panic!("no handler for {other}"),
    }
}

/// Runs every queued close page, as the work queue would.
async fn run_close_pages(store: &MemoryStore, now: DateTime<Utc>) {
    while let Some(page) = store.next_work() {
        app::close_page(store, &page, now).await.unwrap();
    }
}

fn balances(store: &MemoryStore) -> HashMap<Uuid, i64> {
    store
        .all_accounts()
        .iter()
        .map(|a| (a.account_id, a.balance_cents))
        .collect()
}

fn published(store: &MemoryStore, name: &str) -> Vec<Envelope> {
    store
        .published()
        .into_iter()
        .filter(|e| e.name == name)
        .collect()
}

#[tokio::test]
async fn money_is_exact_under_duplicates_and_any_order() {
    for seed in 0..40u64 {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let store = MemoryStore::default();
        let people: Vec<Uuid> = (0..rng.gen_range(2..6)).map(|_| Uuid::new_v4()).collect();
        let start = at("2026-11-20T08:00:00Z");
        let mut history = Vec::new();
        // What each event should do, to check against: (task, assignee) per fee, per reward.
        let (mut fees, mut rewards) = (Vec::new(), Vec::new());
        for t in 0..rng.gen_range(1..12) {
            let task = Uuid::new_v4();
            let when = start + Duration::minutes(t * 10);
            history.push(created(task, when, rng.gen_bool(0.3)));
            let mut holder = *people.choose(&mut rng).unwrap();
            let mut version = 1;
            history.push(assigned(task, holder, version, when));
            fees.push((task, holder));
            for s in 0..rng.gen_range(0..5) {
                version += 1;
                holder = *people.choose(&mut rng).unwrap();
                history.push(assigned(
                    task,
                    holder,
                    version,
                    when + Duration::minutes(s + 1),
                ));
                fees.push((task, holder));
            }
            if rng.gen_bool(0.7) {
                history.push(completed(
                    task,
                    holder,
                    version + 1,
                    when + Duration::minutes(9),
                ));
                rewards.push((task, holder));
                if rng.gen_bool(0.3) {
                    // The same completion published again under a new event id (a producer's
                    // retry): the reward is keyed by the task, so it is paid once.
                    history.push(completed(
                        task,
                        holder,
                        version + 1,
                        when + Duration::minutes(9),
                    ));
                }
            }
        }
        let mut deliveries: Vec<Envelope> = history
            .iter()
            .flat_map(|e| std::iter::repeat_n(e.clone(), rng.gen_range(1..=3)))
            .collect();
        deliveries.shuffle(&mut rng);
        for e in &deliveries {
            deliver(&store, e).await.unwrap();
        }

        let prices: HashMap<Uuid, Task> = store
            .all_tasks()
            .into_iter()
            .map(|t| (t.task_id, t))
            .collect();
        let mut expected: HashMap<Uuid, i64> = HashMap::new();
        for (task, who) in &fees {
            *expected.entry(*who).or_default() -= prices[task].fee_cents;
        }
        for (task, who) in &rewards {
            *expected.entry(*who).or_default() += prices[task].reward_cents;
        }
        let actual = balances(&store);
        for (who, cents) in &expected {
            assert_eq!(actual[who], *cents, "seed {seed}: balance of {who}");
        }
        let entries = store.all_entries();
        let count = |kind| entries.iter().filter(|e| e.kind == kind).count();
        assert_eq!(
            count(EntryKind::Fee),
            fees.len(),
            "seed {seed}: one fee per assignment"
        );
        assert_eq!(
            count(EntryKind::Reward),
            rewards.len(),
            "seed {seed}: one reward per completion"
        );
        let company: i64 = entries
            .iter()
            .flat_map(|e| e.legs())
            .filter(|l| l.account.starts_with("company:"))
            .map(|l| l.amount_cents)
            .sum();
        assert_eq!(
            actual.values().sum::<i64>() + company,
            0,
            "seed {seed}: double entry"
        );
        assert_eq!(
            published(&store, "Task.Priced").len(),
            prices.len(),
            "seed {seed}: each task priced once"
        );
        assert!(prices
            .values()
            .all(|t| t.title.as_deref() == Some("Feed the parrots")
                && t.jira_id.as_deref() == Some("UBERPOP-7")));
        assert_eq!(
            published(&store, "Ledger.TransactionPosted").len(),
            entries.len(),
            "seed {seed}: one event per movement"
        );
    }
}

/// Pearson's chi-square of `draws` against a uniform spread over `buckets`.
fn chi_square(draws: &[i64], buckets: &[i64]) -> f64 {
    let expected = draws.len() as f64 / buckets.len() as f64;
    buckets
        .iter()
        .map(|b| {
            let seen = draws.iter().filter(|d| *d == b).count() as f64;
            (seen - expected).powi(2) / expected
        })
        .sum()
}

#[test]
fn prices_are_uniform_whole_dollars() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let tasks: Vec<Task> = (0..22_000)
        .map(|_| Task::priced(Uuid::new_v4(), Utc::now(), &mut rng))
        .collect();
    let fees: Vec<i64> = tasks.iter().map(|t| t.fee_cents).collect();
    let rewards: Vec<i64> = tasks.iter().map(|t| t.reward_cents).collect();
    let fee_buckets: Vec<i64> = (10..=20).map(|d| d * 100).collect();
    let reward_buckets: Vec<i64> = (20..=40).map(|d| d * 100).collect();
    assert!(fees.iter().all(|f| fee_buckets.contains(f)));
    assert!(rewards.iter().all(|r| reward_buckets.contains(r)));
    // Critical values at p = 0.001: 29.59 for 10 degrees of freedom, 45.31 for 20.
    assert!(chi_square(&fees, &fee_buckets) < 29.59);
    assert!(chi_square(&rewards, &reward_buckets) < 45.31);
    // And the test can fail: a spread that leaves out the top dollar is caught.
    let skewed: Vec<i64> = fees.iter().map(|f| (*f).min(1900)).collect();
    assert!(chi_square(&skewed, &fee_buckets) > 29.59);
}

#[tokio::test]
async fn a_completion_before_its_creation_is_rewarded_and_titled_later() {
    let store = MemoryStore::default();
    let (task, worker) = (Uuid::new_v4(), Uuid::new_v4());
    let when = at("2026-11-20T10:00:00Z");
    deliver(&store, &completed(task, worker, 2, when))
        .await
        .unwrap();
    let log = app::audit_log(&store, &books(), worker, 10, None)
        .await
        .unwrap();
    assert_eq!(log.entries[0].title, None);
    deliver(&store, &created(task, when, false)).await.unwrap();
    deliver(&store, &assigned(task, worker, 1, when))
        .await
        .unwrap();
    let log = app::audit_log(&store, &books(), worker, 10, None)
        .await
        .unwrap();
    assert_eq!(log.entries.len(), 2);
    assert!(log
        .entries
        .iter()
        .all(|e| e.title.as_deref() == Some("Feed the parrots")));
    assert_eq!(log.entries[0].kind, EntryKind::Fee, "newest first");
    assert_eq!(published(&store, "Task.Priced").len(), 1);
}

/// Two workers: one ends the day in credit (two rewards, one fee: always), one in debt.
async fn a_day_of_work(store: &MemoryStore) -> (Uuid, Uuid) {
    let (rich, poor) = (Uuid::new_v4(), Uuid::new_v4());
    let when = at("2026-11-20T10:00:00Z");
    let (t1, t2, t3) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    for e in [
        created(t1, when, false),
        assigned(t1, rich, 1, when),
        completed(t1, rich, 2, when),
        completed(t3, rich, 2, when),
        created(t2, when, false),
        assigned(t2, poor, 1, when),
    ] {
        deliver(store, &e).await.unwrap();
    }
    (rich, poor)
}

#[tokio::test]
async fn a_close_fired_twice_pays_and_mails_once_and_carries_debt() {
    let store = MemoryStore::default();
    let (rich, poor) = a_day_of_work(&store).await;
    let before = balances(&store);
    assert!(before[&rich] > 0 && before[&poor] < 0);
    let end = day_ended("2026-11-20");
    let now = at("2026-11-21T00:00:05Z");
    assert_eq!(deliver(&store, &end).await.unwrap(), Outcome::Applied);
    run_close_pages(&store, now).await;
    // Ended again: the same event, and a second one for the same day.
    assert_ne!(deliver(&store, &end).await.unwrap(), Outcome::Applied);
    assert_ne!(
        deliver(&store, &day_ended("2026-11-20")).await.unwrap(),
        Outcome::Applied
    );
    run_close_pages(&store, now).await;

    let after = balances(&store);
    assert_eq!(after[&rich], 0, "paid out and reset");
    assert_eq!(after[&poor], before[&poor], "the debt is carried");
    let payouts = published(&store, "Payout.Made");
    assert_eq!(payouts.len(), 1);
    assert_eq!(payouts[0].data["amount_cents"], before[&rich]);
    let mails: Vec<StatementRequested> = published(&store, "Statement.Requested")
        .iter()
        .map(|e| e.decode().unwrap())
        .collect();
    assert_eq!(mails.len(), 2, "one statement per account");
    let debt = mails.iter().find(|m| m.account_id == poor).unwrap();
    assert_eq!((debt.carried_cents, debt.paid_cents), (before[&poor], 0));
    let report = app::close_report(&store, &books(), date("2026-11-20"))
        .await
        .unwrap();
    assert_eq!(report.status, CloseStatus::Completed);
    assert_eq!(
        (report.accounts_closed, report.payouts, report.debts),
        (2, 1, 1)
    );
    assert_eq!(report.paid_cents, before[&rich]);
    assert_eq!(published(&store, "Day.Closed").len(), 1);
    let log = app::audit_log(&store, &books(), rich, 10, None)
        .await
        .unwrap();
    assert_eq!(log.entries[0].kind, EntryKind::Payout);
    assert_eq!(log.entries[0].balance_after_cents, 0);
}

#[tokio::test]
async fn a_late_event_of_a_closed_day_is_posted_to_the_next_day_and_paid_there() {
    let store = MemoryStore::default();
    let (rich, _) = a_day_of_work(&store).await;
    deliver(&store, &day_ended("2026-11-20")).await.unwrap();
    run_close_pages(&store, at("2026-11-21T00:00:05Z")).await;
    let late = Uuid::new_v4();
    deliver(
        &store,
        &completed(late, rich, 2, at("2026-11-20T23:59:00Z")),
    )
    .await
    .unwrap();
    let log = app::audit_log(&store, &books(), rich, 1, None)
        .await
        .unwrap();
    let line = &log.entries[0];
    assert_eq!(
        (line.occurred_on, line.business_date),
        (date("2026-11-20"), date("2026-11-21"))
    );
    let reward = line.amount_cents;
    deliver(&store, &day_ended("2026-11-21")).await.unwrap();
    run_close_pages(&store, at("2026-11-22T00:00:05Z")).await;
    let paid: Vec<i64> = published(&store, "Payout.Made")
        .iter()
        .filter(|e| e.data["business_date"] == "2026-11-21")
        .map(|e| e.data["amount_cents"].as_i64().unwrap())
        .collect();
    assert_eq!(paid, [reward]);
}

#[tokio::test]
async fn the_close_of_a_day_waits_for_the_day_before() {
    let store = MemoryStore::default();
    a_day_of_work(&store).await;
    deliver(&store, &day_ended("2026-11-20")).await.unwrap();
    let next = day_ended("2026-11-21");
    assert!(matches!(
        deliver(&store, &next).await,
        Err(ConsumeError::Retry(_))
    ));
    let report = app::close_report(&store, &books(), date("2026-11-21"))
        .await
        .unwrap();
    assert_eq!(report.status, CloseStatus::Pending);
    run_close_pages(&store, at("2026-11-21T00:00:05Z")).await;
    assert_eq!(deliver(&store, &next).await.unwrap(), Outcome::Applied);
}

#[tokio::test]
async fn a_crash_mid_page_resumes_without_paying_anyone_twice() {
    let store = MemoryStore::default();
    let when = at("2026-11-20T10:00:00Z");
    let mut earners = Vec::new();
    for _ in 0..12 {
        let (task, who) = (Uuid::new_v4(), Uuid::new_v4());
        deliver(&store, &completed(task, who, 2, when))
            .await
            .unwrap();
        earners.push(who);
    }
    deliver(&store, &day_ended("2026-11-20")).await.unwrap();
    let now = at("2026-11-21T00:00:05Z");
    store.fail_after_closings(Some(5));
    let mut failed = Vec::new();
    while let Some(page) = store.next_work() {
        if app::close_page(&store, &page, now).await.is_err() {
            failed.push(page);
        }
    }
    assert!(!failed.is_empty(), "the crash happened mid-close");
    store.fail_after_closings(None);
    for page in failed {
        app::close_page(&store, &page, now).await.unwrap(); // the redelivery
    }
    run_close_pages(&store, now).await;
    let payouts = published(&store, "Payout.Made");
    assert_eq!(
        payouts.len(),
        earners.len(),
        "each earner paid exactly once"
    );
    assert!(balances(&store).values().all(|b| *b == 0));
    let report = app::close_report(&store, &books(), date("2026-11-20"))
        .await
        .unwrap();
    assert_eq!(report.status, CloseStatus::Completed);
    assert_eq!((report.accounts_closed, report.payouts), (12, 12));
    let paid: i64 = payouts
        .iter()
        .map(|e| e.data["amount_cents"].as_i64().unwrap())
        .sum();
    assert_eq!(report.paid_cents, paid);
}

#[tokio::test]
async fn earnings_are_fees_minus_rewards_per_day_and_ranges_are_checked() {
    let store = MemoryStore::default();
    a_day_of_work(&store).await;
    let now = at("2026-11-20T12:00:00Z");
    let e = app::earnings(
        &store,
        &books(),
        &utc(),
        date("2026-11-19"),
        date("2026-11-20"),
        now,
    )
    .await
    .unwrap();
    assert_eq!(e.days.len(), 2);
    assert_eq!(e.days[0].earnings_cents, 0);
    let day = &e.days[1];
    assert_eq!(day.earnings_cents, day.fees_cents - day.rewards_cents);
    assert!(day.fees_cents >= 2000 && day.rewards_cents >= 2000);
    assert_eq!(e.today, e.days[1]);
    let total: i64 = balances(&store).values().sum();
    assert_eq!(
        day.earnings_cents, -total,
        "what employees lost, the company earned"
    );
    for (from, to) in [("2026-11-20", "2026-11-19"), ("2025-01-01", "2026-01-02")] {
        assert!(
            app::earnings(&store, &books(), &utc(), date(from), date(to), now)
                .await
                .is_err()
        );
    }
    assert!(app::earnings(
        &store,
        &books(),
        &utc(),
        date("2025-01-01"),
        date("2026-01-01"),
        now
    )
    .await
    .is_ok());
}

#[tokio::test]
async fn account_copies_move_forward_only_and_unknown_accounts_are_404() {
    use ates_kernel::contracts::accounts::{AccountCreated, AccountSnapshot, AccountUpdated};
    let store = MemoryStore::default();
    let id = Uuid::new_v4();
    let snapshot = |name: &str, revision| AccountSnapshot {
        account_id: id,
        email: "p@uberpopug.test".into(),
        full_name: name.into(),
        role: Role::Worker,
        active: true,
        revision,
    };
    let now = Utc::now();
    let newer = event("auth", &AccountUpdated(snapshot("Newer", 2)), now);
    let older = event("auth", &AccountCreated(snapshot("Older", 1)), now);
    assert_eq!(
        app::sync_account(&store, &newer).await.unwrap(),
        Outcome::Applied
    );
    assert_eq!(
        app::sync_account(&store, &older).await.unwrap(),
        Outcome::Superseded
    );
    let balance = app::account_balance(&store, &books(), &utc(), id, now)
        .await
        .unwrap();
    assert_eq!(balance.full_name.as_deref(), Some("Newer"));
    assert!(matches!(
        app::account_balance(&store, &books(), &utc(), Uuid::new_v4(), now).await,
        Err(ates_accounting::error::AccountingError::UnknownAccount)
    ));
    assert_eq!(store.account_count().await.unwrap(), 1);
}

#[tokio::test]
async fn a_clients_account_never_reaches_the_ledger() {
    use ates_kernel::contracts::accounts::{AccountCreated, AccountSnapshot, AccountUpdated};
    let store = MemoryStore::default();
    let client = AccountSnapshot {
        account_id: Uuid::new_v4(),
        email: "client@uberpopug.test".into(),
        full_name: "A Client".into(),
        role: Role::Client,
        active: true,
        revision: 1,
    };
    let now = Utc::now();
    let renamed = AccountSnapshot {
        full_name: "Renamed".into(),
        revision: 2,
        ..client.clone()
    };
    for event in [
        event("auth", &AccountCreated(client.clone()), now),
        event("auth", &AccountUpdated(renamed), now),
    ] {
        assert_eq!(
            app::sync_account(&store, &event).await.unwrap(),
            Outcome::NotConcerned
        );
    }
    assert_eq!(
        store.account_count().await.unwrap(),
        0,
        "not on the payroll"
    );
    assert!(matches!(
        app::account_balance(&store, &books(), &utc(), client.account_id, now).await,
        Err(ates_accounting::error::AccountingError::UnknownAccount)
    ));
}

#[tokio::test]
async fn a_payout_is_published_for_payments_and_what_was_kept_before_the_move_is_handed_over_once()
{
    use ates_accounting::payout::{HeldTransfer, KeptDetails, Leftover};
    let store = MemoryStore::default();
    let (rich, _) = a_day_of_work(&store).await;
    let earned = balances(&store)[&rich];
    deliver(&store, &day_ended("2026-11-20")).await.unwrap();
    run_close_pages(&store, at("2026-11-21T00:00:05Z")).await;
    let made = published(&store, "Payout.Made");
    assert_eq!(
        made.len(),
        1,
        "payments sends it: accounting publishes it once"
    );
    assert_eq!(made[0].data["amount_cents"], earned);

    let (kiwi, mango) = (Uuid::now_v7(), Uuid::now_v7());
    store.kept_before_the_move(vec![
        Leftover::Details(KeptDetails {
            account_id: kiwi,
            iban: "DE89370400440532013000".into(),
            updated_at: at("2026-11-19T10:00:00Z"),
        }),
        Leftover::Transfer(HeldTransfer {
            payout_id: format!("payout:{mango}:2026-11-18"),
            account_id: mango,
            business_date: date("2026-11-18"),
            amount_cents: 900,
        }),
    ]);
    let now = at("2026-12-06T12:00:00Z");
    for _ in 0..2 {
        let mut run = app::HandoverRun {
            cursor: None,
            limit: Some(1),
        };
        loop {
            let page = app::hand_over_payouts(&store, &run, now).await.unwrap();
            assert_eq!(page.details + page.held_transfers, 1, "a page of one");
            match page.cursor {
                Some(cursor) => run.cursor = Some(cursor),
                None => break,
            }
        }
    }
    let handed = published(&store, "PayoutDetails.HandedOver");
    assert_eq!(handed.len(), 1, "once, though it ran twice");
    assert_eq!(handed[0].data["iban"], "DE89370400440532013000");
    let again = published(&store, "Payout.Made");
    assert_eq!(
        again.len(),
        2,
        "the held transfer's payout, once more for payments"
    );
    assert_eq!(
        again[1].data["payout_id"],
        format!("payout:{mango}:2026-11-18")
    );
    assert_eq!(again[1].data["amount_cents"], 900);
}

#[tokio::test]
async fn only_admins_and_accountants_read_the_company_books() {
    let store = MemoryStore::default();
    for role in [Role::Worker, Role::Manager] {
        let refused = app::close_report(
            &store,
            &testing::claims(Uuid::new_v4(), role),
            date("2026-11-20"),
        )
        .await;
        assert!(
            matches!(refused, Err(AccountingError::Failed(Failure::Refused(Refused::NotAllowed(n)))) if n == NotAllowed { role }),
            "{role}"
        );
    }
    let (rich, _) = a_day_of_work(&store).await;
    let entries = |log: app::AuditLog| -> Vec<String> {
        log.entries.into_iter().map(|e| e.entry_id).collect()
    };
    let own = entries(
        app::my_audit_log(&store, &own_token(rich), 10, None)
            .await
            .unwrap(),
    );
    assert!(!own.is_empty());
    for role in [Role::Admin, Role::Accountant] {
        let books = testing::claims(Uuid::new_v4(), role);
        let log = app::audit_log(&store, &books, rich, 10, None)
            .await
            .unwrap();
        assert_eq!(entries(log), own, "{role} reads anyone's log");
    }
    let nobody = Uuid::new_v4();
    let quiet = app::my_audit_log(&store, &own_token(nobody), 10, None)
        .await
        .unwrap();
    assert!(
        quiet.entries.is_empty(),
        "one's own log exists before any movement"
    );
    assert!(matches!(
        app::audit_log(&store, &books(), nobody, 10, None).await,
        Err(ates_accounting::error::AccountingError::UnknownAccount)
    ));
}
