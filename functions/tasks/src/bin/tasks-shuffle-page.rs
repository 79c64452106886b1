//! Lambda: reassigns one page of open tasks for a shuffle (fed by the tasks work queue).
use ates_kernel::inbox::{self, ConsumeError};
use ates_tasks::error::TaskError;
use ates_tasks::shuffle::Page;
use ates_tasks::store::Store;
use rand::SeedableRng;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::logging::init();
    let store = Store::from_env(&ates_kernel::aws::load().await)?;
    let store = &store;
    inbox::run_worker(|page: Page| async move {
        let span = tracing::info_span!("shuffle_page", correlation_id = %page.correlation_id, shuffle_id = %page.shuffle_id, shard = page.shard, page = page.page);
        let _entered = span.enter();
        match store.shuffle_page(&page, &mut rand::rngs::StdRng::from_entropy()).await {
            Ok(outcome) => {
                tracing::info!(?outcome, "shuffle page done");
                Ok(())
            }
            Err(TaskError::UnknownShuffle) => Err(ConsumeError::Poison("no such shuffle".into())),
            Err(e) => Err(ConsumeError::Retry(e.to_string())),
        }
    })
    .await
}
