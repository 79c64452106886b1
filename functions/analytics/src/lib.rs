//! Analytics (SPEC N1–N4): its own projections, built from events only — top management's
//! earnings per day, how many employees are in debt, the most expensive completed task of any
//! period — kept under a generation number so a rebuild can replace them.
//!
//! - [`projection`]: the projections' rules (plain Rust); [`rebuild`]: a rebuild's course.
//! - [`app`]: the use cases, one per event handler and query; [`ports`]: the small ports they
//!   drive, one per need.
//! - [`api`]: the HTTP edge; [`store`]: the DynamoDB store; [`replayer`]: the EventBridge
//!   replay and the SQS queues it fills; `memory`: an in-memory store for
//!   tests (feature `testing`).
pub mod api;
pub mod app;
pub mod error;
#[cfg(any(test, feature = "testing"))]
pub mod memory;
pub mod ports;
pub mod projection;
pub mod rebuild;
pub mod replayer;
pub mod store;
