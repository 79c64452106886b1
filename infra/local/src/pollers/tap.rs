//! The tap: a catch-all rule's queue, read into memory for `GET /_local/events`; it also delivers
//! events to rules that target functions, which the emulator cannot invoke.

use crate::aws::describe;
use crate::ledger::Outcome;
use crate::pattern;
use crate::resolve::{ACCOUNT_ID, REGION};
use crate::stack::Stack;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

pub async fn run(stack: Arc<Stack>) {
    let url = stack.resources.tap_queue_url.clone();
    while !stack.is_shutting_down() {
        let received = stack
            .aws
            .sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await;
        let messages = match received {
            Ok(out) => out.messages.unwrap_or_default(),
            Err(e) => {
                tracing::warn!("{}", describe("read the tap", e));
                stack.pause(Duration::from_secs(1)).await;
                continue;
            }
        };
        for message in &messages {
            let event = normalize(message.body().unwrap_or_default());
            dispatch_to_functions(&stack, &event);
            if let Ok(mut events) = stack.events.lock() {
                events.push(event);
            }
        }
        let refs: Vec<_> = messages.iter().collect();
        crate::pollers::sqs::delete(&stack, &url, &refs).await;
    }
}

/// The event as EventBridge delivers it: `detail` parsed, `account` and `region` present.
fn normalize(body: &str) -> Value {
    let mut event: Value =
        serde_json::from_str(body).unwrap_or_else(|_| Value::String(body.to_string()));
    if let Some(fields) = event.as_object_mut() {
        if let Some(Value::String(detail)) = fields.get("detail") {
            if let Ok(parsed) = serde_json::from_str::<Value>(detail) {
                fields.insert("detail".into(), parsed);
            }
        }
        fields
            .entry("account")
            .or_insert_with(|| Value::from(ACCOUNT_ID));
        fields
            .entry("region")
            .or_insert_with(|| Value::from(REGION));
    }
    event
}

/// Rules with function targets are invoked asynchronously, as EventBridge does.
fn dispatch_to_functions(stack: &Arc<Stack>, event: &Value) {
    for rule in &stack.resources.function_rules {
        if !pattern::matches(&rule.pattern, event) {
            continue;
        }
        let stack = stack.clone();
        let rule = rule.clone();
        let event = event.clone();
        tokio::spawn(async move {
            let id = event["id"].as_str().unwrap_or_default().to_string();
            let key = crate::ledger::delivery_key(&event.to_string(), &id);
            let result = stack.lambda.invoke(&rule.function, &event).await;
            let outcome = match &result {
                Ok(_) => Outcome::Ok,
                Err(e) => {
                    tracing::warn!("{} (rule {}) failed: {e}", rule.function, rule.rule);
                    Outcome::Failed(Some(&e.error_message))
                }
            };
            stack
                .ledger
                .record(&rule.function, &rule.rule, &key, &id, outcome);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_events() {
        let e =
            normalize(r#"{"id":"1","source":"ates.auth","detail-type":"X","detail":"{\"a\":1}"}"#);
        assert_eq!(e["detail"]["a"], 1);
        assert_eq!(e["account"], ACCOUNT_ID);
    }
}
