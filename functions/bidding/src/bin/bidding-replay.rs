//! Lambda, invoked by an operator (no route: bidding's routes are managers' only): N4, rebuilds
//! the books' facts and the standings' listings by replaying the bus's archive through
//! bidding's rule of orders' events only (`REPLAY_RULE_ARNS`), which learns each replayed event
//! again (`app::on_order_event`). Bets are commands: no replay touches them.
//! Input: `{"from": "<RFC 3339>", "until": "<RFC 3339>"}`, both optional: by default the whole
//! archive (from its creation) up to now. Answers the replay's name, to follow it with
//! `aws events describe-replay`.
use ates_kernel::for_process;
use ates_kernel::replay::{list, Archive};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Replay {
    #[serde(default)]
    from: Option<DateTime<Utc>>,
    #[serde(default)]
    until: Option<DateTime<Utc>>,
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::logging::init();
    let aws = ates_kernel::aws::load().await;
    let archive = for_process(Archive::from_env(&aws)?);
    let rules = for_process(list(&ates_kernel::config::required("REPLAY_RULE_ARNS")?));
    ates_kernel::lambda::serve_invocation(Box::new(move |input| {
        Box::pin(async move {
            let asked: Replay = serde_json::from_value(input)?;
            let until = asked.until.unwrap_or_else(Utc::now);
            if asked.from.is_some_and(|from| from > until) {
                return Err("from is after until".into());
            }
            let name = format!("bidding-{}", Uuid::now_v7().simple());
            let started = archive.replay(&name, asked.from, until, rules).await?;
            tracing::info!(replay = %started.replay_name, from = %started.from, until = %started.until, "replay started");
            Ok(serde_json::to_value(started)?)
        })
    }))
    .await
}
