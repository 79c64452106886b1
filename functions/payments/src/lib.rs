//! Payments (SPEC M7, seed 004's PaymentService): where money enters and leaves the company.
//! In: a client's card on file (a token and its last four digits, checked with the acquirer
//! first) and the collection of billing's invoices from it, two-phase: a collection is
//! `pending` until the acquirer answers, then `posted` or `voided`, with its event in the same
//! write. Out: the employees' payout details (moved here from accounting) and their payouts,
//! phase 1's daily ones and phase 2's salaries, through the bank, two-phase the same way
//! (`held` without details, `pending` until the bank answers, then `posted`).
//!
//! - [`card`]: the card on file; [`collection`]: a collection and its lifecycle; [`payout`]:
//!   payout details and a payout's lifecycle (plain Rust);
//! - [`app`]: the use cases; [`ports`]: the small traits they drive;
//! - [`api`]: the HTTP edge, one function per route;
//! - [`store`]: the DynamoDB store; [`acquirer`], [`bank`]: the partners' adapters (locally,
//!   and until real partners are chosen, simulated ones); `memory`: an in-memory store and
//!   partners the tests steer (feature `testing`).
pub mod acquirer;
pub mod api;
pub mod app;
pub mod bank;
pub mod card;
pub mod collection;
pub mod error;
#[cfg(any(test, feature = "testing"))]
pub mod memory;
pub mod payout;
pub mod ports;
pub mod store;

/// The name this context publishes under (`source` = `ates.payments`).
pub const PRODUCER: &str = "payments";
