//! Lambda: `POST /orders` (`ates_orders::api::create_order`), with the slot notice of
//! `ORDER_NOTICE_MINUTES` (SPEC's 2 hours unless a local stack says less).
use ates_kernel::dynamo::Table;
use ates_kernel::for_process;
use ates_orders::order::SlotNotice;
use ates_orders::{api, store::Store};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    ates_kernel::logging::init();
    let store = for_process(Store::new(Table::from_env(
        &ates_kernel::aws::load().await,
    )?));
    let notice = SlotNotice::from_env()?;
    ates_kernel::lambda::serve_http(Box::new(move |req| {
        Box::pin(api::create_order(store, notice, req))
    }))
    .await
}
