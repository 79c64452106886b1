//! Lambda: `ates_auth::api::sign_out`.
use ates_auth::{api, store::Store};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    ates_kernel::logging::init();
    let store = Store::from_env(&ates_kernel::aws::load().await)?;
    ates_kernel::http::serve(|req| api::sign_out(&store, req)).await
}
