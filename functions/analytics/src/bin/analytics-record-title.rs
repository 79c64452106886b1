//! Lambda: Task.Created (any version): the titles the most expensive task is shown with.
use ates_analytics::{app, store::Store};
use ates_kernel::dynamo::Table;
use ates_kernel::for_process;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::logging::init();
    let aws = ates_kernel::aws::load().await;
    let store = for_process(Store::new(Table::from_env(&aws)?));
    ates_kernel::lambda::serve_event_deliveries(
        &aws,
        Box::new(move |event, delivery| {
            Box::pin(async move { app::record_title(store, &event, delivery).await })
        }),
    )
    .await
}
