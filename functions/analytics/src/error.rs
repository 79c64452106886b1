//! Everything that can go wrong in analytics, and its one mapping to an HTTP problem.

use ates_kernel::http::Problem;
use ates_kernel::usecase::Failure;

#[derive(Debug, thiserror::Error)]
pub enum AnalyticsError {
    #[error("{0}")]
    Invalid(String),
    #[error("rebuild {0} is under way; one rebuild runs at a time")]
    RebuildRunning(uuid::Uuid),
    #[error("no such rebuild")]
    UnknownRebuild,
    #[error("the bus: {0}")]
    Bus(#[from] crate::ports::BusError),
    #[error(transparent)]
    Failed(#[from] Failure),
}

ates_kernel::context_error!(AnalyticsError::Failed);

impl From<AnalyticsError> for Problem {
    fn from(e: AnalyticsError) -> Problem {
        let detail = e.to_string();
        match e {
            AnalyticsError::Invalid(_) => Problem::invalid(detail),
            AnalyticsError::RebuildRunning(_) => Problem::conflict(detail),
            AnalyticsError::UnknownRebuild => Problem::not_found(detail),
            AnalyticsError::Bus(_) => Problem::internal(detail),
            AnalyticsError::Failed(failure) => failure.into(),
        }
    }
}
