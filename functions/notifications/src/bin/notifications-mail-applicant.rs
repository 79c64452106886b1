//! Lambda: mails an applicant each step of their application (hiring's `Application.*` events),
//! once per step, the welcome pointing to the web app's sign-in (`ATES_ISSUER`, the site's address).
use ates_notifications::{app, mail};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::logging::init();
    let aws = ates_kernel::aws::load().await;
    let (store, ses) = mail::for_sending(&aws)?;
    let site = mail::site()?;
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
