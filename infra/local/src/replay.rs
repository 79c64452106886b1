//! EventBridge replays, done by the stack. The emulator's StartReplay sends an archive's events
//! to every rule of the bus, whatever the replay's rules and time range, so a function's
//! `StartReplay` and `DescribeReplay` (through its AWS proxy) are answered here instead: the
//! events the tap saw between the replay's start and end times are sent to the queues of the
//! named rules only (where their patterns match), marked with `replay-name` as EventBridge marks
//! a replayed event. Other calls go on to the emulator.

use crate::resolve::{ACCOUNT_ID, REGION};
use crate::stack::Stack;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};

/// The operations this module answers, by their `X-Amz-Target`.
pub const START: &str = "AWSEvents.StartReplay";
pub const DESCRIBE: &str = "AWSEvents.DescribeReplay";

#[derive(Default)]
pub struct Replays {
    stack: OnceLock<Weak<Stack>>,
    replays: Mutex<HashMap<String, Value>>,
}

fn problem(status: StatusCode, kind: &str, message: impl Into<String>) -> (StatusCode, Value) {
    (status, json!({"__type": kind, "message": message.into()}))
}

fn seconds(v: &Value) -> Option<f64> {
    v.as_f64()
}

fn now() -> f64 {
    Utc::now().timestamp_millis() as f64 / 1000.0
}

/// When an event happened, from its `time`, in seconds.
fn event_time(event: &Value) -> Option<f64> {
    let time: DateTime<Utc> = event["time"].as_str()?.parse().ok()?;
    Some(time.timestamp_millis() as f64 / 1000.0)
}

impl Replays {
    /// Called once the stack exists: replays read its tap and its rules.
    pub fn attach(&self, stack: &Arc<Stack>) {
        let _ = self.stack.set(Arc::downgrade(stack));
    }

    pub fn takes(target: &str) -> bool {
        target == START || target == DESCRIBE
    }

    /// The answer to `StartReplay` or `DescribeReplay` (AWS JSON 1.1).
    pub fn answer(self: &Arc<Self>, target: &str, body: &[u8]) -> (StatusCode, Value) {
        let request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let name = request["ReplayName"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let mut replays = self.replays.lock().unwrap_or_else(|e| e.into_inner());
        if target == DESCRIBE {
            return match replays.get(&name) {
                Some(replay) => (StatusCode::OK, replay.clone()),
                None => problem(
                    StatusCode::BAD_REQUEST,
                    "ResourceNotFoundException",
                    format!("Replay {name} does not exist."),
                ),
            };
        }
        if replays.contains_key(&name) {
            return problem(
                StatusCode::BAD_REQUEST,
                "ResourceAlreadyExistsException",
                format!("Replay {name} already exists."),
            );
        }
        let (Some(from), Some(to)) = (
            seconds(&request["EventStartTime"]),
            seconds(&request["EventEndTime"]),
        ) else {
            return problem(
                StatusCode::BAD_REQUEST,
                "ValidationException",
                "EventStartTime and EventEndTime are required",
            );
        };
        let rules: Vec<String> = request["Destination"]["FilterArns"]
            .as_array()
            .map(|arns| {
                arns.iter()
                    .filter_map(Value::as_str)
                    .map(|arn| arn.rsplit('/').next().unwrap_or(arn).to_string())
                    .collect()
            })
            .unwrap_or_default();
        let started = now();
        let replay = json!({
            "ReplayName": name,
            "ReplayArn": format!("arn:aws:events:{REGION}:{ACCOUNT_ID}:replay/{name}"),
            "EventSourceArn": request["EventSourceArn"],
            "Destination": request["Destination"],
            "EventStartTime": from,
            "EventEndTime": to,
            "ReplayStartTime": started,
            "State": "RUNNING",
        });
        replays.insert(name.clone(), replay.clone());
        drop(replays);
        let replays = self.clone();
        tokio::spawn(async move {
            let outcome = replays.replay(&name, &rules, from, to).await;
            let mut all = replays.replays.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(replay) = all.get_mut(&name) {
                replay["ReplayEndTime"] = json!(now());
                match outcome {
                    Ok(count) => {
                        tracing::info!("replay {name}: {count} deliveries through {rules:?}");
                        replay["State"] = json!("COMPLETED");
                        replay["EventLastReplayedTime"] = json!(to);
                    }
                    Err(e) => {
                        tracing::warn!("replay {name} failed: {e}");
                        replay["State"] = json!("FAILED");
                        replay["StateReason"] = json!(e);
                    }
                }
            }
        });
        (
            StatusCode::OK,
            json!({"ReplayArn": replay["ReplayArn"], "State": "STARTING", "ReplayStartTime": started}),
        )
    }

    /// Sends every event the tap saw in `[from, to]` to the queues of `rules` it matches;
    /// answers how many messages were sent.
    async fn replay(
        &self,
        name: &str,
        rules: &[String],
        from: f64,
        to: f64,
    ) -> Result<usize, String> {
        let stack = self
            .stack
            .get()
            .and_then(Weak::upgrade)
            .ok_or("the stack is not running")?;
        // The tap reads the bus every second: let it see what was published up to `to`, as
        // AWS's archive lags the bus a little too.
        stack.pause(std::time::Duration::from_secs(2)).await;
        let events: Vec<Value> = stack
            .events
            .lock()
            .map_err(|e| e.to_string())?
            .iter()
            .filter(|e| event_time(e).is_some_and(|t| from <= t && t <= to))
            .cloned()
            .collect();
        let mut sent = 0;
        for rule in rules {
            let Some(target) = stack.resources.queue_rules.get(rule) else {
                return Err(format!("no rule {rule} delivers to a queue"));
            };
            let bodies: Vec<String> = events
                .iter()
                .filter(|e| crate::pattern::matches(&target.pattern, e))
                .map(|e| {
                    let mut replayed = e.clone();
                    replayed["replay-name"] = json!(name);
                    replayed.to_string()
                })
                .collect();
            for arn in &target.queue_arns {
                let url = stack
                    .resources
                    .queue_by_arn(arn)
                    .map(|q| q.url.clone())
                    .ok_or_else(|| format!("no queue {arn}"))?;
                for chunk in bodies.chunks(10) {
                    let entries = chunk
                        .iter()
                        .enumerate()
                        .map(|(i, body)| {
                            SendMessageBatchRequestEntry::builder()
                                .id(i.to_string())
                                .message_body(body)
                                .build()
                                .map_err(|e| e.to_string())
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    let out = stack
                        .aws
                        .sqs
                        .send_message_batch()
                        .queue_url(&url)
                        .set_entries(Some(entries))
                        .send()
                        .await
                        .map_err(|e| crate::aws::describe(&format!("replay into {url}"), e))?;
                    if !out.failed().is_empty() {
                        return Err(format!("{} messages refused by {url}", out.failed().len()));
                    }
                    sent += chunk.len();
                }
            }
        }
        Ok(sent)
    }
}
