//! API Gateway HTTP API emulation: route matching, JWT authorization, payload format 2.0 events;
//! a path no route matches may be one of the web app's files (`site.rs`).

use crate::authorizer::{Authorized, Denial};
use crate::functions::{route_key, FunctionSpec, HttpRoute, RouteAuth};
use crate::lambda::InvokeError;
use crate::resolve::ACCOUNT_ID;
use crate::stack::Stack;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;

/// API Gateway's request payload limit.
pub const MAX_PAYLOAD_BYTES: usize = 10 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct Route {
    pub function: String,
    pub http: HttpRoute,
}

impl Route {
    pub fn route_key(&self) -> String {
        route_key(&self.http)
    }
}

/// Every HttpApi route of every function, in one path router per method.
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    routes: Vec<Route>,
    /// Per method some route names: its routes, and the ANY routes of other paths.
    by_method: HashMap<String, Paths>,
    /// For any other method: the ANY routes.
    any: Paths,
    /// The `$default` route, which catches what no other route matches.
    default: Option<usize>,
}

/// Path routers over indices into `RouteTable::routes`.
#[derive(Debug, Clone, Default)]
struct Paths {
    all: matchit::Router<usize>,
    /// The `{proxy+}` routes alone: where a path with an empty segment goes when a `{param}`
    /// route took it, since a parameter is never empty.
    greedy: matchit::Router<usize>,
}

pub struct Matched<'a> {
    pub route: &'a Route,
    pub path_parameters: BTreeMap<String, String>,
}

impl RouteTable {
    pub fn new<'a>(specs: impl IntoIterator<Item = &'a FunctionSpec>) -> RouteTable {
        let routes: Vec<Route> = specs
            .into_iter()
            .flat_map(|spec| {
                spec.routes.iter().map(|http| Route {
                    function: spec.logical_id.clone(),
                    http: http.clone(),
                })
            })
            .collect();
        let any_routes = || {
            routes
                .iter()
                .enumerate()
                .filter(|(_, r)| r.http.method == "ANY")
        };
        let methods: BTreeSet<&str> = routes
            .iter()
            .map(|r| r.http.method.as_str())
            .filter(|m| *m != "ANY")
            .collect();
        // A method's own routes go in first: on the same path they beat ANY.
        let by_method = methods
            .into_iter()
            .map(|method| {
                let own = routes
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| r.http.method == method);
                (method.to_string(), Paths::of(own.chain(any_routes())))
            })
            .collect();
        RouteTable {
            by_method,
            any: Paths::of(any_routes()),
            default: routes.iter().position(|r| r.http.path == "$default"),
            routes,
        }
    }

    /// Picks the most specific route as API Gateway does: literal segments beat `{param}`,
    /// which beats `{proxy+}`; an exact method beats ANY; `$default` catches the rest. A method
    /// no route names (TRACE, say) on a known path is not found, as in the cloud.
    pub fn find(&self, method: &str, path: &str) -> Option<Matched<'_>> {
        let paths = self.by_method.get(method).unwrap_or(&self.any);
        let (index, path_parameters) = paths
            .find(path)
            .or_else(|| Some((self.default?, BTreeMap::new())))?;
        Some(Matched {
            route: &self.routes[index],
            path_parameters,
        })
    }
}

impl Paths {
    /// The routes, first come first served: a later route on an earlier one's path is dropped.
    fn of<'a>(routes: impl Iterator<Item = (usize, &'a Route)>) -> Paths {
        let mut paths = Paths::default();
        for (index, route) in routes.filter(|(_, r)| r.http.path != "$default") {
            let path = router_path(&route.http.path);
            let greedy = route.http.path.ends_with("+}");
            let inserted = paths.all.insert(path.clone(), index).and_then(|()| {
                if greedy {
                    paths.greedy.insert(path, index)
                } else {
                    Ok(())
                }
            });
            match inserted {
                Ok(()) => {}
                // ANY on a path the method has a route of its own for.
                Err(matchit::InsertError::Conflict { .. }) if route.http.method == "ANY" => {}
                Err(e) => tracing::warn!("route {} is not served: {e}", route.route_key()),
            }
        }
        paths
    }

    fn find(&self, path: &str) -> Option<(usize, BTreeMap<String, String>)> {
        [&self.all, &self.greedy].into_iter().find_map(|router| {
            let matched = router.at(path).ok()?;
            let parameters = matched
                .params
                .iter()
                .map(|(name, value)| {
                    (!value.is_empty()).then(|| (name.to_string(), percent_decode(value, false)))
                })
                .collect::<Option<_>>()?;
            Some((*matched.value, parameters))
        })
    }
}

/// `/tasks/{task_id}/complete` in the router's syntax: `{proxy+}` is its catch-all `{*proxy}`,
/// and braces inside a literal segment are escaped.
fn router_path(path: &str) -> String {
    let segments = path.strip_prefix('/').unwrap_or(path).split('/').map(|s| {
        match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => match name.strip_suffix('+') {
                Some(greedy) => format!("{{*{greedy}}}"),
                None => format!("{{{name}}}"),
            },
            None => s.replace('{', "{{").replace('}', "}}"),
        }
    });
    segments.fold(String::new(), |path, s| path + "/" + &s)
}

/// Decodes `%XX` (and `+` as a space in query strings); bad escapes are kept as they are.
fn percent_decode(text: &str, plus_is_space: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| Some((hex_digit(*bytes.get(i + 1)?)? << 4) | hex_digit(*bytes.get(i + 2)?)?))
            .flatten();
        match (escaped, bytes[i]) {
            (Some(b), _) => {
                out.push(b);
                i += 3;
                continue;
            }
            (None, b'+') if plus_is_space => out.push(b' '),
            (None, b) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_digit(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// `a=1&b=2&a=3` → `{"a": "1,3", "b": "2"}`, as API Gateway joins repeated parameters.
fn query_parameters(raw: &str) -> Map<String, Value> {
    let mut params: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        params
            .entry(percent_decode(k, true))
            .or_default()
            .push(percent_decode(v, true));
    }
    params
        .into_iter()
        .map(|(k, v)| (k, Value::String(v.join(","))))
        .collect()
}

/// The parts of an HTTP request a payload 2.0 event is made from.
pub struct IncomingRequest<'a> {
    pub method: &'a str,
    pub raw_path: &'a str,
    pub raw_query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    pub source_ip: String,
    pub request_id: String,
}

/// Builds the API Gateway HTTP API (payload format 2.0) event for a matched route.
pub fn http_event(
    request: &IncomingRequest<'_>,
    matched: &Matched<'_>,
    authorized: Option<&Authorized>,
) -> Value {
    let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut cookies = Vec::new();
    for (name, value) in request.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if name == "cookie" {
            cookies.extend(
                value
                    .split(';')
                    .map(|c| c.trim().to_string())
                    .filter(|c| !c.is_empty()),
            );
        } else {
            headers
                .entry(name.as_str().to_string())
                .or_default()
                .push(value);
        }
    }
    let header = |name: &str| headers.get(name).map(|v| v.join(",")).unwrap_or_default();
    let domain = header("host");
    let now = chrono::Utc::now();
    let route_key = matched.route.route_key();

    let mut context = json!({
        "accountId": ACCOUNT_ID,
        "apiId": "local",
        "domainName": domain,
        "domainPrefix": domain.split('.').next().unwrap_or_default(),
        "http": {
            "method": request.method,
            "path": request.raw_path,
            "protocol": "HTTP/1.1",
            "sourceIp": request.source_ip,
            "userAgent": header("user-agent"),
        },
        "requestId": request.request_id,
        "routeKey": route_key,
        "stage": "$default",
        "time": now.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
        "timeEpoch": now.timestamp_millis(),
    });
    if let Some(auth) = authorized {
        context["authorizer"] = json!({"jwt": {"claims": auth.claims, "scopes": auth.scopes}});
    }

    let mut event = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": request.raw_path,
        "rawQueryString": request.raw_query,
        "headers": headers.iter().map(|(k, v)| (k.clone(), Value::String(v.join(",")))).collect::<Map<_, _>>(),
        "requestContext": context,
        "isBase64Encoded": false,
    });
    if !cookies.is_empty() {
        event["cookies"] = json!(cookies);
    }
    let query = query_parameters(request.raw_query);
    if !query.is_empty() {
        event["queryStringParameters"] = Value::Object(query);
    }
    if !matched.path_parameters.is_empty() {
        event["pathParameters"] = json!(matched.path_parameters);
    }
    if !request.body.is_empty() {
        match std::str::from_utf8(request.body) {
            Ok(text) => event["body"] = Value::from(text),
            Err(_) => {
                event["body"] = Value::from(BASE64.encode(request.body));
                event["isBase64Encoded"] = Value::Bool(true);
            }
        }
    }
    event
}

/// Maps a function's answer to HTTP as API Gateway does for payload format 2.0.
pub fn http_response(answer: &Value) -> Response {
    let Some(status) = answer.get("statusCode") else {
        // No statusCode: the whole answer is a JSON body.
        return json_response(StatusCode::OK, answer.to_string());
    };
    let status = status
        .as_u64()
        .or_else(|| status.as_str().and_then(|s| s.parse().ok()))
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| StatusCode::from_u16(s).ok());
    let Some(status) = status else {
        return gateway_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
    };

    let mut headers = HeaderMap::new();
    let mut add = |name: &str, value: &Value| {
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Null => return,
            other => other.to_string(),
        };
        if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::from_str(&text)) {
            headers.append(n, v);
        }
    };
    for (name, value) in answer
        .get("headers")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        add(name, value);
    }
    for (name, values) in answer
        .get("multiValueHeaders")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        for value in values.as_array().into_iter().flatten() {
            add(name, value);
        }
    }
    for cookie in answer
        .get("cookies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        add("set-cookie", cookie);
    }

    let body = match answer.get("body") {
        Some(Value::String(s)) if answer.get("isBase64Encoded") == Some(&Value::Bool(true)) => {
            match BASE64.decode(s) {
                Ok(bytes) => bytes,
                Err(_) => {
                    return gateway_error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "Internal Server Error",
                    )
                }
            }
        }
        Some(Value::String(s)) => s.clone().into_bytes(),
        Some(Value::Null) | None => Vec::new(),
        Some(other) => other.to_string().into_bytes(),
    };
    (status, headers, body).into_response()
}

fn json_response(status: StatusCode, body: String) -> Response {
    (status, [("content-type", "application/json")], body).into_response()
}

/// API Gateway's own error bodies: `{"message": "..."}`.
pub fn gateway_error(status: StatusCode, message: &str) -> Response {
    json_response(status, json!({"message": message}).to_string())
}

/// Every request outside /_local: find the route, authorize, invoke, answer.
pub async fn handle(
    State(stack): State<Arc<Stack>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let declared = parts
        .headers
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > MAX_PAYLOAD_BYTES) {
        return gateway_error(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large");
    }
    let Ok(body) = axum::body::to_bytes(body, MAX_PAYLOAD_BYTES).await else {
        return gateway_error(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large");
    };

    let method = parts.method.as_str().to_string();
    let raw_path = parts.uri.path().to_string();
    let Some(matched) = stack.routes.find(&method, &raw_path) else {
        // Not the API's: the web app's file, if there is one (CloudFront's default behaviour).
        if let Some(file) = match &stack.site {
            Some(site) => site.serve(&parts).await,
            None => None,
        } {
            return file;
        }
        return gateway_error(StatusCode::NOT_FOUND, "Not Found");
    };

    let authorized = match &matched.route.http.auth {
        RouteAuth::Open => None,
        RouteAuth::Jwt { authorizer, scopes } => {
            let authorization = parts
                .headers
                .get("authorization")
                .and_then(|v| v.to_str().ok());
            match stack
                .authorize(
                    matched.route.http.api.as_deref(),
                    authorizer,
                    authorization,
                    scopes,
                )
                .await
            {
                Ok(a) => Some(a),
                Err(Denial::Unauthorized(reason)) => {
                    tracing::info!("{} {raw_path}: 401 ({reason})", method);
                    let mut r = gateway_error(StatusCode::UNAUTHORIZED, "Unauthorized");
                    r.headers_mut()
                        .insert("www-authenticate", HeaderValue::from_static("Bearer"));
                    return r;
                }
                Err(Denial::Forbidden(reason)) => {
                    tracing::info!("{} {raw_path}: 403 ({reason})", method);
                    return gateway_error(StatusCode::FORBIDDEN, "Forbidden");
                }
            }
        }
    };

    let request_id = uuid::Uuid::new_v4().to_string();
    let incoming = IncomingRequest {
        method: &method,
        raw_path: &raw_path,
        raw_query: parts.uri.query().unwrap_or_default(),
        headers: &parts.headers,
        body: &body,
        source_ip: peer.ip().to_string(),
        request_id: request_id.clone(),
    };
    let event = http_event(&incoming, &matched, authorized.as_ref());
    let mut response = match stack.lambda.invoke(&matched.route.function, &event).await {
        Ok(answer) => http_response(&answer),
        Err(error) => integration_error(&matched.route.function, &error),
    };
    if let Ok(id) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("apigw-requestid", id);
    }
    response
}

/// A failed invocation is an opaque 500 (503 on timeout) to the client, as in the cloud;
/// the reason goes to the log and, locally only, to a response header.
fn integration_error(function: &str, error: &InvokeError) -> Response {
    tracing::warn!("{function} failed: {error}");
    let mut response = if error.is_timeout() {
        gateway_error(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable")
    } else {
        gateway_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
    };
    let detail: String = error
        .to_string()
        .chars()
        .filter(|c| !c.is_control())
        .take(500)
        .collect();
    if let Ok(v) = HeaderValue::from_str(&detail) {
        response.headers_mut().insert("x-ates-local-error", v);
    }
    response
}

/// A GET through our own routes, for the authorizer's JWKS: the issuer is this API.
pub fn internal_get_event(path: &str, matched: &Matched<'_>) -> Value {
    let headers = HeaderMap::new();
    let request = IncomingRequest {
        method: Method::GET.as_str(),
        raw_path: path,
        raw_query: "",
        headers: &headers,
        body: &[],
        source_ip: "127.0.0.1".into(),
        request_id: uuid::Uuid::new_v4().to_string(),
    };
    http_event(&request, matched, None)
}

/// The body of a payload 2.0 answer, decoded.
pub fn response_body(answer: &Value) -> Result<Bytes, String> {
    if answer.get("statusCode").is_none() {
        return Ok(Bytes::from(answer.to_string()));
    }
    let status = answer["statusCode"].as_u64().unwrap_or(0);
    if status != 200 {
        return Err(format!("status {status}"));
    }
    let body = answer
        .get("body")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if answer.get("isBase64Encoded") == Some(&Value::Bool(true)) {
        BASE64
            .decode(body)
            .map(Bytes::from)
            .map_err(|e| e.to_string())
    } else {
        Ok(Bytes::from(body.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::function_specs;
    use crate::resolve::Resolver;
    use crate::template::project_template;
    use axum::body::to_bytes;

    fn spec(name: &str, routes: &[(&str, &str)]) -> FunctionSpec {
        FunctionSpec {
            logical_id: name.into(),
            binary: name.into(),
            environment: Default::default(),
            timeout: std::time::Duration::from_secs(3),
            memory_mb: 128,
            reserved_concurrency: None,
            policies: serde_json::Value::Null,
            routes: routes
                .iter()
                .map(|(m, p)| HttpRoute {
                    event_name: "Api".into(),
                    method: m.to_string(),
                    path: p.to_string(),
                    api: None,
                    auth: RouteAuth::Open,
                })
                .collect(),
            sqs_sources: vec![],
            stream_sources: vec![],
            schedules: vec![],
            asynchronous: Default::default(),
        }
    }

    #[test]
    fn matches_the_project_routes() {
        let t = project_template();
        let r = Resolver::new(&t, &[], "http://127.0.0.1:5000");
        let specs = function_specs(&t, &r).unwrap();
        let table = RouteTable::new(&specs);
        let m = table.find("PATCH", "/accounts/acc-42").unwrap();
        assert_eq!(m.route.function, "AuthUpdateAccountFunction");
        assert_eq!(m.path_parameters["account_id"], "acc-42");
        assert_eq!(m.route.route_key(), "PATCH /accounts/{account_id}");
        assert_eq!(
            table
                .find("POST", "/accounts/acc-42/deactivate")
                .unwrap()
                .route
                .function,
            "AuthDeactivateAccountFunction"
        );
        assert_eq!(
            table.find("GET", "/accounts").unwrap().route.function,
            "AuthListAccountsFunction"
        );
        assert_eq!(
            table.find("POST", "/accounts").unwrap().route.function,
            "AuthCreateAccountFunction"
        );
        assert!(table.find("DELETE", "/accounts").is_none());
        assert!(
            table.find("TRACE", "/accounts").is_none(),
            "a method no route names is not found on a known path"
        );
        assert!(table.find("GET", "/nope").is_none());
        assert!(table.find("GET", "/accounts/a/b").is_none());
        assert!(table.find("GET", "/accounts/").is_none());
        assert!(table.find("PATCH", "/accounts/").is_none());
        assert!(
            table.find("POST", "/accounts//deactivate").is_none(),
            "a parameter is never empty"
        );
        let complete = table.find("POST", "/tasks/t%201/complete").unwrap();
        assert_eq!(complete.route.function, "TasksCompleteTaskFunction");
        assert_eq!(complete.path_parameters["task_id"], "t 1");
        assert_eq!(
            table.find("GET", "/tasks/mine").unwrap().route.function,
            "TasksListMyTasksFunction",
            "a literal segment beats a parameter"
        );
        let status = table.find("GET", "/tasks/shuffles/s-1").unwrap();
        assert_eq!(status.route.function, "TasksShuffleStatusFunction");
        assert_eq!(status.path_parameters["shuffle_id"], "s-1");
        assert!(table.find("GET", "/tasks/shuffles").is_none());
    }

    #[test]
    fn the_most_specific_route_wins() {
        let specs = [
            spec("Literal", &[("GET", "/items/special")]),
            spec("Param", &[("GET", "/items/{id}")]),
            spec("Any", &[("ANY", "/items/{id}")]),
            spec("Greedy", &[("ANY", "/{proxy+}")]),
            spec("Default", &[("ANY", "$default")]),
        ];
        let table = RouteTable::new(&specs);
        assert_eq!(
            table.find("GET", "/items/special").unwrap().route.function,
            "Literal"
        );
        assert_eq!(
            table.find("GET", "/items/7").unwrap().route.function,
            "Param"
        );
        assert_eq!(table.find("PUT", "/items/7").unwrap().route.function, "Any");
        let greedy = table.find("GET", "/a/b%20c/d").unwrap();
        assert_eq!(greedy.route.function, "Greedy");
        assert_eq!(greedy.path_parameters["proxy"], "a/b c/d");
        assert_eq!(table.find("GET", "/").unwrap().route.function, "Default");
        let empty = table.find("GET", "/items//x").unwrap();
        assert_eq!(
            (
                empty.route.function.as_str(),
                empty.path_parameters["proxy"].as_str()
            ),
            ("Greedy", "items//x"),
            "an empty segment is no parameter, but the rest of a path"
        );
        assert_eq!(
            table.find("TRACE", "/items/7").unwrap().route.function,
            "Any"
        );
    }

    #[test]
    fn precedence_is_by_path_first_then_method() {
        let specs = [
            spec("GetAny", &[("GET", "/{proxy+}")]),
            spec("AnyItem", &[("ANY", "/items/{item}")]),
            spec("PostItem", &[("POST", "/items/{id}")]),
            spec("ItemAction", &[("POST", "/items/{other}/{action}")]),
            spec("Braces", &[("GET", "/x{y}")]),
        ];
        let table = RouteTable::new(&specs);
        let get = table.find("GET", "/items/7").unwrap();
        assert_eq!(get.route.function, "AnyItem");
        assert_eq!(get.path_parameters["item"], "7");
        let post = table.find("POST", "/items/7").unwrap();
        assert_eq!(post.route.function, "PostItem");
        assert_eq!(post.path_parameters["id"], "7");
        let action = table.find("POST", "/items/7/close").unwrap();
        assert_eq!(action.route.function, "ItemAction");
        assert_eq!(action.path_parameters["other"], "7");
        assert_eq!(
            table.find("GET", "/items/7/close").unwrap().route.function,
            "GetAny"
        );
        assert!(table.find("POST", "/nope").is_none());
        assert!(table.find("DELETE", "/").is_none());
        assert_eq!(
            table.find("GET", "/x{y}").unwrap().route.function,
            "Braces",
            "braces inside a segment are literal"
        );
        assert_eq!(table.find("GET", "/xy").unwrap().route.function, "GetAny");
    }

    #[test]
    fn builds_a_payload_v2_event() {
        let specs = [spec("Fn", &[("POST", "/things/{id}")])];
        let table = RouteTable::new(&specs);
        let matched = table.find("POST", "/things/a%2Fb").unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("127.0.0.1:3000"));
        headers.append("x-multi", HeaderValue::from_static("1"));
        headers.append("x-multi", HeaderValue::from_static("2"));
        headers.insert("cookie", HeaderValue::from_static("a=1; b=2"));
        let request = IncomingRequest {
            method: "POST",
            raw_path: "/things/a%2Fb",
            raw_query: "q=x%20y&q=z&flag",
            headers: &headers,
            body: &[0xff, 0x00],
            source_ip: "127.0.0.1".into(),
            request_id: "req-1".into(),
        };
        let claims = Authorized {
            claims: [("sub".to_string(), json!("acc-1"))].into_iter().collect(),
            scopes: vec!["ates".into()],
        };
        let event = http_event(&request, &matched, Some(&claims));
        assert_eq!(event["version"], "2.0");
        assert_eq!(event["routeKey"], "POST /things/{id}");
        assert_eq!(event["rawQueryString"], "q=x%20y&q=z&flag");
        assert_eq!(
            event["queryStringParameters"],
            json!({"q": "x y,z", "flag": ""})
        );
        assert_eq!(event["pathParameters"], json!({"id": "a/b"}));
        assert_eq!(event["headers"]["x-multi"], "1,2");
        assert!(event["headers"].get("cookie").is_none());
        assert_eq!(event["cookies"], json!(["a=1", "b=2"]));
        assert_eq!(event["isBase64Encoded"], true);
        assert_eq!(event["body"], BASE64.encode([0xff, 0x00]));
        assert_eq!(event["requestContext"]["http"]["method"], "POST");
        assert_eq!(event["requestContext"]["stage"], "$default");
        assert_eq!(
            event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"],
            "acc-1"
        );
        assert_eq!(
            event["requestContext"]["authorizer"]["jwt"]["scopes"],
            json!(["ates"])
        );

        // What a function built on lambda_http makes of it.
        use lambda_http::request::RequestContext;
        use lambda_http::RequestExt;
        let parsed = lambda_http::request::from_str(&event.to_string()).unwrap();
        assert_eq!(parsed.method(), "POST");
        assert_eq!(parsed.uri().path(), "/things/a%2Fb");
        assert_eq!(parsed.path_parameters().first("id"), Some("a/b"));
        assert_eq!(
            parsed.query_string_parameters().all("q"),
            Some(vec!["x y", "z"])
        );
        assert_eq!(
            parsed
                .headers()
                .get_all("x-multi")
                .iter()
                .collect::<Vec<_>>(),
            ["1,2"]
        );
        assert_eq!(parsed.headers()["cookie"], "a=1; b=2");
        assert_eq!(parsed.body().as_ref(), [0xff, 0x00]);
        let RequestContext::ApiGatewayV2(context) = parsed.request_context() else {
            panic!("not an HTTP API request");
        };
        assert_eq!(context.route_key.as_deref(), Some("POST /things/{id}"));
        let jwt = context.authorizer.and_then(|a| a.jwt).unwrap();
        assert_eq!(jwt.claims["sub"], "acc-1");
        assert_eq!(jwt.scopes, Some(vec!["ates".to_string()]));
    }

    #[tokio::test]
    async fn maps_answers_to_http() {
        let r = http_response(&json!({
            "statusCode": 201,
            "headers": {"content-type": "text/plain", "x-n": 1},
            "multiValueHeaders": {"x-m": ["a", "b"]},
            "cookies": ["s=1; HttpOnly"],
            "body": "aGk=",
            "isBase64Encoded": true,
        }));
        assert_eq!(r.status(), StatusCode::CREATED);
        assert_eq!(r.headers()["x-n"], "1");
        assert_eq!(r.headers().get_all("x-m").iter().count(), 2);
        assert_eq!(r.headers()["set-cookie"], "s=1; HttpOnly");
        assert_eq!(to_bytes(r.into_body(), 1024).await.unwrap(), "hi");

        let bare = http_response(&json!({"hello": "world"}));
        assert_eq!(bare.status(), StatusCode::OK);
        assert_eq!(bare.headers()["content-type"], "application/json");
        assert_eq!(
            to_bytes(bare.into_body(), 1024).await.unwrap(),
            r#"{"hello":"world"}"#
        );
    }
}
