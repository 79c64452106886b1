//! The order as a Petri net (SPEC M2, seed 000's picture). The order is its set of marked
//! places; a transition fires when its input places are marked and what it needs is known, and
//! moves the tokens from its inputs to its outputs.
//!
//! What the other contexts tell the order (the estimate, the executor matched, a price, a kit
//! handed out, an executor gone) are *facts*. The order keeps every fact it is told, once, and
//! after each one fires every transition that has become enabled, in one write. So the marking
//! depends on which facts are known, never on the order they arrived in or how often: a price
//! that arrives before its match waits in the facts and `value` fires with `match`; the join
//! (`valued` ∧ `supplied` → `pending`) fires in the same write as whichever branch finished
//! second. Commands (cancel, the executor's steps, the client's decision, billing's settlement)
//! fire one transition each, or are refused naming the marking.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use ates_kernel::contracts::orders::{
    OrderCancelled, OrderCreated, OrderExecutorAssigned, OrderExecutorReleased,
    OrderFailedInvoiced, OrderInWork, OrderInvoiced, OrderPaid, OrderPending, OrderPreReported,
    OrderRated, OrderReported, OrderStep, OrderSuccessInvoiced, OrderSupplied, OrderValued, Place,
};

use crate::error::OrderError;
use crate::service_type::OrderedService;

/// A report not decided by its client is approved by itself this long after it (SPEC M2).
pub const APPROVED_BY_ITSELF_AFTER: Duration = Duration::hours(72);
/// M2 `begin`: the work may begin this long before the slot starts (or any time after).
pub const BEGINS_BEFORE_SLOT: Duration = Duration::minutes(30);
/// Why an executor is released (`Order.ExecutorReleased`'s reason).
pub const EXECUTOR_GONE: &str = "The executor's account was deactivated.";
pub const MAX_DESCRIPTION_CHARS: usize = 2000;
pub const MAX_ADDRESS_CHARS: usize = 300;
pub const MAX_REASON_CHARS: usize = 1000;

/// Places from which the work has begun: the order can no longer be cancelled, and its executor
/// is no longer released.
const BEGUN: [Place; 7] = [
    Place::InWork,
    Place::Report,
    Place::SuccessInvoiced,
    Place::FailedInvoiced,
    Place::SuccessPaid,
    Place::FailedPaid,
    Place::Cancelled,
];

/// The places an order is listed by (its furthest marked one), furthest first; while the two
/// branches after `rate` run, an order is listed as `rated`.
pub const STAGES: [Place; 11] = [
    Place::Cancelled,
    Place::FailedPaid,
    Place::SuccessPaid,
    Place::FailedInvoiced,
    Place::SuccessInvoiced,
    Place::Report,
    Place::InWork,
    Place::PreReport,
    Place::Pending,
    Place::Rated,
    Place::New,
];

/// The net's transitions, as the history names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transition {
    Create,
    Rate,
    Match,
    Value,
    Supply,
    Join,
    Release,
    PreReport,
    Begin,
    Finish,
    Approve,
    Decline,
    Settle,
    Cancel,
}

/// What another context told the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "fact", rename_all = "snake_case")]
pub enum Fact {
    /// `Calculator.EstimateGiven`.
    Estimated { estimate_cents: i64 },
    /// `Matching.ExecutorMatched`; `order_version` is the order version the match answers.
    Matched {
        executor_id: Uuid,
        order_version: u64,
    },
    /// `Calculator.PriceSet`: the price if `executor_id` does the order.
    Priced {
        executor_id: Uuid,
        list_price_cents: i64,
        value_cents: i64,
    },
    /// `Supplies.KitIssued`: the kit was handed to `executor_id`.
    KitIssued { kit_id: Uuid, executor_id: Uuid },
    /// `Account.Deactivated` (or a copy that says so): `executor_id` can do no order.
    ExecutorGone { executor_id: Uuid },
    /// `Report.PreReportSubmitted`: `executor_id` pre-reported at `at` (reports checked them).
    PreReported {
        executor_id: Uuid,
        at: DateTime<Utc>,
    },
    /// `Report.ReportSubmitted`: `executor_id` reported at `at`.
    Reported {
        executor_id: Uuid,
        at: DateTime<Utc>,
    },
    /// `Billing.OrderSettled`: the order's charge was collected.
    Settled { invoice_id: Uuid },
}

impl Fact {
    /// Two facts that say the same thing about the same subject: the first one told stands.
    fn same_subject(&self, other: &Fact) -> bool {
        use Fact::*;
        match (self, other) {
            (Estimated { .. }, Estimated { .. }) => true,
            (Matched { executor_id: a, .. }, Matched { executor_id: b, .. })
            | (Priced { executor_id: a, .. }, Priced { executor_id: b, .. })
            | (KitIssued { executor_id: a, .. }, KitIssued { executor_id: b, .. })
            | (ExecutorGone { executor_id: a }, ExecutorGone { executor_id: b })
            | (PreReported { executor_id: a, .. }, PreReported { executor_id: b, .. })
            | (Reported { executor_id: a, .. }, Reported { executor_id: b, .. }) => a == b,
            (Settled { .. }, Settled { .. }) => true,
            _ => false,
        }
    }
}

/// One fired transition: its name, the order's version and marking after it, and the event it
/// publishes.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub transition: Transition,
    pub version: u64,
    pub places: Vec<Place>,
    pub event: Published,
}

/// The event a transition publishes (the published language's types).
#[derive(Debug, Clone, PartialEq)]
pub enum Published {
    Created(OrderCreated),
    Rated(OrderRated),
    ExecutorAssigned(OrderExecutorAssigned),
    Valued(OrderValued),
    Supplied(OrderSupplied),
    Pending(OrderPending),
    ExecutorReleased(OrderExecutorReleased),
    PreReported(OrderPreReported),
    InWork(OrderInWork),
    Reported(OrderReported),
    SuccessInvoiced(OrderSuccessInvoiced),
    FailedInvoiced(OrderFailedInvoiced),
    Paid(OrderPaid),
    Cancelled(OrderCancelled),
}

/// An order as a client asked for it, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidOrder {
    pub service: OrderedService,
    pub description: String,
    pub address: String,
    pub slot_start: DateTime<Utc>,
}

/// An order as it arrived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewOrder {
    pub service_type_id: Uuid,
    pub description: String,
    pub address: String,
    pub slot_start: DateTime<Utc>,
}

/// An order as its readers see it (SPEC M2): no facts, no revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderView {
    pub order_id: Uuid,
    pub client_id: Uuid,
    pub service_type_id: Uuid,
    pub service_type_name: String,
    pub description: String,
    pub address: String,
    pub slot_start: DateTime<Utc>,
    pub slot_end: DateTime<Utc>,
    pub places: Vec<Place>,
    pub waiting_for: Vec<Place>,
    pub executor_id: Option<Uuid>,
    pub estimate_cents: Option<i64>,
    pub list_price_cents: Option<i64>,
    pub value_cents: Option<i64>,
    pub version: u64,
    pub created_at: DateTime<Utc>,
}

/// One fired transition as the history keeps it: when, by whom (an account id, or the context
/// whose event fired it), because of which event (none for a command), in which correlation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub transition: Transition,
    pub version: u64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub cause_event_id: Option<String>,
    pub correlation_id: String,
    pub places: Vec<Place>,
}

/// Which orders a staff listing shows: those at one stage (see [`STAGES`]) if given, created
/// within `[from, until)` if given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listing {
    pub stage: Option<Place>,
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

impl Listing {
    /// A listing by a place's name: only a stage names a listing.
    pub fn new(
        place: Option<&str>,
        from: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Listing, OrderError> {
        let stage = match place {
            None => None,
            Some(name) => Some(
                Place::parse(name)
                    .filter(|p| STAGES.contains(p))
                    .ok_or_else(|| OrderError::NotAStage(name.to_owned()))?,
            ),
        };
        if let (Some(from), Some(until)) = (from, until) {
            if from >= until {
                return Err(OrderError::Invalid("from must be before to".into()));
            }
        }
        Ok(Listing { stage, from, until })
    }

    pub fn admits(&self, order: &Order) -> bool {
        self.stage.is_none_or(|s| order.stage() == s)
            && self.from.is_none_or(|f| order.created_at >= f)
            && self.until.is_none_or(|u| order.created_at < u)
    }
}

/// The latest a slot may start, from now (SPEC M2).
pub const SLOT_HORIZON: Duration = Duration::days(90);

/// The earliest a slot may start, from now: 2 hours (SPEC M2). Shorter only on a local stack
/// (`OrderNoticeMinutes`, read from `ORDER_NOTICE_MINUTES`), so that a journey can file a real
/// pre-report (from 30 minutes before the slot) without waiting hours for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotNotice(Duration);

impl Default for SlotNotice {
    fn default() -> Self {
        SlotNotice(Duration::hours(2))
    }
}

impl SlotNotice {
    /// From `ORDER_NOTICE_MINUTES` (1 to 1440), SPEC's 2 hours if unset.
    pub fn from_env() -> Result<SlotNotice, String> {
        match std::env::var("ORDER_NOTICE_MINUTES") {
            Ok(text) => SlotNotice::minutes(&text),
            Err(_) => Ok(SlotNotice::default()),
        }
    }

    /// A notice of `text` minutes, 1 to 1440.
    pub fn minutes(text: &str) -> Result<SlotNotice, String> {
        match text.parse::<i64>() {
            Ok(minutes @ 1..=1440) => Ok(SlotNotice(Duration::minutes(minutes))),
            _ => Err(format!(
                "a slot notice of {text:?} is not 1 to 1440 minutes"
            )),
        }
    }

    /// What a client may book, as the order form shows it before it is asked: the notice and
    /// the horizon, in whole minutes and days.
    pub fn window(self) -> serde_json::Value {
        serde_json::json!({
            "notice_minutes": self.0.num_minutes(),
            "horizon_days": SLOT_HORIZON.num_days(),
        })
    }

    fn described(self) -> String {
        let (n, unit) = match self.0.num_minutes() {
            m if m % 60 == 0 => (m / 60, "hour"),
            m => (m, "minute"),
        };
        format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
    }
}

impl NewOrder {
    /// The order's own fields; the service type is checked by the use case, which reads it.
    pub fn validate(
        self,
        service: OrderedService,
        notice: SlotNotice,
        now: DateTime<Utc>,
    ) -> Result<ValidOrder, OrderError> {
        let description = self.description.trim().to_owned();
        let address = self.address.trim().to_owned();
        if description.is_empty() || description.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(OrderError::Invalid(format!(
                "description must have 1 to {MAX_DESCRIPTION_CHARS} characters"
            )));
        }
        if address.is_empty() || address.chars().count() > MAX_ADDRESS_CHARS {
            return Err(OrderError::Invalid(format!(
                "address must have 1 to {MAX_ADDRESS_CHARS} characters"
            )));
        }
        if self.slot_start < now + notice.0 {
            return Err(OrderError::Invalid(format!(
                "slot_start must be at least {} from now",
                notice.described()
            )));
        }
        if self.slot_start > now + SLOT_HORIZON {
            return Err(OrderError::Invalid(
                "slot_start must be at most 90 days from now".into(),
            ));
        }
        Ok(ValidOrder {
            service,
            description,
            address,
            slot_start: self.slot_start,
        })
    }
}

/// An order, its marking and everything the net has been told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub order_id: Uuid,
    pub client_id: Uuid,
    pub service: OrderedService,
    pub description: String,
    pub address: String,
    pub slot_start: DateTime<Utc>,
    pub slot_end: DateTime<Utc>,
    pub places: BTreeSet<Place>,
    /// One more with every transition: what every `Order.*` event carries.
    pub version: u64,
    /// One more with every write of the order (a transition or a fact kept): the condition of
    /// the next write.
    pub revision: u64,
    pub executor_id: Option<Uuid>,
    pub estimate_cents: Option<i64>,
    pub list_price_cents: Option<i64>,
    pub value_cents: Option<i64>,
    pub kit_id: Option<Uuid>,
    pub reported_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub facts: Vec<Fact>,
    /// Executors released from this order: a match naming one of them is stale.
    pub released: Vec<Uuid>,
}

impl Order {
    /// `POST /orders`: the order in `new`.
    pub fn create(
        id: Uuid,
        client_id: Uuid,
        valid: ValidOrder,
        now: DateTime<Utc>,
    ) -> (Order, Step) {
        let slot_end = valid.slot_start + Duration::minutes(valid.service.duration_minutes.into());
        let order = Order {
            order_id: id,
            client_id,
            service: valid.service,
            description: valid.description,
            address: valid.address,
            slot_start: valid.slot_start,
            slot_end,
            places: BTreeSet::from([Place::New]),
            version: 1,
            revision: 1,
            executor_id: None,
            estimate_cents: None,
            list_price_cents: None,
            value_cents: None,
            kit_id: None,
            reported_at: None,
            created_at: now,
            facts: Vec::new(),
            released: Vec::new(),
        };
        let event = Published::Created(OrderCreated {
            order_id: id,
            version: 1,
            places: order.marking(),
            client_id,
            service_type_id: order.service.service_type_id,
            service_type_revision: order.service.revision,
            base_price_cents: order.service.base_price_cents,
            required_skill: order.service.required_skill.clone(),
            slot_start: order.slot_start,
            slot_end,
            supplies: order.service.supplies.clone(),
            at: now,
        });
        let step = Step {
            transition: Transition::Create,
            version: 1,
            places: order.marking(),
            event,
        };
        (order, step)
    }

    pub fn view(&self) -> OrderView {
        OrderView {
            order_id: self.order_id,
            client_id: self.client_id,
            service_type_id: self.service.service_type_id,
            service_type_name: self.service.name.clone(),
            description: self.description.clone(),
            address: self.address.clone(),
            slot_start: self.slot_start,
            slot_end: self.slot_end,
            places: self.marking(),
            waiting_for: self.waiting_for(),
            executor_id: self.executor_id,
            estimate_cents: self.estimate_cents,
            list_price_cents: self.list_price_cents,
            value_cents: self.value_cents,
            version: self.version,
            created_at: self.created_at,
        }
    }

    /// The marked places, in the net's order.
    pub fn marking(&self) -> Vec<Place> {
        self.places.iter().copied().collect()
    }

    pub fn is_marked(&self, place: Place) -> bool {
        self.places.contains(&place)
    }

    /// The places `pending` still needs (none once the order is pending, beyond, or cancelled).
    pub fn waiting_for(&self) -> Vec<Place> {
        let beyond = self
            .places
            .iter()
            .any(|p| matches!(p, Place::Pending | Place::PreReport) || BEGUN.contains(p));
        if beyond {
            return Vec::new();
        }
        [Place::Valued, Place::Supplied]
            .into_iter()
            .filter(|p| !self.is_marked(*p))
            .collect()
    }

    /// Where the order stands, in one word, for listings by place: its furthest marked place;
    /// while the two branches run, `rated`.
    pub fn stage(&self) -> Place {
        STAGES
            .into_iter()
            .find(|p| self.is_marked(*p))
            .unwrap_or(Place::New)
    }

    /// The order told `fact`: the order with the fact kept and every transition it enabled
    /// fired; `None` when the fact was known already (a duplicate, or a second word on the
    /// same subject: the first stands).
    pub fn learn(&self, fact: Fact, now: DateTime<Utc>) -> Option<(Order, Vec<Step>)> {
        if self.facts.iter().any(|known| known.same_subject(&fact)) {
            return None;
        }
        let mut next = self.clone();
        next.facts.push(fact);
        next.revision += 1;
        let steps = next.fire_enabled(now);
        Some((next, steps))
    }

    /// Fires enabled transitions until none is: each at most once per write, in the net's
    /// order (a release first, so nothing fires for an executor who is gone).
    fn fire_enabled(&mut self, now: DateTime<Utc>) -> Vec<Step> {
        let mut steps = Vec::new();
        loop {
            let fired = self
                .release(now)
                .or_else(|| self.rate(now))
                .or_else(|| self.assign(now))
                .or_else(|| self.value(now))
                .or_else(|| self.supply(now))
                .or_else(|| self.join(now))
                .or_else(|| self.pre_report(now))
                .or_else(|| self.begin(now))
                .or_else(|| self.finish(now))
                .or_else(|| self.settle(now));
            match fired {
                Some(step) => steps.push(step),
                None => return steps,
            }
        }
    }

    /// Moves the tokens and makes the step (the version one more).
    fn fire(
        &mut self,
        transition: Transition,
        from: &[Place],
        to: &[Place],
        event: impl FnOnce(&Order) -> Published,
    ) -> Step {
        for p in from {
            self.places.remove(p);
        }
        self.places.extend(to.iter().copied());
        self.version += 1;
        Step {
            transition,
            version: self.version,
            places: self.marking(),
            event: event(self),
        }
    }

    fn step(&self, executor_id: Uuid, now: DateTime<Utc>) -> OrderStep {
        OrderStep {
            order_id: self.order_id,
            version: self.version,
            places: self.marking(),
            executor_id,
            at: now,
        }
    }

    /// Whether the work has begun (or the order is over): nothing is cancelled or released then.
    pub fn has_begun(&self) -> bool {
        self.places.iter().any(|p| BEGUN.contains(p))
    }

    fn is_gone(&self, executor_id: Uuid) -> bool {
        self.facts
            .iter()
            .any(|f| matches!(f, Fact::ExecutorGone { executor_id: e } if *e == executor_id))
    }

    /// `rate`: `new` → `rated` + `to_match` + `to_supply` (the AND-split), once estimated.
    fn rate(&mut self, now: DateTime<Utc>) -> Option<Step> {
        let estimate = self.facts.iter().find_map(|f| match f {
            Fact::Estimated { estimate_cents } => Some(*estimate_cents),
            _ => None,
        })?;
        if !self.is_marked(Place::New) {
            return None;
        }
        self.estimate_cents = Some(estimate);
        let to = [Place::Rated, Place::ToMatch, Place::ToSupply];
        Some(self.fire(Transition::Rate, &[Place::New], &to, |o| {
            Published::Rated(OrderRated {
                order_id: o.order_id,
                version: o.version,
                places: o.marking(),
                client_id: o.client_id,
                estimate_cents: estimate,
                required_skill: o.service.required_skill.clone(),
                slot_start: o.slot_start,
                slot_end: o.slot_end,
                supplies: o.service.supplies.clone(),
                at: now,
            })
        }))
    }

    /// `match`: `to_match` → `executor`, to the newest match of an executor not released.
    fn assign(&mut self, now: DateTime<Utc>) -> Option<Step> {
        if !self.is_marked(Place::ToMatch) {
            return None;
        }
        let executor_id = self
            .facts
            .iter()
            .filter_map(|f| match f {
                Fact::Matched {
                    executor_id,
                    order_version,
                } if !self.released.contains(executor_id) => Some((*order_version, *executor_id)),
                _ => None,
            })
            .max()?
            .1;
        self.executor_id = Some(executor_id);
        Some(self.fire(
            Transition::Match,
            &[Place::ToMatch],
            &[Place::Executor],
            |o| Published::ExecutorAssigned(OrderExecutorAssigned(o.step(executor_id, now))),
        ))
    }

    /// `value`: `executor` → `valued`, once the executor's price is known.
    fn value(&mut self, now: DateTime<Utc>) -> Option<Step> {
        let executor_id = self
            .executor_id
            .filter(|_| self.is_marked(Place::Executor))?;
        let (list, value) = self.facts.iter().find_map(|f| match f {
            Fact::Priced {
                executor_id: e,
                list_price_cents,
                value_cents,
            } if *e == executor_id => Some((*list_price_cents, *value_cents)),
            _ => None,
        })?;
        self.list_price_cents = Some(list);
        self.value_cents = Some(value);
        Some(self.fire(
            Transition::Value,
            &[Place::Executor],
            &[Place::Valued],
            |o| {
                Published::Valued(OrderValued {
                    order_id: o.order_id,
                    version: o.version,
                    places: o.marking(),
                    executor_id,
                    list_price_cents: list,
                    value_cents: value,
                    at: now,
                })
            },
        ))
    }

    /// `supply`: `to_supply` → `supplied`, once the kit is in the current executor's hands.
    fn supply(&mut self, now: DateTime<Utc>) -> Option<Step> {
        let executor_id = self
            .executor_id
            .filter(|_| self.is_marked(Place::ToSupply))?;
        let kit_id = self.facts.iter().find_map(|f| match f {
            Fact::KitIssued {
                kit_id,
                executor_id: e,
            } if *e == executor_id => Some(*kit_id),
            _ => None,
        })?;
        self.kit_id = Some(kit_id);
        Some(self.fire(
            Transition::Supply,
            &[Place::ToSupply],
            &[Place::Supplied],
            |o| {
                Published::Supplied(OrderSupplied {
                    order_id: o.order_id,
                    version: o.version,
                    places: o.marking(),
                    executor_id,
                    kit_id,
                    at: now,
                })
            },
        ))
    }

    /// The join: `valued` ∧ `supplied` → `pending`.
    fn join(&mut self, now: DateTime<Utc>) -> Option<Step> {
        let executor_id = self.executor_id?;
        if !(self.is_marked(Place::Valued) && self.is_marked(Place::Supplied)) {
            return None;
        }
        let from = [Place::Valued, Place::Supplied];
        Some(self.fire(Transition::Join, &from, &[Place::Pending], |o| {
            Published::Pending(OrderPending(o.step(executor_id, now)))
        }))
    }

    /// The executor is gone before the work began: `executor`, `valued`, `supplied` (and what
    /// followed them) are unmarked, `to_match` and `to_supply` marked again.
    fn release(&mut self, now: DateTime<Utc>) -> Option<Step> {
        let executor_id = self.executor_id.filter(|e| self.is_gone(*e))?;
        if self.has_begun() {
            return None;
        }
        self.executor_id = None;
        self.list_price_cents = None;
        self.value_cents = None;
        self.kit_id = None;
        self.released.push(executor_id);
        let from = [
            Place::Executor,
            Place::Valued,
            Place::Supplied,
            Place::Pending,
            Place::PreReport,
        ];
        let to = [Place::ToMatch, Place::ToSupply];
        Some(self.fire(Transition::Release, &from, &to, |o| {
            Published::ExecutorReleased(OrderExecutorReleased {
                order_id: o.order_id,
                version: o.version,
                places: o.marking(),
                executor_id,
                reason: EXECUTOR_GONE.into(),
                at: now,
            })
        }))
    }

    /// `begin`, first half: the current executor pre-reported (`pending` → `pre_report`), holding
    /// the kit (it was issued to them: `supply` fired for them) and no earlier than 30 minutes
    /// before the slot. Reports refused the caller otherwise; this is the net's own word.
    fn pre_report(&mut self, now: DateTime<Utc>) -> Option<Step> {
        let executor_id = self
            .executor_id
            .filter(|_| self.is_marked(Place::Pending))?;
        let at = self.facts.iter().find_map(|f| match f {
            Fact::PreReported { executor_id: e, at } if *e == executor_id => Some(*at),
            _ => None,
        })?;
        if self.kit_id.is_none() || at < self.slot_start - BEGINS_BEFORE_SLOT {
            return None;
        }
        Some(self.fire(
            Transition::PreReport,
            &[Place::Pending],
            &[Place::PreReport],
            |o| Published::PreReported(OrderPreReported(o.step(executor_id, now))),
        ))
    }

    /// `begin`, second half: the pre-report passed its checks (`pre_report` → `in_work`).
    fn begin(&mut self, now: DateTime<Utc>) -> Option<Step> {
        let executor_id = self
            .executor_id
            .filter(|_| self.is_marked(Place::PreReport))?;
        Some(self.fire(
            Transition::Begin,
            &[Place::PreReport],
            &[Place::InWork],
            |o| Published::InWork(OrderInWork(o.step(executor_id, now))),
        ))
    }

    /// `finish`: the executor reported (`in_work` → `report`); the 72 hours start at the report.
    fn finish(&mut self, now: DateTime<Utc>) -> Option<Step> {
        let executor_id = self.executor_id.filter(|_| self.is_marked(Place::InWork))?;
        let at = self.facts.iter().find_map(|f| match f {
            Fact::Reported { executor_id: e, at } if *e == executor_id => Some(*at),
            _ => None,
        })?;
        self.reported_at = Some(at);
        Some(self.fire(
            Transition::Finish,
            &[Place::InWork],
            &[Place::Report],
            |o| Published::Reported(OrderReported(o.step(executor_id, now))),
        ))
    }

    /// `settle`: billing collected the order's charge (`*_invoiced` → `*_paid`).
    fn settle(&mut self, now: DateTime<Utc>) -> Option<Step> {
        if !self.facts.iter().any(|f| matches!(f, Fact::Settled { .. })) {
            return None;
        }
        let (from, to) = if self.is_marked(Place::SuccessInvoiced) {
            (Place::SuccessInvoiced, Place::SuccessPaid)
        } else if self.is_marked(Place::FailedInvoiced) {
            (Place::FailedInvoiced, Place::FailedPaid)
        } else {
            return None;
        };
        Some(self.fire(Transition::Settle, &[from], &[to], |o| {
            Published::Paid(OrderPaid {
                order_id: o.order_id,
                version: o.version,
                places: o.marking(),
                at: now,
            })
        }))
    }

    /// A command's one transition: `from` must be marked, or it is refused naming the marking.
    fn command(
        &self,
        transition: Transition,
        from: Place,
        to: Place,
        event: impl FnOnce(&Order) -> Published,
    ) -> Result<(Order, Step), OrderError> {
        if !self.is_marked(from) {
            return Err(self.refused(transition));
        }
        let mut next = self.clone();
        next.revision += 1;
        let step = next.fire(transition, &[from], &[to], event);
        Ok((next, step))
    }

    /// A transition the marking does not allow: a 409 naming the marked places.
    pub fn refused(&self, transition: Transition) -> OrderError {
        OrderError::NotNow {
            transition,
            places: self.marking(),
        }
    }

    fn invoiced(
        &self,
        decided_by: Option<Uuid>,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> OrderInvoiced {
        OrderInvoiced {
            order_id: self.order_id,
            version: self.version,
            places: self.marking(),
            client_id: self.client_id,
            executor_id: self.executor_id.unwrap_or_default(),
            list_price_cents: self.list_price_cents.unwrap_or_default(),
            value_cents: self.value_cents.unwrap_or_default(),
            decided_by,
            reason,
            at: now,
        }
    }

    /// `approve` by the client (`report` → `success_invoiced`).
    pub fn approve(
        &self,
        client_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(Order, Step), OrderError> {
        self.command(
            Transition::Approve,
            Place::Report,
            Place::SuccessInvoiced,
            |o| {
                Published::SuccessInvoiced(OrderSuccessInvoiced(o.invoiced(
                    Some(client_id),
                    None,
                    now,
                )))
            },
        )
    }

    /// `approve` by itself, 72 hours after the report; refused before.
    pub fn approve_by_itself(&self, now: DateTime<Utc>) -> Result<(Order, Step), OrderError> {
        let due = self.reported_at.map(|at| at + APPROVED_BY_ITSELF_AFTER);
        if due.is_none_or(|due| now < due) {
            return Err(self.refused(Transition::Approve));
        }
        self.command(
            Transition::Approve,
            Place::Report,
            Place::SuccessInvoiced,
            |o| Published::SuccessInvoiced(OrderSuccessInvoiced(o.invoiced(None, None, now))),
        )
    }

    /// When the report is approved by itself, while the order is in `report`.
    pub fn approval_due(&self) -> Option<DateTime<Utc>> {
        let at = self.reported_at.filter(|_| self.is_marked(Place::Report))?;
        Some(at + APPROVED_BY_ITSELF_AFTER)
    }

    /// `decline` by the client with a reason (`report` → `failed_invoiced`).
    pub fn decline(
        &self,
        client_id: Uuid,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(Order, Step), OrderError> {
        let reason = valid_reason(reason)?;
        self.command(
            Transition::Decline,
            Place::Report,
            Place::FailedInvoiced,
            |o| {
                Published::FailedInvoiced(OrderFailedInvoiced(o.invoiced(
                    Some(client_id),
                    Some(reason),
                    now,
                )))
            },
        )
    }

    /// `cancel` by the owning client, from any place before `in_work`: every token goes.
    pub fn cancel(&self, by: Uuid, now: DateTime<Utc>) -> Result<(Order, Step), OrderError> {
        if self.has_begun() {
            return Err(self.refused(Transition::Cancel));
        }
        let mut next = self.clone();
        next.revision += 1;
        let marked: Vec<Place> = next.marking();
        let step = next.fire(Transition::Cancel, &marked, &[Place::Cancelled], |o| {
            Published::Cancelled(OrderCancelled {
                order_id: o.order_id,
                version: o.version,
                places: o.marking(),
                client_id: o.client_id,
                executor_id: o.executor_id,
                value_cents: o.value_cents,
                cancelled_by: by,
                at: now,
            })
        });
        Ok((next, step))
    }
}

/// A decline's reason: not blank, not too long.
fn valid_reason(reason: &str) -> Result<String, OrderError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
        return Err(OrderError::Invalid(format!(
            "reason must have 1 to {MAX_REASON_CHARS} characters"
        )));
    }
    Ok(reason.to_owned())
}
