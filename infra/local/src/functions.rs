//! What each `AWS::Serverless::Function` declares: its binary, environment, limits and event sources.

use crate::resolve::Resolver;
use crate::template::{Resource, Template};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// Lambda's defaults when neither the function nor Globals say otherwise.
const DEFAULT_TIMEOUT_SECS: u64 = 3;
const DEFAULT_MEMORY_MB: u64 = 128;

#[derive(Debug, Clone)]
pub struct FunctionSpec {
    pub logical_id: String,
    pub binary: String,
    pub environment: BTreeMap<String, String>,
    pub timeout: Duration,
    pub memory_mb: u64,
    /// `ReservedConcurrentExecutions`: at most this many instances at once, locally too.
    pub reserved_concurrency: Option<u64>,
    /// `Policies`, resolved: what its AWS calls may do (`iam`); a string saying why not, when
    /// they cannot be resolved here.
    pub policies: Value,
    pub routes: Vec<HttpRoute>,
    pub sqs_sources: Vec<SqsSource>,
    pub stream_sources: Vec<StreamSource>,
    pub schedules: Vec<ScheduleSource>,
    /// How Lambda treats the function's asynchronous invocations (what schedules make).
    pub asynchronous: AsyncInvoke,
}

/// `EventInvokeConfig` + `DeadLetterQueue`: a failed asynchronous invocation is retried, then
/// its payload is parked in the function's dead-letter queue.
#[derive(Debug, Clone, PartialEq)]
pub struct AsyncInvoke {
    pub retries: RetryPolicy,
    /// `DeadLetterQueue.TargetArn` (an SQS queue).
    pub dead_letter_arn: Option<String>,
}

impl Default for AsyncInvoke {
    /// Lambda's defaults: two retries within six hours, nowhere to park.
    fn default() -> AsyncInvoke {
        AsyncInvoke {
            retries: RetryPolicy::LAMBDA_ASYNC,
            dead_letter_arn: None,
        }
    }
}

fn async_invoke(function: &str, properties: &Value) -> AsyncInvoke {
    let config = properties.get("EventInvokeConfig").unwrap_or(&Value::Null);
    if config.pointer("/DestinationConfig/OnFailure").is_some() {
        tracing::warn!(
            function = %function,
            "EventInvokeConfig.DestinationConfig is not run locally; use DeadLetterQueue"
        );
    }
    let dead_letter = properties.get("DeadLetterQueue").unwrap_or(&Value::Null);
    let is_queue = text(dead_letter, "Type").as_deref() == Some("SQS");
    if !dead_letter.is_null() && !is_queue {
        tracing::warn!(function = %function, "only an SQS DeadLetterQueue is run locally");
    }
    AsyncInvoke {
        retries: RetryPolicy::read(config, RetryPolicy::LAMBDA_ASYNC),
        dead_letter_arn: text(dead_letter, "TargetArn").filter(|_| is_queue),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct HttpRoute {
    pub event_name: String,
    /// Upper-case HTTP method, or `ANY`.
    pub method: String,
    pub path: String,
    /// Logical id of the `AWS::Serverless::HttpApi`, or None for SAM's implicit API.
    pub api: Option<String>,
    pub auth: RouteAuth,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RouteAuth {
    /// `Authorizer: NONE`, or no authorizer anywhere.
    Open,
    /// Named authorizer, possibly the API's default one.
    Jwt {
        authorizer: String,
        scopes: Vec<String>,
    },
}

#[derive(Debug, Clone)]
pub struct SqsSource {
    pub event_name: String,
    pub queue_arn: String,
    pub batch_size: usize,
    pub report_batch_item_failures: bool,
    /// ScalingConfig.MaximumConcurrency: how many batches may be in flight at once.
    pub maximum_concurrency: Option<usize>,
    pub enabled: bool,
}

#[derive(Debug, Clone)]
pub struct StreamSource {
    pub event_name: String,
    pub stream_arn: String,
    pub starting_position: String,
    pub batch_size: usize,
    /// MaximumBatchingWindowInSeconds: how long records wait for a fuller batch.
    pub batching_window: std::time::Duration,
    /// None retries until the record expires, as Lambda's -1 does.
    pub maximum_retry_attempts: Option<u32>,
    pub bisect_on_error: bool,
    pub report_batch_item_failures: bool,
    /// Lambda filter patterns; a record passes if any matches (or if there are none).
    pub filters: Vec<Value>,
    pub on_failure_arn: Option<String>,
    pub enabled: bool,
}

#[derive(Debug, Clone)]
pub struct ScheduleSource {
    pub event_name: String,
    pub kind: String,
    pub expression: String,
    pub timezone: Option<String>,
    pub input: Option<String>,
    pub enabled: bool,
    /// ScheduleV2's RetryPolicy, Scheduler's defaults filled in; None for Schedule (an EventBridge
    /// rule), which is attempted once here.
    pub retry_policy: Option<RetryPolicy>,
    /// ScheduleV2's `DeadLetterConfig.Arn`: where the last input goes once the retries are spent.
    pub dead_letter_arn: Option<String>,
}

/// How often, and for how long, a failed delivery is tried again.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    pub maximum_retry_attempts: u32,
    pub maximum_event_age: Duration,
}

impl RetryPolicy {
    /// EventBridge Scheduler's defaults: 185 retries within 24 hours.
    pub const SCHEDULER: RetryPolicy = RetryPolicy {
        maximum_retry_attempts: 185,
        maximum_event_age: Duration::from_secs(86_400),
    };
    /// Lambda's asynchronous invocations: two retries within six hours.
    pub const LAMBDA_ASYNC: RetryPolicy = RetryPolicy {
        maximum_retry_attempts: 2,
        maximum_event_age: Duration::from_secs(21_600),
    };

    /// `MaximumRetryAttempts` / `MaximumEventAgeInSeconds` of `config`, defaults filled in.
    fn read(config: &Value, default: RetryPolicy) -> RetryPolicy {
        RetryPolicy {
            maximum_retry_attempts: number(config, "MaximumRetryAttempts")
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(default.maximum_retry_attempts),
            maximum_event_age: number(config, "MaximumEventAgeInSeconds")
                .map(Duration::from_secs)
                .unwrap_or(default.maximum_event_age),
        }
    }
}

/// Builds every function's spec: Globals merged in (by `template`), intrinsics resolved (Policies
/// are left alone), its routes from both ways a template may give them: a SAM `HttpApi` event
/// of the function, or an `AWS::ApiGatewayV2::Route` whose integration invokes it (what a nested
/// stack uses to join an API of its root).
pub fn function_specs(
    template: &Template,
    resolver: &Resolver,
) -> Result<Vec<FunctionSpec>, String> {
    let default_authorizers: BTreeMap<String, Option<String>> = template
        .of_kind("AWS::Serverless::HttpApi")
        .map(|api| {
            let default = api
                .properties
                .get("Auth")
                .and_then(|a| a.get("DefaultAuthorizer"))
                .and_then(Value::as_str)
                .map(str::to_string);
            (api.logical_id.clone(), default)
        })
        .collect();

    let mut specs: Vec<FunctionSpec> = template
        .of_kind("AWS::Serverless::Function")
        .map(|resource| {
            function_spec(resolver, resource, &default_authorizers)
                .map_err(|e| format!("function {}: {e}", resource.logical_id))
        })
        .collect::<Result<_, _>>()?;
    for route in template.of_kind("AWS::ApiGatewayV2::Route") {
        let (function, http) = explicit_route(template, resolver, route)
            .map_err(|e| format!("route {}: {e}", route.logical_id))?;
        let spec = specs
            .iter_mut()
            .find(|s| s.logical_id == function)
            .ok_or_else(|| {
                format!(
                    "route {}: its integration invokes {function}, not a function of the template",
                    route.logical_id
                )
            })?;
        spec.routes.push(http);
    }
    Ok(specs)
}

/// An `AWS::ApiGatewayV2::Route` and the function its `AWS::ApiGatewayV2::Integration` invokes.
fn explicit_route(
    template: &Template,
    resolver: &Resolver,
    route: &Resource,
) -> Result<(String, HttpRoute), String> {
    let p = &route.properties;
    let field = |key: &str| p.get(key).cloned().unwrap_or(Value::Null);
    let key = scalar_string(&resolver.resolve(&field("RouteKey"))?);
    let (method, path) = match key.split_once(' ') {
        Some((method, path)) => (method.to_uppercase(), path.to_string()),
        None if key == "$default" => ("ANY".to_string(), key.clone()),
        None => return Err(format!("bad RouteKey {key}")),
    };
    // Target is `integrations/<id>`; an integration's Ref is its logical id here.
    let target = scalar_string(&resolver.resolve(&field("Target"))?);
    let integration_id = target
        .strip_prefix("integrations/")
        .ok_or_else(|| format!("Target {target} is not integrations/<id>"))?;
    let integration = template
        .resources
        .get(integration_id)
        .filter(|r| r.kind == "AWS::ApiGatewayV2::Integration")
        .ok_or_else(|| format!("{integration_id} is not an AWS::ApiGatewayV2::Integration"))?;
    let integration_type = integration
        .properties
        .get("IntegrationType")
        .and_then(Value::as_str);
    let payload = integration
        .properties
        .get("PayloadFormatVersion")
        .map(scalar_string);
    if integration_type != Some("AWS_PROXY") || payload.as_deref() != Some("2.0") {
        return Err(format!(
            "{integration_id}: only AWS_PROXY integrations with PayloadFormatVersion 2.0 run locally"
        ));
    }
    let uri = integration
        .properties
        .get("IntegrationUri")
        .cloned()
        .unwrap_or(Value::Null);
    let function = crate::template::references(&uri)
        .into_iter()
        .find(|id| {
            template
                .resources
                .get(id)
                .is_some_and(|r| r.kind == "AWS::Serverless::Function")
        })
        .ok_or_else(|| format!("{integration_id}'s IntegrationUri names no function"))?;
    let api = crate::template::references(&field("ApiId"))
        .into_iter()
        .next();
    let auth = match p.get("AuthorizationType").and_then(Value::as_str) {
        Some("JWT") => RouteAuth::Jwt {
            // An authorizer's Ref is its logical id here; the stack keys authorizers by it.
            authorizer: crate::template::references(&field("AuthorizerId"))
                .into_iter()
                .next()
                .ok_or("a JWT route without an AuthorizerId")?,
            scopes: resolver
                .resolve(&field("AuthorizationScopes"))?
                .as_array()
                .into_iter()
                .flatten()
                .map(scalar_string)
                .collect(),
        },
        None | Some("NONE") => RouteAuth::Open,
        Some(other) => return Err(format!("AuthorizationType {other} is not run locally")),
    };
    Ok((
        function,
        HttpRoute {
            event_name: route.logical_id.clone(),
            method,
            path,
            api,
            auth,
        },
    ))
}

fn function_spec(
    resolver: &Resolver,
    resource: &Resource,
    default_authorizers: &BTreeMap<String, Option<String>>,
) -> Result<FunctionSpec, String> {
    let mut unresolved = resource.properties.clone();
    // Policies only matter to IAM (`iam`), and may name things that do not exist locally: then
    // they are kept as the reason, and not enforced.
    let policies = match unresolved.remove("Policies") {
        None => Value::Null,
        Some(policies) => resolver
            .resolve(&policies)
            .unwrap_or_else(|e| Value::String(format!("unresolved: {e}"))),
    };
    let events_unresolved = unresolved.get("Events").cloned().unwrap_or(Value::Null);
    let properties = resolver.resolve(&Value::Object(unresolved))?;

    let binary = resource
        .binary()
        .ok_or("Metadata.BuildProperties.Binary is missing")?
        .to_string();

    let environment = properties
        .pointer("/Environment/Variables")
        .and_then(Value::as_object)
        .map(|vars| {
            vars.iter()
                .map(|(k, v)| (k.clone(), scalar_string(v)))
                .collect()
        })
        .unwrap_or_default();

    let mut spec = FunctionSpec {
        logical_id: resource.logical_id.clone(),
        binary,
        environment,
        timeout: Duration::from_secs(
            number(&properties, "Timeout").unwrap_or(DEFAULT_TIMEOUT_SECS),
        ),
        memory_mb: number(&properties, "MemorySize").unwrap_or(DEFAULT_MEMORY_MB),
        reserved_concurrency: number(&properties, "ReservedConcurrentExecutions"),
        policies,
        routes: Vec::new(),
        sqs_sources: Vec::new(),
        stream_sources: Vec::new(),
        schedules: Vec::new(),
        asynchronous: async_invoke(&resource.logical_id, &properties),
    };

    let events = properties
        .get("Events")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (event_name, event) in events {
        let kind = event
            .get("Type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let props = event.get("Properties").cloned().unwrap_or(Value::Null);
        match kind {
            "HttpApi" => {
                // ApiId resolves to the same local id for every API, so read which one it names unresolved.
                let api = events_unresolved
                    .pointer(&format!(
                        "/{}/Properties/ApiId/Ref",
                        escape_pointer(&event_name)
                    ))
                    .and_then(Value::as_str)
                    .map(str::to_string);
                let default = api
                    .as_ref()
                    .and_then(|a| default_authorizers.get(a).cloned().flatten());
                spec.routes
                    .push(http_route(&event_name, &props, api, default)?);
            }
            "SQS" => spec.sqs_sources.push(SqsSource {
                event_name: event_name.clone(),
                queue_arn: text(&props, "Queue").ok_or("SQS event without Queue")?,
                batch_size: number(&props, "BatchSize").unwrap_or(10).clamp(1, 10) as usize,
                report_batch_item_failures: reports_item_failures(&props),
                maximum_concurrency: props
                    .pointer("/ScalingConfig/MaximumConcurrency")
                    .and_then(|v| scalar_string(v).parse().ok()),
                enabled: props.get("Enabled") != Some(&Value::Bool(false)),
            }),
            "DynamoDB" => spec.stream_sources.push(StreamSource {
                event_name: event_name.clone(),
                stream_arn: text(&props, "Stream").ok_or("DynamoDB event without Stream")?,
                starting_position: text(&props, "StartingPosition")
                    .unwrap_or_else(|| "TRIM_HORIZON".into()),
                batch_size: number(&props, "BatchSize").unwrap_or(100).max(1) as usize,
                batching_window: std::time::Duration::from_secs(
                    number(&props, "MaximumBatchingWindowInSeconds").unwrap_or(0),
                ),
                maximum_retry_attempts: props
                    .get("MaximumRetryAttempts")
                    .and_then(|v| scalar_string(v).parse::<i64>().ok())
                    .and_then(|n| u32::try_from(n).ok()),
                bisect_on_error: flag(&props, "BisectBatchOnFunctionError"),
                report_batch_item_failures: reports_item_failures(&props),
                filters: filter_patterns(&props)?,
                on_failure_arn: props
                    .pointer("/DestinationConfig/OnFailure/Destination")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                enabled: props.get("Enabled") != Some(&Value::Bool(false)),
            }),
            "Schedule" | "ScheduleV2" => spec.schedules.push(schedule_source(
                &resource.logical_id,
                &event_name,
                kind,
                &props,
            )?),
            other => tracing::warn!(
                function = %resource.logical_id,
                event = %event_name,
                "event type {other} is not run locally"
            ),
        }
    }
    Ok(spec)
}

fn schedule_source(
    function: &str,
    event_name: &str,
    kind: &str,
    props: &Value,
) -> Result<ScheduleSource, String> {
    let v2 = kind == "ScheduleV2";
    let retry_policy = v2.then(|| {
        let policy = props.get("RetryPolicy").unwrap_or(&Value::Null);
        RetryPolicy::read(policy, RetryPolicy::SCHEDULER)
    });
    let dead_letter = props.get("DeadLetterConfig").filter(|_| v2);
    let dead_letter_arn = dead_letter.and_then(|d| text(d, "Arn"));
    if dead_letter.is_some() && dead_letter_arn.is_none() {
        tracing::warn!(
            function = %function,
            event = %event_name,
            "DeadLetterConfig without an Arn (a queue SAM would create) is not supported locally; failures are dropped"
        );
    }
    Ok(ScheduleSource {
        event_name: event_name.to_string(),
        kind: kind.to_string(),
        expression: text(props, "Schedule")
            .or_else(|| text(props, "ScheduleExpression"))
            .ok_or("schedule without an expression")?,
        timezone: text(props, "ScheduleExpressionTimezone"),
        input: props.get("Input").map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }),
        enabled: props.get("Enabled") != Some(&Value::Bool(false))
            && props.get("State").and_then(Value::as_str) != Some("DISABLED"),
        retry_policy,
        dead_letter_arn,
    })
}

fn http_route(
    event_name: &str,
    props: &Value,
    api: Option<String>,
    default_authorizer: Option<String>,
) -> Result<HttpRoute, String> {
    let method = text(props, "Method")
        .unwrap_or_else(|| "ANY".into())
        .to_uppercase();
    let path = text(props, "Path").ok_or("HttpApi event without Path")?;
    let named = props.pointer("/Auth/Authorizer").and_then(Value::as_str);
    let scopes = props
        .pointer("/Auth/AuthorizationScopes")
        .and_then(Value::as_array)
        .map(|s| {
            s.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let auth = match named.map(str::to_string).or(default_authorizer) {
        Some(name) if name != "NONE" => RouteAuth::Jwt {
            authorizer: name,
            scopes,
        },
        _ => RouteAuth::Open,
    };
    Ok(HttpRoute {
        event_name: event_name.to_string(),
        method: if method == "X-AMAZON-APIGATEWAY-ANY-METHOD" {
            "ANY".into()
        } else {
            method
        },
        path,
        api,
        auth,
    })
}

fn filter_patterns(props: &Value) -> Result<Vec<Value>, String> {
    let filters = props
        .pointer("/FilterCriteria/Filters")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    filters
        .iter()
        .filter_map(|f| f.get("Pattern"))
        .map(|p| match p {
            Value::String(s) => {
                serde_json::from_str(s).map_err(|e| format!("bad filter pattern {s}: {e}"))
            }
            other => Ok(other.clone()),
        })
        .collect()
}

fn reports_item_failures(props: &Value) -> bool {
    props
        .get("FunctionResponseTypes")
        .and_then(Value::as_array)
        .is_some_and(|types| types.iter().any(|t| t == "ReportBatchItemFailures"))
}

fn text(props: &Value, key: &str) -> Option<String> {
    props.get(key).map(scalar_string).filter(|s| !s.is_empty())
}

fn number(props: &Value, key: &str) -> Option<u64> {
    props.get(key).and_then(|v| scalar_string(v).parse().ok())
}

fn flag(props: &Value, key: &str) -> bool {
    props.get(key).is_some_and(|v| v == true || v == "true")
}

pub fn scalar_string(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// API Gateway's name for a route, e.g. `GET /accounts/{account_id}`.
pub fn route_key(route: &HttpRoute) -> String {
    format!("{} {}", route.method, route.path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::project_template;
    use serde_json::json;

    fn specs() -> BTreeMap<String, FunctionSpec> {
        specs_with(&[("SignInReservedConcurrency", "10")])
    }

    fn specs_with(parameters: &[(&str, &str)]) -> BTreeMap<String, FunctionSpec> {
        let t = project_template();
        let mut overrides = vec![("IssuerUrl", "http://127.0.0.1:4000")];
        overrides.extend_from_slice(parameters);
        let r = Resolver::new(&t, &overrides, "http://127.0.0.1:5000");
        function_specs(&t, &r)
            .unwrap()
            .into_iter()
            .map(|s| (s.logical_id.clone(), s))
            .collect()
    }

    #[test]
    fn globals_merge_into_every_function() {
        let specs = specs();
        let sign_in = &specs["AuthSignInFunction"];
        assert_eq!(sign_in.binary, "auth-sign-in");
        assert_eq!(sign_in.memory_mb, 256, "the function's own MemorySize wins");
        assert_eq!(sign_in.reserved_concurrency, Some(10));
        assert_eq!(specs["AuthMeFunction"].reserved_concurrency, None);
        assert_eq!(
            specs_with(&[])["AuthSignInFunction"].reserved_concurrency,
            None,
            "the template's default reserves none (a new account's quota has none to spare)"
        );
        assert_eq!(
            sign_in.timeout,
            Duration::from_secs(10),
            "Timeout comes from Globals"
        );
        assert_eq!(sign_in.environment["EVENT_BUS_NAME"], "ates");
        assert_eq!(sign_in.environment["ATES_ISSUER"], "http://127.0.0.1:4000");
        assert_eq!(sign_in.environment["TABLE_NAME"], "AuthTable");
        assert_eq!(
            sign_in.environment["SIGNING_KEY_SECRET_ID"],
            "ates/auth/signing-key"
        );
        assert_eq!(sign_in.environment["RUST_LOG"], "info");
    }

    #[test]
    fn routes_name_their_api_authorizer_and_scopes() {
        let specs = specs();
        assert_eq!(
            specs["AuthMeFunction"].routes[0].auth,
            RouteAuth::Jwt {
                authorizer: "HttpApiAuthorizer".into(),
                scopes: vec!["ates".into(), "client".into()]
            },
            "an AWS::ApiGatewayV2::Route of the auth stack, on the root's API and authorizer"
        );
        assert_eq!(specs["AuthMeFunction"].routes[0].event_name, "AuthMeRoute");
        assert_eq!(
            specs["AuthMeFunction"].routes[0].api.as_deref(),
            Some("HttpApi")
        );
        assert_eq!(specs["AuthSignInFunction"].routes[0].auth, RouteAuth::Open);
        let well_known: Vec<_> = specs["AuthWellKnownFunction"]
            .routes
            .iter()
            .map(route_key)
            .collect();
        assert!(well_known.contains(&"GET /.well-known/jwks.json".to_string()));
    }

    #[test]
    fn explicit_routes_find_their_function_through_the_integration() {
        let template = |payload: &str| {
            Template::parse(&format!(
                r#"
Resources:
  Api: {{ Type: AWS::ApiGatewayV2::Api, Properties: {{ ProtocolType: HTTP }} }}
  Jwt: {{ Type: AWS::ApiGatewayV2::Authorizer, Properties: {{ ApiId: !Ref Api, AuthorizerType: JWT }} }}
  Fn:
    Type: AWS::Serverless::Function
    Metadata: {{ BuildProperties: {{ Binary: fn }} }}
  FnIntegration:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: AWS_PROXY
      IntegrationUri: !GetAtt Fn.Arn
      PayloadFormatVersion: "{payload}"
  GetRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: GET /things/{{thing_id}}
      Target: !Sub "integrations/${{FnIntegration}}"
      AuthorizationType: JWT
      AuthorizerId: !Ref Jwt
      AuthorizationScopes: [things:read]
  DefaultRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: $default
      Target: !Join ["/", [integrations, !Ref FnIntegration]]
"#
            ))
            .unwrap()
        };
        let t = template("2.0");
        let r = Resolver::new(&t, &[], "http://127.0.0.1:5000");
        let specs = function_specs(&t, &r).unwrap();
        let routes: Vec<_> = specs[0].routes.iter().collect();
        assert_eq!(routes.len(), 2);
        let default = routes
            .iter()
            .find(|r| r.event_name == "DefaultRoute")
            .unwrap();
        assert_eq!(
            (default.method.as_str(), default.path.as_str()),
            ("ANY", "$default")
        );
        assert_eq!(default.auth, RouteAuth::Open);
        let get = routes.iter().find(|r| r.event_name == "GetRoute").unwrap();
        assert_eq!(route_key(get), "GET /things/{thing_id}");
        assert_eq!(get.api.as_deref(), Some("Api"));
        assert_eq!(
            get.auth,
            RouteAuth::Jwt {
                authorizer: "Jwt".into(),
                scopes: vec!["things:read".into()]
            }
        );

        let t = template("1.0");
        let r = Resolver::new(&t, &[], "http://127.0.0.1:5000");
        let error = function_specs(&t, &r).unwrap_err();
        assert!(error.contains("PayloadFormatVersion 2.0"), "{error}");
    }

    #[test]
    fn event_sources_are_read() {
        let specs = specs();
        let relay = &specs["AuthOutboxRelayFunction"].stream_sources[0];
        assert_eq!(relay.batch_size, 100);
        assert_eq!(relay.maximum_retry_attempts, Some(10));
        assert!(relay.bisect_on_error && relay.report_batch_item_failures);
        assert_eq!(relay.filters[0]["eventName"], json!(["INSERT"]));
        assert_eq!(
            relay.on_failure_arn.as_deref(),
            Some("arn:aws:sqs:us-east-1:123456789012:AuthOutboxDeadLetters")
        );
        let sync = &specs["TasksSyncAccountFunction"].sqs_sources[0];
        assert_eq!(
            sync.queue_arn,
            "arn:aws:sqs:us-east-1:123456789012:TasksAccountEventsQueue"
        );
        assert_eq!(sync.batch_size, 10);
        assert!(sync.report_batch_item_failures);
    }

    #[test]
    fn schedule_v2_reads_its_retry_policy_and_dead_letter_queue() {
        let props = json!({
            "ScheduleExpression": "cron(0 0 * * ? *)",
            "Input": "{\"day\": \"<aws.scheduler.scheduled-time>\"}",
            "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": "600"},
            "DeadLetterConfig": {"Arn": "arn:aws:sqs:us-east-1:123456789012:CloseDeadLetters"},
        });
        let close = schedule_source("Fn", "Close", "ScheduleV2", &props).unwrap();
        assert_eq!(
            close.retry_policy,
            Some(RetryPolicy {
                maximum_retry_attempts: 3,
                maximum_event_age: Duration::from_secs(600)
            })
        );
        assert_eq!(
            close.dead_letter_arn.as_deref(),
            Some("arn:aws:sqs:us-east-1:123456789012:CloseDeadLetters")
        );
        assert_eq!(
            close.input.as_deref(),
            Some("{\"day\": \"<aws.scheduler.scheduled-time>\"}")
        );

        let bare =
            json!({"ScheduleExpression": "rate(1 day)", "DeadLetterConfig": {"Type": "SQS"}});
        let bare = schedule_source("Fn", "Bare", "ScheduleV2", &bare).unwrap();
        assert_eq!(
            bare.retry_policy,
            Some(RetryPolicy {
                maximum_retry_attempts: 185,
                maximum_event_age: Duration::from_secs(86_400)
            }),
            "Scheduler's defaults"
        );
        assert_eq!(
            bare.dead_letter_arn, None,
            "a SAM-created queue is not supported"
        );

        let v1 = json!({"Schedule": "rate(1 day)", "RetryPolicy": {"MaximumRetryAttempts": 3}});
        let v1 = schedule_source("Fn", "Rule", "Schedule", &v1).unwrap();
        assert_eq!(
            (v1.retry_policy, v1.dead_letter_arn),
            (None, None),
            "an EventBridge rule keeps firing once"
        );
    }

    #[test]
    fn asynchronous_invocations_take_lambdas_defaults_and_the_dead_letter_queue() {
        let arn = "arn:aws:sqs:us-east-1:123456789012:ClockDeadLetters";
        let configured = json!({
            "EventInvokeConfig": {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 600},
            "DeadLetterQueue": {"Type": "SQS", "TargetArn": arn},
        });
        assert_eq!(
            async_invoke("Fn", &configured),
            AsyncInvoke {
                retries: RetryPolicy {
                    maximum_retry_attempts: 0,
                    maximum_event_age: Duration::from_secs(600),
                },
                dead_letter_arn: Some(arn.into()),
            }
        );
        assert_eq!(async_invoke("Fn", &json!({})), AsyncInvoke::default());
        let topic = json!({"DeadLetterQueue": {"Type": "SNS", "TargetArn": "arn:aws:sns:x"}});
        assert_eq!(async_invoke("Fn", &topic).dead_letter_arn, None);
    }
}
