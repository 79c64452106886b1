//! Fires Schedule/ScheduleV2 events at their next cron(...), rate(...) or at(...) time; the
//! emulator never does. A ScheduleV2 is delivered as EventBridge Scheduler would: context
//! attributes in its Input, an asynchronous invocation (the function's failures retried by
//! Lambda, then its DeadLetterQueue), and for an invocation Lambda would not take, retries under
//! the schedule's RetryPolicy, then the schedule's dead-letter queue.

use crate::aws::describe;
use crate::functions::ScheduleSource;
use crate::lambda::InvokeError;
use crate::ledger::Outcome;
use crate::resolve::{ACCOUNT_ID, REGION};
use crate::stack::Stack;
use ates_kernel::zone::Zone;
use aws_sdk_sqs::types::MessageAttributeValue;
use chrono::{DateTime, Datelike, Duration as ChronoDuration, NaiveDate, Timelike, Utc};
use rand::Rng;
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};
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

    /// The first firing strictly after `after`; cron and at times are wall-clock times in `zone`
    /// (a skipped or repeated one read as `Zone::to_utc` reads it).
    /// A rate fires every period from `started`, as a newly created schedule does.
    pub fn next_after(
        &self,
        after: DateTime<Utc>,
        started: DateTime<Utc>,
        zone: &Zone,
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
                let at = zone.to_utc(*when)?;
                (at > after).then_some(at)
            }
            Expression::Cron(cron) => cron.next_after(after, zone),
        }
    }
}

impl Cron {
    fn next_after(&self, after: DateTime<Utc>, zone: &Zone) -> Option<DateTime<Utc>> {
        let local = zone.local(after)?;
        let first = local.with_second(0)?.with_nanosecond(0)? + ChronoDuration::minutes(1);
        let mut day = first.date();
        // Five years is long enough for any expression that can fire at all.
        for _ in 0..(366 * 5) {
            if self.day_matches(day) {
                let same_day = day == first.date();
                for &hour in &self.hours {
                    if same_day && hour < first.hour() {
                        continue;
                    }
                    for &minute in &self.minutes {
                        if same_day && hour == first.hour() && minute < first.minute() {
                            continue;
                        }
                        // Across a daylight-saving change a wall-clock time can map to the past.
                        match zone.to_utc(day.and_hms_opt(hour, minute, 0)?) {
                            Some(t) if t > after => return Some(t),
                            _ => {}
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

/// A schedule's time zone: an IANA name (from the database bundled in the kernel), a fixed offset like
/// `+03:00`, or UTC when none is given or the name is unknown.
pub fn zone(timezone: Option<&str>) -> Zone {
    let Some(name) = timezone.map(str::trim).filter(|z| !z.is_empty()) else {
        return Zone::utc();
    };
    if name == "Z" {
        return Zone::utc();
    }
    if let Some(offset) = parse_offset(name).and_then(Zone::fixed) {
        return offset;
    }
    Zone::named(name).unwrap_or_else(|| {
        tracing::warn!("time zone {name} is unknown here; using UTC");
        Zone::utc()
    })
}

/// `+0300`, `+03:00`, `-05:30`, in seconds east of UTC.
fn parse_offset(text: &str) -> Option<i32> {
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
    Some(sign * (hours * 3600 + minutes * 60))
}

/// One attempt to deliver a firing, as EventBridge Scheduler describes it to the target.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub scheduled_time: DateTime<Utc>,
    /// Fresh for every attempt, like `d32c5kddcf5bb8c3`.
    pub execution_id: String,
    /// 1-based.
    pub number: u32,
    pub schedule_arn: String,
}

impl Attempt {
    pub fn new(function: &str, event: &str, scheduled_time: DateTime<Utc>, number: u32) -> Attempt {
        const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        let mut rng = rand::thread_rng();
        Attempt {
            scheduled_time,
            execution_id: (0..16)
                .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
                .collect(),
            number,
            schedule_arn: schedule_arn(function, event),
        }
    }
}

/// Schedules live in the default group, named `<Function>-<Event>` here.
pub fn schedule_arn(function: &str, event: &str) -> String {
    format!("arn:aws:scheduler:{REGION}:{ACCOUNT_ID}:schedule/default/{function}-{event}")
}

/// `2026-11-21T00:00:00Z`, as Scheduler writes times.
pub fn utc_text(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Scheduler's context attributes, replaced in the Input text before anything parses it.
pub fn substitute(input: &str, attempt: &Attempt) -> String {
    input
        .replace(
            "<aws.scheduler.scheduled-time>",
            &utc_text(attempt.scheduled_time),
        )
        .replace("<aws.scheduler.execution-id>", &attempt.execution_id)
        .replace(
            "<aws.scheduler.attempt-number>",
            &attempt.number.to_string(),
        )
        .replace("<aws.scheduler.schedule-arn>", &attempt.schedule_arn)
}

/// The input text the target is given: the schedule's Input (with the context attributes of a
/// ScheduleV2 replaced), or EventBridge's scheduled event.
pub fn input(function: &str, schedule: &ScheduleSource, attempt: &Attempt) -> String {
    if let Some(input) = &schedule.input {
        return if schedule.kind == "ScheduleV2" {
            substitute(input, attempt)
        } else {
            input.clone()
        };
    }
    json!({
        "version": "0",
        "id": uuid::Uuid::new_v4().to_string(),
        "detail-type": "Scheduled Event",
        "source": if schedule.kind == "ScheduleV2" { "aws.scheduler" } else { "aws.events" },
        "account": ACCOUNT_ID,
        "time": utc_text(attempt.scheduled_time),
        "region": REGION,
        "resources": [format!("arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{function}-{}", schedule.event_name)],
        "detail": {},
    })
    .to_string()
}

/// The payload for an input text: its JSON, or the text as a JSON string.
pub fn payload(input: &str) -> Value {
    serde_json::from_str(input).unwrap_or_else(|_| Value::String(input.to_string()))
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
    let zone = zone(schedule.timezone.as_deref());
    loop {
        let Some(next) = expression.next_after(after, started, &zone) else {
            return;
        };
        tracing::info!("{function} {} fires next at {next}", schedule.event_name);
        let wait = (next - Utc::now()).to_std().unwrap_or_default();
        if !stack.pause(wait).await {
            return;
        }
        // Retries run beside the timer, so a failing firing does not hold back the next one.
        tokio::spawn(deliver(
            stack.clone(),
            function.clone(),
            schedule.clone(),
            next,
        ));
        after = next;
    }
}

/// Delivers one firing as the scheduler does. Its target is invoked asynchronously: once Lambda
/// has taken the invocation, the function's own failures are Lambda's to retry and park (see
/// [`invoke_async`]). Only an invocation Lambda would not take (no such function, not built,
/// throttled) is retried under the ScheduleV2's RetryPolicy, every `retry_delay`, and then sent to
/// its DeadLetterConfig queue. A Schedule (an EventBridge rule) is attempted once.
pub async fn deliver(
    stack: Arc<Stack>,
    function: String,
    schedule: ScheduleSource,
    scheduled_time: DateTime<Utc>,
) {
    let event = &schedule.event_name;
    let mut number = 1;
    loop {
        let attempt = Attempt::new(&function, event, scheduled_time, number);
        let input = input(&function, &schedule, &attempt);
        // Scheduler's firing is known by its time, each attempt by its execution id; an
        // EventBridge rule's firing by its event id.
        let (key, message_id) = if schedule.kind == "ScheduleV2" {
            (
                format!("{event}@{}", utc_text(scheduled_time)),
                attempt.execution_id.clone(),
            )
        } else {
            let id = payload(&input)["id"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| scheduled_time.to_rfc3339());
            (id.clone(), id)
        };
        let trigger = Trigger {
            source: event,
            key: &key,
            message_id: &message_id,
        };
        let error = match invoke_async(&stack, &function, &trigger, &input).await {
            Ok(()) => return,
            Err(error) => error,
        };
        tracing::warn!("{function} {event}: attempt {number} not delivered: {error}");
        let failed = Outcome::Failed(Some(&error.error_message));
        stack
            .ledger
            .record(&function, event, &key, &message_id, failed);
        let Some(policy) = &schedule.retry_policy else {
            return;
        };
        let exhausted = if number > policy.maximum_retry_attempts {
            "MaximumRetryAttempts"
        } else if !stack.pause(stack.retry_delay).await {
            return;
        } else if (Utc::now() - scheduled_time).to_std().unwrap_or_default()
            >= policy.maximum_event_age
        {
            "MaximumEventAgeInSeconds"
        } else {
            number += 1;
            continue;
        };
        let Some(arn) = &schedule.dead_letter_arn else {
            tracing::warn!("{function} {event}: {exhausted} spent; the firing is dropped");
            return;
        };
        let attributes = dead_letter_attributes(&function, &attempt, &error, exhausted);
        match send_dead_letter(&stack, arn, &input, attributes).await {
            Ok(()) => stack.ledger.mark_dead_lettered(&function, &key),
            Err(e) => tracing::error!("{function} {event}: {e}"),
        }
        return;
    }
}

/// How the delivery ledger knows a trigger.
pub struct Trigger<'a> {
    pub source: &'a str,
    pub key: &'a str,
    pub message_id: &'a str,
}

/// Lambda's asynchronous invocation (`InvocationType: Event`). Answers an error only if Lambda
/// would not take the invocation at all. Otherwise the function's failures (errors, crashes,
/// timeouts) are retried after `retry_delay` up to `EventInvokeConfig.MaximumRetryAttempts`
/// times within its maximum event age, and then the payload goes to the function's
/// `DeadLetterQueue`, with Lambda's attributes (RequestID, ErrorCode, ErrorMessage).
pub async fn invoke_async(
    stack: &Stack,
    function: &str,
    trigger: &Trigger<'_>,
    input: &str,
) -> Result<(), InvokeError> {
    let config = stack
        .lambda
        .spec(function)
        .map(|spec| spec.asynchronous.clone())
        .ok_or_else(|| {
            InvokeError::new(
                "ResourceNotFoundException",
                format!("no function {function}"),
            )
        })?;
    let accepted = Utc::now();
    let payload = payload(input);
    let mut retries = 0;
    loop {
        let error = match stack.lambda.invoke(function, &payload).await {
            Ok(_) => {
                let ok = Outcome::Ok;
                let t = trigger;
                stack
                    .ledger
                    .record(function, t.source, t.key, t.message_id, ok);
                return Ok(());
            }
            Err(e) if retries == 0 && not_taken(&e) => return Err(e),
            Err(e) => e,
        };
        tracing::warn!(
            "{function} {}: asynchronous invocation failed: {error}",
            trigger.source
        );
        let failed = Outcome::Failed(Some(&error.error_message));
        let t = trigger;
        stack
            .ledger
            .record(function, t.source, t.key, t.message_id, failed);
        let too_old = (Utc::now() - accepted).to_std().unwrap_or_default()
            >= config.retries.maximum_event_age;
        if retries < config.retries.maximum_retry_attempts && !too_old {
            retries += 1;
            if !stack.pause(stack.retry_delay).await {
                return Ok(());
            }
            continue;
        }
        let Some(arn) = &config.dead_letter_arn else {
            tracing::warn!(
                "{function}: retries spent and no DeadLetterQueue; the event is dropped"
            );
            return Ok(());
        };
        let attributes = vec![
            ("RequestID", uuid::Uuid::new_v4().to_string()),
            // A function error reaches Lambda's caller as a 200 response with an error body.
            ("ErrorCode", "200".to_string()),
            (
                "ErrorMessage",
                error.error_message.chars().take(1024).collect(),
            ),
        ];
        match send_dead_letter(stack, arn, input, attributes).await {
            Ok(()) => stack.ledger.mark_dead_lettered(function, trigger.key),
            Err(e) => tracing::error!("{function}: {e}"),
        }
        return Ok(());
    }
}

/// Errors for which Lambda would not have accepted an asynchronous invocation at all.
fn not_taken(error: &InvokeError) -> bool {
    matches!(
        error.error_type.as_str(),
        "ResourceNotFoundException"
            | "InvalidRequestContentException"
            | "TooManyRequestsException"
            | "ServiceException"
            | "Local.BinaryMissing"
    )
}

/// The message attributes Scheduler puts on a dead-letter message (all strings). ERROR_CODE is
/// the function's errorType here.
pub fn dead_letter_attributes(
    function: &str,
    attempt: &Attempt,
    error: &InvokeError,
    exhausted: &str,
) -> Vec<(&'static str, String)> {
    vec![
        ("ERROR_CODE", error.error_type.clone()),
        ("ERROR_MESSAGE", error.error_message.clone()),
        ("EXECUTION_ID", attempt.execution_id.clone()),
        ("EXHAUSTED_RETRY_CONDITION", exhausted.to_string()),
        ("IS_PAYLOAD_TRUNCATED", "false".to_string()),
        ("RETRY_ATTEMPTS", (attempt.number - 1).to_string()),
        ("SCHEDULED_TIME", utc_text(attempt.scheduled_time)),
        ("SCHEDULE_ARN", attempt.schedule_arn.clone()),
        (
            "TARGET_ARN",
            format!("arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function}"),
        ),
    ]
}

async fn send_dead_letter(
    stack: &Stack,
    arn: &str,
    body: &str,
    attributes: Vec<(&'static str, String)>,
) -> Result<(), String> {
    let queue = stack
        .resources
        .queue_by_arn(arn)
        .ok_or_else(|| format!("dead-letter queue {arn} is not a queue of the template"))?;
    let mut attribute_values = HashMap::new();
    for (name, value) in attributes {
        let value = MessageAttributeValue::builder()
            .data_type("String")
            .string_value(value)
            .build()
            .map_err(|e| e.to_string())?;
        attribute_values.insert(name.to_string(), value);
    }
    stack
        .aws
        .sqs
        .send_message()
        .queue_url(&queue.url)
        .message_body(body)
        .set_message_attributes(Some(attribute_values))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| describe("send the dead letter", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn next(expr: &str, after: &str) -> DateTime<Utc> {
        let e = Expression::parse(expr).unwrap();
        e.next_after(utc(after), utc(after), &Zone::utc()).unwrap()
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
        let moscow = zone(Some("Europe/Moscow"));
        let e = Expression::parse("cron(0 0 * * ? *)").unwrap();
        let after = utc("2026-03-10T12:00:00Z");
        assert_eq!(
            e.next_after(after, after, &moscow),
            Some(utc("2026-03-10T21:00:00Z")),
            "midnight in Moscow"
        );
        // Daylight saving in New York: 02:30 is skipped on 2026-03-08, 01:30 comes twice on 2026-11-01.
        let new_york = zone(Some("America/New_York"));
        let next = |expr: &str, after: &str| {
            let e = Expression::parse(expr).unwrap();
            e.next_after(utc(after), utc(after), &new_york).unwrap()
        };
        assert_eq!(
            next("cron(30 2 * * ? *)", "2026-03-07T12:00:00Z"),
            utc("2026-03-08T07:30:00Z"),
            "a skipped time runs just after the change (03:30 EDT)"
        );
        assert_eq!(
            next("cron(30 2 * * ? *)", "2026-03-08T12:00:00Z"),
            utc("2026-03-09T06:30:00Z"),
            "EDT from then on"
        );
        assert_eq!(
            next("cron(30 1 * * ? *)", "2026-11-01T00:00:00Z"),
            utc("2026-11-01T05:30:00Z"),
            "a repeated time runs the first time (01:30 EDT)"
        );
        assert_eq!(
            next("cron(30 1 * * ? *)", "2026-11-01T05:30:00Z"),
            utc("2026-11-02T06:30:00Z"),
            "and not again an hour later; EST from then on"
        );
    }

    #[test]
    fn rates_and_once() {
        let started = utc("2026-03-10T12:00:00Z");
        let rate = Expression::parse("rate(1 day)").unwrap();
        let z = &Zone::utc();
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

    fn schedule(kind: &str, input: Option<&str>) -> ScheduleSource {
        ScheduleSource {
            event_name: "Close".into(),
            kind: kind.into(),
            expression: "cron(0 0 * * ? *)".into(),
            timezone: None,
            input: input.map(str::to_string),
            enabled: true,
            retry_policy: None,
            dead_letter_arn: None,
        }
    }

    #[test]
    fn context_attributes_are_replaced_before_parsing() {
        let attempt = Attempt::new("Fn", "Close", utc("2026-11-21T03:00:00+03:00"), 2);
        assert_eq!(attempt.execution_id.len(), 16);
        assert!(attempt
            .execution_id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
        assert_ne!(
            attempt.execution_id,
            Attempt::new("Fn", "Close", attempt.scheduled_time, 2).execution_id,
            "fresh for every attempt"
        );
        let input = r#"{"day": "<aws.scheduler.scheduled-time>", "attempt": <aws.scheduler.attempt-number>, "id": "<aws.scheduler.execution-id>", "arn": "<aws.scheduler.schedule-arn>"}"#;
        let v2 = schedule("ScheduleV2", Some(input));
        assert_eq!(
            payload(&super::input("Fn", &v2, &attempt)),
            json!({
                "day": "2026-11-21T00:00:00Z",
                "attempt": 2,
                "id": attempt.execution_id,
                "arn": "arn:aws:scheduler:us-east-1:123456789012:schedule/default/Fn-Close",
            }),
            "the attempt number is a bare JSON number once replaced"
        );
        let v1 = schedule("Schedule", Some(input));
        assert_eq!(
            super::input("Fn", &v1, &attempt),
            input,
            "an EventBridge rule has no context attributes"
        );
        assert_eq!(
            payload("not json <aws.scheduler.attempt-number>"),
            json!("not json <aws.scheduler.attempt-number>")
        );
        let event = payload(&super::input("Fn", &schedule("ScheduleV2", None), &attempt));
        assert_eq!(
            (event["source"].as_str(), event["time"].as_str()),
            (Some("aws.scheduler"), Some("2026-11-21T00:00:00Z"))
        );
    }

    #[test]
    fn dead_letters_say_why() {
        let attempt = Attempt::new("Fn", "Close", utc("2026-11-21T00:00:00Z"), 3);
        let error = InvokeError::new("Error", "closing failed");
        let attributes: HashMap<_, _> =
            dead_letter_attributes("Fn", &attempt, &error, "MaximumRetryAttempts")
                .into_iter()
                .collect();
        assert_eq!(
            attributes["RETRY_ATTEMPTS"], "2",
            "three attempts are two retries"
        );
        assert_eq!(attributes["ERROR_MESSAGE"], "closing failed");
        assert_eq!(attributes["EXECUTION_ID"], attempt.execution_id);
        assert_eq!(attributes["SCHEDULED_TIME"], "2026-11-21T00:00:00Z");
        assert_eq!(attributes["SCHEDULE_ARN"], attempt.schedule_arn);
        assert_eq!(
            attributes["TARGET_ARN"],
            "arn:aws:lambda:us-east-1:123456789012:function:Fn"
        );
        assert_eq!(
            attributes["EXHAUSTED_RETRY_CONDITION"],
            "MaximumRetryAttempts"
        );
    }

    #[test]
    fn zones() {
        let at = DateTime::from_timestamp(1_773_144_000, 0).unwrap(); // 2026-03-10T12:00:00Z
        let offset = |z: Option<&str>| zone(z).offset_at(at).unwrap().local_minus_utc();
        assert_eq!(offset(Some("+03:00")), 10_800);
        assert_eq!(offset(Some("-0530")), -19_800);
        assert_eq!(offset(None), 0);
        assert_eq!(offset(Some("UTC")), 0);
        assert_eq!(offset(Some("Etc/UTC")), 0);
        assert_eq!(offset(Some("Europe/Moscow")), 10_800);
        assert_eq!(
            offset(Some("America/New_York")),
            -14_400,
            "EDT since 2026-03-08"
        );
        assert_eq!(offset(Some("Mars/Olympus_Mons")), 0, "unknown: UTC");
    }
}
