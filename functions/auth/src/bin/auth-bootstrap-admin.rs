//! Lambda: creates the first admin (invoked once by an operator; see README).
use ates_auth::{api, store::Store};
use ates_kernel::for_process;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::logging::init();
    let store = for_process(Store::from_env(&ates_kernel::aws::load().await)?);
    ates_kernel::lambda::serve_invocation(Box::new(move |input| {
        Box::pin(async move {
            let input: api::BootstrapAdmin = serde_json::from_value(input)?;
            Ok(api::bootstrap_admin(store, input).await?)
        })
    }))
    .await
}
