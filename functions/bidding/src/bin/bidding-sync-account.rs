//! Lambda: keeps bidding's copy of accounts (callers' roles) from `Account.*` events.
use ates_bidding::{app, store::Store};
use ates_kernel::dynamo::Table;
use ates_kernel::for_process;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::logging::init();
    let aws = ates_kernel::aws::load().await;
    let store = for_process(Store::new(Table::from_env(&aws)?));
    ates_kernel::lambda::serve_event_consumer(
        &aws,
        Box::new(move |event| Box::pin(async move { app::sync_account(store, &event).await })),
    )
    .await
}
