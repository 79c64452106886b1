//! Lambda: the analytics table's stream: kept movements folded into their days' figures, once.
use ates_analytics::{projection::SHARDS, store::additions};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::lambda::serve_fold(SHARDS, additions).await
}
