//! Structured JSON logs. Every request runs in a span carrying its correlation id, so a log
//! line links to the request and to every event that request caused.

use tracing_subscriber::EnvFilter;

pub fn init() {
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_current_span(true)
        .with_span_list(false)
        .flatten_event(true)
        .with_target(false)
        // CloudWatch stamps every line itself.
        .without_time()
        .try_init();
}
