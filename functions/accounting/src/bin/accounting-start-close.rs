//! Lambda: `Clock.DayEnded`: starts the day's close (once the day before is closed).
use ates_accounting::{app, store::Store};
use ates_kernel::dynamo::Table;
use ates_kernel::for_process;
use chrono::Utc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::logging::init();
    let aws = ates_kernel::aws::load().await;
    let store = for_process(Store::new(Table::from_env(&aws)?));
    ates_kernel::lambda::serve_event_consumer(
        &aws,
        Box::new(move |event| {
            Box::pin(async move { app::start_close(store, &event, Utc::now()).await })
        }),
    )
    .await
}
