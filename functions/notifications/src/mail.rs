//! The SES adapter of the [`Courier`] port: the kernel's mailer, text with an HTML alternative.

use ates_kernel::mail::{MailError, Mailer};

use crate::message::Content;
use crate::message::{Channel, Message};
use crate::ports::{Courier, Undelivered};

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
