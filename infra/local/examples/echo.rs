//! A tiny function for trying the local stack end to end: it echoes what it is given.
//!
//! HTTP events get their request echoed back; `GET /.well-known/jwks.json` publishes the key in
//! the secret named by SIGNING_KEY_SECRET_ID, like the issuer would. SQS and stream batches report
//! as failed every record whose body or new image mentions "fail", and every stream record whose
//! new image has an `unavailable_until` (RFC 3339) still to come. `{"crash": true}` kills the
//! process, `{"sleep_ms": n}` takes its time, `{"error": "..."}` fails the invocation, and
//! `{"fail_until": "<RFC 3339 time>"}` fails it until then (a dependency that comes back), and
//! `{"secret": "<id>"}` reads that secret (which its policy allows for the signing key alone).

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::{json, Value};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(handle)).await
}

async fn handle(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let (payload, context) = event.into_parts();
    if payload.get("crash") == Some(&Value::Bool(true)) {
        std::process::exit(3);
    }
    if let Some(ms) = payload.get("sleep_ms").and_then(Value::as_u64) {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
    if let Some(message) = payload.get("error").and_then(Value::as_str) {
        return Err(message.into());
    }
    if let Some(until) = payload.get("fail_until").and_then(Value::as_str) {
        let until = chrono::DateTime::parse_from_rfc3339(until)?;
        if chrono::Utc::now() < until {
            return Err(format!("unavailable until {until}").into());
        }
    }
    if let Some(id) = payload.get("secret").and_then(Value::as_str) {
        let config = ates_kernel::aws::load().await;
        aws_sdk_secretsmanager::Client::new(&config)
            .get_secret_value()
            .secret_id(id)
            .send()
            .await
            .map_err(|e| aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string())?;
        return Ok(json!({"read": id}));
    }
    if payload.get("routeKey").is_some() {
        return http(&payload, &context.request_id).await;
    }
    if let Some(records) = payload.get("Records").and_then(Value::as_array) {
        let failures: Vec<Value> = records
            .iter()
            .filter(|r| {
                let body = r.get("body").map(Value::to_string).unwrap_or_default();
                let image = r
                    .pointer("/dynamodb/NewImage")
                    .map(Value::to_string)
                    .unwrap_or_default();
                let unavailable = r
                    .pointer("/dynamodb/NewImage/unavailable_until/S")
                    .and_then(Value::as_str)
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                    .is_some_and(|until| chrono::Utc::now() < until);
                body.contains("fail") || image.contains("fail") || unavailable
            })
            .map(|r| {
                let id = r
                    .get("messageId")
                    .or_else(|| r.pointer("/dynamodb/SequenceNumber"));
                json!({"itemIdentifier": id})
            })
            .collect();
        return Ok(json!({"batchItemFailures": failures}));
    }
    Ok(json!({"echo": payload, "function": std::env::var("AWS_LAMBDA_FUNCTION_NAME").ok()}))
}

async fn http(request: &Value, request_id: &str) -> Result<Value, Error> {
    if request["rawPath"] == "/.well-known/jwks.json" {
        return Ok(
            json!({"statusCode": 200, "headers": {"content-type": "application/json"}, "body": jwks().await?.to_string()}),
        );
    }
    if request["rawPath"] == "/crash" {
        std::process::exit(4);
    }
    let echoed = json!({
        "routeKey": request["routeKey"],
        "pathParameters": request["pathParameters"],
        "queryStringParameters": request["queryStringParameters"],
        "claims": request.pointer("/requestContext/authorizer/jwt/claims"),
        "body": request["body"],
        "requestId": request_id,
        "issuer": std::env::var("ATES_ISSUER").ok(),
    });
    Ok(json!({
        "statusCode": 200,
        "headers": {"content-type": "application/json", "x-echo": "yes"},
        "cookies": ["echo=1; Path=/"],
        "body": echoed.to_string(),
    }))
}

async fn jwks() -> Result<Value, Error> {
    let secret_id = std::env::var("SIGNING_KEY_SECRET_ID")?;
    let config = ates_kernel::aws::load().await;
    let secret = aws_sdk_secretsmanager::Client::new(&config)
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await?;
    let ring: Value = serde_json::from_str(secret.secret_string().unwrap_or("{}"))?;
    let key = &ring["keys"][0];
    Ok(
        json!({"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": key["kid"], "n": key["n"], "e": key["e"]}]}),
    )
}
