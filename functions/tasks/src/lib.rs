//! The task tracker (SPEC T1–T5). It keeps its own copy of accounts, fed by `Account.*` events,
//! and never reads the auth table.
//!
//! - [`task`]: tasks, their checks, assignment and completion (plain Rust).
//! - [`shuffle`]: reassigning every open task, page by page (plain Rust).
//! - [`accounts`]: the copy of accounts and the pool of assignable ones.
//! - [`store`]: the DynamoDB adapter; [`api`]: one function per route.
pub mod accounts;
pub mod api;
pub mod error;
pub mod shuffle;
pub mod store;
pub mod task;

/// The name this context publishes under (`source` = `ates.tasks`).
pub const PRODUCER: &str = "tasks";
/// The consumer name this context's inbox records carry.
pub const CONSUMER: &str = "tasks";
