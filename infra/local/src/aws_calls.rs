//! Counts the AWS calls each function makes: every function's processes talk to the emulator
//! through a loopback proxy of their own, which forwards each request unchanged and counts it by
//! operation (`dynamodb:TransactWriteItems`, `sesv2:SendEmail`, ...). The proxy also holds the
//! function to its IAM policy (`iam`): a call the policy does not allow is answered
//! `AccessDeniedException`, kept in [`AwsCalls::denials`], and never reaches the emulator.
//! EventBridge replays are answered by the stack itself ([`crate::replay`]).

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

use crate::iam::{self, Access, HashKeys, Policy};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Calls per operation, per function (logical id), and the calls IAM refused.
pub struct AwsCalls {
    functions: BTreeMap<String, Mutex<BTreeMap<String, u64>>>,
    denials: Mutex<Vec<Value>>,
}

impl AwsCalls {
    pub fn new<'a>(functions: impl IntoIterator<Item = &'a str>) -> AwsCalls {
        AwsCalls {
            functions: functions
                .into_iter()
                .map(|f| (f.to_string(), Mutex::default()))
                .collect(),
            denials: Mutex::default(),
        }
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
            Response::from_parts(parts, Body::new(body))
        }
        Err(e) => bad_gateway(format!("the emulator did not answer: {e:?}")),
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
