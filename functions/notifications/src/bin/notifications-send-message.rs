//! Lambda: `ates_notifications::api::send_message` (managers, admins): sent now, through SES.
use ates_notifications::{api, mail};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    ates_kernel::logging::init();
    let aws = ates_kernel::aws::load().await;
    let (store, ses) = mail::for_sending(&aws)?;
    ates_kernel::lambda::serve_http(Box::new(move |req| {
        Box::pin(api::send_message(store, ses, req))
    }))
    .await
}
