//! Lambda: `ates_reports::api::request_upload`.
use ates_kernel::dynamo::Table;
use ates_kernel::for_process;
use ates_reports::{api, bucket::Bucket, store::Store};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    ates_kernel::logging::init();
    let aws = ates_kernel::aws::load().await;
    let store = for_process(Store::new(Table::from_env(&aws)?));
    let bucket = for_process(Bucket::from_env(&aws)?);
    ates_kernel::lambda::serve_http(Box::new(move |req| {
        Box::pin(api::request_upload(store, bucket, req))
    }))
    .await
}
