//! Quality control (SPEC M6): a QA case looks at one order's work. It is opened by a manager,
//! by every declined order, and by the weekly random sample of approved orders; a manager
//! closes it with a verdict, which may fine the worker (`Report.Fine`: the work was bad on an
//! approved order) or waive the decline's fine (`Report.FineWaived`: the work was fine on a
//! declined one). An order has at most one open case.

use ates_kernel::contracts::clock::Week;
use ates_kernel::contracts::reports::{Fine, FineWaived, Verdict};
use chrono::{DateTime, Utc};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::ReportsError;
use crate::order::OrderCopy;

/// The longest QA report's notes.
pub const MAX_NOTES: usize = 2000;
/// The share of a week's approved orders the random sample looks at, in percent.
pub const SAMPLE_PERCENT: usize = 5;

/// Why a case was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    Manual,
    Declined,
    Random,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Open,
    Closed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        [Status::Open, Status::Closed]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QaCase {
    pub case_id: Uuid,
    pub order_id: Uuid,
    pub cause: Cause,
    pub status: Status,
    pub verdict: Option<Verdict>,
    pub notes: Option<String>,
    /// The manager who opened it (none for an automatic case).
    pub opened_by: Option<Uuid>,
    pub closed_by: Option<Uuid>,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    /// One more with every change: a write happens only over the version it read.
    pub version: u64,
}

impl QaCase {
    /// A case opened by a manager: a new id every time (one open at a time is the store's).
    pub fn manual(order_id: Uuid, manager: Uuid, now: DateTime<Utc>) -> QaCase {
        QaCase::open(Uuid::new_v4(), order_id, Cause::Manual, Some(manager), now)
    }

    /// The case of a declined order: its id is the order's, so it is opened once however
    /// often the decline arrives.
    pub fn declined(order_id: Uuid, now: DateTime<Utc>) -> QaCase {
        let id = Uuid::new_v5(&order_id, b"qa:declined");
        QaCase::open(id, order_id, Cause::Declined, None, now)
    }

    /// The case of an order the week's sample chose: once per week and order.
    pub fn sampled(order_id: Uuid, week: Week, now: DateTime<Utc>) -> QaCase {
        let id = Uuid::new_v5(&order_id, format!("qa:random:{week}").as_bytes());
        QaCase::open(id, order_id, Cause::Random, None, now)
    }

    fn open(
        case_id: Uuid,
        order_id: Uuid,
        cause: Cause,
        opened_by: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> QaCase {
        QaCase {
            case_id,
            order_id,
            cause,
            status: Status::Open,
            verdict: None,
            notes: None,
            opened_by,
            closed_by: None,
            opened_at: now,
            closed_at: None,
            version: 1,
        }
    }

    /// The case closed with the manager's QA report, and what the verdict does to the worker's
    /// money: a fine (bad work on an approved order), a waiver (good work, or the client's
    /// fault, on a declined order), or nothing.
    pub fn close(
        &self,
        order: &OrderCopy,
        report: &ValidQaReport,
        manager: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(QaCase, Option<Consequence>), ReportsError> {
        if self.status == Status::Closed {
            return Err(ReportsError::CaseClosed);
        }
        let closed = QaCase {
            status: Status::Closed,
            verdict: Some(report.verdict),
            notes: Some(report.notes.clone()),
            closed_by: Some(manager),
            closed_at: Some(now),
            version: self.version + 1,
            ..self.clone()
        };
        let money = match (order.executor_id, order.list_price_cents) {
            (Some(executor_id), Some(list_price_cents)) => Some((executor_id, list_price_cents)),
            _ => None,
        };
        let consequence = match (report.verdict, money) {
            (Verdict::WorkerAtFault, Some((executor_id, list_price_cents))) if order.approved() => {
                Some(Consequence::Fine(Fine {
                    case_id: self.case_id,
                    order_id: self.order_id,
                    executor_id,
                    list_price_cents,
                    fined_at: now,
                }))
            }
            (
                verdict @ (Verdict::Ok | Verdict::ClientAtFault),
                Some((executor_id, list_price_cents)),
            ) if order.declined() => Some(Consequence::Waived(FineWaived {
                case_id: self.case_id,
                order_id: self.order_id,
                executor_id,
                verdict,
                list_price_cents,
                waived_at: now,
            })),
            _ => None,
        };
        Ok((closed, consequence))
    }
}

/// What a verdict publishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Consequence {
    Fine(Fine),
    Waived(FineWaived),
}

/// A QA report as the manager sends it: `{verdict, notes}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewQaReport {
    pub verdict: Verdict,
    pub notes: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidQaReport {
    pub verdict: Verdict,
    pub notes: String,
}

impl NewQaReport {
    pub fn validate(&self) -> Result<ValidQaReport, ReportsError> {
        let notes = self.notes.trim();
        if !(1..=MAX_NOTES).contains(&notes.chars().count()) {
            return Err(ReportsError::Invalid(format!(
                "notes must be 1 to {MAX_NOTES} characters"
            )));
        }
        Ok(ValidQaReport {
            verdict: self.verdict,
            notes: notes.to_owned(),
        })
    }
}

/// The weekly random sample (seed 002 "проверка рандомной задачи"): which of the week's
/// approved orders were chosen, with the seed that chose them, kept once per week.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sample {
    pub week: Week,
    pub seed: u64,
    /// How many approved orders the week had.
    pub population: usize,
    pub chosen: Vec<Uuid>,
    pub drawn_at: DateTime<Utc>,
}

/// How many of `population` approved orders the sample takes: 5 %, at least one if there is
/// any.
pub fn sample_size(population: usize) -> usize {
    if population == 0 {
        0
    } else {
        (population * SAMPLE_PERCENT / 100).max(1)
    }
}

/// The week's sample of `approved` drawn with `seed`: the same seed and orders, in whatever
/// order they were read, choose the same orders.
pub fn draw(week: Week, approved: &[Uuid], seed: u64, now: DateTime<Utc>) -> Sample {
    let mut orders = approved.to_vec();
    orders.sort();
    orders.dedup();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    orders.shuffle(&mut rng);
    let mut chosen: Vec<Uuid> = orders
        .iter()
        .take(sample_size(orders.len()))
        .copied()
        .collect();
    chosen.sort();
    Sample {
        week,
        seed,
        population: orders.len(),
        chosen,
        drawn_at: now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::{ExecutorFact, OrderFact};
    use ates_kernel::contracts::orders::Place;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn week() -> Week {
        Week::parse("2026-W49").unwrap()
    }

    fn decided(approved: bool) -> OrderCopy {
        let id = Uuid::new_v4();
        let decided_at = Some(at("2026-12-03T10:00:00Z"));
        OrderCopy::new(id)
            .apply(&OrderFact {
                executor: Some(ExecutorFact::Is(Uuid::new_v4())),
                list_price_cents: Some(10_000),
                approved_at: decided_at.filter(|_| approved),
                declined_at: decided_at.filter(|_| !approved),
                ..OrderFact::step(id, 11, vec![Place::SuccessInvoiced])
            })
            .unwrap()
    }

    fn report(verdict: Verdict) -> ValidQaReport {
        NewQaReport {
            verdict,
            notes: "looked at it".into(),
        }
        .validate()
        .unwrap()
    }

    #[test]
    fn the_sample_is_five_percent_and_at_least_one() {
        assert_eq!(sample_size(0), 0);
        assert_eq!(sample_size(1), 1);
        assert_eq!(sample_size(19), 1);
        assert_eq!(sample_size(40), 2);
        assert_eq!(sample_size(200), 10);
    }

    #[test]
    fn the_same_seed_and_orders_choose_the_same_whatever_their_order() {
        let orders: Vec<Uuid> = (0..100).map(|_| Uuid::new_v4()).collect();
        let mut reversed = orders.clone();
        reversed.reverse();
        let now = at("2026-12-07T00:00:00Z");
        let first = draw(week(), &orders, 42, now);
        assert_eq!(first.chosen.len(), 5);
        assert_eq!(first.chosen, draw(week(), &reversed, 42, now).chosen);
        assert!(first.chosen.iter().all(|id| orders.contains(id)));
        // Another seed chooses otherwise (for these hundred orders, five of them).
        let others: Vec<_> = (1..20)
            .map(|s| draw(week(), &orders, s, now).chosen)
            .collect();
        assert!(others.iter().any(|c| *c != first.chosen));
    }

    #[test]
    fn bad_work_on_an_approved_order_fines_the_worker() {
        let order = decided(true);
        let case = QaCase::manual(order.order_id, Uuid::new_v4(), at("2026-12-04T00:00:00Z"));
        let now = at("2026-12-05T00:00:00Z");
        let (closed, consequence) = case
            .close(&order, &report(Verdict::WorkerAtFault), Uuid::new_v4(), now)
            .unwrap();
        assert_eq!(closed.status, Status::Closed);
        assert_eq!(closed.verdict, Some(Verdict::WorkerAtFault));
        let Some(Consequence::Fine(fine)) = consequence else {
            panic!("a fine, not {consequence:?}")
        };
        assert_eq!(
            (fine.list_price_cents, fine.executor_id),
            (10_000, order.executor_id.unwrap())
        );
        let (_, none) = case
            .close(&order, &report(Verdict::ClientAtFault), Uuid::new_v4(), now)
            .unwrap();
        assert_eq!(
            none, None,
            "the client's fault on an approved order changes nothing"
        );
        assert!(matches!(
            closed.close(&order, &report(Verdict::Ok), Uuid::new_v4(), now),
            Err(ReportsError::CaseClosed)
        ));
    }

    #[test]
    fn good_work_on_a_declined_order_waives_the_fine() {
        let order = decided(false);
        let case = QaCase::declined(order.order_id, at("2026-12-04T00:00:00Z"));
        assert_eq!(
            case,
            QaCase::declined(order.order_id, at("2026-12-04T00:00:00Z"))
        );
        let now = at("2026-12-05T00:00:00Z");
        for verdict in [Verdict::Ok, Verdict::ClientAtFault] {
            let (_, consequence) = case
                .close(&order, &report(verdict), Uuid::new_v4(), now)
                .unwrap();
            assert!(matches!(consequence, Some(Consequence::Waived(w)) if w.verdict == verdict));
        }
        let (_, none) = case
            .close(&order, &report(Verdict::WorkerAtFault), Uuid::new_v4(), now)
            .unwrap();
        assert_eq!(none, None);
    }
}
