//! Everything that can go wrong in bidding's requests, each by name, and its one mapping to an
//! HTTP problem. (Its event handler answers the kernel's `ConsumeError` instead.) What any use
//! case can fail by (a reused key, contention, a refused caller, the store) is the kernel's
//! `Failure`.

use ates_kernel::http::Problem;
use ates_kernel::usecase::Failure;

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
    #[error(transparent)]
    Failed(#[from] Failure),
}

ates_kernel::context_error!(BiddingError::Failed);

impl From<BiddingError> for Problem {
    fn from(e: BiddingError) -> Problem {
        use BiddingError::*;
        let detail = e.to_string();
        match e {
            Invalid(_) | Bet(BetError::Stake(_)) => Problem::invalid(detail),
            Bet(BetError::AlreadyBet | BetError::Closed | BetError::Unknown) => {
                Problem::conflict(detail)
            }
            UnknownOrder => Problem::not_found(detail),
            Failed(failure) => failure.into(),
        }
    }
}
