//! Billing's use cases: one function per event handler, schedule and command. Each is a try of
//! the kernel's executor (`usecase::execute`): it reads through the ports it names, decides with
//! the domain (`ledger`, `invoice`, `statement`) and commits state and events in one store call.
//!
//! Every handler is idempotent by what it writes, never by luck: a movement exists once under
//! its key, an invoice and a statement once under theirs, an invoice's or statement's change is
//! conditional on the version read, and every event's id is derived from its key
//! (`Envelope::once_for`), so a second delivery, in any order, writes and publishes nothing.
//!
//! Weeks and months are the business's (SPEC M7): a use case that learns a fact or reads "now"
//! asks the business calendar (`Calendar::business_date`: its time zone and the hour its day
//! ends) for the day once, and the fact carries that day into its movement.

use ates_kernel::calendar::Calendar;
use ates_kernel::contracts::billing::Outcome as LineOutcome;
use ates_kernel::contracts::clock::{decode_month_ended, decode_week_ended, Month, Week};
use ates_kernel::contracts::orders::{
    decode_order_cancelled, decode_order_failed_invoiced, decode_order_success_invoiced,
    OrderInvoiced,
};
use ates_kernel::contracts::payments::{
    decode_collection_failed, decode_collection_succeeded, decode_salary_paid,
};
use ates_kernel::contracts::reports::{decode_fine, decode_fine_waived};
use ates_kernel::copies::AccountCopies;
use ates_kernel::dynamo::Listed;
use ates_kernel::event::{Cause, DomainEvent, Envelope, EventError};
use ates_kernel::identity::{Claims, Rights, Role};
use ates_kernel::inbox::{ConsumeError, Outcome};
use ates_kernel::usecase::Failure;
use ates_kernel::usecase::{execute, execute_keyed, Answer, Attempt, Keyed};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::BillingError;
use crate::invoice::{invoice_id, invoice_key, Invoice, InvoiceStatus};
use crate::ledger::{Fact, Kind, Period, MAX_BONUS_CENTS};
pub use crate::ports::{
    BillingStore, Bonus, Booked, Invoices, Invoicing, Listings, Periods, Posting, Postings,
    RevenueLines, Statements,
};
use crate::statement::{salary_key, statement_id, Statement, Worker};
use crate::PRODUCER;

/// Who grants bonuses (SPEC M7, seed 002: "только менеджер").
#[derive(Debug)]
pub struct Managers;

impl Rights for Managers {
    const ROLES: &'static [Role] = &[Role::Manager];
}

/// Inbox names: one per handler (the consumers' queues).
pub mod consumer {
    pub const SYNC_ACCOUNT: &str = "billing.sync-account";
}

fn poison(e: EventError) -> ConsumeError {
    ConsumeError::Poison(e.to_string())
}

/// The business day `at` falls on; an instant outside the calendar is poison (no retry dates it).
fn day_of(calendar: &Calendar, at: DateTime<Utc>) -> Result<NaiveDate, ConsumeError> {
    calendar
        .business_date(at)
        .map_err(|e| ConsumeError::Poison(e.to_string()))
}

/// The business day a request runs on.
fn today(calendar: &Calendar, now: DateTime<Utc>) -> Result<NaiveDate, BillingError> {
    calendar
        .business_date(now)
        .map_err(|e| BillingError::Invalid(e.to_string()))
}

/// The one event for `key`, caused by `cause`.
fn once<E: DomainEvent>(
    event: &E,
    key: &str,
    cause: &Cause,
    now: DateTime<Utc>,
) -> Result<Envelope, ConsumeError> {
    Ok(Envelope::wrap(PRODUCER, event, cause, now)
        .map_err(poison)?
        .once_for(key))
}

/// What a consumer's commit came to, as the executor reads it.
fn attempt<E>(booked: Booked) -> Attempt<Outcome, E> {
    match booked {
        Booked::Applied => Attempt::Done(Outcome::Applied),
        Booked::AlreadyDone | Booked::KeyUsed => Attempt::Done(Outcome::Duplicate),
        Booked::Stale => Attempt::Lost,
    }
}

/// What billing learned from an event: posted, or, replayed (N4: the archive replayed into
/// billing's rules by `billing-replay`), only revenue's lines written again. A replayed fact's
/// money was posted when it was first learned (to a period since issued, perhaps): posting it
/// again would move it twice or into the wrong period, so a replay never posts.
async fn learn(
    store: &(impl Periods + Postings + RevenueLines),
    facts: &[Fact],
    replayed: bool,
) -> Result<Outcome, ConsumeError> {
    if replayed {
        project_replayed(store, facts).await
    } else {
        post_facts(store, facts).await
    }
}

/// Revenue's lines of replayed facts, each beside its movement.
async fn project_replayed(
    store: &impl RevenueLines,
    facts: &[Fact],
) -> Result<Outcome, ConsumeError> {
    let lines: Vec<_> = facts.iter().filter_map(Fact::revenue_line).collect();
    Ok(match store.project_replayed(&lines).await? {
        0 => Outcome::Duplicate,
        _ => Outcome::Applied,
    })
}

/// N4, with `billing-replay`: bonuses are commands, never replayed, so their revenue lines are
/// written again from the bonuses billing keeps. Answers how many.
pub async fn reproject_bonuses(
    store: &(impl Listings + RevenueLines),
    calendar: &Calendar,
) -> Result<usize, ConsumeError> {
    let mut written = 0;
    let mut cursor = None;
    loop {
        let page = store
            .bonuses(100, cursor.as_deref())
            .await
            .map_err(|e| ConsumeError::Retry(e.to_string()))?;
        let mut lines = Vec::with_capacity(page.items.len());
        for b in &page.items {
            let on = day_of(calendar, b.granted_at)?;
            let fact = Fact::bonus(b.bonus_id, b.worker_id, b.amount_cents, b.granted_at, on);
            lines.extend(fact.revenue_line());
        }
        written += store.project_replayed(&lines).await?;
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(written),
        }
    }
}

/// Posts `facts` together, each to its open period, once.
async fn post_facts(
    store: &(impl Periods + Postings),
    facts: &[Fact],
) -> Result<Outcome, ConsumeError> {
    execute(|| async {
        let mut movements = Vec::with_capacity(facts.len());
        for fact in facts {
            let issued = store.issued_from(fact.natural_period()).await?;
            movements.push(fact.post(fact.open_period(&issued)));
        }
        let posting = Posting {
            movements: &movements,
            bonus: None,
            events: &[],
            keyed: None,
        };
        Ok(attempt(store.post(&posting).await?))
    })
    .await
}

/// `Order.SuccessInvoiced`, `Order.FailedInvoiced`, `Order.Cancelled` (course): the client is
/// charged the order's value (`charge:<order>`), the executor earns 60 % of the list price on
/// an approval (`share:<order>`) and is fined 40 % on a decline (`fine:<order>`). A cancelled
/// order is charged only once it was valued. Each counts in the business week (the charge) or
/// month (the executor's line) of the business day the order ended on.
pub async fn book_order(
    store: &(impl Periods + Postings + RevenueLines),
    calendar: &Calendar,
    event: &Envelope,
    replayed: bool,
) -> Result<Outcome, ConsumeError> {
    let invoiced = |o: OrderInvoiced, outcome: LineOutcome| -> Result<Vec<Fact>, ConsumeError> {
        let on = day_of(calendar, o.at)?;
        let mut facts = vec![Fact::charge(
            o.order_id,
            o.client_id,
            outcome,
            o.value_cents,
            o.at,
            on,
        )];
        facts.extend(Fact::executor_line(
            o.order_id,
            o.executor_id,
            outcome,
            o.list_price_cents,
            o.at,
            on,
        ));
        Ok(facts)
    };
    let facts = match event.name.as_str() {
        "Order.SuccessInvoiced" => invoiced(
            decode_order_success_invoiced(event).map_err(poison)?.0,
            LineOutcome::Approved,
        )?,
        "Order.FailedInvoiced" => invoiced(
            decode_order_failed_invoiced(event).map_err(poison)?.0,
            LineOutcome::Declined,
        )?,
        "Order.Cancelled" => {
            let cancelled = decode_order_cancelled(event).map_err(poison)?;
            let Some(value) = cancelled.value_cents else {
                // Cancelled before it was valued: free (course).
                return Ok(Outcome::NotConcerned);
            };
            vec![Fact::charge(
                cancelled.order_id,
                cancelled.client_id,
                LineOutcome::Cancelled,
                value,
                cancelled.at,
                day_of(calendar, cancelled.at)?,
            )]
        }
        _ => return Ok(Outcome::NotConcerned),
    };
    learn(store, &facts, replayed).await
}

/// `Report.Fine` (`qa-fine:<case>`) and `Report.FineWaived` (`waiver:<case>`): 40 % of the
/// order's list price taken from the executor, or given back, in the business month of the
/// verdict.
pub async fn book_quality(
    store: &(impl Periods + Postings + RevenueLines),
    calendar: &Calendar,
    event: &Envelope,
    replayed: bool,
) -> Result<Outcome, ConsumeError> {
    let fact = match event.name.as_str() {
        "Report.Fine" => {
            let f = decode_fine(event).map_err(poison)?;
            Fact::quality(
                Kind::QaFine,
                f.case_id,
                f.order_id,
                f.executor_id,
                f.list_price_cents,
                f.fined_at,
                day_of(calendar, f.fined_at)?,
            )
        }
        "Report.FineWaived" => {
            let w = decode_fine_waived(event).map_err(poison)?;
            Fact::quality(
                Kind::Waiver,
                w.case_id,
                w.order_id,
                w.executor_id,
                w.list_price_cents,
                w.waived_at,
                day_of(calendar, w.waived_at)?,
            )
        }
        _ => return Ok(Outcome::NotConcerned),
    };
    learn(store, &[fact], replayed).await
}

/// `Clock.WeekEnded`: the week is issued (nothing posts to it any more: a late charge goes to
/// the next week), then one invoice per client charged in it, with its first collection, each
/// once. A second delivery issues what the first did not get to, and nothing twice.
pub async fn issue_invoices(
    store: &(impl Periods + Postings + Invoicing + Invoices),
    event: &Envelope,
    now: DateTime<Utc>,
) -> Result<Outcome, ConsumeError> {
    let ended = decode_week_ended(event).map_err(poison)?;
    let week = ended.week;
    store.issue_period(Period::Week(week)).await?;
    let cause = Cause::event(event);
    let mut outcome = Outcome::Duplicate;
    for client in store.charged_clients(week).await? {
        if issue_invoice(store, client, week, &cause, now).await? == Outcome::Applied {
            outcome = Outcome::Applied;
        }
    }
    Ok(outcome)
}

async fn issue_invoice(
    store: &(impl Postings + Invoicing + Invoices),
    client: Uuid,
    week: Week,
    cause: &Cause,
    now: DateTime<Utc>,
) -> Result<Outcome, ConsumeError> {
    if store.invoice(invoice_id(client, week)).await?.is_some() {
        return Ok(Outcome::Duplicate);
    }
    let charges = store.movements_of(client, Period::Week(week)).await?;
    let (invoice, issued, requested) = Invoice::issue(client, week, &charges, now);
    let key = invoice_key(client, week);
    let events = [
        once(&issued, &key, cause, now)?,
        once(&requested, &format!("{key}:1"), cause, now)?,
    ];
    let booked = store.issue_invoice(&invoice, &events).await?;
    Ok(match booked {
        Booked::Applied => Outcome::Applied,
        _ => Outcome::Duplicate,
    })
}

/// `Payment.CollectionSucceeded`: the invoice is paid, the money posted
/// (`collection:<invoice>`), every approved or declined order on it settled.
/// `Payment.CollectionFailed`: declined; retried or uncollectible.
pub async fn record_collection(
    store: &impl Invoices,
    calendar: &Calendar,
    event: &Envelope,
) -> Result<Outcome, ConsumeError> {
    let cause = Cause::event(event);
    match event.name.as_str() {
        "Payment.CollectionSucceeded" => {
            let success = decode_collection_succeeded(event).map_err(poison)?;
            let on = day_of(calendar, success.collected_at)?;
            execute(|| async {
                let before = issued_invoice(store, success.invoice_id).await?;
                let Some(c) = before.collected(&success, on) else {
                    return Ok(Attempt::Done(Outcome::Duplicate));
                };
                let key = invoice_key(before.client_id, before.week);
                let at = success.collected_at;
                let mut events = vec![once(&c.paid, &key, &cause, at)?];
                for settled in &c.settled {
                    events.push(once(settled, &settled.order_id.to_string(), &cause, at)?);
                }
                let booked = store
                    .save_invoice(&before, &c.invoice, Some(&c.movement), &events)
                    .await?;
                Ok(attempt(booked))
            })
            .await
        }
        "Payment.CollectionFailed" => {
            let failure = decode_collection_failed(event).map_err(poison)?;
            execute(|| async {
                let before = issued_invoice(store, failure.invoice_id).await?;
                let Some((after, declined)) = before.declined(&failure) else {
                    return Ok(Attempt::Done(Outcome::Duplicate));
                };
                let key = format!(
                    "{}:{}",
                    invoice_key(before.client_id, before.week),
                    failure.attempt
                );
                let events = [once(&declined, &key, &cause, failure.failed_at)?];
                let booked = store.save_invoice(&before, &after, None, &events).await?;
                Ok(attempt(booked))
            })
            .await
        }
        _ => Ok(Outcome::NotConcerned),
    }
}

/// An invoice payments answers about: it exists (payments only collects what billing asked
/// for), or its issue has not committed yet and the answer waits in the queue.
async fn issued_invoice(store: &impl Invoices, id: Uuid) -> Result<Invoice, ConsumeError> {
    store
        .invoice(id)
        .await?
        .ok_or_else(|| ConsumeError::Retry(format!("invoice {id} is not issued yet")))
}

/// The `billing-dun` schedule (every 15 minutes): each retrying invoice whose retry is due is
/// collected again (`Billing.CollectionRequested`, attempt n), once per (invoice, attempt).
/// Answers how many were requested.
pub async fn dun(store: &impl Invoices, now: DateTime<Utc>) -> Result<usize, ConsumeError> {
    let cause = Cause::request(format!("billing-dun:{}", now.timestamp()));
    let mut requested = 0;
    for due in store.invoices_in(InvoiceStatus::Retrying).await? {
        let outcome = execute::<_, ConsumeError, _, _>(|| async {
            let Some(before) = store.invoice(due.invoice_id).await? else {
                return Ok(Attempt::Done(Outcome::NotConcerned));
            };
            let Some((after, request)) = before.due_retry(now) else {
                return Ok(Attempt::Done(Outcome::NotConcerned));
            };
            let key = format!(
                "{}:{}",
                invoice_key(before.client_id, before.week),
                request.attempt
            );
            let events = [once(&request, &key, &cause, now)?];
            Ok(attempt(
                store.save_invoice(&before, &after, None, &events).await?,
            ))
        })
        .await?;
        if outcome == Outcome::Applied {
            requested += 1;
        }
    }
    Ok(requested)
}

/// `Clock.MonthEnded`: the month is issued (a late line goes to the next month), then one
/// statement per worker with lines in it or debt carried, each once.
pub async fn issue_statements(
    store: &(impl Periods + Postings + Statements),
    event: &Envelope,
    now: DateTime<Utc>,
) -> Result<Outcome, ConsumeError> {
    let ended = decode_month_ended(event).map_err(poison)?;
    let month = ended.month;
    store.issue_period(Period::Month(month)).await?;
    let cause = Cause::event(event);
    let mut outcome = Outcome::Duplicate;
    for worker in store.workers_to_state(month).await? {
        if issue_statement(store, worker, month, &cause, now).await? == Outcome::Applied {
            outcome = Outcome::Applied;
        }
    }
    Ok(outcome)
}

async fn issue_statement(
    store: &(impl Postings + Statements),
    worker_id: Uuid,
    month: Month,
    cause: &Cause,
    now: DateTime<Utc>,
) -> Result<Outcome, ConsumeError> {
    execute(|| async {
        if store
            .statement(statement_id(worker_id, month))
            .await?
            .is_some()
        {
            return Ok(Attempt::Done(Outcome::Duplicate));
        }
        let before = store.worker(worker_id).await?;
        let worker = before.clone().unwrap_or_else(|| Worker::new(worker_id));
        let lines = store.movements_of(worker_id, Period::Month(month)).await?;
        let (after, statement, issued) = Statement::issue(&worker, month, &lines, now);
        let events = [once(&issued, &salary_key(worker_id, month), cause, now)?];
        let booked = store
            .issue_statement(before.as_ref(), &after, &statement, &events)
            .await?;
        Ok(attempt(booked))
    })
    .await
}

/// `Payment.SalaryPaid`: the bank paid the statement's salary; the money is posted
/// (`salary:<worker>:<month>`), once.
pub async fn record_salary(
    store: &impl Statements,
    calendar: &Calendar,
    event: &Envelope,
) -> Result<Outcome, ConsumeError> {
    let paid = decode_salary_paid(event).map_err(poison)?;
    let on = day_of(calendar, paid.paid_at)?;
    execute(|| async {
        let id = statement_id(paid.worker_id, paid.month);
        let Some(before) = store.statement(id).await? else {
            return Err(ConsumeError::Retry(format!(
                "statement {id} is not issued yet"
            )));
        };
        let Some((after, movement)) = before.salary_paid(&paid, on) else {
            return Ok(Attempt::Done(Outcome::Duplicate));
        };
        Ok(attempt(
            store.save_statement(&before, &after, &movement).await?,
        ))
    })
    .await
}

/// A command's context: why it happens, its idempotency key, and when (the kernel's).
pub use ates_kernel::usecase::Request;

/// `POST /billing/bonuses`, as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewBonus {
    pub worker_id: Uuid,
    pub amount_cents: i64,
    pub reason: String,
}

/// A bonus that may be granted: its amount within 1..=100 000 cents, a reason of 1..=500
/// characters.
#[derive(Debug, Clone)]
pub struct ValidBonus {
    worker_id: Uuid,
    amount_cents: i64,
    reason: String,
}

impl NewBonus {
    pub fn validate(&self) -> Result<ValidBonus, BillingError> {
        if !(1..=MAX_BONUS_CENTS).contains(&self.amount_cents) {
            return Err(BillingError::Invalid(format!(
                "amount_cents must be 1..{MAX_BONUS_CENTS}"
            )));
        }
        let reason = self.reason.trim();
        if reason.is_empty() || reason.chars().count() > 500 {
            return Err(BillingError::Invalid(
                "reason must be 1..500 characters".into(),
            ));
        }
        Ok(ValidBonus {
            worker_id: self.worker_id,
            amount_cents: self.amount_cents,
            reason: reason.to_owned(),
        })
    }
}

/// SPEC M7: a manager grants an active worker a bonus (`bonus:<id>`), counted on the statement
/// of the business month still open. With an `Idempotency-Key`, a repeat answers the first
/// bonus.
pub async fn grant_bonus(
    store: &(impl Periods + Postings + AccountCopies + ates_kernel::usecase::Replays),
    calendar: &Calendar,
    claims: &Claims,
    new: &NewBonus,
    request: &Request,
) -> Result<Answer<Bonus>, BillingError> {
    let manager = claims.may::<Managers>(store).await?;
    let valid = new.validate()?;
    let worker = store.account_copy(valid.worker_id).await?;
    if !worker.is_some_and(|w| w.active && w.role == Role::Worker) {
        return Err(BillingError::Invalid(format!(
            "{} is no active worker",
            valid.worker_id
        )));
    }
    let keyed = match &request.idempotency {
        Some(key) => Some(Keyed {
            key: key.clone(),
            fingerprint: format!(
                "grant-bonus {}",
                serde_json::to_string(new).map_err(EventError::from)?
            ),
        }),
        None => None,
    };
    let bonus_id = Uuid::now_v7();
    let on = today(calendar, request.now)?;
    execute_keyed(store, keyed.as_ref(), || async {
        let fact = Fact::bonus(
            bonus_id,
            valid.worker_id,
            valid.amount_cents,
            request.now,
            on,
        );
        let issued = store.issued_from(fact.natural_period()).await?;
        let period = fact.open_period(&issued);
        let month = match period {
            Period::Month(m) => m,
            Period::Week(_) => unreachable!("a worker's line counts in a month"),
        };
        let bonus = Bonus {
            bonus_id,
            worker_id: valid.worker_id,
            amount_cents: valid.amount_cents,
            reason: valid.reason.clone(),
            granted_by: manager.account_id(),
            granted_at: request.now,
            month,
        };
        let answer = serde_json::to_string(&bonus).map_err(EventError::from)?;
        let movements = [fact.post(period)];
        let posting = Posting {
            movements: &movements,
            bonus: Some(&bonus),
            events: &[],
            keyed: keyed.as_ref().map(|k| (k, answer.as_str())),
        };
        Ok(match store.post(&posting).await? {
            Booked::Applied => Attempt::Done(bonus),
            Booked::KeyUsed => Attempt::KeyUsed(BillingError::Failed(Failure::KeyReused)),
            Booked::Stale | Booked::AlreadyDone => Attempt::Lost,
        })
    })
    .await
}

/// Who keeps the company's books: accountants and admins read every invoice and statement and
/// the revenue.
#[derive(Debug)]
pub struct Bookkeepers;

impl Rights for Bookkeepers {
    const ROLES: &'static [Role] = &[Role::Accountant, Role::Admin];
}

#[derive(Debug)]
pub struct Clients;

impl Rights for Clients {
    const ROLES: &'static [Role] = &[Role::Client];
}

#[derive(Debug)]
pub struct Workers;

impl Rights for Workers {
    const ROLES: &'static [Role] = &[Role::Worker];
}

/// `GET /billing/me/invoices`: a client's invoices, newest first.
pub async fn my_invoices(
    store: &(impl Listings + AccountCopies),
    claims: &Claims,
    limit: usize,
    cursor: Option<&str>,
) -> Result<Listed<Invoice>, BillingError> {
    let client = claims.may::<Clients>(store).await?;
    store
        .invoices_of_client(client.account_id(), limit, cursor)
        .await
}

/// `GET /billing/invoices/{id}`: its client, accountants and admins; 404 for anyone else.
pub async fn invoice(
    store: &(impl Invoices + AccountCopies),
    claims: &Claims,
    id: Uuid,
) -> Result<Invoice, BillingError> {
    let caller = claims.caller(store).await?;
    let invoice = store
        .invoice(id)
        .await?
        .ok_or(BillingError::UnknownInvoice)?;
    let sees = match caller.role() {
        Role::Accountant | Role::Admin => true,
        Role::Client => invoice.client_id == caller.account_id(),
        Role::Worker | Role::Manager => false,
    };
    sees.then_some(invoice).ok_or(BillingError::UnknownInvoice)
}

/// `GET /billing/invoices?week&status` (accountants, admins).
pub async fn invoices(
    store: &(impl Listings + AccountCopies),
    claims: &Claims,
    week: Option<Week>,
    status: Option<InvoiceStatus>,
    limit: usize,
    cursor: Option<&str>,
) -> Result<Listed<Invoice>, BillingError> {
    claims.may::<Bookkeepers>(store).await?;
    if week.is_none() && status.is_none() {
        return Err(BillingError::Invalid(
            "list by week, by status, or both".into(),
        ));
    }
    store.invoices_where(week, status, limit, cursor).await
}

/// `GET /billing/me`: a worker's month so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonthSoFar {
    pub month: Month,
    pub shares_cents: i64,
    pub fines_cents: i64,
    pub waivers_cents: i64,
    pub bonuses_cents: i64,
    pub carried_cents: i64,
    pub expected_salary_cents: i64,
}

/// The month a line would count in now: the business month of today, or the first one after
/// it still open (the one a bonus granted now goes to).
pub async fn my_month(
    store: &(impl Periods + Postings + Statements + AccountCopies),
    calendar: &Calendar,
    claims: &Claims,
    now: DateTime<Utc>,
) -> Result<MonthSoFar, BillingError> {
    let worker = claims.may::<Workers>(store).await?;
    let id = worker.account_id();
    let natural = Period::Month(Month::of(today(calendar, now)?));
    let issued = store.issued_from(natural).await?;
    let Period::Month(month) = natural.first_open(&issued) else {
        unreachable!("a month's next is a month")
    };
    let lines = store.movements_of(id, Period::Month(month)).await?;
    let carried = store.worker(id).await?.unwrap_or_else(|| Worker::new(id));
    let (_, s, _) = Statement::issue(&carried, month, &lines, now);
    Ok(MonthSoFar {
        month,
        shares_cents: s.shares_cents,
        fines_cents: s.fines_cents,
        waivers_cents: s.waivers_cents,
        bonuses_cents: s.bonuses_cents,
        carried_cents: s.carried_in_cents,
        expected_salary_cents: s.salary_cents,
    })
}

/// `GET /billing/me/statements`: a worker's statements, newest first.
pub async fn my_statements(
    store: &(impl Listings + AccountCopies),
    claims: &Claims,
    limit: usize,
    cursor: Option<&str>,
) -> Result<Listed<Statement>, BillingError> {
    let worker = claims.may::<Workers>(store).await?;
    store
        .statements_of_worker(worker.account_id(), limit, cursor)
        .await
}

/// `GET /billing/statements?month` (accountants, admins).
pub async fn statements(
    store: &(impl Listings + AccountCopies),
    claims: &Claims,
    month: Month,
    limit: usize,
    cursor: Option<&str>,
) -> Result<Listed<Statement>, BillingError> {
    claims.may::<Bookkeepers>(store).await?;
    store.statements_of_month(month, limit, cursor).await
}

/// `GET /billing/bonuses` (managers).
pub async fn bonuses(
    store: &(impl Listings + AccountCopies),
    claims: &Claims,
    limit: usize,
    cursor: Option<&str>,
) -> Result<Listed<Bonus>, BillingError> {
    claims.may::<Managers>(store).await?;
    store.bonuses(limit, cursor).await
}

/// One week of `GET /billing/revenue`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WeekRevenue {
    pub week: Option<Week>,
    pub charged_cents: i64,
    pub collected_cents: i64,
    pub shares_cents: i64,
    pub fines_cents: i64,
    pub bonuses_cents: i64,
}

/// `GET /billing/revenue?from&to` (accountants, admins): per business week of the movements'
/// business days (`from` and `to` name business days too), charged, collected, shares, fines
/// (less waivers) and bonuses.
pub async fn revenue(
    store: &(impl Listings + AccountCopies),
    claims: &Claims,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<WeekRevenue>, BillingError> {
    claims.may::<Bookkeepers>(store).await?;
    // The kernel's one rule for ranges: in order, at most 366 days, both ends included.
    ates_kernel::calendar::check_range(from, to).map_err(BillingError::Invalid)?;
    let mut weeks: std::collections::BTreeMap<Week, WeekRevenue> = Default::default();
    for m in store.revenue_between(from, to).await? {
        let week = Week::of(m.date);
        let row = weeks.entry(week).or_insert_with(|| WeekRevenue {
            week: Some(week),
            ..Default::default()
        });
        match m.kind {
            Kind::Charge => row.charged_cents += m.amount_cents,
            Kind::Collection => row.collected_cents += m.amount_cents,
            Kind::Share => row.shares_cents += m.amount_cents,
            Kind::Fine | Kind::QaFine => row.fines_cents += m.amount_cents,
            Kind::Waiver => row.fines_cents -= m.amount_cents,
            Kind::Bonus => row.bonuses_cents += m.amount_cents,
            Kind::Salary => {}
        }
    }
    Ok(weeks.into_values().collect())
}

/// The clock's events billing follows (one consumer): a week's invoices, a month's statements.
pub async fn on_clock(
    store: &(impl Periods + Postings + Invoicing + Invoices + Statements),
    event: &Envelope,
    now: DateTime<Utc>,
) -> Result<Outcome, ConsumeError> {
    match event.name.as_str() {
        "Clock.WeekEnded" => issue_invoices(store, event, now).await,
        "Clock.MonthEnded" => issue_statements(store, event, now).await,
        _ => Ok(Outcome::NotConcerned),
    }
}

/// Payments' events billing follows (one consumer): collections and salaries. Replayed, a
/// collection writes its revenue line again and nothing else (a decline moves no money, a
/// salary is no revenue).
pub async fn on_payment(
    store: &(impl Invoices + Statements + RevenueLines),
    calendar: &Calendar,
    event: &Envelope,
    replayed: bool,
) -> Result<Outcome, ConsumeError> {
    if replayed {
        if event.name != "Payment.CollectionSucceeded" {
            return Ok(Outcome::NotConcerned);
        }
        let s = decode_collection_succeeded(event).map_err(poison)?;
        let on = day_of(calendar, s.collected_at)?;
        let fact = Fact::collection(
            s.invoice_id,
            s.client_id,
            s.amount_cents,
            s.collected_at,
            on,
        );
        return project_replayed(store, &[fact]).await;
    }
    match event.name.as_str() {
        "Payment.SalaryPaid" => record_salary(store, calendar, event).await,
        _ => record_collection(store, calendar, event).await,
    }
}
