//! Everything that can go wrong in orders, each by name: what the caller can fix is refused
//! before anything is written.

use ates_kernel::http::Problem;
use ates_kernel::usecase::Failure;
use uuid::Uuid;

use crate::order::Transition;
use ates_kernel::contracts::orders::Place;

#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    #[error("{0}")]
    Invalid(String),
    #[error("no such service type {0}")]
    UnknownServiceType(Uuid),
    #[error("service type {0} is retired")]
    Retired(Uuid),
    /// A service type a path names that does not exist.
    #[error("no such service type {0}")]
    NoSuchServiceType(Uuid),
    #[error("service type {0} is retired: it changes no more")]
    AlreadyRetired(Uuid),
    #[error("{0:?} is not a place to list by: {stages}", stages = stages())]
    NotAStage(String),
    #[error("the order is {}: it cannot {transition:?}", names(places))]
    NotNow {
        transition: Transition,
        places: Vec<Place>,
    },
    /// Somebody else's order, or none: the caller cannot tell which.
    #[error("no such order")]
    UnknownOrder,
    #[error(transparent)]
    Failed(#[from] Failure),
}

fn names(places: &[Place]) -> String {
    let names: Vec<&str> = places.iter().map(|p| p.as_str()).collect();
    names.join(" + ")
}

fn stages() -> String {
    names(&crate::order::STAGES)
}

ates_kernel::context_error!(OrderError::Failed);

impl From<OrderError> for Problem {
    fn from(e: OrderError) -> Problem {
        use OrderError::*;
        let detail = e.to_string();
        match e {
            Invalid(_) | UnknownServiceType(_) | Retired(_) | NotAStage(_) => {
                Problem::invalid(detail)
            }
            NotNow { .. } | AlreadyRetired(_) => Problem::conflict(detail),
            UnknownOrder | NoSuchServiceType(_) => Problem::not_found(detail),
            Failed(failure) => failure.into(),
        }
    }
}
