//! Lambda: `Payout.Made` (accounting's day) and `Billing.StatementIssued` (billing's month):
//! the payout recorded, held without details or handed to the configured bank under its key,
//! then posted (a salary with `Payment.SalaryPaid`) in one write.
use ates_kernel::dynamo::Table;
use ates_kernel::for_process;
use ates_payments::{app, bank, store::Store};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::logging::init();
    let aws = ates_kernel::aws::load().await;
    let store = for_process(Store::new(Table::from_env(&aws)?));
    let bank = for_process(bank::from_env()?);
    ates_kernel::lambda::serve_event_consumer(
        &aws,
        Box::new(move |event| {
            Box::pin(async move {
                app::on_payout_request(store, bank, &event, chrono::Utc::now()).await
            })
        }),
    )
    .await
}
