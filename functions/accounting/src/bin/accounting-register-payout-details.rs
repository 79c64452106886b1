//! Lambda: `ates_accounting::api::register_payout_details`.
use ates_accounting::{api, bank::RecordingBank, store::Store};
use ates_kernel::dynamo::Table;
use ates_kernel::for_process;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    ates_kernel::logging::init();
    let aws = ates_kernel::aws::load().await;
    let store = for_process(Store::new(Table::from_env(&aws)?));
    let bank = for_process(RecordingBank::new(Table::from_env(&aws)?));
    ates_kernel::lambda::serve_http(Box::new(move |req| {
        Box::pin(api::register_payout_details(store, bank, req))
    }))
    .await
}
