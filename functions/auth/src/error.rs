//! Everything that can go wrong in auth, and its one mapping to an HTTP problem.

use ates_kernel::http::Problem;
use ates_kernel::usecase::Failure;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{0}")]
    Invalid(String),
    #[error("an account with this email exists already")]
    EmailTaken,
    #[error("no such account")]
    UnknownAccount,
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
    #[error("{0}")]
    Mail(String),
    #[error("{0}")]
    Internal(String),
    #[error(transparent)]
    Failed(#[from] Failure),
}

ates_kernel::context_error!(AuthError::Failed);

impl From<AuthError> for Problem {
    fn from(e: AuthError) -> Problem {
        let detail = e.to_string();
        match e {
            AuthError::Invalid(_) => Problem::invalid(detail),
            AuthError::EmailTaken => Problem::conflict(detail),
            AuthError::UnknownAccount => Problem::not_found(detail),
            AuthError::NotAllowed(_) | AuthError::Deactivated => Problem::forbidden(detail),
            AuthError::WrongCredentials | AuthError::BadRefreshToken | AuthError::BadCode => {
                Problem::unauthorized(detail)
            }
            AuthError::TooMany(_) => Problem::too_many_requests(detail),
            AuthError::Mail(_) | AuthError::Internal(_) => Problem::internal(detail),
            AuthError::Failed(failure) => failure.into(),
        }
    }
}
