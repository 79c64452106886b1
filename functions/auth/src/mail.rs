//! The SES adapter of the [`Mailer`] port: the kernel's mailer.

use crate::error::AuthError;
use crate::ports::Mailer;

impl Mailer for ates_kernel::mail::Mailer {
    async fn send(&self, to: &str, subject: &str, text: &str) -> Result<(), AuthError> {
        ates_kernel::mail::Mailer::send(self, to, subject, text)
            .await
            .map_err(|e| AuthError::Mail(e.to_string()))
    }
}
