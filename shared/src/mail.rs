//! Outgoing mail through SES (v2): plain text (sign-in codes) or plain text with an HTML
//! alternative (statements).

use aws_sdk_sesv2::operation::send_email::SendEmailError;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};

/// Why a mail was not sent. Only SES's verdict on the message itself is final; everything else
/// (throttling, a paused account, an outage, the network) may pass.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// SES refused this message (an address it cannot send to, content it rejects): sending the
    /// same message again will not help.
    #[error("mail rejected: {0}")]
    Rejected(String),
    /// Not sent now; it may be sent later.
    #[error("mail could not be sent: {0}")]
    Failed(String),
}

#[derive(Clone)]
pub struct Mailer {
    ses: aws_sdk_sesv2::Client,
    from: String,
}

fn content(data: &str) -> Result<Content, MailError> {
    Content::builder()
        .data(data)
        .charset("UTF-8")
        .build()
        .map_err(|e| MailError::Rejected(e.to_string()))
}

impl Mailer {
    pub fn new(config: &aws_config::SdkConfig, from: String) -> Self {
        Self {
            ses: aws_sdk_sesv2::Client::new(config),
            from,
        }
    }

    /// A plain-text mail.
    pub async fn send(&self, to: &str, subject: &str, text: &str) -> Result<(), MailError> {
        self.deliver(to, subject, Body::builder().text(content(text)?).build())
            .await
    }

    /// A mail in plain text and HTML (the reader's client shows the one it prefers).
    pub async fn send_with_html(
        &self,
        to: &str,
        subject: &str,
        text: &str,
        html: &str,
    ) -> Result<(), MailError> {
        let body = Body::builder()
            .text(content(text)?)
            .html(content(html)?)
            .build();
        self.deliver(to, subject, body).await
    }

    async fn deliver(&self, to: &str, subject: &str, body: Body) -> Result<(), MailError> {
        let message = Message::builder()
            .subject(content(subject)?)
            .body(body)
            .build();
        // The SDK itself retries throttling and transient errors (with backoff) before this
        // answers.
        let sent = self
            .ses
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(to).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await;
        match sent {
            Ok(_) => {
                crate::metrics::count(crate::metrics::MAILS_SENT, 1);
                Ok(())
            }
            Err(e) => {
                let rejected = matches!(
                    e.as_service_error(),
                    Some(
                        SendEmailError::MessageRejected(_) | SendEmailError::BadRequestException(_)
                    )
                );
                let reason = aws_sdk_sesv2::error::DisplayErrorContext(e).to_string();
                Err(if rejected {
                    MailError::Rejected(reason)
                } else {
                    MailError::Failed(reason)
                })
            }
        }
    }
}
