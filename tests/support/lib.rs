//! Support for the whole-system tests: the template as data, and (for end-to-end tests) a local
//! stack of our own.

pub mod market;

use std::path::PathBuf;

pub use ates_local::functions::{FunctionSpec, RouteAuth};
pub use ates_local::template::{references, Resource, Template};
pub use serde_yaml::Value as Yaml;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// A YAML file of the workspace as it is written (the API document, say).
pub fn yaml(file: &str) -> Yaml {
    let text = std::fs::read_to_string(root().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// template.yaml and its nested stacks as the local stack reads them: one template, JSON, short
/// tags in their long forms (`!Ref X` is `{"Ref": "X"}`), each nested stack's parameters read as
/// what the root passes, Globals merged into functions, nothing resolved.
pub fn template() -> Template {
    Template::load(&root().join("template.yaml")).unwrap_or_else(|e| panic!("{e}"))
}

/// Every function as the local stack runs it: Globals merged in, intrinsics resolved with the
/// parameters' defaults, routes with their authorizer and scopes, event sources read.
pub fn function_specs(template: &Template) -> Vec<FunctionSpec> {
    let resolver = ates_local::resolve::Resolver::new(template, &[], "http://127.0.0.1:4566");
    ates_local::functions::function_specs(template, &resolver).unwrap_or_else(|e| panic!("{e}"))
}

/// The template's `AWS::Serverless::Function`s (their own properties, unresolved).
pub fn functions(template: &Template) -> impl Iterator<Item = &Resource> {
    template.of_kind("AWS::Serverless::Function")
}

/// A property (or metadata field) of a resource; Null where it is absent.
pub fn property<'a>(
    properties: &'a serde_json::Map<String, serde_json::Value>,
    key: &str,
) -> &'a serde_json::Value {
    properties.get(key).unwrap_or(&serde_json::Value::Null)
}

/// `(METHOD, path, scopes)` of every HttpApi route; scopes empty where the route is public.
pub fn routes(template: &Template) -> Vec<(String, String, Vec<String>)> {
    let mut routes: Vec<_> = function_specs(template)
        .into_iter()
        .flat_map(|f| f.routes)
        .map(|r| {
            let scopes = match r.auth {
                RouteAuth::Open => Vec::new(),
                RouteAuth::Jwt { scopes, .. } => scopes,
            };
            (r.method, r.path, scopes)
        })
        .collect();
    routes.sort();
    routes
}

/// A local stack of our own (`ates-local` on free ports), shared by the tests of one test binary.
/// It stops when the test binary ends: it watches its stdin, which only we hold.
pub struct Stack {
    pub api: String,
    pub aws: String,
    /// The stack's state folder: `logs/<LogicalId>.log` holds each function's output.
    pub state: std::path::PathBuf,
    _stdin: std::sync::Mutex<std::process::ChildStdin>,
    _process: std::sync::Mutex<std::process::Child>,
}

/// The admin `ates-local` bootstraps: its config's input (infra/local/local.json), with the
/// environment's overrides, as the stack started here sees them.
pub fn admin_credentials() -> (String, String) {
    let config = ates_local::config::Config::load(&root().join("infra/local/local.json"))
        .unwrap_or_else(|e| panic!("{e}"));
    let input = config.bootstrap.expect("a bootstrap admin").input();
    let field = |name: &str| {
        input[name]
            .as_str()
            .unwrap_or_else(|| panic!("the bootstrap input has no {name}"))
            .to_owned()
    };
    (field("email"), field("password"))
}

impl Stack {
    pub fn shared() -> &'static Stack {
        static STACK: std::sync::OnceLock<Stack> = std::sync::OnceLock::new();
        STACK.get_or_init(Stack::start)
    }

    fn start() -> Stack {
        use std::io::BufRead;
        let root = root();
        let binary = root.join("target/debug/ates-local");
        assert!(
            binary.exists(),
            "build the workspace first (make build): {binary:?} is missing"
        );
        let state = std::env::temp_dir().join(format!("ates-e2e-{}", std::process::id()));
        let port = free_port();
        let mut child = std::process::Command::new(&binary)
            .current_dir(&root)
            .args(["--port", &port.to_string(), "--state-dir"])
            .arg(&state)
            .arg("--exit-with-stdin")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .expect("ates-local starts");
        let stdout = child.stdout.take().expect("stdout");
        let (ready, wait) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if !sent && line.contains("aTES local stack ready at") {
                    let _ = ready.send(line.clone());
                    sent = true;
                }
            }
        });
        wait.recv_timeout(std::time::Duration::from_secs(120))
            .expect("the local stack is ready within two minutes");
        let api = format!("http://127.0.0.1:{port}");
        let info: serde_json::Value = ureq::get(&format!("{api}/_local/info"))
            .call()
            .expect("info")
            .into_json()
            .expect("json");
        let aws = info["aws_endpoint"]
            .as_str()
            .expect("aws_endpoint")
            .to_owned();
        let stdin = child.stdin.take().expect("stdin");
        Stack {
            api,
            aws,
            state,
            _stdin: std::sync::Mutex::new(stdin),
            _process: std::sync::Mutex::new(child),
        }
    }

    /// The JSON lines a function has written so far (its logs and its metrics), by logical id.
    pub fn log_lines(&self, function: &str) -> Vec<serde_json::Value> {
        let path = self.state.join("logs").join(format!("{function}.log"));
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }

    /// A request to the API; answers status and JSON body (Null when empty).
    pub fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        call_api(&self.api, method, path, token, body, None)
    }

    /// A call under an `Idempotency-Key`: the status, the body, and whether the answer was
    /// the first one replayed (`Idempotent-Replayed: true`).
    pub fn call_with_key(
        &self,
        method: &str,
        path: &str,
        token: &str,
        key: &str,
        body: &serde_json::Value,
    ) -> (u16, serde_json::Value, bool) {
        let response = match ureq::request(method, &format!("{}{path}", self.api))
            .set("authorization", &format!("Bearer {token}"))
            .set("idempotency-key", key)
            .send_json(body.clone())
        {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{method} {path}: {e}"),
        };
        let status = response.status();
        let replayed = response.header("idempotent-replayed") == Some("true");
        let text = response.into_string().unwrap_or_default();
        let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
        (status, json, replayed)
    }

    pub fn sign_in(&self, email: &str, password: &str) -> serde_json::Value {
        let (status, tokens) = self.call(
            "POST",
            "/auth/sign-in",
            None,
            Some(&serde_json::json!({"email": email, "password": password})),
        );
        assert_eq!(status, 200, "sign-in of {email}: {tokens}");
        tokens
    }

    /// The bootstrapped admin's access token, signed in once for all the tests of the binary.
    pub fn admin_token(&self) -> String {
        static TOKEN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        TOKEN
            .get_or_init(|| {
                let (email, password) = admin_credentials();
                self.sign_in(&email, &password)["access_token"]
                    .as_str()
                    .expect("token")
                    .to_owned()
            })
            .clone()
    }

    /// Creates an account with a password and answers (account id, access token).
    pub fn employee(&self, admin: &str, role: &str) -> (String, String) {
        let email = format!(
            "{role}-{}@popug.test",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        );
        let body = serde_json::json!({"email": email, "full_name": format!("A {role}"), "role": role, "password": "a-popug-password"});
        let (status, account) = self.call("POST", "/accounts", Some(admin), Some(&body));
        assert_eq!(status, 201, "{account}");
        let token = self.sign_in(&email, "a-popug-password")["access_token"]
            .as_str()
            .expect("token")
            .to_owned();
        (
            account["account_id"].as_str().expect("id").to_owned(),
            token,
        )
    }

    /// Waits until the task tracker can assign tasks to `account` (its copy of the account
    /// reached the assignable pool).
    pub fn wait_assignable(&self, account: &str) {
        self.eventually(60, "the task tracker knows the account", || {
            self.assignable().contains(account).then_some(())
        });
    }

    /// A context's copy of `account` (`ACCOUNT#<id>` / `ACCOUNT`; the tracker keeps a member's
    /// slot in the pool beside it, under the same partition).
    pub fn account_copy(&self, table: &str, account: &str) -> Option<serde_json::Value> {
        self.items(table, &format!("ACCOUNT#{account}"))
            .into_iter()
            .find(|item| item["sk"]["S"] == "ACCOUNT")
    }

    /// The accounts the task tracker may assign tasks to: its pool's slots (`POOL#<n>`).
    pub fn assignable(&self) -> std::collections::HashSet<String> {
        self.items("TasksTable", "POOL#")
            .iter()
            .filter_map(|slot| slot["account_id"]["S"].as_str().map(str::to_owned))
            .collect()
    }

    /// Every event the bus carried so far (EventBridge shape, `detail` = our envelope).
    pub fn events(&self) -> Vec<serde_json::Value> {
        self.call("GET", "/_local/events", None, None)
            .1
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Every mail the local SES took for `email`, oldest first.
    pub fn mails_to(&self, email: &str) -> Vec<serde_json::Value> {
        let (status, mail) = self.call("GET", "/_local/mail", None, None);
        assert_eq!(status, 200, "{mail}");
        mail.as_array()
            .into_iter()
            .flatten()
            .filter(|m| m["to"].to_string().contains(email))
            .cloned()
            .collect()
    }

    /// Mails `email` a sign-in code and answers it: only a mail after the request carries it.
    pub fn mailed_code(&self, email: &str) -> String {
        let before = self.mails_to(email).len();
        let (status, _) = self.call(
            "POST",
            "/auth/sign-in/code/request",
            None,
            Some(&serde_json::json!({"email": email})),
        );
        assert_eq!(status, 202);
        // Other mails may reach the address meanwhile (notifications' mails of hiring).
        let mail = self.eventually(30, "the code in the mail", || {
            self.mails_to(email)
                .into_iter()
                .skip(before)
                .find(|m| m["subject"] == "Your aTES sign-in code")
        });
        let text = format!("{}{}", mail["subject"], mail["body"]);
        text.split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == 6)
            .expect("a six-digit code")
            .to_owned()
    }

    /// Puts `data` on the bus as `producer` publishes the event `name` (version 1), checked
    /// against its schema first: what another context would publish, for a test of a consumer.
    pub fn publish(&self, producer: &str, name: &str, data: serde_json::Value) {
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let event = serde_json::json!({
            "source": format!("ates.{producer}"), "detail-type": name,
            "detail": {
                "id": uuid::Uuid::now_v7(), "name": name, "version": 1, "occurred_at": now,
                "producer": producer, "correlation_id": format!("e2e-{}", uuid::Uuid::now_v7()),
                "data": data
            }
        });
        ates_kernel::schema::check(name, 1, &event["detail"]["data"]).expect("a valid payload");
        let (status, answer) = self.call("POST", "/_local/events", None, Some(&event));
        assert_eq!(status, 200, "{answer}");
    }

    /// Waits until `check` holds, for at most `seconds`.
    pub fn eventually<T>(
        &self,
        seconds: u64,
        what: &str,
        mut check: impl FnMut() -> Option<T>,
    ) -> T {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
        loop {
            if let Some(found) = check() {
                return found;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "not within {seconds}s: {what}"
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    }

    /// A raw call to the emulator (AWS JSON protocol), e.g. `("DynamoDB_20120810.Scan", {...})`.
    pub fn aws(&self, target: &str, body: serde_json::Value) -> serde_json::Value {
        let service = if target.starts_with("DynamoDB") {
            "dynamodb"
        } else {
            "secretsmanager"
        };
        ureq::post(&format!("{}/", self.aws))
            .set("x-amz-target", target)
            .set("content-type", "application/x-amz-json-1.0")
            .set(
                "authorization",
                &format!("AWS4-HMAC-SHA256 Credential=test/20261121/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0"),
            )
            .send_string(&body.to_string())
            .unwrap_or_else(|e| panic!("{target}: {e}"))
            .into_json()
            .expect("json")
    }

    /// Every item of a table whose `pk` starts with `prefix`.
    pub fn items(&self, table: &str, prefix: &str) -> Vec<serde_json::Value> {
        let mut found = Vec::new();
        let mut start: Option<serde_json::Value> = None;
        loop {
            let mut body = serde_json::json!({"TableName": table});
            if let Some(s) = start.take() {
                body["ExclusiveStartKey"] = s;
            }
            let page = self.aws("DynamoDB_20120810.Scan", body);
            for item in page["Items"].as_array().into_iter().flatten() {
                if item["pk"]["S"]
                    .as_str()
                    .is_some_and(|pk| pk.starts_with(prefix))
                {
                    found.push(item.clone());
                }
            }
            match page.get("LastEvaluatedKey") {
                Some(k) if !k.is_null() => start = Some(k.clone()),
                _ => return found,
            }
        }
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The schema registry's files under `root` (the workspace's root, usually), sorted: every
/// `events/<Name>/v<N>.schema.json` as `(name, version, path relative to root)`.
pub fn event_schemas(root: &std::path::Path) -> Vec<(String, u32, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(root.join("events")).expect("events/ exists") {
        let entry = entry.expect("events/ is readable");
        if !entry.path().is_dir() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        for file in std::fs::read_dir(entry.path()).expect("an event's folder is readable") {
            let file = file.expect("an event's folder is readable").file_name();
            let file = file.to_string_lossy();
            let version = file
                .strip_prefix('v')
                .and_then(|f| f.strip_suffix(".schema.json"))
                .and_then(|v| v.parse::<u32>().ok());
            if let Some(version) = version {
                found.push((name.clone(), version, format!("events/{name}/{file}")));
            }
        }
    }
    found.sort();
    found
}

/// One request to the API at `api`, within `timeout` if one is given: its status and JSON body
/// (Null when empty or not JSON). An error status is an answer; only a failed exchange panics.
pub fn call_api(
    api: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&serde_json::Value>,
    timeout: Option<std::time::Duration>,
) -> (u16, serde_json::Value) {
    let mut req = ureq::request(method, &format!("{api}{path}"));
    if let Some(timeout) = timeout {
        req = req.timeout(timeout);
    }
    if let Some(token) = token {
        req = req.set("authorization", &format!("Bearer {token}"));
    }
    let result = match body {
        Some(b) => req.send_json(b.clone()),
        None => req.call(),
    };
    let response = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {path}: {e}"),
    };
    let status = response.status();
    let text = response.into_string().unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}
