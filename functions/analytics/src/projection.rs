//! Analytics' projections (plain Rust): what the events say about the company's earnings, who
//! is in debt, and which completed task paid best; and which generation of the projections an
//! event goes to while a rebuild runs (SPEC N2–N4).
//!
//! Analytics reads nothing but events. `Ledger.TransactionPosted` moves the company's day (by
//! business date, in 32 shards like accounting's) and the employee's balance, kept only if its
//! ledger `sequence` is higher than the one known, which moves a sharded count of employees in
//! debt when the sign changes ([`KnownBalance::debt_change`]); a reward also makes the task a
//! candidate for the best of its day and of its month, written only when it beats what is there
//! ([`Completion::beats`]: the higher reward, then the earlier completion, then the lower task
//! id). `Task.Created` gives the titles. Each event is applied once per generation (the inbox
//! name carries it: `analytics.record-movement@g1`). A range's most expensive task is one
//! BatchGetItem of at most 12 month maxima and 62 day maxima ([`cover`]), whatever the number of
//! tasks.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The company's figures are spread over this many keys per day, as accounting's are.
pub const SHARDS: u32 = 32;

/// The projections answering now, and the one a rebuild is filling, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Generations {
    /// The generation the routes answer from.
    pub current: u32,
    /// The generation a rebuild is filling.
    #[serde(default)]
    pub building: Option<u32>,
    /// The highest generation ever started: a rebuild never refills a failed one's items.
    #[serde(default)]
    pub newest: u32,
    /// The rebuild filling `building`.
    #[serde(default)]
    pub rebuild_id: Option<Uuid>,
}

impl Default for Generations {
    fn default() -> Self {
        Generations {
            current: 1,
            building: None,
            newest: 1,
            rebuild_id: None,
        }
    }
}

impl Generations {
    /// Where an event goes: a live one to the answering generation and the one being built; a
    /// replayed one only to the one being built (the answering one has it already).
    pub fn targets(&self, replayed: bool) -> Vec<u32> {
        match (replayed, self.building) {
            (true, building) => building.into_iter().collect(),
            (false, building) => std::iter::once(self.current).chain(building).collect(),
        }
    }
}

/// The shard of a movement: a stable hash of its key (FNV-1a).
pub fn shard(key: &str) -> u32 {
    let hash = key.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    hash % SHARDS
}

/// A day of top management's earnings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayFigures {
    pub fees_cents: i64,
    pub rewards_cents: i64,
}

impl DayFigures {
    pub fn earnings_cents(&self) -> i64 {
        self.fees_cents - self.rewards_cents
    }

    pub fn add(&mut self, other: DayFigures) {
        self.fees_cents += other.fees_cents;
        self.rewards_cents += other.rewards_cents;
    }
}

/// The latest balance known of an employee, by their ledger sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownBalance {
    pub account_id: Uuid,
    pub balance_cents: i64,
    pub sequence: u64,
}

impl KnownBalance {
    /// How the count of employees in debt changes when `self` replaces `before`.
    pub fn debt_change(&self, before: Option<&KnownBalance>) -> i64 {
        let in_debt = |b: Option<&KnownBalance>| i64::from(b.is_some_and(|b| b.balance_cents < 0));
        in_debt(Some(self)) - in_debt(before)
    }
}

/// A completed task's reward: a candidate for the most expensive task of its day and month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Completion {
    pub task_id: Uuid,
    pub reward_cents: i64,
    pub completed_at: DateTime<Utc>,
    pub business_date: NaiveDate,
}

impl Completion {
    /// N3's order: the higher reward; on a tie, the earlier completion; then the lower task id.
    /// A total order, so the answer does not depend on the order events arrive in.
    pub fn beats(&self, other: &Completion) -> bool {
        (
            std::cmp::Reverse(self.reward_cents),
            self.completed_at,
            self.task_id,
        ) < (
            std::cmp::Reverse(other.reward_cents),
            other.completed_at,
            other.task_id,
        )
    }

    /// The month key it counts in, e.g. `2026-03`.
    pub fn month(&self) -> String {
        month_key(self.business_date)
    }
}

pub fn month_key(date: NaiveDate) -> String {
    format!("{:04}-{:02}", date.year(), date.month())
}

/// The best of some completions.
pub fn best<'a>(candidates: impl IntoIterator<Item = &'a Completion>) -> Option<&'a Completion> {
    candidates
        .into_iter()
        .fold(None, |best: Option<&Completion>, c| match best {
            Some(b) if !c.beats(b) => Some(b),
            _ => Some(c),
        })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Day,
    Week,
    Month,
}

impl Period {
    pub fn parse(s: &str) -> Option<Period> {
        match s {
            "day" => Some(Period::Day),
            "week" => Some(Period::Week),
            "month" => Some(Period::Month),
            _ => None,
        }
    }

    /// The days of the period that holds `date`: the day, its week (Monday to Sunday), or its
    /// calendar month.
    pub fn around(self, date: NaiveDate) -> (NaiveDate, NaiveDate) {
        match self {
            Period::Day => (date, date),
            Period::Week => {
                let monday =
                    date - Duration::days(i64::from(date.weekday().num_days_from_monday()));
                (monday, monday + Duration::days(6))
            }
            Period::Month => {
                let first = date.with_day(1).expect("every month has a first");
                let next = first
                    .checked_add_months(chrono::Months::new(1))
                    .expect("within the calendar");
                (first, next.pred_opt().expect("within the calendar"))
            }
        }
    }
}

/// What to read for a range: whole months as month maxima, the rest day by day. A range of 366
/// days is at most 12 months and 62 days.
pub fn cover(from: NaiveDate, to: NaiveDate) -> (Vec<NaiveDate>, Vec<String>) {
    let (mut days, mut months) = (Vec::new(), Vec::new());
    let mut date = from;
    while date <= to {
        let (first, last) = Period::Month.around(date);
        if date == first && last <= to {
            months.push(month_key(date));
            date = last.succ_opt().expect("within the calendar");
        } else {
            days.push(date);
            date = date.succ_opt().expect("within the calendar");
        }
    }
    (days, months)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn completion(reward: i64, at: &str) -> Completion {
        Completion {
            task_id: Uuid::new_v4(),
            reward_cents: reward,
            completed_at: at.parse().unwrap(),
            business_date: d(&at[..10]),
        }
    }

    #[test]
    fn the_spec_example_03_03_28_02_03_38_and_01_to_03_03_38() {
        let all = [
            completion(2000, "2026-03-01T10:00:00Z"),
            completion(3800, "2026-03-02T10:00:00Z"),
            completion(2500, "2026-03-02T11:00:00Z"),
            completion(2800, "2026-03-03T10:00:00Z"),
        ];
        let in_range = |from: &str, to: &str| {
            best(
                all.iter()
                    .filter(|c| c.business_date >= d(from) && c.business_date <= d(to)),
            )
            .map(|c| c.reward_cents)
        };
        assert_eq!(in_range("2026-03-03", "2026-03-03"), Some(2800));
        assert_eq!(in_range("2026-03-02", "2026-03-02"), Some(3800));
        assert_eq!(in_range("2026-03-01", "2026-03-03"), Some(3800));
        assert_eq!(in_range("2026-03-04", "2026-03-04"), None);
    }

    #[test]
    fn a_tie_goes_to_the_earlier_completion_whatever_the_order() {
        let early = completion(3000, "2026-03-02T09:00:00Z");
        let late = completion(3000, "2026-03-02T17:00:00Z");
        assert!(early.beats(&late) && !late.beats(&early));
        assert_eq!(best([&late, &early]), Some(&early));
        assert_eq!(best([&early, &late]), Some(&early));
    }

    #[test]
    fn periods_are_the_day_its_monday_to_sunday_week_and_its_month() {
        let date = d("2026-03-04"); // a Wednesday
        assert_eq!(
            Period::Week.around(date),
            (d("2026-03-02"), d("2026-03-08"))
        );
        assert_eq!(
            Period::Month.around(date),
            (d("2026-03-01"), d("2026-03-31"))
        );
        assert_eq!(Period::Month.around(d("2028-02-10")).1, d("2028-02-29"));
    }

    #[test]
    fn a_year_is_read_as_whole_months_and_the_days_around_them() {
        let (days, months) = cover(d("2025-01-15"), d("2026-01-15"));
        assert_eq!(months.len(), 11, "{months:?}");
        assert_eq!(days.len(), 17 + 15);
        let (days, months) = cover(d("2026-03-01"), d("2026-03-31"));
        assert_eq!((days.len(), months), (0, vec!["2026-03".to_owned()]));
        assert!(
            cover(d("2025-01-01"), d("2026-01-01")).0.len()
                + cover(d("2025-01-01"), d("2026-01-01")).1.len()
                <= 74
        );
    }

    #[test]
    fn a_replayed_event_goes_only_to_the_generation_being_built() {
        let g = Generations {
            current: 1,
            building: Some(2),
            newest: 2,
            rebuild_id: Some(Uuid::nil()),
        };
        assert_eq!(g.targets(false), [1, 2]);
        assert_eq!(g.targets(true), [2]);
        assert_eq!(Generations::default().targets(false), [1]);
        assert!(Generations::default().targets(true).is_empty());
    }

    #[test]
    fn the_debt_count_moves_only_when_a_balance_changes_sign() {
        let b = |cents| KnownBalance {
            account_id: Uuid::nil(),
            balance_cents: cents,
            sequence: 1,
        };
        assert_eq!(b(-5).debt_change(None), 1);
        assert_eq!(b(-5).debt_change(Some(&b(-7))), 0);
        assert_eq!(b(0).debt_change(Some(&b(-7))), -1);
        assert_eq!(b(10).debt_change(Some(&b(3))), 0);
    }
}
