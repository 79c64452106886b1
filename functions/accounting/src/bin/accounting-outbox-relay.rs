//! Lambda: publishes the accounting table's outbox to the event bus, and its close pages to
//! the work queue.
#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::lambda::serve_outbox_relay().await
}
