//! Lambda: publishes the billing table's outbox to the event bus.
#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::lambda::serve_outbox_relay().await
}
