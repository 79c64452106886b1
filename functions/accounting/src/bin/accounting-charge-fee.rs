//! Lambda: `Task.Assigned`: debits the task's fee from the assignee.
use ates_accounting::{app, store::Store};
use ates_kernel::calendar::Calendar;
use ates_kernel::dynamo::Table;
use ates_kernel::for_process;
use chrono::Utc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::logging::init();
    let aws = ates_kernel::aws::load().await;
    let store = for_process(Store::new(Table::from_env(&aws)?));
    let calendar = for_process(Calendar::from_env()?);
    ates_kernel::lambda::serve_event_consumer(
        &aws,
        Box::new(move |event| {
            Box::pin(async move { app::charge_fee(store, calendar, &event, Utc::now()).await })
        }),
    )
    .await
}
