//! Orders' use cases: one function per command, query, event handler and timer. Each is a try
//! of the kernel's executor (`usecase::execute`, `execute_keyed`): it reads through the ports,
//! decides with the net (`order`), and commits the order, one history entry and one event per
//! fired transition in one store call.
//!
//! The other contexts' events are facts the order learns (`order::Fact`): a handler decodes its
//! event, tells the order, and commits whatever the net fired. A fact the order knows already
//! changes nothing, so a redelivered event is harmless, and one that arrives early waits in the
//! order until what it needs is there: no handler ever has to be redelivered for order's sake.

use ates_kernel::contracts::accounts::decode_account;
use ates_kernel::contracts::{billing, calculator, matching, reports, supplies};
use ates_kernel::copies::{self, KeepsAccountCopies};
use ates_kernel::dynamo::Listed;
use ates_kernel::event::{Cause, DomainEvent, Envelope};
use ates_kernel::identity::{AccountCopies, Claims, Rights, Role};
use ates_kernel::inbox::{ConsumeError, Outcome};
pub use ates_kernel::usecase::Request;
use ates_kernel::usecase::{execute, execute_keyed, kept, Attempt};
use chrono::{DateTime, Utc};
use uuid::Uuid;

pub use ates_kernel::usecase::Answer;

use crate::error::OrderError;
use crate::order::{Fact, HistoryEntry, Listing, NewOrder, Order, Published, SlotNotice, Step};
pub use crate::ports::{
    ApprovalsDue, OrderChanges, OrderListings, OrderStore, Orders, Saved, ServiceTypes,
};
use crate::service_type::{ServiceType, ServiceTypeFields};
use crate::PRODUCER;

/// Who keeps the service types and sees every order: managers, and admins, who hold every
/// manager's right (SPEC Roles).
#[derive(Debug)]
pub struct Staff;

impl Rights for Staff {
    const ROLES: &'static [Role] = &[Role::Manager, Role::Admin];
}

/// Who orders: clients.
#[derive(Debug)]
pub struct Clients;

impl Rights for Clients {
    const ROLES: &'static [Role] = &[Role::Client];
}

/// Who has orders of their own: clients (theirs) and workers (those they execute).
#[derive(Debug)]
pub struct Parties;

impl Rights for Parties {
    const ROLES: &'static [Role] = &[Role::Client, Role::Worker];
}

/// Who chooses from the service types: clients, and the staff who keep them.
#[derive(Debug)]
pub struct Choosers;

impl Rights for Choosers {
    const ROLES: &'static [Role] = &[Role::Client, Role::Manager, Role::Admin];
}

fn wrap(
    event: &impl DomainEvent,
    cause: &Cause,
    now: DateTime<Utc>,
) -> Result<Envelope, OrderError> {
    Ok(Envelope::wrap(PRODUCER, event, cause, now)?)
}

/// The events and history entries of fired transitions, by `actor`, because of `cause`.
fn recorded(
    steps: &[Step],
    actor: &str,
    cause: &Cause,
    now: DateTime<Utc>,
) -> Result<(Vec<HistoryEntry>, Vec<Envelope>), OrderError> {
    let mut history = Vec::with_capacity(steps.len());
    let mut events = Vec::with_capacity(steps.len());
    for step in steps {
        history.push(HistoryEntry {
            transition: step.transition,
            version: step.version,
            at: now,
            actor: actor.to_owned(),
            cause_event_id: cause.causation_id.clone(),
            correlation_id: cause.correlation_id.clone(),
            places: step.places.clone(),
        });
        events.push(match &step.event {
            Published::Created(e) => wrap(e, cause, now)?,
            Published::Rated(e) => wrap(e, cause, now)?,
            Published::ExecutorAssigned(e) => wrap(e, cause, now)?,
            Published::Valued(e) => wrap(e, cause, now)?,
            Published::Supplied(e) => wrap(e, cause, now)?,
            Published::Pending(e) => wrap(e, cause, now)?,
            Published::ExecutorReleased(e) => wrap(e, cause, now)?,
            Published::PreReported(e) => wrap(e, cause, now)?,
            Published::InWork(e) => wrap(e, cause, now)?,
            Published::Reported(e) => wrap(e, cause, now)?,
            Published::SuccessInvoiced(e) => wrap(e, cause, now)?,
            Published::FailedInvoiced(e) => wrap(e, cause, now)?,
            Published::Paid(e) => wrap(e, cause, now)?,
            Published::Cancelled(e) => wrap(e, cause, now)?,
        });
    }
    Ok((history, events))
}

// ------------------------------------------------------------------------- service types

/// M2: a manager adds a service type.
pub async fn add_service_type(
    store: &(impl ServiceTypes + AccountCopies),
    claims: &Claims,
    fields: &ServiceTypeFields,
    request: &Request,
) -> Result<Answer<ServiceType>, OrderError> {
    claims.may::<Staff>(store).await?;
    let valid = fields.validate_new()?;
    let keyed = request.keyed("add-service-type", &valid)?;
    let id = Uuid::now_v7();
    execute_keyed(store, keyed.as_ref(), || async {
        let service_type = ServiceType::create(id, valid.clone(), request.now);
        let event = wrap(&service_type.set(), &request.cause, request.now)?;
        let answer = kept(&service_type)?;
        let keyed = keyed.as_ref().map(|k| (k, answer.as_str()));
        let saved = store
            .save_service_type(&service_type, None, &event, keyed, request.now)
            .await?;
        Ok(saved.keyed_attempt(service_type))
    })
    .await
}

/// The type, or `missing`: a path that names none is 404, a body that does is 422.
async fn existing(
    store: &impl ServiceTypes,
    id: Uuid,
    missing: fn(Uuid) -> OrderError,
) -> Result<ServiceType, OrderError> {
    store.service_type(id).await?.ok_or_else(|| missing(id))
}

/// M2: a manager changes a type; orders made before keep what they were ordered with.
pub async fn change_service_type(
    store: &(impl ServiceTypes + AccountCopies),
    claims: &Claims,
    id: Uuid,
    fields: &ServiceTypeFields,
    request: &Request,
) -> Result<ServiceType, OrderError> {
    claims.may::<Staff>(store).await?;
    execute(|| async {
        let current = existing(store, id, OrderError::NoSuchServiceType).await?;
        let changed = current.change(fields.validate_change(&current)?, request.now)?;
        let event = wrap(&changed.set(), &request.cause, request.now)?;
        let saved = store
            .save_service_type(&changed, Some(&current), &event, None, request.now)
            .await?;
        Ok(saved.keyed_attempt(changed))
    })
    .await
}

/// M2: a manager retires a type: no new order may name it.
pub async fn retire_service_type(
    store: &(impl ServiceTypes + AccountCopies),
    claims: &Claims,
    id: Uuid,
    request: &Request,
) -> Result<ServiceType, OrderError> {
    claims.may::<Staff>(store).await?;
    execute(|| async {
        let current = existing(store, id, OrderError::NoSuchServiceType).await?;
        let retired = current.retire(request.now)?;
        let event = wrap(&retired.set(), &request.cause, request.now)?;
        let saved = store
            .save_service_type(&retired, Some(&current), &event, None, request.now)
            .await?;
        Ok(saved.keyed_attempt(retired))
    })
    .await
}

/// M2: the types clients choose from (active); staff may also list the retired ones.
pub async fn service_types(
    store: &(impl ServiceTypes + AccountCopies),
    claims: &Claims,
    retired: bool,
    limit: usize,
    cursor: Option<&str>,
) -> Result<Listed<ServiceType>, OrderError> {
    if retired {
        claims.may::<Staff>(store).await?;
    } else {
        claims.may::<Choosers>(store).await?;
    }
    store.service_types(!retired, limit, cursor).await
}

// ---------------------------------------------------------------------------- the client

/// M2: a client orders a service (`Idempotency-Key`: the same key and body answer the same order).
pub async fn create_order(
    store: &(impl ServiceTypes + OrderChanges + AccountCopies),
    claims: &Claims,
    new: &NewOrder,
    notice: SlotNotice,
    request: &Request,
) -> Result<Answer<Order>, OrderError> {
    let client = claims.may::<Clients>(store).await?;
    let service = existing(store, new.service_type_id, OrderError::UnknownServiceType)
        .await?
        .ordered()?;
    let valid = new.clone().validate(service, notice, request.now)?;
    let keyed = request.keyed("create-order", new)?;
    let id = Uuid::now_v7();
    execute_keyed(store, keyed.as_ref(), || async {
        let (order, step) = Order::create(id, client.account_id(), valid.clone(), request.now);
        let actor = client.account_id().to_string();
        let (history, events) = recorded(&[step], &actor, &request.cause, request.now)?;
        let answer = kept(&order.view())?;
        let keyed = keyed.as_ref().map(|k| (k, answer.as_str()));
        let saved = store.add_order(&order, &history, &events, keyed).await?;
        Ok(saved.keyed_attempt(order))
    })
    .await
}

/// The order if the caller may see it: its client, its executor, staff; 404 for anyone else.
async fn visible(
    store: &(impl Orders + AccountCopies),
    claims: &Claims,
    id: Uuid,
) -> Result<Order, OrderError> {
    let caller = claims.caller(store).await?;
    let order = store.order(id).await?.ok_or(OrderError::UnknownOrder)?;
    let me = caller.account_id();
    let sees = match caller.role() {
        Role::Manager | Role::Admin => true,
        Role::Client => order.client_id == me,
        Role::Worker => order.executor_id == Some(me),
        Role::Accountant => false,
    };
    sees.then_some(order).ok_or(OrderError::UnknownOrder)
}

/// M2: one order with its marked places and what `pending` still waits for.
pub async fn order(
    store: &(impl Orders + AccountCopies),
    claims: &Claims,
    id: Uuid,
) -> Result<Order, OrderError> {
    visible(store, claims, id).await
}

/// M2: every transition of an order, in order.
pub async fn history(
    store: &(impl Orders + AccountCopies),
    claims: &Claims,
    id: Uuid,
) -> Result<Vec<HistoryEntry>, OrderError> {
    visible(store, claims, id).await?;
    Ok(store.history(id).await?)
}

/// M2: a client's orders, or the orders a worker executes, newest first.
pub async fn my_orders(
    store: &(impl OrderListings + AccountCopies),
    claims: &Claims,
    limit: usize,
    cursor: Option<&str>,
) -> Result<Listed<Order>, OrderError> {
    let party = claims.may::<Parties>(store).await?;
    match party.role() {
        Role::Client => {
            store
                .orders_of_client(party.account_id(), limit, cursor)
                .await
        }
        _ => {
            store
                .orders_of_executor(party.account_id(), limit, cursor)
                .await
        }
    }
}

/// M2: every order (at one stage, created within dates), newest first, for staff.
pub async fn orders(
    store: &(impl OrderListings + AccountCopies),
    claims: &Claims,
    listing: &Listing,
    limit: usize,
    cursor: Option<&str>,
) -> Result<Listed<Order>, OrderError> {
    claims.may::<Staff>(store).await?;
    store.orders_in(listing, limit, cursor).await
}

/// The client's own order, read for a command of theirs (another's is 404).
async fn own(store: &impl Orders, client_id: Uuid, id: Uuid) -> Result<Order, OrderError> {
    store
        .order(id)
        .await?
        .filter(|o| o.client_id == client_id)
        .ok_or(OrderError::UnknownOrder)
}

/// One command of the owning client: read, fire, commit.
async fn clients_command(
    store: &(impl Orders + OrderChanges + AccountCopies),
    claims: &Claims,
    id: Uuid,
    request: &Request,
    fire: impl Fn(&Order, Uuid) -> Result<(Order, Step), OrderError>,
) -> Result<Order, OrderError> {
    let client = claims.may::<Clients>(store).await?;
    let me = client.account_id();
    execute(|| async {
        let before = own(store, me, id).await?;
        let (after, step) = fire(&before, me)?;
        let (history, events) = recorded(&[step], &me.to_string(), &request.cause, request.now)?;
        let saved = store
            .change_order(&before, &after, &history, &events)
            .await?;
        Ok(saved.keyed_attempt(after))
    })
    .await
}

/// M2: the owning client cancels, from any place before `in_work`.
pub async fn cancel(
    store: &(impl Orders + OrderChanges + AccountCopies),
    claims: &Claims,
    id: Uuid,
    request: &Request,
) -> Result<Order, OrderError> {
    clients_command(store, claims, id, request, |o, me| {
        o.cancel(me, request.now)
    })
    .await
}

/// M2: the owning client approves the report.
pub async fn approve(
    store: &(impl Orders + OrderChanges + AccountCopies),
    claims: &Claims,
    id: Uuid,
    request: &Request,
) -> Result<Order, OrderError> {
    clients_command(store, claims, id, request, |o, me| {
        o.approve(me, request.now)
    })
    .await
}

/// M2: the owning client declines the report, with a reason.
pub async fn decline(
    store: &(impl Orders + OrderChanges + AccountCopies),
    claims: &Claims,
    id: Uuid,
    reason: &str,
    request: &Request,
) -> Result<Order, OrderError> {
    clients_command(store, claims, id, request, |o, me| {
        o.decline(me, reason, request.now)
    })
    .await
}

// ------------------------------------------------------------------- the other contexts

/// Tells order `id` `facts`, and commits what the net fired, by the context that published
/// `event`. Nothing to write when every fact was known.
async fn tell(
    store: &(impl Orders + OrderChanges),
    id: Uuid,
    facts: &[Fact],
    event: &Envelope,
    now: DateTime<Utc>,
) -> Result<Outcome, ConsumeError> {
    let cause = Cause::event(event);
    let told = execute(|| async {
        let Some(before) = store.order(id).await? else {
            // Orders publishes an order's events only after the order is written.
            return Err(ConsumeError::Poison(format!("no order {id}")));
        };
        let mut after = before.clone();
        let mut steps = Vec::new();
        for fact in facts {
            if let Some((next, fired)) = after.learn(fact.clone(), now) {
                after = next;
                steps.extend(fired);
            }
        }
        if after == before {
            return Ok(Attempt::Done(Outcome::Duplicate));
        }
        let (history, events) = recorded(&steps, &event.producer, &cause, now).map_err(poison)?;
        let saved = store
            .change_order(&before, &after, &history, &events)
            .await?;
        Ok(match saved {
            Saved::Done => Attempt::Done(Outcome::Applied),
            Saved::Stale | Saved::KeyUsed => Attempt::Lost,
        })
    })
    .await?;
    Ok(told)
}

fn poison(e: impl std::fmt::Display) -> ConsumeError {
    ConsumeError::Poison(e.to_string())
}

/// `Calculator.EstimateGiven` fires `rate`.
pub async fn on_estimate(
    store: &(impl Orders + OrderChanges),
    event: &Envelope,
    now: DateTime<Utc>,
) -> Result<Outcome, ConsumeError> {
    let estimate = calculator::decode_estimate_given(event).map_err(poison)?;
    if estimate.estimate_cents < 0 {
        return Err(poison("a negative estimate"));
    }
    let fact = Fact::Estimated {
        estimate_cents: estimate.estimate_cents,
    };
    tell(store, estimate.order_id, &[fact], event, now).await
}

/// `Matching.ExecutorMatched` fires `match`, and at once `release` if the copy of accounts
/// already knows the executor is deactivated (so matching is asked again).
pub async fn on_match(
    store: &(impl Orders + OrderChanges + AccountCopies),
    event: &Envelope,
    now: DateTime<Utc>,
) -> Result<Outcome, ConsumeError> {
    let matched = matching::decode_executor_matched(event).map_err(poison)?;
    let executor_id = matched.executor_id;
    let mut facts = vec![Fact::Matched {
        executor_id,
        order_version: matched.order_version,
    }];
    let copy = store
        .account_copy(executor_id)
        .await
        .map_err(|e| ConsumeError::Retry(e.to_string()))?;
    if copy.is_some_and(|account| !account.active) {
        facts.push(Fact::ExecutorGone { executor_id });
    }
    tell(store, matched.order_id, &facts, event, now).await
}

/// `Calculator.PriceSet` fires `value` (when the price names the order's executor).
pub async fn on_price(
    store: &(impl Orders + OrderChanges),
    event: &Envelope,
    now: DateTime<Utc>,
) -> Result<Outcome, ConsumeError> {
    let price = calculator::decode_price_set(event).map_err(poison)?;
    if price.value_cents < 0 || price.value_cents > price.list_price_cents {
        return Err(poison("a price outside 0..=list price"));
    }
    let fact = Fact::Priced {
        executor_id: price.executor_id,
        list_price_cents: price.list_price_cents,
        value_cents: price.value_cents,
    };
    tell(store, price.order_id, &[fact], event, now).await
}

/// `Supplies.KitIssued` fires `supply` (when the kit went to the order's executor).
pub async fn on_kit_issued(
    store: &(impl Orders + OrderChanges),
    event: &Envelope,
    now: DateTime<Utc>,
) -> Result<Outcome, ConsumeError> {
    let kit = supplies::decode_kit_issued(event).map_err(poison)?;
    let fact = Fact::KitIssued {
        kit_id: kit.kit_id,
        executor_id: kit.executor_id,
    };
    tell(store, kit.order_id, &[fact], event, now).await
}

/// `Report.*`: the executor's pre-report fires `begin`, the report `finish`.
pub async fn on_executors_report(
    store: &(impl Orders + OrderChanges),
    event: &Envelope,
    now: DateTime<Utc>,
) -> Result<Outcome, ConsumeError> {
    match event.name.as_str() {
        reports::PreReportSubmitted::NAME => on_pre_report(store, event, now).await,
        reports::ReportSubmitted::NAME => on_report(store, event, now).await,
        _ => Ok(Outcome::NotConcerned),
    }
}

/// `Report.PreReportSubmitted` fires `begin` (`pending` → `pre_report` → `in_work`) when the
/// pre-report is the current executor's, who holds the kit, within 30 minutes of the slot.
async fn on_pre_report(
    store: &(impl Orders + OrderChanges),
    event: &Envelope,
    now: DateTime<Utc>,
) -> Result<Outcome, ConsumeError> {
    let pre = reports::decode_pre_report_submitted(event).map_err(poison)?;
    let fact = Fact::PreReported {
        executor_id: pre.executor_id,
        at: pre.submitted_at,
    };
    tell(store, pre.order_id, &[fact], event, now).await
}

/// `Report.ReportSubmitted` fires `finish` (`in_work` → `report`); the 72 hours start.
async fn on_report(
    store: &(impl Orders + OrderChanges),
    event: &Envelope,
    now: DateTime<Utc>,
) -> Result<Outcome, ConsumeError> {
    let report = reports::decode_report_submitted(event).map_err(poison)?;
    let fact = Fact::Reported {
        executor_id: report.executor_id,
        at: report.submitted_at,
    };
    tell(store, report.order_id, &[fact], event, now).await
}

/// `Billing.OrderSettled` fires `settle` (`*_invoiced` → `*_paid`).
pub async fn on_settled(
    store: &(impl Orders + OrderChanges),
    event: &Envelope,
    now: DateTime<Utc>,
) -> Result<Outcome, ConsumeError> {
    let settled = billing::decode_order_settled(event).map_err(poison)?;
    let fact = Fact::Settled {
        invoice_id: settled.invoice_id,
    };
    tell(store, settled.order_id, &[fact], event, now).await
}

/// How many of a deactivated executor's orders one event releases at most; more are released
/// by the event's redelivery (the handler says `Retry`).
pub const RELEASES_PER_EVENT: usize = 100;

/// `Account.*`: the copy of accounts moves forward; a deactivated executor is released from
/// every order whose work has not begun (then matching and supplies start over for it).
pub async fn sync_account(
    store: &(impl Orders + OrderChanges + OrderListings + KeepsAccountCopies),
    event: &Envelope,
    now: DateTime<Utc>,
) -> Result<Outcome, ConsumeError> {
    if let Some(Ok(account)) = decode_account(event) {
        if !account.active && account.role == Role::Worker {
            // Released before the copy is saved: a redelivery (the copy saved or not) finds
            // every order released already, and changes nothing twice.
            let gone = [Fact::ExecutorGone {
                executor_id: account.account_id,
            }];
            let orders = store
                .orders_of_executor(account.account_id, RELEASES_PER_EVENT, None)
                .await
                .map_err(|e| ConsumeError::Retry(e.to_string()))?;
            for order in orders.items.iter().filter(|o| !o.has_begun()) {
                tell(store, order.order_id, &gone, event, now).await?;
            }
            if orders.next_cursor.is_some() {
                return Err(ConsumeError::Retry("more orders to release".into()));
            }
        }
    }
    copies::sync_account(store, event).await
}

// ----------------------------------------------------------------------------- the timer

/// How many reports one run of the timer approves at most (the next run takes the rest).
pub const APPROVALS_PER_RUN: usize = 100;

/// M2: reports not decided within 72 hours are approved by themselves. Idempotent: an order
/// approved meanwhile is refused by the net and skipped.
pub async fn approve_due_reports(
    store: &(impl Orders + OrderChanges + ApprovalsDue),
    now: DateTime<Utc>,
    correlation_id: &str,
) -> Result<usize, OrderError> {
    let cause = Cause::request(correlation_id);
    let mut approved = 0;
    for id in store.approvals_due(now, APPROVALS_PER_RUN).await? {
        let done = execute(|| async {
            let Some(before) = store.order(id).await? else {
                return Ok(Attempt::Done(false));
            };
            let Ok((after, step)) = before.approve_by_itself(now) else {
                return Ok(Attempt::Done(false));
            };
            let (history, events) = recorded(&[step], PRODUCER, &cause, now)?;
            let saved = store
                .change_order(&before, &after, &history, &events)
                .await?;
            Ok::<_, OrderError>(saved.attempt(true))
        })
        .await?;
        approved += usize::from(done);
    }
    Ok(approved)
}
