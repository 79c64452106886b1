//! Lambda: `ates_auth::api::sign_in_with_code`.
use ates_auth::{api, issuer::Issuer, store::Store};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    ates_kernel::logging::init();
    let config = ates_kernel::aws::load().await;
    let (store, issuer) = (Store::from_env(&config)?, Issuer::load(&config).await?);
    ates_kernel::http::serve(|req| api::sign_in_with_code(&store, &issuer, req)).await
}
