//! Lambda: the one-off move of payout details to payments (SPEC M7). Invoked by an operator with
//! `{}`, then with the `cursor` it answers until that is `null`. Safe to run again.
use ates_accounting::{app, store::Store};
use ates_kernel::dynamo::Table;
use ates_kernel::for_process;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::logging::init();
    let store = for_process(Store::new(Table::from_env(
        &ates_kernel::aws::load().await,
    )?));
    ates_kernel::lambda::serve_invocation(Box::new(move |input| {
        Box::pin(async move {
            let run = serde_json::from_value(input)?;
            let page = app::hand_over_payouts(store, &run, chrono::Utc::now()).await?;
            Ok(serde_json::to_value(page)?)
        })
    }))
    .await
}
