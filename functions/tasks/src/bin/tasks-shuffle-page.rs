//! Lambda: reassigns one page of open tasks for a shuffle (fed by the tasks work queue).
use ates_kernel::for_process;
use ates_kernel::inbox::{self, ConsumeError};
use ates_tasks::error::TaskError;
use ates_tasks::shuffle::Page;
use ates_tasks::store::Store;
use rand::SeedableRng;
use tracing::Instrument;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::logging::init();
    let store = for_process(Store::from_env(&ates_kernel::aws::load().await)?);
    inbox::run_worker(Box::new(move |work| {
        Box::pin(async move {
            let page: Page = serde_json::from_value(work).map_err(|e| ConsumeError::Poison(e.to_string()))?;
            let span = tracing::info_span!("shuffle_page", correlation_id = %page.correlation_id, shuffle_id = %page.shuffle_id, shard = page.shard, page = page.page);
            let mut rng = rand::rngs::StdRng::from_entropy();
            match store.shuffle_page(&page, &mut rng).instrument(span.clone()).await {
                Ok(outcome) => {
                    span.in_scope(|| tracing::info!(?outcome, "shuffle page done"));
                    Ok(())
                }
                Err(TaskError::UnknownShuffle) => Err(ConsumeError::Poison("no such shuffle".into())),
                Err(e) => Err(ConsumeError::Retry(e.to_string())),
            }
        })
    }))
    .await
}
