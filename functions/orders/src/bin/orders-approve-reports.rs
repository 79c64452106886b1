//! Lambda: invoked every 15 minutes by a schedule; approves every report its client did not
//! decide within 72 hours. Safe to run twice: an approved order is no longer due, and the net
//! refuses a second approval.
use ates_kernel::dynamo::Table;
use ates_kernel::for_process;
use ates_orders::{app, store::Store};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::logging::init();
    let store = for_process(Store::new(Table::from_env(
        &ates_kernel::aws::load().await,
    )?));
    ates_kernel::lambda::serve_invocation(Box::new(move |input| {
        Box::pin(async move {
            let execution = input["execution_id"].as_str().unwrap_or("approvals");
            let now = chrono::Utc::now();
            let approved = app::approve_due_reports(store, now, execution).await?;
            Ok(serde_json::json!({ "approved": approved }))
        })
    }))
    .await
}
