//! Reports (SPEC M6): the executor's pre-report and report, which move the order into and out
//! of the work (orders' `begin` and `finish`), with images uploaded straight to the context's
//! bucket; and quality control: QA cases opened by managers, by every declined order and by a
//! weekly random sample, closed with a verdict that may fine the worker or waive a fine.
//!
//! - [`order`]: what reports knows of an order (a copy of `Order.*` events); [`report`]: the
//!   reports and their images; [`qa`]: QA cases and the weekly sample (plain Rust);
//! - [`app`]: the use cases; [`ports`]: the small traits they drive;
//! - [`api`]: the HTTP edge, one function per route;
//! - [`store`]: the DynamoDB store; [`bucket`]: the S3 bucket of the images; `memory`: an
//!   in-memory store and a bucket the tests fill (feature `testing`).
pub mod api;
pub mod app;
pub mod bucket;
pub mod error;
#[cfg(any(test, feature = "testing"))]
pub mod memory;
pub mod order;
pub mod ports;
pub mod qa;
pub mod report;
pub mod store;

/// The name this context publishes under (`source` = `ates.reports`).
pub const PRODUCER: &str = "reports";
