//! The SES adapter of the [`Courier`] port: the kernel's mailer, text with an HTML alternative.

use ates_kernel::config::{self, MissingVariable};
use ates_kernel::dynamo::Table;
use ates_kernel::for_process;
use ates_kernel::mail::{MailError, Mailer};

use crate::message::Content;
use crate::message::{Channel, Message};
use crate::ports::{Courier, Undelivered};
use crate::store::Store;

/// Email through SES.
pub struct Ses(pub Mailer);

impl Courier for Ses {
    async fn deliver(&self, message: &Message, content: &Content) -> Result<(), Undelivered> {
        match message.channel {
            Channel::Email => self
                .0
                .send_with_html(&message.to, &content.subject, &content.text, &content.html)
                .await
                .map_err(|e| match e {
                    MailError::Rejected(reason) => Undelivered::Rejected(reason),
                    MailError::Failed(reason) => Undelivered::Failed(reason),
                }),
        }
    }
}

/// What every function that sends holds for its process: its table and SES (`TABLE_NAME`,
/// `MAIL_FROM`), made once at cold start.
pub fn for_sending(
    aws: &aws_config::SdkConfig,
) -> Result<(&'static Store, &'static Ses), MissingVariable> {
    let store = Store::new(Table::from_env(aws)?);
    let ses = Ses(Mailer::new(aws, config::required("MAIL_FROM")?));
    Ok((for_process(store), for_process(ses)))
}

/// The web app's address the mails link to (`ATES_ISSUER`, the site's own), no trailing slash.
pub fn site() -> Result<&'static str, MissingVariable> {
    let site = config::required("ATES_ISSUER")?;
    Ok(for_process(site.trim_end_matches('/').to_owned()))
}
