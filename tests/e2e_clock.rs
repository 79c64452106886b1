//! The business calendar end to end, through the local stack: the daily schedule fires (as the
//! scheduler would, at a chosen time), and the day that ended is announced on the bus exactly as
//! its schema says, under the same id however often it is ended.

use ates_tests::Stack;

fn fire(stack: &Stack, at: &str) -> serde_json::Value {
    let (status, fired) = stack.call(
        "POST",
        &format!("/_local/schedules/ClockEndDayFunction/DayEnd/fire?at={at}"),
        None,
        None,
    );
    assert_eq!(status, 200, "{fired}");
    fired
}

fn day_ended_events(stack: &Stack) -> Vec<serde_json::Value> {
    stack
        .events()
        .into_iter()
        .filter(|e| e["detail-type"] == "Clock.DayEnded")
        .collect()
}

#[test]
fn the_daily_schedule_ends_the_business_day_once_per_date() {
    let stack = Stack::shared();

    // Midnight UTC (the template's default calendar) ends the day before.
    let fired = fire(stack, "2026-11-21T00:00:00Z");
    assert_eq!(
        fired["payload"]["scheduled_time"], "2026-11-21T00:00:00Z",
        "the schedule's Input carries the scheduled time: {fired}"
    );
    let answer = &fired["response"];
    assert_eq!(answer["business_date"], "2026-11-20", "{fired}");
    assert_eq!(answer["ended_at"], "2026-11-21T00:00:00Z", "{fired}");
    let id = answer["event_id"].as_str().unwrap().to_owned();

    let event = stack.eventually(30, "Clock.DayEnded reaches the bus", || {
        day_ended_events(stack)
            .into_iter()
            .find(|e| e["detail"]["id"] == id.as_str())
    });
    assert_eq!(event["source"], "ates.clock");
    let detail = &event["detail"];
    assert_eq!(detail["producer"], "clock");
    assert_eq!(detail["correlation_id"], "day-end-2026-11-20");
    assert_eq!(
        detail["data"],
        serde_json::json!({
            "business_date": "2026-11-20", "time_zone": "UTC",
            "started_at": "2026-11-20T00:00:00Z", "ended_at": "2026-11-21T00:00:00Z"
        })
    );
    let data = detail["data"].clone();
    ates_kernel::schema::check("Clock.DayEnded", 1, &data).expect("matches its schema");

    // A late or repeated trigger the same day is the same event: consumers keep the close once.
    let again = fire(stack, "2026-11-21T06:30:00Z");
    assert_eq!(again["response"]["event_id"], id.as_str(), "{again}");
    // The next day is another.
    let next = fire(stack, "2026-11-22T00:00:00Z");
    assert_eq!(next["response"]["business_date"], "2026-11-21", "{next}");
    assert_ne!(next["response"]["event_id"], id.as_str());
    stack.eventually(30, "every trigger reaches the bus", || {
        let ids: Vec<String> = day_ended_events(stack)
            .iter()
            .filter_map(|e| e["detail"]["id"].as_str().map(str::to_owned))
            .collect();
        (ids.iter().filter(|i| **i == id).count() == 2 && ids.len() >= 3).then_some(())
    });
}

#[test]
fn a_trigger_whose_time_is_not_a_time_fails_the_invocation() {
    let stack = Stack::shared();
    let (status, answer) = stack.call(
        "POST",
        "/_local/functions/ClockEndDayFunction/invoke",
        None,
        Some(&serde_json::json!({"scheduled_time": "tomorrow"})),
    );
    // A failed invocation: the scheduler's async retries, then the function's dead-letter queue.
    assert_eq!(status, 500, "{answer}");
    assert!(
        answer["errorMessage"]
            .as_str()
            .is_some_and(|m| m.contains("\"tomorrow\" is not an RFC 3339 time")),
        "{answer}"
    );
}

#[test]
fn failed_day_ends_park_in_the_clocks_dead_letter_queue() {
    let stack = Stack::shared();
    let (status, queues) = stack.call("GET", "/_local/dead-letters", None, None);
    assert_eq!(status, 200);
    let clock = queues
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["queue"] == "ClockDeadLetters")
        .unwrap_or_else(|| panic!("ClockDeadLetters is a dead-letter queue: {queues}"));
    assert_eq!(clock["kind"], "invocation", "{clock}");
    assert_eq!(
        clock["on_failure_of"],
        serde_json::json!(["ClockEndDayFunction"])
    );
}

#[test]
fn a_sundays_end_ends_its_week_and_a_months_last_day_its_month() {
    let stack = Stack::shared();
    // Midnight UTC of Monday 2027-03-01 ends Sunday 2027-02-28: the day, ISO week 8 and February.
    let fired = fire(stack, "2027-03-01T00:00:00Z");
    let names: Vec<&str> = fired["response"]["events"]
        .as_array()
        .unwrap_or_else(|| panic!("{fired}"))
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert_eq!(
        names,
        ["Clock.DayEnded", "Clock.WeekEnded", "Clock.MonthEnded"]
    );
    let on_bus = |name: &str| {
        stack.eventually(30, &format!("{name} reaches the bus"), || {
            stack.events().into_iter().find(|e| {
                e["detail-type"] == name
                    && e["detail"]["correlation_id"]
                        .as_str()
                        .is_some_and(|c| c.ends_with("2027-W08") || c.ends_with("2027-02"))
            })
        })
    };
    let week = on_bus("Clock.WeekEnded");
    assert_eq!(
        week["detail"]["data"],
        serde_json::json!({"week": "2027-W08", "time_zone": "UTC",
            "started_at": "2027-02-22T00:00:00Z", "ended_at": "2027-03-01T00:00:00Z"})
    );
    let month = on_bus("Clock.MonthEnded");
    assert_eq!(
        month["detail"]["data"],
        serde_json::json!({"month": "2027-02", "time_zone": "UTC",
            "started_at": "2027-02-01T00:00:00Z", "ended_at": "2027-03-01T00:00:00Z"})
    );
    for (name, event) in [("Clock.WeekEnded", &week), ("Clock.MonthEnded", &month)] {
        ates_kernel::schema::check(name, 1, &event["detail"]["data"]).expect("matches its schema");
    }
    // A Saturday's end is its day's only.
    let saturday = fire(stack, "2027-02-28T00:00:00Z");
    assert_eq!(
        saturday["response"]["events"].as_array().map(Vec::len),
        Some(1),
        "{saturday}"
    );
}
