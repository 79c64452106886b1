//! The task tracker (SPEC T1–T5). It keeps its own copy of accounts, fed by `Account.*` events,
//! and never reads the auth table.
//!
//! - [`task`]: tasks, their checks, assignment and completion (plain Rust).
//! - [`shuffle`]: reassigning every open task, page by page (plain Rust).
//! - [`pool`]: the assignable accounts as slots, so a pick costs the same at any size (plain Rust).
//! - [`app`]: the use cases, one per command, query and event handler; [`ports`]: the small
//!   ports they drive, one per need.
//! - [`api`]: the HTTP edge, one function per route; [`store`]: the DynamoDB store;
//!   `memory`: an in-memory store for tests (feature `testing`).
pub mod api;
pub mod app;
pub mod error;
#[cfg(any(test, feature = "testing"))]
pub mod memory;
pub mod pool;
pub mod ports;
pub mod shuffle;
pub mod store;
pub mod task;

/// The name this context publishes under (`source` = `ates.tasks`).
pub const PRODUCER: &str = "tasks";
