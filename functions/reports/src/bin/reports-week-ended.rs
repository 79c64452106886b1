//! Lambda: `Clock.WeekEnded` draws the week's random QA sample (a fresh random seed, kept with
//! the sample; a repeated event opens the kept sample's cases).
use ates_kernel::dynamo::Table;
use ates_kernel::for_process;
use ates_reports::{app, store::Store};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::logging::init();
    let aws = ates_kernel::aws::load().await;
    let store = for_process(Store::new(Table::from_env(&aws)?));
    ates_kernel::lambda::serve_event_consumer(
        &aws,
        Box::new(move |event| {
            Box::pin(async move {
                app::on_clock_event(store, &event, rand::random(), chrono::Utc::now()).await
            })
        }),
    )
    .await
}
