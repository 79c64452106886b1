//! Lambda: `ates_auth::api::well_known` (OpenID discovery and JWKS, from the public keys only).
use ates_auth::{api, signing_key::load_public_keys};
use ates_kernel::for_process;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    ates_kernel::logging::init();
    let issuer: &'static str = for_process(ates_kernel::config::required("ATES_ISSUER")?);
    let keys = for_process(load_public_keys(&ates_kernel::aws::load().await).await?);
    ates_kernel::lambda::serve_http(Box::new(move |req| {
        Box::pin(api::well_known(issuer, keys, req))
    }))
    .await
}
