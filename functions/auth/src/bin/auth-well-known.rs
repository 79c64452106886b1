//! Lambda: `ates_auth::api::well_known` (OpenID discovery and JWKS).
use ates_auth::{api, issuer::Issuer};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    ates_kernel::logging::init();
    let issuer = Issuer::load(&ates_kernel::aws::load().await).await?;
    ates_kernel::http::serve(|req| api::well_known(&issuer, req)).await
}
