//! Lambda: `Task.Created` (any version): prices the task if it is new, and keeps its title.
use ates_accounting::{app, store::Store};
use ates_kernel::dynamo::Table;
use ates_kernel::for_process;
use chrono::Utc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::logging::init();
    let aws = ates_kernel::aws::load().await;
    let store = for_process(Store::new(Table::from_env(&aws)?));
    ates_kernel::lambda::serve_event_consumer(
        &aws,
        Box::new(move |event| {
            Box::pin(async move { app::record_task(store, &event, Utc::now()).await })
        }),
    )
    .await
}
