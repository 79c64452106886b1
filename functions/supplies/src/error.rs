//! Everything that can go wrong in supplies, each by name: what the caller can fix is refused
//! before anything is written.

use ates_kernel::http::Problem;
use ates_kernel::usecase::Failure;
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
    #[error(transparent)]
    NotPlaced(#[from] crate::ports::NotPlaced),
    #[error(transparent)]
    Failed(#[from] Failure),
}

ates_kernel::context_error!(SuppliesError::Failed);

impl From<SuppliesError> for Problem {
    fn from(e: SuppliesError) -> Problem {
        use SuppliesError::*;
        let detail = e.to_string();
        match e {
            Invalid(_) => Problem::invalid(detail),
            WrongState { .. } | NoExecutor | NotTheExecutor(_) => Problem::conflict(detail),
            UnknownKit => Problem::not_found(detail),
            BadSignature => Problem::unauthorized(detail),
            NotPlaced(_) => Problem::internal(detail),
            Failed(failure) => failure.into(),
        }
    }
}
