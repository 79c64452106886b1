//! Lambda: rewrites stored legacy titles (`[UBERPOP-42] Fix`) into title + jira id; with
//! `{"pool": true}`, fills the pool of assignable accounts from the account copies. Invoked by an
//! operator with `{}` (or that), then with the `cursor` it answers until that is `null`. Safe to
//! run again.
use ates_kernel::dynamo::Table;
use ates_kernel::for_process;
use ates_tasks::{app, store::Store};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::logging::init();
    let store = for_process(Store::new(Table::from_env(
        &ates_kernel::aws::load().await,
    )?));
    ates_kernel::lambda::serve_invocation(Box::new(move |input| {
        Box::pin(async move {
            let run = serde_json::from_value(input)?;
            let page = app::migrate(store, &run).await?;
            Ok(serde_json::to_value(page)?)
        })
    }))
    .await
}
