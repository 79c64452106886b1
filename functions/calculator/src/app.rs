//! The calculator's use cases: one function per event handler and query. Each event handler is
//! a try of the kernel's executor (`usecase::execute`): it reads through the ports, decides with
//! the domain (`price`, `order`), and commits the state with its event in one store call (the
//! outbox). No HTTP, no AWS.
//!
//! Events arrive duplicated and in any order; each handler says what it does with a fact it
//! cannot use yet:
//! - the copies (`ServiceType.Set`, `Worker.ProfileSet`, `Account.*`) keep the highest
//!   revision, so any order of arrival ends in the same copy, and a repeat writes nothing;
//! - `Order.Created` gives the estimate once per order: the write is keyed by the order id, so a
//!   redelivery (even after the client's discount changed) publishes nothing new;
//! - `Matching.ExecutorMatched` waits for what it prices from: before its order's
//!   `Order.Created` (the order's base price and client) or before the executor's
//!   `Worker.ProfileSet` (the level) has arrived, the handler fails and the queue delivers the
//!   match again (five deliveries over about five minutes, then its dead-letter queue, whose
//!   alarm asks a person to redrive it). The facts it waits for are published before the match
//!   in the normal course (an order is created before it is rated and matched; a worker is hired
//!   with a profile before matching can pick them), so waiting costs a redelivery at most. The
//!   price is set once per (order, executor): a repeat that prices the same publishes nothing;
//!   one that prices otherwise (the level or the discount changed meanwhile) leaves the first
//!   price standing, publishes nothing, counts `PricesRefused` (which alarms) and is parked in
//!   the dead-letter queue at once with the two prices as its reason: it can never succeed, so
//!   retrying it would only delay the alarm.

use ates_kernel::contracts::hiring::decode_worker_profile_set;
use ates_kernel::contracts::matching::decode_executor_matched;
use ates_kernel::contracts::orders::{decode_order_created, decode_service_type_set};
use ates_kernel::event::{Cause, DomainEvent, Envelope, EventError};
use ates_kernel::identity::{AccountCopies, Claims, Rights, Role};
use ates_kernel::inbox::{ConsumeError, Outcome};
use ates_kernel::usecase::{execute, Attempt};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::copies::{ServiceType, WorkerLevel};
use crate::error::CalculatorError;
use crate::loyalty::Payment;
use crate::order::{price_match, PricedOrder, Pricing};
pub use crate::ports::{
    CalculatorStore, Estimates, PaidTotals, Prices, Saved, ServiceTypes, WorkerLevels,
};
use crate::price::Estimate;
use crate::PRODUCER;

/// The metric a refused price counts toward (the stack's `CalculatorPricesRefusedAlarm`).
pub const PRICES_REFUSED: &str = "PricesRefused";

/// Who asks for a quote: clients, who order (SPEC M3).
#[derive(Debug)]
pub struct Clients;

impl Rights for Clients {
    const ROLES: &'static [Role] = &[Role::Client];
}

fn poison(e: impl std::fmt::Display) -> ConsumeError {
    ConsumeError::Poison(e.to_string())
}

fn wrap(
    event: &impl DomainEvent,
    cause: &Cause,
    now: DateTime<Utc>,
) -> Result<Envelope, EventError> {
    Envelope::wrap(PRODUCER, event, cause, now)
}

/// The copy of accounts (`Account.*` events): once per event, and only forward in revision.
pub use ates_kernel::copies::sync_account;

/// `ServiceType.Set`: the copy moves to the highest revision seen.
pub async fn keep_service_type(
    store: &impl ServiceTypes,
    event: &Envelope,
) -> Result<Outcome, ConsumeError> {
    let set = decode_service_type_set(event).map_err(poison)?;
    Ok(store.keep_service_type(&ServiceType::from(&set)).await?)
}

/// `Worker.ProfileSet`: the worker's level moves to the highest revision seen.
pub async fn keep_worker_level(
    store: &impl WorkerLevels,
    event: &Envelope,
) -> Result<Outcome, ConsumeError> {
    let set = decode_worker_profile_set(event).map_err(poison)?;
    Ok(store.keep_worker_level(&WorkerLevel::from(&set)).await?)
}

/// M3, `Order.Created`: the order's estimate, the base price as ordered less the client's
/// loyalty discount as it is now, published once per order (`Calculator.EstimateGiven`).
pub async fn give_estimate(
    store: &(impl Estimates + PaidTotals),
    event: &Envelope,
    now: DateTime<Utc>,
) -> Result<Outcome, ConsumeError> {
    let created = decode_order_created(event).map_err(poison)?;
    let cause = Cause::event(event);
    execute(|| async {
        if store.order(created.order_id).await?.is_some() {
            return Ok(Attempt::Done(Outcome::Duplicate));
        }
        let paid = store.paid_total(created.client_id).await?;
        let order = PricedOrder::estimate(&created, &paid, now).map_err(poison)?;
        // One id per order: a second estimate that somehow got out would be dropped by every
        // consumer's inbox.
        let given = wrap(&order.given(), &cause, now)
            .map_err(poison)?
            .once_for(&order.order_id.to_string());
        let outcome = store.give_estimate(&order, &given).await?;
        if outcome == Outcome::Applied {
            tracing::info!(order_id = %order.order_id, estimate_cents = order.estimate_cents, discount_pct = order.discount_pct, "estimate given");
        }
        Ok(Attempt::Done(outcome))
    })
    .await
}

/// M3, `Matching.ExecutorMatched`: the exact price of the order for its executor, set once per
/// (order, executor) (`Calculator.PriceSet`); see the module's notes for what waits and what is
/// refused.
pub async fn set_price(
    store: &(impl Estimates + WorkerLevels + PaidTotals + Prices),
    event: &Envelope,
    now: DateTime<Utc>,
) -> Result<Outcome, ConsumeError> {
    let matched = decode_executor_matched(event).map_err(poison)?;
    let cause = Cause::event(event);
    execute(|| async {
        let Some(order) = store.order(matched.order_id).await? else {
            return Err(ConsumeError::Retry(format!(
                "order {} is not known yet (its Order.Created has not arrived)",
                matched.order_id
            )));
        };
        let Some(worker) = store.worker_level(matched.executor_id).await? else {
            return Err(ConsumeError::Retry(format!(
                "the level of executor {} is not known yet (no Worker.ProfileSet has arrived)",
                matched.executor_id
            )));
        };
        let paid = store.paid_total(order.client_id).await?;
        let stored = store.price(order.order_id, matched.executor_id).await?;
        let pricing = price_match(&order, &matched, worker.level, &paid, stored.as_ref(), now)
            .map_err(poison)?;
        let price = match pricing {
            Pricing::New(price) | Pricing::Again(price) => price,
            Pricing::Duplicate => return Ok(Attempt::Done(Outcome::Duplicate)),
            Pricing::Superseded => return Ok(Attempt::Done(Outcome::Superseded)),
            Pricing::Refused { stored, recomputed } => {
                ates_kernel::metrics::count(PRICES_REFUSED, 1);
                tracing::error!(order_id = %matched.order_id, executor_id = %matched.executor_id, ?stored, ?recomputed, "price refused: the first price stands");
                return Err(ConsumeError::Poison(format!(
                    "order {} for executor {} was priced at {} cents; priced again it comes to {} cents ({:?}): the first price stands",
                    matched.order_id, matched.executor_id, stored.value_cents, recomputed.value_cents, recomputed
                )));
            }
        };
        // One id per match answered: a repeat of this commit cannot publish twice.
        let key = format!(
            "{}/{}/{}",
            price.order_id, price.executor_id, price.match_version
        );
        let set = wrap(&price.set(), &cause, now)
            .map_err(poison)?
            .once_for(&key);
        Ok(match store.set_price(&price, stored.as_ref(), &set).await? {
            Saved::Done => {
                tracing::info!(order_id = %price.order_id, executor_id = %price.executor_id, value_cents = price.value_cents, match_version = price.match_version, "price set");
                Attempt::Done(Outcome::Applied)
            }
            Saved::Stale | Saved::KeyUsed => Attempt::Lost,
        })
    })
    .await
}

/// M3, M7: a paid invoice counts toward its client's loyalty discount, once per invoice.
/// Billing publishes no paid invoice yet; its handler will decode the event into a [`Payment`]
/// and call this.
pub async fn record_payment(
    store: &impl PaidTotals,
    payment: &Payment,
) -> Result<Outcome, ConsumeError> {
    payment.check().map_err(poison)?;
    execute(|| async {
        if store.payment_recorded(payment.invoice_id).await? {
            return Ok(Attempt::Done(Outcome::Duplicate));
        }
        let before = store.paid_total(payment.client_id).await?;
        let after = before.with(payment);
        Ok(
            match store.record_payment(payment, &before, &after).await? {
                Saved::Done => Attempt::Done(Outcome::Applied),
                Saved::Stale | Saved::KeyUsed => Attempt::Lost,
            },
        )
    })
    .await
}

/// A quote: the estimate the caller would be given for `service_type_id` now.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Quote {
    pub service_type_id: Uuid,
    pub base_price_cents: i64,
    pub discount_pct: u32,
    pub estimate_cents: i64,
}

/// M3, `GET /calculator/quote`: a client's estimate for an active service type, with their
/// discount as it is now.
pub async fn quote(
    store: &(impl AccountCopies + ServiceTypes + PaidTotals),
    claims: &Claims,
    service_type_id: Uuid,
) -> Result<Quote, CalculatorError> {
    let client = claims.may::<Clients>(store).await?;
    let service_type = store
        .service_type(service_type_id)
        .await?
        .filter(|t| t.active)
        .ok_or(CalculatorError::UnknownServiceType)?;
    let paid = store.paid_total(client.account_id()).await?;
    let estimate = Estimate::of(service_type.base_price_cents, paid.paid_cents)?;
    Ok(Quote {
        service_type_id,
        base_price_cents: estimate.base_price_cents,
        discount_pct: estimate.discount_pct,
        estimate_cents: estimate.estimate_cents,
    })
}
