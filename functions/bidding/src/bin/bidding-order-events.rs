//! Lambda: `Order.Created`, `Order.InWork`, `Order.SuccessInvoiced`, `Order.FailedInvoiced`,
//! `Order.Cancelled`: the facts of the order's book, each learned once; a replayed event
//! (`bidding-replay`) is learned again (N4).
use ates_bidding::{app, store::Store};
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
            Box::pin(async move {
                app::on_order_event(store, calendar, &event, delivery.replayed).await
            })
        }),
    )
    .await
}
