//! Lambda: `ates_tasks::api::list_tasks`.
use ates_tasks::{api, store::Store};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    ates_kernel::logging::init();
    let store = Store::from_env(&ates_kernel::aws::load().await)?;
    ates_kernel::http::serve(|req| api::list_tasks(&store, req)).await
}
