//! The task tracker (SPEC T1–T5). It keeps its own copy of accounts, fed by `Account.*` events,
//! and never reads the auth table.
//!
//! - [`accounts`]: the copy of accounts and the pool of assignable ones.
//! - [`store`]: the DynamoDB adapter.
pub mod accounts;
pub mod store;

/// The name this context publishes under (`source` = `ates.tasks`).
pub const PRODUCER: &str = "tasks";
/// The consumer name this context's inbox records carry.
pub const CONSUMER: &str = "tasks";
