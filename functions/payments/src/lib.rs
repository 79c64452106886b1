//! Payments (SPEC M7, seed 004's PaymentService): where money enters and leaves the company.
//! This half is the money that enters: a client's card on file (a token and its last four
//! digits, checked with the acquirer first) and the collection of billing's invoices from it,
//! two-phase: a collection is `pending` until the acquirer answers, then `posted` or `voided`,
//! with its event in the same write. Payouts and salaries come here later.
//!
//! - [`card`]: the card on file; [`collection`]: a collection and its lifecycle (plain Rust);
//! - [`app`]: the use cases; [`ports`]: the small traits they drive;
//! - [`api`]: the HTTP edge, one function per route;
//! - [`store`]: the DynamoDB store; [`acquirer`]: the acquirer's adapters (locally, and until a
//!   real acquirer is chosen, the simulated one); `memory`: an in-memory store and an acquirer
//!   the tests steer (feature `testing`).
pub mod acquirer;
pub mod api;
pub mod app;
pub mod card;
pub mod collection;
pub mod error;
#[cfg(any(test, feature = "testing"))]
pub mod memory;
pub mod ports;
pub mod store;

/// The name this context publishes under (`source` = `ates.payments`).
pub const PRODUCER: &str = "payments";
