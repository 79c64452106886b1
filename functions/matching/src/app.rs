//! Matching's use cases. Each is a try of the kernel's executor (`usecase::execute`): it reads
//! through the ports, decides with the domain (`order`, `choice`, `person`), and commits the
//! order, the executor's booking and `Matching.ExecutorMatched` in one store call, conditional
//! on what it read: the order as it was, and the chosen worker's schedule as it was. Two orders
//! that pick one worker at overlapping slots cannot both commit; the loser reads again, finds
//! the worker busy, and chooses someone else or waits.
//!
//! Event handlers are idempotent by what they keep: the highest order version seen per order,
//! the highest account and profile revision per person. A repeated or late event changes
//! nothing and publishes nothing; `Matching.ExecutorMatched` has one id per (order, version),
//! so even a repeat that got through would be dropped by its consumers.

use std::collections::BTreeSet;

use ates_kernel::contracts::accounts::decode_account;
use ates_kernel::contracts::hiring::{decode_worker_profile_set, WorkerProfileSet};
use ates_kernel::contracts::orders::{
    decode_order_cancelled, decode_order_executor_released, decode_order_rated, OrderCancelled,
    OrderExecutorReleased, OrderRated,
};
use ates_kernel::event::{Cause, DomainEvent, Envelope};
use ates_kernel::identity::{Claims, Rights, Role};
use ates_kernel::inbox::{ConsumeError, Outcome};
use ates_kernel::usecase::{execute, Attempt};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::choice::{choose, Schedule};
use crate::error::MatchingError;
use crate::order::{Order, OrderView, Status, Step};
use crate::person::{gained, Person, Seen};
pub use crate::ports::{Change, MatchingStore, Orders, People, Saved, Schedules, Waiting};
use crate::PRODUCER;

/// Who reads why an order got its executor: managers, and admins, who hold every manager's
/// right (SPEC Roles).
#[derive(Debug)]
pub struct Managers;

impl Rights for Managers {
    const ROLES: &'static [Role] = &[Role::Manager, Role::Admin];
}

/// How many waiting orders one run of the 5-minute retry tries, longest waiting first; the
/// next run takes the rest.
pub const RETRIES_PER_RUN: usize = 100;

/// How many orders waiting for one skill a worker's enrolment tries at once; the 5-minute retry
/// takes the rest.
pub const RETRIES_PER_ENROLMENT: usize = 25;

/// The outcome of an event that changed nothing.
fn unchanged(seen: Seen) -> Outcome {
    match seen {
        Seen::Duplicate => Outcome::Duplicate,
        Seen::Superseded => Outcome::Superseded,
    }
}

/// The choice for a waiting order, from every worker with its skill as they are now.
async fn schedules_for(
    store: &impl MatchingStore,
    order: &Order,
) -> Result<Vec<Schedule>, MatchingError> {
    let Some(need) = &order.need else {
        return Ok(Vec::new());
    };
    // One read per candidate: fine for the hundreds of workers a skill has; a skill with many
    // thousands would keep each worker's 7-day count beside the skill instead.
    let mut schedules = Vec::new();
    for worker_id in store.workers_with(&need.required_skill).await? {
        schedules.push(store.schedule(worker_id).await?);
    }
    Ok(schedules)
}

/// One try at committing an order's transition: an order that waits is matched first (or keeps
/// waiting). Answers the order as committed.
async fn settle(
    store: &impl MatchingStore,
    before: Option<&Order>,
    step: Step,
    cause: &Cause,
    now: DateTime<Utc>,
    draw: u64,
) -> Result<Attempt<Order, MatchingError>, MatchingError> {
    let Step { order, freed } = step;
    let (after, matched, schedules) = match &order.need {
        Some(need) if order.waits() => {
            let schedules = schedules_for(store, &order).await?;
            let choice = choose(
                order.order_id,
                &need.slot,
                &schedules,
                &order.released,
                now,
                draw,
            );
            let (after, matched) = order.decide(choice, now);
            (after, matched, schedules)
        }
        _ => (order, None, Vec::new()),
    };
    let mut events = Vec::new();
    if let Some(matched) = &matched {
        let once = format!("{}:{}", matched.order_id, matched.order_version);
        events.push(Envelope::wrap(PRODUCER, matched, cause, now)?.once_for(&once));
    }
    let booked = match (&matched, &after.booking) {
        (Some(_), Some(booking)) => {
            let version = schedules
                .iter()
                .find(|s| s.worker_id == booking.worker_id)
                .map_or(0, |s| s.version);
            Some((booking, version))
        }
        _ => None,
    };
    let change = Change {
        freed: freed.as_ref(),
        booked,
        events: &events,
    };
    let saved = store.save_order(before, &after, change).await?;
    if saved == Saved::Done {
        match &after.booking {
            Some(b) if matched.is_some() => {
                tracing::info!(order_id = %after.order_id, executor_id = %b.worker_id, version = after.version, "executor matched")
            }
            _ if after.waits() => {
                tracing::info!(order_id = %after.order_id, candidates = after.candidates.len(), "nobody free: the order waits")
            }
            _ => {}
        }
    }
    Ok(saved.attempt(after))
}

/// Commits the transition `transition` makes of the order as read (or `Superseded` when there
/// is nothing to do): a rating, a release, a cancellation.
async fn transit<F>(
    store: &impl MatchingStore,
    order_id: Uuid,
    cause: &Cause,
    now: DateTime<Utc>,
    draw: u64,
    transition: F,
) -> Result<Outcome, MatchingError>
where
    F: Fn(Option<&Order>) -> Result<Result<Step, Seen>, MatchingError>,
{
    execute(|| async {
        let before = store.order(order_id).await?;
        let step = match transition(before.as_ref())? {
            Ok(step) => step,
            Err(seen) => return Ok(Attempt::Done(unchanged(seen))),
        };
        Ok(
            match settle(store, before.as_ref(), step, cause, now, draw).await? {
                Attempt::Done(_) => Attempt::Done(Outcome::Applied),
                Attempt::Lost => Attempt::Lost,
                Attempt::KeyUsed(e) => Attempt::KeyUsed(e),
            },
        )
    })
    .await
}

/// `Order.Rated`, `Order.ExecutorReleased` and `Order.Cancelled` (SPEC M4); any other event is
/// none of matching's business. `rng` breaks ties between equally loaded workers.
pub async fn on_order_event(
    store: &impl MatchingStore,
    event: &Envelope,
    now: DateTime<Utc>,
    rng: &mut (impl rand::RngCore + Send),
) -> Result<Outcome, ConsumeError> {
    let cause = Cause::event(event);
    let draw = rng.next_u64();
    let poison = |e: ates_kernel::event::EventError| ConsumeError::Poison(e.to_string());
    let outcome = match event.name.as_str() {
        OrderRated::NAME => {
            let rated = decode_order_rated(event).map_err(poison)?;
            transit(store, rated.order_id, &cause, now, draw, |before| {
                Ok(Order::rated(before, &rated))
            })
            .await?
        }
        OrderExecutorReleased::NAME => {
            let released = decode_order_executor_released(event).map_err(poison)?;
            transit(store, released.order_id, &cause, now, draw, |before| {
                // A release answers a match of ours, made after the rating: an order we do
                // not know yet is one whose rating is still on its way (or lost). Failing
                // sends the release back to the queue until the rating is here, and to its
                // dead-letter queue if it never comes.
                let before = before.ok_or_else(|| {
                    MatchingError::NotYet(format!(
                        "order {} was released before matching saw it rated",
                        released.order_id
                    ))
                })?;
                Ok(before.released(&released))
            })
            .await?
        }
        OrderCancelled::NAME => {
            let cancelled = decode_order_cancelled(event).map_err(poison)?;
            transit(store, cancelled.order_id, &cause, now, draw, |before| {
                Ok(Order::cancelled(before, &cancelled))
            })
            .await?
        }
        _ => Outcome::NotConcerned,
    };
    Ok(outcome)
}

/// Tries a waiting order again; answers the order as committed, or `None` when it no longer
/// waits (matched or cancelled meanwhile, or unknown).
async fn try_again(
    store: &impl MatchingStore,
    order_id: Uuid,
    cause: &Cause,
    now: DateTime<Utc>,
    draw: u64,
) -> Result<Option<Order>, MatchingError> {
    execute(|| async {
        let Some(order) = store.order(order_id).await? else {
            return Ok(Attempt::Done(None));
        };
        if !order.waits() {
            return Ok(Attempt::Done(None));
        }
        let step = Step {
            order: order.clone(),
            freed: None,
        };
        Ok(
            match settle(store, Some(&order), step, cause, now, draw).await? {
                Attempt::Done(after) => Attempt::Done(Some(after)),
                Attempt::Lost => Attempt::Lost,
                Attempt::KeyUsed(e) => Attempt::KeyUsed(e),
            },
        )
    })
    .await
}

/// What one run of the retry did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Retried {
    pub tried: usize,
    pub matched: usize,
    /// Of those tried, how many still wait and have waited over an hour (the alarm's metric).
    pub waiting_over_an_hour: usize,
}

/// Every 5 minutes (SPEC M4): the orders that wait, longest waiting first, at most
/// [`RETRIES_PER_RUN`], are tried again. Safe to run twice: an order matched meanwhile is no
/// longer waiting, and its event has one id per (order, version).
pub async fn retry_waiting(
    store: &impl MatchingStore,
    cause: &Cause,
    now: DateTime<Utc>,
    rng: &mut (impl rand::RngCore + Send),
) -> Result<Retried, MatchingError> {
    let mut retried = Retried::default();
    for (_, order_id) in store.waiting(RETRIES_PER_RUN).await? {
        retried.tried += 1;
        let Some(after) = try_again(store, order_id, cause, now, rng.next_u64()).await? else {
            continue;
        };
        if after.status == Status::Matched {
            retried.matched += 1;
        } else if after.waited_too_long(now) {
            retried.waiting_over_an_hour += 1;
        }
    }
    Ok(retried)
}

/// A fact about a person.
enum Fact {
    Account(ates_kernel::contracts::accounts::AccountSnapshot),
    Profile(WorkerProfileSet),
}

/// `Account.*` (auth) and `Worker.ProfileSet` (hiring): matching's copy of people, each half
/// only forward in revision. A worker who can now be chosen for a skill they could not before
/// (enrolled, re-activated, a new skill) has the orders waiting for it tried again at once;
/// whatever that leaves, the 5-minute retry takes.
pub async fn keep_person(
    store: &impl MatchingStore,
    event: &Envelope,
    now: DateTime<Utc>,
    rng: &mut (impl rand::RngCore + Send),
) -> Result<Outcome, ConsumeError> {
    let poison = |e: ates_kernel::event::EventError| ConsumeError::Poison(e.to_string());
    let fact = match decode_account(event) {
        Some(account) => Fact::Account(account.map_err(poison)?),
        None if event.name == WorkerProfileSet::NAME => {
            Fact::Profile(decode_worker_profile_set(event).map_err(poison)?)
        }
        None => return Ok(Outcome::NotConcerned),
    };
    let account_id = match &fact {
        Fact::Account(a) => a.account_id,
        Fact::Profile(p) => p.account_id,
    };
    let (outcome, skills) = execute(|| async {
        let before = store.person(account_id).await?;
        let after = match &fact {
            Fact::Account(a) => Person::with_account(before.as_ref(), a),
            Fact::Profile(p) => Person::with_profile(before.as_ref(), p),
        };
        let after = match after {
            Ok(after) => after,
            Err(seen) => return Ok(Attempt::Done((unchanged(seen), BTreeSet::new()))),
        };
        let skills = gained(before.as_ref(), &after);
        let saved = store.save_person(before.as_ref(), &after).await?;
        Ok::<_, MatchingError>(saved.attempt((Outcome::Applied, skills)))
    })
    .await
    .map_err(ConsumeError::from)?;
    let cause = Cause::event(event);
    for skill in &skills {
        for order_id in store.waiting_for(skill, RETRIES_PER_ENROLMENT).await? {
            try_again(store, order_id, &cause, now, rng.next_u64()).await?;
        }
    }
    Ok(outcome)
}

/// M4: an order's matching, for managers: the candidates of the latest choice and why this one.
pub async fn order_view(
    store: &(impl Orders + People),
    claims: &Claims,
    order_id: Uuid,
) -> Result<OrderView, MatchingError> {
    claims.may::<Managers>(store).await?;
    let order = store
        .order(order_id)
        .await?
        .ok_or(MatchingError::UnknownOrder)?;
    Ok(order.view())
}
