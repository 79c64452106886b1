//! Everything that can go wrong in analytics, and its one mapping to an HTTP problem.

use ates_kernel::dynamo::StoreError;
use ates_kernel::http::Problem;
use ates_kernel::identity::Refused;

#[derive(Debug, thiserror::Error)]
pub enum AnalyticsError {
    #[error("{0}")]
    Invalid(String),
    #[error("rebuild {0} is under way; one rebuild runs at a time")]
    RebuildRunning(uuid::Uuid),
    #[error("no such rebuild")]
    UnknownRebuild,
    #[error(transparent)]
    Refused(#[from] Refused),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the bus: {0}")]
    Bus(#[from] crate::ports::BusError),
}

impl From<AnalyticsError> for Problem {
    fn from(e: AnalyticsError) -> Problem {
        let detail = e.to_string();
        match e {
            AnalyticsError::Invalid(_) => Problem::invalid(detail),
            AnalyticsError::RebuildRunning(_) => Problem::conflict(detail),
            AnalyticsError::UnknownRebuild => Problem::not_found(detail),
            AnalyticsError::Refused(refused) => refused.into(),
            AnalyticsError::Store(_) | AnalyticsError::Bus(_) => Problem::internal(detail),
        }
    }
}
