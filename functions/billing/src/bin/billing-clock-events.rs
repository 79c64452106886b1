//! Lambda: `Clock.WeekEnded` issues the week's invoices, `Clock.MonthEnded` the month's statements, each once.
use ates_billing::{app, store::Store};
use ates_kernel::dynamo::Table;
use ates_kernel::for_process;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::logging::init();
    let aws = ates_kernel::aws::load().await;
    let store = for_process(Store::new(Table::from_env(&aws)?));
    ates_kernel::lambda::serve_event_consumer(
        &aws,
        Box::new(move |event| {
            Box::pin(async move { app::on_clock(store, &event, chrono::Utc::now()).await })
        }),
    )
    .await
}
