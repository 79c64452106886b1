//! Everything that can go wrong in supplies, each by name: what the caller can fix is refused
//! before anything is written.

use ates_kernel::dynamo::StoreError;
use ates_kernel::event::EventError;
use ates_kernel::http::Problem;
use uuid::Uuid;

use crate::kit::Status;

#[derive(Debug, thiserror::Error)]
pub enum SuppliesError {
    #[error("{0}")]
    Invalid(String),
    #[error("no such kit")]
    UnknownKit,
    #[error("the kit is {status}: it cannot {action}")]
    WrongState {
        status: Status,
        action: &'static str,
    },
    #[error("the order has no executor yet: the kit waits for one")]
    NoExecutor,
    #[error("{0} is not the order's executor: the kit goes to the order's executor only")]
    NotTheExecutor(Uuid),
    #[error("the delivery's signature is missing or wrong")]
    BadSignature,
    #[error("the state changed meanwhile; retry")]
    ChangedMeanwhile,
    #[error("the cursor is not one this listing gave")]
    BadCursor,
    #[error(transparent)]
    Refused(#[from] ates_kernel::identity::Refused),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Event(#[from] EventError),
    #[error(transparent)]
    NotPlaced(#[from] crate::ports::NotPlaced),
}

ates_kernel::context_error!(SuppliesError, SuppliesError::ChangedMeanwhile, |_| {
    SuppliesError::BadCursor
});

impl From<SuppliesError> for Problem {
    fn from(e: SuppliesError) -> Problem {
        use SuppliesError::*;
        let detail = e.to_string();
        match e {
            Invalid(_) => Problem::invalid(detail),
            // A cursor no listing gave is 422, as the API document's Cursor says.
            BadCursor => Problem::invalid(detail),
            WrongState { .. } | NoExecutor | NotTheExecutor(_) | ChangedMeanwhile => {
                Problem::conflict(detail)
            }
            UnknownKit => Problem::not_found(detail),
            BadSignature => Problem::unauthorized(detail),
            Refused(refused) => refused.into(),
            Store(_) | Event(_) | NotPlaced(_) => Problem::internal(detail),
        }
    }
}
