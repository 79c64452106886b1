//! Lambda: billing's `Billing.CollectionRequested`: the invoice's attempt recorded pending,
//! charged through the configured acquirer under its key, then posted or voided with its event.
use ates_kernel::dynamo::Table;
use ates_kernel::for_process;
use ates_payments::{acquirer, app, store::Store};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::logging::init();
    let aws = ates_kernel::aws::load().await;
    let store = for_process(Store::new(Table::from_env(&aws)?));
    let acquirer = for_process(acquirer::from_env()?);
    ates_kernel::lambda::serve_event_consumer(
        &aws,
        Box::new(move |event| {
            Box::pin(async move {
                app::on_billing_event(store, acquirer, &event, chrono::Utc::now()).await
            })
        }),
    )
    .await
}
