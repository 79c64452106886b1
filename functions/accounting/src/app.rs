//! Accounting's use cases: one function per event handler, job page and query. Each is a try of
//! the kernel's executor (`usecase::execute`): it reads through the small ports it names (`ports`), decides with
//! the domain (`ledger`, `close`), and commits state and events in one store call.
//! No HTTP, no AWS: `api` maps requests onto these; `store` and `memory` are the stores. The
//! company's books (anyone's balance and log, the earnings, the closes) take a
//! `Capability<Bookkeepers>`, so they cannot be read for anyone else.

use ates_kernel::calendar::Calendar;
use ates_kernel::contracts::accounting::{
    PayoutDetailsHandedOver, PayoutMade, TaskPriced, CURRENCY,
};
use ates_kernel::contracts::accounts::decode_account;
use ates_kernel::contracts::clock::DayEnded;
use ates_kernel::contracts::tasks::{
    decode_task_assigned, decode_task_completed, decode_task_created,
};
use ates_kernel::event::{Cause, Envelope, EventError};
use ates_kernel::identity::{Capability, Claims, Rights, Role};
use ates_kernel::inbox::{ConsumeError, Outcome};
use ates_kernel::job::{Page, PageCommit};
use ates_kernel::usecase::Failure;
use ates_kernel::usecase::{execute, Attempt};
use chrono::{DateTime, NaiveDate, Utc};
use futures_util::{stream, StreamExt, TryStreamExt};
use serde::Serialize;
use uuid::Uuid;

use crate::close::{may_start, Close, CloseStatus, CloseTotals};
use crate::error::AccountingError;
use crate::ledger::{Entry, LedgerAccount, Movement, Task};
use crate::payout::Leftover;
pub use crate::ports::{
    AccountProfiles, AuditLogs, BalanceListings, Booked, ClosePages, CloseReports, CloseStarts,
    CompanyEarnings, DayEarnings, LedgerAccounts, LedgerStore, PayoutHandover, Posting, Postings,
    PricedTasks,
};
use crate::PRODUCER;
use ates_kernel::copies::AccountCopies;

/// Who keeps the company's books (SPEC Accounting): admins and accountants see every account's
/// balance and audit log, the company's earnings and the daily closes.
#[derive(Debug)]
pub struct Bookkeepers;

impl Rights for Bookkeepers {
    const ROLES: &'static [Role] = &[Role::Admin, Role::Accountant];
}

/// Inbox names, of the handlers that keep an inbox. A task's copy and a movement need none:
/// the copy's condition and the movement's key make each once.
pub mod consumer {
    pub const SYNC_ACCOUNT: &str = "accounting.sync-account";
    pub const CLOSE_DAY: &str = "accounting.close-day";
}

fn poison(e: EventError) -> ConsumeError {
    ConsumeError::Poison(e.to_string())
}

/// What the commit of a write that has no state to race for came to: a refused one was made
/// meanwhile by another delivery.
fn once(committed: Booked) -> Outcome {
    match attempt::<()>(committed) {
        Attempt::Done(outcome) => outcome,
        _ => Outcome::Superseded,
    }
}

/// What a consumer's commit came to, as the executor reads it.
fn attempt<E>(committed: Booked) -> Attempt<Outcome, E> {
    match committed {
        Booked::Applied => Attempt::Done(Outcome::Applied),
        Booked::Duplicate => Attempt::Done(Outcome::Duplicate),
        Booked::AlreadyPosted => Attempt::Done(Outcome::Superseded),
        Booked::Stale => Attempt::Lost,
    }
}

/// B2: the copy of the person behind a ledger account (`Account.*`), only forward in revision.
/// The ledger account itself appears with the first of its events, whichever comes first.
pub async fn sync_account(
    store: &(impl AccountProfiles + LedgerAccounts),
    event: &Envelope,
) -> Result<Outcome, ConsumeError> {
    let Some(snapshot) = decode_account(event) else {
        return Ok(Outcome::Superseded);
    };
    let snapshot = snapshot.map_err(poison)?;
    execute(|| async {
        let before = store.account(snapshot.account_id).await?;
        // Clients are no employees: never on the payroll, so no ledger account (SPEC Roles).
        // An employee's account that became a client's keeps its ledger and its history.
        if before.is_none() && !snapshot.role.is_employee() {
            return Ok(Attempt::Done(Outcome::NotConcerned));
        }
        if before
            .as_ref()
            .and_then(|a| a.profile.as_ref())
            .is_some_and(|p| p.revision >= snapshot.revision)
        {
            return Ok(Attempt::Done(Outcome::Superseded));
        }
        let mut after = before
            .clone()
            .unwrap_or_else(|| LedgerAccount::open(snapshot.account_id));
        after.profile = Some(snapshot.clone());
        let committed = store
            .save_profile(before.as_ref(), &after, consumer::SYNC_ACCOUNT, event)
            .await?;
        Ok(attempt(committed))
    })
    .await
}

/// B3: prices are set the first time accounting sees a task, from whichever event comes first.
fn priced(task: Option<Task>, id: Uuid, now: DateTime<Utc>) -> (Task, bool) {
    match task {
        Some(task) => (task, false),
        None => (Task::priced(id, now, &mut rand::thread_rng()), true),
    }
}

fn price_event(task: &Task, cause: &Cause) -> Result<Envelope, EventError> {
    let priced = TaskPriced {
        task_id: task.task_id,
        fee_cents: task.fee_cents,
        reward_cents: task.reward_cents,
        currency: CURRENCY.to_owned(),
        priced_at: task.priced_at,
    };
    Envelope::wrap(PRODUCER, &priced, cause, task.priced_at)
}

/// `Task.Created` (any version): the task is priced if it was not yet, and its title and jira
/// id are kept for the audit log.
pub async fn record_task(
    store: &impl PricedTasks,
    event: &Envelope,
    now: DateTime<Utc>,
) -> Result<Outcome, ConsumeError> {
    let created = decode_task_created(event).map_err(poison)?;
    let cause = Cause::event(event);
    execute(|| async {
        let before = store.task(created.task_id).await?;
        if before.as_ref().is_some_and(|t| t.title.is_some()) {
            return Ok(Attempt::Done(Outcome::Superseded));
        }
        let (mut after, new) = priced(before.clone(), created.task_id, now);
        after.title = Some(created.title.clone());
        after.jira_id = created.jira_id.clone();
        let events = if new {
            vec![price_event(&after, &cause).map_err(poison)?]
        } else {
            vec![]
        };
        let committed = store.save_task(before.as_ref(), &after, &events).await?;
        Ok(attempt(committed))
    })
    .await
}

/// Posts the movement `make` builds for `task_id` to `account_id`'s ledger, once, pricing the
/// task if this is the first accounting hears of it.
async fn post_movement(
    store: &(impl LedgerAccounts + Postings + PricedTasks),
    event: &Envelope,
    account_id: Uuid,
    task_id: Uuid,
    now: DateTime<Utc>,
    make: impl Fn(&Task) -> Movement,
) -> Result<Outcome, ConsumeError> {
    let cause = Cause::event(event);
    execute(|| async {
        let (task, new) = priced(store.task(task_id).await?, task_id, now);
        let before = store.account(account_id).await?;
        let account = before
            .clone()
            .unwrap_or_else(|| LedgerAccount::open(account_id));
        let (after, entry) = account.post(&make(&task), now);
        let mut events =
            vec![Envelope::wrap(PRODUCER, &entry.event(), &cause, now).map_err(poison)?];
        if new {
            events.push(price_event(&task, &cause).map_err(poison)?);
        }
        let posting = Posting {
            before: before.as_ref(),
            after: &after,
            entry: &entry,
            priced: new.then_some(&task),
            events: &events,
        };
        let committed = store.post(&posting).await?;
        if committed == Booked::Applied {
            tracing::info!(transaction_id = %entry.transaction_id, %account_id, amount_cents = entry.amount_cents, business_date = %entry.business_date, "posted");
        }
        Ok(attempt(committed))
    })
    .await
}

/// B4: the assignee pays the task's fee at every assignment (`Task.Assigned`, keyed by the
/// event), in the business day the assignment happened.
pub async fn charge_fee(
    store: &(impl LedgerAccounts + Postings + PricedTasks),
    calendar: &Calendar,
    event: &Envelope,
    now: DateTime<Utc>,
) -> Result<Outcome, ConsumeError> {
    let assigned = decode_task_assigned(event).map_err(poison)?;
    let on = calendar
        .business_date(assigned.assigned_at)
        .map_err(|e| ConsumeError::Poison(e.to_string()))?;
    post_movement(
        store,
        event,
        assigned.assignee_id,
        assigned.task_id,
        now,
        |task| Movement::fee(event.id, task, assigned.assigned_at, on),
    )
    .await
}

/// B4: whoever completes a task gets its reward (`Task.Completed`, keyed by the task).
pub async fn pay_reward(
    store: &(impl LedgerAccounts + Postings + PricedTasks),
    calendar: &Calendar,
    event: &Envelope,
    now: DateTime<Utc>,
) -> Result<Outcome, ConsumeError> {
    let completed = decode_task_completed(event).map_err(poison)?;
    let on = calendar
        .business_date(completed.completed_at)
        .map_err(|e| ConsumeError::Poison(e.to_string()))?;
    post_movement(
        store,
        event,
        completed.assignee_id,
        completed.task_id,
        now,
        |task| Movement::reward(task, completed.completed_at, on),
    )
    .await
}

/// B5: a business day ended (`Clock.DayEnded`): its close starts, unless the close of the day
/// before is still running, in which case the event is retried later.
pub async fn start_close(
    store: &(impl CloseReports + CloseStarts),
    event: &Envelope,
    now: DateTime<Utc>,
) -> Result<Outcome, ConsumeError> {
    let day: DayEnded = event.decode().map_err(poison)?;
    let date = day.business_date;
    if store.close(Close::job_id_of(date)).await?.is_some() {
        return Ok(Outcome::Superseded);
    }
    let previous = match date.pred_opt() {
        Some(before) => store.close(Close::job_id_of(before)).await?,
        None => None,
    };
    if !may_start(previous.as_ref()) {
        return Err(ConsumeError::Retry(format!(
            "the close of {date} waits for the close of the day before"
        )));
    }
    let close = Close::start(date, store.account_count().await?, now);
    let committed = store
        .start_close(&close, consumer::CLOSE_DAY, event)
        .await?;
    tracing::info!(business_date = %date, job_id = %close.job_id, ?committed, "close started");
    Ok(once(committed))
}

/// What one page of a close did.
#[derive(Debug, PartialEq, Eq)]
pub enum PageOutcome {
    Closed(CloseTotals),
    /// Delivered before and committed then.
    Duplicate,
}

/// How many accounts of a page close at once. Each is its own transaction on its own items, so
/// they do not wait on each other; the bound keeps a page's Lambda to a handful of connections.
const CLOSING_AT_ONCE: usize = 25;

/// B5, one page: each account of the page is closed in its own atomic step (statement,
/// payout or carried debt, the mail's request), [`CLOSING_AT_ONCE`] at a time; an account
/// closed already — a redelivery after a crash — is counted from its statement and not touched.
/// Then the page's totals, progress and the next page commit together, and the last page
/// publishes `Day.Closed`.
pub async fn close_page(
    store: &(impl ClosePages + CloseReports + LedgerAccounts),
    page: &Page,
    now: DateTime<Utc>,
) -> Result<PageOutcome, AccountingError> {
    let date = store
        .close(page.job_id)
        .await?
        .ok_or_else(|| AccountingError::Invalid("no such close".into()))?
        .business_date;
    let (ids, next_cursor) = store
        .accounts_page(page.partition, page.cursor.as_ref())
        .await?;
    let next = next_cursor.map(|cursor| page.next(cursor));
    let cause = Cause {
        correlation_id: page.correlation_id.clone(),
        causation_id: Some(page.job_id.to_string()),
    };
    let statements: Vec<_> = stream::iter(store.accounts(&ids).await?)
        .map(|account| close_account(store, account, date, &cause, now))
        .buffer_unordered(CLOSING_AT_ONCE)
        .try_collect()
        .await?;
    let mut totals = CloseTotals::default();
    for statement in statements.iter().flatten() {
        totals.add(statement);
    }
    match store
        .finish_page(page, ids.len(), &totals, next.as_ref())
        .await?
    {
        PageCommit::Done => {}
        PageCommit::Duplicate => return Ok(PageOutcome::Duplicate),
        PageCommit::UnknownJob => return Err(AccountingError::Invalid("no such close".into())),
        PageCommit::Refused(_) => return Err(AccountingError::Failed(Failure::ChangedMeanwhile)),
    }
    if next.is_none() {
        finish_if_done(store, date, &cause, now).await?;
    }
    Ok(PageOutcome::Closed(totals))
}

/// Closes `date` for one account, or finds it closed; answers the day's statement (none if a
/// later day was closed for it already: a day ended out of order).
async fn close_account(
    store: &(impl ClosePages + LedgerAccounts),
    account: LedgerAccount,
    date: NaiveDate,
    cause: &Cause,
    now: DateTime<Utc>,
) -> Result<Option<crate::ledger::Statement>, AccountingError> {
    let account_id = account.account_id;
    // The page read the account; a try after a lost one reads it again.
    let as_read = std::sync::Mutex::new(Some(account));
    execute(|| async {
        let first = as_read.lock().expect("not poisoned").take();
        let account = match first {
            Some(account) => account,
            None => store
                .account(account_id)
                .await?
                .ok_or(AccountingError::UnknownAccount)?,
        };
        let Some(closing) = account.close(date, now) else {
            let statement = account.last_statement.filter(|s| s.business_date == date);
            return Ok(Attempt::Done(statement));
        };
        let mut events = Vec::new();
        if let Some(payout) = &closing.payout {
            events.push(Envelope::wrap(PRODUCER, &payout.event(), cause, now)?);
            events.push(Envelope::wrap(PRODUCER, &payout_made(payout), cause, now)?);
        }
        if closing.statement.is_mailed() {
            events.push(Envelope::wrap(
                PRODUCER,
                &closing.statement.event(),
                cause,
                now,
            )?);
        }
        Ok(
            match store.save_closing(&account, &closing, &events).await? {
                Booked::Applied => Attempt::Done(Some(closing.statement)),
                _ => Attempt::Lost,
            },
        )
    })
    .await
}

fn payout_made(payout: &Entry) -> PayoutMade {
    PayoutMade {
        payout_id: payout.transaction_id.clone(),
        account_id: payout.account_id,
        business_date: payout.business_date,
        amount_cents: -payout.amount_cents,
        currency: CURRENCY.to_owned(),
        paid_at: payout.posted_at,
    }
}

async fn finish_if_done(
    store: &(impl ClosePages + CloseReports),
    date: NaiveDate,
    cause: &Cause,
    now: DateTime<Utc>,
) -> Result<(), AccountingError> {
    let Some(close) = store.close(Close::job_id_of(date)).await? else {
        return Ok(());
    };
    if close.is_finished() && close.closed_at.is_none() {
        let event = Envelope::wrap(PRODUCER, &close.event(now), cause, now)?;
        if store.finish_close(&close, &event).await? {
            tracing::info!(business_date = %date, paid_cents = close.totals.paid_cents, "day closed");
        }
    }
    Ok(())
}

/// A close page as the work queue delivers it: a page of an unknown close is poison.
pub async fn close_page_work(
    store: &(impl ClosePages + CloseReports + LedgerAccounts),
    page: Page,
) -> Result<(), ConsumeError> {
    let span = tracing::info_span!("close_page", correlation_id = %page.correlation_id, job_id = %page.job_id, partition = page.partition, page = page.page);
    let result =
        tracing::Instrument::instrument(close_page(store, &page, Utc::now()), span.clone()).await;
    match result {
        Ok(outcome) => {
            span.in_scope(|| tracing::info!(?outcome, "close page done"));
            Ok(())
        }
        Err(AccountingError::Invalid(reason)) => Err(ConsumeError::Poison(reason)),
        Err(e) => Err(ConsumeError::Retry(e.to_string())),
    }
}

/// `GET /accounting/me` and `/accounting/accounts/{id}`.
#[derive(Debug, Serialize)]
pub struct Balance {
    pub account_id: Uuid,
    pub full_name: Option<String>,
    pub balance_cents: i64,
    pub earned_today_cents: i64,
    pub business_date: NaiveDate,
    pub currency: &'static str,
}

fn balance(account: &LedgerAccount, today: NaiveDate) -> Balance {
    Balance {
        account_id: account.account_id,
        full_name: account.profile.as_ref().map(|p| p.full_name.clone()),
        balance_cents: account.balance_cents,
        earned_today_cents: account.earned_on(today),
        business_date: today,
        currency: CURRENCY,
    }
}

fn today(calendar: &Calendar, now: DateTime<Utc>) -> Result<NaiveDate, AccountingError> {
    calendar
        .business_date(now)
        .map_err(|e| AccountingError::Invalid(e.to_string()))
}

/// B1: an employee's own balance and what they earned today; zero before any movement.
pub async fn my_balance(
    store: &(impl AccountCopies + LedgerAccounts),
    calendar: &Calendar,
    me: &Claims,
    now: DateTime<Utc>,
) -> Result<Balance, AccountingError> {
    // The token's account, read alongside the check that it may still sign in.
    let mine = async { Ok::<_, AccountingError>(store.account(me.account_id).await?) };
    let (me, mine) = me.caller_and(store, mine).await?;
    let account = mine.unwrap_or_else(|| LedgerAccount::open(me.account_id()));
    Ok(balance(&account, today(calendar, now)?))
}

/// B1 (admins, accountants): anyone's balance.
pub async fn account_balance(
    store: &(impl AccountCopies + LedgerAccounts),
    caller: &Claims,
    calendar: &Calendar,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Balance, AccountingError> {
    let theirs = async { Ok::<_, AccountingError>(store.account(id).await?) };
    let (_books, theirs): (Capability<Bookkeepers>, _) = caller.may_and(store, theirs).await?;
    let account = theirs.ok_or(AccountingError::UnknownAccount)?;
    Ok(balance(&account, today(calendar, now)?))
}

/// A page of balances (admins, accountants).
#[derive(Debug, Serialize)]
pub struct Balances {
    pub accounts: Vec<Balance>,
    pub next_cursor: Option<String>,
}

pub async fn balances(
    store: &(impl AccountCopies + BalanceListings),
    caller: &Claims,
    calendar: &Calendar,
    limit: usize,
    cursor: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Balances, AccountingError> {
    let page = store.list_accounts(limit, cursor);
    let (_books, page): (Capability<Bookkeepers>, _) = caller.may_and(store, page).await?;
    let today = today(calendar, now)?;
    Ok(Balances {
        accounts: page.items.iter().map(|a| balance(a, today)).collect(),
        next_cursor: page.next_cursor,
    })
}

/// One line of the audit log as shown (B2): the task's title and jira id joined in when known.
#[derive(Debug, Serialize)]
pub struct AuditLine {
    pub entry_id: String,
    pub kind: ates_kernel::contracts::accounting::EntryKind,
    pub amount_cents: i64,
    pub balance_after_cents: i64,
    pub task_id: Option<Uuid>,
    pub title: Option<String>,
    pub jira_id: Option<String>,
    pub business_date: NaiveDate,
    /// The day it happened, when a late posting counts in a later one.
    pub occurred_on: NaiveDate,
    pub occurred_at: DateTime<Utc>,
    pub posted_at: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
pub struct AuditLog {
    pub account_id: Uuid,
    pub entries: Vec<AuditLine>,
    pub next_cursor: Option<String>,
}

/// B2: an employee's own audit log, newest first; empty before any movement.
pub async fn my_audit_log(
    store: &(impl AccountCopies + AuditLogs + LedgerAccounts + PricedTasks),
    me: &Claims,
    limit: usize,
    cursor: Option<&str>,
) -> Result<AuditLog, AccountingError> {
    let me = me.caller(store).await?.account_id();
    log_of(store, me, false, limit, cursor).await
}

/// B2 (admins, accountants): anyone's audit log, newest first; an unknown account is not found.
pub async fn audit_log(
    store: &(impl AccountCopies + AuditLogs + LedgerAccounts + PricedTasks),
    caller: &Claims,
    account_id: Uuid,
    limit: usize,
    cursor: Option<&str>,
) -> Result<AuditLog, AccountingError> {
    let _books: Capability<Bookkeepers> = caller.may(store).await?;
    log_of(store, account_id, true, limit, cursor).await
}

/// An account's audit log, newest first (`must_exist`: 404 for an unknown account).
async fn log_of(
    store: &(impl AuditLogs + LedgerAccounts + PricedTasks),
    account_id: Uuid,
    must_exist: bool,
    limit: usize,
    cursor: Option<&str>,
) -> Result<AuditLog, AccountingError> {
    if must_exist && store.account(account_id).await?.is_none() {
        return Err(AccountingError::UnknownAccount);
    }
    let page = store.entries(account_id, limit, cursor).await?;
    let mut ids: Vec<Uuid> = page.items.iter().filter_map(|e| e.task_id).collect();
    ids.sort();
    ids.dedup();
    let tasks = store.tasks(&ids).await?;
    let task = |id: Option<Uuid>| id.and_then(|id| tasks.iter().find(|t| t.task_id == id));
    Ok(AuditLog {
        account_id,
        entries: page
            .items
            .into_iter()
            .map(|e| AuditLine {
                title: task(e.task_id).and_then(|t| t.title.clone()),
                jira_id: task(e.task_id).and_then(|t| t.jira_id.clone()),
                entry_id: e.transaction_id,
                kind: e.kind,
                amount_cents: e.amount_cents,
                balance_after_cents: e.balance_after_cents,
                task_id: e.task_id,
                business_date: e.business_date,
                occurred_on: e.occurred_on,
                occurred_at: e.occurred_at,
                posted_at: e.posted_at,
            })
            .collect(),
        next_cursor: page.next_cursor,
    })
}

pub use ates_kernel::earnings::{Earnings, EarningsDay};

/// B6 (admins, accountants): earnings per business day from `from` to `to` (every day listed,
/// zero if quiet), and today's.
pub async fn earnings(
    store: &(impl AccountCopies + CompanyEarnings),
    caller: &Claims,
    calendar: &Calendar,
    from: NaiveDate,
    to: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Earnings, AccountingError> {
    let _books: Capability<Bookkeepers> = caller.may(store).await?;
    ates_kernel::calendar::check_range(from, to).map_err(AccountingError::Invalid)?;
    let today = today(calendar, now)?;
    let figures = store.earnings(from.min(today), to.max(today)).await?;
    Ok(Earnings::of(from, to, today, |date| {
        let e = figures.get(&date).copied().unwrap_or_default();
        (e.fees_cents, e.rewards_cents)
    }))
}

/// `GET /accounting/closes/{date}`.
#[derive(Debug, Serialize)]
pub struct CloseReport {
    pub date: NaiveDate,
    pub status: CloseStatus,
    pub accounts_total: u64,
    pub accounts_closed: u64,
    pub paid_cents: i64,
    pub payouts: u64,
    pub debts: u64,
    pub stalled_pages: u32,
    pub closed_at: Option<DateTime<Utc>>,
}

/// B5 (admins, accountants): how far the close of a day got; a day whose close has not started
/// is `pending`.
pub async fn close_report(
    store: &(impl AccountCopies + CloseReports),
    caller: &Claims,
    date: NaiveDate,
) -> Result<CloseReport, AccountingError> {
    let _books: Capability<Bookkeepers> = caller.may(store).await?;
    Ok(match store.close(Close::job_id_of(date)).await? {
        None => CloseReport {
            date,
            status: CloseStatus::Pending,
            accounts_total: store.account_count().await?,
            accounts_closed: 0,
            paid_cents: 0,
            payouts: 0,
            debts: 0,
            stalled_pages: 0,
            closed_at: None,
        },
        Some(close) => CloseReport {
            date,
            status: close.status(),
            accounts_total: close.progress.total.max(close.progress.done),
            accounts_closed: close.totals.accounts_closed,
            paid_cents: close.totals.paid_cents,
            payouts: close.totals.payouts,
            debts: close.totals.debts,
            stalled_pages: close.progress.stalled_pages,
            closed_at: close.closed_at,
        },
    })
}

/// A run of the hand-over: from `cursor` (none: the start), `limit` items read.
#[derive(Debug, Default, serde::Deserialize)]
pub struct HandoverRun {
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    pub limit: Option<usize>,
}

/// What a run handed over, and where the next run starts (`None`: done).
#[derive(Debug, Serialize)]
pub struct HandoverPage {
    pub details: usize,
    pub held_transfers: usize,
    pub cursor: Option<String>,
}

/// SPEC M7's move, one page per run: accounting's payout details and held transfers handed to
/// payments as events (`PayoutDetails.HandedOver`, `Payout.Made` again). Each event's id is
/// derived from what it hands over, so a run repeated publishes nothing twice.
pub async fn hand_over_payouts(
    store: &impl PayoutHandover,
    run: &HandoverRun,
    now: DateTime<Utc>,
) -> Result<HandoverPage, AccountingError> {
    let limit = run.limit.unwrap_or(500).clamp(1, 1000);
    let page = store.payout_leftovers(limit, run.cursor.as_deref()).await?;
    let cause = Cause::request("payout-hand-over");
    let (mut details, mut held_transfers) = (0, 0);
    let mut events = Vec::with_capacity(page.items.len());
    for leftover in &page.items {
        events.push(match leftover {
            Leftover::Details(kept) => {
                details += 1;
                let handed = PayoutDetailsHandedOver {
                    account_id: kept.account_id,
                    iban: kept.iban.clone(),
                    updated_at: kept.updated_at,
                };
                Envelope::wrap(PRODUCER, &handed, &cause, now)?
                    .once_for(&format!("hand-over:details:{}", kept.account_id))
            }
            Leftover::Transfer(held) => {
                held_transfers += 1;
                let made = PayoutMade {
                    payout_id: held.payout_id.clone(),
                    account_id: held.account_id,
                    business_date: held.business_date,
                    amount_cents: held.amount_cents,
                    currency: CURRENCY.to_owned(),
                    paid_at: now,
                };
                Envelope::wrap(PRODUCER, &made, &cause, now)?
                    .once_for(&format!("hand-over:{}", held.payout_id))
            }
        });
    }
    store.hand_over(&events).await?;
    tracing::info!(
        details,
        held_transfers,
        done = page.next_cursor.is_none(),
        "payouts handed over to payments"
    );
    Ok(HandoverPage {
        details,
        held_transfers,
        cursor: page.next_cursor,
    })
}
