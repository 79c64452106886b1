//! The shared kernel: what every aTES bounded context needs, and nothing that belongs to one.
//!
//! - [`event`]: the envelope every domain event travels in, and the [`event::DomainEvent`] trait.
//! - [`schema`]: the schema registry (`events/`), checked before anything is produced.
//! - [`outbox`]: state and events committed in one transaction; the stream relay that publishes.
//! - [`inbox`]: idempotent consumption of SQS batches of events; poison parked at once.
//! - [`fold`]: counters folded from a table's stream in batches, exactly once.
//! - [`usecase`]: the one executor of every use case: read, decide, commit, retry, idempotency;
//!   and [`usecase::Failure`], what any use case can fail by, which every context's error wraps.
//! - [`job`]: paged jobs (a shuffle, a daily close): bounded pages, atomic progress, stalls.
//! - [`lambda`]: the entry points, one per kind of function (route, consumer, relay, invocation).
//! - [`copies`]: the copy of accounts every context keeps (rights follow the account).
//! - [`http`]: problem+json errors, body parsing, the caller's identity, responses.
//! - [`identity`]: roles and scopes, shared by the issuer and every API.
//! - [`calendar`], [`zone`]: business days in the business's time zone, on chrono times.
//! - [`aws`], [`config`], [`logging`], [`mail`]: adapters built once per cold start.
pub mod aws;
pub mod calendar;
pub mod config;
pub mod contracts;
pub mod copies;
pub mod dynamo;
pub mod earnings;
pub mod event;
pub mod fold;
pub mod http;
pub mod idempotency;
pub mod identity;
pub mod inbox;
pub mod job;
pub mod lambda;
pub mod logging;
pub mod mail;
pub mod merged;
pub mod metrics;
pub mod outbox;
pub mod replay;
pub mod schema;
#[cfg(feature = "testing")]
pub mod testing;
pub mod usecase;
pub mod zone;

/// A boxed, sendable future: what the boxed handlers of [`lambda`] answer.
pub type BoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'static>>;

/// Keeps a value for the life of the process: what a function builds once at cold start and
/// every invocation borrows.
pub fn for_process<T>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}
