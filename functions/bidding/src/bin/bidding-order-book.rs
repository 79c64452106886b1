//! Lambda: `ates_bidding::api::order_book`, GET /bets/orders/{order_id} (managers).
use ates_bidding::{api, store::Store};
use ates_kernel::dynamo::Table;
use ates_kernel::for_process;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    ates_kernel::logging::init();
    let store = for_process(Store::new(Table::from_env(
        &ates_kernel::aws::load().await,
    )?));
    ates_kernel::lambda::serve_http(Box::new(move |req| Box::pin(api::order_book(store, req))))
        .await
}
