//! Billing (SPEC M7): the money of the marketplace. Clients pay for their orders on weekly
//! invoices collected through payments; workers earn shares, are fined, get waivers and bonuses
//! on monthly statements paid as salaries. Every cent moves in a double-entry ledger, each
//! movement under its business key, once.
//!
//! - [`ledger`]: the money rules, ledger accounts and movements (plain Rust).
//! - [`invoice`]: a client's weekly invoice and its collection (plain Rust).
//! - [`statement`]: a worker's monthly statement (plain Rust).
//! - [`app`]: the use cases, one per event handler, schedule and command; [`ports`]: the
//!   small ports they drive; [`api`]: the HTTP edge; [`store`]: the DynamoDB store; `memory`: the in-memory store for tests (feature `testing`).
pub mod api;
pub mod app;
pub mod error;
pub mod invoice;
pub mod ledger;
#[cfg(any(test, feature = "testing"))]
pub mod memory;
pub mod ports;
pub mod statement;
pub mod store;

/// The name this context publishes under (`source` = `ates.billing`).
pub const PRODUCER: &str = "billing";
