//! Lambda: invoked every 15 minutes by the `billing-dun` schedule; requests the collections
//! whose retry is due, once per (invoice, attempt): safe to run twice.
use ates_billing::{app, store::Store};
use ates_kernel::dynamo::Table;
use ates_kernel::for_process;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::logging::init();
    let aws = ates_kernel::aws::load().await;
    let store = for_process(Store::new(Table::from_env(&aws)?));
    ates_kernel::lambda::serve_invocation(Box::new(move |_input| {
        Box::pin(async move {
            let requested = app::dun(store, chrono::Utc::now())
                .await
                .map_err(|e| e.to_string())?;
            Ok(serde_json::json!({ "requested": requested }))
        })
    }))
    .await
}
