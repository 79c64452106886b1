//! Matching (SPEC M4): who does a rated order. Matching keeps its own copy of the workers (active
//! accounts of role worker, from auth's `Account.*`, and their skills, from hiring's
//! `Worker.ProfileSet`) and of each order it was asked to staff; on `Order.Rated` it books the
//! least loaded free worker with the order's skill and publishes `Matching.ExecutorMatched`, or
//! the order waits until someone fits (every 5 minutes, and whenever a worker with that skill
//! enrols or comes back).
//!
//! - [`choice`]: the choice itself, a pure function (slots, load over 7 days, ties);
//! - [`order`]: an order as matching sees it and its transitions; [`person`]: an account and
//!   its skills, and whether it can execute orders;
//! - [`app`]: the use cases; [`ports`]: the small traits they drive;
//! - [`api`]: the HTTP edge; [`store`]: the DynamoDB store; `memory`: the in-memory store for
//!   tests (feature `testing`).
pub mod api;
pub mod app;
pub mod choice;
pub mod error;
#[cfg(any(test, feature = "testing"))]
pub mod memory;
pub mod order;
pub mod person;
pub mod ports;
pub mod store;

/// The name this context publishes under (`source` = `ates.matching`).
pub const PRODUCER: &str = "matching";
