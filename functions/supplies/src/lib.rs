//! Supplies (SPEC M5): every rated order gets a kit (the service type's supplies and a fortune
//! cookie), ordered from an external supplier, which delivers later by a signed callback, or
//! not (then the kit is ordered again, four orders in all); supply staff hand the received kit
//! to the order's executor, and every kit handed out (or back) is kept in an append-only audit.
//!
//! - [`kit`]: the kit, its lifecycle and the copy of its order (plain Rust);
//! - [`app`]: the use cases; [`ports`]: the small traits they drive;
//! - [`api`]: the HTTP edge, one function per route; [`signature`]: the callback's HMAC;
//! - [`store`]: the DynamoDB store; [`supplier`]: the supplier's adapter (its queue) and the
//!   simulated supplier behind it; `memory`: an in-memory store and a supplier the tests steer
//!   (feature `testing`).
pub mod api;
pub mod app;
pub mod error;
pub mod kit;
#[cfg(any(test, feature = "testing"))]
pub mod memory;
pub mod ports;
pub mod signature;
pub mod store;
pub mod supplier;

/// The name this context publishes under (`source` = `ates.supplies`).
pub const PRODUCER: &str = "supplies";
