//! Everything that can go wrong in accounting, and its one mapping to an HTTP problem.

use ates_kernel::dynamo::StoreError;
use ates_kernel::event::EventError;
use ates_kernel::http::Problem;
use ates_kernel::identity::Refused;

#[derive(Debug, thiserror::Error)]
pub enum AccountingError {
    #[error("{0}")]
    Invalid(String),
    #[error("no such account")]
    UnknownAccount,
    #[error("the ledger changed meanwhile; retry")]
    ChangedMeanwhile,
    #[error(transparent)]
    Refused(#[from] Refused),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Event(#[from] EventError),
}

ates_kernel::context_error!(AccountingError, AccountingError::ChangedMeanwhile, |e| {
    AccountingError::Invalid(e.to_string())
});

impl From<AccountingError> for Problem {
    fn from(e: AccountingError) -> Problem {
        let detail = e.to_string();
        match e {
            AccountingError::Invalid(_) => Problem::invalid(detail),
            AccountingError::UnknownAccount => Problem::not_found(detail),
            AccountingError::ChangedMeanwhile => Problem::conflict(detail),
            AccountingError::Refused(refused) => refused.into(),
            AccountingError::Store(_) | AccountingError::Event(_) => Problem::internal(detail),
        }
    }
}
