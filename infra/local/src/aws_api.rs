//! `/_local/aws`: one AWS endpoint for operators' tools (`ates-ops`, the AWS CLI), so the code
//! that runs against AWS runs unchanged against the local stack. The emulator already speaks
//! DynamoDB, SQS and EventBridge, and those requests are forwarded to it; what it cannot answer
//! for this stack is answered here, in the real API's shape:
//!
//! - Lambda `Invoke` (`POST /2015-03-31/functions/{name}/invocations`; `RequestResponse`,
//!   `Event` and `DryRun`) and `GetFunctionConfiguration` (`GET .../{name}/configuration`, the
//!   environment the template declares): the stack's own functions;
//! - CloudFormation `ListStackResources`: the template's resources with their physical ids (a
//!   queue's URL, a table's name, a function's name), its nested stacks as
//!   `AWS::CloudFormation::Stack` whose ARN lists theirs, SAM's types as deployed
//!   (`AWS::Lambda::Function`). Any stack name is the root: there is one stack here;
//! - SQS `ListDeadLetterSourceQueues`, and the `RedrivePolicy` in `GetQueueAttributes`: the stack
//!   applies queues' redrive policies itself, so the emulator never hears of them.
//!
//! Point a client at it with `--endpoint-url http://127.0.0.1:3000/_local/aws` (or
//! `AWS_ENDPOINT_URL`); the SDKs keep an endpoint's path in front of each request's.

use crate::lambda::InvokeError;
use crate::resolve::{Resolver, ACCOUNT_ID, REGION};
use crate::stack::Stack;
use crate::template::Template;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};
use std::sync::{Arc, OnceLock};

const PREFIX: &str = "/_local/aws";
const LAMBDA_FUNCTIONS: &str = "/2015-03-31/functions/";

/// A resource of the stack as `ListStackResources` reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct StackResource {
    pub logical_id: String,
    /// As deployed: SAM's types transformed (`AWS::Serverless::Function` → `AWS::Lambda::Function`).
    pub kind: String,
    pub physical_id: String,
    /// The nested stack (root's logical id of it) that declares it; None in the root.
    pub stack: Option<String>,
}

/// The ARN a nested stack is listed under; its last segment names it.
pub fn nested_stack_arn(logical_id: &str) -> String {
    format!(
        "arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:stack/ates-local-{logical_id}/{logical_id}"
    )
}

/// Every resource of the template with the physical id CloudFormation would report, and one
/// `AWS::CloudFormation::Stack` per nested stack.
pub fn stack_resources(template: &Template, resolver: &Resolver) -> Vec<StackResource> {
    let nested: Vec<StackResource> = template
        .stacks
        .iter()
        .map(|s| StackResource {
            logical_id: s.logical_id.clone(),
            kind: "AWS::CloudFormation::Stack".into(),
            physical_id: nested_stack_arn(&s.logical_id),
            stack: None,
        })
        .collect();
    let is_nested = |id: &str| nested.iter().any(|n| n.logical_id == id);
    let mut all: Vec<StackResource> = template
        .resources
        .values()
        .filter(|r| !is_nested(&r.logical_id))
        .map(|r| {
            let physical_id = resolver
                .resolve(&json!({"Ref": r.logical_id}))
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_else(|| r.logical_id.clone());
            let kind = match r.kind.as_str() {
                "AWS::Serverless::Function" => "AWS::Lambda::Function",
                "AWS::Serverless::HttpApi" => "AWS::ApiGatewayV2::Api",
                "AWS::Serverless::Application" => "AWS::CloudFormation::Stack",
                other => other,
            };
            StackResource {
                logical_id: r.logical_id.clone(),
                kind: kind.to_string(),
                physical_id,
                stack: r.stack.clone(),
            }
        })
        .collect();
    all.extend(nested);
    all
}

pub fn router() -> Router<Arc<Stack>> {
    Router::new()
        .route(PREFIX, any(handle))
        .route(&format!("{PREFIX}/"), any(handle))
        .route(&format!("{PREFIX}/{{*rest}}"), any(handle))
}

async fn handle(State(stack): State<Arc<Stack>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let path = match parts.uri.path().strip_prefix(PREFIX).unwrap_or_default() {
        "" => "/".to_string(),
        path => path.to_string(),
    };
    let path = path.as_str();
    if let Some(rest) = path.strip_prefix(LAMBDA_FUNCTIONS) {
        return lambda(&stack, &parts.method, &parts.headers, rest, &bytes).await;
    }
    if credential_service(&parts.headers).as_deref() == Some("cloudformation") {
        return cloudformation(&stack, &bytes);
    }
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|t| t.to_str().ok())
        .unwrap_or_default()
        .to_string();
    match target.as_str() {
        "AmazonSQS.ListDeadLetterSourceQueues" => dead_letter_sources(&stack, &bytes),
        "AmazonSQS.GetQueueAttributes" => {
            let request: Value = serde_json::from_slice(&bytes).unwrap_or_default();
            let answer = forward(&stack, parts, path, bytes).await;
            with_redrive_policy(&stack, &request, answer).await
        }
        _ => forward(&stack, parts, path, bytes).await,
    }
}

/// The stack applies queues' RedrivePolicy itself (`provision`), so the emulator does not know
/// it: these answer it as SQS would.
fn queue_named_in<'a>(
    stack: &'a Stack,
    request: &Value,
) -> Option<&'a crate::provision::QueueInfo> {
    let url = request["QueueUrl"].as_str()?;
    let name = url.trim_end_matches('/').rsplit('/').next()?;
    stack.resources.queues.values().find(|q| q.name == name)
}

fn dead_letter_sources(stack: &Stack, body: &[u8]) -> Response {
    let request: Value = serde_json::from_slice(body).unwrap_or_default();
    let Some(queue) = queue_named_in(stack, &request) else {
        return (
            StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, "application/x-amz-json-1.0")],
            json!({"__type": "com.amazonaws.sqs#QueueDoesNotExist", "message": "The specified queue does not exist."}).to_string(),
        )
            .into_response();
    };
    let sources: Vec<&str> = stack
        .resources
        .queues
        .values()
        .filter(|q| {
            q.redrive
                .as_ref()
                .is_some_and(|r| r.dead_letter_arn == queue.arn)
        })
        .map(|q| q.url.as_str())
        .collect();
    (
        [(header::CONTENT_TYPE, "application/x-amz-json-1.0")],
        json!({"queueUrls": sources}).to_string(),
    )
        .into_response()
}

async fn with_redrive_policy(stack: &Stack, request: &Value, answer: Response) -> Response {
    let asked = request["AttributeNames"]
        .as_array()
        .is_some_and(|names| names.iter().any(|n| n == "RedrivePolicy" || n == "All"));
    let redrive = queue_named_in(stack, request).and_then(|q| q.redrive.as_ref());
    let (Some(redrive), true, true) = (redrive, asked, answer.status().is_success()) else {
        return answer;
    };
    let (parts, body) = answer.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return (StatusCode::BAD_GATEWAY, "the emulator's answer was cut").into_response();
    };
    let mut attributes: Value = serde_json::from_slice(&bytes).unwrap_or_default();
    if !attributes["Attributes"].is_object() {
        attributes["Attributes"] = json!({});
    }
    attributes["Attributes"]["RedrivePolicy"] = Value::String(
        json!({"deadLetterTargetArn": redrive.dead_letter_arn, "maxReceiveCount": redrive.max_receive_count})
            .to_string(),
    );
    let mut response = Response::from_parts(parts, Body::from(attributes.to_string()));
    response.headers_mut().remove(header::CONTENT_LENGTH);
    response
}

/// The service a SigV4 `Authorization` header is scoped to (`Credential=key/date/region/service/...`).
fn credential_service(headers: &HeaderMap) -> Option<String> {
    let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let credential = auth.split("Credential=").nth(1)?;
    let scope = credential.split([',', ' ']).next()?;
    scope.split('/').nth(3).map(str::to_string)
}

/// The function a Lambda API path names (a name, or a full or partial ARN), percent-decoded.
fn function_name(segment: &str) -> String {
    let decoded = percent_decode(segment);
    match decoded.split_once("function:") {
        Some((_, rest)) => rest.split(':').next().unwrap_or_default().to_string(),
        None => decoded.split(':').next().unwrap_or_default().to_string(),
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A Lambda API error: `x-amzn-errortype` and a JSON body, as restJson1 clients read them.
fn lambda_error(status: StatusCode, kind: &str, message: &str) -> Response {
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        json!({"Type": "User", "message": message}).to_string(),
    )
        .into_response();
    if let Ok(kind) = HeaderValue::from_str(kind) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-amzn-errortype"), kind);
    }
    response
}

async fn lambda(
    stack: &Arc<Stack>,
    method: &Method,
    headers: &HeaderMap,
    rest: &str,
    body: &[u8],
) -> Response {
    let (segment, operation) = rest.split_once('/').unwrap_or((rest, ""));
    let name = function_name(segment);
    let Some(spec) = stack.lambda.spec(&name) else {
        return lambda_error(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            &format!("Function not found: {name}"),
        );
    };
    match (method, operation) {
        (&Method::GET, "configuration") => {
            let configuration = json!({
                "FunctionName": spec.logical_id,
                "FunctionArn": format!("arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{}", spec.logical_id),
                "Runtime": "provided.al2023",
                "Handler": "bootstrap",
                "Timeout": spec.timeout.as_secs(),
                "MemorySize": spec.memory_mb,
                "Version": "$LATEST",
                "Environment": {"Variables": spec.environment},
            });
            (
                [(header::CONTENT_TYPE, "application/json")],
                configuration.to_string(),
            )
                .into_response()
        }
        (&Method::POST, "invocations") => {
            let payload: Value = if body.is_empty() {
                json!({})
            } else {
                match serde_json::from_slice(body) {
                    Ok(v) => v,
                    Err(e) => {
                        return lambda_error(
                            StatusCode::BAD_REQUEST,
                            "InvalidRequestContentException",
                            &format!("Could not parse request body into json: {e}"),
                        )
                    }
                }
            };
            let invocation_type = headers
                .get("x-amz-invocation-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("RequestResponse");
            match invocation_type {
                "DryRun" => StatusCode::NO_CONTENT.into_response(),
                "Event" => {
                    let stack = stack.clone();
                    tokio::spawn(async move {
                        if let Err(e) = stack.lambda.invoke(&name, &payload).await {
                            tracing::warn!("asynchronous invocation of {name} failed: {e}");
                        }
                    });
                    StatusCode::ACCEPTED.into_response()
                }
                _ => invoked(stack.lambda.invoke(&name, &payload).await),
            }
        }
        _ => lambda_error(
            StatusCode::NOT_FOUND,
            "UnknownOperationException",
            &format!("{method} {LAMBDA_FUNCTIONS}{rest} is not answered locally"),
        ),
    }
}

/// A synchronous invocation's answer: the function's result, or its error marked as Lambda marks it.
fn invoked(result: Result<Value, InvokeError>) -> Response {
    let (body, function_error) = match result {
        Ok(answer) => (answer.to_string(), None),
        Err(e) => match e.error_type.as_str() {
            "ResourceNotFoundException" => {
                return lambda_error(StatusCode::NOT_FOUND, &e.error_type, &e.error_message)
            }
            "TooManyRequestsException" => {
                return lambda_error(
                    StatusCode::TOO_MANY_REQUESTS,
                    &e.error_type,
                    &e.error_message,
                )
            }
            "ServiceException" => {
                return lambda_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &e.error_type,
                    &e.error_message,
                )
            }
            _ => (json!(e).to_string(), Some("Unhandled")),
        },
    };
    let mut response = (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/json"),
            (HeaderName::from_static("x-amz-executed-version"), "$LATEST"),
        ],
        body,
    )
        .into_response();
    if let Some(error) = function_error {
        response.headers_mut().insert(
            HeaderName::from_static("x-amz-function-error"),
            HeaderValue::from_static(error),
        );
    }
    response
}

/// The value of `key` in a form-encoded body.
fn form_value(form: &[u8], key: &str) -> Option<String> {
    std::str::from_utf8(form).ok()?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (percent_decode(k) == key).then(|| percent_decode(v))
    })
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

fn cloudformation(stack: &Stack, form: &[u8]) -> Response {
    let request_id = uuid::Uuid::new_v4();
    let xml = |status: StatusCode, body: String| {
        (status, [(header::CONTENT_TYPE, "text/xml")], body).into_response()
    };
    let action = form_value(form, "Action").unwrap_or_default();
    if action != "ListStackResources" {
        return xml(
            StatusCode::BAD_REQUEST,
            format!(
                "<ErrorResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\"><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>{} is not answered locally (ListStackResources is)</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
                xml_escape(&action)
            ),
        );
    }
    let name = form_value(form, "StackName").unwrap_or_default();
    // A nested stack by its ARN (what the root lists); any other name is the root.
    let nested = name
        .starts_with("arn:aws:cloudformation:")
        .then(|| name.rsplit('/').next().unwrap_or_default().to_string());
    let updated = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ");
    let members: String = stack
        .stack_resources
        .iter()
        .filter(|r| r.stack == nested)
        .map(|r| {
            format!(
                "<member><LogicalResourceId>{}</LogicalResourceId><PhysicalResourceId>{}</PhysicalResourceId><ResourceType>{}</ResourceType><LastUpdatedTimestamp>{updated}</LastUpdatedTimestamp><ResourceStatus>CREATE_COMPLETE</ResourceStatus></member>",
                xml_escape(&r.logical_id),
                xml_escape(&r.physical_id),
                xml_escape(&r.kind)
            )
        })
        .collect();
    xml(
        StatusCode::OK,
        format!(
            "<ListStackResourcesResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\"><ListStackResourcesResult><StackResourceSummaries>{members}</StackResourceSummaries></ListStackResourcesResult><ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></ListStackResourcesResponse>"
        ),
    )
}

/// Headers that belong to one connection, not to the request (RFC 9110 7.6.1).
const HOP_BY_HOP: [&str; 6] = [
    "connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "keep-alive",
];

/// Anything else goes to the emulator, the prefix taken off its path.
async fn forward(
    stack: &Stack,
    mut parts: axum::http::request::Parts,
    path: &str,
    body: axum::body::Bytes,
) -> Response {
    static CLIENT: OnceLock<Client<HttpConnector, Body>> = OnceLock::new();
    let client = CLIENT.get_or_init(|| Client::builder(TokioExecutor::new()).build_http());
    let query = parts
        .uri
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let target = format!("{}{path}{query}", stack.aws_endpoint.trim_end_matches('/'));
    parts.uri = match target.parse::<Uri>() {
        Ok(uri) => uri,
        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    for name in HOP_BY_HOP {
        parts.headers.remove(name);
    }
    match client
        .request(Request::from_parts(parts, Body::from(body)))
        .await
    {
        Ok(response) => {
            let (mut parts, body) = response.into_parts();
            for name in HOP_BY_HOP {
                parts.headers.remove(name);
            }
            Response::from_parts(parts, Body::new(body))
        }
        Err(e) => (
            StatusCode::BAD_GATEWAY,
            format!("the emulator did not answer: {e}"),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_function_is_named_by_its_name_or_its_arn() {
        assert_eq!(
            function_name("TasksSyncAccountFunction"),
            "TasksSyncAccountFunction"
        );
        assert_eq!(
            function_name("arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3AClockEndDayFunction%3A%24LATEST"),
            "ClockEndDayFunction"
        );
        assert_eq!(function_name("123456789012:function:F"), "F");
    }

    #[test]
    fn the_service_is_read_from_the_signatures_scope() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("AWS4-HMAC-SHA256 Credential=test/20261206/us-east-1/cloudformation/aws4_request, SignedHeaders=host, Signature=0"),
        );
        assert_eq!(
            credential_service(&headers).as_deref(),
            Some("cloudformation")
        );
    }

    #[test]
    fn every_resource_of_the_project_is_listed_with_its_physical_id_and_nested_stack() {
        let template = crate::template::project_template();
        let resolver = Resolver::new(&template, &[], "http://127.0.0.1:4566");
        let all = stack_resources(&template, &resolver);
        let find = |id: &str| all.iter().find(|r| r.logical_id == id).cloned();
        let queue = find("TasksAccountEventsDeadLetters").expect("a queue");
        assert_eq!(queue.kind, "AWS::SQS::Queue");
        assert!(
            queue.physical_id.starts_with("http://127.0.0.1:4566/"),
            "{queue:?}"
        );
        let function = find("ClockEndDayFunction").expect("a function");
        assert_eq!(function.kind, "AWS::Lambda::Function");
        let nested = function.stack.expect("in a nested stack");
        let stack = find(&nested).expect("its nested stack is listed");
        assert_eq!(stack.kind, "AWS::CloudFormation::Stack");
        assert_eq!(stack.physical_id, nested_stack_arn(&nested));
        assert_eq!(stack.stack, None);
    }
}
