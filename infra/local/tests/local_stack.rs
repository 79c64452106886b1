//! End to end: starts ates-local on the scratch template (examples/echo.rs behind every function)
//! against moto from the workspace's .venv, and drives it over HTTP.
//!
//! Each test checks one requirement. They share one started stack (starting one is slow), and each
//! uses ids and items of its own, so they run in parallel and in any order. A test whose check
//! counts what a shared resource holds (a dead-letter queue, the table's stream, the AWS-call
//! counters) holds that resource's lock while it runs.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Mutex, MutexGuard, Once, OnceLock, PoisonError};
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
    child: Mutex<Option<Child>>,
    api: String,
    aws: String,
    state_dir: PathBuf,
    /// The line the stack announced itself with once it was ready.
    ready: String,
}

impl RunningStack {
    /// Starts a stack of its own on free ports; `label` names its state directory.
    fn start(label: &str) -> RunningStack {
        let moto = workspace_root().join("infra/moto-server");
        assert!(
            moto.is_file(),
            "{} not found: run `make venv`",
            moto.display()
        );
        let exe = PathBuf::from(env!("CARGO_BIN_EXE_ates-local"));
        let examples = exe.parent().expect("target dir").join("examples");
        static ECHO_BUILT: Once = Once::new();
        ECHO_BUILT.call_once(build_echo);
        let state_dir =
            std::env::temp_dir().join(format!("ates-local-test-{}-{label}", std::process::id()));
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
            .arg("--web-dir")
            .arg(fixtures.join("web"))
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
            child: Mutex::new(Some(child)),
            api: String::new(),
            aws: String::new(),
            state_dir,
            ready: String::new(),
        };
        stack.ready = loop {
            match lines.recv_timeout(Duration::from_secs(120)) {
                Ok(line) if line.starts_with("aTES local stack ready at http://127.0.0.1:") => {
                    break line
                }
                Ok(_) => continue,
                Err(_) => panic!("the stack never got ready:\n{}", stack.log()),
            }
        };
        stack.api = stack
            .ready
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap()
            .to_string();
        stack.aws = stack.state()["aws_endpoint"].as_str().unwrap().to_string();
        stack
    }

    /// What the stack wrote to its state file, stack.json.
    fn state(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.state_dir.join("stack.json")).unwrap())
            .unwrap()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.state_dir.join("stack.err")).unwrap_or_default()
    }

    /// Closing stdin must stop the stack, and with it moto and the function processes.
    fn stop(&self) -> std::process::ExitStatus {
        let mut child = self
            .child
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .expect("running");
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

    /// (status, JSON body or the text as a string) of a request to `path` on the stack's API.
    fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        token: Option<&str>,
    ) -> (u16, Value) {
        let url = format!("{}{path}", self.api);
        let mut request = ureq::request(method, &url).timeout(Duration::from_secs(30));
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

    fn invoke(&self, function: &str, payload: Value) -> (u16, Value) {
        self.call(
            "POST",
            &format!("/_local/functions/{function}/invoke"),
            Some(&payload),
            None,
        )
    }

    /// Puts events on the bus (`{"source", "detail-type", "detail"}` each); none may fail.
    fn publish(&self, events: Value) {
        let (status, published) = self.call("POST", "/_local/events", Some(&events), None);
        assert_eq!(
            (status, published["failed"].as_i64()),
            (200, Some(0)),
            "{published}"
        );
    }

    /// The delivery ledger: `{function: {key: {source, deliveries, outcomes, ...}}}`.
    fn deliveries(&self) -> Value {
        self.call("GET", "/_local/deliveries", None, None).1
    }

    /// The ledger's entry for `key`, once it is dead-lettered.
    fn parked(&self, function: &str, key: &str) -> Value {
        eventually(
            &format!("{key} to be dead-lettered"),
            Duration::from_secs(20),
            || {
                let entry = self.deliveries()[function][key].clone();
                (entry["dead_lettered"] == true).then_some(entry)
            },
        )
    }

    /// A dead-letter queue as `GET /_local/dead-letters` lists it. Listing receives every
    /// queue's messages for a moment (and then makes them visible again), so no two listings or
    /// redrives run at once: each sees every message.
    fn dead_letters(&self, queue: &str) -> Value {
        let _reads = hold(&DEAD_LETTER_READS);
        let (status, dead) = self.call("GET", "/_local/dead-letters", None, None);
        assert_eq!(status, 200, "{dead}");
        dead.as_array()
            .unwrap()
            .iter()
            .find(|q| q["queue"] == queue)
            .cloned()
            .unwrap_or_else(|| panic!("{queue} is listed: {dead}"))
    }

    fn redrive(&self, queue: &str) -> (u16, Value) {
        let _reads = hold(&DEAD_LETTER_READS);
        self.call(
            "POST",
            &format!("/_local/dead-letters/{queue}/redrive"),
            None,
            None,
        )
    }

    fn fire(&self, function: &str, event: &str, query: &str) -> (u16, Value) {
        self.call(
            "POST",
            &format!("/_local/schedules/{function}/{event}/fire{query}"),
            None,
            None,
        )
    }

    /// The issuer's key, as the stack provisioned it in the secret (a ring of one).
    fn signing_key(&self) -> Value {
        let ring: Value = aws(&self.aws, async |config| {
            let out = aws_sdk_secretsmanager::Client::new(config)
                .get_secret_value()
                .secret_id("echo/signing-key")
                .send()
                .await
                .unwrap();
            serde_json::from_str(out.secret_string().unwrap()).unwrap()
        });
        ring["keys"][0].clone()
    }

    /// A token for acc-1 with `scope`, signed with the issuer's key, expiring `exp_offset` seconds
    /// from now.
    fn token(&self, scope: &str, exp_offset: i64) -> String {
        let secret = self.signing_key();
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = secret["kid"].as_str().map(str::to_string);
        let now = chrono::Utc::now().timestamp();
        let claims = json!({"iss": self.api, "aud": "ates", "sub": "acc-1", "scope": scope, "exp": now + exp_offset, "iat": now});
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(
            secret["private_key_pem"].as_str().unwrap().as_bytes(),
        )
        .unwrap();
        jsonwebtoken::encode(&header, &claims, &key).unwrap()
    }

    /// Writes an item of EchoTable: its `pk` and string attributes.
    fn put_item(&self, pk: &str, attributes: &[(&str, &str)]) {
        use aws_sdk_dynamodb::types::AttributeValue::S;
        aws(&self.aws, async |config| {
            let mut put = aws_sdk_dynamodb::Client::new(config)
                .put_item()
                .table_name("EchoTable")
                .item("pk", S(pk.into()));
            for (name, value) in attributes {
                put = put.item(*name, S(value.to_string()));
            }
            put.send().await.unwrap();
        });
    }

    /// `(eventID, SequenceNumber)` of the stream record that wrote `pk`, read from EchoTable's
    /// stream as any reader would.
    fn stream_record(&self, pk: &str) -> (String, String) {
        let (_, info) = self.call("GET", "/_local/info", None, None);
        let stream_arn = info["tables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["logical_id"] == "EchoTable")
            .and_then(|t| t["stream_arn"].as_str())
            .unwrap_or_else(|| panic!("EchoTable has a stream: {info}"))
            .to_string();
        eventually(
            &format!("{pk} in the stream"),
            Duration::from_secs(30),
            || {
                aws(&self.aws, async |config| {
                    use aws_sdk_dynamodbstreams::types::{AttributeValue, ShardIteratorType};
                    let streams = aws_sdk_dynamodbstreams::Client::new(config);
                    let described = streams
                        .describe_stream()
                        .stream_arn(&stream_arn)
                        .send()
                        .await
                        .unwrap();
                    let shards = described
                        .stream_description()
                        .map(|d| d.shards().to_vec())
                        .unwrap_or_default();
                    for shard in shards {
                        let mut iterator = streams
                            .get_shard_iterator()
                            .stream_arn(&stream_arn)
                            .shard_id(shard.shard_id().unwrap_or_default())
                            .shard_iterator_type(ShardIteratorType::TrimHorizon)
                            .send()
                            .await
                            .unwrap()
                            .shard_iterator()
                            .map(str::to_string);
                        while let Some(current) = iterator.take() {
                            let page = streams
                                .get_records()
                                .shard_iterator(current)
                                .send()
                                .await
                                .unwrap();
                            for record in page.records() {
                                let Some(change) = record.dynamodb() else {
                                    continue;
                                };
                                let key = change.keys().and_then(|k| k.get("pk"));
                                if key == Some(&AttributeValue::S(pk.to_string())) {
                                    return Some((
                                        record.event_id().unwrap_or_default().to_string(),
                                        change.sequence_number().unwrap_or_default().to_string(),
                                    ));
                                }
                            }
                            if !page.records().is_empty() {
                                iterator = page.next_shard_iterator().map(str::to_string);
                            }
                        }
                    }
                    None
                })
            },
        )
    }

    /// The StreamFailures messages' bodies (Lambda's on-failure records).
    fn stream_failures(&self) -> Vec<Value> {
        self.dead_letters("StreamFailures")["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["body"].clone())
            .collect()
    }

    /// The on-failure record whose batch starts at `sequence`, once it is there.
    fn stream_failure_from(&self, sequence: &str) -> Value {
        eventually(
            &format!("the stream failure record from {sequence}"),
            Duration::from_secs(30),
            || {
                self.stream_failures().into_iter().find(|f| {
                    f["DDBStreamBatchInfo"]["startSequenceNumber"].as_str() == Some(sequence)
                })
            },
        )
    }
}

impl Drop for RunningStack {
    fn drop(&mut self) {
        let child = self.child.get_mut().unwrap_or_else(PoisonError::into_inner);
        if let Some(mut child) = child.take() {
            drop(child.stdin.take());
            std::thread::sleep(Duration::from_secs(2));
            let _ = child.kill();
            if std::thread::panicking() {
                eprintln!("--- ates-local log ---\n{}", self.log());
            }
        }
    }
}

/// The stack the tests of this file share, started by the first that asks. It stops when the
/// test binary ends: it watches its stdin, which only we hold. A failing test shows its log.
fn shared() -> &'static RunningStack {
    static STACK: OnceLock<Result<RunningStack, String>> = OnceLock::new();
    let started = STACK.get_or_init(|| {
        let stack =
            std::panic::catch_unwind(|| RunningStack::start("shared")).map_err(|panic| {
                panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default()
            })?;
        let log = stack.state_dir.join("stack.err");
        let shown = std::sync::atomic::AtomicBool::new(false);
        let default_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            default_hook(info);
            if !shown.swap(true, std::sync::atomic::Ordering::SeqCst) {
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                eprintln!("--- ates-local log ({}) ---\n{text}", log.display());
            }
        }));
        Ok(stack)
    });
    match started {
        Ok(stack) => stack,
        Err(e) => panic!("the shared stack did not start: {e}"),
    }
}

// Locks of the shared resources whose contents some tests count. A test takes the ones it needs
// first, and only then (briefly, inside `dead_letters` and `redrive`) DEAD_LETTER_READS.

/// EchoFunction reads the signing key whenever the JWKS is fetched: by the authorizer on the first
/// token it sees, and on `GET /.well-known/jwks.json`.
static SIGNING_KEY_READS: Mutex<()> = Mutex::new(());
/// EchoQueue's failing messages end in EchoDeadLetters, whose redrive takes all of them back.
static ECHO_QUEUE: Mutex<()> = Mutex::new(());
/// EchoTable's stream: records written together are batched together, and their failures share
/// StreamFailures, whose redrive replays all of them.
static ECHO_TABLE: Mutex<()> = Mutex::new(());
/// CloseDeadLetters, EchoFunction's dead-letter queue, whose redrive replays all of it.
static CLOSE_DEAD_LETTERS: Mutex<()> = Mutex::new(());
/// Listing or redriving dead letters receives messages (hiding them for a moment).
static DEAD_LETTER_READS: Mutex<()> = Mutex::new(());

fn hold(lock: &'static Mutex<()>) -> MutexGuard<'static, ()> {
    lock.lock().unwrap_or_else(PoisonError::into_inner)
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
            .http_client(ates_kernel::aws::http_client())
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

/// `now + seconds`, to the second, as a schedule's `?at=` and its scheduled time say it.
fn seconds_from_now(seconds: i64) -> (String, chrono::DateTime<chrono::Utc>) {
    let at = (chrono::Utc::now() + chrono::Duration::seconds(seconds))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let time = chrono::DateTime::parse_from_rfc3339(&at).unwrap().to_utc();
    (at, time)
}

/// Sleeps until `time` has passed.
fn sleep_until(time: chrono::DateTime<chrono::Utc>) {
    let left = (time - chrono::Utc::now()).to_std().unwrap_or_default();
    std::thread::sleep(left + Duration::from_millis(200));
}

// --- Starting and stopping.

#[test]
fn the_configs_bootstrap_runs_at_start_with_its_input_overridden_from_the_environment() {
    let stack = shared();
    assert!(
        stack.ready.ends_with(&format!(
            " - bootstrapped: hi from the environment at {}",
            stack.api
        )),
        "{}",
        stack.ready
    );
}

#[test]
fn the_state_file_says_where_the_api_and_the_emulator_listen() {
    let stack = shared();
    let state = stack.state();
    assert_eq!(state["api_url"], stack.api.as_str());
    let (_, info) = stack.call("GET", "/_local/info", None, None);
    assert_eq!(state["aws_endpoint"], info["aws_endpoint"], "{state}");
}

#[test]
fn closing_its_stdin_stops_the_stack_and_removes_its_state_file() {
    let stack = RunningStack::start("stopped");
    assert_eq!(
        stack.invoke("EchoFunction", json!({"n": 1})).0,
        200,
        "a function process is running"
    );
    let status = stack.stop();
    assert!(status.success(), "exit status {status}");
    assert!(
        !stack.state_dir.join("stack.json").exists(),
        "stack.json is removed on exit"
    );
    let _ = std::fs::remove_dir_all(&stack.state_dir);
}

#[test]
fn info_lists_every_function_of_the_template() {
    let (_, info) = shared().call("GET", "/_local/info", None, None);
    assert_eq!(info["functions"].as_array().unwrap().len(), 3, "{info}");
}

#[test]
fn no_mail_is_sent_when_no_function_sends_any() {
    assert_eq!(
        shared().call("GET", "/_local/mail", None, None),
        (200, json!([]))
    );
}

// --- HTTP API: routing, payload 2.0, responses.

#[test]
fn a_route_gets_the_request_as_api_gateways_payload_2_0() {
    let stack = shared();
    let (status, body) = stack.call("GET", "/hello/popug?x=1&x=2", None, None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["routeKey"], "GET /hello/{name}");
    assert_eq!(body["pathParameters"]["name"], "popug");
    assert_eq!(body["queryStringParameters"]["x"], "1,2");
    assert_eq!(
        body["issuer"],
        stack.api.as_str(),
        "IssuerUrl is the local API"
    );
}

#[test]
fn a_path_no_route_serves_is_not_found() {
    assert_eq!(
        shared().call("GET", "/nope", None, None),
        (404, json!({"message": "Not Found"}))
    );
    assert_eq!(
        shared().call("DELETE", "/hello/popug", None, None),
        (404, json!({"message": "Not Found"})),
        "a method no route names is not found on a known path, as API Gateway answers"
    );
    assert_eq!(
        shared().call("GET", "/hello/popug/", None, None),
        (404, json!({"message": "Not Found"}))
    );
}

/// (status, content type, cache-control, body) of a GET, headers and all.
fn get_raw(stack: &RunningStack, path: &str) -> (u16, String, String, String) {
    let response = match ureq::get(&format!("{}{path}", stack.api)).call() {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("GET {path}: {e}"),
    };
    let header = |name: &str| response.header(name).unwrap_or_default().to_string();
    let (content_type, cache) = (header("content-type"), header("cache-control"));
    (
        response.status(),
        content_type,
        cache,
        response.into_string().unwrap(),
    )
}

#[test]
fn the_web_app_is_served_at_the_root_where_no_route_matches() {
    let stack = shared();
    let (status, content_type, cache, body) = get_raw(stack, "/");
    assert_eq!(status, 200, "{body}");
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(body.contains("the fixture web app"), "{body}");
    assert_eq!(cache, "no-cache", "an edited file shows on reload");
    let (status, content_type, _, body) = get_raw(stack, "/app.js");
    assert_eq!(status, 200);
    assert!(
        content_type.starts_with("text/javascript"),
        "{content_type}"
    );
    assert!(body.contains("the fixture script"));
    let (_, info) = stack.call("GET", "/_local/info", None, None);
    assert!(
        info["web_dir"].as_str().unwrap().ends_with("fixtures/web"),
        "{info}"
    );
}

#[test]
fn api_routes_and_local_endpoints_win_over_the_web_apps_files() {
    let stack = shared();
    // fixtures/web has files at /hello/popug and /private: the routes answer, not the files.
    let (status, body) = stack.call("GET", "/hello/popug", None, None);
    assert_eq!(
        (status, &body["routeKey"]),
        (200, &json!("GET /hello/{name}"))
    );
    assert_eq!(
        stack.call("GET", "/private", None, None),
        (401, json!({"message": "Unauthorized"}))
    );
    assert_eq!(stack.call("GET", "/_local/mail", None, None).0, 200);
    // What is neither a route nor a file is API Gateway's 404, as before.
    for (method, path) in [
        ("GET", "/missing.css"),
        ("POST", "/"),
        ("GET", "/%2e%2e/echo-template.yaml"),
    ] {
        assert_eq!(
            stack.call(method, path, None, None),
            (404, json!({"message": "Not Found"})),
            "{method} {path}"
        );
    }
}

#[test]
fn a_route_whose_function_crashes_answers_500() {
    assert_eq!(shared().call("GET", "/crash", None, None).0, 500);
}

// --- JWT authorizer: the JWKS comes through our own route, the key from the provisioned secret.

#[test]
fn a_token_signed_with_the_provisioned_key_reaches_the_function_with_its_claims() {
    let stack = shared();
    let _key_reads = hold(&SIGNING_KEY_READS);
    let (status, body) = stack.call("GET", "/private", None, Some(&stack.token("ates", 300)));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["claims"]["sub"], "acc-1");
}

#[test]
fn a_route_without_a_valid_token_is_refused_as_api_gateway_would() {
    let stack = shared();
    let _key_reads = hold(&SIGNING_KEY_READS);
    assert_eq!(
        stack.call("GET", "/private", None, None),
        (401, json!({"message": "Unauthorized"}))
    );
    assert_eq!(
        stack
            .call("GET", "/private", None, Some(&stack.token("ates", -60)))
            .0,
        401,
        "expired"
    );
}

#[test]
fn a_token_without_the_routes_scope_is_forbidden() {
    let stack = shared();
    let _key_reads = hold(&SIGNING_KEY_READS);
    assert_eq!(
        stack
            .call("GET", "/private", None, Some(&stack.token("other", 300)))
            .0,
        403
    );
}

// --- AWS calls are counted per function.

#[test]
fn aws_calls_are_counted_per_function_and_operation() {
    let stack = shared();
    let _key_reads = hold(&SIGNING_KEY_READS);
    assert_eq!(stack.call("DELETE", "/_local/aws-calls", None, None).0, 204);
    assert_eq!(
        stack.call("GET", "/_local/aws-calls", None, None),
        (200, json!({}))
    );
    // The JWKS route reads the signing key once.
    let (status, jwks) = stack.call("GET", "/.well-known/jwks.json", None, None);
    assert_eq!(status, 200, "{jwks}");
    assert_eq!(
        jwks["keys"][0]["kid"],
        stack.signing_key()["kid"],
        "answered through the proxy"
    );
    assert_eq!(
        stack.call("GET", "/_local/aws-calls", None, None),
        (
            200,
            json!({"EchoFunction": {"secretsmanager:GetSecretValue": 1}})
        )
    );
}

// --- IAM: a function's AWS calls are held to its policy.

#[test]
fn a_call_the_functions_policy_does_not_allow_is_refused_and_listed() {
    let stack = shared();
    let _key_reads = hold(&SIGNING_KEY_READS);
    let (status, body) = stack.invoke("EchoFunction", json!({"secret": "echo/signing-key"}));
    assert_eq!(
        (status, &body["read"]),
        (200, &json!("echo/signing-key")),
        "{body}"
    );
    let (status, body) = stack.invoke("EchoFunction", json!({"secret": "echo/other-secret"}));
    assert_eq!(status, 500, "{body}");
    assert!(
        body["errorMessage"]
            .as_str()
            .is_some_and(|m| m.contains("AccessDenied")),
        "{body}"
    );
    let denials = stack.call("GET", "/_local/iam-denials", None, None).1;
    assert!(
        denials
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["function"] == "EchoFunction"
                && d["action"] == "secretsmanager:GetSecretValue"
                && d["resource"]
                    .as_str()
                    .is_some_and(|r| r.ends_with(":secret:echo/other-secret"))),
        "{denials}"
    );
}

// --- Invocation: errors, crashes (the process is replaced), timeouts.

#[test]
fn an_invocation_whose_process_exits_fails_and_a_fresh_process_takes_the_next() {
    let stack = shared();
    let (status, body) = stack.invoke("EchoFunction", json!({"crash": true}));
    assert_eq!(
        (status, body["errorType"].as_str()),
        (500, Some("Runtime.ExitError"))
    );
    assert_eq!(
        stack.invoke("EchoFunction", json!({"n": 1})),
        (200, json!({"echo": {"n": 1}, "function": "EchoFunction"}))
    );
}

#[test]
fn a_function_error_fails_the_invocation_with_its_message() {
    let (status, body) = shared().invoke("EchoFunction", json!({"error": "boom"}));
    assert_eq!((status, body["errorMessage"].as_str()), (500, Some("boom")));
}

#[test]
fn an_invocation_past_the_functions_timeout_fails_and_a_fresh_sandbox_takes_the_next() {
    let stack = shared();
    let (status, body) = stack.invoke("SlowFunction", json!({"sleep_ms": 3000}));
    assert_eq!(
        (status, body["errorType"].as_str()),
        (500, Some("Sandbox.Timedout"))
    );
    assert_eq!(
        stack.invoke("SlowFunction", json!({"n": 2})).0,
        200,
        "a fresh sandbox after a timeout"
    );
}

// --- Bus → rule → queue → function.

#[test]
fn the_tap_sees_every_event_on_the_bus_parsed_in_the_order_published() {
    let stack = shared();
    stack.publish(json!([
        {"source": "test.echo", "detail-type": "Echo.Ok", "detail": {"id": "tapped-1"}},
        {"source": "test.echo", "detail-type": "Echo.Ok", "detail": {"id": "tapped-2"}},
    ]));
    let mine = ["tapped-1", "tapped-2"];
    let ids = eventually("both events on the tap", Duration::from_secs(30), || {
        let (_, seen) = stack.call("GET", "/_local/events?source=test.echo", None, None);
        let ids: Vec<String> = seen
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["detail"]["id"].as_str())
            .filter(|id| mine.contains(id))
            .map(str::to_string)
            .collect();
        (ids.len() >= mine.len()).then_some(ids)
    });
    assert_eq!(ids, mine);
}

#[test]
fn a_message_reported_as_a_batch_item_failure_is_delivered_again_alone() {
    let stack = shared();
    let _queue = hold(&ECHO_QUEUE);
    stack.publish(json!([
        {"source": "test.echo", "detail-type": "Echo.Ok", "detail": {"id": "partial-ok"}},
        {"source": "test.echo", "detail-type": "Echo.Bad", "detail": {"id": "partial-bad", "fail": true}},
    ]));
    let bad = stack.parked("EchoFunction", "partial-bad");
    assert_eq!(bad["deliveries"], 2, "maxReceiveCount is 2");
    assert_eq!(
        stack.deliveries()["EchoFunction"]["partial-ok"]["outcomes"],
        json!(["ok"])
    );
}

#[test]
fn a_message_that_keeps_failing_lands_in_its_queues_dead_letter_queue() {
    let stack = shared();
    let _queue = hold(&ECHO_QUEUE);
    let before = stack.dead_letters("EchoDeadLetters")["count"]
        .as_u64()
        .unwrap();
    stack.publish(json!([
        {"source": "test.echo", "detail-type": "Echo.Bad", "detail": {"id": "parked-1", "fail": true}},
    ]));
    let parked = stack.parked("EchoFunction", "parked-1");
    assert_eq!(parked["deliveries"], 2, "maxReceiveCount is 2");
    let dlq = stack.dead_letters("EchoDeadLetters");
    assert_eq!(
        (&dlq["kind"], &dlq["source_queues"], &dlq["count"]),
        (&json!("queue"), &json!(["EchoQueue"]), &json!(before + 1)),
        "{dlq}"
    );
    let mine: Vec<&Value> = dlq["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["body"]["detail"]["id"] == "parked-1")
        .collect();
    assert_eq!(mine.len(), 1, "{dlq}");
}

#[test]
fn a_redriven_dead_letter_goes_back_to_its_source_queue() {
    let stack = shared();
    let _queue = hold(&ECHO_QUEUE);
    stack.publish(json!([
        {"source": "test.echo", "detail-type": "Echo.Bad", "detail": {"id": "redriven-1", "fail": true}},
    ]));
    stack.parked("EchoFunction", "redriven-1");
    let held = stack.dead_letters("EchoDeadLetters")["count"]
        .as_u64()
        .unwrap();
    // Redrive puts every message back on the source queue; this one fails twice more and returns.
    let (status, redriven) = stack.redrive("EchoDeadLetters");
    assert_eq!(
        (
            status,
            redriven["redriven"].as_u64(),
            redriven["to"].as_str()
        ),
        (200, Some(held), Some("EchoQueue")),
        "{redriven}"
    );
    eventually(
        "redriven-1 to be delivered four times",
        Duration::from_secs(30),
        || (stack.deliveries()["EchoFunction"]["redriven-1"]["deliveries"] == 4).then_some(()),
    );
    // Every message here always fails: all of them come back.
    eventually(
        "the redriven messages back in the dead-letter queue",
        Duration::from_secs(30),
        || {
            let dlq = stack.dead_letters("EchoDeadLetters");
            let back = dlq["messages"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["body"]["detail"]["id"] == "redriven-1");
            (back && dlq["count"] == held).then_some(())
        },
    );
}

// --- DynamoDB stream → filter → function; a failing record goes to the OnFailure queue.

#[test]
fn a_stream_record_the_mappings_filter_rejects_never_reaches_the_function() {
    let stack = shared();
    let _table = hold(&ECHO_TABLE);
    stack.put_item("OTHER#filtered", &[("note", "fail but filtered out")]);
    stack.put_item("ITEM#passed", &[("note", "fine")]);
    let (filtered, _) = stack.stream_record("OTHER#filtered");
    let (passed, _) = stack.stream_record("ITEM#passed");
    // The stream is read in order: once the later record is delivered, the earlier one was read.
    let d = eventually(
        "ITEM#passed to be delivered",
        Duration::from_secs(30),
        || {
            let d = stack.deliveries();
            (d["EchoFunction"][&passed]["outcomes"] == json!(["ok"])).then_some(d)
        },
    );
    assert_eq!(d["EchoFunction"][&passed]["source"], "Changes", "{d}");
    assert!(
        d["EchoFunction"].get(&filtered).is_none(),
        "OTHER#filtered was filtered out: {d}"
    );
}

#[test]
fn a_stream_record_that_keeps_failing_goes_to_the_on_failure_queue_as_its_batchs_place_in_the_stream(
) {
    let stack = shared();
    let _table = hold(&ECHO_TABLE);
    stack.put_item("ITEM#fine", &[("note", "fine")]);
    stack.put_item("ITEM#bad", &[("note", "fail")]);
    let (fine, _) = stack.stream_record("ITEM#fine");
    let (bad, bad_sequence) = stack.stream_record("ITEM#bad");
    let failure = stack.stream_failure_from(&bad_sequence);
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
    let d = stack.deliveries();
    assert_eq!(d["EchoFunction"][&fine]["source"], "Changes", "{d}");
    assert_eq!(d["EchoFunction"][&fine]["outcomes"], json!(["ok"]), "{d}");
    assert_eq!(d["EchoFunction"][&bad]["source"], "Changes", "{d}");
    assert_eq!(d["EchoFunction"][&bad]["dead_lettered"], true, "{d}");
}

/// Redriving a stream failure reads its batch from the stream again and invokes the function with
/// it: a record unavailable for a while fails its redrive, then succeeds; one that always fails
/// stays parked.
#[test]
fn redriving_a_stream_failure_reads_its_batch_from_the_stream_again_and_invokes_the_function() {
    let stack = shared();
    let _table = hold(&ECHO_TABLE);
    stack.put_item("ITEM#stuck", &[("note", "fail")]);
    let (_, stuck) = stack.stream_record("ITEM#stuck");
    stack.stream_failure_from(&stuck);
    let until = chrono::Utc::now() + chrono::Duration::seconds(5);
    stack.put_item("ITEM#late", &[("unavailable_until", &until.to_rfc3339())]);
    let (_, late) = stack.stream_record("ITEM#late");
    stack.stream_failure_from(&late);
    let starts = |failures: Vec<Value>| -> Vec<String> {
        failures
            .iter()
            .map(|f| {
                f["DDBStreamBatchInfo"]["startSequenceNumber"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    let parked = starts(stack.stream_failures());
    assert!(
        chrono::Utc::now() < until,
        "the stream retries took longer than 5 s, so the failing redrive cannot be checked"
    );
    let (status, redriven) = stack.redrive("StreamFailures");
    assert_eq!(
        (
            status,
            redriven["redriven"].as_u64(),
            redriven["failed"].as_u64()
        ),
        (200, Some(0), Some(parked.len() as u64)),
        "{redriven}"
    );
    sleep_until(until);
    let (status, redriven) = stack.redrive("StreamFailures");
    assert_eq!(
        (
            status,
            redriven["redriven"].as_u64(),
            redriven["failed"].as_u64(),
            redriven["to"].as_str()
        ),
        (
            200,
            Some(1),
            Some(parked.len() as u64 - 1),
            Some("EchoFunction")
        ),
        "{redriven}"
    );
    let left = starts(stack.stream_failures());
    let kept: Vec<String> = parked.into_iter().filter(|s| *s != late).collect();
    assert_eq!(left, kept, "all but ITEM#late's failure are kept");
    assert!(left.contains(&stuck), "ITEM#stuck's failure is kept");
}

// --- Schedules fire on demand with their Input, Scheduler's context attributes replaced.

#[test]
fn a_schedule_fires_on_demand_with_its_input_and_the_schedulers_context_attributes() {
    let (status, fired) = shared().fire("EchoFunction", "Nightly", "?at=2026-11-21T00:00:00Z");
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
}

#[test]
fn a_schedules_time_is_written_in_utc_and_each_firing_is_a_new_execution() {
    let stack = shared();
    let (_, first) = stack.fire("EchoFunction", "Nightly", "?at=2026-11-21T00:00:00Z");
    let (_, fired) = stack.fire("EchoFunction", "Nightly", "?at=2026-11-21T03:00:00%2B03:00");
    assert_eq!(
        fired["response"]["echo"]["day"], "2026-11-21T00:00:00Z",
        "the scheduled time is written in UTC"
    );
    assert_ne!(
        fired["response"]["echo"]["execution"],
        first["response"]["echo"]["execution"]
    );
}

#[test]
fn a_schedule_fired_without_a_time_fires_now() {
    let (_, fired) = shared().fire("EchoFunction", "Nightly", "");
    let day = fired["response"]["echo"]["day"]
        .as_str()
        .unwrap_or_default();
    let day = chrono::DateTime::parse_from_rfc3339(day).expect("an RFC 3339 day");
    assert!(
        (chrono::Utc::now() - day.to_utc()).num_seconds().abs() < 60,
        "without ?at= it fires now: {day}"
    );
}

#[test]
fn a_schedule_fired_at_what_is_not_a_time_is_a_bad_request() {
    let (status, bad) = shared().fire("EchoFunction", "Nightly", "?at=tomorrow");
    assert_eq!(status, 400, "{bad}");
    assert!(bad["message"]
        .as_str()
        .unwrap_or_default()
        .contains("at=tomorrow"));
}

// --- A failing ScheduleV2 (Close fails until its scheduled time): fired once, it just fails;
// delivered as the scheduler does (asynchronously), Lambda tries it 1 + MaximumRetryAttempts (1)
// times with the same payload and parks it in the function's DeadLetterQueue. A redrive fails
// while the cause lasts and succeeds after it.

#[test]
fn a_failing_schedule_fired_once_just_fails() {
    let (at, _) = seconds_from_now(3600);
    let (status, body) = shared().fire("EchoFunction", "Close", &format!("?at={at}"));
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
}

#[test]
fn a_failing_asynchronous_invocation_is_retried_then_parked_in_the_functions_dead_letter_queue() {
    let stack = shared();
    let _close = hold(&CLOSE_DEAD_LETTERS);
    let before = stack.dead_letters("CloseDeadLetters")["count"]
        .as_u64()
        .unwrap();
    // An hour ahead: every attempt fails.
    let (at, _) = seconds_from_now(3600);
    let (status, accepted) = stack.fire("EchoFunction", "Close", &format!("?at={at}&retries=true"));
    assert_eq!(status, 202, "{accepted}");
    assert_eq!(accepted["scheduled_time"], at.as_str());
    let close = stack.parked("EchoFunction", &format!("Close@{at}"));
    assert_eq!(close["outcomes"], json!(["failed", "failed"]));
    assert_eq!(
        close["message_ids"].as_array().map(Vec::len),
        Some(1),
        "Lambda retries the same event: {close}"
    );
    let dlq = stack.dead_letters("CloseDeadLetters");
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
            &json!(before + 1)
        ),
        "{dlq}"
    );
    let mine: Vec<&Value> = dlq["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["body"]["fail_until"] == at.as_str())
        .collect();
    assert_eq!(mine.len(), 1, "{dlq}");
    let message = mine[0];
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
}

#[test]
fn a_redriven_invocation_fails_while_its_cause_lasts_then_is_delivered_and_deleted() {
    let stack = shared();
    let _close = hold(&CLOSE_DEAD_LETTERS);
    // A few seconds ahead: parked by then, and delivered once that time has passed.
    let (at, deadline) = seconds_from_now(6);
    let (status, accepted) = stack.fire("EchoFunction", "Close", &format!("?at={at}&retries=true"));
    assert_eq!(status, 202, "{accepted}");
    stack.parked("EchoFunction", &format!("Close@{at}"));
    let held = stack.dead_letters("CloseDeadLetters")["count"]
        .as_u64()
        .unwrap();
    let is_mine = |m: &Value| m["body"]["fail_until"] == at.as_str();
    assert!(
        chrono::Utc::now() < deadline,
        "the retries took longer than 6 s, so the failing redrive cannot be checked"
    );
    let (status, redriven) = stack.redrive("CloseDeadLetters");
    assert_eq!(
        (
            status,
            redriven["redriven"].as_u64(),
            redriven["failed"].as_u64()
        ),
        (200, Some(0), Some(held)),
        "{redriven}"
    );
    let dlq = stack.dead_letters("CloseDeadLetters");
    assert_eq!(dlq["count"], held, "a failed redrive keeps the message");
    assert!(
        dlq["messages"].as_array().unwrap().iter().any(is_mine),
        "{dlq}"
    );
    sleep_until(deadline);
    let (status, redriven) = stack.redrive("CloseDeadLetters");
    assert_eq!(
        (
            status,
            redriven["redriven"].as_u64(),
            redriven["failed"].as_u64(),
            redriven["to"].as_str()
        ),
        (200, Some(1), Some(held - 1), Some("EchoFunction")),
        "{redriven}"
    );
    let dlq = stack.dead_letters("CloseDeadLetters");
    assert_eq!(dlq["count"], held - 1, "a redriven message is deleted");
    assert!(
        !dlq["messages"].as_array().unwrap().iter().any(is_mine),
        "{dlq}"
    );
}

/// A schedule whose function Lambda will not take (never built): the scheduler retries
/// (MaximumRetryAttempts 2, a new execution id each time) and parks the trigger in the
/// schedule's DeadLetterConfig queue, with the scheduler's attributes.
#[test]
fn a_schedule_whose_function_is_not_there_is_retried_by_the_scheduler_then_parked_in_its_dead_letter_config(
) {
    let stack = shared();
    // Now: a firing older than the retry policy's MaximumEventAgeInSeconds (a day) is not retried.
    let (tick_at, _) = seconds_from_now(0);
    let (status, _) = stack.fire(
        "MissingFunction",
        "Tick",
        &format!("?at={tick_at}&retries=true"),
    );
    assert_eq!(status, 202);
    let tick = stack.parked("MissingFunction", &format!("Tick@{tick_at}"));
    assert_eq!(tick["outcomes"], json!(["failed", "failed", "failed"]));
    let executions = tick["message_ids"].as_array().cloned().unwrap_or_default();
    assert_eq!(executions.len(), 3, "an execution id per attempt: {tick}");
    let dlq = stack.dead_letters("TickDeadLetters");
    assert_eq!(dlq["on_failure_of"], json!(["MissingFunction"]), "{dlq}");
    assert_eq!(dlq["count"], 1, "{dlq}");
    let message = &dlq["messages"][0];
    assert_eq!(message["body"], json!({"attempt": 3}), "the last input");
    let attributes = &message["messageAttributes"];
    assert_eq!(attributes["RETRY_ATTEMPTS"], "2");
    assert_eq!(
        attributes["EXHAUSTED_RETRY_CONDITION"],
        "MaximumRetryAttempts"
    );
    assert_eq!(attributes["ERROR_CODE"], "Local.BinaryMissing");
    assert_eq!(attributes["SCHEDULED_TIME"], tick_at.as_str());
    assert_eq!(attributes["EXECUTION_ID"], executions[2]);
    assert_eq!(
        attributes["SCHEDULE_ARN"],
        "arn:aws:scheduler:us-east-1:123456789012:schedule/default/MissingFunction-Tick"
    );
    assert_eq!(
        attributes["TARGET_ARN"],
        "arn:aws:lambda:us-east-1:123456789012:function:MissingFunction"
    );
}
