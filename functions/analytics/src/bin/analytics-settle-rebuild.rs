//! Lambda: scheduled every minute; switches to a rebuilt generation once it caught up.
use ates_analytics::{app, replayer::EventBridgeReplayer, store::Store};
use ates_kernel::dynamo::Table;
use ates_kernel::for_process;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::logging::init();
    let aws = ates_kernel::aws::load().await;
    let store = for_process(Store::new(Table::from_env(&aws)?));
    let bus = for_process(EventBridgeReplayer::from_env(&aws)?);
    ates_kernel::lambda::serve_invocation(Box::new(move |_| {
        Box::pin(async move {
            let settled = app::settle_rebuild(store, bus, chrono::Utc::now()).await?;
            Ok(serde_json::json!({ "settled": settled }))
        })
    }))
    .await
}
