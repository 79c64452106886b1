//! Lambda: `ates_auth::api::request_code`.
use ates_auth::{api, store::Store};
use ates_kernel::dynamo::Table;
use ates_kernel::{config, for_process, mail::Mailer};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    ates_kernel::logging::init();
    let aws = ates_kernel::aws::load().await;
    let store = for_process(Store::new(Table::from_env(&aws)?));
    let mailer = for_process(Mailer::new(&aws, config::required("MAIL_FROM")?));
    ates_kernel::lambda::serve_http(Box::new(move |req| {
        Box::pin(api::request_code(store, mailer, req))
    }))
    .await
}
