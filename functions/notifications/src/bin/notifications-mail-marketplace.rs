//! Lambda: mails the marketplace's news (an order's progress to its client, kits to hand out to
//! the supply desk, invoices to clients, monthly statements to workers), once per cause.
use ates_kernel::{config, for_process};
use ates_notifications::app::{self, Mailing};
use ates_notifications::mail;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::logging::init();
    let aws = ates_kernel::aws::load().await;
    let (store, ses) = mail::for_sending(&aws)?;
    let mailing: &Mailing = for_process(Mailing {
        site: mail::site()?,
        supply_desk: for_process(config::required("SUPPLY_DESK")?),
    });
    ates_kernel::lambda::serve_event_deliveries(
        &aws,
        Box::new(move |event, delivery| {
            let now = chrono::Utc::now();
            Box::pin(async move {
                app::mail_marketplace(store, ses, mailing, &event, delivery, now).await
            })
        }),
    )
    .await
}
