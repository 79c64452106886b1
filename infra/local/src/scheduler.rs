//! Fires Schedule/ScheduleV2 events at their next cron(...) or rate(...) time; the emulator never does.

use crate::functions::ScheduleSource;
use crate::ledger::Outcome;
use crate::resolve::{ACCOUNT_ID, REGION};
use crate::stack::Stack;
use chrono::{
    DateTime, Datelike, Duration as ChronoDuration, FixedOffset, NaiveDate, TimeZone, Timelike, Utc,
};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

#[derive(Debug, Clone, PartialEq)]
pub enum Expression {
    Rate(Duration),
    Cron(Cron),
    /// `at(2026-01-01T00:00:00)`: once.
    At(chrono::NaiveDateTime),
}

/// AWS cron: minutes hours day-of-month month day-of-week year. Day-of-week is 1-7 from Sunday.
#[derive(Debug, Clone, PartialEq)]
pub struct Cron {
    minutes: BTreeSet<u32>,
    hours: BTreeSet<u32>,
    days_of_month: Option<BTreeSet<u32>>,
    months: BTreeSet<u32>,
    days_of_week: Option<BTreeSet<u32>>,
    years: Option<BTreeSet<u32>>,
}

impl Expression {
    pub fn parse(text: &str) -> Result<Expression, String> {
        let text = text.trim();
        let inner = |prefix: &str| text.strip_prefix(prefix).and_then(|t| t.strip_suffix(')'));
        if let Some(rate) = inner("rate(") {
            return parse_rate(rate).map(Expression::Rate);
        }
        if let Some(cron) = inner("cron(") {
            return parse_cron(cron).map(Expression::Cron);
        }
        if let Some(at) = inner("at(") {
            return chrono::NaiveDateTime::parse_from_str(at, "%Y-%m-%dT%H:%M:%S")
                .map(Expression::At)
                .map_err(|e| format!("bad at({at}): {e}"));
        }
        Err(format!("unsupported schedule expression {text}"))
    }

    /// The first firing strictly after `after`; `offset` is the schedule's time zone.
    /// A rate fires every period from `started`, as a newly created schedule does.
    pub fn next_after(
        &self,
        after: DateTime<Utc>,
        started: DateTime<Utc>,
        offset: FixedOffset,
    ) -> Option<DateTime<Utc>> {
        match self {
            Expression::Rate(period) => {
                let period = ChronoDuration::from_std(*period).ok()?;
                let elapsed = after.signed_duration_since(started);
                let periods = elapsed
                    .num_milliseconds()
                    .div_euclid(period.num_milliseconds().max(1))
                    + 1;
                Some(started + period * periods.max(1) as i32)
            }
            Expression::At(when) => {
                let at = offset
                    .from_local_datetime(when)
                    .single()?
                    .with_timezone(&Utc);
                (at > after).then_some(at)
            }
            Expression::Cron(cron) => cron
                .next_after(after.with_timezone(&offset))
                .map(|t| t.with_timezone(&Utc)),
        }
    }
}

impl Cron {
    fn next_after(&self, after: DateTime<FixedOffset>) -> Option<DateTime<FixedOffset>> {
        let offset = *after.offset();
        let first = after.with_second(0)?.with_nanosecond(0)? + ChronoDuration::minutes(1);
        let mut day = first.date_naive();
        // Five years is long enough for any expression that can fire at all.
        for _ in 0..(366 * 5) {
            if self.day_matches(day) {
                let same_day = day == first.date_naive();
                for &hour in &self.hours {
                    if same_day && hour < first.hour() {
                        continue;
                    }
                    for &minute in &self.minutes {
                        if same_day && hour == first.hour() && minute < first.minute() {
                            continue;
                        }
                        let local = day.and_hms_opt(hour, minute, 0)?;
                        if let Some(t) = offset.from_local_datetime(&local).single() {
                            return Some(t);
                        }
                    }
                }
            }
            day = day.succ_opt()?;
        }
        None
    }

    fn day_matches(&self, day: NaiveDate) -> bool {
        let dow = day.weekday().number_from_sunday();
        self.months.contains(&day.month())
            && self
                .days_of_month
                .as_ref()
                .is_none_or(|d| d.contains(&day.day()))
            && self.days_of_week.as_ref().is_none_or(|d| d.contains(&dow))
            && self
                .years
                .as_ref()
                .is_none_or(|y| u32::try_from(day.year()).is_ok_and(|year| y.contains(&year)))
    }
}

fn parse_rate(text: &str) -> Result<Duration, String> {
    let (count, unit) = text
        .trim()
        .split_once(' ')
        .ok_or_else(|| format!("bad rate({text})"))?;
    let count: u64 = count
        .trim()
        .parse()
        .map_err(|_| format!("bad rate({text})"))?;
    let unit_secs = match unit.trim() {
        "minute" | "minutes" => 60,
        "hour" | "hours" => 3600,
        "day" | "days" => 86_400,
        other => return Err(format!("bad rate unit {other}")),
    };
    if count == 0 {
        return Err("rate must be positive".into());
    }
    Ok(Duration::from_secs(count * unit_secs))
}

fn parse_cron(text: &str) -> Result<Cron, String> {
    let fields: Vec<&str> = text.split_whitespace().collect();
    let [minutes, hours, dom, month, dow, year] = fields.as_slice() else {
        return Err(format!("cron({text}) needs six fields"));
    };
    const MONTHS: [&str; 12] = [
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ];
    const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
    let optional =
        |field: &str, min, max, names: &[&str]| -> Result<Option<BTreeSet<u32>>, String> {
            if field == "*" || field == "?" {
                Ok(None)
            } else {
                parse_field(field, min, max, names).map(Some)
            }
        };
    Ok(Cron {
        minutes: parse_field(minutes, 0, 59, &[])?,
        hours: parse_field(hours, 0, 23, &[])?,
        days_of_month: optional(dom, 1, 31, &[])?,
        months: parse_field(month, 1, 12, &MONTHS)?,
        days_of_week: optional(dow, 1, 7, &DAYS)?,
        years: optional(year, 1970, 2199, &[])?,
    })
}

/// One cron field: `*`, `n`, `a-b`, `a,b`, `*/n`, `a/n`, `a-b/n`, names for months and days.
fn parse_field(field: &str, min: u32, max: u32, names: &[&str]) -> Result<BTreeSet<u32>, String> {
    let value = |text: &str| -> Result<u32, String> {
        let upper = text.to_ascii_uppercase();
        if let Some(i) = names.iter().position(|n| *n == upper) {
            return Ok(min + i as u32);
        }
        let n: u32 = text
            .parse()
            .map_err(|_| format!("cron value {text} is not supported locally"))?;
        if n < min || n > max {
            return Err(format!("cron value {n} is outside {min}-{max}"));
        }
        Ok(n)
    };
    let mut set = BTreeSet::new();
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (
                r,
                s.parse::<u32>().map_err(|_| format!("bad cron step {s}"))?,
            ),
            None => (part, 1),
        };
        if step == 0 {
            return Err("cron step must be positive".into());
        }
        let (start, end) = match range {
            "*" | "?" => (min, max),
            r => match r.split_once('-') {
                Some((a, b)) => (value(a)?, value(b)?),
                None if part.contains('/') => (value(r)?, max),
                None => (value(r)?, value(r)?),
            },
        };
        set.extend((start..=end).step_by(step as usize));
    }
    if set.is_empty() {
        return Err(format!("cron field {field} matches nothing"));
    }
    Ok(set)
}

/// The UTC offset of a schedule's time zone right now. Fixed offsets and UTC are understood
/// directly; IANA names are asked of the system's zoneinfo through `date`.
pub fn zone_offset(timezone: Option<&str>) -> FixedOffset {
    let utc = FixedOffset::east_opt(0).expect("zero offset");
    let Some(zone) = timezone.map(str::trim).filter(|z| !z.is_empty()) else {
        return utc;
    };
    if matches!(zone, "UTC" | "Etc/UTC" | "GMT" | "Z") {
        return utc;
    }
    if let Some(offset) = parse_offset(zone) {
        return offset;
    }
    let known = std::path::Path::new("/usr/share/zoneinfo")
        .join(zone)
        .is_file();
    let asked = known
        .then(|| {
            std::process::Command::new("date")
                .env("TZ", zone)
                .arg("+%z")
                .output()
                .ok()
        })
        .flatten()
        .and_then(|out| parse_offset(String::from_utf8_lossy(&out.stdout).trim()));
    asked.unwrap_or_else(|| {
        tracing::warn!("time zone {zone} is unknown here; using UTC");
        utc
    })
}

/// `+0300`, `+03:00`, `-05:30`.
fn parse_offset(text: &str) -> Option<FixedOffset> {
    let sign = match text.chars().next()? {
        '+' => 1,
        '-' => -1,
        _ => return None,
    };
    let digits: String = text[1..].chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = digits[2..].parse().ok()?;
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

/// What the target receives: the schedule's Input, or EventBridge's scheduled event.
pub fn payload(function: &str, schedule: &ScheduleSource, now: DateTime<Utc>) -> Value {
    if let Some(input) = &schedule.input {
        return serde_json::from_str(input).unwrap_or_else(|_| Value::String(input.clone()));
    }
    json!({
        "version": "0",
        "id": uuid::Uuid::new_v4().to_string(),
        "detail-type": "Scheduled Event",
        "source": if schedule.kind == "ScheduleV2" { "aws.scheduler" } else { "aws.events" },
        "account": ACCOUNT_ID,
        "time": now.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "region": REGION,
        "resources": [format!("arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{function}-{}", schedule.event_name)],
        "detail": {},
    })
}

/// Starts a timer per enabled schedule; expressions that cannot run locally are reported and skipped.
pub fn start(stack: &Arc<Stack>) -> Vec<JoinHandle<()>> {
    let mut tasks = Vec::new();
    for spec in stack.lambda.specs() {
        for schedule in spec.schedules.iter().filter(|s| s.enabled) {
            match Expression::parse(&schedule.expression) {
                Ok(expression) => tasks.push(tokio::spawn(run(
                    stack.clone(),
                    spec.logical_id.clone(),
                    schedule.clone(),
                    expression,
                ))),
                Err(e) => tracing::warn!(
                    "{} {}: {e}; not scheduled",
                    spec.logical_id,
                    schedule.event_name
                ),
            }
        }
    }
    tasks
}

async fn run(
    stack: Arc<Stack>,
    function: String,
    schedule: ScheduleSource,
    expression: Expression,
) {
    let started = Utc::now();
    let mut after = started;
    loop {
        let offset = zone_offset(schedule.timezone.as_deref());
        let Some(next) = expression.next_after(after, started, offset) else {
            return;
        };
        tracing::info!("{function} {} fires next at {next}", schedule.event_name);
        let wait = (next - Utc::now()).to_std().unwrap_or_default();
        if !stack.pause(wait).await {
            return;
        }
        let payload = payload(&function, &schedule, Utc::now());
        let id = payload["id"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| next.to_rfc3339());
        let outcome = stack.lambda.invoke(&function, &payload).await;
        if let Err(e) = &outcome {
            tracing::warn!("{function} {} failed: {e}", schedule.event_name);
        }
        let error = outcome.as_ref().err().map(|e| e.error_message.clone());
        let recorded = match &error {
            None => Outcome::Ok,
            Some(e) => Outcome::Failed(Some(e)),
        };
        stack
            .ledger
            .record(&function, &schedule.event_name, &id, &id, recorded);
        after = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn next(expr: &str, after: &str) -> DateTime<Utc> {
        let e = Expression::parse(expr).unwrap();
        e.next_after(utc(after), utc(after), FixedOffset::east_opt(0).unwrap())
            .unwrap()
    }

    #[test]
    fn cron_minute_and_hour() {
        assert_eq!(
            next("cron(5 0 * * ? *)", "2026-03-10T12:00:00Z"),
            utc("2026-03-11T00:05:00Z")
        );
        assert_eq!(
            next("cron(5 0 * * ? *)", "2026-03-10T00:04:59Z"),
            utc("2026-03-10T00:05:00Z")
        );
        assert_eq!(
            next("cron(5 0 * * ? *)", "2026-03-10T00:05:00Z"),
            utc("2026-03-11T00:05:00Z"),
            "strictly after"
        );
        assert_eq!(
            next("cron(*/15 * * * ? *)", "2026-03-10T10:16:00Z"),
            utc("2026-03-10T10:30:00Z")
        );
        assert_eq!(
            next("cron(0 9,17 * * ? *)", "2026-03-10T10:00:00Z"),
            utc("2026-03-10T17:00:00Z")
        );
        assert_eq!(
            next("cron(59 23 31 12 ? *)", "2026-03-10T10:00:00Z"),
            utc("2026-12-31T23:59:00Z")
        );
    }

    #[test]
    fn cron_days_of_week_and_zones() {
        // 2026-03-10 is a Tuesday; MON-FRI at 08:00 → Wednesday.
        assert_eq!(
            next("cron(0 8 ? * MON-FRI *)", "2026-03-10T09:00:00Z"),
            utc("2026-03-11T08:00:00Z")
        );
        assert_eq!(
            next("cron(0 8 ? * 1 *)", "2026-03-10T09:00:00Z"),
            utc("2026-03-15T08:00:00Z"),
            "1 is Sunday"
        );
        let moscow = FixedOffset::east_opt(3 * 3600).unwrap();
        let e = Expression::parse("cron(0 0 * * ? *)").unwrap();
        let after = utc("2026-03-10T12:00:00Z");
        assert_eq!(
            e.next_after(after, after, moscow),
            Some(utc("2026-03-10T21:00:00Z")),
            "midnight in Moscow"
        );
    }

    #[test]
    fn rates_and_once() {
        let started = utc("2026-03-10T12:00:00Z");
        let rate = Expression::parse("rate(1 day)").unwrap();
        let z = FixedOffset::east_opt(0).unwrap();
        assert_eq!(
            rate.next_after(started, started, z),
            Some(utc("2026-03-11T12:00:00Z"))
        );
        let every5 = Expression::parse("rate(5 minutes)").unwrap();
        assert_eq!(
            every5.next_after(utc("2026-03-10T12:07:00Z"), started, z),
            Some(utc("2026-03-10T12:10:00Z"))
        );
        assert_eq!(
            Expression::parse("rate(2 hours)").unwrap(),
            Expression::Rate(Duration::from_secs(7200))
        );
        let at = Expression::parse("at(2026-03-11T00:00:00)").unwrap();
        assert_eq!(
            at.next_after(started, started, z),
            Some(utc("2026-03-11T00:00:00Z"))
        );
        assert_eq!(at.next_after(utc("2026-03-12T00:00:00Z"), started, z), None);
    }

    #[test]
    fn rejects_what_it_cannot_do() {
        assert!(Expression::parse("cron(0 0 L * ? *)").is_err());
        assert!(Expression::parse("cron(0 0 * *)").is_err());
        assert!(Expression::parse("rate(0 minutes)").is_err());
        assert!(Expression::parse("every day").is_err());
    }

    #[test]
    fn offsets() {
        assert_eq!(
            zone_offset(Some("+03:00")),
            FixedOffset::east_opt(10800).unwrap()
        );
        assert_eq!(zone_offset(None), FixedOffset::east_opt(0).unwrap());
        assert_eq!(zone_offset(Some("UTC")), FixedOffset::east_opt(0).unwrap());
    }
}
