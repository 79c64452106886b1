//! Everything that can go wrong in accounting, and its one mapping to an HTTP problem.

use ates_kernel::dynamo::{BadCursor, StoreError};
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

impl From<ates_kernel::usecase::Contended> for AccountingError {
    fn from(_: ates_kernel::usecase::Contended) -> Self {
        AccountingError::ChangedMeanwhile
    }
}

impl From<BadCursor> for AccountingError {
    fn from(e: BadCursor) -> Self {
        AccountingError::Invalid(e.to_string())
    }
}

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
