//! Lambda: the order's events reports follows (what it knows of the order); a declined order
//! also opens its QA case.
use ates_kernel::dynamo::Table;
use ates_kernel::for_process;
use ates_reports::{app, store::Store};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::logging::init();
    let aws = ates_kernel::aws::load().await;
    let store = for_process(Store::new(Table::from_env(&aws)?));
    ates_kernel::lambda::serve_event_consumer(
        &aws,
        Box::new(move |event| {
            Box::pin(async move { app::on_order_event(store, &event, chrono::Utc::now()).await })
        }),
    )
    .await
}
