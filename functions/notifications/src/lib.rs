//! Notifications (SPEC "Notifications", M9): tells a person what another context asks to tell
//! them, by email: the daily statement, each step of an application to hiring, and the
//! marketplace's news (an order's progress, kits, invoices, monthly statements); and what a
//! manager or an admin writes to someone. It keeps its own copy of names and addresses, fed by
//! `Account.*` events, whose orders are whose (`Order.Created`), and a history of every message
//! with its status.
//!
//! - [`statement`]: the daily statement rendered in plain text and HTML (plain Rust);
//!   [`applicant`]: the mails of an application's steps; [`marketplace`]: the marketplace's
//!   mails (an order's progress, kits to hand out, invoices, monthly statements).
//! - [`message`]: a message and its attempts: who may send it now, and what it became.
//! - [`app`]: the use cases; [`ports`]: the small store ports and the [`ports::Courier`] (the
//!   channel a message leaves by) they drive.
//! - [`api`]: the HTTP edge; [`store`]: the DynamoDB store; [`mail`]: the SES courier (and what a
//!   sending function holds for its process);
//!   `memory`: an in-memory store and courier for tests (feature `testing`).
pub mod api;
pub mod app;
pub mod applicant;
pub mod error;
pub mod mail;
pub mod marketplace;
#[cfg(any(test, feature = "testing"))]
pub mod memory;
pub mod message;
pub mod ports;
pub mod statement;
pub mod store;
