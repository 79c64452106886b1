//! Lambda: invoked every 5 minutes by a schedule; orders again every kit whose order was not
//! delivered by its deadline, and gives up a kit whose fourth order failed. Safe to run twice:
//! a kit ordered again has a new deadline.
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
    ates_kernel::lambda::serve_invocation(Box::new(move |_input| {
        Box::pin(async move {
            let chased = app::chase_kits(store, supplier, deadline, chrono::Utc::now()).await?;
            Ok(serde_json::to_value(chased)?)
        })
    }))
    .await
}
