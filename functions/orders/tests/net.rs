//! The order's net (SPEC M2) on its own: every transition, the refusals, and the property that
//! makes it safe on a bus — the facts delivered 1 to 3 times each, in any order, end in the
//! marking in-order delivery ends in; `pending` is never marked without `valued` and
//! `supplied`; no step happens twice.

use std::collections::HashSet;

use ates_kernel::contracts::orders::{Place, SupplyLine};
use ates_kernel::testing;
use ates_orders::error::OrderError;
use ates_orders::order::{Fact, NewOrder, Order, Published, SlotNotice, Step, Transition};
use ates_orders::service_type::OrderedService;
use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

use Place::*;

fn now() -> DateTime<Utc> {
    testing::at("2026-12-07T09:00:00Z")
}

fn service() -> OrderedService {
    OrderedService {
        service_type_id: Uuid::now_v7(),
        revision: 1,
        name: "Carpet cleaning".into(),
        base_price_cents: 12_000,
        required_skill: "carpets".into(),
        duration_minutes: 120,
        supplies: vec![SupplyLine {
            item: "sponge".into(),
            quantity: 2,
        }],
    }
}

fn new_order() -> Order {
    let valid = NewOrder {
        service_type_id: Uuid::now_v7(),
        description: "The big carpet".into(),
        address: "1 Nest Lane".into(),
        slot_start: now() + Duration::days(2),
    }
    .validate(service(), SlotNotice::default(), now())
    .unwrap();
    Order::create(Uuid::now_v7(), Uuid::now_v7(), valid, now()).0
}

fn set(places: &[Place]) -> Vec<Place> {
    let mut places = places.to_vec();
    places.sort();
    places
}

/// The order told every fact in turn; the steps fired.
fn told(order: &Order, facts: &[Fact]) -> (Order, Vec<Step>) {
    let mut order = order.clone();
    let mut steps = Vec::new();
    for fact in facts {
        if let Some((next, fired)) = order.learn(fact.clone(), now()) {
            order = next;
            steps.extend(fired);
        }
    }
    (order, steps)
}

fn estimated() -> Fact {
    Fact::Estimated {
        estimate_cents: 12_000,
    }
}
fn matched(executor_id: Uuid, order_version: u64) -> Fact {
    Fact::Matched {
        executor_id,
        order_version,
    }
}
fn priced(executor_id: Uuid, value_cents: i64) -> Fact {
    Fact::Priced {
        executor_id,
        list_price_cents: value_cents,
        value_cents,
    }
}
fn kit(executor_id: Uuid) -> Fact {
    Fact::KitIssued {
        kit_id: Uuid::now_v7(),
        executor_id,
    }
}
fn gone(executor_id: Uuid) -> Fact {
    Fact::ExecutorGone { executor_id }
}
/// The slot of `new_order` starts two days from now: ten minutes before it.
fn pre_reported(executor_id: Uuid) -> Fact {
    Fact::PreReported {
        executor_id,
        at: now() + Duration::days(2) - Duration::minutes(10),
    }
}
fn reported(executor_id: Uuid) -> Fact {
    Fact::Reported {
        executor_id,
        at: now() + Duration::days(2) + Duration::hours(2),
    }
}
fn settled() -> Fact {
    Fact::Settled {
        invoice_id: Uuid::now_v7(),
    }
}

#[test]
fn a_new_order_is_new_and_waits_for_valued_and_supplied() {
    let order = new_order();
    assert_eq!(order.marking(), vec![New]);
    assert_eq!(order.version, 1);
    assert_eq!(order.waiting_for(), vec![Valued, Supplied]);
    assert_eq!(order.slot_end - order.slot_start, Duration::minutes(120));
}

#[test]
fn rate_splits_into_matching_and_supplying() {
    let (order, steps) = told(&new_order(), &[estimated()]);
    assert_eq!(order.marking(), set(&[Rated, ToMatch, ToSupply]));
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0].transition, Transition::Rate);
    assert_eq!(steps[0].version, 2);
    let Published::Rated(rated) = &steps[0].event else {
        panic!("rate publishes Order.Rated")
    };
    assert_eq!(rated.estimate_cents, 12_000);
    assert_eq!(rated.required_skill, "carpets");
    assert_eq!(order.estimate_cents, Some(12_000));
}

#[test]
fn the_join_fires_in_the_same_write_as_the_second_branch_whichever_it_is() {
    let a = Uuid::now_v7();
    let rated = told(&new_order(), &[estimated(), matched(a, 2)]).0;
    assert_eq!(rated.marking(), set(&[Rated, Executor, ToSupply]));
    assert_eq!(rated.executor_id, Some(a));

    // Valued first, supplied second: the supply's write also joins.
    let valued = told(&rated, &[priced(a, 14_400)]).0;
    assert_eq!(valued.marking(), set(&[Rated, Valued, ToSupply]));
    assert_eq!(valued.waiting_for(), vec![Supplied]);
    let (pending, steps) = told(&valued, &[kit(a)]);
    let fired: Vec<_> = steps.iter().map(|s| s.transition).collect();
    assert_eq!(fired, vec![Transition::Supply, Transition::Join]);
    assert_eq!(pending.marking(), set(&[Rated, Pending]));
    assert!(pending.waiting_for().is_empty());

    // Supplied first, valued second: the value's write joins.
    let supplied = told(&rated, &[kit(a)]).0;
    assert_eq!(supplied.marking(), set(&[Rated, Executor, Supplied]));
    let (pending, steps) = told(&supplied, &[priced(a, 14_400)]);
    let fired: Vec<_> = steps.iter().map(|s| s.transition).collect();
    assert_eq!(fired, vec![Transition::Value, Transition::Join]);
    assert_eq!(pending.marking(), set(&[Rated, Pending]));
    assert_eq!(pending.value_cents, Some(14_400));
}

#[test]
fn a_price_or_kit_for_another_executor_fires_nothing() {
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let (order, steps) = told(
        &new_order(),
        &[estimated(), matched(a, 2), priced(b, 100), kit(b)],
    );
    assert_eq!(order.marking(), set(&[Rated, Executor, ToSupply]));
    assert_eq!(steps.len(), 2, "rate and match only");
}

#[test]
fn a_fact_told_twice_changes_nothing_and_the_first_word_stands() {
    let a = Uuid::now_v7();
    let order = told(
        &new_order(),
        &[estimated(), matched(a, 2), priced(a, 14_400)],
    )
    .0;
    assert!(order.learn(priced(a, 14_400), now()).is_none());
    assert!(order.learn(priced(a, 9_999), now()).is_none());
    assert!(order.learn(estimated(), now()).is_none());
    assert_eq!(order.value_cents, Some(14_400));
}

#[test]
fn an_executor_gone_before_the_work_is_released_and_the_order_matched_again() {
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let pending = told(
        &new_order(),
        &[estimated(), matched(a, 2), priced(a, 1), kit(a)],
    )
    .0;
    assert!(pending.is_marked(Pending));
    let (released, steps) = told(&pending, &[gone(a)]);
    assert_eq!(steps[0].transition, Transition::Release);
    assert_eq!(released.marking(), set(&[Rated, ToMatch, ToSupply]));
    assert_eq!(released.executor_id, None);
    assert_eq!(released.value_cents, None);
    let Published::ExecutorReleased(event) = &steps[0].event else {
        panic!("release publishes Order.ExecutorReleased")
    };
    assert_eq!(event.executor_id, a);
    // A late match of the released executor is stale; a new one goes on.
    let (again, _) = told(&released, &[matched(a, 9), matched(b, released.version)]);
    assert_eq!(again.executor_id, Some(b));
    let done = told(&again, &[priced(b, 2), kit(b)]).0;
    assert_eq!(done.marking(), set(&[Rated, Pending]));
}

#[test]
fn an_executor_gone_after_the_work_began_stays() {
    let a = Uuid::now_v7();
    let pending = told(
        &new_order(),
        &[estimated(), matched(a, 2), priced(a, 1), kit(a)],
    )
    .0;
    let in_work = told(&pending, &[pre_reported(a)]).0;
    let (after, steps) = told(&in_work, &[gone(a)]);
    assert!(steps.is_empty());
    assert_eq!(after.marking(), set(&[Rated, InWork]));
    assert_eq!(after.executor_id, Some(a));
}

#[test]
fn the_executors_steps_then_the_clients_decision_then_billing() {
    let a = Uuid::now_v7();
    let pending = told(
        &new_order(),
        &[estimated(), matched(a, 2), priced(a, 14_400), kit(a)],
    )
    .0;
    let client = pending.client_id;
    let (in_work, steps) = told(&pending, &[pre_reported(a)]);
    assert_eq!(in_work.marking(), set(&[Rated, InWork]));
    let fired: Vec<Transition> = steps.iter().map(|s| s.transition).collect();
    assert_eq!(fired, [Transition::PreReport, Transition::Begin]);
    let (reported, steps) = told(&in_work, &[reported(a)]);
    assert_eq!(reported.marking(), set(&[Rated, Report]));
    assert_eq!(steps[0].transition, Transition::Finish);
    // The 72 hours run from the report, not from when orders heard of it.
    let report_at = now() + Duration::days(2) + Duration::hours(2);
    assert_eq!(
        reported.approval_due(),
        Some(report_at + Duration::hours(72))
    );

    let (approved, step) = reported.approve(client, now()).unwrap();
    assert_eq!(approved.marking(), set(&[Rated, SuccessInvoiced]));
    let Published::SuccessInvoiced(invoiced) = step.event else {
        panic!("approve publishes Order.SuccessInvoiced")
    };
    assert_eq!(invoiced.0.value_cents, 14_400);
    assert_eq!(invoiced.0.decided_by, Some(client));
    assert_eq!(approved.approval_due(), None);
    let (paid, steps) = told(&approved, &[settled(), settled()]);
    assert_eq!(paid.marking(), set(&[Rated, SuccessPaid]));
    assert_eq!(steps.len(), 1, "settled once however often billing says so");

    let (declined, step) = reported.decline(client, " Still wet ", now()).unwrap();
    assert_eq!(declined.marking(), set(&[Rated, FailedInvoiced]));
    let Published::FailedInvoiced(invoiced) = step.event else {
        panic!("decline publishes Order.FailedInvoiced")
    };
    assert_eq!(invoiced.0.reason.as_deref(), Some("Still wet"));
    assert_eq!(
        told(&declined, &[settled()]).0.marking(),
        set(&[Rated, FailedPaid])
    );
    assert!(matches!(
        reported.decline(client, "  ", now()),
        Err(OrderError::Invalid(_))
    ));
}

#[test]
fn a_report_is_approved_by_itself_only_after_72_hours() {
    let a = Uuid::now_v7();
    let pending = told(
        &new_order(),
        &[estimated(), matched(a, 2), priced(a, 1), kit(a)],
    )
    .0;
    let reported = told(&pending, &[pre_reported(a), reported(a)]).0;
    let due = now() + Duration::days(2) + Duration::hours(2 + 72);
    let early = due - Duration::seconds(1);
    assert!(matches!(
        reported.approve_by_itself(early),
        Err(OrderError::NotNow { .. })
    ));
    let (approved, step) = reported.approve_by_itself(due).unwrap();
    assert!(approved.is_marked(SuccessInvoiced));
    let Published::SuccessInvoiced(invoiced) = step.event else {
        panic!()
    };
    assert_eq!(invoiced.0.decided_by, None);
    assert!(approved.approve_by_itself(due + Duration::days(9)).is_err());
}

#[test]
fn cancel_is_allowed_before_in_work_and_refused_from_it_naming_the_marking() {
    let a = Uuid::now_v7();
    let order = new_order();
    let (cancelled, step) = order.cancel(order.client_id, now()).unwrap();
    assert_eq!(cancelled.marking(), vec![Cancelled]);
    assert_eq!(step.transition, Transition::Cancel);
    assert!(cancelled.cancel(order.client_id, now()).is_err());
    // Facts told after the cancel fire nothing.
    let (after, steps) = told(&cancelled, &[estimated(), matched(a, 2)]);
    assert!(steps.is_empty());
    assert_eq!(after.marking(), vec![Cancelled]);

    let valued = told(&order, &[estimated(), matched(a, 2), priced(a, 500)]).0;
    let Published::Cancelled(event) = valued.cancel(order.client_id, now()).unwrap().1.event else {
        panic!()
    };
    assert_eq!(
        event.value_cents,
        Some(500),
        "billing invoices a cancel once valued"
    );

    let pending = told(&valued, &[kit(a)]).0;
    let in_work = told(&pending, &[pre_reported(a)]).0;
    let refused = in_work.cancel(order.client_id, now()).unwrap_err();
    assert_eq!(
        refused.to_string(),
        "the order is rated + in_work: it cannot Cancel"
    );
}

#[test]
fn the_clients_commands_from_the_wrong_place_are_refused() {
    let order = new_order();
    assert!(matches!(
        order.approve(order.client_id, now()),
        Err(OrderError::NotNow { .. })
    ));
    assert!(matches!(
        order.decline(order.client_id, "late", now()),
        Err(OrderError::NotNow { .. })
    ));
}

#[test]
fn the_executors_and_billings_words_wait_for_their_place_and_their_executor() {
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    // Told before the order is pending, kept, and fired when it is.
    let (order, steps) = told(&new_order(), &[pre_reported(a), reported(a), settled()]);
    assert!(steps.is_empty());
    assert_eq!(order.marking(), vec![New]);
    let (order, _) = told(&order, &[estimated(), matched(a, 2), priced(a, 9), kit(a)]);
    assert_eq!(order.marking(), set(&[Rated, Report]));

    // Another worker's pre-report begins nothing.
    let pending = told(
        &new_order(),
        &[estimated(), matched(a, 2), priced(a, 9), kit(a)],
    )
    .0;
    let (still, steps) = told(&pending, &[pre_reported(b), reported(b)]);
    assert!(steps.is_empty());
    assert_eq!(still.marking(), set(&[Rated, Pending]));

    // More than 30 minutes before the slot: the net does not begin.
    let early = Fact::PreReported {
        executor_id: a,
        at: now() + Duration::days(2) - Duration::minutes(31),
    };
    let (still, steps) = told(&pending, &[early]);
    assert!(steps.is_empty());
    assert!(still.is_marked(Pending));
}

#[test]
fn a_slot_must_start_2_hours_to_90_days_from_now() {
    let at = |slot_start| NewOrder {
        service_type_id: Uuid::now_v7(),
        description: "x".into(),
        address: "y".into(),
        slot_start,
    };
    assert!(at(now() + Duration::hours(2))
        .validate(service(), SlotNotice::default(), now())
        .is_ok());
    assert!(at(now() + Duration::days(90))
        .validate(service(), SlotNotice::default(), now())
        .is_ok());
    for bad in [
        now() - Duration::hours(1),
        now() + Duration::hours(2) - Duration::seconds(1),
        now() + Duration::days(90) + Duration::seconds(1),
    ] {
        assert!(matches!(
            at(bad).validate(service(), SlotNotice::default(), now()),
            Err(OrderError::Invalid(_))
        ));
    }
    // A local stack's shorter notice (OrderNoticeMinutes), said in the refusal; nothing else.
    let minute = SlotNotice::minutes("1").unwrap();
    assert!(at(now() + Duration::minutes(1))
        .validate(service(), minute, now())
        .is_ok());
    assert!(matches!(
        at(now() + Duration::seconds(59)).validate(service(), minute, now()),
        Err(OrderError::Invalid(m)) if m == "slot_start must be at least 1 minute from now"
    ));
    assert!(matches!(
        at(now()).validate(service(), SlotNotice::default(), now()),
        Err(OrderError::Invalid(m)) if m == "slot_start must be at least 2 hours from now"
    ));
    for bad in ["0", "1441", "-5", "two", ""] {
        assert!(SlotNotice::minutes(bad).is_err(), "{bad}");
    }
    // The window the order form is told is the one validated.
    assert_eq!(
        SlotNotice::default().window(),
        serde_json::json!({"notice_minutes": 120, "horizon_days": 90})
    );
    assert_eq!(minute.window()["notice_minutes"], 1);
    let blank = NewOrder {
        description: "  ".into(),
        ..at(now() + Duration::days(1))
    };
    assert!(blank
        .validate(service(), SlotNotice::default(), now())
        .is_err());
}

/// A history the other contexts could produce, in causal order: the estimate, a match, its
/// price and kit; sometimes the executor goes (before or after either branch finished) and
/// another is matched, priced and supplied, or not (yet).
fn history(rng: &mut StdRng) -> Vec<Fact> {
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let mut facts = vec![estimated(), matched(a, 2)];
    let mut a_steps = vec![priced(a, rng.gen_range(1..100_000)), kit(a)];
    a_steps.shuffle(rng);
    let goes_after = rng.gen_range(0..=3); // 3: the executor stays
    for (i, step) in a_steps.into_iter().enumerate() {
        if i == goes_after {
            facts.push(gone(a));
        }
        facts.push(step);
    }
    if goes_after == 2 {
        facts.push(gone(a));
    }
    if goes_after < 3 && rng.gen_bool(0.7) {
        facts.push(matched(b, 100));
        let mut b_steps = vec![priced(b, rng.gen_range(1..100_000)), kit(b)];
        b_steps.shuffle(rng);
        let keep = rng.gen_range(0..=2);
        facts.extend(b_steps.into_iter().take(keep));
    }
    facts
}

/// Each fact delivered 1 to 3 times, in any order.
fn delivered(facts: &[Fact], rng: &mut StdRng) -> Vec<Fact> {
    let mut out = Vec::new();
    for fact in facts {
        for _ in 0..rng.gen_range(1..=3) {
            out.push(fact.clone());
        }
    }
    out.shuffle(rng);
    out
}

#[test]
fn any_order_and_any_duplicates_end_in_the_marking_of_in_order_delivery() {
    let mut rng = StdRng::seed_from_u64(20261207);
    for _ in 0..2_000 {
        let facts = history(&mut rng);
        let (expected, _) = told(&new_order(), &facts);
        let start = new_order();
        let mut order = start.clone();
        let mut steps: Vec<Step> = Vec::new();
        for fact in delivered(&facts, &mut rng) {
            if let Some((next, fired)) = order.learn(fact, now()) {
                order = next;
                // pending is never marked without valued and supplied just before.
                for (i, step) in fired.iter().enumerate() {
                    if step.transition == Transition::Join {
                        let before: Vec<_> = fired[..i].iter().chain(steps.iter()).collect();
                        assert!(before.iter().any(|s| s.transition == Transition::Value));
                        assert!(before.iter().any(|s| s.transition == Transition::Supply));
                    }
                }
                steps.extend(fired);
            }
            if order.is_marked(Pending) {
                assert!(order.value_cents.is_some() && order.kit_id.is_some());
            }
        }
        assert_eq!(order.marking(), expected.marking(), "{facts:?}");
        assert_eq!(order.executor_id, expected.executor_id);
        assert_eq!(order.value_cents, expected.value_cents);
        // No step twice: a transition happens once per executor (and rate once).
        let mut seen = HashSet::new();
        for step in &steps {
            let executor = match &step.event {
                Published::ExecutorAssigned(e) => Some(e.0.executor_id),
                Published::Valued(e) => Some(e.executor_id),
                Published::Supplied(e) => Some(e.executor_id),
                Published::Pending(e) => Some(e.0.executor_id),
                Published::ExecutorReleased(e) => Some(e.executor_id),
                _ => None,
            };
            assert!(
                seen.insert((step.transition, executor)),
                "{:?} twice",
                step.transition
            );
        }
        // Versions go up by one per transition.
        let versions: Vec<u64> = steps.iter().map(|s| s.version).collect();
        let expected_versions: Vec<u64> = (2..2 + steps.len() as u64).collect();
        assert_eq!(versions, expected_versions);
    }
}
