//! Bidding (SPEC M8, seed 000's Bidding, seed 002's "ставки"): managers bet on whether an order
//! ends in success or failure; when it is invoiced the order's bets settle pari-mutuel, and the
//! results are all there is: no money moves anywhere, and nothing here is told to any other
//! context (it publishes no event; only managers hold its scope, `bets`).
//!
//! - [`bet`]: a bet as placed, and an order's book of bets: who may bet until when, which bets
//!   count, and the book's status, from the facts bidding learns in any order;
//! - [`settlement`]: the pool shared by the winners in proportion to their stakes, cents by
//!   largest remainder;
//! - [`standings`]: each manager's net over a period, and the fewest transfers that settle who
//!   owes whom;
//! - [`app`]: the use cases (a bet placed, the order's facts learned, the reads); [`ports`]: the
//!   small traits they drive;
//! - [`api`]: the HTTP edge; [`store`]: the DynamoDB store; `memory`: an in-memory store for
//!   tests (feature `testing`).
//!
//! A bet needs bidding's copy of the order: a bet on an order whose `Order.Created` has not
//! reached bidding is refused (409), as one after the work began is. A manager who bets the
//! moment the order appears may see that refusal for a second or two; accepting bets on orders
//! nobody has heard of would take bets on ids that name no order at all.
//!
//! Bets are logged at debug level only (SPEC M8: no bet reaches logs above debug).
pub mod api;
pub mod app;
pub mod bet;
pub mod error;
#[cfg(any(test, feature = "testing"))]
pub mod memory;
pub mod ports;
pub mod settlement;
pub mod standings;
pub mod store;
