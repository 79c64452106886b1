//! Lambda: `GET /orders/service-types` (`ates_orders::api::list_service_types`), with the slot
//! notice of `ORDER_NOTICE_MINUTES` (SPEC's 2 hours unless set) for the order form.
use ates_kernel::dynamo::Table;
use ates_kernel::for_process;
use ates_orders::order::SlotNotice;
use ates_orders::{api, store::Store};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    ates_kernel::logging::init();
    let notice = SlotNotice::from_env()?;
    let store = for_process(Store::new(Table::from_env(
        &ates_kernel::aws::load().await,
    )?));
    ates_kernel::lambda::serve_http(Box::new(move |req| {
        Box::pin(api::list_service_types(store, notice, req))
    }))
    .await
}
