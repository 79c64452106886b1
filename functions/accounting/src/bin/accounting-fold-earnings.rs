//! Lambda: the accounting table's stream: audit lines folded into the company's days, once (B6).
use ates_accounting::store::{additions, EARNINGS_SHARDS};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::lambda::serve_fold(EARNINGS_SHARDS, additions).await
}
