//! Lambda: `Order.Rated` (choose the executor, or wait), `Order.ExecutorReleased` (free the
//! booking, choose again without them), `Order.Cancelled` (free the booking, stop waiting).
use ates_kernel::dynamo::Table;
use ates_kernel::for_process;
use ates_matching::{app, store::Store};
use rand::SeedableRng;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::logging::init();
    let aws = ates_kernel::aws::load().await;
    let store = for_process(Store::new(Table::from_env(&aws)?));
    ates_kernel::lambda::serve_event_consumer(
        &aws,
        Box::new(move |event| {
            Box::pin(async move {
                let mut rng = rand::rngs::StdRng::from_entropy();
                app::on_order_event(store, &event, chrono::Utc::now(), &mut rng).await
            })
        }),
    )
    .await
}
