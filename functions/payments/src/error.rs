//! Everything that can go wrong in payments, each by name: what the caller can fix is refused
//! before anything is written.

use ates_kernel::dynamo::StoreError;
use ates_kernel::event::EventError;
use ates_kernel::http::Problem;

#[derive(Debug, thiserror::Error)]
pub enum PaymentsError {
    #[error("{0}")]
    Invalid(String),
    #[error("the acquirer refused card token {token:?}: {reason}")]
    CardRefused { token: String, reason: String },
    #[error("the state changed meanwhile; retry")]
    ChangedMeanwhile,
    #[error(transparent)]
    Refused(#[from] ates_kernel::identity::Refused),
    #[error(transparent)]
    Partner(#[from] crate::ports::Unreachable),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Event(#[from] EventError),
}

ates_kernel::context_error!(PaymentsError, PaymentsError::ChangedMeanwhile, |e| {
    PaymentsError::Invalid(e.to_string())
});

impl From<PaymentsError> for Problem {
    fn from(e: PaymentsError) -> Problem {
        use PaymentsError::*;
        let detail = e.to_string();
        match e {
            Invalid(_) | CardRefused { .. } => Problem::invalid(detail),
            ChangedMeanwhile => Problem::conflict(detail),
            Refused(refused) => refused.into(),
            Partner(_) | Store(_) | Event(_) => Problem::internal(detail),
        }
    }
}
