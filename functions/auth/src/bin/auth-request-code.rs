//! Lambda: `ates_auth::api::request_code`.
use ates_auth::{api, store::Store};
use ates_kernel::{config, mail::Mailer};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    ates_kernel::logging::init();
    let aws = ates_kernel::aws::load().await;
    let (store, mailer) = (Store::from_env(&aws)?, Mailer::new(&aws, config::required("MAIL_FROM")?));
    ates_kernel::http::serve(|req| api::request_code(&store, &mailer, req)).await
}
