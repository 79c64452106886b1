//! The business calendar's events. The daily schedule ends each business day with a
//! `Clock.DayEnded`, a Sunday's also with `Clock.WeekEnded` and a month's last day's also with
//! `Clock.MonthEnded` (SPEC M7: weekly invoices, monthly statements); accounting closes the day on it (SPEC B5), and because it is an event, the
//! day boundaries are part of the history every projection can replay (SPEC N4).

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, Utc, Weekday};
use serde::{Deserialize, Serialize};

use crate::event::{DomainEvent, Envelope, EventError};

/// A business day ended: every effect between `started_at` (inclusive) and `ended_at`
/// (exclusive) belongs to `business_date`. Announced once per day, under an id derived from the
/// date, so a day that is ended twice arrives as the same event twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayEnded {
    pub business_date: NaiveDate,
    /// The IANA time zone the business day is kept in, such as `UTC` or `Europe/Moscow`.
    pub time_zone: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
}

impl DomainEvent for DayEnded {
    const NAME: &'static str = "Clock.DayEnded";
    const VERSION: u32 = 1;
}

/// Reads a `Clock.DayEnded` of any live version.
pub fn decode_day_ended(envelope: &Envelope) -> Result<DayEnded, EventError> {
    envelope.decode()
}

/// A business week: Monday to Sunday (ISO 8601), written `2026-W49`. Weeks are named by the
/// year their Thursday falls in, as ISO does, so the week of 2026-12-28 is `2026-W53`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Week {
    monday: NaiveDate,
}

impl Week {
    /// The week `date` falls in.
    pub fn of(date: NaiveDate) -> Week {
        let back = date.weekday().num_days_from_monday();
        Week {
            monday: date - Days::new(back.into()),
        }
    }

    pub fn monday(self) -> NaiveDate {
        self.monday
    }

    pub fn sunday(self) -> NaiveDate {
        self.monday + Days::new(6)
    }

    pub fn next(self) -> Week {
        Week {
            monday: self.monday + Days::new(7),
        }
    }

    pub fn parse(text: &str) -> Option<Week> {
        let (year, week) = text.split_once("-W")?;
        if week.len() != 2 {
            return None;
        }
        let monday =
            NaiveDate::from_isoywd_opt(year.parse().ok()?, week.parse().ok()?, Weekday::Mon)?;
        Some(Week { monday })
    }
}

impl std::fmt::Display for Week {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let iso = self.monday.iso_week();
        write!(f, "{}-W{:02}", iso.year(), iso.week())
    }
}

/// A business month, written `2026-12`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    first: NaiveDate,
}

impl Month {
    /// The month `date` falls in.
    pub fn of(date: NaiveDate) -> Month {
        Month {
            first: date.with_day(1).expect("every month has a first day"),
        }
    }

    pub fn first_day(self) -> NaiveDate {
        self.first
    }

    pub fn last_day(self) -> NaiveDate {
        self.next().first - Days::new(1)
    }

    pub fn next(self) -> Month {
        Month {
            first: self.first + Months::new(1),
        }
    }

    pub fn parse(text: &str) -> Option<Month> {
        let (year, month) = text.split_once('-')?;
        if year.len() != 4 || month.len() != 2 {
            return None;
        }
        let first = NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, 1)?;
        Some(Month { first })
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.first.format("%Y-%m"))
    }
}

/// Weeks and months travel as their names (`2026-W49`, `2026-12`).
macro_rules! period_as_text {
    ($t:ty, $what:literal) => {
        impl Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                <$t>::parse(&text)
                    .ok_or_else(|| serde::de::Error::custom(format!("{text:?} is not {}", $what)))
            }
        }
    };
}
period_as_text!(Week, "a week such as 2026-W49");
period_as_text!(Month, "a month such as 2026-12");

/// A business week ended with the end of its Sunday's business day (SPEC M7: invoices are
/// issued on it). Announced once per week, under an id derived from the week.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeekEnded {
    pub week: Week,
    pub time_zone: String,
    /// The start of the week's Monday and the end of its Sunday (business days).
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
}

impl DomainEvent for WeekEnded {
    const NAME: &'static str = "Clock.WeekEnded";
    const VERSION: u32 = 1;
}

pub fn decode_week_ended(envelope: &Envelope) -> Result<WeekEnded, EventError> {
    super::only_v1(envelope)
}

/// A business month ended with the end of its last day's business day (SPEC M7: monthly
/// statements and salaries). Announced once per month, under an id derived from the month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthEnded {
    pub month: Month,
    pub time_zone: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
}

impl DomainEvent for MonthEnded {
    const NAME: &'static str = "Clock.MonthEnded";
    const VERSION: u32 = 1;
}

pub fn decode_month_ended(envelope: &Envelope) -> Result<MonthEnded, EventError> {
    super::only_v1(envelope)
}

#[cfg(test)]
mod periods {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_week_runs_monday_to_sunday_and_is_named_as_iso_names_it() {
        let week = Week::of(date("2026-12-06")); // a Sunday
        assert_eq!(week.monday(), date("2026-11-30"));
        assert_eq!(week.sunday(), date("2026-12-06"));
        assert_eq!(week.to_string(), "2026-W49");
        assert_eq!(Week::of(date("2026-11-30")), week);
        assert_eq!(week.next().to_string(), "2026-W50");
        assert_eq!(Week::of(date("2027-01-01")).to_string(), "2026-W53");
        assert_eq!(Week::parse("2026-W53"), Some(Week::of(date("2026-12-28"))));
        assert_eq!(Week::parse("2026-W49"), Some(week));
        assert_eq!(Week::parse("2026-W54"), None);
        assert_eq!(Week::parse("2026-49"), None);
    }

    #[test]
    fn a_month_knows_its_last_day() {
        let month = Month::of(date("2028-02-10"));
        assert_eq!(month.to_string(), "2028-02");
        assert_eq!(month.last_day(), date("2028-02-29"));
        assert_eq!(Month::of(date("2026-12-31")).next().to_string(), "2027-01");
        assert_eq!(Month::parse("2026-12"), Some(Month::of(date("2026-12-01"))));
        assert_eq!(Month::parse("2026-13"), None);
        assert_eq!(
            serde_json::to_value(month).unwrap(),
            serde_json::json!("2028-02")
        );
        assert!(serde_json::from_value::<Month>(serde_json::json!("Feb")).is_err());
    }
}
