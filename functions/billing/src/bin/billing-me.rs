//! Lambda: `ates_billing::api::my_month`.
use ates_billing::{api, store::Store};
use ates_kernel::calendar::Calendar;
use ates_kernel::dynamo::Table;
use ates_kernel::for_process;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    ates_kernel::logging::init();
    let store = for_process(Store::new(Table::from_env(
        &ates_kernel::aws::load().await,
    )?));
    let calendar = for_process(Calendar::from_env()?);
    ates_kernel::lambda::serve_http(Box::new(move |req| {
        Box::pin(api::my_month(store, calendar, req))
    }))
    .await
}
