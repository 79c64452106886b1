//! Accounting (SPEC B1–B6): prices, the double-entry ledger, the daily close and company
//! earnings. It keeps its own copies of accounts (`Account.*`) and tasks (`Task.*`), and never
//! reads another context's table.
//!
//! - [`ledger`]: prices, ledger accounts, postings and one account's close (plain Rust).
//! - [`close`]: the close of a business day as a whole (plain Rust).
//! - [`payout`]: what accounting kept of payouts before payments took them over, for the
//!   one-off hand-over (a day's payout is `Payout.Made`; payments sends it through the bank).
//! - [`app`]: the use cases, one per event handler, job page and query; [`ports`]: the
//!   small ports they drive, one per need ([`ports`]).
//! - [`api`]: the HTTP edge, one function per route; [`store`]: the DynamoDB store; `memory`:
//!   an in-memory store for tests (feature `testing`).
pub mod api;
pub mod app;
pub mod close;
pub mod error;
pub mod ledger;
#[cfg(any(test, feature = "testing"))]
pub mod memory;
pub mod payout;
pub mod ports;
pub mod store;

/// The name this context publishes under (`source` = `ates.accounting`).
pub const PRODUCER: &str = "accounting";
