//! Lambda: mails an employee's daily statement from `Statement.Requested`, once per account and day.
use ates_notifications::{app, mail};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::logging::init();
    let aws = ates_kernel::aws::load().await;
    let (store, ses) = mail::for_sending(&aws)?;
    ates_kernel::lambda::serve_event_deliveries(
        &aws,
        Box::new(move |event, delivery| {
            let now = chrono::Utc::now();
            Box::pin(async move { app::send_statement(store, ses, &event, delivery, now).await })
        }),
    )
    .await
}
