//! Lambda: keeps the task tracker's copy of accounts from `Account.*` events.
use ates_kernel::for_process;
use ates_kernel::inbox::{self, ConsumeError, Outcome};
use ates_tasks::accounts::{AccountSnapshot, ACCOUNT_EVENTS};
use ates_tasks::store::Store;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::logging::init();
    let store = for_process(Store::from_env(&ates_kernel::aws::load().await)?);
    inbox::run_consumer(Box::new(move |event| {
        Box::pin(async move {
            if !ACCOUNT_EVENTS.contains(&event.name.as_str()) {
                return Ok(Outcome::Superseded);
            }
            let account: AccountSnapshot = event
                .decode()
                .map_err(|e| ConsumeError::Poison(e.to_string()))?;
            Ok(store.sync_account(&account, &event).await?)
        })
    }))
    .await
}
