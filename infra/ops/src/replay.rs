//! N4 for bidding and billing: the context's replay function invoked as an operator invokes it.
//! EventBridge then replays the archive into that context's rules only. Bidding's consumer
//! learns each event again (the book keeps a fact once) and lists a settled book again;
//! billing's consumers write a replayed fact's revenue line again beside its movement, and its
//! function rewrites the bonuses' lines. Safe to repeat.

use crate::aws::{Aws, Result};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::json;

use crate::options::Replayed;

pub async fn start(
    aws: &Aws,
    context: Replayed,
    since: Option<DateTime<Utc>>,
    function: Option<&str>,
) -> Result<()> {
    let function = match function {
        Some(f) => f.to_string(),
        None => aws.physical_id(context.function()).await?,
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
    if let Some(lines) = answer["bonus_lines"].as_u64() {
        println!("{lines} bonuses' revenue lines written again");
    }
    Ok(())
}
