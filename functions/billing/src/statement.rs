//! A worker's monthly statement (SPEC M7): `total = carried_in + shares − fines + waivers +
//! bonuses`. A positive total is the salary, a payout pending until payments confirms it
//! (`Payment.SalaryPaid`, then posted `salary:<worker>:<month>`); a negative one is the debt the
//! worker carries into the next statement.

use ates_kernel::contracts::billing::StatementIssued;
use ates_kernel::contracts::clock::Month;
use ates_kernel::contracts::payments::SalaryPaid;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::invoice::ID_NAMESPACE;
use crate::ledger::{Fact, Kind, Movement, Period};

/// What billing remembers of a worker between statements: the debt carried (≤ 0).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Worker {
    pub worker_id: Uuid,
    pub carried_cents: i64,
    /// Counts the worker's writes: each is conditional on the one read.
    pub version: u64,
}

impl Worker {
    pub fn new(worker_id: Uuid) -> Worker {
        Worker {
            worker_id,
            carried_cents: 0,
            version: 0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SalaryStatus {
    /// Nothing to pay (a zero or negative total).
    None,
    /// The salary was handed to payments; the bank has not confirmed it.
    Pending,
    Paid,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    pub statement_id: Uuid,
    pub worker_id: Uuid,
    pub month: Month,
    pub carried_in_cents: i64,
    pub shares_cents: i64,
    pub fines_cents: i64,
    pub waivers_cents: i64,
    pub bonuses_cents: i64,
    pub total_cents: i64,
    pub salary_cents: i64,
    pub carried_out_cents: i64,
    /// The keys of the movements it counts.
    pub lines: Vec<String>,
    pub salary: SalaryStatus,
    pub issued_at: DateTime<Utc>,
    pub version: u64,
}

/// `salary:<worker>:<month>`: the statement's key, its id, and its salary movement's key.
pub fn salary_key(worker: Uuid, month: Month) -> String {
    format!("salary:{worker}:{month}")
}

pub fn statement_id(worker: Uuid, month: Month) -> Uuid {
    Uuid::new_v5(&ID_NAMESPACE, salary_key(worker, month).as_bytes())
}

impl Statement {
    /// The worker's statement of `month` from the lines posted to it and the debt carried in;
    /// the worker after it carries the new debt (or none).
    pub fn issue(
        worker: &Worker,
        month: Month,
        lines: &[Movement],
        now: DateTime<Utc>,
    ) -> (Worker, Statement, StatementIssued) {
        let sum = |kinds: &[Kind]| -> i64 {
            lines
                .iter()
                .filter(|m| kinds.contains(&m.kind))
                .map(|m| m.amount_cents)
                .sum()
        };
        let shares_cents = sum(&[Kind::Share]);
        let fines_cents = sum(&[Kind::Fine, Kind::QaFine]);
        let waivers_cents = sum(&[Kind::Waiver]);
        let bonuses_cents = sum(&[Kind::Bonus]);
        let carried_in_cents = worker.carried_cents;
        let total_cents =
            carried_in_cents + shares_cents - fines_cents + waivers_cents + bonuses_cents;
        let salary_cents = total_cents.max(0);
        let carried_out_cents = total_cents.min(0);
        let mut keys: Vec<String> = lines.iter().map(|m| m.key.clone()).collect();
        keys.sort();
        let statement = Statement {
            statement_id: statement_id(worker.worker_id, month),
            worker_id: worker.worker_id,
            month,
            carried_in_cents,
            shares_cents,
            fines_cents,
            waivers_cents,
            bonuses_cents,
            total_cents,
            salary_cents,
            carried_out_cents,
            lines: keys,
            salary: if salary_cents > 0 {
                SalaryStatus::Pending
            } else {
                SalaryStatus::None
            },
            issued_at: now,
            version: 1,
        };
        let after = Worker {
            worker_id: worker.worker_id,
            carried_cents: carried_out_cents,
            version: worker.version + 1,
        };
        let issued = StatementIssued {
            statement_id: statement.statement_id,
            worker_id: worker.worker_id,
            month,
            carried_in_cents,
            shares_cents,
            fines_cents,
            waivers_cents,
            bonuses_cents,
            total_cents,
            salary_cents,
            carried_out_cents,
            issued_at: now,
        };
        (after, statement, issued)
    }

    /// The bank paid the salary: posted once (`salary:<worker>:<month>`, on the business day
    /// `on` it left). `None` when there was no salary pending.
    pub fn salary_paid(&self, paid: &SalaryPaid, on: NaiveDate) -> Option<(Statement, Movement)> {
        if self.salary != SalaryStatus::Pending {
            return None;
        }
        let mut after = self.clone();
        after.salary = SalaryStatus::Paid;
        after.version += 1;
        let fact = Fact {
            kind: Kind::Salary,
            subject: self.statement_id,
            party: self.worker_id,
            order_id: None,
            outcome: None,
            amount_cents: self.salary_cents,
            at: paid.paid_at,
            date: on,
        };
        let mut movement = fact.post(Period::Month(self.month));
        movement.key = salary_key(self.worker_id, self.month);
        Some((after, movement))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ates_kernel::testing::{at, date};

    fn line(kind: Kind, n: u128, amount: i64) -> Movement {
        let worker = Uuid::from_u128(1);
        let fact = match kind {
            Kind::Bonus => Fact::bonus(
                Uuid::from_u128(n),
                worker,
                amount,
                at("2026-12-03T10:00:00Z"),
                date("2026-12-03"),
            ),
            _ => Fact {
                kind,
                subject: Uuid::from_u128(n),
                party: worker,
                order_id: None,
                outcome: None,
                amount_cents: amount,
                at: at("2026-12-03T10:00:00Z"),
                date: date("2026-12-03"),
            },
        };
        fact.post(fact.natural_period())
    }

    #[test]
    fn a_statement_adds_its_lines_to_the_debt_carried_in() {
        let month = Month::parse("2026-12").unwrap();
        let worker = Worker {
            carried_cents: -300,
            ..Worker::new(Uuid::from_u128(1))
        };
        let lines = [
            line(Kind::Share, 2, 600),
            line(Kind::Fine, 3, 400),
            line(Kind::QaFine, 4, 100),
            line(Kind::Waiver, 5, 400),
            line(Kind::Bonus, 6, 50),
        ];
        let (after, statement, issued) =
            Statement::issue(&worker, month, &lines, at("2027-01-01T00:00:00Z"));
        assert_eq!(statement.total_cents, -300 + 600 - 500 + 400 + 50);
        assert_eq!(statement.salary_cents, 250);
        assert_eq!(after.carried_cents, 0);
        assert_eq!(issued.fines_cents, 500);

        let (after, debt, _) =
            Statement::issue(&worker, month, &lines[1..2], at("2027-01-01T00:00:00Z"));
        assert_eq!((debt.salary_cents, debt.carried_out_cents), (0, -700));
        assert_eq!(after.carried_cents, -700);
        assert_eq!(debt.salary, SalaryStatus::None);
    }
}
