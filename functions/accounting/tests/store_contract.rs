//! The contract of every port of the accounting table (`ports`: each contract names the ports it
//! asserts) and of the kernel's [`AccountCopies`] beside them: what the use
//! cases rely on, asserted through the port alone. Every contract runs on the in-memory store
//! the use-case tests use (`memory::…`) and on the DynamoDB store over a fresh table of one
//! emulator shared by this binary (`dynamo::…`).

use std::collections::BTreeMap;

use ates_accounting::close::{Close, CloseTotals};
use ates_accounting::ledger::{Entry, LedgerAccount, Movement, Task, PARTITIONS};
use ates_accounting::ports::{
    AccountProfiles, AuditLogs, BalanceListings, Booked, ClosePages, CloseReports, CloseStarts,
    CompanyEarnings, DayEarnings, LedgerAccounts, Posting, Postings, PricedTasks,
};
use ates_accounting::store::PAGE_SIZE;
use ates_kernel::contracts::accounts::AccountSnapshot;
use ates_kernel::copies::AccountCopies;
use ates_kernel::event::Envelope;
use ates_kernel::identity::Role;
use ates_kernel::job::{Cursor, Page, PageCommit};
use ates_kernel::testing::{self, at, date};
use chrono::{DateTime, Utc};
use uuid::Uuid;

ates_kernel::store_contracts!(
    ates_accounting::memory::MemoryStore::default(),
    ates_accounting::store::Store::new,
    "Accounting";
    a_profile_makes_the_account_once_and_changes_from_the_revision_read,
    a_task_copy_is_written_from_what_was_read,
    a_movement_posts_once_from_the_sequence_read,
    an_accounts_audit_log_is_listed_newest_first_and_paged,
    every_account_is_listed_once_and_read_by_id,
    the_companys_days_add_up_every_movement_within_the_range,
    a_partitions_accounts_are_paged_in_order_of_id,
    a_close_starts_once_and_each_page_commits_once,
    an_accounts_closing_writes_from_the_sequence_read,
);

fn now() -> DateTime<Utc> {
    at("2026-11-20T10:00:00.123456Z")
}

/// An event to consume (what it says does not matter to the store, only its id).
fn event() -> Envelope {
    testing::account_event(&testing::account("Kiwi", Role::Worker))
}

const CONSUMER: &str = "accounting.contract";

fn profile(id: Uuid, revision: u64) -> AccountSnapshot {
    AccountSnapshot {
        account_id: id,
        revision,
        ..testing::account("Kiwi", Role::Worker)
    }
}

fn priced(task_id: Uuid) -> Task {
    Task {
        task_id,
        fee_cents: 1500,
        reward_cents: 3000,
        priced_at: now(),
        title: None,
        jira_id: None,
    }
}

/// An account id in `partition`.
fn in_partition(partition: u32) -> Uuid {
    let mut bytes = *Uuid::now_v7().as_bytes();
    bytes[15] = partition as u8;
    let id = Uuid::from_bytes(bytes);
    assert_eq!(LedgerAccount::open(id).partition(), partition);
    id
}

/// Posts `movement` to `account` (read as `before`), the task priced by it if any; the account
/// after it and its line.
/// What the table's fold function does on AWS, done here for the DynamoDB store: the company's
/// days follow the audit lines once they are folded. The in-memory store adds them at once.
trait Settles {
    async fn settle(&self) {}
}

impl Settles for ates_accounting::memory::MemoryStore {}

impl Settles for ates_accounting::store::Store {
    async fn settle(&self) {
        use ates_accounting::store::{additions, is_audit_line, EARNINGS_SHARDS};
        testing::fold_stream(self.table(), EARNINGS_SHARDS, is_audit_line, additions).await;
    }
}

async fn post<S: LedgerAccounts + Postings>(
    store: &S,
    id: Uuid,
    movement: &Movement,
    priced: Option<&Task>,
) -> (LedgerAccount, Entry) {
    let before = store.account(id).await.unwrap();
    let (after, entry) = before
        .clone()
        .unwrap_or_else(|| LedgerAccount::open(id))
        .post(movement, now());
    let posting = Posting {
        before: before.as_ref(),
        after: &after,
        entry: &entry,
        priced,
        events: &[testing::event("accounting", &entry.event(), now())],
    };
    let booked = store.post(&posting).await;
    assert_eq!(booked.unwrap(), Booked::Applied, "{movement:?} posted");
    (after, entry)
}

fn fee(task: &Task, on: &str) -> Movement {
    Movement::fee(Uuid::now_v7(), task, now(), date(on))
}

async fn a_profile_makes_the_account_once_and_changes_from_the_revision_read<
    S: AccountCopies + AccountProfiles + CloseReports + LedgerAccounts + Postings,
>(
    store: &S,
) {
    let kiwi = Uuid::now_v7();
    assert_eq!(store.account(kiwi).await.unwrap(), None);
    assert_eq!(store.account_copy(kiwi).await.unwrap(), None);
    assert_eq!(store.account_count().await.unwrap(), 0);
    let first = LedgerAccount {
        profile: Some(profile(kiwi, 1)),
        ..LedgerAccount::open(kiwi)
    };
    let created = event();
    let save = |before: Option<LedgerAccount>, after: LedgerAccount, event: Envelope| async move {
        store
            .save_profile(before.as_ref(), &after, CONSUMER, &event)
            .await
            .unwrap()
    };
    assert_eq!(
        save(None, first.clone(), created.clone()).await,
        Booked::Applied
    );
    assert_eq!(store.account(kiwi).await.unwrap(), Some(first.clone()));
    assert_eq!(
        store.account_copy(kiwi).await.unwrap(),
        first.profile.clone()
    );
    assert_eq!(store.account_count().await.unwrap(), 1);
    assert_eq!(
        save(None, first.clone(), created).await,
        Booked::Duplicate,
        "the same event again"
    );
    assert_eq!(
        save(None, first.clone(), event()).await,
        Booked::Stale,
        "read as absent, but it exists"
    );
    assert_eq!(store.account_count().await.unwrap(), 1, "counted once");

    // The account's money moves meanwhile; a profile change keeps it.
    let (posted, _) = post(
        store,
        kiwi,
        &fee(&priced(Uuid::now_v7()), "2026-11-20"),
        None,
    )
    .await;
    let second = LedgerAccount {
        profile: Some(profile(kiwi, 2)),
        ..first.clone()
    };
    assert_eq!(
        save(Some(first.clone()), second, event()).await,
        Booked::Applied
    );
    let stored = store.account(kiwi).await.unwrap().unwrap();
    assert_eq!(
        stored,
        LedgerAccount {
            profile: Some(profile(kiwi, 2)),
            ..posted
        },
        "only the profile changes"
    );
    let third = LedgerAccount {
        profile: Some(profile(kiwi, 3)),
        ..first.clone()
    };
    assert_eq!(
        save(Some(first), third, event()).await,
        Booked::Stale,
        "read at revision 1, but it is at 2"
    );
    assert_eq!(
        store.account_copy(kiwi).await.unwrap(),
        Some(profile(kiwi, 2))
    );

    // An account made by a movement has no profile yet.
    let mango = Uuid::now_v7();
    let (money, _) = post(
        store,
        mango,
        &fee(&priced(Uuid::now_v7()), "2026-11-20"),
        None,
    )
    .await;
    assert_eq!(store.account_copy(mango).await.unwrap(), None);
    assert_eq!(store.account_count().await.unwrap(), 2);
    let named = LedgerAccount {
        profile: Some(profile(mango, 1)),
        ..money.clone()
    };
    let wrong = LedgerAccount {
        profile: Some(profile(mango, 1)),
        ..money.clone()
    };
    assert_eq!(
        save(Some(wrong), named.clone(), event()).await,
        Booked::Stale,
        "read with a profile it does not have"
    );
    assert_eq!(
        save(Some(money), named.clone(), event()).await,
        Booked::Applied
    );
    assert_eq!(store.account(mango).await.unwrap(), Some(named));
    assert_eq!(store.account_count().await.unwrap(), 2);
}

async fn a_task_copy_is_written_from_what_was_read<S: PricedTasks>(store: &S) {
    let id = Uuid::now_v7();
    assert_eq!(store.task(id).await.unwrap(), None);
    let untitled = priced(id);
    let save = |before: Option<Task>, after: Task| async move {
        store.save_task(before.as_ref(), &after, &[]).await.unwrap()
    };
    assert_eq!(save(None, untitled.clone()).await, Booked::Applied);
    assert_eq!(store.task(id).await.unwrap(), Some(untitled.clone()));
    assert_eq!(
        save(None, untitled.clone()).await,
        Booked::Stale,
        "read as absent, but it exists (the same event again, or another)"
    );
    let titled = Task {
        title: Some("Fix the nest".into()),
        jira_id: Some("UBERPOP-42".into()),
        ..untitled.clone()
    };
    assert_eq!(
        save(Some(untitled.clone()), titled.clone()).await,
        Booked::Applied
    );
    assert_eq!(store.task(id).await.unwrap(), Some(titled.clone()));
    let other = Task {
        title: Some("Another title".into()),
        ..untitled.clone()
    };
    assert_eq!(
        save(Some(untitled), other).await,
        Booked::Stale,
        "read untitled, but titled meanwhile"
    );
    assert_eq!(store.task(id).await.unwrap(), Some(titled.clone()));

    // A title is written once: a copy read titled is not written over.
    let retitled = Task {
        title: Some("Fix the nest again".into()),
        ..titled.clone()
    };
    assert_eq!(
        save(Some(titled.clone()), retitled).await,
        Booked::Stale,
        "titled already"
    );
    assert_eq!(store.task(id).await.unwrap(), Some(titled.clone()));

    let second = priced(Uuid::now_v7());
    assert_eq!(save(None, second.clone()).await, Booked::Applied);
    let mut both = store
        .tasks(&[second.task_id, Uuid::now_v7(), id])
        .await
        .unwrap();
    both.sort_by_key(|t| t.task_id);
    let mut expected = vec![titled, second];
    expected.sort_by_key(|t| t.task_id);
    assert_eq!(both, expected, "unknown ids are left out");
    assert!(store.tasks(&[]).await.unwrap().is_empty());
}

async fn a_movement_posts_once_from_the_sequence_read<
    S: AuditLogs + CloseReports + CompanyEarnings + LedgerAccounts + Postings + PricedTasks + Settles,
>(
    store: &S,
) {
    let kiwi = Uuid::now_v7();
    let task = priced(Uuid::now_v7());
    let assigned = fee(&task, "2026-11-20");
    let (after, entry) = LedgerAccount::open(kiwi).post(&assigned, now());
    let posting = Posting {
        before: None,
        after: &after,
        entry: &entry,
        priced: Some(&task),
        events: &[testing::event("accounting", &entry.event(), now())],
    };
    assert_eq!(store.post(&posting).await.unwrap(), Booked::Applied);
    assert_eq!(store.account(kiwi).await.unwrap(), Some(after.clone()));
    assert_eq!(store.task(task.task_id).await.unwrap(), Some(task.clone()));
    assert_eq!(store.account_count().await.unwrap(), 1);
    assert_eq!(
        store.post(&posting).await.unwrap(),
        Booked::AlreadyPosted,
        "the same posting again (a redelivery): the movement's key was posted"
    );
    // From the account as it is now, but the same movement (its key) again.
    let (again, again_entry) = after.post(&assigned, now());
    let repeat = Posting {
        before: Some(&after),
        after: &again,
        entry: &again_entry,
        priced: None,
        events: &[],
    };
    assert_eq!(store.post(&repeat).await.unwrap(), Booked::AlreadyPosted);
    // Another movement, from a stale read of the account.
    let other = fee(&task, "2026-11-20");
    let (stale, stale_entry) = LedgerAccount::open(kiwi).post(&other, now());
    let from_old = Posting {
        before: None,
        after: &stale,
        entry: &stale_entry,
        priced: None,
        events: &[],
    };
    assert_eq!(store.post(&from_old).await.unwrap(), Booked::Stale);
    // Another movement that would price a task priced already.
    let (next, next_entry) = after.post(&other, now());
    let repriced = Task {
        fee_cents: 1000,
        ..task.clone()
    };
    let pricing = Posting {
        before: Some(&after),
        after: &next,
        entry: &next_entry,
        priced: Some(&repriced),
        events: &[],
    };
    assert_eq!(store.post(&pricing).await.unwrap(), Booked::Stale);
    assert_eq!(store.account(kiwi).await.unwrap(), Some(after.clone()));
    assert_eq!(store.task(task.task_id).await.unwrap(), Some(task.clone()));
    let log = store.entries(kiwi, 10, None).await.unwrap();
    assert_eq!(log.items, vec![entry], "nothing of the refused ones");
    store.settle().await;
    assert_eq!(
        store
            .earnings(date("2026-11-20"), date("2026-11-20"))
            .await
            .unwrap()
            .get(&date("2026-11-20"))
            .map(|d| d.fees_cents),
        Some(1500)
    );

    // The same movement without pricing, from the read account: the same event applies now
    // (the stale try left no inbox record).
    let plain = Posting {
        priced: None,
        ..pricing
    };
    assert_eq!(store.post(&plain).await.unwrap(), Booked::Applied);
    assert_eq!(store.account(kiwi).await.unwrap(), Some(next));
    assert_eq!(store.account_count().await.unwrap(), 1);
}

async fn an_accounts_audit_log_is_listed_newest_first_and_paged<
    S: AuditLogs + LedgerAccounts + Postings,
>(
    store: &S,
) {
    let (kiwi, mango) = (Uuid::now_v7(), Uuid::now_v7());
    let mut lines = Vec::new();
    for _ in 0..12 {
        lines.push(
            post(
                store,
                kiwi,
                &fee(&priced(Uuid::now_v7()), "2026-11-20"),
                None,
            )
            .await
            .1,
        );
    }
    post(
        store,
        mango,
        &fee(&priced(Uuid::now_v7()), "2026-11-20"),
        None,
    )
    .await;
    lines.reverse();
    for limit in [1, 5, 12, 50] {
        let (mut listed, mut cursor) = (Vec::new(), None::<String>);
        for _ in 0..100 {
            let page = store.entries(kiwi, limit, cursor.as_deref()).await.unwrap();
            assert!(page.items.len() <= limit);
            listed.extend(page.items);
            cursor = page.next_cursor;
            if cursor.is_none() {
                break;
            }
        }
        assert_eq!(listed, lines, "newest first, by {limit}");
    }
    let first = store.entries(kiwi, 5, None).await.unwrap();
    assert!(first.next_cursor.is_some());
    let nobody = store.entries(Uuid::now_v7(), 5, None).await.unwrap();
    assert!(nobody.items.is_empty() && nobody.next_cursor.is_none());
    assert!(store.entries(kiwi, 5, Some("not-a-cursor")).await.is_err());
}

async fn every_account_is_listed_once_and_read_by_id<
    S: BalanceListings + ClosePages + CloseReports + LedgerAccounts + Postings,
>(
    store: &S,
) {
    let mut all = Vec::new();
    for _ in 0..7 {
        let id = Uuid::now_v7();
        all.push(
            post(store, id, &fee(&priced(Uuid::now_v7()), "2026-11-20"), None)
                .await
                .0,
        );
    }
    for limit in [1, 3, 100] {
        let (mut listed, mut cursor) = (Vec::new(), None::<String>);
        for _ in 0..100 {
            let page = store.list_accounts(limit, cursor.as_deref()).await.unwrap();
            assert!(page.items.len() <= limit);
            listed.extend(page.items);
            cursor = page.next_cursor;
            if cursor.is_none() {
                break;
            }
        }
        assert_eq!(listed.len(), all.len(), "each once, by {limit}");
        listed.sort_by_key(|a| a.account_id);
        assert_eq!(listed, all);
    }
    assert!(store.list_accounts(2, Some("not-a-cursor")).await.is_err());
    let mut some = store
        .accounts(&[all[3].account_id, Uuid::now_v7(), all[0].account_id])
        .await
        .unwrap();
    some.sort_by_key(|a| a.account_id);
    assert_eq!(
        some,
        vec![all[0].clone(), all[3].clone()],
        "unknown ids left out"
    );
    assert!(store.accounts(&[]).await.unwrap().is_empty());
    assert_eq!(store.account_count().await.unwrap(), 7);
}

async fn the_companys_days_add_up_every_movement_within_the_range<
    S: CompanyEarnings + LedgerAccounts + Postings + Settles,
>(
    store: &S,
) {
    let kiwi = Uuid::now_v7();
    let (a, b) = (priced(Uuid::now_v7()), priced(Uuid::now_v7()));
    for movement in [
        fee(&a, "2026-11-19"),
        fee(&a, "2026-11-20"),
        fee(&b, "2026-11-20"),
        Movement::reward(&a, now(), date("2026-11-20")),
        Movement::reward(&b, now(), date("2026-11-22")),
    ] {
        post(store, kiwi, &movement, None).await;
        // One fold per movement: each adds to a shard of its own choosing, so a day's
        // figures are spread over several.
        store.settle().await;
    }
    assert_eq!(
        store
            .earnings(date("2026-11-20"), date("2026-11-30"))
            .await
            .unwrap(),
        BTreeMap::from([
            (
                date("2026-11-20"),
                DayEarnings {
                    fees_cents: 3000,
                    rewards_cents: 3000,
                    paid_cents: 0
                }
            ),
            (
                date("2026-11-22"),
                DayEarnings {
                    fees_cents: 0,
                    rewards_cents: 3000,
                    paid_cents: 0
                }
            ),
        ]),
        "inclusive, only days with movements"
    );
    assert_eq!(
        store
            .earnings(date("2026-11-19"), date("2026-11-19"))
            .await
            .unwrap(),
        BTreeMap::from([(
            date("2026-11-19"),
            DayEarnings {
                fees_cents: 1500,
                ..Default::default()
            }
        )])
    );
    assert!(store
        .earnings(date("2026-12-01"), date("2026-12-31"))
        .await
        .unwrap()
        .is_empty());
}

async fn a_partitions_accounts_are_paged_in_order_of_id<
    S: ClosePages + LedgerAccounts + Postings,
>(
    store: &S,
) {
    let partition = 6;
    let mut ids = Vec::new();
    for _ in 0..PAGE_SIZE + 2 {
        let id = in_partition(partition);
        post(store, id, &fee(&priced(Uuid::now_v7()), "2026-11-20"), None).await;
        ids.push(id);
    }
    post(
        store,
        in_partition(partition + 1),
        &fee(&priced(Uuid::now_v7()), "2026-11-20"),
        None,
    )
    .await;
    ids.sort();
    let (mut paged, mut cursor, mut pages): (Vec<Uuid>, Option<Cursor>, usize) =
        (Vec::new(), None, 0);
    loop {
        let (page, next) = store
            .accounts_page(partition, cursor.as_ref())
            .await
            .unwrap();
        pages += 1;
        assert!(page.len() <= PAGE_SIZE);
        paged.extend(page);
        match next {
            Some(next) => cursor = Some(next),
            None => break,
        }
        assert!(pages < 10, "the pages end");
    }
    assert_eq!(paged, ids, "the partition's accounts, each once, by id");
    assert!(pages >= 2);
    let (empty, next) = store.accounts_page(partition + 2, None).await.unwrap();
    assert!(empty.is_empty() && next.is_none());
}

fn cursor_after(id: Uuid) -> Cursor {
    Cursor::from([("account_id".to_owned(), id.to_string())])
}

async fn a_close_starts_once_and_each_page_commits_once<
    S: ClosePages + CloseReports + CloseStarts,
>(
    store: &S,
) {
    let day = date("2026-11-20");
    let close = Close::start(day, 3, at("2026-11-21T00:00:01Z"));
    assert_eq!(store.close(close.job_id).await.unwrap(), None);
    let ended = event();
    assert_eq!(
        store.start_close(&close, CONSUMER, &ended).await.unwrap(),
        Booked::Applied
    );
    assert_eq!(
        store.close(close.job_id).await.unwrap(),
        Some(close.clone())
    );
    assert_eq!(
        store.start_close(&close, CONSUMER, &ended).await.unwrap(),
        Booked::Duplicate
    );
    assert_eq!(
        store.start_close(&close, CONSUMER, &event()).await.unwrap(),
        Booked::Stale,
        "started before, by another event"
    );

    let first = &Page::first_pages(close.job_id, PARTITIONS, "corr")[4].clone();
    let second = first.next(cursor_after(Uuid::now_v7()));
    let totals = CloseTotals {
        accounts_closed: 2,
        paid_cents: 700,
        payouts: 1,
        debts: 1,
    };
    let finish = || store.finish_page(first, 2, &totals, Some(&second));
    assert_eq!(finish().await.unwrap(), PageCommit::Done);
    assert_eq!(finish().await.unwrap(), PageCommit::Duplicate);
    let progress = store.close(close.job_id).await.unwrap().unwrap();
    assert_eq!(
        (progress.progress.done, progress.progress.partitions_done),
        (2, 0)
    );
    assert_eq!(progress.totals, totals);
    let one = CloseTotals {
        accounts_closed: 1,
        ..Default::default()
    };
    let last = || store.finish_page(&second, 1, &one, None);
    assert_eq!(last().await.unwrap(), PageCommit::Done);
    assert_eq!(last().await.unwrap(), PageCommit::Duplicate);
    let progress = store.close(close.job_id).await.unwrap().unwrap();
    assert_eq!(
        (progress.progress.done, progress.progress.partitions_done),
        (3, 1)
    );
    assert_eq!(progress.totals.accounts_closed, 3);
    assert_eq!(progress.closed_at, None);

    let unknown = Close::start(date("2026-11-19"), 0, now());
    let page = &Page::first_pages(unknown.job_id, PARTITIONS, "corr")[0].clone();
    assert_eq!(
        store
            .finish_page(page, 0, &CloseTotals::default(), None)
            .await
            .unwrap(),
        PageCommit::UnknownJob
    );
    assert_eq!(store.close(unknown.job_id).await.unwrap(), None);

    let closed_at = at("2026-11-21T00:05:00Z");
    let day_closed = testing::event("accounting", &close.event(closed_at), closed_at);
    assert!(store.finish_close(&close, &day_closed).await.unwrap());
    assert_eq!(
        store.close(close.job_id).await.unwrap().unwrap().closed_at,
        Some(day_closed.occurred_at)
    );
    assert!(
        !store.finish_close(&close, &day_closed).await.unwrap(),
        "closed once"
    );
    assert!(!store.finish_close(&unknown, &day_closed).await.unwrap());
}

async fn an_accounts_closing_writes_from_the_sequence_read<
    S: AccountProfiles
        + AuditLogs
        + ClosePages
        + CompanyEarnings
        + LedgerAccounts
        + Postings
        + Settles,
>(
    store: &S,
) {
    let day = date("2026-11-20");
    let kiwi = Uuid::now_v7();
    let task = priced(Uuid::now_v7());
    post(store, kiwi, &fee(&task, "2026-11-20"), None).await;
    post(store, kiwi, &Movement::reward(&task, now(), day), None).await;
    let read = store.account(kiwi).await.unwrap().unwrap();
    let closing = read.close(day, now()).expect("an open day");
    let payout = closing
        .payout
        .clone()
        .expect("a positive balance is paid out");
    let events = [testing::event(
        "accounting",
        &closing.statement.event(),
        now(),
    )];
    assert_eq!(
        store.save_closing(&read, &closing, &events).await.unwrap(),
        Booked::Applied
    );
    assert_eq!(
        store.account(kiwi).await.unwrap(),
        Some(closing.account.clone())
    );
    let log = store.entries(kiwi, 1, None).await.unwrap();
    assert_eq!(log.items, vec![payout], "the payout is the newest line");
    store.settle().await;
    assert_eq!(
        store.earnings(day, day).await.unwrap()[&day],
        DayEarnings {
            fees_cents: 1500,
            rewards_cents: 3000,
            paid_cents: 1500
        }
    );
    assert_eq!(
        store.save_closing(&read, &closing, &events).await.unwrap(),
        Booked::Stale,
        "closed from a read that is stale now"
    );
    assert_eq!(
        store.account(kiwi).await.unwrap(),
        Some(closing.account.clone())
    );
    store.settle().await;
    assert_eq!(
        store.earnings(day, day).await.unwrap()[&day].paid_cents,
        1500
    );

    // A profile change does not make a closing stale (only money does).
    let mango = Uuid::now_v7();
    post(store, mango, &fee(&task, "2026-11-20"), None).await;
    let read = store.account(mango).await.unwrap().unwrap();
    let named = LedgerAccount {
        profile: Some(profile(mango, 1)),
        ..read.clone()
    };
    let booked = store
        .save_profile(Some(&read), &named, CONSUMER, &event())
        .await;
    assert_eq!(booked.unwrap(), Booked::Applied);
    let closing = read.close(day, now()).expect("an open day");
    assert_eq!(closing.payout, None, "a debt is carried");
    assert_eq!(
        store.save_closing(&read, &closing, &[]).await.unwrap(),
        Booked::Applied
    );
    let closed = LedgerAccount {
        profile: Some(profile(mango, 1)),
        ..closing.account.clone()
    };
    assert_eq!(
        store.account(mango).await.unwrap(),
        Some(closed.clone()),
        "the money closed, the profile kept"
    );
    // Without a payout a closing leaves the sequence as it was; still, the day closes once.
    assert_eq!(closed.sequence, read.sequence);
    assert_eq!(
        store.save_closing(&read, &closing, &[]).await.unwrap(),
        Booked::Stale,
        "its statement exists"
    );
    assert_eq!(store.account(mango).await.unwrap(), Some(closed));
}

/// The hand-over reads what accounting kept of payouts before the move, as the old code wrote
/// it (details; transfers held and sent; the recorder's lines), and publishes the details and
/// the held transfers once, however often it runs, a page at a time.
#[tokio::test]
async fn the_payouts_kept_before_the_move_are_handed_over_once() {
    use ates_kernel::dynamo::{key, n, s};
    let (table, _emulator) = testing::shared_table("Accounting").await;
    let (kiwi, mango) = (Uuid::now_v7(), Uuid::now_v7());
    let item = |pk: String, sk: String, fields: &[(&str, &str)]| {
        let mut item = key(pk, sk);
        for (name, value) in fields {
            item.insert((*name).to_owned(), s(*value));
        }
        item
    };
    let transfer = |account: Uuid, payout: &str, status: &str| {
        let mut t = item(
            format!("ACCOUNT#{account}"),
            format!("TRANSFER#{payout}"),
            &[
                ("payout_id", payout),
                ("account_id", &account.to_string()),
                ("business_date", "2026-11-20"),
                ("status", status),
            ],
        );
        t.insert("amount_cents".into(), n(700));
        t
    };
    let items = vec![
        item(
            format!("ACCOUNT#{kiwi}"),
            "PAYOUT_DETAILS".into(),
            &[
                ("account_id", &kiwi.to_string()),
                ("iban", "DE89370400440532013000"),
                ("updated_at", "2026-11-19T10:00:00Z"),
            ],
        ),
        transfer(mango, "payout:mango:2026-11-20", "held"),
        transfer(kiwi, "payout:kiwi:2026-11-18", "sent"),
        item("BANK#payout:kiwi:2026-11-18".into(), "TRANSFER".into(), &[]),
    ];
    for item in items {
        assert!(table
            .put_if(item, "attribute_not_exists(pk)", None)
            .await
            .unwrap());
    }
    let store = ates_accounting::store::Store::new(table.clone());
    let now = at("2026-12-06T12:00:00Z");
    let mut handed = (0, 0);
    for _ in 0..2 {
        let mut run = ates_accounting::app::HandoverRun {
            cursor: None,
            limit: Some(1),
        };
        loop {
            let page = ates_accounting::app::hand_over_payouts(&store, &run, now)
                .await
                .unwrap();
            handed = (handed.0 + page.details, handed.1 + page.held_transfers);
            match page.cursor {
                Some(cursor) => run.cursor = Some(cursor),
                None => break,
            }
        }
    }
    assert_eq!(handed, (2, 2), "each read on both runs");
    // The table is this test's own: every outbox record in it is the hand-over's.
    let records = table
        .scan()
        .filter_expression("sk = :outbox")
        .expression_attribute_values(":outbox", s("OUTBOX"))
        .send()
        .await
        .unwrap()
        .items()
        .to_vec();
    let mut published: Vec<(String, String)> = records
        .iter()
        .flat_map(|r| ates_kernel::outbox::events_in(r).unwrap())
        .map(|event| {
            let account = event.data["account_id"].as_str().unwrap().to_owned();
            (event.name, account)
        })
        .collect();
    published.sort();
    let mut expected = vec![
        ("Payout.Made".to_owned(), mango.to_string()),
        ("PayoutDetails.HandedOver".to_owned(), kiwi.to_string()),
    ];
    expected.sort();
    assert_eq!(
        published, expected,
        "once each, though the runs read them twice"
    );
}
