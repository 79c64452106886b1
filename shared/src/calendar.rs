//! The business calendar (plain Rust): in which time zone the business keeps its days, and at
//! which hour a day ends. Daylight saving time is the time zone's business, not ours.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};

use crate::zone::Zone;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CalendarError {
    #[error("unknown time zone {0:?} (an IANA name such as UTC or Europe/Moscow)")]
    UnknownZone(String),
    #[error("a business day ends on a whole hour from 0 to 23, not {0:?}")]
    BadHour(String),
    #[error("{0} is outside the calendar")]
    OutOfRange(String),
}

#[derive(Debug, Clone)]
pub struct Calendar {
    zone_name: String,
    zone: Zone,
    day_ends_at: NaiveTime,
}

/// One business day: everything from `started_at` (inclusive) to `ended_at` (exclusive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessDay {
    pub date: NaiveDate,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
}

impl Calendar {
    /// `zone` is an IANA name; the day ends at `end_hour`:00 there (0, the default, is midnight).
    pub fn new(zone: &str, end_hour: &str) -> Result<Self, CalendarError> {
        let tz = Zone::named(zone).ok_or_else(|| CalendarError::UnknownZone(zone.to_owned()))?;
        let day_ends_at = end_hour
            .trim()
            .parse::<u32>()
            .ok()
            .and_then(|h| NaiveTime::from_hms_opt(h, 0, 0))
            .ok_or_else(|| CalendarError::BadHour(end_hour.to_owned()))?;
        Ok(Self {
            zone_name: zone.to_owned(),
            zone: tz,
            day_ends_at,
        })
    }

    /// From `BUSINESS_TIME_ZONE` (default `UTC`) and `BUSINESS_DAY_END_HOUR` (default 0).
    pub fn from_env() -> Result<Self, CalendarError> {
        Self::new(
            &crate::config::optional("BUSINESS_TIME_ZONE", "UTC"),
            &crate::config::optional("BUSINESS_DAY_END_HOUR", "0"),
        )
    }

    pub fn zone_name(&self) -> &str {
        &self.zone_name
    }

    /// The latest business day that had ended by `at`. A trigger at the end of a day, a late
    /// or retried one, and a second one the same day all name the same day.
    pub fn day_ended_by(&self, at: DateTime<Utc>) -> Result<BusinessDay, CalendarError> {
        let out_of_range = || CalendarError::OutOfRange(at.to_rfc3339());
        let today = self.zone.local(at).ok_or_else(out_of_range)?.date();
        let mut end_day = today;
        let mut end = self.end_of(end_day).ok_or_else(out_of_range)?;
        if end > at {
            end_day = end_day.pred_opt().ok_or_else(out_of_range)?;
            end = self.end_of(end_day).ok_or_else(out_of_range)?;
        }
        let start = end_day
            .pred_opt()
            .and_then(|before| self.end_of(before))
            .ok_or_else(out_of_range)?;
        // The day is named by the date its last moment falls on: a day ending at midnight is
        // the day before, one ending at 18:00 is the same day.
        let last_moment = end
            .checked_sub_signed(Duration::nanoseconds(1))
            .and_then(|last| self.zone.local(last))
            .ok_or_else(out_of_range)?;
        Ok(BusinessDay {
            date: last_moment.date(),
            started_at: start,
            ended_at: end,
        })
    }

    /// The business day `at` belongs to: the day after the latest one that had ended by then.
    pub fn business_date(&self, at: DateTime<Utc>) -> Result<NaiveDate, CalendarError> {
        self.day_ended_by(at)?
            .date
            .succ_opt()
            .ok_or_else(|| CalendarError::OutOfRange(at.to_rfc3339()))
    }

    /// The business day named `date`: from its first moment (included) to its end (excluded),
    /// as events carry times (a listing's `from` and `to` as the instants it compares).
    pub fn day(&self, date: NaiveDate) -> Result<std::ops::Range<DateTime<Utc>>, CalendarError> {
        let out_of_range = || CalendarError::OutOfRange(date.to_string());
        // The day that ends on `date` is named `date` unless it ends at midnight: then it is
        // the day before's (`day_ended_by`), and `date`'s ends a day later.
        let mut day = self.day_ended_by(self.end_of(date).ok_or_else(out_of_range)?)?;
        if day.date != date {
            let next = date.succ_opt().ok_or_else(out_of_range)?;
            day = self.day_ended_by(self.end_of(next).ok_or_else(out_of_range)?)?;
        }
        Ok(day.started_at..day.ended_at)
    }

    /// When the business day that ends on `date` ends. An end that falls in a daylight saving
    /// gap moves forward past it, as clocks do.
    fn end_of(&self, date: NaiveDate) -> Option<DateTime<Utc>> {
        self.zone.to_utc(date.and_time(self.day_ends_at))
    }
}

/// A business day as requests name it: exactly `YYYY-MM-DD` (RFC 3339's full-date), a real
/// date. Stricter than chrono's `%Y-%m-%d`, which also takes `2026-1-5` or `+2026-01-05`.
pub fn parse_date(text: &str) -> Option<chrono::NaiveDate> {
    let shaped = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    shaped
        .then(|| chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
        .flatten()
}

/// The longest range of business days one request may ask for (SPEC: "up to 366 days").
pub const MAX_RANGE_DAYS: i64 = 366;

/// A range of business days a request asks for: `from` not after `to`, at most
/// [`MAX_RANGE_DAYS`] days; otherwise why not, in words for the caller.
pub fn check_range(from: chrono::NaiveDate, to: chrono::NaiveDate) -> Result<(), String> {
    if from > to {
        return Err("`from` is after `to`".into());
    }
    if (to - from).num_days() + 1 > MAX_RANGE_DAYS {
        return Err(format!("a range covers at most {MAX_RANGE_DAYS} days"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_named_day_runs_from_the_end_of_the_day_before_to_its_own_end() {
        let date = chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        let span = |zone: &str, hour: &str| {
            let day = Calendar::new(zone, hour).unwrap().day(date).unwrap();
            (day.start.to_rfc3339(), day.end.to_rfc3339())
        };
        let expect = |a: &str, b: &str| (a.to_owned(), b.to_owned());
        assert_eq!(
            span("UTC", "0"),
            expect("2026-11-20T00:00:00+00:00", "2026-11-21T00:00:00+00:00")
        );
        assert_eq!(
            span("Europe/Moscow", "18"),
            expect("2026-11-19T15:00:00+00:00", "2026-11-20T15:00:00+00:00")
        );
        // A day the clocks go forward is 23 hours long.
        let spring = chrono::NaiveDate::from_ymd_opt(2026, 3, 8).unwrap();
        let day = Calendar::new("America/New_York", "0")
            .unwrap()
            .day(spring)
            .unwrap();
        assert_eq!((day.end - day.start).num_hours(), 23);
    }

    #[test]
    fn a_requested_date_is_exactly_yyyy_mm_dd() {
        assert_eq!(
            parse_date("2026-11-20"),
            chrono::NaiveDate::from_ymd_opt(2026, 11, 20)
        );
        for bad in [
            "2026-1-20",
            "2026-11-2",
            "+2026-11-20",
            "02026-11-20",
            "2026-02-30",
            "2026/11/20",
            " 2026-11-20",
            "2026-11-20 ",
            "",
        ] {
            assert_eq!(parse_date(bad), None, "{bad:?}");
        }
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn day(zone: &str, hour: &str, when: &str) -> (String, String, String) {
        let d = Calendar::new(zone, hour)
            .unwrap()
            .day_ended_by(at(when))
            .unwrap();
        let rfc3339 = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
        (
            d.date.to_string(),
            rfc3339(d.started_at),
            rfc3339(d.ended_at),
        )
    }

    fn expect(date: &str, started: &str, ended: &str) -> (String, String, String) {
        (date.into(), started.into(), ended.into())
    }

    #[test]
    fn a_utc_day_ending_at_midnight_is_named_by_the_day_before() {
        let yesterday = expect("2026-11-20", "2026-11-20T00:00:00Z", "2026-11-21T00:00:00Z");
        assert_eq!(day("UTC", "0", "2026-11-21T00:00:00Z"), yesterday);
        // Late, retried, or fired twice: the same day.
        assert_eq!(day("UTC", "0", "2026-11-21T00:03:17Z"), yesterday);
        assert_eq!(day("UTC", "0", "2026-11-21T23:59:59Z"), yesterday);
        // A moment before midnight, that day has not ended yet.
        assert_eq!(
            day("UTC", "0", "2026-11-20T23:59:59Z"),
            expect("2026-11-19", "2026-11-19T00:00:00Z", "2026-11-20T00:00:00Z")
        );
    }

    #[test]
    fn a_moment_belongs_to_the_day_that_has_not_ended_yet() {
        let utc = Calendar::new("UTC", "0").unwrap();
        let date = |s: &str| utc.business_date(at(s)).unwrap().to_string();
        assert_eq!(date("2026-11-20T00:00:00Z"), "2026-11-20");
        assert_eq!(date("2026-11-20T23:59:59Z"), "2026-11-20");
        let moscow = Calendar::new("Europe/Moscow", "0").unwrap();
        let evening: chrono::DateTime<chrono::Utc> = "2026-11-20T21:30:00Z".parse().unwrap();
        assert_eq!(
            moscow.business_date(evening).unwrap().to_string(),
            "2026-11-21"
        );
        let six_pm = Calendar::new("UTC", "18").unwrap();
        assert_eq!(
            six_pm
                .business_date(at("2026-11-20T18:00:00Z"))
                .unwrap()
                .to_string(),
            "2026-11-21"
        );
        assert_eq!(
            six_pm
                .business_date(at("2026-11-20T17:59:59Z"))
                .unwrap()
                .to_string(),
            "2026-11-20"
        );
    }

    #[test]
    fn a_day_ending_in_the_afternoon_is_named_by_that_day() {
        assert_eq!(
            day("UTC", "18", "2026-11-21T18:00:00Z"),
            expect("2026-11-21", "2026-11-20T18:00:00Z", "2026-11-21T18:00:00Z")
        );
        assert_eq!(
            day("UTC", "18", "2026-11-21T17:59:59Z"),
            expect("2026-11-20", "2026-11-19T18:00:00Z", "2026-11-20T18:00:00Z")
        );
    }

    #[test]
    fn days_are_kept_in_the_business_time_zone() {
        // Midnight in Moscow is 21:00 UTC.
        assert_eq!(
            day("Europe/Moscow", "0", "2026-11-20T21:00:00Z"),
            expect("2026-11-20", "2026-11-19T21:00:00Z", "2026-11-20T21:00:00Z")
        );
        assert_eq!(
            day("Europe/Moscow", "0", "2026-11-20T20:59:59Z"),
            expect("2026-11-19", "2026-11-18T21:00:00Z", "2026-11-19T21:00:00Z")
        );
    }

    #[test]
    fn daylight_saving_days_are_23_and_25_hours_long() {
        // Berlin: clocks went forward on 2026-03-29, back on 2026-10-25.
        let spring = day("Europe/Berlin", "0", "2026-03-29T22:00:00Z");
        assert_eq!(
            spring,
            expect("2026-03-29", "2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z")
        );
        let autumn = day("Europe/Berlin", "0", "2026-10-25T23:00:00Z");
        assert_eq!(
            autumn,
            expect("2026-10-25", "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z")
        );
        // A day ending at 02:00 on the spring day ends at 03:00, when 02:00 never came.
        assert_eq!(
            day("Europe/Berlin", "2", "2026-03-29T01:00:00Z"),
            expect("2026-03-29", "2026-03-28T01:00:00Z", "2026-03-29T01:00:00Z")
        );
    }

    #[test]
    fn bad_configuration_is_refused() {
        assert_eq!(
            Calendar::new("Mars/Olympus", "0").unwrap_err(),
            CalendarError::UnknownZone("Mars/Olympus".into())
        );
        for hour in ["24", "-1", "noon", ""] {
            assert_eq!(
                Calendar::new("UTC", hour).unwrap_err(),
                CalendarError::BadHour(hour.into())
            );
        }
    }
}
