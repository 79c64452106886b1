//! Lambda: mails an applicant each step of their application (hiring's `Application.*` events),
//! once per step, the welcome pointing to the web app's sign-in (`ATES_ISSUER`, the site's address).
use ates_kernel::dynamo::Table;
use ates_kernel::{config, for_process, mail::Mailer};
use ates_notifications::{app, mail::Ses, store::Store};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::logging::init();
    let aws = ates_kernel::aws::load().await;
    let store = for_process(Store::new(Table::from_env(&aws)?));
    let ses = for_process(Ses(Mailer::new(&aws, config::required("MAIL_FROM")?)));
    let site: &str = for_process(
        config::required("ATES_ISSUER")?
            .trim_end_matches('/')
            .to_owned(),
    );
    ates_kernel::lambda::serve_event_deliveries(
        &aws,
        Box::new(move |event, delivery| {
            let now = chrono::Utc::now();
            Box::pin(
                async move { app::mail_applicant(store, ses, site, &event, delivery, now).await },
            )
        }),
    )
    .await
}
