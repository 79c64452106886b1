//! Lambda: the order's events supplies follows (`Order.Rated`: the kit is requested and
//! ordered; `Order.ExecutorAssigned`, `Order.ExecutorReleased`, `Order.Cancelled`).
use ates_kernel::dynamo::Table;
use ates_kernel::for_process;
use ates_supplies::app::{self, Deadline};
use ates_supplies::{store::Store, supplier::SupplierQueue};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::logging::init();
    let aws = ates_kernel::aws::load().await;
    let store = for_process(Store::new(Table::from_env(&aws)?));
    let supplier = for_process(SupplierQueue::from_env(&aws)?);
    let deadline = Deadline::from_env()?;
    ates_kernel::lambda::serve_event_consumer(
        &aws,
        Box::new(move |event| {
            Box::pin(async move {
                app::on_order_event(store, supplier, &event, deadline, chrono::Utc::now()).await
            })
        }),
    )
    .await
}
