//! Everything that can go wrong in the task tracker, and its one mapping to an HTTP problem.

use ates_kernel::http::Problem;
use ates_kernel::usecase::Failure;

#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    #[error("{0}")]
    Invalid(String),
    #[error("nobody can take the task: there is no active worker or accountant")]
    NobodyAssignable,
    #[error("no such task")]
    UnknownTask,
    #[error("no such shuffle")]
    UnknownShuffle,
    #[error("only the task's current assignee can complete it")]
    NotYours,
    #[error("the task is done already")]
    AlreadyDone,
    #[error(transparent)]
    Failed(#[from] Failure),
}

ates_kernel::context_error!(TaskError::Failed);

impl From<TaskError> for Problem {
    fn from(e: TaskError) -> Problem {
        let detail = e.to_string();
        match e {
            TaskError::Invalid(_) => Problem::invalid(detail),
            TaskError::NobodyAssignable | TaskError::AlreadyDone => Problem::conflict(detail),
            TaskError::UnknownTask | TaskError::UnknownShuffle => Problem::not_found(detail),
            TaskError::NotYours => Problem::forbidden(detail),
            TaskError::Failed(failure) => failure.into(),
        }
    }
}
