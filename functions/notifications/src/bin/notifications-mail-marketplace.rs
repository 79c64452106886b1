//! Lambda: mails the marketplace's news (an order's progress to its client, kits to hand out to
//! the supply desk, invoices to clients, monthly statements to workers), once per cause.
use ates_kernel::dynamo::Table;
use ates_kernel::{config, for_process, mail::Mailer};
use ates_notifications::app::{self, Mailing};
use ates_notifications::{mail::Ses, store::Store};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::logging::init();
    let aws = ates_kernel::aws::load().await;
    let store = for_process(Store::new(Table::from_env(&aws)?));
    let ses = for_process(Ses(Mailer::new(&aws, config::required("MAIL_FROM")?)));
    let mailing: &Mailing = for_process(Mailing {
        site: for_process(
            config::required("ATES_ISSUER")?
                .trim_end_matches('/')
                .to_owned(),
        ),
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
