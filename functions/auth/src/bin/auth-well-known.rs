//! Lambda: `ates_auth::api::well_known` (OpenID discovery and JWKS).
use ates_auth::{api, signing_key::load_issuer};
use ates_kernel::for_process;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    ates_kernel::logging::init();
    let issuer = for_process(load_issuer(&ates_kernel::aws::load().await).await?);
    ates_kernel::lambda::serve_http(Box::new(move |req| Box::pin(api::well_known(issuer, req))))
        .await
}
