//! Everything that can go wrong in payments, each by name: what the caller can fix is refused
//! before anything is written.

use ates_kernel::http::Problem;
use ates_kernel::usecase::Failure;

#[derive(Debug, thiserror::Error)]
pub enum PaymentsError {
    #[error("{0}")]
    Invalid(String),
    #[error("the acquirer refused card token {token:?}: {reason}")]
    CardRefused { token: String, reason: String },
    #[error(transparent)]
    Partner(#[from] crate::ports::Unreachable),
    #[error(transparent)]
    Failed(#[from] Failure),
}

ates_kernel::context_error!(PaymentsError::Failed);

impl From<PaymentsError> for Problem {
    fn from(e: PaymentsError) -> Problem {
        use PaymentsError::*;
        let detail = e.to_string();
        match e {
            Invalid(_) | CardRefused { .. } => Problem::invalid(detail),
            Partner(_) => Problem::internal(detail),
            Failed(failure) => failure.into(),
        }
    }
}
