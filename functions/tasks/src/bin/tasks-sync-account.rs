//! Lambda: keeps the task tracker's copy of accounts from `Account.*` events, and releases the
//! open tasks of an account that can no longer take tasks (`app::on_account_event`).
use ates_kernel::dynamo::Table;
use ates_kernel::for_process;
use ates_tasks::{app, store::Store};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::logging::init();
    let aws = ates_kernel::aws::load().await;
    let store = for_process(Store::new(Table::from_env(&aws)?));
    ates_kernel::lambda::serve_event_consumer(
        &aws,
        Box::new(move |event| {
            Box::pin(async move { app::on_account_event(store, &event, chrono::Utc::now()).await })
        }),
    )
    .await
}
