//! Lambda: `Payout.Made`: hands the payout to the payment port, or holds it until the employee
//! gives bank details.
use ates_accounting::{app, bank::RecordingBank, store::Store};
use ates_kernel::dynamo::Table;
use ates_kernel::for_process;
use chrono::Utc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::logging::init();
    let aws = ates_kernel::aws::load().await;
    let store = for_process(Store::new(Table::from_env(&aws)?));
    let bank = for_process(RecordingBank::new(Table::from_env(&aws)?));
    ates_kernel::lambda::serve_event_consumer(
        &aws,
        Box::new(move |event| {
            Box::pin(async move { app::send_payout(store, bank, &event, Utc::now()).await })
        }),
    )
    .await
}
