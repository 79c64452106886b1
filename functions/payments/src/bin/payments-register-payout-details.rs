//! Lambda: `ates_payments::api::register_payout_details` (`PUT /accounting/me/payout-details`).
use ates_kernel::dynamo::Table;
use ates_kernel::for_process;
use ates_payments::{api, bank, store::Store};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    ates_kernel::logging::init();
    let store = for_process(Store::new(Table::from_env(
        &ates_kernel::aws::load().await,
    )?));
    let bank = for_process(bank::from_env()?);
    ates_kernel::lambda::serve_http(Box::new(move |req| {
        Box::pin(api::register_payout_details(store, bank, req))
    }))
    .await
}
