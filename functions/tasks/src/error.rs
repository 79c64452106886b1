//! Everything that can go wrong in the task tracker, and its one mapping to an HTTP problem.

use ates_kernel::dynamo::StoreError;
use ates_kernel::event::EventError;
use ates_kernel::http::Problem;
use ates_kernel::identity::Refused;
use ates_kernel::usecase::KeyedError;

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
    #[error("this Idempotency-Key was used for a different request")]
    KeyReused,
    #[error("the task changed meanwhile; retry")]
    ChangedMeanwhile,
    #[error(transparent)]
    Refused(#[from] Refused),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Event(#[from] EventError),
}

ates_kernel::context_error!(TaskError, TaskError::ChangedMeanwhile, |e| {
    TaskError::Invalid(e.to_string())
});

impl KeyedError for TaskError {
    fn key_reused() -> Self {
        TaskError::KeyReused
    }
}

impl From<TaskError> for Problem {
    fn from(e: TaskError) -> Problem {
        let detail = e.to_string();
        match e {
            TaskError::Invalid(_) | TaskError::KeyReused => Problem::invalid(detail),
            TaskError::NobodyAssignable | TaskError::AlreadyDone | TaskError::ChangedMeanwhile => {
                Problem::conflict(detail)
            }
            TaskError::UnknownTask | TaskError::UnknownShuffle => Problem::not_found(detail),
            TaskError::NotYours => Problem::forbidden(detail),
            TaskError::Refused(refused) => refused.into(),
            TaskError::Store(_) | TaskError::Event(_) => Problem::internal(detail),
        }
    }
}
