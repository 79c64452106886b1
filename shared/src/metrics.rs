//! Business and platform counts as CloudWatch metrics in the embedded metric format (EMF): a
//! JSON line on stdout that CloudWatch Logs turns into a metric, with no API call and no added
//! latency. Namespace `POWERTOOLS_METRICS_NAMESPACE` (the stack sets it; `aTES` otherwise), one
//! dimension, `service` (the context).
//!
//! What the business counts is counted where the fact leaves its context: the outbox relay
//! counts the events it published (tasks created and completed, postings, payouts), the mailer
//! the mails SES accepted, the inbox the events it parked. A relay batch retried by its stream
//! may count a fact twice; the figures are for dashboards, the ledger is the truth.

use std::io::Write;
use std::sync::OnceLock;

use serde_json::{json, Map, Value};

use crate::contracts::accounting::{PayoutMade, TransactionPosted};
use crate::contracts::tasks::{TaskCompleted, TaskCreated};
use crate::event::DomainEvent;

pub const COLD_START: &str = "ColdStart";
pub const TASKS_CREATED: &str = "TasksCreated";
pub const TASKS_COMPLETED: &str = "TasksCompleted";
pub const POSTINGS: &str = "Postings";
pub const PAYOUTS: &str = "Payouts";
pub const MAILS_SENT: &str = "MailsSent";
pub const EVENTS_PARKED: &str = "EventsParked";

/// The metric a published event counts toward, if any.
pub fn counted_as(event_name: &str) -> Option<&'static str> {
    [
        (TaskCreated::NAME, TASKS_CREATED),
        (TaskCompleted::NAME, TASKS_COMPLETED),
        (TransactionPosted::NAME, POSTINGS),
        (PayoutMade::NAME, PAYOUTS),
    ]
    .into_iter()
    .find(|(event, _)| *event == event_name)
    .map(|(_, metric)| metric)
}

/// Counts `n` of `metric`.
pub fn count(metric: &'static str, n: u64) {
    counts(&[(metric, n)]);
}

/// Counts several metrics in one line (nothing is written for an empty list).
pub fn counts(values: &[(&'static str, u64)]) {
    if values.is_empty() {
        return;
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let mut line = emf(namespace(), crate::logging::service(), now, values).to_string();
    line.push('\n');
    let _ = std::io::stdout().lock().write_all(line.as_bytes());
}

fn namespace() -> &'static str {
    static NAMESPACE: OnceLock<String> = OnceLock::new();
    NAMESPACE.get_or_init(|| {
        std::env::var("POWERTOOLS_METRICS_NAMESPACE").unwrap_or_else(|_| "aTES".to_string())
    })
}

/// One EMF object: the metrics' directive under `_aws`, their values at the top level.
pub fn emf(namespace: &str, service: &str, timestamp_ms: u64, values: &[(&str, u64)]) -> Value {
    let mut line = Map::new();
    line.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [["service"]],
                "Metrics": values.iter().map(|(name, _)| json!({"Name": name, "Unit": "Count"})).collect::<Vec<_>>(),
            }],
        }),
    );
    line.insert("service".into(), service.into());
    for (name, n) in values {
        line.insert((*name).into(), (*n).into());
    }
    Value::Object(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_emf_line_declares_each_metric_and_carries_its_value() {
        let line = emf(
            "ates-prod",
            "tasks",
            1_700_000_000_000,
            &[(TASKS_CREATED, 3), (TASKS_COMPLETED, 1)],
        );
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(line["_aws"]["Timestamp"], 1_700_000_000_000u64);
        assert_eq!(directive["Namespace"], "ates-prod");
        assert_eq!(directive["Dimensions"], json!([["service"]]));
        assert_eq!(
            directive["Metrics"][0],
            json!({"Name": "TasksCreated", "Unit": "Count"})
        );
        assert_eq!(directive["Metrics"][1]["Name"], "TasksCompleted");
        assert_eq!(line["service"], "tasks");
        assert_eq!(line["TasksCreated"], 3);
        assert_eq!(line["TasksCompleted"], 1);
    }

    #[test]
    fn the_business_facts_are_counted_by_their_event() {
        assert_eq!(counted_as("Task.Created"), Some(TASKS_CREATED));
        assert_eq!(counted_as("Task.Completed"), Some(TASKS_COMPLETED));
        assert_eq!(counted_as("Ledger.TransactionPosted"), Some(POSTINGS));
        assert_eq!(counted_as("Payout.Made"), Some(PAYOUTS));
        assert_eq!(counted_as("Task.Assigned"), None);
    }
}
