//! Lambda: closes one page of a partition's ledger accounts for a day's close (fed by the
//! accounting work queue).
#![recursion_limit = "256"] // the page future nests deeply: use case -> store -> table -> retries
use ates_accounting::{app, store::Store};
use ates_kernel::dynamo::Table;
use ates_kernel::for_process;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::logging::init();
    let aws = ates_kernel::aws::load().await;
    let table = Table::from_env(&aws)?;
    let store = for_process(Store::new(table.clone()));
    ates_kernel::lambda::serve_job_pages(
        &aws,
        table,
        Box::new(move |page| Box::pin(app::close_page_work(store, page))),
    )
    .await
}
