//! Lambda: `PayoutDetails.HandedOver` (accounting's details, moved once): kept unless newer ones
//! are here; payouts held for want of them go to the bank.
use ates_kernel::dynamo::Table;
use ates_kernel::for_process;
use ates_payments::{app, bank, store::Store};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::logging::init();
    let aws = ates_kernel::aws::load().await;
    let store = for_process(Store::new(Table::from_env(&aws)?));
    let bank = for_process(bank::from_env()?);
    ates_kernel::lambda::serve_event_consumer(
        &aws,
        Box::new(move |event| {
            Box::pin(async move {
                app::take_payout_details(store, bank, &event, chrono::Utc::now()).await
            })
        }),
    )
    .await
}
