//! The business calendar. A daily schedule (template.yaml) invokes `clock-end-day` when a
//! business day ends; it announces the day that ended with a `Clock.DayEnded` event, which
//! accounting's daily close (SPEC B5) and any projection keyed by day consume from the bus. A
//! Sunday's end also ends the business week (`Clock.WeekEnded`: billing's invoices, reports'
//! random sample) and a month's last day's the month (`Clock.MonthEnded`: billing's statements).
//!
//! - [`calendar`]: which business day a moment ends (plain Rust, time zones and DST); it lives in
//!   the kernel, since accounting dates its postings by it, and is re-exported here.
//! - [`end_day`]: the function: the schedule's trigger in, one event on the bus out.
//!
//! The business keeps its days in one time zone (`BusinessTimeZone`, default UTC) and a day ends
//! at one hour there (`BusinessDayEndHour`, default 0); both are template parameters. The schedule
//! is an EventBridge Scheduler cron in that zone (`ScheduleV2` on `ClockEndDayFunction`), which
//! hands the function its scheduled time; the function names the day that had ended by then.
//!
//! The clock has no state, so there is no table and no outbox: the event is its only effect,
//! published directly, and a failed publish fails the invocation, which the schedule retries and
//! finally parks in its dead-letter queue (`ClockDeadLetters`, which also takes the triggers the
//! scheduler could not deliver). The event's id is derived from the business date
//! (`Envelope::once_for`), and a week's and a month's from their names, so a day ended twice (a retry, a second trigger) is the same event
//! twice, and consumers' inboxes keep the close to once.
pub use ates_kernel::calendar;

use ates_kernel::contracts::clock::{DayEnded, Month, MonthEnded, Week, WeekEnded};
use ates_kernel::event::{Cause, Envelope, EventError};
use ates_kernel::outbox::EventSink;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

pub use ates_kernel::calendar::{BusinessDay, Calendar, CalendarError};

/// The name the clock publishes under (`source` = `ates.clock`).
pub const PRODUCER: &str = "clock";

/// What the schedule sends (template.yaml fills these from the scheduler's context attributes).
/// Invoked by hand with `{}`, the clock ends the last day that has ended by now.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trigger {
    /// When the schedule was due to fire, e.g. `2026-11-21T00:00:00Z`.
    #[serde(default)]
    pub scheduled_time: Option<String>,
    /// The scheduler's id of this attempt; logged, so a run can be traced.
    #[serde(default)]
    pub execution_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ClockError {
    #[error("scheduled_time {0:?} is not an RFC 3339 time")]
    BadTime(String),
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    #[error(transparent)]
    Event(#[from] EventError),
    #[error("the event bus did not accept the end of {0}; the schedule will retry")]
    NotPublished(NaiveDate),
}

/// Announces the business day that had ended by the trigger's time, and the week and the
/// month it ended, if it was their last day. Answers the events, day first.
pub async fn end_day(
    calendar: &Calendar,
    bus: &impl EventSink,
    trigger: &Trigger,
    now: DateTime<Utc>,
) -> Result<Vec<Envelope>, ClockError> {
    let at = match &trigger.scheduled_time {
        Some(text) => DateTime::parse_from_rfc3339(text)
            .map(|t| t.to_utc())
            .map_err(|_| ClockError::BadTime(text.clone()))?,
        None => now,
    };
    let day = calendar.day_ended_by(at)?;
    let events = period_ends(calendar, &day)?;
    let accepted = bus.publish(&events).await;
    if accepted.len() != events.len() || accepted.contains(&false) {
        return Err(ClockError::NotPublished(day.date));
    }
    for envelope in &events {
        tracing::info!(
            event_id = %envelope.id,
            event = %envelope.name,
            business_date = %day.date,
            execution_id = trigger.execution_id.as_deref().unwrap_or("-"),
            correlation_id = %envelope.correlation_id,
            "business period ended"
        );
    }
    Ok(events)
}

/// The events that end `day`: its `Clock.DayEnded`; on a Sunday also the week's
/// `Clock.WeekEnded`; on a month's last day also the month's `Clock.MonthEnded`. The same day
/// always gives the same events, ids included.
pub fn period_ends(calendar: &Calendar, day: &BusinessDay) -> Result<Vec<Envelope>, ClockError> {
    let date = day.date;
    let ended_at = day.ended_at;
    let mut events = vec![day_ended(calendar, day)?];
    let zone = calendar.zone_name().to_owned();
    let week = Week::of(date);
    if week.sunday() == date {
        let event = WeekEnded {
            week,
            time_zone: zone.clone(),
            started_at: calendar.day(week.monday())?.start,
            ended_at,
        };
        let cause = Cause::request(format!("week-end-{week}"));
        let envelope = Envelope::wrap(PRODUCER, &event, &cause, ended_at)?;
        events.push(envelope.once_for(&week.to_string()));
    }
    let month = Month::of(date);
    if month.last_day() == date {
        let event = MonthEnded {
            month,
            time_zone: zone,
            started_at: calendar.day(month.first_day())?.start,
            ended_at,
        };
        let cause = Cause::request(format!("month-end-{month}"));
        let envelope = Envelope::wrap(PRODUCER, &event, &cause, ended_at)?;
        events.push(envelope.once_for(&month.to_string()));
    }
    Ok(events)
}

/// The event that ends `day`. The same day always gives the same event, id included.
pub fn day_ended(calendar: &Calendar, day: &BusinessDay) -> Result<Envelope, EventError> {
    let event = DayEnded {
        business_date: day.date,
        time_zone: calendar.zone_name().to_owned(),
        started_at: day.started_at,
        ended_at: day.ended_at,
    };
    let cause = Cause::request(format!("day-end-{}", day.date));
    let envelope = Envelope::wrap(PRODUCER, &event, &cause, event.ended_at)?;
    Ok(envelope.once_for(&day.date.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A bus that records what it is given, and can refuse.
    #[derive(Default)]
    struct Bus {
        published: Mutex<Vec<Envelope>>,
        refuse: bool,
    }

    impl EventSink for Bus {
        async fn publish(&self, batch: &[Envelope]) -> Vec<bool> {
            if self.refuse {
                return vec![false; batch.len()];
            }
            self.published.lock().unwrap().extend_from_slice(batch);
            vec![true; batch.len()]
        }
    }

    fn trigger(at: &str) -> Trigger {
        Trigger {
            scheduled_time: Some(at.to_owned()),
            execution_id: Some("d32c5kddcf5bb8c3".into()),
        }
    }

    fn only(ends: Result<Vec<Envelope>, ClockError>) -> Envelope {
        let ends = ends.unwrap();
        assert_eq!(ends.len(), 1, "{:?}", names(&ends));
        ends.into_iter().next().unwrap()
    }

    fn names(events: &[Envelope]) -> Vec<&str> {
        events.iter().map(|e| e.name.as_str()).collect()
    }

    fn now() -> DateTime<Utc> {
        "2030-01-01T12:00:00Z".parse().unwrap()
    }

    #[tokio::test]
    async fn the_day_that_ended_is_announced_once_under_an_id_of_its_own() {
        let calendar = Calendar::new("Europe/Moscow", "0").unwrap();
        let bus = Bus::default();
        let first = only(end_day(&calendar, &bus, &trigger("2026-11-20T21:00:00Z"), now()).await);
        assert_eq!(first.name, "Clock.DayEnded");
        assert_eq!(first.producer, "clock");
        assert_eq!(first.correlation_id, "day-end-2026-11-20");
        let data: DayEnded = first.decode().unwrap();
        assert_eq!(data.business_date.to_string(), "2026-11-20");
        assert_eq!(data.time_zone, "Europe/Moscow");
        assert_eq!(data.started_at.to_rfc3339(), "2026-11-19T21:00:00+00:00");
        assert_eq!(data.ended_at.to_rfc3339(), "2026-11-20T21:00:00+00:00");
        assert_eq!(first.occurred_at, data.ended_at);

        // A retry a few minutes late is the same event, byte for byte.
        let again = only(end_day(&calendar, &bus, &trigger("2026-11-20T21:04:00Z"), now()).await);
        assert_eq!(again, first);
        // The next day is another event.
        let next = only(end_day(&calendar, &bus, &trigger("2026-11-21T21:00:00Z"), now()).await);
        assert_ne!(next.id, first.id);
        assert_eq!(bus.published.lock().unwrap().len(), 3);
    }

    #[tokio::test]
    async fn invoked_by_hand_it_ends_the_last_day_that_ended_by_now() {
        let calendar = Calendar::new("UTC", "0").unwrap();
        let bus = Bus::default();
        let ends = end_day(&calendar, &bus, &Trigger::default(), now())
            .await
            .unwrap();
        // 2029-12-31 is a Monday and the last day of the year's last month.
        assert_eq!(names(&ends), ["Clock.DayEnded", "Clock.MonthEnded"]);
        assert_eq!(
            ends[0]
                .decode::<DayEnded>()
                .unwrap()
                .business_date
                .to_string(),
            "2029-12-31"
        );
        let month: MonthEnded = ends[1].decode().unwrap();
        assert_eq!(month.month.to_string(), "2029-12");
        assert_eq!(month.started_at.to_rfc3339(), "2029-12-01T00:00:00+00:00");
        assert_eq!(month.ended_at.to_rfc3339(), "2030-01-01T00:00:00+00:00");
    }

    #[tokio::test]
    async fn a_refused_publish_or_a_bad_time_fails_the_invocation() {
        let calendar = Calendar::new("UTC", "0").unwrap();
        let refusing = Bus {
            refuse: true,
            ..Bus::default()
        };
        let err = end_day(
            &calendar,
            &refusing,
            &trigger("2026-11-21T00:00:00Z"),
            now(),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, ClockError::NotPublished(_)), "{err}");

        let bus = Bus::default();
        let err = end_day(&calendar, &bus, &trigger("yesterday"), now())
            .await
            .unwrap_err();
        assert!(matches!(err, ClockError::BadTime(_)), "{err}");
        assert!(bus.published.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_sunday_ends_its_week_and_the_last_day_its_month_each_once() {
        // Moscow is UTC+3: the business day of Sunday 2026-05-31 ends at 21:00 UTC.
        let calendar = Calendar::new("Europe/Moscow", "0").unwrap();
        let bus = Bus::default();
        let ends = end_day(&calendar, &bus, &trigger("2026-05-31T21:00:00Z"), now())
            .await
            .unwrap();
        assert_eq!(
            names(&ends),
            ["Clock.DayEnded", "Clock.WeekEnded", "Clock.MonthEnded"]
        );
        let week: WeekEnded = ends[1].decode().unwrap();
        assert_eq!(week.week.to_string(), "2026-W22");
        assert_eq!(week.time_zone, "Europe/Moscow");
        assert_eq!(week.started_at.to_rfc3339(), "2026-05-24T21:00:00+00:00");
        assert_eq!(week.ended_at.to_rfc3339(), "2026-05-31T21:00:00+00:00");
        let month: MonthEnded = ends[2].decode().unwrap();
        assert_eq!(month.month.to_string(), "2026-05");
        assert_eq!(month.started_at.to_rfc3339(), "2026-04-30T21:00:00+00:00");
        assert_eq!(ends[1].correlation_id, "week-end-2026-W22");

        // Ended again (a retry): the same three events, ids included.
        let again = end_day(&calendar, &bus, &trigger("2026-05-31T21:30:00Z"), now())
            .await
            .unwrap();
        assert_eq!(again, ends);
        // A Saturday ends only its day.
        let saturday = end_day(&calendar, &bus, &trigger("2026-05-30T21:00:00Z"), now())
            .await
            .unwrap();
        assert_eq!(names(&saturday), ["Clock.DayEnded"]);
        let ids: std::collections::HashSet<_> = ends.iter().map(|e| e.id).collect();
        assert_eq!(ids.len(), 3);
    }

    #[test]
    fn the_trigger_is_read_strictly() {
        let t: Trigger = serde_json::from_value(serde_json::json!({
            "scheduled_time": "2026-11-21T00:00:00Z", "execution_id": "x"
        }))
        .unwrap();
        assert_eq!(t.scheduled_time.as_deref(), Some("2026-11-21T00:00:00Z"));
        assert!(serde_json::from_value::<Trigger>(serde_json::json!({"when": "now"})).is_err());
    }
}
