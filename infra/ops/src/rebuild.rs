//! Analytics' rebuild by replay: its HTTP functions invoked directly, with the request API
//! Gateway would hand them. The operator's authority is the right to invoke them; the function
//! sees an admin caller (`--as` an admin's account id, else the operator's own id, which has no
//! account copy and so stands as its claims say).

use crate::aws::{Aws, Result};
use crate::options::Caller;
use serde_json::{json, Value};
use std::time::Duration;

const START: &str = "AnalyticsStartRebuildFunction";
const PROGRESS: &str = "AnalyticsRebuildProgressFunction";

async fn function(aws: &Aws, given: &Option<String>, logical_id: &str) -> Result<String> {
    match given {
        Some(f) => Ok(f.clone()),
        None => aws.physical_id(logical_id).await,
    }
}

/// An HTTP API (payload 2.0) request from an admin, as the gateway builds it after its JWT check.
fn request(method: &str, route: &str, path: &str, params: Value, caller: &Caller) -> Value {
    let account = caller
        .account
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, b"ates-ops").to_string());
    let now = chrono::Utc::now();
    let request_id = uuid::Uuid::new_v4().to_string();
    let mut event = json!({
        "version": "2.0",
        "routeKey": format!("{method} {route}"),
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"user-agent": "ates-ops", "x-correlation-id": format!("ates-ops-{request_id}")},
        "requestContext": {
            "accountId": "ates-ops",
            "apiId": "ates-ops",
            "domainName": "ates-ops",
            "domainPrefix": "ates-ops",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "ates-ops"},
            "requestId": request_id,
            "routeKey": format!("{method} {route}"),
            "stage": "$default",
            "time": now.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
            "timeEpoch": now.timestamp_millis(),
            "authorizer": {"jwt": {"claims": {"sub": account, "role": "admin"}, "scopes": ["analytics:read"]}},
        },
        "isBase64Encoded": false,
    });
    if params.as_object().is_some_and(|p| !p.is_empty()) {
        event["pathParameters"] = params;
    }
    event
}

/// The function's HTTP answer: its JSON body when 2xx, else an error with the problem it gave.
fn body(answer: &Value) -> Result<Value> {
    let status = answer["statusCode"].as_u64().unwrap_or(0);
    let body = answer["body"].as_str().unwrap_or_default();
    let parsed: Value = serde_json::from_str(body).unwrap_or(Value::String(body.into()));
    if (200..300).contains(&status) {
        Ok(parsed)
    } else {
        Err(format!("answered {status}: {parsed}"))
    }
}

pub async fn start(aws: &Aws, caller: &Caller) -> Result<()> {
    let function = function(aws, &caller.function, START).await?;
    let event = request(
        "POST",
        "/analytics/rebuilds",
        "/analytics/rebuilds",
        json!({}),
        caller,
    );
    if aws.dry_run {
        println!("would invoke {function} (POST /analytics/rebuilds as an admin)");
        return Ok(());
    }
    let rebuild = body(&aws.invoke(&function, &event).await?)?;
    println!(
        "{}",
        serde_json::to_string_pretty(&rebuild).unwrap_or_default()
    );
    eprintln!(
        "follow it with: ates-ops rebuild status {} --wait",
        rebuild["rebuild_id"].as_str().unwrap_or("<id>")
    );
    Ok(())
}

pub async fn status(aws: &Aws, id: &str, wait: bool, caller: &Caller) -> Result<()> {
    let function = function(aws, &caller.function, PROGRESS).await?;
    let path = format!("/analytics/rebuilds/{id}");
    let event = request(
        "GET",
        "/analytics/rebuilds/{rebuild_id}",
        &path,
        json!({"rebuild_id": id}),
        caller,
    );
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let mut last = String::new();
    loop {
        let progress = body(&aws.invoke(&function, &event).await?)?;
        let status = progress["status"].as_str().unwrap_or("?");
        let through = progress["replayed_through"]
            .as_str()
            .unwrap_or("nothing yet");
        let until = progress["replay_until"].as_str().unwrap_or("?");
        if !wait || status != "replaying" {
            if wait && terminal {
                eprintln!();
            }
            println!(
                "{}",
                serde_json::to_string_pretty(&progress).unwrap_or_default()
            );
            return match status {
                "failed" => Err(format!("the rebuild {id} failed")),
                _ => Ok(()),
            };
        }
        let line = format!("rebuild {id}: replaying, through {through} of {until}");
        if terminal {
            eprint!("\r{line}   ");
        } else if line != last {
            eprintln!("{line}");
        }
        last = line;
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}
