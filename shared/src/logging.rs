//! Structured JSON logs, one object a line, in the field names of AWS Lambda Powertools so the
//! tools and queries written for Powertools read ours: `level`, `message`, `service`,
//! `cold_start`, `function_name`, `function_request_id`, `xray_trace_id`, and the
//! `correlation_id` that links a request to every event it caused.
//!
//! The Lambda runtime opens a span per invocation (`requestId`, `xrayTraceId`); this layer
//! renames those two fields to Powertools' names and flattens every enclosing span's fields
//! into the line, so a line can be joined to the invocation's REPORT line and its trace.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::prelude::*;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{EnvFilter, Layer};

/// The span `lambda_runtime` opens around every invocation.
const INVOCATION_SPAN: &str = "Lambda runtime invoke";

/// Installs the JSON log layer on stdout (the level from `RUST_LOG`, `info` by default).
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let layer = JsonLines::new(service(), |line: &[u8]| {
        // One write of the whole line: lines of concurrent tasks never interleave.
        let _ = std::io::stdout().lock().write_all(line);
    });
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(layer)
        .try_init();
}

/// The service a line or a metric belongs to: the context's name from
/// `POWERTOOLS_SERVICE_NAME` (each context's stack sets it), else `ates`.
pub fn service() -> &'static str {
    static SERVICE: OnceLock<String> = OnceLock::new();
    SERVICE.get_or_init(|| {
        std::env::var("POWERTOOLS_SERVICE_NAME").unwrap_or_else(|_| "ates".to_string())
    })
}

/// True for the first invocation of this process only; read once per invocation.
static COLD: AtomicBool = AtomicBool::new(true);

/// A `tracing` layer writing one JSON object per event to `sink`.
pub struct JsonLines<W> {
    service: String,
    function_name: Option<String>,
    sink: W,
}

impl<W: Fn(&[u8]) + Send + Sync + 'static> JsonLines<W> {
    pub fn new(service: &str, sink: W) -> Self {
        Self {
            service: service.to_string(),
            function_name: std::env::var("AWS_LAMBDA_FUNCTION_NAME").ok(),
            sink,
        }
    }
}

/// A span's fields, kept in the span's extensions under Powertools' names.
struct Fields(Map<String, Value>);

impl<S, W> Layer<S> for JsonLines<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: Fn(&[u8]) + Send + Sync + 'static,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Map::new();
        if attrs.metadata().name() == INVOCATION_SPAN {
            let cold = COLD.swap(false, Ordering::Relaxed);
            fields.insert("cold_start".into(), Value::Bool(cold));
            if cold {
                crate::metrics::count(crate::metrics::COLD_START, 1);
            }
        }
        attrs.record(&mut Collect(&mut fields));
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(Fields(fields));
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            if let Some(Fields(fields)) = span.extensions_mut().get_mut::<Fields>() {
                values.record(&mut Collect(fields));
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut line = Map::new();
        line.insert("level".into(), event.metadata().level().as_str().into());
        line.insert("service".into(), self.service.clone().into());
        if let Some(name) = &self.function_name {
            line.insert("function_name".into(), name.clone().into());
        }
        // Outer spans first, so an inner span's field wins over an outer one of the same name.
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(Fields(fields)) = span.extensions().get::<Fields>() {
                    line.extend(fields.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
            }
        }
        event.record(&mut Collect(&mut line));
        let mut bytes = serde_json::to_vec(&line).unwrap_or_default();
        bytes.push(b'\n');
        (self.sink)(&bytes);
    }
}

/// Records fields into a JSON object, renaming the runtime's to Powertools' names.
struct Collect<'a>(&'a mut Map<String, Value>);

impl Collect<'_> {
    fn put(&mut self, field: &Field, value: Value) {
        let name = match field.name() {
            "requestId" => "function_request_id",
            "xrayTraceId" => "xray_trace_id",
            other => other,
        };
        self.0.insert(name.to_string(), value);
    }
}

impl Visit for Collect<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, value.into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        // `%x` fields and the message arrive here already formatted by Display.
        self.put(field, format!("{value:?}").into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// The lines written while `f` runs, parsed.
    fn lines_of(f: impl FnOnce()) -> Vec<Value> {
        let written = Arc::new(Mutex::new(Vec::<u8>::new()));
        let sink = written.clone();
        let layer = JsonLines::new("tasks", move |line: &[u8]| {
            sink.lock().unwrap().extend_from_slice(line)
        });
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), f);
        let text = String::from_utf8(written.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn a_line_carries_powertools_fields_and_every_enclosing_span() {
        let lines = lines_of(|| {
            let invocation = tracing::info_span!(
                "Lambda runtime invoke",
                requestId = "req-1",
                xrayTraceId = "Root=1-abc"
            );
            let _i = invocation.enter();
            let request = tracing::info_span!("request", correlation_id = %"corr-9");
            let _r = request.enter();
            tracing::info!(status = 201u16, "answered");
        });
        assert_eq!(lines.len(), 1);
        let line = &lines[0];
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["message"], "answered");
        assert_eq!(line["service"], "tasks");
        assert_eq!(line["function_request_id"], "req-1");
        assert_eq!(line["xray_trace_id"], "Root=1-abc");
        assert_eq!(line["correlation_id"], "corr-9");
        assert_eq!(line["status"], 201);
        assert!(line["cold_start"].is_boolean(), "{line}");
        assert!(
            line.get("requestId").is_none(),
            "renamed, not doubled: {line}"
        );
    }

    #[test]
    fn only_the_first_invocation_of_a_process_is_cold() {
        let lines = lines_of(|| {
            for request in ["a", "b", "c"] {
                let span = tracing::info_span!("Lambda runtime invoke", requestId = request);
                let _e = span.enter();
                tracing::info!("handled");
            }
        });
        let cold: Vec<bool> = lines
            .iter()
            .map(|l| l["cold_start"].as_bool().unwrap())
            .collect();
        // Other tests of this process may have been first; then none of these is cold.
        assert!(cold[1..].iter().all(|c| !c), "{cold:?}");
        assert!(cold.iter().filter(|c| **c).count() <= 1, "{cold:?}");
    }

    #[test]
    fn a_line_outside_any_invocation_still_names_its_service() {
        let lines = lines_of(|| tracing::warn!(reason = "x", "outside"));
        assert_eq!(lines[0]["service"], "tasks");
        assert_eq!(lines[0]["level"], "WARN");
        assert_eq!(lines[0]["reason"], "x");
        assert!(lines[0].get("cold_start").is_none());
    }
}
