//! Lambda: `ates_analytics::api::rebuild_progress`.
use ates_analytics::{api, replayer::EventBridgeReplayer, store::Store};
use ates_kernel::dynamo::Table;
use ates_kernel::for_process;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    ates_kernel::logging::init();
    let aws = ates_kernel::aws::load().await;
    let store = for_process(Store::new(Table::from_env(&aws)?));
    let bus = for_process(EventBridgeReplayer::from_env(&aws)?);
    ates_kernel::lambda::serve_http(Box::new(move |req| {
        Box::pin(api::rebuild_progress(store, bus, req))
    }))
    .await
}
