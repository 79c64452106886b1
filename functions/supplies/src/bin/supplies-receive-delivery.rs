//! Lambda: `ates_supplies::api::receive_delivery` (the supplier's signed callback).
use ates_kernel::dynamo::Table;
use ates_kernel::for_process;
use ates_supplies::{api, store::Store, supplier};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    ates_kernel::logging::init();
    let aws = ates_kernel::aws::load().await;
    let store = for_process(Store::new(Table::from_env(&aws)?));
    let secret = for_process(supplier::shared_secret(&aws).await?);
    ates_kernel::lambda::serve_http(Box::new(move |req| {
        Box::pin(api::receive_delivery(store, secret, req))
    }))
    .await
}
