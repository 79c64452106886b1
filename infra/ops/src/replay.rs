//! N4 for bidding: its replay function invoked as an operator invokes it. EventBridge then
//! replays the archive into bidding's rule of orders' events only; its consumer learns each
//! event again (the book keeps a fact once) and lists a settled book again. Safe to repeat.

use crate::aws::{Aws, Result};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::json;

const BIDDING: &str = "BiddingReplayFunction";

pub async fn bidding(
    aws: &Aws,
    since: Option<DateTime<Utc>>,
    function: Option<&str>,
) -> Result<()> {
    let function = match function {
        Some(f) => f.to_string(),
        None => aws.physical_id(BIDDING).await?,
    };
    let payload = match since {
        Some(from) => json!({"from": from.to_rfc3339_opts(SecondsFormat::Secs, true)}),
        None => json!({}),
    };
    if aws.dry_run {
        println!("would invoke {function} with {payload}");
        return Ok(());
    }
    let answer = aws.invoke(&function, &payload).await?;
    println!(
        "replay {} started ({} to {}); follow it with `aws events describe-replay --replay-name {}`",
        answer["replay_name"].as_str().unwrap_or("?"),
        answer["from"].as_str().unwrap_or("?"),
        answer["until"].as_str().unwrap_or("?"),
        answer["replay_name"].as_str().unwrap_or("?"),
    );
    Ok(())
}
