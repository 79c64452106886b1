//! Everything that can go wrong in analytics, and its one mapping to an HTTP problem.

use ates_kernel::dynamo::StoreError;
use ates_kernel::http::Problem;

#[derive(Debug, thiserror::Error)]
pub enum AnalyticsError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<AnalyticsError> for Problem {
    fn from(e: AnalyticsError) -> Problem {
        let detail = e.to_string();
        match e {
            AnalyticsError::Invalid(_) => Problem::invalid(detail),
            AnalyticsError::Store(_) => Problem::internal(detail),
        }
    }
}
