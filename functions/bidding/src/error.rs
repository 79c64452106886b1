//! Everything that can go wrong in bidding's requests, each by name, and its one mapping to an
//! HTTP problem. (Its event handler answers the kernel's `ConsumeError` instead.)

use ates_kernel::dynamo::StoreError;
use ates_kernel::event::EventError;
use ates_kernel::http::Problem;
use ates_kernel::usecase::KeyedError;

use crate::bet::BetError;

#[derive(Debug, thiserror::Error)]
pub enum BiddingError {
    #[error("{0}")]
    Invalid(String),
    /// The bet itself: a stake out of bounds (422), a second bet, or a book closed or not
    /// known yet (409).
    #[error(transparent)]
    Bet(#[from] BetError),
    #[error("no bets on this order: bidding does not know it")]
    UnknownOrder,
    #[error("this Idempotency-Key was used for a different request")]
    KeyReused,
    #[error("the book changed meanwhile; retry")]
    ChangedMeanwhile,
    #[error(transparent)]
    Refused(#[from] ates_kernel::identity::Refused),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Event(#[from] EventError),
}

ates_kernel::context_error!(BiddingError, BiddingError::ChangedMeanwhile, |e| {
    BiddingError::Invalid(e.to_string())
});

impl KeyedError for BiddingError {
    fn key_reused() -> Self {
        BiddingError::KeyReused
    }
}

impl From<BiddingError> for Problem {
    fn from(e: BiddingError) -> Problem {
        use BiddingError::*;
        let detail = e.to_string();
        match e {
            Invalid(_) | KeyReused | Bet(BetError::Stake(_)) => Problem::invalid(detail),
            Bet(BetError::AlreadyBet | BetError::Closed | BetError::Unknown) | ChangedMeanwhile => {
                Problem::conflict(detail)
            }
            UnknownOrder => Problem::not_found(detail),
            Refused(refused) => refused.into(),
            Store(_) | Event(_) => Problem::internal(detail),
        }
    }
}
