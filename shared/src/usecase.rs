//! The one way a use case runs: read, decide (the domain), commit. A commit is conditional on
//! what was read; when another writer got there first nothing was written, and the use case
//! reads and decides again. How often, how long it waits in between, and when it gives up are
//! decided here once, for every command and event handler of every context; so is what a repeated
//! `Idempotency-Key` answers, and what any use case can fail by whatever its context
//! ([`Failure`], which every context's error wraps: [`context_error!`]).
//!
//! A use case hands [`execute`] one try (`read → decide → commit`) as a closure; the try says
//! what its commit came to with an [`Attempt`].

use std::future::Future;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::dynamo::StoreError;
use crate::event::{Cause, EventError};
use crate::idempotency::{IdempotencyKey, Replay};

/// What one try of a use case came to.
#[derive(Debug)]
pub enum Attempt<T, E> {
    /// Decided, and committed (or nothing needed committing): the answer.
    Done(T),
    /// What was read changed before the commit; nothing was written: read and decide again.
    Lost,
    /// The command's idempotency key was used before, as its commit found; or the decision
    /// refused with `E` what an earlier request under the key may have done. The first answer
    /// decides; without one, `E`.
    KeyUsed(E),
}

/// How often a use case tries in all before it gives up: the next try would most likely lose
/// again, and the caller (a client's retry, or the queue's redelivery) is the better place to wait.
pub const ATTEMPTS: u32 = 5;

/// Every try lost to another writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the state changed meanwhile, {ATTEMPTS} times")]
pub struct Contended;

/// What a use case of any context can fail by, whatever its business: the tail every
/// context's error enum would otherwise write again, decided here once, with its one answer
/// to a caller (`http`'s `From<Failure> for Problem`). A context's enum wraps it in one variant
/// and declares that variant with [`context_error!`]; its own variants say the rest.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The command's `Idempotency-Key` answered a different request first.
    #[error("this Idempotency-Key was used for a different request")]
    KeyReused,
    /// Every try lost to another writer ([`Contended`]): the caller may try again.
    #[error("the state changed meanwhile; retry")]
    ChangedMeanwhile,
    /// A listing was given a cursor it did not give ([`crate::dynamo::BadCursor`]).
    #[error("the cursor is not one this listing gave")]
    BadCursor,
    /// The caller is not let in (deactivated, or a role the use case does not admit).
    #[error(transparent)]
    Refused(#[from] crate::identity::Refused),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Event(#[from] EventError),
}

impl From<Contended> for Failure {
    fn from(_: Contended) -> Self {
        Failure::ChangedMeanwhile
    }
}

impl From<crate::dynamo::BadCursor> for Failure {
    fn from(_: crate::dynamo::BadCursor) -> Self {
        Failure::BadCursor
    }
}

impl KeyedError for Failure {
    fn key_reused() -> Self {
        Failure::KeyReused
    }
}

/// Declares the variant of a context's error that wraps the kernel's [`Failure`], so that `?`
/// on anything a [`Failure`] is made from (`StoreError`, `EventError`, `Refused`, [`Contended`],
/// `BadCursor`) lands there, and the error is a [`KeyedError`] (a reused key is
/// [`Failure::KeyReused`]). The variant itself is `#[error(transparent)] Failed(#[from]
/// Failure)`, and the context's `Problem` mapping answers it with `failure.into()`.
///
/// ```ignore
/// ates_kernel::context_error!(TaskError::Failed);
/// ```
#[macro_export]
macro_rules! context_error {
    ($error:ident :: $variant:ident) => {
        $crate::context_error!(@from $error::$variant, $crate::dynamo::StoreError);
        $crate::context_error!(@from $error::$variant, $crate::event::EventError);
        $crate::context_error!(@from $error::$variant, $crate::identity::Refused);
        $crate::context_error!(@from $error::$variant, $crate::usecase::Contended);
        $crate::context_error!(@from $error::$variant, $crate::dynamo::BadCursor);

        impl $crate::usecase::KeyedError for $error {
            fn key_reused() -> Self {
                $error::$variant($crate::usecase::Failure::KeyReused)
            }
        }
    };
    (@from $error:ident :: $variant:ident, $from:ty) => {
        impl From<$from> for $error {
            fn from(e: $from) -> Self {
                $error::$variant($crate::usecase::Failure::from(e))
            }
        }
    };
}

/// Runs `attempt` until it commits, at most [`ATTEMPTS`] times, with a jittered backoff between
/// tries ([`crate::dynamo::backoff`]). An attempt's error ends the run at once.
pub async fn execute<T, E, F, Fut>(mut attempt: F) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Attempt<T, E>, E>>,
    E: From<Contended>,
{
    for tried in 1..=ATTEMPTS {
        match attempt().await? {
            Attempt::Done(answer) => return Ok(answer),
            Attempt::KeyUsed(refusal) => return Err(refusal),
            Attempt::Lost if tried < ATTEMPTS => {
                tokio::time::sleep(crate::dynamo::backoff(tried)).await
            }
            Attempt::Lost => {}
        }
    }
    Err(Contended.into())
}

/// An answer that happened now, or the first answer to a repeated keyed command.
#[derive(Debug)]
pub enum Answer<T> {
    Fresh(T),
    Replayed(Replay),
}

/// A command sent with an `Idempotency-Key`, and the fingerprint of the validated command: the
/// same key with another command is the client's mistake, not a retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyed {
    pub key: IdempotencyKey,
    pub fingerprint: String,
}

/// A command as it arrived: why, when, and under which idempotency key (who sent it is the
/// claims', checked by the use case).
#[derive(Debug, Clone)]
pub struct Request {
    pub cause: Cause,
    pub idempotency: Option<IdempotencyKey>,
    pub now: DateTime<Utc>,
}

impl Request {
    /// The key with the command's fingerprint (its name and validated input), when it has one.
    pub fn keyed(
        &self,
        command: &str,
        input: &impl Serialize,
    ) -> Result<Option<Keyed>, EventError> {
        let Some(key) = self.idempotency.clone() else {
            return Ok(None);
        };
        Ok(Some(Keyed {
            key,
            fingerprint: format!("{command} {}", kept(input)?),
        }))
    }
}

/// The answer a keyed command keeps for its replay (JSON).
pub fn kept(answer: &impl Serialize) -> Result<String, EventError> {
    Ok(serde_json::to_string(answer)?)
}

/// What a command's write came to: a write answers what happened, not a bool.
#[derive(Debug, PartialEq, Eq)]
pub enum Saved {
    Done,
    /// The idempotency key was used before: nothing was written.
    KeyUsed,
    /// What the command decided on is no longer as it was read: nothing was written.
    Stale,
}

impl Saved {
    /// What a write without an idempotency key came to, as the executor reads it: anything but
    /// done is read and decided again.
    pub fn attempt<T, E>(self, answer: T) -> Attempt<T, E> {
        match self {
            Saved::Done => Attempt::Done(answer),
            Saved::Stale | Saved::KeyUsed => Attempt::Lost,
        }
    }

    /// What a keyed command's write came to: a used key is [`KeyedError::key_reused`], which
    /// [`execute_keyed`] turns into the first answer when it answered this same command.
    pub fn keyed_attempt<T, E: KeyedError>(self, answer: T) -> Attempt<T, E> {
        match self {
            Saved::Done => Attempt::Done(answer),
            Saved::KeyUsed => Attempt::KeyUsed(E::key_reused()),
            Saved::Stale => Attempt::Lost,
        }
    }
}

/// A keyed command's record for its write: its key and fingerprint, and the answer to give
/// again (`None` for a command without a key).
pub type KeyedAnswer<'a> = Option<(&'a Keyed, &'a str)>;

/// Where the first answers to keyed commands are kept.
pub trait Replays {
    fn replay(
        &self,
        key: &IdempotencyKey,
    ) -> impl Future<Output = Result<Option<Replay>, StoreError>> + Send;
}

/// Why a keyed command was refused.
pub trait KeyedError: From<Contended> + From<StoreError> {
    /// The key was used for another command.
    fn key_reused() -> Self;
}

/// [`execute`] for a command that may carry an idempotency key: when a try reports the key used,
/// the first answer is read and given back if it answered this same command (the same
/// fingerprint); another command under the key is refused; no first answer leaves the try's
/// refusal.
pub async fn execute_keyed<T, E, F, Fut>(
    replays: &impl Replays,
    keyed: Option<&Keyed>,
    mut attempt: F,
) -> Result<Answer<T>, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Attempt<T, E>, E>>,
    E: KeyedError,
{
    let refused = match execute::<Result<T, E>, E, _, _>(|| {
        let tried = attempt();
        async move {
            Ok(match tried.await? {
                Attempt::Done(answer) => Attempt::Done(Ok(answer)),
                Attempt::Lost => Attempt::Lost,
                Attempt::KeyUsed(refusal) => Attempt::Done(Err(refusal)),
            })
        }
    })
    .await?
    {
        Ok(answer) => return Ok(Answer::Fresh(answer)),
        Err(refusal) => refusal,
    };
    let Some(keyed) = keyed else {
        return Err(refused);
    };
    match replays.replay(&keyed.key).await? {
        Some(replay) if replay.request == keyed.fingerprint => Ok(Answer::Replayed(replay)),
        Some(_) => Err(E::key_reused()),
        None => Err(refused),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[derive(Debug, PartialEq)]
    enum Error {
        Contended,
        Reused,
        Refused,
        Store,
    }
    impl From<Contended> for Error {
        fn from(_: Contended) -> Self {
            Error::Contended
        }
    }
    impl From<StoreError> for Error {
        fn from(_: StoreError) -> Self {
            Error::Store
        }
    }
    impl KeyedError for Error {
        fn key_reused() -> Self {
            Error::Reused
        }
    }

    struct FirstAnswer(Option<Replay>);
    impl Replays for FirstAnswer {
        async fn replay(&self, _: &IdempotencyKey) -> Result<Option<Replay>, StoreError> {
            Ok(self.0.clone())
        }
    }

    fn keyed(fingerprint: &str) -> Keyed {
        Keyed {
            key: IdempotencyKey::new("caller", "k").unwrap(),
            fingerprint: fingerprint.into(),
        }
    }

    fn first(fingerprint: &str) -> FirstAnswer {
        FirstAnswer(Some(Replay {
            request: fingerprint.into(),
            body: "{}".into(),
        }))
    }

    #[tokio::test]
    async fn a_use_case_that_loses_reads_again_and_gives_up_after_its_attempts() {
        let tries = AtomicU32::new(0);
        let lost_twice = execute(|| async {
            let n = tries.fetch_add(1, Ordering::SeqCst);
            Ok::<_, Error>(if n < 2 {
                Attempt::Lost
            } else {
                Attempt::Done(n)
            })
        })
        .await;
        assert_eq!(lost_twice, Ok(2));

        tries.store(0, Ordering::SeqCst);
        let always_lost = execute(|| async {
            tries.fetch_add(1, Ordering::SeqCst);
            Ok::<Attempt<(), Error>, Error>(Attempt::Lost)
        })
        .await;
        assert_eq!(always_lost, Err(Error::Contended));
        assert_eq!(tries.load(Ordering::SeqCst), ATTEMPTS);
    }

    #[tokio::test]
    async fn an_error_ends_the_run_at_once() {
        let tries = AtomicU32::new(0);
        let failed = execute(|| async {
            tries.fetch_add(1, Ordering::SeqCst);
            Err::<Attempt<(), Error>, _>(Error::Store)
        })
        .await;
        assert_eq!(failed, Err(Error::Store));
        assert_eq!(tries.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_used_key_answers_the_first_answer_only_to_the_same_command() {
        let used = || async { Ok::<Attempt<(), Error>, _>(Attempt::KeyUsed(Error::Refused)) };
        let same = execute_keyed(&first("create A"), Some(&keyed("create A")), used).await;
        assert!(matches!(same, Ok(Answer::Replayed(r)) if r.request == "create A"));
        let other = execute_keyed(&first("create A"), Some(&keyed("create B")), used).await;
        assert!(matches!(other, Err(Error::Reused)));
        let none = execute_keyed(&FirstAnswer(None), Some(&keyed("create A")), used).await;
        assert!(matches!(none, Err(Error::Refused)));
        let unkeyed = execute_keyed(&first("create A"), None, used).await;
        assert!(matches!(unkeyed, Err(Error::Refused)));
    }

    /// A context's error as every context declares it: its own variants, and the kernel's.
    #[derive(Debug, thiserror::Error)]
    enum PlaceError {
        #[error("no such place")]
        UnknownPlace,
        #[error(transparent)]
        Failed(#[from] Failure),
    }
    crate::context_error!(PlaceError::Failed);

    #[test]
    fn what_a_failure_is_made_from_is_a_contexts_failure() {
        use crate::identity::Refused;
        let failed = |e: PlaceError| match e {
            PlaceError::Failed(failure) => failure,
            other => panic!("{other:?}"),
        };
        assert!(matches!(
            failed(Contended.into()),
            Failure::ChangedMeanwhile
        ));
        assert!(matches!(
            failed(crate::dynamo::BadCursor.into()),
            Failure::BadCursor
        ));
        assert!(matches!(
            failed(PlaceError::key_reused()),
            Failure::KeyReused
        ));
        assert!(matches!(
            failed(Refused::Deactivated.into()),
            Failure::Refused(Refused::Deactivated)
        ));
        assert!(matches!(
            failed(StoreError::Aws("down".into()).into()),
            Failure::Store(StoreError::Aws(m)) if m == "down"
        ));
        let unreadable = serde_json::from_str::<u8>("x").unwrap_err();
        assert!(matches!(
            failed(EventError::from(unreadable).into()),
            Failure::Event(EventError::Payload(_))
        ));
        assert_eq!(
            PlaceError::from(Failure::ChangedMeanwhile).to_string(),
            "the state changed meanwhile; retry"
        );
        assert_eq!(PlaceError::UnknownPlace.to_string(), "no such place");
    }

    #[tokio::test]
    async fn a_fresh_answer_is_fresh() {
        let done = || async { Ok::<_, Error>(Attempt::Done(7)) };
        let answer = execute_keyed(&first("x"), Some(&keyed("x")), done).await;
        assert!(matches!(answer, Ok(Answer::Fresh(7))));
    }
}
