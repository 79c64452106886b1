//! Outgoing mail through SES (v2).

use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};

#[derive(Debug, thiserror::Error)]
#[error("mail could not be sent: {0}")]
pub struct MailError(String);

#[derive(Clone)]
pub struct Mailer {
    ses: aws_sdk_sesv2::Client,
    from: String,
}

impl Mailer {
    pub fn new(config: &aws_config::SdkConfig, from: String) -> Self {
        Self {
            ses: aws_sdk_sesv2::Client::new(config),
            from,
        }
    }

    pub async fn send(&self, to: &str, subject: &str, text: &str) -> Result<(), MailError> {
        let content = |s: &str| Content::builder().data(s).charset("UTF-8").build();
        let message = Message::builder()
            .subject(content(subject).map_err(|e| MailError(e.to_string()))?)
            .body(
                Body::builder()
                    .text(content(text).map_err(|e| MailError(e.to_string()))?)
                    .build(),
            )
            .build();
        self.ses
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(to).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map_err(|e| MailError(aws_sdk_sesv2::error::DisplayErrorContext(e).to_string()))?;
        Ok(())
    }
}
