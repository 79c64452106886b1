//! Everything that can go wrong in auth, and its one mapping to an HTTP problem.

use ates_kernel::dynamo::StoreError;
use ates_kernel::event::EventError;
use ates_kernel::http::Problem;
use ates_kernel::identity::Refused;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{0}")]
    Invalid(String),
    #[error("an account with this email exists already")]
    EmailTaken,
    #[error("no such account")]
    UnknownAccount,
    #[error("the account was changed meanwhile; reload and retry")]
    ChangedMeanwhile,
    #[error("{0}")]
    NotAllowed(String),
    #[error("email or password is wrong")]
    WrongCredentials,
    #[error("the account is deactivated")]
    Deactivated,
    #[error("the refresh token is unknown, used, revoked or expired")]
    BadRefreshToken,
    #[error("the code is wrong or expired")]
    BadCode,
    #[error("{0}")]
    TooMany(String),
    #[error(transparent)]
    Refused(#[from] Refused),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Event(#[from] EventError),
    #[error("{0}")]
    Mail(String),
    #[error("{0}")]
    Internal(String),
}

impl From<AuthError> for Problem {
    fn from(e: AuthError) -> Problem {
        let detail = e.to_string();
        match e {
            AuthError::Invalid(_) => Problem::invalid(detail),
            AuthError::EmailTaken | AuthError::ChangedMeanwhile => Problem::conflict(detail),
            AuthError::UnknownAccount => Problem::not_found(detail),
            AuthError::NotAllowed(_) | AuthError::Deactivated => Problem::forbidden(detail),
            AuthError::WrongCredentials | AuthError::BadRefreshToken | AuthError::BadCode => {
                Problem::unauthorized(detail)
            }
            AuthError::TooMany(_) => Problem::too_many_requests(detail),
            AuthError::Refused(refused) => refused.into(),
            AuthError::Store(_)
            | AuthError::Event(_)
            | AuthError::Mail(_)
            | AuthError::Internal(_) => Problem::internal(detail),
        }
    }
}
