//! Calculator (SPEC M3): what an order costs. On `Order.Created` it gives the order's estimate
//! (the service type's base price less the client's loyalty discount); on
//! `Matching.ExecutorMatched` the exact price for that executor (the base price at the
//! executor's level, less the discount), set once per (order, executor). Clients ask for a
//! quote before they order. It keeps its own copies of what it prices from: service types
//! (`ServiceType.Set`), workers' levels (`Worker.ProfileSet`), the orders it priced
//! (`Order.Created`), accounts (`Account.*`, for callers) and clients' paid totals.
//!
//! - [`price`]: the arithmetic (plain integers, rounded down); [`order`]: the priced order and
//!   the price of its executor, and when a price may be set; [`copies`]: the service types and
//!   workers' levels as the calculator keeps them; [`loyalty`]: what a client has paid;
//! - [`app`]: the use cases; [`ports`]: the small traits they drive;
//! - [`api`]: the HTTP edge; [`store`]: the DynamoDB store; `memory`: an in-memory store for
//!   tests (feature `testing`).
pub mod api;
pub mod app;
pub mod copies;
pub mod error;
pub mod loyalty;
#[cfg(any(test, feature = "testing"))]
pub mod memory;
pub mod order;
pub mod ports;
pub mod price;
pub mod store;

/// The name this context publishes under (`source` = `ates.calculator`).
pub const PRODUCER: &str = "calculator";
