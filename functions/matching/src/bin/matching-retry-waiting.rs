//! Lambda: invoked every 5 minutes by a schedule; tries the waiting orders again, longest
//! waiting first, and counts those still waiting after an hour (`OrdersWaitingOverAnHour`, which
//! an alarm watches). Safe to run twice: a matched order no longer waits, and its event has one
//! id per (order, version).
use ates_kernel::dynamo::Table;
use ates_kernel::event::Cause;
use ates_kernel::for_process;
use ates_matching::{app, store::Store};
use rand::SeedableRng;

/// The metric of orders that have waited over an hour (SPEC M4: an alarm fires).
const WAITING_OVER_AN_HOUR: &str = "OrdersWaitingOverAnHour";

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::logging::init();
    let store = for_process(Store::new(Table::from_env(
        &ates_kernel::aws::load().await,
    )?));
    ates_kernel::lambda::serve_invocation(Box::new(move |input| {
        Box::pin(async move {
            let execution = input["execution_id"].as_str().unwrap_or("retry-waiting");
            let cause = Cause::request(execution);
            let mut rng = rand::rngs::StdRng::from_entropy();
            let retried = app::retry_waiting(store, &cause, chrono::Utc::now(), &mut rng).await?;
            // Counted at every run, zero included, so the alarm sees the wait end.
            ates_kernel::metrics::count(WAITING_OVER_AN_HOUR, retried.waiting_over_an_hour as u64);
            Ok(serde_json::to_value(retried)?)
        })
    }))
    .await
}
