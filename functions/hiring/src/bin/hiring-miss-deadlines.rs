//! Lambda: invoked every hour by a schedule; declines every application whose test was not
//! submitted by its deadline. Safe to run twice: a declined application is no longer due, and
//! each missed deadline's event has one id.
use ates_hiring::{app, store::Store};
use ates_kernel::dynamo::Table;
use ates_kernel::event::Cause;
use ates_kernel::for_process;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::logging::init();
    let store = for_process(Store::new(Table::from_env(
        &ates_kernel::aws::load().await,
    )?));
    ates_kernel::lambda::serve_invocation(Box::new(move |input| {
        Box::pin(async move {
            let execution = input["execution_id"].as_str().unwrap_or("deadlines");
            let cause = Cause::request(execution);
            let declined = app::miss_deadlines(store, &cause, chrono::Utc::now()).await?;
            Ok(serde_json::json!({ "declined": declined }))
        })
    }))
    .await
}
