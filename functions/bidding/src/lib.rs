//! Bidding (SPEC M8, seed 000's Bidding, seed 002's "ставки"): managers bet on whether an order
//! ends in success or failure; when it is invoiced the order's bets settle pari-mutuel, and the
//! results are all there is: no money moves anywhere, and nothing here is told to any other
//! context (it publishes no event; only managers hold its scope).
//!
//! So far its domain, plain Rust:
//! - [`bet`]: a bet as placed, and an order's book of bets: who may bet until when, which bets
//!   count, and the book's status, from the facts bidding learns in any order;
//! - [`settlement`]: the pool shared by the winners in proportion to their stakes, cents by
//!   largest remainder;
//! - [`standings`]: each manager's net over a period, and the fewest transfers that settle who
//!   owes whom.
pub mod bet;
pub mod settlement;
pub mod standings;
