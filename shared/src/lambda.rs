//! The Lambda entry points, one per kind of function. A binary in `src/bin/` builds its adapters
//! once per cold start and hands one of these a boxed handler: the Lambda runtime is then
//! compiled once, here, rather than once per function binary (which costs every binary minutes
//! of release build).
//!
//! | kind                                 | entry point                | fed by                     |
//! |--------------------------------------|----------------------------|----------------------------|
//! | a route of the HTTP API              | [`serve_http`]             | API Gateway (payload 2.0)  |
//! | a handler of domain events           | [`serve_event_consumer`]   | a rule's SQS queue         |
//! | one that must know its last delivery | [`serve_event_deliveries`] | a rule's SQS queue         |
//! | a page of a paged job                | [`serve_job_pages`]        | the context's work queue   |
//! | the outbox relay                     | [`serve_outbox_relay`]     | the table's stream         |
//! | an operator's or schedule's call     | [`serve_invocation`]       | a direct (async) invocation|

use aws_lambda_events::sqs::SqsEvent;
use lambda_http::Request;
use lambda_runtime::{service_fn, LambdaEvent};
use tracing::Instrument;

use crate::aws::SdkConfig;
use crate::dynamo::Table;
use crate::event::Envelope;
use crate::http::{correlation_id, HttpResult, Problem, CORRELATION_HEADER};
use crate::inbox::{self, ConsumeError, DeadLetters, Delivery, Outcome};
use crate::job::{self, JobTable, Page};
use crate::outbox::{self, DynamoDbEvent, EventBus, WorkQueue};
use crate::BoxFuture;

/// A route's handler, boxed.
pub type HttpHandler = Box<dyn Fn(Request) -> BoxFuture<HttpResult> + Send + Sync>;

/// Runs a route: JSON logs, one span per request carrying its correlation id, problems turned
/// into responses, the correlation id echoed back.
pub async fn serve_http(handler: HttpHandler) -> Result<(), lambda_http::Error> {
    let handler = &handler;
    lambda_http::run(lambda_http::service_fn(move |req: Request| async move {
        let correlation = correlation_id(&req);
        let span = tracing::info_span!("request", correlation_id = %correlation, method = %req.method(), path = %req.uri().path());
        let mut response = handler(req).instrument(span.clone()).await.unwrap_or_else(Problem::into_response);
        // The API's access log has every request's status, so the line is DEBUG but for a
        // failure: logs are billed per byte, and this was a fifth of a lifecycle's.
        let status = response.status().as_u16();
        span.in_scope(|| {
            if status >= 500 {
                tracing::warn!(status, "answered");
            } else {
                tracing::debug!(status, "answered");
            }
        });
        if let Ok(value) = correlation.parse() {
            response.headers_mut().insert(CORRELATION_HEADER, value);
        }
        Ok::<_, std::convert::Infallible>(response)
    }))
    .await
}

/// An event handler, boxed.
pub type EventHandler =
    Box<dyn Fn(Envelope) -> BoxFuture<Result<Outcome, ConsumeError>> + Send + Sync>;

/// Runs an event consumer: batches from its queue, failures reported one by one, poison parked
/// in the queue's dead-letter queue (`DEAD_LETTER_QUEUE_URL`).
/// `config` is the function's AWS configuration, loaded once at cold start by its binary.
pub async fn serve_event_consumer(
    config: &SdkConfig,
    handler: EventHandler,
) -> Result<(), lambda_runtime::Error> {
    let parking = DeadLetters::from_env(config)?;
    let (handler, parking) = (&handler, &parking);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, lambda_runtime::Error>(inbox::consume_events(event.payload, parking, handler).await)
    }))
    .await
}

/// An event handler that is told which delivery each event is, boxed.
pub type DeliveryHandler =
    Box<dyn Fn(Envelope, Delivery) -> BoxFuture<Result<Outcome, ConsumeError>> + Send + Sync>;

/// Runs an event consumer whose handler records its own failures and so needs to know the last
/// delivery: as [`serve_event_consumer`], with the queue's `maxReceiveCount`
/// (`MAX_RECEIVE_COUNT`).
pub async fn serve_event_deliveries(
    config: &SdkConfig,
    handler: DeliveryHandler,
) -> Result<(), lambda_runtime::Error> {
    let parking = DeadLetters::from_env(config)?;
    let max_receive_count: u32 = crate::config::required("MAX_RECEIVE_COUNT")?.parse()?;
    let (handler, parking) = (&handler, &parking);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        let response =
            inbox::consume_deliveries(event.payload, max_receive_count, parking, handler).await;
        Ok::<_, lambda_runtime::Error>(response)
    }))
    .await
}

/// A job page's handler, boxed.
pub type PageHandler = Box<dyn Fn(Page) -> BoxFuture<Result<(), ConsumeError>> + Send + Sync>;

/// Runs a context's job pages (its work queue), with the same failure rules as an event
/// consumer; a page that gives up marks its job stalled in `table` (the context's, whose client
/// the store shares: one client per process), knowing when it gives up from the queue's
/// `maxReceiveCount` (`MAX_RECEIVE_COUNT`).
/// `config` is the function's AWS configuration, loaded once at cold start by its binary.
pub async fn serve_job_pages(
    config: &SdkConfig,
    table: Table,
    handler: PageHandler,
) -> Result<(), lambda_runtime::Error> {
    let parking = DeadLetters::from_env(config)?;
    let stalls = JobTable::new(table);
    let max_receive_count: u32 = crate::config::required("MAX_RECEIVE_COUNT")?.parse()?;
    let (handler, parking, stalls) = (&handler, &parking, &stalls);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        let response =
            job::consume_pages(event.payload, max_receive_count, stalls, parking, handler).await;
        Ok::<_, lambda_runtime::Error>(response)
    }))
    .await
}

/// Runs a context's outbox relay: the table's stream in, the bus (`EVENT_BUS_NAME`) and the
/// work queue (`WORK_QUEUE_URL`, if the context has one) out.
pub async fn serve_outbox_relay() -> Result<(), lambda_runtime::Error> {
    crate::logging::init();
    let config = crate::aws::load().await;
    let (bus, work) = (&EventBus::from_env(&config)?, &WorkQueue::from_env(&config));
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<DynamoDbEvent>| async move {
            Ok::<_, lambda_runtime::Error>(outbox::relay(bus, work, event.payload).await)
        },
    ))
    .await
}

/// What a stream record adds to which counters, given the shard its commit adds to.
pub type Additions = fn(&outbox::DynamoDbRecord, u32) -> Result<Vec<crate::fold::Addition>, String>;

/// Runs a fold of the table's (`TABLE_NAME`) stream into its counters, spread over `shards`
/// ([`crate::fold`]). A failure fails the batch, which Lambda hands over again.
pub async fn serve_fold(shards: u32, additions: Additions) -> Result<(), lambda_runtime::Error> {
    crate::logging::init();
    let config = crate::aws::load().await;
    let table = &crate::dynamo::Table::from_env(&config)?;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<DynamoDbEvent>| async move {
            let records = &event.payload.records;
            let folded =
                crate::fold::fold(table, records, shards, additions, chrono::Utc::now()).await?;
            tracing::info!(records = records.len(), folded, "folded");
            Ok::<_, lambda_runtime::Error>(())
        },
    ))
    .await
}

/// A directly invoked function's handler (an operator's command, a schedule), boxed: JSON in,
/// JSON out.
pub type InvocationHandler = Box<
    dyn Fn(serde_json::Value) -> BoxFuture<Result<serde_json::Value, lambda_runtime::Error>>
        + Send
        + Sync,
>;

/// Runs a directly invoked function.
pub async fn serve_invocation(handler: InvocationHandler) -> Result<(), lambda_runtime::Error> {
    let handler = &handler;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        handler(event.payload)
    }))
    .await
}
