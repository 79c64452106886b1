//! Lambda: creates the first admin (invoked once by an operator; see README).
use ates_auth::{api, store::Store};
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::logging::init();
    let store = Store::from_env(&ates_kernel::aws::load().await)?;
    let store = &store;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<api::BootstrapAdmin>| async move {
        api::bootstrap_admin(store, event.payload).await.map_err(lambda_runtime::Error::from)
    }))
    .await
}
