//! Lambda: `ates_auth::api::refresh`.
use ates_auth::{api, issuer::Issuer, store::Store};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    ates_kernel::logging::init();
    let config = ates_kernel::aws::load().await;
    let (store, issuer) = (Store::from_env(&config)?, Issuer::load(&config).await?);
    ates_kernel::http::serve(|req| api::refresh(&store, &issuer, req)).await
}
