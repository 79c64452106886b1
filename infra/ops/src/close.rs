//! Re-running a day's close: the clock's own function, invoked as its schedule invokes it at the
//! end of that business day. It publishes `Clock.DayEnded` for the date with the same event id
//! every time (`Envelope::once_for`), so accounting starts the close if it never heard of the day
//! (the event was lost or parked) and otherwise records a duplicate: a close runs once. A close
//! that started but stalled continues from its pages: redrive the work queue's dead letters.

use crate::aws::{describe, Aws, Result};
use ates_kernel::calendar::Calendar;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde_json::json;

/// The clock's function, by its logical id in the stack.
const CLOCK: &str = "ClockEndDayFunction";

pub async fn rerun(aws: &Aws, date: NaiveDate, function: Option<&str>) -> Result<()> {
    let function = match function {
        Some(f) => f.to_string(),
        None => aws.physical_id(CLOCK).await?,
    };
    let calendar = calendar_of(aws, &function).await?;
    let ended_at = end_of(&calendar, date)?;
    let payload = json!({
        "scheduled_time": ended_at.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        "execution_id": format!("ates-ops-close-rerun-{date}"),
    });
    if aws.dry_run {
        println!("would invoke {function} with {payload}");
        return Ok(());
    }
    let answer = aws.invoke(&function, &payload).await?;
    let ended = answer["business_date"].as_str().unwrap_or_default();
    if ended != date.to_string() {
        return Err(format!(
            "{function} ended {ended:?}, not {date}: its calendar differs from the one read ({answer})"
        ));
    }
    println!(
        "Clock.DayEnded for {date} published (event {}); accounting starts its close unless it did before",
        answer["event_id"].as_str().unwrap_or("?")
    );
    Ok(())
}

/// The business calendar the clock runs with: its function's environment.
async fn calendar_of(aws: &Aws, function: &str) -> Result<Calendar> {
    let configuration = aws
        .lambda
        .get_function_configuration()
        .function_name(function)
        .send()
        .await
        .map_err(|e| describe(&format!("read the configuration of {function}"), e))?;
    let variables = configuration
        .environment()
        .and_then(|e| e.variables())
        .cloned()
        .unwrap_or_default();
    let variable = |name: &str, default: &str| {
        variables
            .get(name)
            .cloned()
            .unwrap_or_else(|| default.to_string())
    };
    Calendar::new(
        &variable("BUSINESS_TIME_ZONE", "UTC"),
        &variable("BUSINESS_DAY_END_HOUR", "0"),
    )
    .map_err(|e| format!("{function}'s calendar: {e}"))
}

/// When the business day `date` ends, by the calendar.
fn end_of(calendar: &Calendar, date: NaiveDate) -> Result<DateTime<Utc>> {
    let day = calendar.day(date).map_err(|e| format!("{date}: {e}"))?;
    Ok(day.end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ends(zone: &str, hour: &str, date: &str) -> String {
        let calendar = Calendar::new(zone, hour).unwrap();
        end_of(&calendar, date.parse().unwrap())
            .unwrap()
            .to_rfc3339_opts(SecondsFormat::AutoSi, true)
    }

    #[test]
    fn a_business_day_ends_where_the_calendar_ends_it() {
        assert_eq!(ends("UTC", "0", "2026-12-05"), "2026-12-06T00:00:00Z");
        assert_eq!(ends("UTC", "18", "2026-12-05"), "2026-12-05T18:00:00Z");
        assert_eq!(
            ends("America/New_York", "0", "2026-12-05"),
            "2026-12-06T05:00:00Z"
        );
        assert_eq!(
            ends("Pacific/Kiritimati", "18", "2026-12-05"),
            "2026-12-05T04:00:00Z"
        );
    }
}
