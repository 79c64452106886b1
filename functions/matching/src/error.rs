//! Everything that can go wrong in matching, each by name. Its one route reads; its other work
//! is driven by events and a schedule, whose failures go back to their queue (`ConsumeError`).

use ates_kernel::http::Problem;
use ates_kernel::inbox::ConsumeError;
use ates_kernel::usecase::Failure;

#[derive(Debug, thiserror::Error)]
pub enum MatchingError {
    #[error("no such order")]
    UnknownOrder,
    #[error("{0}")]
    Invalid(String),
    /// An event this handler cannot use now and must see again later.
    #[error("not yet: {0}")]
    NotYet(String),
    #[error(transparent)]
    Failed(#[from] Failure),
}

ates_kernel::context_error!(MatchingError::Failed);

impl From<MatchingError> for Problem {
    fn from(e: MatchingError) -> Problem {
        use MatchingError::*;
        let detail = e.to_string();
        match e {
            UnknownOrder => Problem::not_found(detail),
            Invalid(_) => Problem::invalid(detail),
            NotYet(_) => Problem::internal(detail),
            Failed(failure) => failure.into(),
        }
    }
}

/// An event handler's failure, as its queue reads it: an event that can never be read is
/// poison (parked at once); anything else is delivered again.
impl From<MatchingError> for ConsumeError {
    fn from(e: MatchingError) -> ConsumeError {
        match e {
            MatchingError::Failed(Failure::Event(e)) => ConsumeError::Poison(e.to_string()),
            other => ConsumeError::Retry(other.to_string()),
        }
    }
}
