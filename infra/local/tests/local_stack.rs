//! End to end: starts ates-local on the scratch template (examples/echo.rs behind every function)
//! against moto from the workspace's .venv, and drives it over HTTP. Skipped when moto is absent.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `cargo test -p ates-local` builds the examples, but a run that picks test targets (`--test '*'`)
/// does not; so the echo example is built here. The variables cargo sets for a running test are
/// removed first: build scripts watch some (CARGO_PKG_NAME, ...), and seeing them changed would
/// make this build redo half the tree, and the next ordinary build redo it again.
fn build_echo() {
    let mut cargo = Command::new(env!("CARGO"));
    cargo.current_dir(workspace_root()).args([
        "build",
        "--quiet",
        "-p",
        "ates-local",
        "--example",
        "echo",
    ]);
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let set_for_tests = ["CARGO_PKG_", "CARGO_BIN_", "CARGO_MANIFEST_"]
            .iter()
            .any(|p| name.starts_with(p))
            || [
                "CARGO_CRATE_NAME",
                "CARGO_PRIMARY_PACKAGE",
                "CARGO_TARGET_TMPDIR",
                "CARGO_RUSTC_CURRENT_DIR",
                "OUT_DIR",
            ]
            .contains(&name.as_ref());
        if set_for_tests {
            cargo.env_remove(name.as_ref());
        }
    }
    let status = cargo.status().expect("cargo runs");
    assert!(status.success(), "building the echo example failed");
}

struct RunningStack {
    child: Option<Child>,
    api: String,
    aws: String,
    state_dir: PathBuf,
}

impl RunningStack {
    fn start() -> Option<RunningStack> {
        let moto = workspace_root().join("infra/moto-server");
        assert!(
            moto.is_file(),
            "{} not found: run `make venv`",
            moto.display()
        );
        let exe = PathBuf::from(env!("CARGO_BIN_EXE_ates-local"));
        let examples = exe.parent().expect("target dir").join("examples");
        build_echo();
        let state_dir =
            std::env::temp_dir().join(format!("ates-local-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&state_dir);
        std::fs::create_dir_all(&state_dir).unwrap();
        let stderr = std::fs::File::create(state_dir.join("stack.err")).unwrap();
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut child = Command::new(&exe)
            .args([
                "--port",
                "0",
                "--aws-port",
                "0",
                "--exit-with-stdin",
                "--retry-delay-ms",
                "100",
            ])
            .arg("--moto")
            .arg(&moto)
            .arg("--template")
            .arg(fixtures.join("echo-template.yaml"))
            .arg("--config")
            .arg(fixtures.join("echo-local.json"))
            .env("ATES_ECHO_GREETING", "hi from the environment")
            .arg("--bin-dir")
            .arg(&examples)
            .arg("--state-dir")
            .arg(&state_dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("ates-local starts");

        let stdout = child.stdout.take().unwrap();
        let (lines_tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut stack = RunningStack {
            child: Some(child),
            api: String::new(),
            aws: String::new(),
            state_dir,
        };
        let ready = loop {
            match lines.recv_timeout(Duration::from_secs(120)) {
                Ok(line) if line.starts_with("aTES local stack ready at http://127.0.0.1:") => {
                    break line
                }
                Ok(_) => continue,
                Err(_) => panic!("the stack never got ready:\n{}", stack.log()),
            }
        };
        stack.api = ready
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap()
            .to_string();
        // The config's bootstrap ran, its input overridden from the environment.
        assert!(
            ready.ends_with(&format!(
                " - bootstrapped: hi from the environment at {}",
                stack.api
            )),
            "{ready}"
        );
        let state: Value = serde_json::from_str(
            &std::fs::read_to_string(stack.state_dir.join("stack.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(state["api_url"], stack.api.as_str());
        stack.aws = state["aws_endpoint"].as_str().unwrap().to_string();
        Some(stack)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.state_dir.join("stack.err")).unwrap_or_default()
    }

    /// Closing stdin must stop the stack, and with it moto and the function processes.
    fn stop(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        drop(child.stdin.take());
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            if started.elapsed() > Duration::from_secs(15) {
                let _ = child.kill();
                panic!("the stack did not stop when stdin closed:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for RunningStack {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            drop(child.stdin.take());
            std::thread::sleep(Duration::from_secs(2));
            let _ = child.kill();
            if std::thread::panicking() {
                eprintln!("--- ates-local log ---\n{}", self.log());
            }
        }
    }
}

/// (status, JSON body or the text as a string, headers' selected value).
fn call(method: &str, url: &str, body: Option<&Value>, token: Option<&str>) -> (u16, Value) {
    let mut request = ureq::request(method, url).timeout(Duration::from_secs(30));
    if let Some(t) = token {
        request = request.set("authorization", &format!("Bearer {t}"));
    }
    let result = match body {
        Some(b) => request.send_json(b.clone()),
        None => request.call(),
    };
    let response = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {url}: {e}"),
    };
    let status = response.status();
    let text = response.into_string().unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn eventually<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(started.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn aws<T>(endpoint: &str, work: impl AsyncFnOnce(&aws_config::SdkConfig) -> T) -> T {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_sqs::config::Credentials::new(
                "test", "test", None, None, "test",
            ))
            .load()
            .await;
        work(&config).await
    })
}

#[test]
fn the_stack_runs_the_template_end_to_end() {
    let Some(mut stack) = RunningStack::start() else {
        return;
    };
    let api = stack.api.clone();

    // --- HTTP API: routing, payload 2.0, responses.
    let (status, body) = call("GET", &format!("{api}/hello/popug?x=1&x=2"), None, None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["routeKey"], "GET /hello/{name}");
    assert_eq!(body["pathParameters"]["name"], "popug");
    assert_eq!(body["queryStringParameters"]["x"], "1,2");
    assert_eq!(body["issuer"], api.as_str(), "IssuerUrl is the local API");
    assert_eq!(
        call("GET", &format!("{api}/nope"), None, None),
        (404, json!({"message": "Not Found"}))
    );

    // --- JWT authorizer: the JWKS comes through our own route, the key from the provisioned secret.
    assert_eq!(
        call("GET", &format!("{api}/private"), None, None),
        (401, json!({"message": "Unauthorized"}))
    );
    let secret: Value = aws(&stack.aws, async |config| {
        let out = aws_sdk_secretsmanager::Client::new(config)
            .get_secret_value()
            .secret_id("echo/signing-key")
            .send()
            .await
            .unwrap();
        serde_json::from_str(out.secret_string().unwrap()).unwrap()
    });
    let sign = |scope: &str, exp_offset: i64| {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = secret["kid"].as_str().map(str::to_string);
        let now = chrono::Utc::now().timestamp();
        let claims = json!({"iss": api, "aud": "ates", "sub": "acc-1", "scope": scope, "exp": now + exp_offset, "iat": now});
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(
            secret["private_key_pem"].as_str().unwrap().as_bytes(),
        )
        .unwrap();
        jsonwebtoken::encode(&header, &claims, &key).unwrap()
    };
    let (status, body) = call(
        "GET",
        &format!("{api}/private"),
        None,
        Some(&sign("ates", 300)),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["claims"]["sub"], "acc-1");
    assert_eq!(
        call(
            "GET",
            &format!("{api}/private"),
            None,
            Some(&sign("other", 300))
        )
        .0,
        403
    );
    assert_eq!(
        call(
            "GET",
            &format!("{api}/private"),
            None,
            Some(&sign("ates", -60))
        )
        .0,
        401
    );

    // --- AWS calls are counted per function: the JWKS route reads the signing key once.
    let calls = format!("{api}/_local/aws-calls");
    assert_eq!(call("DELETE", &calls, None, None).0, 204);
    assert_eq!(call("GET", &calls, None, None), (200, json!({})));
    let (status, jwks) = call("GET", &format!("{api}/.well-known/jwks.json"), None, None);
    assert_eq!(status, 200, "{jwks}");
    assert_eq!(
        jwks["keys"][0]["kid"], secret["kid"],
        "answered through the proxy"
    );
    assert_eq!(
        call("GET", &calls, None, None),
        (
            200,
            json!({"EchoFunction": {"secretsmanager:GetSecretValue": 1}})
        )
    );

    // --- Invocation: errors, crashes (the process is replaced), timeouts.
    let invoke = |function: &str, payload: Value| {
        call(
            "POST",
            &format!("{api}/_local/functions/{function}/invoke"),
            Some(&payload),
            None,
        )
    };
    let (status, body) = invoke("EchoFunction", json!({"crash": true}));
    assert_eq!(
        (status, body["errorType"].as_str()),
        (500, Some("Runtime.ExitError"))
    );
    assert_eq!(
        invoke("EchoFunction", json!({"n": 1})),
        (200, json!({"echo": {"n": 1}, "function": "EchoFunction"}))
    );
    let (status, body) = invoke("EchoFunction", json!({"error": "boom"}));
    assert_eq!((status, body["errorMessage"].as_str()), (500, Some("boom")));
    let (status, body) = invoke("SlowFunction", json!({"sleep_ms": 3000}));
    assert_eq!(
        (status, body["errorType"].as_str()),
        (500, Some("Sandbox.Timedout"))
    );
    assert_eq!(
        invoke("SlowFunction", json!({"n": 2})).0,
        200,
        "a fresh sandbox after a timeout"
    );
    assert_eq!(call("GET", &format!("{api}/crash"), None, None).0, 500);

    // --- Bus → rule → queue → function, with a partial batch failure ending in the dead-letter queue.
    let events = json!([
        {"source": "test.echo", "detail-type": "Echo.Ok", "detail": {"id": "ok-1"}},
        {"source": "test.echo", "detail-type": "Echo.Bad", "detail": {"id": "bad-1", "fail": true}},
    ]);
    let (status, published) = call("POST", &format!("{api}/_local/events"), Some(&events), None);
    assert_eq!(
        (status, published["failed"].as_i64()),
        (200, Some(0)),
        "{published}"
    );
    let deliveries = eventually("bad-1 to be dead-lettered", Duration::from_secs(30), || {
        let (_, d) = call("GET", &format!("{api}/_local/deliveries"), None, None);
        (d["EchoFunction"]["bad-1"]["dead_lettered"] == true).then_some(d)
    });
    assert_eq!(
        deliveries["EchoFunction"]["bad-1"]["deliveries"], 2,
        "maxReceiveCount is 2"
    );
    assert_eq!(
        deliveries["EchoFunction"]["ok-1"]["outcomes"],
        json!(["ok"])
    );
    let (_, dead) = call("GET", &format!("{api}/_local/dead-letters"), None, None);
    let dlq = dead
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["queue"] == "EchoDeadLetters")
        .unwrap()
        .clone();
    assert_eq!(dlq["count"], 1);
    assert_eq!(dlq["messages"][0]["body"]["detail"]["id"], "bad-1");

    // The tap saw both events, parsed.
    let (_, seen) = call(
        "GET",
        &format!("{api}/_local/events?source=test.echo"),
        None,
        None,
    );
    let ids: Vec<&str> = seen
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["detail"]["id"].as_str())
        .collect();
    assert_eq!(ids, vec!["ok-1", "bad-1"]);

    // Redrive puts it back on the source queue; it fails twice more and returns.
    let (status, redriven) = call(
        "POST",
        &format!("{api}/_local/dead-letters/EchoDeadLetters/redrive"),
        None,
        None,
    );
    assert_eq!(
        (status, redriven["redriven"].as_u64()),
        (200, Some(1)),
        "{redriven}"
    );
    eventually(
        "bad-1 to be delivered four times",
        Duration::from_secs(30),
        || {
            let (_, d) = call("GET", &format!("{api}/_local/deliveries"), None, None);
            (d["EchoFunction"]["bad-1"]["deliveries"] == 4).then_some(())
        },
    );

    // --- DynamoDB stream → filter → function; a failing record goes to the OnFailure queue.
    aws(&stack.aws, async |config| {
        let ddb = aws_sdk_dynamodb::Client::new(config);
        for (pk, note) in [
            ("ITEM#1", "fine"),
            ("OTHER#1", "fail but filtered out"),
            ("ITEM#2", "fail"),
        ] {
            ddb.put_item()
                .table_name("EchoTable")
                .item("pk", aws_sdk_dynamodb::types::AttributeValue::S(pk.into()))
                .item(
                    "note",
                    aws_sdk_dynamodb::types::AttributeValue::S(note.into()),
                )
                .send()
                .await
                .unwrap();
        }
    });
    let failure = eventually("the stream failure record", Duration::from_secs(30), || {
        let (_, dead) = call("GET", &format!("{api}/_local/dead-letters"), None, None);
        let q = dead
            .as_array()?
            .iter()
            .find(|q| q["queue"] == "StreamFailures")?
            .clone();
        (q["count"] == 1).then(|| q["messages"][0]["body"].clone())
    });
    // As in AWS, the failure record says where the batch is in the stream, not what it held.
    assert!(failure.get("records").is_none(), "{failure}");
    let batch = &failure["DDBStreamBatchInfo"];
    assert_eq!(batch["batchSize"], 1);
    assert_eq!(batch["startSequenceNumber"], batch["endSequenceNumber"]);
    assert!(batch["shardId"].is_string(), "{failure}");
    assert!(
        batch["streamArn"]
            .as_str()
            .is_some_and(|a| a.contains("table/EchoTable/stream/")),
        "{failure}"
    );
    let (_, d) = call("GET", &format!("{api}/_local/deliveries"), None, None);
    let stream_keys: Vec<Value> = d["EchoFunction"]
        .as_object()
        .unwrap()
        .values()
        .filter(|v| v["source"] == "Changes")
        .cloned()
        .collect();
    assert_eq!(stream_keys.len(), 2, "OTHER#1 was filtered out: {d}");

    // --- Redriving a stream failure reads its batch from the stream again and invokes the
    // function with it: a record unavailable for a while fails its redrive, then succeeds;
    // ITEM#2 (which always fails) stays parked.
    let stream_failures = || {
        let (_, dead) = call("GET", &format!("{api}/_local/dead-letters"), None, None);
        dead.as_array()
            .and_then(|qs| qs.iter().find(|q| q["queue"] == "StreamFailures").cloned())
            .unwrap_or(Value::Null)
    };
    let until = chrono::Utc::now() + chrono::Duration::seconds(5);
    aws(&stack.aws, async |config| {
        aws_sdk_dynamodb::Client::new(config)
            .put_item()
            .table_name("EchoTable")
            .item(
                "pk",
                aws_sdk_dynamodb::types::AttributeValue::S("ITEM#3".into()),
            )
            .item(
                "unavailable_until",
                aws_sdk_dynamodb::types::AttributeValue::S(until.to_rfc3339()),
            )
            .send()
            .await
            .unwrap();
    });
    eventually(
        "the second stream failure record",
        Duration::from_secs(30),
        || (stream_failures()["count"] == 2).then_some(()),
    );
    let redrive_stream = || {
        call(
            "POST",
            &format!("{api}/_local/dead-letters/StreamFailures/redrive"),
            None,
            None,
        )
    };
    assert!(
        chrono::Utc::now() < until,
        "the stream retries took longer than 5 s, so the failing redrive cannot be checked"
    );
    let (status, redriven) = redrive_stream();
    assert_eq!(
        (
            status,
            redriven["redriven"].as_u64(),
            redriven["failed"].as_u64()
        ),
        (200, Some(0), Some(2)),
        "{redriven}"
    );
    let left = (until - chrono::Utc::now()).to_std().unwrap_or_default();
    std::thread::sleep(left + Duration::from_millis(200));
    let (status, redriven) = redrive_stream();
    assert_eq!(
        (
            status,
            redriven["redriven"].as_u64(),
            redriven["failed"].as_u64(),
            redriven["to"].as_str()
        ),
        (200, Some(1), Some(1), Some("EchoFunction")),
        "{redriven}"
    );
    let left = stream_failures();
    assert_eq!(left["count"], 1, "{left}");
    assert_eq!(
        left["messages"][0]["body"]["DDBStreamBatchInfo"]["startSequenceNumber"],
        batch["startSequenceNumber"],
        "ITEM#2's failure is the one kept"
    );

    // --- Schedules fire on demand with their Input, Scheduler's context attributes replaced.
    let fire = |event: &str, query: &str| {
        call(
            "POST",
            &format!("{api}/_local/schedules/EchoFunction/{event}/fire{query}"),
            None,
            None,
        )
    };
    let (status, fired) = fire("Nightly", "?at=2026-11-21T00:00:00Z");
    assert_eq!(status, 200, "{fired}");
    let echo = fired["response"]["echo"].clone();
    assert_eq!(fired["payload"], echo);
    let execution = echo["execution"].as_str().unwrap_or_default();
    assert_eq!(execution.len(), 16, "{echo}");
    assert_eq!(
        echo,
        json!({
            "job": "nightly",
            "day": "2026-11-21T00:00:00Z",
            "attempt": 1,
            "execution": execution,
            "schedule": "arn:aws:scheduler:us-east-1:123456789012:schedule/default/EchoFunction-Nightly",
        })
    );
    let (_, fired) = fire("Nightly", "?at=2026-11-21T03:00:00%2B03:00");
    assert_eq!(
        fired["response"]["echo"]["day"], "2026-11-21T00:00:00Z",
        "the scheduled time is written in UTC"
    );
    assert_ne!(fired["response"]["echo"]["execution"], execution);
    let (_, fired) = fire("Nightly", "");
    let day = fired["response"]["echo"]["day"]
        .as_str()
        .unwrap_or_default();
    let day = chrono::DateTime::parse_from_rfc3339(day).expect("an RFC 3339 day");
    assert!(
        (chrono::Utc::now() - day.to_utc()).num_seconds().abs() < 60,
        "without ?at= it fires now: {day}"
    );
    let (status, bad) = fire("Nightly", "?at=tomorrow");
    assert_eq!(status, 400, "{bad}");
    assert!(bad["message"]
        .as_str()
        .unwrap_or_default()
        .contains("at=tomorrow"));

    // --- A failing ScheduleV2 (Close fails until its scheduled time, a few seconds ahead): fired
    // once, it just fails; delivered as the scheduler does (asynchronously), Lambda tries it
    // 1 + MaximumRetryAttempts (1) times with the same payload and parks it in the function's
    // DeadLetterQueue. A redrive fails while the cause lasts and succeeds after it.
    let deadline = chrono::Utc::now() + chrono::Duration::seconds(6);
    let at = deadline.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let deadline = chrono::DateTime::parse_from_rfc3339(&at).unwrap().to_utc();
    let (status, body) = fire("Close", &format!("?at={at}"));
    assert_eq!(
        (
            status,
            body["errorMessage"]
                .as_str()
                .map(|m| m.starts_with("unavailable until"))
        ),
        (500, Some(true)),
        "{body}"
    );
    let (status, accepted) = fire("Close", &format!("?at={at}&retries=true"));
    assert_eq!(status, 202, "{accepted}");
    assert_eq!(accepted["scheduled_time"], at.as_str());
    let parked = |function: &str, key: String| {
        eventually(
            &format!("{key} to be dead-lettered"),
            Duration::from_secs(20),
            || {
                let (_, d) = call("GET", &format!("{api}/_local/deliveries"), None, None);
                let entry = d[function][key.as_str()].clone();
                (entry["dead_lettered"] == true).then_some(entry)
            },
        )
    };
    let close = parked("EchoFunction", format!("Close@{at}"));
    assert_eq!(close["outcomes"], json!(["failed", "failed"]));
    assert_eq!(
        close["message_ids"].as_array().map(Vec::len),
        Some(1),
        "Lambda retries the same event: {close}"
    );
    let dead_letters = |queue: &str| {
        let (_, dead) = call("GET", &format!("{api}/_local/dead-letters"), None, None);
        dead.as_array()
            .unwrap()
            .iter()
            .find(|q| q["queue"] == queue)
            .cloned()
            .unwrap_or_else(|| panic!("{queue} is listed: {dead}"))
    };
    let dlq = dead_letters("CloseDeadLetters");
    assert_eq!(
        (
            &dlq["kind"],
            &dlq["on_failure_of"],
            &dlq["source_queues"],
            &dlq["count"]
        ),
        (
            &json!("invocation"),
            &json!(["EchoFunction"]),
            &json!([]),
            &json!(1)
        ),
        "{dlq}"
    );
    let message = &dlq["messages"][0];
    assert_eq!(
        message["body"],
        json!({"fail_until": at, "attempt": 1}),
        "the payload, as delivered"
    );
    let attributes = &message["messageAttributes"];
    assert_eq!(attributes["ErrorCode"], "200", "{attributes}");
    assert_eq!(attributes["RequestID"].as_str().map(str::len), Some(36));
    assert!(
        attributes["ErrorMessage"]
            .as_str()
            .is_some_and(|m| m.starts_with("unavailable until")),
        "{attributes}"
    );

    let redrive = |queue: &str| {
        call(
            "POST",
            &format!("{api}/_local/dead-letters/{queue}/redrive"),
            None,
            None,
        )
    };
    assert!(
        chrono::Utc::now() < deadline,
        "the retries took longer than 6 s, so the failing redrive cannot be checked"
    );
    let (status, redriven) = redrive("CloseDeadLetters");
    assert_eq!(
        (
            status,
            redriven["redriven"].as_u64(),
            redriven["failed"].as_u64()
        ),
        (200, Some(0), Some(1)),
        "{redriven}"
    );
    assert_eq!(
        dead_letters("CloseDeadLetters")["count"],
        1,
        "a failed redrive keeps the message"
    );
    let left = (deadline - chrono::Utc::now()).to_std().unwrap_or_default();
    std::thread::sleep(left + Duration::from_millis(200));
    let (status, redriven) = redrive("CloseDeadLetters");
    assert_eq!(
        (
            status,
            redriven["redriven"].as_u64(),
            redriven["to"].as_str()
        ),
        (200, Some(1), Some("EchoFunction")),
        "{redriven}"
    );
    assert_eq!(
        dead_letters("CloseDeadLetters")["count"],
        0,
        "a redriven message is deleted"
    );

    // --- A schedule whose function Lambda will not take (never built): the scheduler retries
    // (MaximumRetryAttempts 2, a new execution id each time) and parks the trigger in the
    // schedule's DeadLetterConfig queue, with the scheduler's attributes.
    let tick_at = "2026-11-21T00:00:00Z";
    let (status, _) = call(
        "POST",
        &format!("{api}/_local/schedules/MissingFunction/Tick/fire?at={tick_at}&retries=true"),
        None,
        None,
    );
    assert_eq!(status, 202);
    let tick = parked("MissingFunction", format!("Tick@{tick_at}"));
    assert_eq!(tick["outcomes"], json!(["failed", "failed", "failed"]));
    let executions = tick["message_ids"].as_array().cloned().unwrap_or_default();
    assert_eq!(executions.len(), 3, "an execution id per attempt: {tick}");
    let dlq = dead_letters("TickDeadLetters");
    assert_eq!(dlq["on_failure_of"], json!(["MissingFunction"]), "{dlq}");
    let message = &dlq["messages"][0];
    assert_eq!(message["body"], json!({"attempt": 3}), "the last input");
    let attributes = &message["messageAttributes"];
    assert_eq!(attributes["RETRY_ATTEMPTS"], "2");
    assert_eq!(
        attributes["EXHAUSTED_RETRY_CONDITION"],
        "MaximumRetryAttempts"
    );
    assert_eq!(attributes["ERROR_CODE"], "Local.BinaryMissing");
    assert_eq!(attributes["SCHEDULED_TIME"], tick_at);
    assert_eq!(attributes["EXECUTION_ID"], executions[2]);
    assert_eq!(
        attributes["SCHEDULE_ARN"],
        "arn:aws:scheduler:us-east-1:123456789012:schedule/default/MissingFunction-Tick"
    );
    assert_eq!(
        attributes["TARGET_ARN"],
        "arn:aws:lambda:us-east-1:123456789012:function:MissingFunction"
    );

    let (_, info) = call("GET", &format!("{api}/_local/info"), None, None);
    assert_eq!(info["functions"].as_array().unwrap().len(), 3);
    assert_eq!(
        call("GET", &format!("{api}/_local/mail"), None, None),
        (200, json!([]))
    );

    let status = stack.stop();
    assert!(status.success(), "exit status {status}");
    assert!(
        !stack.state_dir.join("stack.json").exists(),
        "stack.json is removed on exit"
    );
    let _ = std::fs::remove_dir_all(&stack.state_dir);
}
