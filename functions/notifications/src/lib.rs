//! Notifications (SPEC "Notifications", M9): tells a person what another context asks to tell
//! them, by email: the daily statement, and each step of an application to hiring. It keeps its
//! own copy of names and addresses, fed by `Account.*` events, and a history of every message
//! with its status.
//!
//! - [`statement`]: the daily statement rendered in plain text and HTML (plain Rust);
//!   [`applicant`]: the mails of an application's steps.
//! - [`message`]: a message and its attempts: who may send it now, and what it became.
//! - [`app`]: the use cases; [`ports`]: the small store ports and the [`ports::Courier`] (the
//!   channel a message leaves by) they drive.
//! - [`api`]: the HTTP edge; [`store`]: the DynamoDB store; [`mail`]: the SES courier;
//!   `memory`: an in-memory store and courier for tests (feature `testing`).
pub mod api;
pub mod app;
pub mod applicant;
pub mod error;
pub mod mail;
#[cfg(any(test, feature = "testing"))]
pub mod memory;
pub mod message;
pub mod ports;
pub mod statement;
pub mod store;
