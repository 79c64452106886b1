//! Lambda, invoked by an operator (no route: bidding's routes are managers' only): N4, rebuilds
//! the books' facts and the standings' listings by replaying the bus's archive through
//! bidding's rule of orders' events only (`REPLAY_RULE_ARNS`), which learns each replayed event
//! again (`app::on_order_event`). Bets are commands: no replay touches them.
//! Input: `replay::Asked` (`{"from", "until"}`, both optional). Answers the replay's name, to
//! follow it with `aws events describe-replay`.
use ates_kernel::for_process;
use ates_kernel::replay::{list, Archive};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::logging::init();
    let aws = ates_kernel::aws::load().await;
    let archive = for_process(Archive::from_env(&aws)?);
    let rules = for_process(list(&ates_kernel::config::required("REPLAY_RULE_ARNS")?));
    ates_kernel::lambda::serve_invocation(Box::new(move |input| {
        Box::pin(async move {
            let started = archive.replay_asked("bidding", input, rules).await?;
            Ok(serde_json::to_value(started)?)
        })
    }))
    .await
}
