//! Lambda: creates the first admin (invoked once by an operator; see README).
use ates_auth::{app, store::Store};
use ates_kernel::dynamo::Table;
use ates_kernel::for_process;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::logging::init();
    let store = for_process(Store::new(Table::from_env(
        &ates_kernel::aws::load().await,
    )?));
    let passwords =
        ates_kernel::config::optional("BOOTSTRAP_ADMIN_PASSWORD", "refused") == "allowed";
    ates_kernel::lambda::serve_invocation(Box::new(move |input| {
        Box::pin(async move {
            let input: app::BootstrapAdmin = serde_json::from_value(input)?;
            let done = app::bootstrap_admin(store, input, passwords, chrono::Utc::now()).await?;
            Ok(serde_json::to_value(done)?)
        })
    }))
    .await
}
