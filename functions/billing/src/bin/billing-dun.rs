//! Lambda: invoked every 15 minutes by the `billing-dun` schedule; requests the collections
//! whose retry is due at the schedule's time, once per (invoice, attempt): safe to run twice.
//! Input: `{"scheduled_time": "<RFC 3339>", "execution_id": "..."}` (both optional; the time the
//! schedule fired for, the present if absent: a late or redriven run decides as of its slot).
use ates_billing::{app, store::Store};
use ates_kernel::dynamo::Table;
use ates_kernel::for_process;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::logging::init();
    let aws = ates_kernel::aws::load().await;
    let store = for_process(Store::new(Table::from_env(&aws)?));
    ates_kernel::lambda::serve_invocation(Box::new(move |input| {
        Box::pin(async move {
            let at = match input.get("scheduled_time").and_then(|t| t.as_str()) {
                Some(text) => chrono::DateTime::parse_from_rfc3339(text)
                    .map_err(|e| format!("scheduled_time {text:?}: {e}"))?
                    .to_utc(),
                None => chrono::Utc::now(),
            };
            let requested = app::dun(store, at).await.map_err(|e| e.to_string())?;
            Ok(serde_json::json!({ "requested": requested }))
        })
    }))
    .await
}
