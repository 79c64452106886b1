//! A bet, and an order's book of bets.
//!
//! A manager bets once per order, on `success` or `failed`, a stake of $1 to $1,000, until the
//! order's work begins (`in_work`). Bidding learns of the order from its events, in any order and
//! any number of times, so the book keeps the facts (the bets, when the work began, how the order
//! ended) and derives the rest from them: which bets count, whether the book is open, settled or
//! void, and the payouts. A bet that reached bidding before it knew the work had begun, but was
//! placed after that moment, is void: it never counts, whatever came first.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::settlement::{settle, Stake};

/// The smallest and the largest stake, in cents (SPEC M8: $1 to $1,000).
pub const MIN_STAKE_CENTS: i64 = 100;
pub const MAX_STAKE_CENTS: i64 = 100_000;

/// What a bet says the order's outcome will be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The client approves the work (`Order.SuccessInvoiced`).
    Success,
    /// The client declines it (`Order.FailedInvoiced`).
    Failed,
}

/// How an order ended, as far as its bets care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "ended", content = "outcome")]
pub enum Ending {
    Invoiced(Outcome),
    Cancelled,
}

/// A book's status, as `GET /bets/orders/{order_id}` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The order has not ended: its bets wait.
    Open,
    /// Invoiced: the pool is shared.
    Settled,
    /// Cancelled: every stake is returned.
    Void,
}

/// `POST /bets`, as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewBet {
    pub order_id: Uuid,
    pub outcome: Outcome,
    pub stake_cents: i64,
}

/// A bet that may be placed: its stake within the bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValidBet {
    order_id: Uuid,
    outcome: Outcome,
    stake_cents: i64,
}

impl NewBet {
    pub fn validate(&self) -> Result<ValidBet, BetError> {
        if !(MIN_STAKE_CENTS..=MAX_STAKE_CENTS).contains(&self.stake_cents) {
            return Err(BetError::Stake(self.stake_cents));
        }
        Ok(ValidBet {
            order_id: self.order_id,
            outcome: self.outcome,
            stake_cents: self.stake_cents,
        })
    }
}

impl ValidBet {
    pub fn order_id(&self) -> Uuid {
        self.order_id
    }
}

/// Why a bet is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BetError {
    #[error("stake_cents must be {MIN_STAKE_CENTS} to {MAX_STAKE_CENTS}, not {0}")]
    Stake(i64),
    #[error("you have bet on this order already")]
    AlreadyBet,
    #[error("the order's work has begun (or it ended): bets are closed")]
    Closed,
    #[error("bidding does not know this order (yet): no bets on it")]
    Unknown,
}

/// One manager's bet on one order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bet {
    pub bet_id: Uuid,
    pub order_id: Uuid,
    pub manager_id: Uuid,
    pub outcome: Outcome,
    pub stake_cents: i64,
    pub placed_at: DateTime<Utc>,
}

/// What one bet came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BetResult {
    pub bet: Bet,
    /// Placed after the work began: it never counted.
    pub void: bool,
    /// What it is paid, once the order ended (its stake back if the book is void or no one won);
    /// `None` while the book is open and for a void bet.
    pub payout_cents: Option<i64>,
}

/// An order's bets and what bidding knows of the order.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Book {
    /// When the order was created (`Order.Created`), once bidding has heard of it.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    pub bets: Vec<Bet>,
    /// When the order's work began (`in_work` was marked), once known.
    pub work_began_at: Option<DateTime<Utc>>,
    pub ending: Option<Ending>,
}

impl Book {
    /// `manager` bets `bet` as `bet_id` at `now`: the book with the bet, or why not.
    pub fn place(
        &self,
        manager_id: Uuid,
        bet_id: Uuid,
        bet: ValidBet,
        now: DateTime<Utc>,
    ) -> Result<(Book, Bet), BetError> {
        if self.work_began_at.is_some() || self.ending.is_some() {
            return Err(BetError::Closed);
        }
        if self.created_at.is_none() {
            return Err(BetError::Unknown);
        }
        if self.bets.iter().any(|b| b.manager_id == manager_id) {
            return Err(BetError::AlreadyBet);
        }
        let placed = Bet {
            bet_id,
            order_id: bet.order_id,
            manager_id,
            outcome: bet.outcome,
            stake_cents: bet.stake_cents,
            placed_at: now,
        };
        let mut after = self.clone();
        after.bets.push(placed.clone());
        Ok((after, placed))
    }

    /// The order was created at `at` (a repeat changes nothing).
    pub fn created(&self, at: DateTime<Utc>) -> Book {
        Book {
            created_at: Some(self.created_at.map_or(at, |known| known.min(at))),
            ..self.clone()
        }
    }

    /// The work began at `at`; the earliest report of it wins (a repeat changes nothing).
    pub fn work_began(&self, at: DateTime<Utc>) -> Book {
        Book {
            work_began_at: Some(self.work_began_at.map_or(at, |known| known.min(at))),
            ..self.clone()
        }
    }

    /// The order ended; the first ending known stays (an order ends once).
    pub fn ended(&self, ending: Ending) -> Book {
        Book {
            ending: self.ending.or(Some(ending)),
            ..self.clone()
        }
    }

    pub fn status(&self) -> Status {
        match self.ending {
            None => Status::Open,
            Some(Ending::Invoiced(_)) => Status::Settled,
            Some(Ending::Cancelled) => Status::Void,
        }
    }

    fn counts(&self, bet: &Bet) -> bool {
        self.work_began_at.is_none_or(|began| bet.placed_at < began)
    }

    /// The stakes that count: every bet placed before the work began.
    pub fn pool_cents(&self) -> i64 {
        self.bets
            .iter()
            .filter(|b| self.counts(b))
            .map(|b| b.stake_cents)
            .sum()
    }

    /// Every bet and what it came to, in the order they were placed.
    pub fn results(&self) -> Vec<BetResult> {
        let counted: Vec<&Bet> = self.bets.iter().filter(|b| self.counts(b)).collect();
        let payouts = match self.ending {
            None => None,
            Some(ending) => {
                let stakes: Vec<Stake> = counted
                    .iter()
                    .map(|b| Stake {
                        bet_id: b.bet_id,
                        outcome: b.outcome,
                        stake_cents: b.stake_cents,
                    })
                    .collect();
                let happened = match ending {
                    Ending::Invoiced(outcome) => Some(outcome),
                    Ending::Cancelled => None,
                };
                Some(settle(&stakes, happened))
            }
        };
        self.bets
            .iter()
            .map(|bet| {
                let position = counted.iter().position(|c| c.bet_id == bet.bet_id);
                BetResult {
                    bet: bet.clone(),
                    void: position.is_none(),
                    payout_cents: payouts.as_ref().zip(position).map(|(p, i)| p[i]),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_796_000_000 + minute * 60, 0).unwrap()
    }

    fn bet(order: Uuid, outcome: Outcome, cents: i64) -> ValidBet {
        NewBet {
            order_id: order,
            outcome,
            stake_cents: cents,
        }
        .validate()
        .unwrap()
    }

    #[test]
    fn a_stake_is_one_to_a_thousand_dollars() {
        let order = Uuid::from_u128(7);
        for cents in [100, 5_000, 100_000] {
            assert!(NewBet {
                order_id: order,
                outcome: Outcome::Success,
                stake_cents: cents
            }
            .validate()
            .is_ok());
        }
        for cents in [99, 0, -100, 100_001] {
            assert_eq!(
                NewBet {
                    order_id: order,
                    outcome: Outcome::Success,
                    stake_cents: cents
                }
                .validate(),
                Err(BetError::Stake(cents))
            );
        }
    }

    #[test]
    fn one_bet_per_manager_until_the_work_begins() {
        let order = Uuid::from_u128(7);
        let (ann, bob) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let (book, _) = Book::default()
            .created(at(-10))
            .place(
                ann,
                Uuid::from_u128(10),
                bet(order, Outcome::Success, 500),
                at(0),
            )
            .unwrap();
        assert_eq!(
            book.place(
                ann,
                Uuid::from_u128(11),
                bet(order, Outcome::Failed, 500),
                at(1)
            ),
            Err(BetError::AlreadyBet)
        );
        let began = book.work_began(at(5));
        assert_eq!(
            began.place(
                bob,
                Uuid::from_u128(12),
                bet(order, Outcome::Failed, 500),
                at(6)
            ),
            Err(BetError::Closed)
        );
        let cancelled = book.ended(Ending::Cancelled);
        assert_eq!(
            cancelled.place(
                bob,
                Uuid::from_u128(12),
                bet(order, Outcome::Failed, 500),
                at(6)
            ),
            Err(BetError::Closed)
        );
    }

    #[test]
    fn an_order_bidding_has_not_heard_of_takes_no_bet() {
        let order = Uuid::from_u128(7);
        let place = |book: &Book| {
            book.place(
                Uuid::from_u128(1),
                Uuid::from_u128(10),
                bet(order, Outcome::Success, 500),
                at(0),
            )
        };
        assert_eq!(place(&Book::default()), Err(BetError::Unknown));
        // Its work began before bidding heard it was created: closed, not unknown.
        assert_eq!(
            place(&Book::default().work_began(at(-1))),
            Err(BetError::Closed)
        );
        assert!(place(&Book::default().created(at(-5))).is_ok());
    }

    #[test]
    fn a_bet_placed_after_the_work_began_is_void_whichever_was_learned_first() {
        let order = Uuid::from_u128(7);
        let (ann, bob) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let (book, _) = Book::default()
            .created(at(-10))
            .place(
                ann,
                Uuid::from_u128(10),
                bet(order, Outcome::Success, 300),
                at(0),
            )
            .unwrap();
        // Bob's bet reached bidding before the news that the work began at minute 5.
        let (book, _) = book
            .place(
                bob,
                Uuid::from_u128(11),
                bet(order, Outcome::Failed, 900),
                at(6),
            )
            .unwrap();
        let settled = book
            .ended(Ending::Invoiced(Outcome::Failed))
            .work_began(at(5));
        assert_eq!(settled.pool_cents(), 300);
        let results = settled.results();
        assert!(!results[0].void && results[1].void);
        // No winner among the bets that count: Ann's stake comes back; Bob's bet is void.
        assert_eq!(results[0].payout_cents, Some(300));
        assert_eq!(results[1].payout_cents, None);
        // Learned the other way round, the same.
        let same = book
            .work_began(at(5))
            .ended(Ending::Invoiced(Outcome::Failed));
        assert_eq!(same.results(), results);
    }

    #[test]
    fn facts_learned_again_change_nothing() {
        let order = Uuid::from_u128(7);
        let (book, _) = Book::default()
            .created(at(-10))
            .place(
                Uuid::from_u128(1),
                Uuid::from_u128(10),
                bet(order, Outcome::Success, 300),
                at(0),
            )
            .unwrap();
        let once = book
            .work_began(at(5))
            .ended(Ending::Invoiced(Outcome::Success));
        let twice = once
            .work_began(at(9))
            .ended(Ending::Cancelled)
            .work_began(at(5));
        assert_eq!(once, twice);
        assert_eq!(twice.status(), Status::Settled);
        assert_eq!(twice.results()[0].payout_cents, Some(300));
        assert_eq!(book.status(), Status::Open);
        assert_eq!(book.results()[0].payout_cents, None);
        assert_eq!(book.ended(Ending::Cancelled).status(), Status::Void);
    }
}
