//! Lambda: `ates_hiring::api::apply`, the public form: the applicant's token is mailed through SES
//! with a link into the web app (`ATES_ISSUER`, the site's address).
use ates_hiring::{api, mail::Ses, store::Store};
use ates_kernel::dynamo::Table;
use ates_kernel::{config, for_process, mail::Mailer};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    ates_kernel::logging::init();
    let aws = ates_kernel::aws::load().await;
    let store = for_process(Store::new(Table::from_env(&aws)?));
    let mail = for_process(Ses {
        mailer: Mailer::new(&aws, config::required("MAIL_FROM")?),
        site: config::required("ATES_ISSUER")?
            .trim_end_matches('/')
            .to_owned(),
    });
    ates_kernel::lambda::serve_http(Box::new(move |req| Box::pin(api::apply(store, mail, req))))
        .await
}
