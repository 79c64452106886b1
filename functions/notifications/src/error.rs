//! Everything that can go wrong in notifications' queries, and its one mapping to an HTTP
//! problem. (Its event handlers answer the kernel's `ConsumeError` instead.)

use ates_kernel::dynamo::{BadCursor, StoreError};
use ates_kernel::http::Problem;
use ates_kernel::identity::Refused;

#[derive(Debug, thiserror::Error)]
pub enum NotificationError {
    #[error("{0}")]
    Invalid(String),
    #[error("the cursor is not one this listing gave")]
    BadCursor,
    #[error(transparent)]
    Refused(#[from] Refused),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<BadCursor> for NotificationError {
    fn from(_: BadCursor) -> Self {
        NotificationError::BadCursor
    }
}

impl From<NotificationError> for Problem {
    fn from(e: NotificationError) -> Problem {
        let detail = e.to_string();
        match e {
            NotificationError::Invalid(_) => Problem::invalid(detail),
            // A cursor no listing gave is 422, as the API document's Cursor says.
            NotificationError::BadCursor => Problem::invalid(detail),
            NotificationError::Refused(refused) => refused.into(),
            NotificationError::Store(_) => Problem::internal(detail),
        }
    }
}
