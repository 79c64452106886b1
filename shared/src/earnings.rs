//! Top management's earnings (SPEC B6, N2): the fees taken less the rewards paid, per business
//! day. Accounting answers from its ledger and analytics from its projection, in this one shape.

use chrono::NaiveDate;
use serde::Serialize;

/// One business day's earnings.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct EarningsDay {
    pub date: NaiveDate,
    pub fees_cents: i64,
    pub rewards_cents: i64,
    pub earnings_cents: i64,
}

/// Every day of a range, and today.
#[derive(Debug, Serialize)]
pub struct Earnings {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub days: Vec<EarningsDay>,
    pub today: EarningsDay,
}

impl Earnings {
    /// Every day from `from` to `to`, and `today`, each with the fees and rewards (cents) that
    /// `figures` knows of it: zero on a quiet day.
    pub fn of(
        from: NaiveDate,
        to: NaiveDate,
        today: NaiveDate,
        figures: impl Fn(NaiveDate) -> (i64, i64),
    ) -> Earnings {
        let day = |date: NaiveDate| {
            let (fees_cents, rewards_cents) = figures(date);
            EarningsDay {
                date,
                fees_cents,
                rewards_cents,
                earnings_cents: fees_cents - rewards_cents,
            }
        };
        Earnings {
            from,
            to,
            days: from.iter_days().take_while(|d| *d <= to).map(day).collect(),
            today: day(today),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_day_of_the_range_is_listed_and_a_quiet_one_is_zero() {
        let date = |s: &str| s.parse::<NaiveDate>().unwrap();
        let figures = |d: NaiveDate| {
            if d == date("2026-11-02") {
                (500, 200)
            } else {
                (0, 0)
            }
        };
        let earnings = Earnings::of(
            date("2026-11-01"),
            date("2026-11-03"),
            date("2026-11-02"),
            figures,
        );
        let days: Vec<(NaiveDate, i64)> = earnings
            .days
            .iter()
            .map(|d| (d.date, d.earnings_cents))
            .collect();
        assert_eq!(
            days,
            [
                (date("2026-11-01"), 0),
                (date("2026-11-02"), 300),
                (date("2026-11-03"), 0)
            ]
        );
        assert_eq!(earnings.today.earnings_cents, 300);
    }
}
