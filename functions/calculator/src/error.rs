//! Everything that can go wrong in the calculator's requests, each by name, and its one mapping
//! to an HTTP problem. (Its event handlers answer the kernel's `ConsumeError` instead.)

use ates_kernel::http::Problem;
use ates_kernel::usecase::Failure;

use crate::price::OutOfRange;

#[derive(Debug, thiserror::Error)]
pub enum CalculatorError {
    #[error("{0}")]
    Invalid(String),
    #[error("no such service type, or it is retired")]
    UnknownServiceType,
    #[error(transparent)]
    OutOfRange(#[from] OutOfRange),
    #[error(transparent)]
    Failed(#[from] Failure),
}

ates_kernel::context_error!(CalculatorError::Failed);

impl From<CalculatorError> for Problem {
    fn from(e: CalculatorError) -> Problem {
        use CalculatorError::*;
        let detail = e.to_string();
        match e {
            Invalid(_) => Problem::invalid(detail),
            // A retired type is quoted to nobody: to a client it is as good as none.
            UnknownServiceType => Problem::not_found(detail),
            // A stored base price the arithmetic cannot take is ours to fix, not the caller's.
            OutOfRange(_) => Problem::internal(detail),
            Failed(failure) => failure.into(),
        }
    }
}
