//! Lambda: `ates_payments::api::payout_details` (`GET /accounting/me/payout-details`).
use ates_kernel::dynamo::Table;
use ates_kernel::for_process;
use ates_payments::{api, store::Store};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    ates_kernel::logging::init();
    let store = for_process(Store::new(Table::from_env(
        &ates_kernel::aws::load().await,
    )?));
    ates_kernel::lambda::serve_http(Box::new(move |req| {
        Box::pin(api::payout_details(store, req))
    }))
    .await
}
