//! Lambda: `ates_notifications::api::send_message` (managers, admins): sent now, through SES.
use ates_kernel::dynamo::Table;
use ates_kernel::{config, for_process, mail::Mailer};
use ates_notifications::{api, mail::Ses, store::Store};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    ates_kernel::logging::init();
    let aws = ates_kernel::aws::load().await;
    let store = for_process(Store::new(Table::from_env(&aws)?));
    let ses = for_process(Ses(Mailer::new(&aws, config::required("MAIL_FROM")?)));
    ates_kernel::lambda::serve_http(Box::new(move |req| {
        Box::pin(api::send_message(store, ses, req))
    }))
    .await
}
