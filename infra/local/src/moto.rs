//! The AWS emulator (moto server): started as a child process, or an already-running one reused.

use serde_json::{json, Value};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

pub struct Emulator {
    pub endpoint: String,
    /// None when the emulator was already running and is not ours to stop.
    child: Option<tokio::process::Child>,
}

impl Emulator {
    /// Starts `moto_server -H 127.0.0.1 -p <port>` with its output in `log_path`, and waits until it answers.
    pub async fn start(moto: &Path, port: u16, log_path: &Path) -> Result<Emulator, String> {
        if !moto.is_file() {
            return Err(format!(
                "{} not found; create it with: python3 -m venv .venv && .venv/bin/pip install 'moto[server]==5.2.1' \
                 (or pass --moto PATH / --aws-endpoint URL)",
                moto.display()
            ));
        }
        let log =
            std::fs::File::create(log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
        let log_err = log.try_clone().map_err(|e| e.to_string())?;
        let child = tokio::process::Command::new(moto)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", moto.display()))?;
        let mut emulator = Emulator {
            endpoint: format!("http://127.0.0.1:{port}"),
            child: Some(child),
        };
        let started = Instant::now();
        loop {
            if answers(&emulator.endpoint).await {
                tracing::info!(
                    "moto ready at {} in {} ms",
                    emulator.endpoint,
                    started.elapsed().as_millis()
                );
                return Ok(emulator);
            }
            if let Some(status) = emulator
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                let tail = std::fs::read_to_string(log_path).unwrap_or_default();
                let tail: Vec<&str> = tail.lines().rev().take(10).collect();
                return Err(format!(
                    "moto exited ({status}) before answering:\n{}",
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                ));
            }
            if started.elapsed() > STARTUP_TIMEOUT {
                emulator.stop().await;
                return Err(format!("moto did not answer within {STARTUP_TIMEOUT:?}"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Uses an emulator someone else runs. Its state is reset: the template is provisioned from scratch.
    pub async fn existing(endpoint: &str) -> Result<Emulator, String> {
        let endpoint = endpoint.trim_end_matches('/').to_string();
        let started = Instant::now();
        while !answers(&endpoint).await {
            if started.elapsed() > Duration::from_secs(10) {
                return Err(format!("no emulator answers at {endpoint}"));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        tracing::warn!("resetting the emulator at {endpoint}");
        post(&endpoint, "/moto-api/reset").await?;
        Ok(Emulator {
            endpoint,
            child: None,
        })
    }

    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }
}

async fn answers(endpoint: &str) -> bool {
    get_json(endpoint, "/moto-api/data.json").await.is_ok()
}

/// GETs a JSON document from the emulator's own API (`/moto-api/...`).
pub async fn get_json(endpoint: &str, path: &str) -> Result<Value, String> {
    let url = format!("{endpoint}{path}");
    tokio::task::spawn_blocking(move || {
        ureq::get(&url)
            .timeout(Duration::from_secs(5))
            .call()
            .map_err(|e| e.to_string())?
            .into_json::<Value>()
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}

async fn post(endpoint: &str, path: &str) -> Result<(), String> {
    let url = format!("{endpoint}{path}");
    tokio::task::spawn_blocking(move || {
        ureq::post(&url)
            .timeout(Duration::from_secs(5))
            .call()
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}

/// The mail moto's SES kept: `{id, from, to, cc, bcc, subject, body}` per message, oldest first.
/// SESv2 keeps its mail in the v1 backend; both are read in case that changes, without doubles.
pub fn sent_mail(data: &Value) -> Vec<Value> {
    let mut mail: Vec<Value> = Vec::new();
    let list = |service: &str, kind: &str| {
        data.pointer(&format!("/{service}/{kind}"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    for service in ["ses", "sesv2"] {
        for m in list(service, "Message") {
            if mail.iter().any(|seen| seen["id"] == m["id"]) {
                continue;
            }
            let destinations = m.get("destinations").cloned().unwrap_or(Value::Null);
            let field = |k: &str| destinations.get(k).cloned().unwrap_or_else(|| json!([]));
            mail.push(json!({
                "id": m.get("id"),
                "from": m.get("source"),
                "to": field("ToAddresses"),
                "cc": field("CcAddresses"),
                "bcc": field("BccAddresses"),
                "subject": m.get("subject"),
                "body": m.get("body"),
            }));
        }
        for m in list(service, "RawMessage") {
            if mail.iter().any(|seen| seen["id"] == m["id"]) {
                continue;
            }
            let raw = m
                .get("raw_data")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let (head, body) = raw
                .split_once("\r\n\r\n")
                .or_else(|| raw.split_once("\n\n"))
                .unwrap_or((raw, ""));
            let subject = head
                .lines()
                .find_map(|l| l.strip_prefix("Subject:"))
                .map(str::trim);
            let mut to: Vec<Value> = m
                .get("destinations")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            to.dedup();
            mail.push(json!({
                "id": m.get("id"),
                "from": m.get("source"),
                "to": to,
                "cc": [],
                "bcc": [],
                "subject": subject,
                "body": body,
            }));
        }
    }
    mail
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_mail_from_the_data_dump() {
        let data = json!({"ses": {"Message": [{
            "body": "code 123", "destinations": {"ToAddresses": ["a@b.c"]}, "id": "m1",
            "source": "no-reply@ates.local", "subject": "Hi"
        }]}});
        let mail = sent_mail(&data);
        assert_eq!(mail.len(), 1);
        assert_eq!(mail[0]["to"], json!(["a@b.c"]));
        assert_eq!(mail[0]["subject"], "Hi");
        assert_eq!(mail[0]["from"], "no-reply@ates.local");

        let raw = json!({"ses": {"RawMessage": [{
            "destinations": ["b@c.d", "b@c.d"], "id": "r1", "source": "no-reply@ates.local",
            "raw_data": "From: no-reply@ates.local\r\nTo: b@c.d\r\nSubject: Raw hi\r\n\r\nraw body\r\n"
        }]}});
        let mail = sent_mail(&raw);
        assert_eq!(mail[0]["subject"], "Raw hi");
        assert_eq!(mail[0]["to"], json!(["b@c.d"]));
        assert_eq!(mail[0]["body"], "raw body\r\n");
    }
}
