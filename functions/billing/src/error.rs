//! Everything that can go wrong in billing, each by name, and its one mapping to an HTTP
//! problem: what the caller can fix is refused before anything is written.

use ates_kernel::dynamo::StoreError;
use ates_kernel::event::EventError;
use ates_kernel::http::Problem;
use ates_kernel::usecase::KeyedError;

#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    #[error("{0}")]
    Invalid(String),
    #[error("no such invoice")]
    UnknownInvoice,
    #[error("this Idempotency-Key was used for a different request")]
    KeyReused,
    #[error("the books changed meanwhile; retry")]
    ChangedMeanwhile,
    #[error("the cursor is not one this listing gave")]
    BadCursor,
    #[error(transparent)]
    Refused(#[from] ates_kernel::identity::Refused),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Event(#[from] EventError),
}

ates_kernel::context_error!(BillingError, BillingError::ChangedMeanwhile, |_| {
    BillingError::BadCursor
});

impl KeyedError for BillingError {
    fn key_reused() -> Self {
        BillingError::KeyReused
    }
}

impl From<BillingError> for Problem {
    fn from(e: BillingError) -> Problem {
        use BillingError::*;
        let detail = e.to_string();
        match e {
            Invalid(_) | KeyReused | BadCursor => Problem::invalid(detail),
            ChangedMeanwhile => Problem::conflict(detail),
            UnknownInvoice => Problem::not_found(detail),
            Refused(refused) => refused.into(),
            Store(_) | Event(_) => Problem::internal(detail),
        }
    }
}
