//! Lambda: `ates_auth::api::sign_in`.
use ates_auth::{api, signing_key::load_issuer, store::Store};
use ates_kernel::dynamo::Table;
use ates_kernel::for_process;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    ates_kernel::logging::init();
    let config = ates_kernel::aws::load().await;
    let (store, issuer) = (
        for_process(Store::new(Table::from_env(&config)?)),
        for_process(load_issuer(&config).await?),
    );
    ates_kernel::lambda::serve_http(Box::new(move |req| {
        Box::pin(api::sign_in(store, issuer, req))
    }))
    .await
}
