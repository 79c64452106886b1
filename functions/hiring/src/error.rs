//! Everything that can go wrong in hiring, each by name: what the caller can fix is refused
//! before anything is written.

use ates_kernel::http::Problem;
use ates_kernel::usecase::Failure;
use uuid::Uuid;

use crate::application::{Kind, Status};

#[derive(Debug, thiserror::Error)]
pub enum HiringError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0:?} is not a kind of application: worker, client or manager")]
    UnknownKind(String),
    #[error("{0:?} is not an email address")]
    BadAddress(String),
    #[error("{0} is empty")]
    Empty(String),
    #[error("the pass mark {pass_mark} is above the maximum score {max_score}")]
    PassMarkAboveMaximum { pass_mark: u32, max_score: u32 },
    #[error("no such {0} in the test bank")]
    UnknownPart(String),
    #[error("the {0} is retired")]
    Retired(String),
    #[error("question {0} is not on the assigned test")]
    NotOnThePaper(Uuid),
    #[error("option {option_id} is not one of question {question_id}'s")]
    NotAnOption { question_id: Uuid, option_id: Uuid },
    #[error("{0} is answered twice")]
    AnsweredTwice(Uuid),
    #[error("the test's deadline has passed")]
    Late,
    #[error("the application is {status}: it cannot {action}")]
    WrongState {
        status: Status,
        action: &'static str,
    },
    #[error("a {0} application is decided without a test")]
    NoTestFor(Kind),
    #[error("a {0} application is accepted with skills and a level")]
    WorkerProfileNeeded(Kind),
    #[error("a {0} application is accepted without skills or a level")]
    NoWorkerProfileFor(Kind),
    #[error("only admins decide manager applications")]
    NotYourDecision,
    #[error("the address already has an account")]
    AddressHasAccount,
    #[error("no such application")]
    UnknownApplication,
    #[error("no such worker")]
    UnknownWorker,
    #[error("the application token is expired")]
    TokenExpired,
    #[error(transparent)]
    NotMailed(#[from] crate::ports::NotMailed),
    #[error(transparent)]
    Failed(#[from] Failure),
}

ates_kernel::context_error!(HiringError::Failed);

impl From<HiringError> for Problem {
    fn from(e: HiringError) -> Problem {
        use HiringError::*;
        let detail = e.to_string();
        match e {
            Invalid(_)
            | UnknownKind(_)
            | BadAddress(_)
            | Empty(_)
            | PassMarkAboveMaximum { .. }
            | UnknownPart(_)
            | Retired(_)
            | NotOnThePaper(_)
            | NotAnOption { .. }
            | AnsweredTwice(_)
            | NoTestFor(_)
            | WorkerProfileNeeded(_)
            | NoWorkerProfileFor(_) => Problem::invalid(detail),
            Late | WrongState { .. } | AddressHasAccount => Problem::conflict(detail),
            NotYourDecision => Problem::forbidden(detail),
            // A wrong token is told apart from no application by nobody: both are 404.
            UnknownApplication | UnknownWorker => Problem::not_found(detail),
            TokenExpired => Problem::unauthorized(detail),
            NotMailed(_) => Problem::internal(detail),
            Failed(failure) => failure.into(),
        }
    }
}
