//! Orders (SPEC M2): what clients order and the order's whole life. A client orders a service
//! of a type managers keep; the order is a Petri net whose transitions the other contexts fire
//! by their events (the calculator's estimate and price, matching's executor, supplies' kit) and
//! people fire by their commands (the client's cancel, approval and decline).
//!
//! - [`order`]: the net (plain Rust); [`service_type`]: the types clients choose from;
//! - [`app`]: the use cases; [`ports`]: the small traits they drive;
//! - [`api`]: the HTTP edge, one function per route; [`store`]: the DynamoDB store;
//!   `memory`: the in-memory store for tests (feature `testing`).
pub mod api;
pub mod app;
pub mod error;
#[cfg(any(test, feature = "testing"))]
pub mod memory;
pub mod order;
pub mod ports;
pub mod service_type;
pub mod store;

/// The name this context publishes under (`source` = `ates.orders`).
pub const PRODUCER: &str = "orders";
