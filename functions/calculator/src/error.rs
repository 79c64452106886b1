//! Everything that can go wrong in the calculator's requests, each by name, and its one mapping
//! to an HTTP problem. (Its event handlers answer the kernel's `ConsumeError` instead.)

use ates_kernel::dynamo::StoreError;
use ates_kernel::http::Problem;

use crate::price::OutOfRange;

#[derive(Debug, thiserror::Error)]
pub enum CalculatorError {
    #[error("{0}")]
    Invalid(String),
    #[error("no such service type, or it is retired")]
    UnknownServiceType,
    #[error("the state changed meanwhile; retry")]
    ChangedMeanwhile,
    #[error(transparent)]
    Refused(#[from] ates_kernel::identity::Refused),
    #[error(transparent)]
    OutOfRange(#[from] OutOfRange),
    #[error(transparent)]
    Store(#[from] StoreError),
}

ates_kernel::context_error!(CalculatorError, CalculatorError::ChangedMeanwhile, |e| {
    CalculatorError::Invalid(e.to_string())
});

impl From<CalculatorError> for Problem {
    fn from(e: CalculatorError) -> Problem {
        use CalculatorError::*;
        let detail = e.to_string();
        match e {
            Invalid(_) => Problem::invalid(detail),
            // A retired type is quoted to nobody: to a client it is as good as none.
            UnknownServiceType => Problem::not_found(detail),
            ChangedMeanwhile => Problem::conflict(detail),
            Refused(refused) => refused.into(),
            // A stored base price the arithmetic cannot take is ours to fix, not the caller's.
            OutOfRange(_) | Store(_) => Problem::internal(detail),
        }
    }
}
