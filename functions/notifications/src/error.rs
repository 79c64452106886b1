//! Everything that can go wrong in notifications' queries, and its one mapping to an HTTP
//! problem. (Its event handlers answer the kernel's `ConsumeError` instead.)

use ates_kernel::http::Problem;
use ates_kernel::usecase::Failure;

#[derive(Debug, thiserror::Error)]
pub enum NotificationError {
    #[error("{0}")]
    Invalid(String),
    #[error("no account {0} is known")]
    UnknownAccount(uuid::Uuid),
    #[error(transparent)]
    Failed(#[from] Failure),
}

ates_kernel::context_error!(NotificationError::Failed);

impl From<NotificationError> for Problem {
    fn from(e: NotificationError) -> Problem {
        let detail = e.to_string();
        match e {
            // The account is named in the body, so the body is what is wrong.
            NotificationError::Invalid(_) | NotificationError::UnknownAccount(_) => {
                Problem::invalid(detail)
            }
            NotificationError::Failed(failure) => failure.into(),
        }
    }
}
