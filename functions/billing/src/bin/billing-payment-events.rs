//! Lambda: `Payment.CollectionSucceeded`/`CollectionFailed`: the invoice paid (its orders settled) or declined; `Payment.SalaryPaid`: the salary posted.
use ates_billing::{app, store::Store};
use ates_kernel::calendar::Calendar;
use ates_kernel::dynamo::Table;
use ates_kernel::for_process;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::logging::init();
    let aws = ates_kernel::aws::load().await;
    let store = for_process(Store::new(Table::from_env(&aws)?));
    let calendar = for_process(Calendar::from_env()?);
    ates_kernel::lambda::serve_event_deliveries(
        &aws,
        Box::new(move |event, delivery| {
            Box::pin(
                async move { app::on_payment(store, calendar, &event, delivery.replayed).await },
            )
        }),
    )
    .await
}
