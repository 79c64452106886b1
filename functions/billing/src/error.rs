//! Everything that can go wrong in billing, each by name, and its one mapping to an HTTP
//! problem: what the caller can fix is refused before anything is written.

use ates_kernel::http::Problem;
use ates_kernel::usecase::Failure;

#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    #[error("{0}")]
    Invalid(String),
    #[error("no such invoice")]
    UnknownInvoice,
    #[error(transparent)]
    Failed(#[from] Failure),
}

ates_kernel::context_error!(BillingError::Failed);

impl From<BillingError> for Problem {
    fn from(e: BillingError) -> Problem {
        use BillingError::*;
        let detail = e.to_string();
        match e {
            Invalid(_) => Problem::invalid(detail),
            UnknownInvoice => Problem::not_found(detail),
            Failed(failure) => failure.into(),
        }
    }
}
