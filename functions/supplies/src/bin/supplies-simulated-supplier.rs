//! Lambda: the simulated supplier (`ates_supplies::supplier`): takes the orders from its queue
//! and delivers each by the signed callback, or never.
use ates_kernel::for_process;
use ates_kernel::inbox::{self, ConsumeError, DeadLetters};
use ates_supplies::kit::SupplyOrder;
use ates_supplies::supplier::{self, Simulation};
use aws_lambda_events::sqs::SqsEvent;
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::logging::init();
    let aws = ates_kernel::aws::load().await;
    let parking = for_process(DeadLetters::from_env(&aws)?);
    let simulation = for_process(Simulation::from_env(supplier::shared_secret(&aws).await?)?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        let handled =
            inbox::consume_work(event.payload, parking, |order: SupplyOrder, _| async move {
                supplier::handle(simulation, &order)
                    .await
                    .map_err(ConsumeError::Retry)
            });
        Ok::<_, lambda_runtime::Error>(handled.await)
    }))
    .await
}
