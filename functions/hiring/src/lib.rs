//! Hiring (SPEC M1): how people get in. Anyone applies to be a worker, a client or a manager
//! and follows their application with a mailed token; workers take a test from the bank and
//! are scored at once; a person decides; an accepted application becomes an account in auth
//! (by an event) and, for a worker, a profile of skills and a level.
//!
//! - [`application`]: applications and their lifecycle (plain Rust);
//! - [`bank`]: questions, tests, profiles, the paper an applicant is given and its scoring;
//! - [`token`]: the application token; [`worker`]: a hired worker's profile;
//! - [`app`]: the use cases; [`ports`]: the small traits they drive;
//! - [`api`]: the HTTP edge, one function per route; [`store`]: the DynamoDB store;
//!   [`mail`]: the token's mail through SES; `memory`: in-memory stores and a token mailbox
//!   for tests (feature `testing`).
pub mod api;
pub mod app;
pub mod application;
pub mod bank;
pub mod error;
pub mod mail;
#[cfg(any(test, feature = "testing"))]
pub mod memory;
pub mod ports;
pub mod store;
pub mod token;
pub mod worker;

/// The name this context publishes under (`source` = `ates.hiring`).
pub const PRODUCER: &str = "hiring";
