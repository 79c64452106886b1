//! Counts how often each message or record reached each function, so tests can see redeliveries.

use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// How one message or record fared at one function: each time it arrived, and how that ended.
#[derive(Debug, Clone, Serialize)]
pub struct Receipts {
    /// The event source mapping or trigger, e.g. `AccountEvents`.
    pub source: String,
    pub deliveries: u32,
    /// One per delivery: `ok` or `failed`.
    pub outcomes: Vec<String>,
    /// SQS message ids or stream sequence numbers that carried it (a duplicate has its own).
    pub message_ids: Vec<String>,
    pub dead_lettered: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

#[derive(Default)]
pub struct Ledger {
    by_function: Mutex<BTreeMap<String, BTreeMap<String, Receipts>>>,
}

pub enum Outcome<'a> {
    Ok,
    Failed(Option<&'a str>),
}

impl Ledger {
    pub fn record(
        &self,
        function: &str,
        source: &str,
        key: &str,
        message_id: &str,
        outcome: Outcome<'_>,
    ) {
        let Ok(mut all) = self.by_function.lock() else {
            return;
        };
        let entry = all
            .entry(function.to_string())
            .or_default()
            .entry(key.to_string())
            .or_insert_with(|| Receipts {
                source: source.to_string(),
                deliveries: 0,
                outcomes: Vec::new(),
                message_ids: Vec::new(),
                dead_lettered: false,
                last_error: None,
            });
        entry.deliveries += 1;
        match outcome {
            Outcome::Ok => entry.outcomes.push("ok".into()),
            Outcome::Failed(error) => {
                entry.outcomes.push("failed".into());
                if let Some(e) = error {
                    entry.last_error = Some(e.to_string());
                }
            }
        }
        if !entry.message_ids.iter().any(|m| m == message_id) {
            entry.message_ids.push(message_id.to_string());
        }
    }

    pub fn mark_dead_lettered(&self, function: &str, key: &str) {
        if let Ok(mut all) = self.by_function.lock() {
            if let Some(entry) = all.get_mut(function).and_then(|f| f.get_mut(key)) {
                entry.dead_lettered = true;
            }
        }
    }

    /// `{function: {key: {deliveries, outcomes, ...}}}`.
    pub fn snapshot(&self) -> Value {
        self.by_function
            .lock()
            .map(|all| serde_json::to_value(&*all).unwrap_or_default())
            .unwrap_or_default()
    }
}

/// Deliveries of an EventBridge event are counted by the event's own `detail.id`, so a duplicate
/// publication (a new message) still counts against the same event; anything else by message id.
pub fn delivery_key(body: &str, message_id: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .filter(|event| event.get("detail-type").is_some())
        .and_then(|event| match event.pointer("/detail/id") {
            Some(Value::String(id)) => Some(id.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        })
        .unwrap_or_else(|| message_id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_by_event_detail_id() {
        let event = r#"{"id":"e1","detail-type":"Account.Created","source":"ates.auth","detail":{"id":"evt-7"}}"#;
        assert_eq!(delivery_key(event, "m1"), "evt-7");
        assert_eq!(
            delivery_key(r#"{"detail":{"id":"x"}}"#, "m1"),
            "m1",
            "not an EventBridge event"
        );
        assert_eq!(delivery_key("plain text", "m2"), "m2");
    }

    #[test]
    fn counts_redeliveries() {
        let ledger = Ledger::default();
        ledger.record("Fn", "Q", "evt-7", "m1", Outcome::Failed(Some("boom")));
        ledger.record("Fn", "Q", "evt-7", "m1", Outcome::Ok);
        ledger.record("Fn", "Q", "evt-7", "m2", Outcome::Ok);
        let snap = ledger.snapshot();
        assert_eq!(snap["Fn"]["evt-7"]["deliveries"], 3);
        assert_eq!(
            snap["Fn"]["evt-7"]["outcomes"],
            serde_json::json!(["failed", "ok", "ok"])
        );
        assert_eq!(
            snap["Fn"]["evt-7"]["message_ids"],
            serde_json::json!(["m1", "m2"])
        );
    }
}
