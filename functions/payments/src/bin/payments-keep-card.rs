//! Lambda: `ates_payments::api::keep_card` (the token checked with the configured acquirer).
use ates_kernel::dynamo::Table;
use ates_kernel::for_process;
use ates_payments::{acquirer, api, store::Store};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    ates_kernel::logging::init();
    let store = for_process(Store::new(Table::from_env(
        &ates_kernel::aws::load().await,
    )?));
    let acquirer = for_process(acquirer::from_env()?);
    ates_kernel::lambda::serve_http(Box::new(move |req| {
        Box::pin(api::keep_card(store, acquirer, req))
    }))
    .await
}
