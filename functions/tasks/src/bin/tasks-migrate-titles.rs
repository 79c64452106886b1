//! Lambda: rewrites stored legacy titles (`[UBERPOP-42] Fix`) into title + jira id. Invoked by an
//! operator with `{}`, then with the `cursor` it answers until that is `null`. Safe to run again.
use ates_kernel::for_process;
use ates_tasks::store::Store;
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
    let store = for_process(Store::from_env(&ates_kernel::aws::load().await)?);
    ates_kernel::lambda::serve_invocation(Box::new(move |input| {
        Box::pin(async move {
            let run: Run = serde_json::from_value(input)?;
            let limit = run.limit.unwrap_or(500).clamp(1, 1000);
            let (migrated, cursor) = store
                .migrate_legacy_titles(limit, run.cursor.as_deref())
                .await?;
            tracing::info!(migrated, done = cursor.is_none(), "legacy titles migrated");
            Ok(serde_json::json!({ "migrated": migrated, "cursor": cursor }))
        })
    }))
    .await
}
