//! The money rules of the marketplace (SPEC M7) and the double-entry ledger they post to.
//!
//! A fact (an order invoiced, a QA fine, a bonus …) becomes one [`Movement`]: a transaction
//! whose legs sum to zero, under its business key (`charge:<order>`, `share:<order>`, …), posted
//! once. A leg's amount is a debit when positive and a credit when negative, so every account's
//! balance is the sum of its legs and the sum of all balances is zero.
//!
//! Charges belong to a business week (the client's invoice), workers' lines to a business month
//! (the worker's statement): the period the fact happened in, or the first one still open after
//! it when that one was issued already (a late fact), so no cent is in two periods or in none.
//! A fact happens on a business day (`date`): the use case that learns it asks the business
//! calendar once (`Calendar::business_date`: its time zone and the hour its day ends), and the
//! day travels with the movement; weeks and months are counted from it, never from UTC.

use ates_kernel::contracts::billing::Outcome;
use ates_kernel::contracts::clock::{Month, Week};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A worker's share of an approved order: 60 % of its list price, rounded down (course).
pub fn share_of(list_price_cents: i64) -> i64 {
    list_price_cents.max(0) * 60 / 100
}

/// A fine: 40 % of the order's list price, rounded down (course: a decline, a QA fine).
pub fn fine_of(list_price_cents: i64) -> i64 {
    list_price_cents.max(0) * 40 / 100
}

/// The largest bonus a manager grants at once (SPEC M7).
pub const MAX_BONUS_CENTS: i64 = 100_000;

/// Where money sits. Clients owe (`client`), workers are owed (`worker`, credit balance), the
/// company earns (`revenue`, `fines`), spends (`worker-costs`) and holds money that moved
/// (`cash`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LedgerAccount {
    Client(Uuid),
    Worker(Uuid),
    Revenue,
    Fines,
    WorkerCosts,
    Cash,
}

impl std::fmt::Display for LedgerAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LedgerAccount::Client(id) => write!(f, "client:{id}"),
            LedgerAccount::Worker(id) => write!(f, "worker:{id}"),
            LedgerAccount::Revenue => f.write_str("revenue"),
            LedgerAccount::Fines => f.write_str("fines"),
            LedgerAccount::WorkerCosts => f.write_str("worker-costs"),
            LedgerAccount::Cash => f.write_str("cash"),
        }
    }
}

impl LedgerAccount {
    pub fn parse(text: &str) -> Option<LedgerAccount> {
        Some(match text {
            "revenue" => LedgerAccount::Revenue,
            "fines" => LedgerAccount::Fines,
            "worker-costs" => LedgerAccount::WorkerCosts,
            "cash" => LedgerAccount::Cash,
            _ => match text.split_once(':')? {
                ("client", id) => LedgerAccount::Client(id.parse().ok()?),
                ("worker", id) => LedgerAccount::Worker(id.parse().ok()?),
                _ => return None,
            },
        })
    }
}

impl Serialize for LedgerAccount {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for LedgerAccount {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        LedgerAccount::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("{text:?} is no ledger account")))
    }
}

/// What a movement is, in the business's words; its key's prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A client is charged an order's value (`charge:<order>`).
    Charge,
    /// A worker earns 60 % of an approved order's list price (`share:<order>`).
    Share,
    /// A worker is fined 40 % of a declined order's list price (`fine:<order>`).
    Fine,
    /// A worker is fined 40 % by a QA report (`qa-fine:<case>`).
    QaFine,
    /// A fine is given back (`waiver:<case>`).
    Waiver,
    /// A manager's bonus (`bonus:<id>`).
    Bonus,
    /// An invoice's money arrived (`collection:<invoice>`).
    Collection,
    /// A salary left the company (`salary:<worker>:<month>`).
    Salary,
}

/// The period a movement counts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Week(Week),
    Month(Month),
}

impl Period {
    /// This period if it is not issued, else the first one after it that is not.
    /// `issued` are the issued periods from this one on (any order).
    pub fn first_open(self, issued: &[Period]) -> Period {
        let mut period = self;
        while issued.contains(&period) {
            period = match period {
                Period::Week(w) => Period::Week(w.next()),
                Period::Month(m) => Period::Month(m.next()),
            };
        }
        period
    }
}

/// One side of a transaction: a debit (positive) or a credit (negative).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Leg {
    pub account: LedgerAccount,
    pub amount_cents: i64,
}

/// A money fact before its period is known: what happened, to whom, when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    pub kind: Kind,
    /// The key's subject: the order, the QA case, the bonus.
    pub subject: Uuid,
    /// The client (a charge) or the worker (everything else).
    pub party: Uuid,
    pub order_id: Option<Uuid>,
    pub outcome: Option<Outcome>,
    pub amount_cents: i64,
    pub at: DateTime<Utc>,
    /// The business day `at` falls on (the business calendar's, not UTC's).
    pub date: NaiveDate,
}

impl Fact {
    /// `charge:<order>`: the order's value, on the client's invoice.
    pub fn charge(
        order_id: Uuid,
        client: Uuid,
        outcome: Outcome,
        value: i64,
        at: DateTime<Utc>,
        on: NaiveDate,
    ) -> Fact {
        Fact {
            kind: Kind::Charge,
            subject: order_id,
            party: client,
            order_id: Some(order_id),
            outcome: Some(outcome),
            amount_cents: value,
            at,
            date: on,
        }
    }

    /// What the executor earns or is fined for an invoiced order (`share:` or `fine:`).
    pub fn executor_line(
        order_id: Uuid,
        executor: Uuid,
        outcome: Outcome,
        list_price: i64,
        at: DateTime<Utc>,
        on: NaiveDate,
    ) -> Option<Fact> {
        let (kind, amount_cents) = match outcome {
            Outcome::Approved => (Kind::Share, share_of(list_price)),
            Outcome::Declined => (Kind::Fine, fine_of(list_price)),
            Outcome::Cancelled => return None,
        };
        Some(Fact {
            kind,
            subject: order_id,
            party: executor,
            order_id: Some(order_id),
            outcome: Some(outcome),
            amount_cents,
            at,
            date: on,
        })
    }

    /// `qa-fine:<case>` or `waiver:<case>`: 40 % of the order's list price.
    pub fn quality(
        kind: Kind,
        case_id: Uuid,
        order_id: Uuid,
        worker: Uuid,
        list_price: i64,
        at: DateTime<Utc>,
        on: NaiveDate,
    ) -> Fact {
        Fact {
            kind,
            subject: case_id,
            party: worker,
            order_id: Some(order_id),
            outcome: None,
            amount_cents: fine_of(list_price),
            at,
            date: on,
        }
    }

    /// `bonus:<id>`.
    pub fn bonus(
        bonus_id: Uuid,
        worker: Uuid,
        amount_cents: i64,
        at: DateTime<Utc>,
        on: NaiveDate,
    ) -> Fact {
        Fact {
            kind: Kind::Bonus,
            subject: bonus_id,
            party: worker,
            order_id: None,
            outcome: None,
            amount_cents,
            at,
            date: on,
        }
    }

    /// An invoice's money arrived (`collection:<invoice>`), on business day `on`.
    pub fn collection(
        invoice_id: Uuid,
        client_id: Uuid,
        amount_cents: i64,
        at: DateTime<Utc>,
        on: NaiveDate,
    ) -> Fact {
        Fact {
            kind: Kind::Collection,
            subject: invoice_id,
            party: client_id,
            order_id: None,
            outcome: None,
            amount_cents,
            at,
            date: on,
        }
    }

    /// The movement's key: it exists once.
    pub fn key(&self) -> String {
        key_of(self.kind, self.subject)
    }

    /// The period the fact happened in: the business week of a charge, the business month of
    /// a worker's line (SPEC M7: "the business week in which it ended").
    pub fn natural_period(&self) -> Period {
        match self.kind {
            Kind::Charge | Kind::Collection => Period::Week(Week::of(self.date)),
            _ => Period::Month(Month::of(self.date)),
        }
    }

    /// The period this fact is posted to: its own, or the first after it not yet issued.
    /// `issued` are the issued periods from the natural one on (any order).
    pub fn open_period(&self, issued: &[Period]) -> Period {
        self.natural_period().first_open(issued)
    }

    /// The movement, in `period`.
    pub fn post(&self, period: Period) -> Movement {
        let party = self.party;
        let (debit, credit) = match self.kind {
            Kind::Charge => (LedgerAccount::Client(party), LedgerAccount::Revenue),
            Kind::Share | Kind::Bonus => (LedgerAccount::WorkerCosts, LedgerAccount::Worker(party)),
            Kind::Fine | Kind::QaFine => (LedgerAccount::Worker(party), LedgerAccount::Fines),
            Kind::Waiver => (LedgerAccount::Fines, LedgerAccount::Worker(party)),
            Kind::Collection => (LedgerAccount::Cash, LedgerAccount::Client(party)),
            Kind::Salary => (LedgerAccount::Worker(party), LedgerAccount::Cash),
        };
        Movement {
            key: self.key(),
            kind: self.kind,
            party,
            order_id: self.order_id,
            outcome: self.outcome,
            amount_cents: self.amount_cents,
            period,
            at: self.at,
            date: self.date,
            legs: vec![
                Leg {
                    account: debit,
                    amount_cents: self.amount_cents,
                },
                Leg {
                    account: credit,
                    amount_cents: -self.amount_cents,
                },
            ],
        }
    }
}

pub fn key_of(kind: Kind, subject: impl std::fmt::Display) -> String {
    let prefix = serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    format!("{prefix}:{subject}")
}

/// A posted transaction: its legs sum to zero.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Movement {
    pub key: String,
    pub kind: Kind,
    pub party: Uuid,
    pub order_id: Option<Uuid>,
    pub outcome: Option<Outcome>,
    /// The movement's size (positive).
    pub amount_cents: i64,
    pub period: Period,
    pub at: DateTime<Utc>,
    /// The business day it happened on: the day revenue counts it in.
    pub date: NaiveDate,
    pub legs: Vec<Leg>,
}

impl Movement {
    /// What the movement adds to a worker's statement total: shares, waivers and bonuses add,
    /// fines take away; anything else is none of a statement's business.
    pub fn earning_cents(&self) -> i64 {
        match self.kind {
            Kind::Share | Kind::Waiver | Kind::Bonus => self.amount_cents,
            Kind::Fine | Kind::QaFine => -self.amount_cents,
            _ => 0,
        }
    }

    /// What revenue counts of it: every movement but a salary.
    pub fn revenue_line(&self) -> Option<RevenueLine> {
        RevenueLine::of(self.key.clone(), self.kind, self.amount_cents, self.date)
    }
}

impl Fact {
    /// The line its movement adds to revenue, whichever period it was posted to: a replayed
    /// fact's line is its movement's, without knowing that period.
    pub fn revenue_line(&self) -> Option<RevenueLine> {
        RevenueLine::of(self.key(), self.kind, self.amount_cents, self.date)
    }
}

/// One movement as `GET /billing/revenue` counts it, on the business day it happened: the
/// revenue's projection (N4), written with its movement and rebuilt by replaying the facts
/// (`billing-replay`), never by posting money again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevenueLine {
    /// Its movement's key: the line exists once, and only beside its movement.
    pub key: String,
    pub kind: Kind,
    pub amount_cents: i64,
    pub date: NaiveDate,
}

impl RevenueLine {
    fn of(key: String, kind: Kind, amount_cents: i64, date: NaiveDate) -> Option<RevenueLine> {
        (kind != Kind::Salary).then_some(RevenueLine {
            key,
            kind,
            amount_cents,
            date,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ates_kernel::calendar::Calendar;
    use ates_kernel::testing::{at, date};

    #[test]
    fn shares_and_fines_are_rounded_down_to_the_cent() {
        assert_eq!(share_of(1_001), 600);
        assert_eq!(fine_of(1_001), 400);
        assert_eq!(share_of(99), 59);
        assert_eq!(fine_of(99), 39);
    }

    #[test]
    fn every_movement_balances_and_is_keyed_by_its_subject() {
        let order = Uuid::from_u128(1);
        let charge = Fact::charge(
            order,
            Uuid::from_u128(2),
            Outcome::Approved,
            1_234,
            at("2026-12-06T10:00:00Z"),
            date("2026-12-06"),
        );
        assert_eq!(charge.key(), format!("charge:{order}"));
        let movement = charge.post(charge.natural_period());
        assert_eq!(movement.legs.iter().map(|l| l.amount_cents).sum::<i64>(), 0);
        assert_eq!(
            movement.legs[0].account,
            LedgerAccount::Client(Uuid::from_u128(2))
        );
        let fine = Fact::quality(
            Kind::QaFine,
            Uuid::from_u128(3),
            order,
            Uuid::from_u128(4),
            1_000,
            at("2026-12-06T10:00:00Z"),
            date("2026-12-06"),
        );
        assert_eq!(fine.key(), format!("qa-fine:{}", Uuid::from_u128(3)));
        assert_eq!(fine.post(fine.natural_period()).earning_cents(), -400);
    }

    #[test]
    fn a_replayed_facts_revenue_line_is_its_movements_in_whatever_period_it_was_posted() {
        let charge = Fact::charge(
            Uuid::from_u128(1),
            Uuid::from_u128(2),
            Outcome::Approved,
            1_234,
            at("2026-12-06T10:00:00Z"),
            date("2026-12-06"),
        );
        let late = Period::Week(Week::of(date("2026-12-14")));
        let line = charge.revenue_line().expect("a charge is revenue");
        assert_eq!(charge.post(late).revenue_line(), Some(line.clone()));
        assert_eq!(
            charge.post(charge.natural_period()).revenue_line(),
            Some(line.clone())
        );
        assert_eq!(
            line.date,
            date("2026-12-06"),
            "counted on the day it happened"
        );
        let salary = Fact {
            kind: Kind::Salary,
            ..charge
        };
        assert_eq!(salary.revenue_line(), None, "a salary is no revenue");
    }

    #[test]
    fn a_late_fact_goes_to_the_first_period_still_open() {
        let sunday = at("2026-12-06T23:00:00Z");
        let charge = Fact::charge(
            Uuid::from_u128(1),
            Uuid::from_u128(2),
            Outcome::Declined,
            10,
            sunday,
            date("2026-12-06"),
        );
        let week = Week::parse("2026-W49").unwrap();
        assert_eq!(charge.open_period(&[]), Period::Week(week));
        assert_eq!(
            charge.open_period(&[Period::Week(week), Period::Week(week.next())]),
            Period::Week(week.next().next())
        );
        let bonus = Fact::bonus(
            Uuid::from_u128(5),
            Uuid::from_u128(6),
            500,
            sunday,
            date("2026-12-06"),
        );
        let december = Month::parse("2026-12").unwrap();
        assert_eq!(
            bonus.open_period(&[Period::Month(december)]),
            Period::Month(december.next())
        );
    }

    /// A charge and the executor's share at `when`, dated by `calendar`: their periods, and
    /// the business day the movement keeps.
    fn periods(calendar: &Calendar, when: &str) -> (Period, Period, NaiveDate) {
        let at = at(when);
        let on = calendar.business_date(at).unwrap();
        let (order, party) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let charge = Fact::charge(order, party, Outcome::Approved, 1_000, at, on);
        let share = Fact::executor_line(order, party, Outcome::Approved, 1_000, at, on).unwrap();
        let movement = charge.post(charge.natural_period());
        (
            charge.natural_period(),
            share.natural_period(),
            movement.date,
        )
    }

    #[test]
    fn a_fact_near_midnight_counts_in_the_business_week_and_month_it_happened_in() {
        let week = |w: &str| Period::Week(Week::parse(w).unwrap());
        let month = |m: &str| Period::Month(Month::parse(m).unwrap());
        // SPEC M7: approved on Sunday 2026-11-29 at 20:00 in New York (Monday 01:00 UTC) is
        // charged on that Sunday's week, and earned in November.
        let new_york = Calendar::new("America/New_York", "0").unwrap();
        assert_eq!(
            periods(&new_york, "2026-11-30T01:00:00Z"),
            (week("2026-W48"), month("2026-11"), date("2026-11-29"))
        );
        // The last evening of November in New York is still November (UTC says December).
        assert_eq!(
            periods(&new_york, "2026-12-01T04:59:59Z"),
            (week("2026-W49"), month("2026-11"), date("2026-11-30"))
        );
        // Moscow's business day ends at 18:00 (15:00 UTC): Sunday 2026-12-06 at 18:30 there
        // is Monday's business, the next week; on 2026-11-30 it is already December.
        let moscow = Calendar::new("Europe/Moscow", "18").unwrap();
        assert_eq!(
            periods(&moscow, "2026-12-06T15:30:00Z"),
            (week("2026-W50"), month("2026-12"), date("2026-12-07"))
        );
        assert_eq!(
            periods(&moscow, "2026-11-30T15:00:00Z"),
            (week("2026-W49"), month("2026-12"), date("2026-12-01"))
        );
        // A moment before the day's end, it is still the day before.
        assert_eq!(
            periods(&moscow, "2026-11-30T14:59:59Z"),
            (week("2026-W49"), month("2026-11"), date("2026-11-30"))
        );
    }
}
