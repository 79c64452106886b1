//! Lambda: rewrites stored legacy titles (`[UBERPOP-42] Fix`) into title + jira id. Invoked by an
//! operator with `{"cursor": null}`; answers how many it migrated and the cursor to go on with
//! (`null` when the table is done). Safe to run again.
use ates_tasks::store::Store;
use lambda_runtime::{service_fn, LambdaEvent};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Run {
    #[serde(default)]
    cursor: Option<String>,
    #[serde(default)]
    limit: Option<i32>,
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::logging::init();
    let store = Store::from_env(&ates_kernel::aws::load().await)?;
    let store = &store;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Run>| async move {
        let limit = event.payload.limit.unwrap_or(500).clamp(1, 1000);
        let (migrated, cursor) = store.migrate_legacy_titles(limit, event.payload.cursor.as_deref()).await?;
        tracing::info!(migrated, done = cursor.is_none(), "legacy titles migrated");
        Ok::<_, lambda_runtime::Error>(serde_json::json!({ "migrated": migrated, "cursor": cursor }))
    }))
    .await
}
