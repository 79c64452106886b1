//! Supplies' use cases: one function per command, query, event and scheduled step. Each is a
//! try of the kernel's executor (`usecase::execute`): it reads through the ports, decides with
//! the domain (`kit`), and commits the state, its audit and its events in one store call. What
//! only supply staff may do takes a `Capability<SupplyStaff>`.
//!
//! Order events arrive duplicated and in any order. Each is applied by what it writes, not by
//! an inbox record: the kit is created once (its id is the order's), and the order copy moves
//! only forward in the order's version, so an `Order.ExecutorAssigned` that comes before
//! `Order.Rated` is kept (in the copy) and used when the kit is requested, never refused.
//!
//! Placing an order with the supplier is outside the table: it happens before the write that
//! records it, and again if that write loses or fails (the supplier takes the same attempt
//! twice harmlessly). An order that was placed but not recorded is placed again, with the same
//! attempt; one recorded but never answered is re-ordered by the timer at its deadline.

use ates_kernel::contracts::orders::{
    decode_order_cancelled, decode_order_executor_assigned, decode_order_executor_released,
    decode_order_rated, OrderRated,
};
use ates_kernel::dynamo::Listed;
use ates_kernel::event::{Cause, Envelope};
use ates_kernel::identity::{AccountCopies, Claims, Rights, Role};
use ates_kernel::inbox::{ConsumeError, Outcome};
use ates_kernel::usecase::Failure;
use ates_kernel::usecase::{execute, Attempt};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::SuppliesError;
use crate::kit::{kit_id, AuditEntry, Chase, Kit, OrderCopy, Status};
pub use crate::ports::{Audit, KitAsRead, KitChanges, Kits, Orders, Saved, Supplier};
use crate::PRODUCER;

/// Who assembles and hands out kits and reads the audit: managers, and admins, who hold every
/// manager's right (SPEC Roles, M5).
#[derive(Debug)]
pub struct SupplyStaff;

impl Rights for SupplyStaff {
    const ROLES: &'static [Role] = &[Role::Manager, Role::Admin];
}

/// The metric an unsupplied kit counts toward (its alarm: the stack's `SuppliesUnsuppliedAlarm`).
pub const KITS_UNSUPPLIED: &str = "KitsUnsupplied";

/// How long the supplier has to deliver an order before it is placed again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline(pub Duration);

impl Deadline {
    /// `DELIVERY_DEADLINE_MINUTES` (the stack's parameter), 30 minutes if unset.
    pub fn from_env() -> Result<Deadline, String> {
        match std::env::var("DELIVERY_DEADLINE_MINUTES") {
            Err(_) => Ok(Deadline(Duration::minutes(30))),
            Ok(text) => text
                .parse::<i64>()
                .ok()
                .filter(|m| (1..=24 * 60).contains(m))
                .map(|m| Deadline(Duration::minutes(m)))
                .ok_or_else(|| format!("DELIVERY_DEADLINE_MINUTES {text:?} is not 1 to 1440")),
        }
    }
}

/// A use case's failure as the queue reads it: what can work later is retried (redelivered),
/// what never can is parked.
fn consumed(e: SuppliesError) -> ConsumeError {
    match e {
        SuppliesError::Failed(Failure::Store(_) | Failure::ChangedMeanwhile)
        | SuppliesError::NotPlaced(_) => ConsumeError::Retry(e.to_string()),
        other => ConsumeError::Poison(other.to_string()),
    }
}

// ---------------------------------------------------------------------------- order events

/// The consumer of `Order.Rated`, `Order.ExecutorAssigned`, `Order.ExecutorReleased` and
/// `Order.Cancelled`; any other event is none of its business. A payload that does not decode
/// is poison.
pub async fn on_order_event(
    store: &(impl Kits + Orders + KitChanges),
    supplier: &impl Supplier,
    event: &Envelope,
    deadline: Deadline,
    now: DateTime<Utc>,
) -> Result<Outcome, ConsumeError> {
    let poison = |e: ates_kernel::event::EventError| ConsumeError::Poison(e.to_string());
    let outcome = match event.name.as_str() {
        "Order.Rated" => {
            let rated = decode_order_rated(event).map_err(poison)?;
            request_kit(store, supplier, &rated, deadline, now).await
        }
        "Order.ExecutorAssigned" => {
            let step = decode_order_executor_assigned(event).map_err(poison)?.0;
            follow_order(store, step.order_id, now, |copy| {
                copy.assigned(step.executor_id, step.version)
            })
            .await
        }
        "Order.ExecutorReleased" => {
            let released = decode_order_executor_released(event).map_err(poison)?;
            follow_order(store, released.order_id, now, |copy| {
                copy.released(released.version)
            })
            .await
        }
        "Order.Cancelled" => {
            let cancelled = decode_order_cancelled(event).map_err(poison)?;
            follow_order(store, cancelled.order_id, now, |copy| {
                copy.cancelled(cancelled.version)
            })
            .await
        }
        _ => Ok(Outcome::NotConcerned),
    };
    outcome.map_err(consumed)
}

/// M5, `Order.Rated`: the order's kit is requested (once, whatever the duplicates) with what
/// supplies knows of the order, and its first order placed with the supplier at once.
pub async fn request_kit(
    store: &(impl Kits + Orders + KitChanges),
    supplier: &impl Supplier,
    rated: &OrderRated,
    deadline: Deadline,
    now: DateTime<Utc>,
) -> Result<Outcome, SuppliesError> {
    let created = execute(|| async {
        if store.kit(kit_id(rated.order_id)).await?.is_some() {
            return Ok(Attempt::Done(false));
        }
        let order = store.order(rated.order_id).await?;
        let known = order
            .clone()
            .unwrap_or_else(|| OrderCopy::new(rated.order_id));
        let kit = Kit::request(rated.order_id, &rated.supplies, &known, now, deadline.0);
        let saved = store.add_kit(&kit, order.as_ref()).await?;
        Ok::<_, SuppliesError>(saved.attempt(true))
    })
    .await?;
    if created {
        tracing::info!(order_id = %rated.order_id, kit_id = %kit_id(rated.order_id), "kit requested");
    }
    // Also when the kit was there: a first order that did not leave (the supplier refused it,
    // or this handler stopped after the kit was written) leaves now, on the redelivery.
    let ordered = first_order(store, supplier, kit_id(rated.order_id), deadline, now).await?;
    Ok(if created || ordered {
        Outcome::Applied
    } else {
        Outcome::Duplicate
    })
}

/// The first order of a requested kit, placed with the supplier and then recorded. Answers
/// whether it was placed now.
async fn first_order(
    store: &(impl Kits + KitChanges),
    supplier: &impl Supplier,
    id: Uuid,
    deadline: Deadline,
    now: DateTime<Utc>,
) -> Result<bool, SuppliesError> {
    execute(|| async {
        let Some(kit) = store.kit(id).await? else {
            return Ok(Attempt::Done(false));
        };
        let Some((ordered, order)) = kit.first_order(now, deadline.0) else {
            return Ok(Attempt::Done(false));
        };
        supplier.place(&order).await?;
        let saved = store.change_kit(&kit, &ordered, &[], &[]).await?;
        if saved == Saved::Done {
            tracing::info!(kit_id = %id, attempt = order.attempt, "kit ordered from the supplier");
        }
        Ok(saved.attempt(true))
    })
    .await
}

/// An order event that changes what supplies knows of the order (`change` of the copy, or
/// `None` for a fact older than the copy's): the copy moves forward, and the order's kit, if
/// there is one yet, follows it in the same write.
async fn follow_order<F>(
    store: &(impl Kits + Orders + KitChanges),
    order_id: Uuid,
    now: DateTime<Utc>,
    change: F,
) -> Result<Outcome, SuppliesError>
where
    F: Fn(&OrderCopy) -> Option<OrderCopy>,
{
    execute(|| async {
        let before = store.order(order_id).await?;
        let known = before.clone().unwrap_or_else(|| OrderCopy::new(order_id));
        let Some(after) = change(&known) else {
            return Ok(Attempt::Done(Outcome::Superseded));
        };
        let kit = store.kit(kit_id(order_id)).await?;
        let (followed, audit) = match &kit {
            None => (None, Vec::new()),
            Some(kit) => {
                let (kit_now, audit) = follow(kit, &after, now);
                (Some(kit_now), audit)
            }
        };
        let as_read = match (&kit, &followed) {
            (Some(before), Some(after)) => KitAsRead::Changed { before, after },
            _ => KitAsRead::Absent,
        };
        let saved = store
            .change_order(before.as_ref(), &after, as_read, &audit)
            .await?;
        Ok(saved.attempt(Outcome::Applied))
    })
    .await
}

/// The kit as the order now is: its executor's, and cancelled with the order.
fn follow(kit: &Kit, order: &OrderCopy, now: DateTime<Utc>) -> (Kit, Vec<AuditEntry>) {
    let (mut kit, mut audit) = (kit.clone(), Vec::new());
    if let Some((followed, returned)) = kit.follow_executor(order.executor_id, now) {
        kit = followed;
        audit.extend(returned);
    }
    if order.cancelled {
        if let Some(cancelled) = kit.cancel(now) {
            kit = cancelled;
        }
    }
    (kit, audit)
}

// ------------------------------------------------------------------------------ the supplier

/// The supplier's answer to one order, as its callback carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delivery {
    pub kit_id: Uuid,
    pub attempt: u32,
}

/// What became of a delivery: whether it counted (the latest order of an ordered kit), and
/// the kit's status after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveryTaken {
    pub kit_id: Uuid,
    pub attempt: u32,
    pub accepted: bool,
    pub status: Status,
}

/// M5, the supplier's callback (its signature checked at the edge): the latest order of an
/// ordered kit is delivered, and the kit is `received` (`Supplies.KitReceived`, in the same write). An older attempt's, a repeated, or a
/// cancelled kit's delivery changes nothing (and is answered as such, so the supplier stops).
pub async fn receive_delivery(
    store: &(impl Kits + KitChanges),
    delivery: &Delivery,
    cause: &Cause,
    now: DateTime<Utc>,
) -> Result<DeliveryTaken, SuppliesError> {
    execute(|| async {
        let kit = store
            .kit(delivery.kit_id)
            .await?
            .ok_or(SuppliesError::UnknownKit)?;
        let taken = |accepted: bool, status: Status| DeliveryTaken {
            kit_id: kit.kit_id,
            attempt: delivery.attempt,
            accepted,
            status,
        };
        let Some(received) = kit.receive(delivery.attempt, now) else {
            return Ok(Attempt::Done(taken(false, kit.status)));
        };
        // Supply staff are told it waits to be handed out (notifications mails them, M9).
        let event = Envelope::wrap(PRODUCER, &received.received_event(), cause, now)?;
        let saved = store
            .change_kit(&kit, &received, &[], std::slice::from_ref(&event))
            .await?;
        if saved == Saved::Done {
            tracing::info!(kit_id = %kit.kit_id, attempt = delivery.attempt, "kit received from the supplier");
        }
        Ok(saved.attempt(taken(true, received.status)))
    })
    .await
}

/// How many kits one run of the timer looks at; the next run takes the rest.
pub const KITS_PER_RUN: usize = 100;

/// What a run of the timer did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Chased {
    /// Orders placed again (or, for a kit whose first order never left, placed).
    pub ordered: usize,
    /// Kits given up: every order failed.
    pub unsupplied: usize,
    /// Orders the supplier did not take now: tried again at the next run.
    pub not_placed: usize,
}

/// M5, the re-order timer (a scheduled step, safe to run twice): every kit whose order was not
/// delivered by its deadline is ordered again, until its fourth order fails; then it is
/// `unsupplied` and counted ([`KITS_UNSUPPLIED`], which alarms).
pub async fn chase_kits(
    store: &(impl Kits + KitChanges),
    supplier: &impl Supplier,
    deadline: Deadline,
    now: DateTime<Utc>,
) -> Result<Chased, SuppliesError> {
    let mut chased = Chased::default();
    for id in store.due(now, KITS_PER_RUN).await? {
        let done = execute(|| async {
            let Some(kit) = store.kit(id).await? else {
                return Ok(Attempt::Done(None));
            };
            let (after, status) = match kit.chase(now, deadline.0) {
                Chase::Wait => return Ok(Attempt::Done(None)),
                Chase::Order(after, order) => {
                    supplier.place(&order).await?;
                    (after, Status::Ordered)
                }
                Chase::GiveUp(after) => (after, Status::Unsupplied),
            };
            let saved = store.change_kit(&kit, &after, &[], &[]).await?;
            Ok(saved.attempt(Some((status, after.orders_placed))))
        })
        .await;
        match done {
            Ok(Some((Status::Unsupplied, orders))) => {
                tracing::error!(kit_id = %id, orders, "kit unsupplied: every order failed");
                ates_kernel::metrics::count(KITS_UNSUPPLIED, 1);
                chased.unsupplied += 1;
            }
            Ok(Some((_, attempt))) => {
                tracing::warn!(kit_id = %id, attempt, "kit ordered again: the last order was not delivered in time");
                chased.ordered += 1;
            }
            Ok(None) => {}
            Err(SuppliesError::NotPlaced(e)) => {
                tracing::warn!(kit_id = %id, error = %e, "the supplier did not take the order; the next run tries again");
                chased.not_placed += 1;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(chased)
}

// --------------------------------------------------------------------------------- staff

/// M5: one status's kits, newest first (what to assemble, what to hand out).
pub async fn kits(
    store: &(impl Kits + AccountCopies),
    claims: &Claims,
    status: Status,
    limit: usize,
    cursor: Option<&str>,
) -> Result<Listed<Kit>, SuppliesError> {
    claims.may::<SupplyStaff>(store).await?;
    store.kits_in(status, limit, cursor).await
}

/// M5: a manager hands a received kit to the order's executor (a named executor must be that
/// one): `Supplies.KitIssued`, and the audit's entry, in the same write.
pub async fn issue_kit(
    store: &(impl Kits + KitChanges + AccountCopies),
    claims: &Claims,
    id: Uuid,
    to: Option<Uuid>,
    cause: &Cause,
    now: DateTime<Utc>,
) -> Result<Kit, SuppliesError> {
    let staff = claims.may::<SupplyStaff>(store).await?;
    execute(|| async {
        let kit = store.kit(id).await?.ok_or(SuppliesError::UnknownKit)?;
        let (issued, event, entry) = kit.issue(to, staff.account_id(), now)?;
        let event = Envelope::wrap(PRODUCER, &event, cause, now)?;
        let saved = store
            .change_kit(&kit, &issued, &[entry], std::slice::from_ref(&event))
            .await?;
        Ok(saved.attempt(issued))
    })
    .await
    .inspect(|kit| {
        tracing::info!(kit_id = %kit.kit_id, executor_id = ?kit.issued_to, "kit issued");
    })
}

/// M5: the audit of what was handed out (and returned), from `from` until `until`, newest
/// first (managers, admins).
pub async fn audit(
    store: &(impl Audit + AccountCopies),
    claims: &Claims,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: usize,
    cursor: Option<&str>,
) -> Result<Listed<AuditEntry>, SuppliesError> {
    claims.may::<SupplyStaff>(store).await?;
    store.audit(from, until, limit, cursor).await
}

/// The copy of accounts (`Account.*` events): once per event, and only forward in revision.
pub use ates_kernel::copies::sync_account;
