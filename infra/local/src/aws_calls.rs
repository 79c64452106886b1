//! Counts the AWS calls each function makes: every function's processes talk to the emulator
//! through a loopback proxy of their own, which forwards each request unchanged and counts it by
//! operation (`dynamodb:TransactWriteItems`, `sesv2:SendEmail`, ...). The proxy also holds the
//! function to its IAM policy (`iam`): a call the policy does not allow is answered
//! `AccessDeniedException`, kept in [`AwsCalls::denials`], and never reaches the emulator.
//! EventBridge replays are answered by the stack itself ([`crate::replay`]).
//!
//! Beside the counts it keeps what pricing needs ([`AwsCalls::units`], `GET
//! /_local/aws-calls?units`): EventBridge entries and their bytes, SQS messages sent, time spent
//! waiting on the emulator, and, when the stack runs with `ATES_LOCAL_CAPACITY=1`, DynamoDB request
//! units computed by [`crate::capacity`] from what each call reads and writes (a write's items are
//! read from the emulator before and after it, uncounted, to size them and see their index
//! entries move; so it is off unless asked for).

use crate::replay::Replays;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{self, HeaderMap, HeaderName};
use axum::http::uri::{Authority, Scheme, Uri};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::serve::ListenerExt;
use axum::Router;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Map, Value};

use crate::capacity::{self, TableShape};
use crate::iam::{self, Access, HashKeys, Policy};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Calls per operation, per function (logical id), and the calls IAM refused.
pub struct AwsCalls {
    functions: BTreeMap<String, Mutex<BTreeMap<String, u64>>>,
    /// What pricing needs beyond the counts, per function: `dynamodb:WriteRequestUnits`, ...
    units: BTreeMap<String, Mutex<BTreeMap<String, f64>>>,
    denials: Mutex<Vec<Value>>,
    /// DynamoDB request units are computed (`ATES_LOCAL_CAPACITY=1`).
    capacity: bool,
    /// Tables' keys and indexes, described once.
    shapes: Mutex<HashMap<String, TableShape>>,
}

impl AwsCalls {
    pub fn new<'a>(functions: impl IntoIterator<Item = &'a str>) -> AwsCalls {
        let functions: BTreeMap<String, Mutex<BTreeMap<String, u64>>> = functions
            .into_iter()
            .map(|f| (f.to_string(), Mutex::default()))
            .collect();
        AwsCalls {
            units: functions
                .keys()
                .map(|f| (f.clone(), Mutex::default()))
                .collect(),
            functions,
            denials: Mutex::default(),
            capacity: std::env::var("ATES_LOCAL_CAPACITY").is_ok_and(|v| v == "1"),
            shapes: Mutex::default(),
        }
    }

    /// Whether DynamoDB request units are computed (`ATES_LOCAL_CAPACITY=1`).
    pub fn with_capacity(mut self, capacity: bool) -> AwsCalls {
        self.capacity = capacity;
        self
    }

    fn add(&self, function: &str, what: &str, amount: f64) {
        let Some(units) = self.units.get(function) else {
            return;
        };
        let mut units = units.lock().unwrap_or_else(|e| e.into_inner());
        *units.entry(what.to_string()).or_insert(0.0) += amount;
    }

    /// `{"capacity": bool, "functions": {"<function>": {"<service:What>": amount}}}`, only
    /// functions with some: `dynamodb:WriteRequestUnits` (the tables'),
    /// `dynamodb:IndexWriteRequestUnits`, `dynamodb:ReadRequestUnits` (with `capacity` only),
    /// `events:Entries`, `events:Bytes` (what PutEvents carried), `sqs:Messages` (sent),
    /// `aws:Milliseconds` (waiting on the emulator), `dynamodb:FailedWrites` (refused writes and
    /// cancelled transactions, with `capacity`), and `dynamodb:WriteRequestUnits@<kind>` (a
    /// write's units, the table's and its indexes', by the kind of item: [`capacity::kind_of`]).
    pub fn units(&self) -> Value {
        let mut all = Map::new();
        for (function, units) in &self.units {
            let units = units.lock().unwrap_or_else(|e| e.into_inner());
            if !units.is_empty() {
                all.insert(function.clone(), json!(*units));
            }
        }
        json!({"capacity": self.capacity, "functions": all})
    }

    /// Every call refused for want of a policy statement, oldest first.
    pub fn denials(&self) -> Value {
        Value::Array(
            self.denials
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        )
    }

    fn deny(&self, function: &str, access: &Access) {
        tracing::warn!("IAM: {function} may not {access}");
        self.denials
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(json!({"function": function, "action": access.action, "resource": access.resource, "context": access.context}));
    }

    fn record(&self, function: &str, operation: &str) {
        let Some(counts) = self.functions.get(function) else {
            return;
        };
        let mut counts = counts.lock().unwrap_or_else(|e| e.into_inner());
        match counts.get_mut(operation) {
            Some(n) => *n += 1,
            None => {
                counts.insert(operation.to_string(), 1);
            }
        }
    }

    /// `{"<function>": {"<service:Operation>": count}}`, only functions that made calls.
    pub fn snapshot(&self) -> Value {
        let mut all = Map::new();
        for (function, counts) in &self.functions {
            let counts = counts.lock().unwrap_or_else(|e| e.into_inner());
            if !counts.is_empty() {
                all.insert(function.clone(), json!(*counts));
            }
        }
        Value::Object(all)
    }

    pub fn reset(&self) {
        for counts in self.functions.values() {
            counts.lock().unwrap_or_else(|e| e.into_inner()).clear();
        }
        for units in self.units.values() {
            units.lock().unwrap_or_else(|e| e.into_inner()).clear();
        }
    }
}

/// What one proxy needs: whose calls it counts, what they may do, and where they go.
struct Proxy {
    function: String,
    replays: Arc<Replays>,
    calls: Arc<AwsCalls>,
    /// `None`: not enforced (the function's policies are not all inline statements).
    policy: Option<Policy>,
    hash_keys: Arc<HashKeys>,
    client: Client<HttpConnector, Body>,
    scheme: Scheme,
    authority: Authority,
}

/// Starts one proxy per function of `calls` in front of `upstream` (the emulator's URL),
/// enforcing each function's policy of `policies` (none for a function not there).
/// Answers each function's endpoint (`http://127.0.0.1:<port>`) and the servers' tasks.
pub async fn start_proxies(
    calls: &Arc<AwsCalls>,
    replays: &Arc<Replays>,
    policies: &BTreeMap<String, Option<Policy>>,
    hash_keys: HashKeys,
    upstream: &str,
    shutdown: &watch::Receiver<bool>,
) -> Result<(BTreeMap<String, String>, Vec<JoinHandle<()>>), String> {
    let hash_keys = Arc::new(hash_keys);
    let upstream: Uri = upstream
        .parse()
        .map_err(|e| format!("emulator endpoint {upstream}: {e}"))?;
    let (Some(scheme), Some(authority)) = (upstream.scheme(), upstream.authority()) else {
        return Err(format!(
            "emulator endpoint {upstream} is not an absolute URL"
        ));
    };
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    // One pool for all proxies: connections to the emulator are reused across calls and functions.
    let client = Client::builder(TokioExecutor::new()).build(connector);
    let mut endpoints = BTreeMap::new();
    let mut tasks = Vec::new();
    for function in calls.functions.keys() {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| format!("cannot listen for {function}'s AWS calls: {e}"))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        endpoints.insert(function.clone(), format!("http://127.0.0.1:{port}"));
        let proxy = Arc::new(Proxy {
            function: function.clone(),
            replays: replays.clone(),
            calls: calls.clone(),
            policy: policies.get(function).cloned().flatten(),
            hash_keys: hash_keys.clone(),
            client: client.clone(),
            scheme: scheme.clone(),
            authority: authority.clone(),
        });
        let app = Router::new().fallback(forward).with_state(proxy);
        let mut stop = shutdown.clone();
        let name = function.clone();
        tasks.push(tokio::spawn(async move {
            // Without TCP_NODELAY, a response written in two parts waits on the client's delayed ACK.
            let listener = listener.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            let serving = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = stop.wait_for(|stop| *stop).await;
            });
            if let Err(e) = serving.await {
                tracing::error!("the AWS proxy of {name} stopped: {e}");
            }
        }));
    }
    Ok((endpoints, tasks))
}

/// Headers that belong to one connection, not to the request (RFC 9110 7.6.1).
const HOP_BY_HOP: [HeaderName; 6] = [
    header::CONNECTION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    HeaderName::from_static("keep-alive"),
];

fn strip_hop_by_hop(headers: &mut HeaderMap) {
    for name in &HOP_BY_HOP {
        headers.remove(name);
    }
}

async fn forward(State(proxy): State<Arc<Proxy>>, request: Request) -> Response {
    // The whole of the function's wait, the proxy's own reads included (`aws:Milliseconds`).
    let started = std::time::Instant::now();
    let (mut parts, body) = request.into_parts();
    // Read whole (requests are small): the query protocol names its operation in the form
    // body, and IAM looks at what each call touches.
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => return bad_gateway(format!("reading the request: {e}")),
    };
    let form: &[u8] = if !parts.headers.contains_key("x-amz-target") && is_form(&parts.headers) {
        &bytes
    } else {
        &[]
    };
    let operation = operation(&parts.method, &parts.uri, &parts.headers, form);
    proxy.calls.record(&proxy.function, &operation);
    if let Some(policy) = &proxy.policy {
        match iam::accesses(&operation, &bytes, &parts.uri, &proxy.hash_keys) {
            Some(accesses) => {
                if let Some(refused) = accesses.iter().find(|a| !policy.allows(a)) {
                    proxy.calls.deny(&proxy.function, refused);
                    return access_denied(&parts.headers, &proxy.function, refused);
                }
            }
            None => tracing::debug!("IAM: {} {operation} passes unchecked", proxy.function),
        }
    }
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|t| t.to_str().ok())
        .unwrap_or_default();
    if Replays::takes(target) {
        let (status, answer) = proxy.replays.answer(target, &bytes);
        return (
            status,
            [(header::CONTENT_TYPE, "application/x-amz-json-1.1")],
            answer.to_string(),
        )
            .into_response();
    }
    let request_json: Option<Value> = priced(&operation, proxy.calls.capacity)
        .then(|| serde_json::from_slice(&bytes).ok())
        .flatten();
    if let Some(request) = &request_json {
        payload_units(&proxy.calls, &proxy.function, &operation, request);
    }
    let dynamodb = operation
        .strip_prefix("dynamodb:")
        .filter(|op| proxy.calls.capacity && (capacity::is_write(op) || capacity::is_read(op)))
        .map(str::to_string);
    // A write's items as they were, to size it and see its index entries move.
    let mut before = Vec::new();
    if let (Some(op), Some(request)) = (&dynamodb, &request_json) {
        if capacity::is_write(op) {
            for w in capacity::written(op, request) {
                let shape = proxy.shape(&w.table).await;
                let key = w
                    .key
                    .clone()
                    .or_else(|| w.put.as_ref().map(|item| shape.key_of(item)))
                    .unwrap_or_default();
                let old = proxy.item(&w.table, &key).await;
                before.push((w, shape, key, old));
            }
        }
    }
    let body = Body::from(bytes);

    let mut uri = Uri::builder()
        .scheme(proxy.scheme.clone())
        .authority(proxy.authority.clone());
    if let Some(path) = parts.uri.path_and_query() {
        uri = uri.path_and_query(path.clone());
    }
    parts.uri = match uri.build() {
        Ok(u) => u,
        Err(e) => return bad_gateway(format!("bad request target: {e}")),
    };
    // The Host header stays the function's (the client adds the emulator's only when absent):
    // it is part of the SigV4 signature.
    strip_hop_by_hop(&mut parts.headers);
    match proxy.client.request(Request::from_parts(parts, body)).await {
        Ok(response) => {
            let (mut parts, body) = response.into_parts();
            strip_hop_by_hop(&mut parts.headers);
            let Some(op) = dynamodb
                .filter(|_| parts.status.is_success() || parts.status == StatusCode::BAD_REQUEST)
            else {
                proxy.waited(started);
                return Response::from_parts(parts, Body::new(body));
            };
            let bytes = match axum::body::to_bytes(Body::new(body), usize::MAX).await {
                Ok(b) => b,
                Err(e) => return bad_gateway(format!("reading the emulator's answer: {e}")),
            };
            if !parts.status.is_success() {
                // A write refused: a condition not met is billed as a write of the item as it is
                // (single-item writes); a cancelled transaction is only counted.
                let error = String::from_utf8_lossy(&bytes);
                if capacity::is_write(&op) {
                    proxy
                        .calls
                        .add(&proxy.function, "dynamodb:FailedWrites", 1.0);
                    if error.contains("ConditionalCheckFailed") && op != "TransactWriteItems" {
                        let units: f64 = before
                            .iter()
                            .map(|(_, _, _, old)| {
                                capacity::write_units(
                                    old.as_ref().map_or(0, capacity::item_size),
                                    false,
                                )
                            })
                            .sum();
                        proxy
                            .calls
                            .add(&proxy.function, "dynamodb:WriteRequestUnits", units);
                    }
                }
                proxy.waited(started);
                return Response::from_parts(parts, Body::from(bytes));
            }
            if capacity::is_read(&op) {
                let answer: Value = serde_json::from_slice(&bytes).unwrap_or_default();
                let request = request_json.unwrap_or_default();
                let units = capacity::read_units_of(&op, &request, &answer);
                proxy
                    .calls
                    .add(&proxy.function, "dynamodb:ReadRequestUnits", units);
            } else {
                let (mut table, mut index) = (0.0, 0.0);
                for (w, shape, key, old) in &before {
                    let new = if w.check_only {
                        old.clone()
                    } else {
                        proxy.item(&w.table, key).await
                    };
                    let (t, i) = capacity::item_write_units(
                        shape,
                        old.as_ref(),
                        new.as_ref(),
                        w.transactional,
                    );
                    table += t;
                    index += i;
                    proxy.calls.add(
                        &proxy.function,
                        &format!("dynamodb:WriteRequestUnits@{}", capacity::kind_of(key)),
                        t + i,
                    );
                }
                proxy
                    .calls
                    .add(&proxy.function, "dynamodb:WriteRequestUnits", table);
                proxy
                    .calls
                    .add(&proxy.function, "dynamodb:IndexWriteRequestUnits", index);
            }
            proxy.waited(started);
            Response::from_parts(parts, Body::from(bytes))
        }
        Err(e) => bad_gateway(format!("the emulator did not answer: {e:?}")),
    }
}

/// Operations whose request body pricing reads (DynamoDB's only when units are computed).
fn priced(operation: &str, capacity: bool) -> bool {
    (capacity && operation.starts_with("dynamodb:"))
        || operation == "events:PutEvents"
        || operation == "sqs:SendMessageBatch"
}

/// EventBridge bills an entry per 64 KB chunk of its Time, Source, DetailType, Detail and
/// Resources; the archive stores its bytes. SQS bills a batch as one request, kept: its messages.
fn payload_units(calls: &AwsCalls, function: &str, operation: &str, request: &Value) {
    let entries = request["Entries"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    match operation {
        "events:PutEvents" => {
            let sizes: Vec<u64> = entries.iter().map(event_size).collect();
            let chunks: u64 = sizes.iter().map(|s| s.div_ceil(64 * 1024).max(1)).sum();
            calls.add(function, "events:Entries", chunks as f64);
            calls.add(function, "events:Bytes", sizes.iter().sum::<u64>() as f64);
        }
        "sqs:SendMessageBatch" => calls.add(function, "sqs:Messages", entries.len() as f64),
        _ => {}
    }
}

/// The size of a PutEvents entry as EventBridge bills it (the Time counts 14 bytes).
pub fn event_size(entry: &Value) -> u64 {
    let text = |k: &str| entry[k].as_str().map_or(0, |s| s.len() as u64);
    let resources: u64 = entry["Resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|r| r.len() as u64)
        .sum();
    14 + text("Source") + text("DetailType") + text("Detail") + resources
}

impl Proxy {
    fn waited(&self, started: std::time::Instant) {
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        self.calls.add(&self.function, "aws:Milliseconds", ms);
    }

    /// A DynamoDB call to the emulator that is not the function's (not counted, not checked).
    async fn dynamodb(&self, target: &str, body: &Value) -> Option<Value> {
        let uri = Uri::builder()
            .scheme(self.scheme.clone())
            .authority(self.authority.clone())
            .path_and_query("/")
            .build()
            .ok()?;
        let request = Request::post(uri)
            .header("x-amz-target", format!("DynamoDB_20120810.{target}"))
            .header(header::CONTENT_TYPE, "application/x-amz-json-1.0")
            .header(
                header::AUTHORIZATION,
                "AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0",
            )
            .body(Body::from(body.to_string()))
            .ok()?;
        let response = self.client.request(request).await.ok()?;
        if !response.status().is_success() {
            return None;
        }
        let bytes = axum::body::to_bytes(Body::new(response.into_body()), usize::MAX)
            .await
            .ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    async fn shape(&self, table: &str) -> TableShape {
        let known = self
            .calls
            .shapes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(table)
            .cloned();
        if let Some(shape) = known {
            return shape;
        }
        let Some(description) = self
            .dynamodb("DescribeTable", &json!({"TableName": table}))
            .await
        else {
            return TableShape::default();
        };
        let shape = TableShape::from_description(&description);
        self.calls
            .shapes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(table.to_string(), shape.clone());
        shape
    }

    async fn item(&self, table: &str, key: &Map<String, Value>) -> Option<Map<String, Value>> {
        if key.is_empty() {
            return None;
        }
        let answer = self
            .dynamodb(
                "GetItem",
                &json!({"TableName": table, "Key": key, "ConsistentRead": true}),
            )
            .await?;
        answer["Item"].as_object().cloned()
    }
}

/// What AWS answers a call the caller's policies do not allow.
fn access_denied(headers: &HeaderMap, function: &str, access: &Access) -> Response {
    let message = format!(
        "User: arn:aws:sts::{}:assumed-role/{function}Role/{function} is not authorized to perform: {} on resource: {} because no identity-based policy allows the {} action (local IAM)",
        crate::resolve::ACCOUNT_ID,
        access.action,
        access.resource,
        access.action
    );
    let json_protocol = headers.contains_key("x-amz-target");
    let status = if json_protocol {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::FORBIDDEN
    };
    let body = json!({"__type": "AccessDeniedException", "message": message, "Message": message});
    let mut response = (status, body.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(if json_protocol {
            "application/x-amz-json-1.0"
        } else {
            "application/json"
        }),
    );
    headers.insert(
        HeaderName::from_static("x-amzn-errortype"),
        header::HeaderValue::from_static("AccessDeniedException"),
    );
    response
}

fn bad_gateway(message: String) -> Response {
    tracing::warn!("AWS proxy: {message}");
    (StatusCode::BAD_GATEWAY, message).into_response()
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

/// The operation a request calls, as `service:Operation`:
/// - JSON protocols name it in `X-Amz-Target` (`DynamoDB_20120810.GetItem` → `dynamodb:GetItem`);
/// - the query protocol in an `Action` parameter of the query or the form body (`sqs:SendMessage`);
/// - REST services by method and path: SESv2's `POST /v2/email/outbound-emails` is `sesv2:SendEmail`,
///   anything else `<service>:<METHOD> <path>`, the service from the signature's credential scope.
pub fn operation(
    method: &axum::http::Method,
    uri: &Uri,
    headers: &HeaderMap,
    form: &[u8],
) -> String {
    let scope = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(scope_service);
    if let Some(target) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        let (prefix, action) = target.rsplit_once('.').unwrap_or(("", target));
        return format!("{}:{action}", target_service(prefix, scope));
    }
    let action = uri
        .query()
        .and_then(|q| form_value(q.as_bytes(), "Action"))
        .or_else(|| form_value(form, "Action"));
    if let Some(action) = action {
        return format!("{}:{action}", scope.unwrap_or("unknown"));
    }
    let path = uri.path();
    if path.starts_with("/v2/email/") {
        if method == axum::http::Method::POST && path == "/v2/email/outbound-emails" {
            return "sesv2:SendEmail".into();
        }
        return format!("sesv2:{method} {path}");
    }
    format!("{}:{method} {path}", scope.unwrap_or("unknown"))
}

/// The service of an `X-Amz-Target` prefix such as `DynamoDB_20120810` or `AWSEvents`.
fn target_service<'a>(prefix: &'a str, scope: Option<&'a str>) -> &'a str {
    const KNOWN: [(&str, &str); 5] = [
        ("DynamoDBStreams_", "dynamodbstreams"),
        ("DynamoDB_", "dynamodb"),
        ("AWSEvents", "events"),
        ("AmazonSQS", "sqs"),
        ("secretsmanager", "secretsmanager"),
    ];
    KNOWN
        .iter()
        .find(|(p, _)| prefix.starts_with(p))
        .map(|(_, service)| *service)
        .or(scope)
        .unwrap_or(prefix)
}

/// The service of a SigV4 `Authorization` header: `Credential=<key>/<date>/<region>/<service>/aws4_request`.
fn scope_service(authorization: &str) -> Option<&str> {
    let credential = authorization.split("Credential=").nth(1)?;
    let credential = credential.split([',', ' ']).next()?;
    credential.split('/').nth(3).filter(|s| !s.is_empty())
}

/// One parameter of an `a=1&b=2` string, if present and plain text (operation names need no decoding).
fn form_value<'a>(form: &'a [u8], name: &str) -> Option<&'a str> {
    form.split(|b| *b == b'&').find_map(|pair| {
        let value = pair.strip_prefix(name.as_bytes())?.strip_prefix(b"=")?;
        std::str::from_utf8(value).ok().filter(|v| !v.is_empty())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderValue, Method};

    const SIGNED: &str = "AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/SERVICE/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc";

    fn name(method: Method, uri: &str, headers: &[(&str, &str)], form: &str) -> String {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        operation(&method, &uri.parse().unwrap(), &map, form.as_bytes())
    }

    fn signed(service: &str) -> String {
        SIGNED.replace("SERVICE", service)
    }

    #[test]
    fn json_protocols_are_named_by_their_target() {
        for (target, scope, expected) in [
            (
                "DynamoDB_20120810.TransactWriteItems",
                "dynamodb",
                "dynamodb:TransactWriteItems",
            ),
            (
                "DynamoDBStreams_20120810.GetRecords",
                "dynamodb",
                "dynamodbstreams:GetRecords",
            ),
            ("AWSEvents.PutEvents", "events", "events:PutEvents"),
            ("AmazonSQS.SendMessageBatch", "sqs", "sqs:SendMessageBatch"),
            (
                "secretsmanager.GetSecretValue",
                "secretsmanager",
                "secretsmanager:GetSecretValue",
            ),
            ("Logs_20140328.PutLogEvents", "logs", "logs:PutLogEvents"),
        ] {
            let auth = signed(scope);
            assert_eq!(
                name(
                    Method::POST,
                    "/",
                    &[("x-amz-target", target), ("authorization", &auth)],
                    ""
                ),
                expected
            );
        }
        assert_eq!(
            name(Method::POST, "/", &[("X-Amz-Target", "Foo_2020.Bar")], ""),
            "Foo_2020:Bar",
            "unsigned and unknown: the target's prefix"
        );
    }

    #[test]
    fn the_query_protocol_is_named_by_its_action() {
        let auth = signed("sqs");
        let form = [
            ("authorization", auth.as_str()),
            (
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8",
            ),
        ];
        assert_eq!(
            name(
                Method::POST,
                "/",
                &form,
                "QueueUrl=http%3A%2F%2Fq&Action=SendMessage&Version=2012-11-05"
            ),
            "sqs:SendMessage"
        );
        assert_eq!(
            name(
                Method::GET,
                "/123456789012/q?Action=ReceiveMessage&MaxNumberOfMessages=10",
                &form[..1],
                ""
            ),
            "sqs:ReceiveMessage"
        );
        assert_eq!(
            name(Method::POST, "/", &form, "NotAction=X&Actionable=Y&Action="),
            "sqs:POST /",
            "only a parameter called Action, with a value, counts"
        );
    }

    #[test]
    fn rest_services_are_named_by_method_and_path() {
        let auth = signed("ses");
        let h = [("authorization", auth.as_str())];
        assert_eq!(
            name(Method::POST, "/v2/email/outbound-emails", &h, ""),
            "sesv2:SendEmail"
        );
        assert_eq!(
            name(Method::GET, "/v2/email/identities/ates.local", &h, ""),
            "sesv2:GET /v2/email/identities/ates.local"
        );
        let s3 = signed("s3");
        assert_eq!(
            name(
                Method::PUT,
                "/bucket/key?x-id=PutObject",
                &[("authorization", &s3)],
                ""
            ),
            "s3:PUT /bucket/key"
        );
        assert_eq!(
            name(Method::GET, "/moto-api/data.json", &[], ""),
            "unknown:GET /moto-api/data.json"
        );
    }

    #[test]
    fn the_credential_scope_names_the_service() {
        assert_eq!(scope_service(&signed("dynamodb")), Some("dynamodb"));
        assert_eq!(
            scope_service("AWS4-HMAC-SHA256 Credential=k/d/r/sqs/aws4_request,SignedHeaders=x"),
            Some("sqs")
        );
        assert_eq!(scope_service("Bearer abc"), None);
        assert_eq!(scope_service("AWS4-HMAC-SHA256 Credential=k/d"), None);
    }

    #[test]
    fn events_are_billed_per_64_kb_chunk_and_batches_count_their_messages() {
        let calls = AwsCalls::new(["A"]).with_capacity(false);
        let entry = |detail: usize| {
            json!({"Source": "ates.tasks", "DetailType": "Task.Created", "Detail": "x".repeat(detail),
                   "Resources": ["arn:a"]})
        };
        // 14 (the time) + 10 + 12 + the detail + 5.
        assert_eq!(event_size(&entry(100)), 14 + 10 + 12 + 100 + 5);
        let big = 64 * 1024 + 1;
        payload_units(
            &calls,
            "A",
            "events:PutEvents",
            &json!({"Entries": [entry(100), entry(big)]}),
        );
        payload_units(
            &calls,
            "A",
            "sqs:SendMessageBatch",
            &json!({"Entries": [{}, {}, {}]}),
        );
        let bytes = (2 * (14 + 10 + 12 + 5) + 100 + big) as f64;
        assert_eq!(
            calls.units(),
            json!({"capacity": false, "functions": {"A": {
                "events:Entries": 3.0, "events:Bytes": bytes, "sqs:Messages": 3.0}}}),
            "the large entry is two chunks"
        );
        calls.reset();
        assert_eq!(calls.units()["functions"], json!({}));
    }

    #[test]
    fn counts_per_function_and_resets() {
        let calls = AwsCalls::new(["A", "B", "C"]);
        calls.record("A", "dynamodb:GetItem");
        calls.record("A", "dynamodb:GetItem");
        calls.record("B", "events:PutEvents");
        calls.record("Nobody", "events:PutEvents");
        assert_eq!(
            calls.snapshot(),
            json!({"A": {"dynamodb:GetItem": 2}, "B": {"events:PutEvents": 1}})
        );
        calls.reset();
        assert_eq!(calls.snapshot(), json!({}));
    }
}
