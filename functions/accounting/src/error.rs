//! Everything that can go wrong in accounting, and its one mapping to an HTTP problem.

use ates_kernel::http::Problem;
use ates_kernel::usecase::Failure;

#[derive(Debug, thiserror::Error)]
pub enum AccountingError {
    #[error("{0}")]
    Invalid(String),
    #[error("no such account")]
    UnknownAccount,
    #[error(transparent)]
    Failed(#[from] Failure),
}

ates_kernel::context_error!(AccountingError::Failed);

impl From<AccountingError> for Problem {
    fn from(e: AccountingError) -> Problem {
        let detail = e.to_string();
        match e {
            AccountingError::Invalid(_) => Problem::invalid(detail),
            AccountingError::UnknownAccount => Problem::not_found(detail),
            AccountingError::Failed(failure) => failure.into(),
        }
    }
}
