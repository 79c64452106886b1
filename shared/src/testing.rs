//! Test support: a private moto emulator per test process, and tables shaped like ours.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::contracts::accounts::AccountSnapshot;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
};

/// The repository root (this crate lives in `shared/`).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("shared/ has a parent")
        .to_path_buf()
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// The emulator one test binary's store contracts share: started by the first that needs it,
/// stopped when the last one holding it ends.
static SHARED: std::sync::Mutex<std::sync::Weak<Emulator>> =
    std::sync::Mutex::new(std::sync::Weak::new());

/// A fresh table on the emulator this test binary shares, and the emulator (keep it while
/// testing): a second of start-up once per binary instead of once per test.
pub async fn shared_table(prefix: &str) -> (crate::dynamo::Table, std::sync::Arc<Emulator>) {
    let emulator = {
        let mut shared = SHARED.lock().unwrap_or_else(|e| e.into_inner());
        shared.upgrade().unwrap_or_else(|| {
            let started = std::sync::Arc::new(Emulator::start());
            *shared = std::sync::Arc::downgrade(&started);
            started
        })
    };
    let config = emulator.sdk_config().await;
    let name = format!("{prefix}{}", uuid::Uuid::new_v4().simple());
    emulator.create_table(&config, &name).await;
    (crate::dynamo::Table::new(&config, name), emulator)
}

/// Folds what `table`'s stream holds, as a fold function's mapping would hand it over: each
/// shard's records from its start, those `passes` lets through (the mapping's filter), in one
/// batch per shard. Called again, it hands the same records over again, with any new ones:
/// the fold's markers make that harmless, which is what a stream's retries rely on.
/// The table is one of [`shared_table`]'s.
pub async fn fold_stream(
    table: &crate::dynamo::Table,
    shards: u32,
    passes: impl Fn(&crate::outbox::DynamoDbRecord) -> bool,
    additions: crate::lambda::Additions,
) {
    use aws_sdk_dynamodbstreams::types::ShardIteratorType;
    let emulator = SHARED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .upgrade()
        .expect("a shared emulator is running");
    let config = &emulator.sdk_config().await;
    let described = table
        .client()
        .describe_table()
        .table_name(table.name())
        .send()
        .await
        .expect("the table is there");
    let arn = described
        .table()
        .and_then(|t| t.latest_stream_arn())
        .expect("the table has a stream")
        .to_owned();
    let streams = aws_sdk_dynamodbstreams::Client::new(config);
    let stream = streams
        .describe_stream()
        .stream_arn(&arn)
        .send()
        .await
        .expect("the stream is there");
    for shard in stream
        .stream_description()
        .map(|d| d.shards())
        .unwrap_or_default()
    {
        let mut iterator = streams
            .get_shard_iterator()
            .stream_arn(&arn)
            .shard_id(shard.shard_id().unwrap_or_default())
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .expect("an iterator")
            .shard_iterator
            .clone();
        let mut records = Vec::new();
        while let Some(current) = iterator {
            let out = streams
                .get_records()
                .shard_iterator(current)
                .send()
                .await
                .expect("records");
            if out.records().is_empty() {
                break;
            }
            records.extend(out.records().iter().map(lambda_record));
            iterator = out.next_shard_iterator().map(str::to_owned);
        }
        records.retain(|r| passes(r));
        crate::fold::fold(table, &records, shards, additions, chrono::Utc::now())
            .await
            .expect("folded");
    }
}

/// A stream record in the shape Lambda hands it to a function.
fn lambda_record(record: &aws_sdk_dynamodbstreams::types::Record) -> crate::outbox::DynamoDbRecord {
    use aws_sdk_dynamodbstreams::types::AttributeValue as A;
    fn value(v: &A) -> serde_json::Value {
        use serde_json::json;
        match v {
            A::S(s) => json!({ "S": s }),
            A::N(n) => json!({ "N": n }),
            A::Bool(b) => json!({ "BOOL": b }),
            A::Null(_) => json!({ "NULL": true }),
            A::Ss(s) => json!({ "SS": s }),
            A::Ns(n) => json!({ "NS": n }),
            A::L(l) => json!({ "L": l.iter().map(value).collect::<Vec<_>>() }),
            A::M(m) => json!({ "M": image(m) }),
            _ => json!({ "NULL": true }),
        }
    }
    fn image(
        item: &std::collections::HashMap<String, A>,
    ) -> serde_json::Map<String, serde_json::Value> {
        item.iter().map(|(k, v)| (k.clone(), value(v))).collect()
    }
    let change = record.dynamodb();
    let empty = std::collections::HashMap::new();
    serde_json::from_value(serde_json::json!({
        "eventID": record.event_id().unwrap_or_default(),
        "eventName": record.event_name().map(|n| n.as_str()).unwrap_or_default(),
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "SequenceNumber": change.and_then(|c| c.sequence_number()).unwrap_or_default(),
            "Keys": image(change.and_then(|c| c.keys.as_ref()).unwrap_or(&empty)),
            "NewImage": image(change.and_then(|c| c.new_image.as_ref()).unwrap_or(&empty)),
            "StreamViewType": "NEW_IMAGE",
            "SizeBytes": 1
        }
    }))
    .expect("a stream record in Lambda's shape")
}

/// A port's contract: each named `async fn(&impl Port)` becomes a test on the in-memory store
/// (`memory::<name>`) and one on the DynamoDB store over a fresh shared table (`dynamo::<name>`),
/// so the two stores cannot drift apart unnoticed.
///
/// `store_contracts!(MemoryStore::default(), |table| Store::new(table), "Tasks"; a, b, c);`
#[macro_export]
macro_rules! store_contracts {
    ($memory:expr, $dynamo:expr, $prefix:literal; $($contract:ident),* $(,)?) => {
        mod memory {
            $(#[tokio::test]
            async fn $contract() {
                super::$contract(&$memory).await;
            })*
        }
        mod dynamo {
            $(#[tokio::test]
            async fn $contract() {
                let (table, _emulator) = $crate::testing::shared_table($prefix).await;
                let store = ($dynamo)(table);
                super::$contract(&store).await;
            })*
        }
    };
}

/// A moto server on a free loopback port, stopped when dropped.
pub struct Emulator {
    child: Child,
    pub endpoint: String,
}

impl Emulator {
    pub fn start() -> Emulator {
        let moto = std::env::var("ATES_MOTO_SERVER")
            .map(PathBuf::from)
            .unwrap_or_else(|_| workspace_root().join("infra/moto-server"));
        // Ports are picked and bound one emulator at a time: two tests starting at once could
        // otherwise pick the same free port before either moto binds it, and share one emulator.
        static STARTING: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _one_at_a_time = STARTING.lock().unwrap_or_else(|e| e.into_inner());
        let port = free_port();
        // ATES_MOTO_LOG=<file> keeps the emulator's own log (its tracebacks) for a failing test.
        let log = || match std::env::var("ATES_MOTO_LOG") {
            Ok(path) => std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map(Stdio::from)
                .unwrap_or_else(|_| Stdio::null()),
            Err(_) => Stdio::null(),
        };
        let mut child = Command::new(&moto)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(log())
            .stderr(log())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {moto:?} (run `make venv`): {e}"));
        let endpoint = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "moto did not start on {endpoint}"
            );
            assert!(
                child.try_wait().ok().flatten().is_none(),
                "moto exited before listening on {endpoint}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Emulator { child, endpoint }
    }

    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .http_client(crate::aws::http_client())
            .endpoint_url(&self.endpoint)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                "test", "test", None, None, "test",
            ))
            .load()
            .await
    }

    /// An emulator with one table shaped like ours, the config that reaches it, and the table.
    pub async fn with_table(name: &str) -> (Emulator, aws_config::SdkConfig, crate::dynamo::Table) {
        let emulator = Emulator::start();
        let config = emulator.sdk_config().await;
        emulator.create_table(&config, name).await;
        let table = crate::dynamo::Table::new(&config, name.to_owned());
        (emulator, config, table)
    }

    /// A table with the key shape every context uses (all four indexes, whether the context uses
    /// them).
    pub async fn create_table(&self, config: &aws_config::SdkConfig, name: &str) {
        let db = aws_sdk_dynamodb::Client::new(config);
        let attr = |n: &str| {
            AttributeDefinition::builder()
                .attribute_name(n)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap()
        };
        let key = |n: &str, t| {
            KeySchemaElement::builder()
                .attribute_name(n)
                .key_type(t)
                .build()
                .unwrap()
        };
        db.create_table()
            .table_name(name)
            .billing_mode(BillingMode::PayPerRequest)
            .set_attribute_definitions(Some(vec![
                attr("pk"),
                attr("sk"),
                attr("gsi1pk"),
                attr("gsi1sk"),
                attr("gsi2pk"),
                attr("gsi2sk"),
                attr("gsi3pk"),
                attr("gsi3sk"),
                attr("gsi4pk"),
                attr("gsi4sk"),
            ]))
            .key_schema(key("pk", KeyType::Hash))
            .key_schema(key("sk", KeyType::Range))
            .set_global_secondary_indexes(Some(
                ["gsi1", "gsi2", "gsi3", "gsi4"]
                    .into_iter()
                    .map(|index| {
                        GlobalSecondaryIndex::builder()
                            .index_name(index)
                            .key_schema(key(&format!("{index}pk"), KeyType::Hash))
                            .key_schema(key(&format!("{index}sk"), KeyType::Range))
                            .projection(
                                Projection::builder()
                                    .projection_type(ProjectionType::All)
                                    .build(),
                            )
                            .build()
                            .unwrap()
                    })
                    .collect(),
            ))
            .stream_specification(
                StreamSpecification::builder()
                    .stream_enabled(true)
                    .stream_view_type(StreamViewType::NewImage)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .expect("table created");
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An API Gateway (HTTP API, payload 2.0) request as the gateway hands it to a function,
/// signed in as `caller` (account id and role) or anonymous.
pub fn api_request(
    method: &str,
    route: &str,
    path: &str,
    body: Option<&str>,
    caller: Option<(&str, crate::identity::Role)>,
) -> lambda_http::Request {
    let mut params = serde_json::Map::new();
    for (pattern, actual) in route.split('/').zip(path.split('/')) {
        if let Some(name) = pattern.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            params.insert(
                name.to_owned(),
                serde_json::Value::String(actual.to_owned()),
            );
        }
    }
    let (raw_path, query) = path.split_once('?').unwrap_or((path, ""));
    let mut query_params = serde_json::Map::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        query_params.insert(k.to_owned(), serde_json::Value::String(v.to_owned()));
    }
    let mut context = serde_json::json!({
        "accountId": "123456789012", "apiId": "test", "domainName": "test", "domainPrefix": "test",
        "http": {"method": method, "path": raw_path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "test"},
        "requestId": uuid::Uuid::new_v4().to_string(), "routeKey": format!("{method} {route}"),
        "stage": "$default", "time": "21/Nov/2026:10:00:00 +0000", "timeEpoch": 0
    });
    if let Some((account_id, role)) = caller {
        context["authorizer"] = serde_json::json!({"jwt": {
            "claims": {"sub": account_id, "role": role.as_str(), "scope": role.scopes().join(" ")},
            "scopes": role.scopes()
        }});
    }
    let event = serde_json::json!({
        "version": "2.0", "routeKey": format!("{method} {route}"), "rawPath": raw_path, "rawQueryString": query,
        "headers": {"content-type": "application/json", "host": "test"},
        "queryStringParameters": query_params, "pathParameters": params,
        "requestContext": context, "body": body, "isBase64Encoded": false
    });
    lambda_http::request::from_str(&event.to_string()).expect("a valid API Gateway v2 event")
}

/// A fresh RS256 key in the shape the issuer reads from Secrets Manager
/// (`{kid, private_key_pem, n, e}`), made with the system's openssl.
pub fn signing_key_json() -> String {
    let pem = Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
        ])
        .output()
        .expect("openssl runs");
    let pem = String::from_utf8(pem.stdout).expect("PEM is text");
    let mut modulus = Command::new("openssl")
        .args(["rsa", "-noout", "-modulus"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("openssl runs");
    use std::io::Write;
    modulus
        .stdin
        .take()
        .expect("stdin")
        .write_all(pem.as_bytes())
        .expect("PEM written");
    let out =
        String::from_utf8(modulus.wait_with_output().expect("openssl ends").stdout).expect("text");
    let hex_modulus = out.trim().trim_start_matches("Modulus=");
    let bytes = hex::decode(hex_modulus).expect("hex modulus");
    use base64::Engine;
    let n = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    serde_json::json!({"kid": uuid::Uuid::new_v4().to_string(), "private_key_pem": pem, "n": n, "e": "AQAB"}).to_string()
}

/// An instant, from RFC 3339.
pub fn at(s: &str) -> chrono::DateTime<chrono::Utc> {
    s.parse().expect("an RFC 3339 instant")
}

/// A date, from `YYYY-MM-DD`.
pub fn date(s: &str) -> chrono::NaiveDate {
    s.parse().expect("a YYYY-MM-DD date")
}

/// `payload` in its envelope, as `producer` would publish it at `when`.
pub fn event<E: crate::event::DomainEvent>(
    producer: &str,
    payload: &E,
    when: chrono::DateTime<chrono::Utc>,
) -> crate::event::Envelope {
    let cause = crate::event::Cause::request("test");
    crate::event::Envelope::wrap(producer, payload, &cause, when).expect("a valid event")
}

/// A new active account of `role`, at its first revision.
pub fn account(full_name: &str, role: crate::identity::Role) -> AccountSnapshot {
    AccountSnapshot {
        account_id: uuid::Uuid::now_v7(),
        email: format!("{}@popug.test", full_name.to_lowercase()),
        full_name: full_name.into(),
        role,
        active: true,
        revision: 1,
    }
}

/// What a verified token says of `account_id`, signed in as `role`: a use case's caller, whose
/// role the context's copy of the account overrides (with no copy yet, the token's stands).
pub fn claims(account_id: uuid::Uuid, role: crate::identity::Role) -> crate::identity::Claims {
    crate::identity::Claims { account_id, role }
}

/// `account` as auth publishes a change of it (`Account.Updated`), now.
pub fn account_event(account: &AccountSnapshot) -> crate::event::Envelope {
    let payload = crate::contracts::accounts::AccountUpdated(account.clone());
    event("auth", &payload, chrono::Utc::now())
}

/// A handler's answer as a client reads it: the status and the JSON body (`null` for none).
/// Every error must be a problem (`application/problem+json`).
pub fn answer(
    result: Result<lambda_http::Response<lambda_http::Body>, crate::http::Problem>,
) -> (u16, serde_json::Value) {
    let response = result.unwrap_or_else(|p| p.into_response());
    let status = response.status().as_u16();
    if status >= 400 {
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "every error is a problem"
        );
    }
    let body = match response.body() {
        lambda_http::Body::Text(t) => serde_json::from_str(t).expect("a JSON body"),
        _ => serde_json::Value::Null,
    };
    (status, body)
}

/// The contract of [`crate::copies::KeepsAccountCopies`], for a context's store contract (see
/// [`store_contracts!`]): an event applies once, and a copy only moves forward in revision.
pub async fn account_copies_move_only_forward<S: crate::copies::KeepsAccountCopies>(store: &S) {
    use crate::inbox::Outcome;
    let kiwi = uuid::Uuid::now_v7();
    let snapshot = |active: bool, revision: u64| AccountSnapshot {
        account_id: kiwi,
        active,
        revision,
        ..account("Kiwi", crate::identity::Role::Worker)
    };
    assert_eq!(store.account_copy(kiwi).await.unwrap(), None);
    let first = snapshot(true, 1);
    let event = account_event(&first);
    assert_eq!(
        store.save_account(&first, &event).await.unwrap(),
        Outcome::Applied
    );
    assert_eq!(
        store.save_account(&first, &event).await.unwrap(),
        Outcome::Duplicate
    );
    assert_eq!(store.account_copy(kiwi).await.unwrap(), Some(first));
    let later = snapshot(false, 3);
    let saved = store.save_account(&later, &account_event(&later)).await;
    assert_eq!(saved.unwrap(), Outcome::Applied);
    for stale in [snapshot(true, 2), snapshot(true, 3)] {
        let saved = store.save_account(&stale, &account_event(&stale)).await;
        assert_eq!(saved.unwrap(), Outcome::Superseded, "{stale:?}");
    }
    assert_eq!(store.account_copy(kiwi).await.unwrap(), Some(later));
}

/// Every page of a listing, `limit` at a time, through its cursors. A page may be short (a scan
/// filters after it reads) but never longer than its limit, and the listing ends.
pub async fn every_page<T, E, F, Fut>(limit: usize, mut list: F) -> Vec<T>
where
    E: std::fmt::Debug,
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<crate::dynamo::Listed<T>, E>>,
{
    let (mut all, mut cursor) = (Vec::new(), None);
    for _ in 0..100 {
        let page = list(cursor.take()).await.expect("a page");
        assert!(page.items.len() <= limit, "a page holds at most its limit");
        all.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return all,
        }
    }
    panic!("a listing that does not end");
}
