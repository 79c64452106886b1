//! Analytics' use cases on the in-memory store: its figures agree with accounting's for the
//! same history, whatever the order and however often events arrive; the most expensive task
//! follows the SPEC's example and the tie rule.

use ates_analytics::app::{self, Asked};
use ates_analytics::error::AnalyticsError;
use ates_analytics::memory::MemoryStore;
use ates_analytics::projection::Period;
use ates_kernel::calendar::Calendar;
use ates_kernel::contracts::accounting::{EntryKind, Leg, TransactionPosted};
use ates_kernel::contracts::clock::DayEnded;
use ates_kernel::contracts::tasks::{TaskAssigned, TaskCompleted, TaskCreated};
use ates_kernel::event::Envelope;
use ates_kernel::identity::{Claims, NotAllowed, Refused, Role};
use ates_kernel::inbox::Delivery;
use ates_kernel::testing::{at, claims, date, event};
use ates_kernel::usecase::Failure;
use chrono::Duration;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

/// An event as the bus delivers it live, the first time.
const LIVE: Delivery = Delivery {
    receive_count: 1,
    max_receive_count: 5,
    replayed: false,
};

/// An admin's token (no copy of the account yet, so the token stands).
fn admin() -> Claims {
    claims(Uuid::new_v4(), Role::Admin)
}

fn utc() -> Calendar {
    Calendar::new("UTC", "0").unwrap()
}

/// Runs a generated history of two business days through accounting (its own use cases, on its
/// in-memory store), closing the first day; answers accounting's store.
async fn accounting_history(seed: u64) -> ates_accounting::memory::MemoryStore {
    use ates_accounting::app as accounting;
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let store = ates_accounting::memory::MemoryStore::default();
    let people: Vec<Uuid> = (0..rng.gen_range(2..6)).map(|_| Uuid::new_v4()).collect();
    for (day, start) in ["2026-03-01T08:00:00Z", "2026-03-02T08:00:00Z"]
        .iter()
        .enumerate()
    {
        for t in 0..rng.gen_range(1..10) {
            let (task, when) = (Uuid::new_v4(), at(start) + Duration::minutes(t * 7));
            let mut holder = *people.choose(&mut rng).unwrap();
            let created = TaskCreated {
                task_id: task,
                title: format!("Task {t}"),
                jira_id: None,
                description: String::new(),
                created_by: holder,
                created_at: when,
                version: 1,
            };
            accounting::record_task(&store, &event("tasks", &created, when), when)
                .await
                .unwrap();
            for version in 1..rng.gen_range(2..5) {
                if version > 1 {
                    holder = *people.choose(&mut rng).unwrap();
                }
                let assigned = TaskAssigned {
                    task_id: task,
                    assignee_id: holder,
                    previous_assignee_id: None,
                    shuffle_id: None,
                    assigned_at: when,
                    version,
                };
                accounting::charge_fee(&store, &utc(), &event("tasks", &assigned, when), when)
                    .await
                    .unwrap();
            }
            if rng.gen_bool(0.6) {
                let completed = TaskCompleted {
                    task_id: task,
                    assignee_id: holder,
                    completed_at: when,
                    version: 9,
                };
                accounting::pay_reward(&store, &utc(), &event("tasks", &completed, when), when)
                    .await
                    .unwrap();
            }
        }
        if day == 0 {
            let end = DayEnded {
                business_date: date("2026-03-01"),
                time_zone: "UTC".into(),
                started_at: at("2026-03-01T00:00:00Z"),
                ended_at: at("2026-03-02T00:00:00Z"),
            };
            let now = at("2026-03-02T00:00:01Z");
            accounting::start_close(&store, &event("clock", &end, now), now)
                .await
                .unwrap();
            while let Some(page) = store.next_work() {
                accounting::close_page(&store, &page, now).await.unwrap();
            }
        }
    }
    store
}

#[tokio::test]
async fn analytics_agrees_with_accounting_under_duplicates_and_any_order() {
    for seed in 0..25 {
        let accounting = accounting_history(seed).await;
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed + 1000);
        let mut deliveries: Vec<Envelope> = accounting
            .published()
            .into_iter()
            .filter(|e| e.name == "Ledger.TransactionPosted" || e.name == "Task.Created")
            .flat_map(|e| std::iter::repeat_n(e, rng.gen_range(1..=3)))
            .collect();
        deliveries.shuffle(&mut rng);
        let analytics = MemoryStore::default();
        for e in &deliveries {
            match e.name.as_str() {
                "Ledger.TransactionPosted" => {
                    app::record_movement(&analytics, e, LIVE).await.unwrap()
                }
                _ => app::record_title(&analytics, e, LIVE).await.unwrap(),
            };
        }
        let (from, to) = (date("2026-03-01"), date("2026-03-02"));
        let theirs = ates_accounting::app::earnings(
            &accounting,
            &claims(Uuid::new_v4(), Role::Accountant),
            &utc(),
            from,
            to,
            at("2026-03-02T12:00:00Z"),
        )
        .await
        .unwrap();
        let ours = app::earnings(
            &analytics,
            &admin(),
            &utc(),
            Some((from, to)),
            at("2026-03-02T12:00:00Z"),
        )
        .await
        .unwrap();
        for (a, b) in theirs.days.iter().zip(&ours.days) {
            assert_eq!(
                (a.date, a.fees_cents, a.rewards_cents, a.earnings_cents),
                (b.date, b.fees_cents, b.rewards_cents, b.earnings_cents),
                "seed {seed}"
            );
        }
        let in_debt = accounting
            .all_accounts()
            .iter()
            .filter(|a| a.balance_cents < 0)
            .count() as i64;
        let summary = app::summary(&analytics, &admin(), &utc(), at("2026-03-02T12:00:00Z"))
            .await
            .unwrap();
        assert_eq!(summary.negative_balance_accounts, in_debt, "seed {seed}");
        assert_eq!(
            summary.management_earnings_today_cents,
            theirs.days[1].earnings_cents
        );
        // The most expensive task of the two days is the highest reward accounting paid.
        let rewards: Vec<i64> = accounting
            .all_entries()
            .iter()
            .filter(|e| e.kind == EntryKind::Reward)
            .map(|e| e.amount_cents)
            .collect();
        let best = app::most_expensive_task(&analytics, &admin(), Asked::Range(from, to))
            .await
            .unwrap();
        assert_eq!(
            best.task.map(|t| t.reward_cents),
            rewards.iter().max().copied(),
            "seed {seed}"
        );
    }
}

fn reward(task: Uuid, cents: i64, when: &str) -> Envelope {
    let account = Uuid::new_v4();
    let posted = TransactionPosted {
        transaction_id: format!("reward:{task}"),
        kind: EntryKind::Reward,
        account_id: account,
        amount_cents: cents,
        balance_after_cents: cents,
        sequence: 1,
        business_date: date(&when[..10]),
        occurred_at: at(when),
        posted_at: at(when),
        task_id: Some(task),
        legs: vec![
            Leg {
                account: format!("employee:{account}"),
                amount_cents: cents,
            },
            Leg {
                account: "company:revenue".into(),
                amount_cents: -cents,
            },
        ],
    };
    event("accounting", &posted, at(when))
}

#[tokio::test]
async fn the_most_expensive_task_follows_the_spec_example() {
    let store = MemoryStore::default();
    let (t1, t2, t3, t4) = (
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
    );
    for e in [
        reward(t1, 2000, "2026-03-01T10:00:00Z"),
        reward(t2, 3800, "2026-03-02T10:00:00Z"),
        reward(t3, 2500, "2026-03-02T12:00:00Z"),
        reward(t4, 2800, "2026-03-03T10:00:00Z"),
    ] {
        app::record_movement(&store, &e, LIVE).await.unwrap();
    }
    let created = TaskCreated {
        task_id: t2,
        title: "Polish the beaks".into(),
        jira_id: Some("UBERPOP-38".into()),
        description: String::new(),
        created_by: Uuid::new_v4(),
        created_at: at("2026-03-02T09:00:00Z"),
        version: 1,
    };
    app::record_title(&store, &event("tasks", &created, created.created_at), LIVE)
        .await
        .unwrap();
    let ask = |from: &str, to: &str| Asked::Range(date(from), date(to));
    let cents = |r: app::MostExpensive| r.task.map(|t| t.reward_cents);
    assert_eq!(
        cents(
            app::most_expensive_task(&store, &admin(), ask("2026-03-03", "2026-03-03"))
                .await
                .unwrap()
        ),
        Some(2800)
    );
    assert_eq!(
        cents(
            app::most_expensive_task(&store, &admin(), ask("2026-03-02", "2026-03-02"))
                .await
                .unwrap()
        ),
        Some(3800)
    );
    let range = app::most_expensive_task(&store, &admin(), ask("2026-03-01", "2026-03-03"))
        .await
        .unwrap();
    let task = range.task.unwrap();
    assert_eq!(
        (
            task.reward_cents,
            task.title.as_deref(),
            task.jira_id.as_deref()
        ),
        (3800, Some("Polish the beaks"), Some("UBERPOP-38"))
    );
    let month = app::most_expensive_task(
        &store,
        &admin(),
        Asked::Period(Period::Month, date("2026-03-17")),
    )
    .await
    .unwrap();
    assert_eq!(
        (month.from, month.to, month.task.map(|t| t.task_id)),
        (date("2026-03-01"), date("2026-03-31"), Some(t2))
    );
    let week = app::most_expensive_task(
        &store,
        &admin(),
        Asked::Period(Period::Week, date("2026-03-04")),
    )
    .await
    .unwrap();
    assert_eq!(week.from, date("2026-03-02"));
    assert_eq!(week.task.map(|t| t.reward_cents), Some(3800));
    let quiet = app::most_expensive_task(&store, &admin(), ask("2026-04-01", "2026-04-30"))
        .await
        .unwrap();
    assert!(quiet.task.is_none());
}

#[tokio::test]
async fn a_tie_goes_to_the_earlier_completion_in_either_order() {
    for first_late in [true, false] {
        let store = MemoryStore::default();
        let (early, late) = (Uuid::new_v4(), Uuid::new_v4());
        let mut events = vec![
            reward(early, 3000, "2026-03-02T09:00:00Z"),
            reward(late, 3000, "2026-03-02T17:00:00Z"),
        ];
        if first_late {
            events.reverse();
        }
        for e in &events {
            app::record_movement(&store, e, LIVE).await.unwrap();
        }
        let best = app::most_expensive_task(
            &store,
            &admin(),
            Asked::Period(Period::Day, date("2026-03-02")),
        )
        .await
        .unwrap();
        assert_eq!(best.task.unwrap().task_id, early);
    }
}

#[tokio::test]
async fn balances_keep_the_latest_by_sequence_and_bad_ranges_are_refused() {
    let store = MemoryStore::default();
    let account = Uuid::new_v4();
    let posting = |sequence: u64, balance: i64| {
        let posted = TransactionPosted {
            transaction_id: format!("fee:{}", Uuid::new_v4()),
            kind: EntryKind::Fee,
            account_id: account,
            amount_cents: -1000,
            balance_after_cents: balance,
            sequence,
            business_date: date("2026-03-02"),
            occurred_at: at("2026-03-02T10:00:00Z"),
            posted_at: at("2026-03-02T10:00:00Z"),
            task_id: Some(Uuid::new_v4()),
            legs: vec![
                Leg {
                    account: format!("employee:{account}"),
                    amount_cents: -1000,
                },
                Leg {
                    account: "company:revenue".into(),
                    amount_cents: 1000,
                },
            ],
        };
        event("accounting", &posted, at("2026-03-02T10:00:00Z"))
    };
    // The newer balance (in credit) arrives first; the older (in debt) later changes nothing.
    app::record_movement(&store, &posting(2, 500), LIVE)
        .await
        .unwrap();
    app::record_movement(&store, &posting(1, -1000), LIVE)
        .await
        .unwrap();
    let summary = app::summary(&store, &admin(), &utc(), at("2026-03-02T12:00:00Z"))
        .await
        .unwrap();
    assert_eq!(summary.negative_balance_accounts, 0);
    assert_eq!(
        summary.management_earnings_today_cents, 2000,
        "both fees count"
    );
    let later = posting(3, -200);
    for _ in 0..3 {
        app::record_movement(&store, &later, LIVE).await.unwrap();
    }
    let summary = app::summary(&store, &admin(), &utc(), at("2026-03-02T12:00:00Z"))
        .await
        .unwrap();
    assert_eq!(
        (
            summary.negative_balance_accounts,
            summary.management_earnings_today_cents
        ),
        (1, 3000)
    );

    for (from, to) in [("2026-03-02", "2026-03-01"), ("2025-01-01", "2026-01-02")] {
        let now = at("2026-03-02T12:00:00Z");
        assert!(
            app::earnings(&store, &admin(), &utc(), Some((date(from), date(to))), now)
                .await
                .is_err()
        );
        assert!(
            app::most_expensive_task(&store, &admin(), Asked::Range(date(from), date(to)))
                .await
                .is_err()
        );
    }
}

#[tokio::test]
async fn only_admins_read_analytics() {
    let store = MemoryStore::default();
    let ask = || Asked::Range(date("2026-03-01"), date("2026-03-02"));
    for role in [Role::Manager, Role::Accountant, Role::Worker] {
        let refused = app::most_expensive_task(&store, &claims(Uuid::new_v4(), role), ask()).await;
        assert!(
            matches!(refused, Err(AnalyticsError::Failed(Failure::Refused(Refused::NotAllowed(n)))) if n == NotAllowed { role }),
            "{role}"
        );
    }
    assert!(app::most_expensive_task(&store, &admin(), ask())
        .await
        .is_ok());
}
