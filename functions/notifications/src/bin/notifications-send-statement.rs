//! Lambda: mails an employee's daily statement from `Statement.Requested`, once per account and day.
use ates_kernel::dynamo::Table;
use ates_kernel::{config, for_process, mail::Mailer};
use ates_notifications::{app, mail::Ses, store::Store};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::logging::init();
    let aws = ates_kernel::aws::load().await;
    let store = for_process(Store::new(Table::from_env(&aws)?));
    let ses = for_process(Ses(Mailer::new(&aws, config::required("MAIL_FROM")?)));
    ates_kernel::lambda::serve_event_deliveries(
        &aws,
        Box::new(move |event, delivery| {
            let now = chrono::Utc::now();
            Box::pin(async move { app::send_statement(store, ses, &event, delivery, now).await })
        }),
    )
    .await
}
