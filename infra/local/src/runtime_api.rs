//! The Lambda Runtime API (2018-06-01) one function instance's process talks to.

use crate::lambda::{Function, InFlight, Instance, InvokeError};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Instant, SystemTime};
use tokio::task::JoinHandle;

/// Lambda's own limit on a synchronous response is 6 MB; allow more so oversize answers are reported, not cut.
const MAX_RUNTIME_BODY: usize = 32 * 1024 * 1024;

/// The Runtime API of one process: requests to it come from that process only.
#[derive(Clone)]
struct Sandbox {
    function: Arc<Function>,
    instance: Arc<Instance>,
    generation: u64,
}

pub(crate) struct RuntimeApi {
    pub port: u16,
    pub task: JoinHandle<()>,
}

pub(crate) fn serve(
    listener: tokio::net::TcpListener,
    function: Arc<Function>,
    instance: Arc<Instance>,
    generation: u64,
) -> RuntimeApi {
    let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next_invocation))
        .route(
            "/2018-06-01/runtime/invocation/{request_id}/response",
            post(invocation_response),
        )
        .route(
            "/2018-06-01/runtime/invocation/{request_id}/error",
            post(invocation_error),
        )
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .layer(DefaultBodyLimit::max(MAX_RUNTIME_BODY))
        .with_state(Sandbox {
            function,
            instance,
            generation,
        });
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!("runtime API stopped: {e}");
        }
    });
    RuntimeApi { port, task }
}

/// Long-polls the function's queue and hands the next invocation to this instance's process.
async fn next_invocation(State(sandbox): State<Sandbox>) -> Response {
    let Sandbox {
        function,
        instance,
        generation,
    } = sandbox;
    let retired = instance.retired.notified();
    tokio::pin!(retired);
    retired.as_mut().enable();
    if instance.generation.load(Ordering::SeqCst) != generation {
        return gone();
    }

    if instance.awaiting_first_next.swap(false, Ordering::SeqCst) {
        let init = instance
            .spawned_at
            .lock()
            .map(|t| t.elapsed())
            .unwrap_or_default();
        tracing::info!("{} cold start {} ms", instance.label, init.as_millis());
        function.log.line(&format!(
            "INIT {} cold start {} ms",
            instance.label,
            init.as_millis()
        ));
    }
    // Asking for more without answering drops the previous invocation; Lambda fails it too.
    if let Some(previous) = instance.take_in_flight(None, generation) {
        let _ = previous.reply.send(Err(InvokeError::new(
            "Runtime.NoResponse",
            "the runtime asked for the next invocation without answering this one",
        )));
    }

    loop {
        let received = tokio::select! {
            invocation = async { function.queue_rx.lock().await.recv().await } => invocation,
            _ = &mut retired => None,
        };
        let Some(invocation) = received else {
            return gone();
        };
        function.waiting.fetch_sub(1, Ordering::SeqCst);
        if invocation.reply.is_closed() {
            continue; // its caller already gave up
        }
        if instance.generation.load(Ordering::SeqCst) != generation {
            // The asking process died while we waited; let a live one take this invocation.
            function.waiting.fetch_add(1, Ordering::SeqCst);
            let _ = function.queue_tx.send(invocation);
            return gone();
        }

        let mut headers = HeaderMap::new();
        let mut header = |name: &'static str, value: String| {
            if let Ok(v) = HeaderValue::from_str(&value) {
                headers.insert(name, v);
            }
        };
        header(
            "lambda-runtime-aws-request-id",
            invocation.request_id.clone(),
        );
        let deadline = SystemTime::now() + function.spec.timeout;
        let deadline_ms = deadline
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default();
        header("lambda-runtime-deadline-ms", deadline_ms.to_string());
        header("lambda-runtime-invoked-function-arn", function.arn.clone());
        header("lambda-runtime-trace-id", trace_id());
        header("content-type", "application/json".into());

        function.log.line(&format!(
            "START RequestId: {} Version: $LATEST",
            invocation.request_id
        ));
        if let Ok(mut slot) = instance.in_flight.lock() {
            *slot = Some(InFlight {
                request_id: invocation.request_id.clone(),
                generation,
                started: Instant::now(),
                reply: invocation.reply,
            });
        }
        if instance.generation.load(Ordering::SeqCst) != generation {
            // Died just now, after the check above: the supervisor may have missed this one.
            if let Some(lost) = instance.take_in_flight(Some(&invocation.request_id), generation) {
                let _ = lost.reply.send(Err(InvokeError::new(
                    "Runtime.ExitError",
                    "the runtime exited as it took the invocation",
                )));
            }
            return gone();
        }
        function.start_clock(&instance, invocation.request_id, generation);
        return (StatusCode::OK, headers, invocation.payload).into_response();
    }
}

async fn invocation_response(
    State(sandbox): State<Sandbox>,
    Path(request_id): Path<String>,
    body: Bytes,
) -> Response {
    finish(&sandbox, &request_id, Ok(body.to_vec()))
}

async fn invocation_error(
    State(sandbox): State<Sandbox>,
    Path(request_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let reported: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let header_type = headers
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok());
    let error_type = reported
        .get("errorType")
        .and_then(Value::as_str)
        .or(header_type)
        .unwrap_or("Unhandled");
    let message = reported
        .get("errorMessage")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
    finish(
        &sandbox,
        &request_id,
        Err(InvokeError::new(error_type, message)),
    )
}

fn finish(sandbox: &Sandbox, request_id: &str, result: Result<Vec<u8>, InvokeError>) -> Response {
    let Some(in_flight) = sandbox
        .instance
        .take_in_flight(Some(request_id), sandbox.generation)
    else {
        return (
            StatusCode::BAD_REQUEST,
            Json(
                json!({"errorMessage": format!("unknown or finished request id {request_id}"),
                        "errorType": "InvalidRequestID"}),
            ),
        )
            .into_response();
    };
    let outcome = match &result {
        Ok(_) => String::new(),
        Err(e) => format!(" Error: {e}"),
    };
    let took = in_flight.started.elapsed();
    let usage = &sandbox.function.usage;
    usage.invocations.fetch_add(1, Ordering::Relaxed);
    usage
        .duration_us
        .fetch_add(took.as_micros() as u64, Ordering::Relaxed);
    sandbox.function.log.line(&format!(
        "END RequestId: {request_id}\nREPORT RequestId: {request_id} Duration: {:.2} ms{outcome}",
        took.as_secs_f64() * 1000.0
    ));
    let _ = in_flight.reply.send(result);
    (StatusCode::ACCEPTED, Json(json!({"status": "OK"}))).into_response()
}

async fn init_error(State(sandbox): State<Sandbox>, body: Bytes) -> Response {
    let text = String::from_utf8_lossy(&body).into_owned();
    tracing::warn!("{} init error: {text}", sandbox.instance.label);
    if let Ok(mut reported) = sandbox.instance.init_error.lock() {
        *reported = Some(text.clone());
    }
    sandbox
        .function
        .log
        .line(&format!("INIT_ERROR {}: {text}", sandbox.instance.label));
    (StatusCode::ACCEPTED, Json(json!({"status": "OK"}))).into_response()
}

fn gone() -> Response {
    (
        StatusCode::GONE,
        Json(
            json!({"errorMessage": "this sandbox is being replaced", "errorType": "Local.Retired"}),
        ),
    )
        .into_response()
}

/// An X-Ray style trace header; nothing reads it locally, but runtimes expect one.
fn trace_id() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let epoch = chrono::Utc::now().timestamp();
    format!(
        "Root=1-{epoch:08x}-{};Parent={};Sampled=0",
        &id[..24],
        &id[16..32]
    )
}
