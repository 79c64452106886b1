//! Lambda, invoked by an operator (`ates-ops replay billing`; no route): N4, rebuilds revenue's
//! lines by replaying the bus's archive through billing's rules of orders', reports' and
//! payments' events (`REPLAY_RULE_ARNS`), whose consumers write a replayed fact's line again
//! beside its movement and post no money (`app::book_order`, `book_quality`, `on_payment`);
//! bonuses are commands, so their lines are written again from the bonuses kept
//! (`app::reproject_bonuses`). Input: `replay::Asked` (`{"from", "until"}`, both optional).
//! Answers the replay's name, to follow it with `aws events describe-replay`, and how many
//! bonuses' lines were written.
use ates_billing::{app, store::Store};
use ates_kernel::calendar::Calendar;
use ates_kernel::dynamo::Table;
use ates_kernel::for_process;
use ates_kernel::replay::{list, Archive};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::logging::init();
    let aws = ates_kernel::aws::load().await;
    let store = for_process(Store::new(Table::from_env(&aws)?));
    let calendar = for_process(Calendar::from_env()?);
    let archive = for_process(Archive::from_env(&aws)?);
    let rules = for_process(list(&ates_kernel::config::required("REPLAY_RULE_ARNS")?));
    ates_kernel::lambda::serve_invocation(Box::new(move |input| {
        Box::pin(async move {
            let started = archive.replay_asked("billing", input, rules).await?;
            let bonuses = app::reproject_bonuses(store, calendar).await?;
            let mut answer = serde_json::to_value(started)?;
            answer["bonus_lines"] = bonuses.into();
            Ok(answer)
        })
    }))
    .await
}
