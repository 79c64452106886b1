//! The contract of every port of the analytics table (`ports`: each contract names the ports it
//! asserts) and of the kernel's [`KeepsAccountCopies`] beside them: what
//! the use cases rely on, asserted through the port alone. Every contract runs on the in-memory
//! store the use-case tests use (`memory::…`) and on the DynamoDB store over a fresh table of one
//! emulator shared by this binary (`dynamo::…`).

use std::collections::BTreeMap;

use ates_analytics::ports::{
    BestCompletions, DailyFigures, LiveGenerations, Movement, MovementProjection, Projected,
    Rebuilds, Title, Titles,
};
use ates_analytics::projection::{Completion, DayFigures, Generations, KnownBalance};
use ates_analytics::rebuild::{Rebuild, ReplayState};
use ates_kernel::event::Envelope;
use ates_kernel::identity::Role;
use ates_kernel::testing::{self, account_copies_move_only_forward, at, date};
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

ates_kernel::store_contracts!(
    ates_analytics::memory::MemoryStore::default(),
    ates_analytics::store::Store::new,
    "Analytics";
    one_rebuild_at_a_time_begins_and_settles_once,
    a_movement_applies_once_per_generation_and_event,
    a_balance_moves_only_from_the_one_read_and_counts_the_debtors,
    a_days_figures_add_up_over_its_shards_within_the_range,
    the_best_completion_of_a_day_and_of_a_month_is_kept,
    a_title_reads_back_as_last_recorded,
    account_copies_move_only_forward,
);

/// What the table's fold function does on AWS, done here for the DynamoDB store: a day's
/// figures follow its kept movements once they are folded. The in-memory store adds them at once.
trait Settles {
    async fn settle(&self) {}
}

impl Settles for ates_analytics::memory::MemoryStore {}

impl Settles for ates_analytics::store::Store {
    async fn settle(&self) {
        use ates_analytics::store::{additions, is_kept_movement};
        let shards = ates_analytics::projection::SHARDS;
        testing::fold_stream(self.table(), shards, is_kept_movement, additions).await;
    }
}

fn now() -> DateTime<Utc> {
    at("2026-11-21T10:00:00.123456Z")
}

/// An event to apply (what it says does not matter to the store, only its id).
fn event() -> Envelope {
    let account = testing::account("Kiwi", Role::Worker);
    testing::account_event(&account)
}

fn figures(fees_cents: i64, rewards_cents: i64) -> DayFigures {
    DayFigures {
        fees_cents,
        rewards_cents,
    }
}

fn movement(day: NaiveDate, figures: DayFigures) -> Movement {
    Movement {
        business_date: day,
        figures,
    }
}

fn known(account: Uuid, balance_cents: i64, sequence: u64) -> KnownBalance {
    KnownBalance {
        account_id: account,
        balance_cents,
        sequence,
    }
}

async fn one_rebuild_at_a_time_begins_and_settles_once<S: LiveGenerations + Rebuilds>(store: &S) {
    let initial = store.generations().await.unwrap();
    assert_eq!(initial, Generations::default(), "before any rebuild");
    let (first, building) = Rebuild::start(&initial, Uuid::now_v7(), now()).unwrap();
    assert_eq!(store.rebuild(first.rebuild_id).await.unwrap(), None);
    assert!(store.begin_rebuild(&first, &building).await.unwrap());
    assert_eq!(store.generations().await.unwrap(), building);
    assert_eq!(
        store.rebuild(first.rebuild_id).await.unwrap(),
        Some(first.clone())
    );

    // Another, begun from the same read while the first is under way.
    let (second, other) = Rebuild::start(&initial, Uuid::now_v7(), now()).unwrap();
    assert!(!store.begin_rebuild(&second, &other).await.unwrap());
    assert_eq!(store.generations().await.unwrap(), building);
    assert_eq!(store.rebuild(second.rebuild_id).await.unwrap(), None);
    // … which is not the one under way, so it cannot settle either.
    let (ended, after) = second
        .settle(&other, &ReplayState::Completed, true, now())
        .unwrap();
    assert!(!store.settle_rebuild(&ended, &after).await.unwrap());
    assert_eq!(store.generations().await.unwrap(), building);

    let (ended, after) = first
        .settle(
            &building,
            &ReplayState::Failed("cancelled".into()),
            true,
            now(),
        )
        .unwrap();
    assert!(store.settle_rebuild(&ended, &after).await.unwrap());
    assert_eq!(store.generations().await.unwrap(), after);
    assert_eq!(
        store.rebuild(first.rebuild_id).await.unwrap(),
        Some(ended.clone())
    );
    let (completed, completed_after) = first
        .settle(&building, &ReplayState::Completed, true, now())
        .unwrap();
    assert!(
        !store
            .settle_rebuild(&completed, &completed_after)
            .await
            .unwrap(),
        "settled before"
    );
    assert_eq!(
        store.rebuild(first.rebuild_id).await.unwrap(),
        Some(ended.clone())
    );
    assert_eq!(store.generations().await.unwrap(), after);

    // A rebuild's id begins once, even after it settled.
    let (again, during) = Rebuild::start(&after, first.rebuild_id, now()).unwrap();
    assert!(!store.begin_rebuild(&again, &during).await.unwrap());
    assert_eq!(store.generations().await.unwrap(), after);
    assert_eq!(
        store
            .rebuild(first.rebuild_id)
            .await
            .unwrap()
            .map(|r| r.status),
        Some(ended.status)
    );

    // Settled, the next rebuild may begin.
    let (third, next) = Rebuild::start(&after, Uuid::now_v7(), now()).unwrap();
    assert!(store.begin_rebuild(&third, &next).await.unwrap());
    assert_eq!(store.generations().await.unwrap(), next);
}

async fn a_movement_applies_once_per_generation_and_event<
    S: DailyFigures + MovementProjection + Settles,
>(
    store: &S,
) {
    let day = date("2026-11-20");
    let fee = event();
    let applied = store
        .add_movement(1, &movement(day, figures(-1000, 0)), &fee)
        .await;
    assert_eq!(applied.unwrap(), Projected::Applied);
    let again = store
        .add_movement(1, &movement(day, figures(-1000, 0)), &fee)
        .await;
    assert_eq!(again.unwrap(), Projected::Duplicate);
    store.settle().await;
    let figures_of = |generation| store.day_figures(generation, day, day);
    assert_eq!(
        figures_of(1).await.unwrap(),
        BTreeMap::from([(day, figures(-1000, 0))]),
        "counted once"
    );
    // Another generation (a rebuild's) takes the same event once too.
    let other = store
        .add_movement(2, &movement(day, figures(-1000, 0)), &fee)
        .await;
    assert_eq!(other.unwrap(), Projected::Applied);
    let other = store
        .add_movement(2, &movement(day, figures(-1000, 0)), &fee)
        .await;
    assert_eq!(other.unwrap(), Projected::Duplicate);
    // Folded again, with what was folded before: still once.
    store.settle().await;
    assert_eq!(
        figures_of(2).await.unwrap(),
        BTreeMap::from([(day, figures(-1000, 0))])
    );
    assert_eq!(
        figures_of(1).await.unwrap(),
        BTreeMap::from([(day, figures(-1000, 0))]),
        "generations apart"
    );
}

async fn a_balance_moves_only_from_the_one_read_and_counts_the_debtors<
    S: DailyFigures + MovementProjection,
>(
    store: &S,
) {
    let (kiwi, mango) = (Uuid::now_v7(), Uuid::now_v7());
    let keep = |before: Option<KnownBalance>, now: KnownBalance| async move {
        store.keep_balance(1, before.as_ref(), &now).await.unwrap()
    };
    assert_eq!(store.balance(1, kiwi).await.unwrap(), None);
    assert_eq!(store.in_debt(1).await.unwrap(), 0);
    let first = known(kiwi, -300, 1);
    assert!(keep(None, first).await);
    assert_eq!(store.balance(1, kiwi).await.unwrap(), Some(first));
    assert_eq!(store.in_debt(1).await.unwrap(), 1);

    // Read as absent, but there is one now: stale, and nothing is written.
    assert!(!keep(None, known(kiwi, 900, 2)).await);
    assert_eq!(store.balance(1, kiwi).await.unwrap(), Some(first));
    assert_eq!(store.in_debt(1).await.unwrap(), 1);
    // Read again, it is kept.
    let second = known(kiwi, 200, 2);
    assert!(keep(Some(first), second).await);
    assert_eq!(store.balance(1, kiwi).await.unwrap(), Some(second));
    assert_eq!(store.in_debt(1).await.unwrap(), 0, "out of debt");
    // A balance read is known by its sequence, as the table's condition checks it.
    let same_sequence = known(kiwi, 12_345, 2);
    let third = known(kiwi, 250, 3);
    assert!(keep(Some(same_sequence), third).await);
    assert_eq!(store.balance(1, kiwi).await.unwrap(), Some(third));
    // From an older read, into debt: neither the balance nor the count moves.
    assert!(!keep(Some(first), known(kiwi, -1, 4)).await);
    assert_eq!(store.balance(1, kiwi).await.unwrap(), Some(third));
    assert_eq!(store.in_debt(1).await.unwrap(), 0);
    // Read somewhere it is not.
    assert!(!keep(Some(known(mango, 5, 1)), known(mango, -5, 2)).await);
    assert_eq!(store.balance(1, mango).await.unwrap(), None);

    for (account, cents) in [(mango, -5), (Uuid::now_v7(), -7), (Uuid::now_v7(), 7)] {
        assert!(keep(None, known(account, cents, 1)).await);
    }
    assert_eq!(store.in_debt(1).await.unwrap(), 2);
    assert!(keep(Some(known(mango, -5, 1)), known(mango, -50, 2)).await);
    assert_eq!(store.in_debt(1).await.unwrap(), 2, "still one debtor");
    assert_eq!(store.in_debt(2).await.unwrap(), 0, "generations apart");
    assert_eq!(store.balance(2, mango).await.unwrap(), None);
}

async fn a_days_figures_add_up_over_its_shards_within_the_range<
    S: DailyFigures + MovementProjection + Settles,
>(
    store: &S,
) {
    let (d19, d20, d21, d23) = (
        date("2026-11-19"),
        date("2026-11-20"),
        date("2026-11-21"),
        date("2026-11-23"),
    );
    // Folded one by one: each fold adds to a shard of its own choosing, so a day's figures
    // are spread over several.
    for (generation, day, f) in [
        (1, d19, figures(-100, 0)),
        (1, d20, figures(-200, 0)),
        (1, d20, figures(0, 3000)),
        (1, d20, figures(-50, 40)),
        (1, d21, figures(0, 1)),
        (1, d23, figures(-9, 0)),
        (2, d20, figures(-1, -1)),
    ] {
        let applied = store
            .add_movement(generation, &movement(day, f), &event())
            .await;
        assert_eq!(applied.unwrap(), Projected::Applied);
        store.settle().await;
    }
    assert_eq!(
        store.day_figures(1, d20, d23).await.unwrap(),
        BTreeMap::from([
            (d20, figures(-250, 3040)),
            (d21, figures(0, 1)),
            (d23, figures(-9, 0)),
        ]),
        "inclusive, and only days that have figures"
    );
    assert_eq!(
        store.day_figures(1, d19, d19).await.unwrap(),
        BTreeMap::from([(d19, figures(-100, 0))])
    );
    assert_eq!(
        store.day_figures(2, d19, d23).await.unwrap(),
        BTreeMap::from([(d20, figures(-1, -1))])
    );
    assert!(store
        .day_figures(1, date("2026-12-01"), date("2026-12-31"))
        .await
        .unwrap()
        .is_empty());
}

fn completion(reward_cents: i64, completed_at: &str, task: u128) -> Completion {
    let completed_at = at(completed_at);
    Completion {
        task_id: Uuid::from_u128(task),
        reward_cents,
        completed_at,
        business_date: completed_at.date_naive(),
    }
}

async fn the_best_completion_of_a_day_and_of_a_month_is_kept<
    S: BestCompletions + MovementProjection,
>(
    store: &S,
) {
    let cheap = completion(100, "2026-11-20T09:00:00Z", 1);
    let dear = completion(900, "2026-11-20T11:00:00Z", 2);
    let dear_earlier = completion(900, "2026-11-20T10:00:00.5Z", 4);
    let dear_earlier_smaller = completion(900, "2026-11-20T10:00:00.5Z", 3);
    let other_day = completion(500, "2026-11-03T09:00:00Z", 5);
    let other_month = completion(50, "2026-10-31T09:00:00Z", 6);
    for c in [
        &cheap,
        &dear,
        &dear_earlier,
        &dear_earlier_smaller,
        &dear,
        &cheap,
        &other_day,
        &other_month,
        &dear_earlier_smaller,
    ] {
        store.offer_completion(1, c).await.unwrap();
    }
    store.offer_completion(2, &cheap).await.unwrap();

    let best = |generation, days: &[&str], months: &[&str]| {
        let days: Vec<NaiveDate> = days.iter().map(|d| date(d)).collect();
        let months: Vec<String> = months.iter().map(|m| m.to_string()).collect();
        async move {
            let mut found = store
                .best_completions(generation, &days, &months)
                .await
                .unwrap();
            found.sort_by_key(|c| (c.business_date, c.task_id));
            found
        }
    };
    assert_eq!(
        best(1, &["2026-11-20"], &[]).await,
        vec![dear_earlier_smaller.clone()],
        "the highest reward; then the earliest; then the smallest id"
    );
    assert_eq!(
        best(
            1,
            &["2026-11-20", "2026-11-03", "2026-11-04"],
            &["2026-11", "2026-09"]
        )
        .await,
        {
            let mut e = vec![
                dear_earlier_smaller.clone(),
                other_day.clone(),
                dear_earlier_smaller.clone(),
            ];
            e.sort_by_key(|c| (c.business_date, c.task_id));
            e
        },
        "each day and month that has one"
    );
    assert_eq!(best(1, &[], &["2026-10"]).await, vec![other_month.clone()]);
    assert_eq!(
        best(2, &["2026-11-20"], &["2026-11"]).await,
        vec![cheap.clone(), cheap]
    );
    assert!(best(3, &["2026-11-20"], &["2026-11"]).await.is_empty());
    assert!(best(1, &[], &[]).await.is_empty());
}

async fn a_title_reads_back_as_last_recorded<S: Titles>(store: &S) {
    let task = Uuid::now_v7();
    assert_eq!(store.title(1, task).await.unwrap(), None);
    let first = Title {
        title: "Fix the nest".into(),
        jira_id: Some("UBERPOP-42".into()),
    };
    store.record_title(1, task, &first).await.unwrap();
    assert_eq!(store.title(1, task).await.unwrap(), Some(first.clone()));
    store.record_title(1, task, &first).await.unwrap();
    assert_eq!(store.title(1, task).await.unwrap(), Some(first));
    let plain = Title {
        title: "Fix the nest again".into(),
        jira_id: None,
    };
    store.record_title(1, task, &plain).await.unwrap();
    assert_eq!(
        store.title(1, task).await.unwrap(),
        Some(plain),
        "the last one, whole"
    );
    assert_eq!(
        store.title(2, task).await.unwrap(),
        None,
        "generations apart"
    );
}
