//! Lambda: `Report.PreReportSubmitted` fires `begin` (`pending` → `pre_report` → `in_work`),
//! `Report.ReportSubmitted` fires `finish` (`in_work` → `report`).
use ates_kernel::dynamo::Table;
use ates_kernel::for_process;
use ates_orders::{app, store::Store};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::logging::init();
    let aws = ates_kernel::aws::load().await;
    let store = for_process(Store::new(Table::from_env(&aws)?));
    ates_kernel::lambda::serve_event_consumer(
        &aws,
        Box::new(move |event| {
            Box::pin(
                async move { app::on_executors_report(store, &event, chrono::Utc::now()).await },
            )
        }),
    )
    .await
}
