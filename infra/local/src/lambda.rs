//! Runs each function's binary as Lambda does: sandboxed processes fed one invocation at a time.

use crate::functions::FunctionSpec;
use crate::resolve::{ACCOUNT_ID, REGION};
use crate::runtime_api;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::sync::{mpsc, oneshot, watch, Notify};
use tokio::task::JoinHandle;

/// A failed invocation, shaped as Lambda reports it: `{"errorType", "errorMessage"}`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct InvokeError {
    #[serde(rename = "errorType")]
    pub error_type: String,
    #[serde(rename = "errorMessage")]
    pub error_message: String,
}

impl InvokeError {
    pub fn new(error_type: &str, message: impl Into<String>) -> InvokeError {
        InvokeError {
            error_type: error_type.to_string(),
            error_message: message.into(),
        }
    }

    pub fn is_timeout(&self) -> bool {
        self.error_type == "Sandbox.Timedout"
    }
}

impl std::fmt::Display for InvokeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error_type, self.error_message)
    }
}

pub type InvokeResult = Result<Vec<u8>, InvokeError>;

/// How long an invocation may wait for a process (busy, or starting) before it is refused.
const QUEUE_ALLOWANCE: Duration = Duration::from_secs(60);

pub struct LambdaSettings {
    pub bin_dir: PathBuf,
    pub log_dir: PathBuf,
    pub aws_endpoint: String,
    /// A function's own endpoint (its AWS-call counting proxy), instead of aws_endpoint.
    pub function_endpoints: BTreeMap<String, String>,
    /// The most instances a function runs at once, unless its `ReservedConcurrentExecutions`
    /// says otherwise. Instances start on demand, as Lambda's do: one at first, another
    /// whenever an invocation finds every running one busy.
    pub concurrency: usize,
    pub verbose: bool,
}

/// Every function of the template, started lazily on its first invocation.
pub struct Lambda {
    functions: BTreeMap<String, Arc<Function>>,
    shutdown_tx: watch::Sender<bool>,
}

impl Lambda {
    pub fn new(specs: Vec<FunctionSpec>, settings: &LambdaSettings) -> Lambda {
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let functions = specs
            .into_iter()
            .map(|spec| {
                let function = Function::new(spec, settings, shutdown_rx.clone());
                (function.spec.logical_id.clone(), Arc::new(function))
            })
            .collect();
        Lambda {
            functions,
            shutdown_tx,
        }
    }

    pub fn spec(&self, name: &str) -> Option<&FunctionSpec> {
        self.functions.get(name).map(|f| &f.spec)
    }

    pub fn specs(&self) -> impl Iterator<Item = &FunctionSpec> {
        self.functions.values().map(|f| &f.spec)
    }

    /// How many instances of a function were started so far, and the most it may run at once.
    pub async fn instances(&self, name: &str) -> (usize, usize) {
        match self.functions.get(name) {
            Some(f) => (f.instances.lock().await.len(), f.concurrency),
            None => (0, 0),
        }
    }

    /// The environment a function's processes get: the template's variables, resolved, and the
    /// sandbox's (the emulator's endpoint, region and credentials, Lambda's own variables).
    pub fn environment(&self, name: &str) -> Option<&[(String, String)]> {
        self.functions.get(name).map(|f| f.environment.as_slice())
    }

    pub fn executable(&self, name: &str) -> Option<&Path> {
        self.functions.get(name).map(|f| f.executable.as_path())
    }

    /// Invokes synchronously (RequestResponse) and answers the function's JSON result.
    pub async fn invoke(&self, name: &str, payload: &Value) -> Result<Value, InvokeError> {
        let function = self.functions.get(name).ok_or_else(|| {
            InvokeError::new("ResourceNotFoundException", format!("no function {name}"))
        })?;
        let bytes = serde_json::to_vec(payload)
            .map_err(|e| InvokeError::new("InvalidRequestContentException", e.to_string()))?;
        let answer = function.clone().invoke(bytes).await?;
        if answer.is_empty() {
            return Ok(Value::Null);
        }
        // A runtime may answer any bytes; Lambda passes non-JSON through, so keep it as a string.
        Ok(serde_json::from_slice(&answer)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&answer).into_owned())))
    }

    /// What Lambda bills and logs ingest, per function that ran: `{"<function>": {"memory_mb",
    /// "invocations", "duration_ms" (process took the invocation → it answered), "log_bytes" (lines
    /// written to stdout and stderr, and the platform's END/REPORT lines), "sqs_batches",
    /// "sqs_messages" (what its SQS event source mappings delivered)}}`.
    pub fn usage(&self) -> Value {
        let mut all = serde_json::Map::new();
        for (name, f) in &self.functions {
            let u = &f.usage;
            let invocations = u.invocations.load(Ordering::Relaxed);
            let log_bytes = f.log.bytes.load(Ordering::Relaxed);
            if invocations == 0 && log_bytes == 0 {
                continue;
            }
            all.insert(
                name.clone(),
                serde_json::json!({
                    "memory_mb": f.spec.memory_mb,
                    "invocations": invocations,
                    "duration_ms": u.duration_us.load(Ordering::Relaxed) as f64 / 1000.0,
                    "log_bytes": log_bytes,
                    "sqs_batches": u.sqs_batches.load(Ordering::Relaxed),
                    "sqs_messages": u.sqs_messages.load(Ordering::Relaxed),
                }),
            );
        }
        Value::Object(all)
    }

    /// Counts a batch an SQS event source mapping delivers to `name`.
    pub fn count_sqs_batch(&self, name: &str, messages: usize) {
        if let Some(f) = self.functions.get(name) {
            f.usage.sqs_batches.fetch_add(1, Ordering::Relaxed);
            f.usage
                .sqs_messages
                .fetch_add(messages as u64, Ordering::Relaxed);
        }
    }

    /// Kills every function process and waits for the supervisors to finish.
    pub async fn shutdown(&self) {
        let _ = self.shutdown_tx.send(true);
        for function in self.functions.values() {
            let handles: Vec<_> = function
                .supervisors
                .lock()
                .map(|mut h| h.drain(..).collect())
                .unwrap_or_default();
            for handle in handles {
                let _ = tokio::time::timeout(Duration::from_secs(5), handle).await;
            }
        }
    }
}

pub(crate) struct Invocation {
    pub request_id: String,
    pub payload: Vec<u8>,
    pub reply: oneshot::Sender<InvokeResult>,
}

/// Counted for pricing (`Lambda::usage`).
#[derive(Default)]
pub(crate) struct Usage {
    pub invocations: AtomicU64,
    pub duration_us: AtomicU64,
    pub sqs_batches: AtomicU64,
    pub sqs_messages: AtomicU64,
}

pub(crate) struct Function {
    pub spec: FunctionSpec,
    pub usage: Usage,
    pub arn: String,
    executable: PathBuf,
    environment: Vec<(String, String)>,
    pub log: Arc<FunctionLog>,
    /// The most instances at once.
    concurrency: usize,
    /// Invocations queued that no process has taken yet.
    pub waiting: std::sync::atomic::AtomicUsize,
    pub queue_tx: mpsc::UnboundedSender<Invocation>,
    pub queue_rx: tokio::sync::Mutex<mpsc::UnboundedReceiver<Invocation>>,
    instances: tokio::sync::Mutex<Vec<Arc<Instance>>>,
    supervisors: Mutex<Vec<JoinHandle<()>>>,
    /// Counts invocations, so a process that failed its init is retried only when there is work.
    demand: watch::Sender<u64>,
    shutdown: watch::Receiver<bool>,
}

/// One sandbox: the successive processes (generations) of one of a function's concurrent slots.
/// Each process gets a Runtime API of its own, so every request is known to come from it.
pub(crate) struct Instance {
    pub label: String,
    /// Bumped whenever the current process is gone or retired; work is only handed to the current one.
    pub generation: AtomicU64,
    pub in_flight: Mutex<Option<InFlight>>,
    /// Wakes the long-polls of a process that is gone, so they stop taking work.
    pub retired: Notify,
    kill: Notify,
    pub spawned_at: Mutex<Instant>,
    pub awaiting_first_next: AtomicBool,
    /// What the runtime reported to /runtime/init/error, if it did.
    pub init_error: Mutex<Option<String>>,
    binary_modified: Mutex<Option<SystemTime>>,
}

pub(crate) struct InFlight {
    pub request_id: String,
    pub generation: u64,
    pub started: Instant,
    pub reply: oneshot::Sender<InvokeResult>,
}

impl Instance {
    /// Stops handing work to the process of `generation` and asks its supervisor to kill it.
    pub fn retire(&self, generation: u64) {
        if self
            .generation
            .compare_exchange(
                generation,
                generation + 1,
                Ordering::SeqCst,
                Ordering::SeqCst,
            )
            .is_ok()
        {
            self.retired.notify_waiters();
            self.kill.notify_one();
        }
    }

    /// Takes the invocation the process of `generation` is working on (`request_id`, if given).
    pub fn take_in_flight(&self, request_id: Option<&str>, generation: u64) -> Option<InFlight> {
        let mut slot = self.in_flight.lock().ok()?;
        let mine = slot.as_ref().is_some_and(|f| {
            f.generation == generation && request_id.is_none_or(|id| f.request_id == id)
        });
        if mine {
            slot.take()
        } else {
            None
        }
    }
}

impl Function {
    fn new(
        spec: FunctionSpec,
        settings: &LambdaSettings,
        shutdown: watch::Receiver<bool>,
    ) -> Function {
        let (queue_tx, queue_rx) = mpsc::unbounded_channel();
        let concurrency = spec
            .reserved_concurrency
            .map_or(settings.concurrency, |r| r as usize)
            .max(1);
        // target/debug/<binary>, or cargo-lambda's target/lambda/<binary>/bootstrap.
        let executable = match settings.bin_dir.join(&spec.binary) {
            dir if dir.is_dir() => dir.join("bootstrap"),
            file => file,
        };
        let name = spec.logical_id.clone();
        let mut environment: Vec<(String, String)> = spec
            .environment
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let fixed = [
            (
                "AWS_ENDPOINT_URL",
                settings
                    .function_endpoints
                    .get(&name)
                    .unwrap_or(&settings.aws_endpoint)
                    .clone(),
            ),
            ("AWS_REGION", REGION.to_string()),
            ("AWS_DEFAULT_REGION", REGION.to_string()),
            ("AWS_ACCESS_KEY_ID", "test".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "test".to_string()),
            ("AWS_LAMBDA_FUNCTION_NAME", name.clone()),
            (
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                spec.memory_mb.to_string(),
            ),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_string()),
            ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}")),
            ("AWS_LAMBDA_LOG_STREAM_NAME", format!("local/{name}")),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_string()),
            ("LAMBDA_TASK_ROOT", settings.bin_dir.display().to_string()),
            ("_HANDLER", "bootstrap".to_string()),
            ("TZ", ":UTC".to_string()),
            ("LANG", "en_US.UTF-8".to_string()),
        ];
        environment.extend(fixed.into_iter().map(|(k, v)| (k.to_string(), v)));
        // The sandbox starts from an empty environment, as Lambda's does; PATH only so tools resolve.
        if let Ok(path) = std::env::var("PATH") {
            environment.push(("PATH".into(), path));
        }
        let log = Arc::new(FunctionLog::open(
            &settings.log_dir.join(format!("{name}.log")),
            short_name(&name),
            settings.verbose,
        ));
        Function {
            usage: Usage::default(),
            arn: format!("arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}"),
            spec,
            executable,
            environment,
            log,
            concurrency,
            waiting: std::sync::atomic::AtomicUsize::new(0),
            queue_tx,
            queue_rx: tokio::sync::Mutex::new(queue_rx),
            instances: tokio::sync::Mutex::new(Vec::new()),
            supervisors: Mutex::new(Vec::new()),
            demand: watch::channel(0).0,
            shutdown,
        }
    }

    async fn invoke(self: Arc<Self>, payload: Vec<u8>) -> InvokeResult {
        let instances = self.clone().ensure_started().await?;
        self.retire_stale_instances(&instances);

        let (reply, answer) = oneshot::channel();
        let invocation = Invocation {
            request_id: uuid::Uuid::new_v4().to_string(),
            payload,
            reply,
        };
        self.waiting.fetch_add(1, Ordering::SeqCst);
        self.queue_tx.send(invocation).map_err(|_| {
            InvokeError::new("ServiceException", "the local stack is shutting down")
        })?;
        self.demand.send_modify(|n| *n = n.wrapping_add(1));
        self.clone().scale_up().await;

        // The function's own timeout runs from when a process takes the invocation (see
        // `start_clock`); this only bounds the wait for a free, working process.
        match tokio::time::timeout(self.spec.timeout + QUEUE_ALLOWANCE, answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(InvokeError::new(
                "ServiceException",
                "the invocation was dropped (the stack is shutting down)",
            )),
            Err(_) => Err(InvokeError::new(
                "TooManyRequestsException",
                format!(
                    "no process of {} took the invocation in time; see logs/{}.log",
                    self.spec.logical_id, self.spec.logical_id
                ),
            )),
        }
    }

    /// Starts the timeout of an invocation a process just took. Lambda throws away a sandbox
    /// whose invocation timed out, so the process is replaced.
    pub fn start_clock(&self, instance: &Arc<Instance>, request_id: String, generation: u64) {
        let timeout = self.spec.timeout;
        let instance = instance.clone();
        let log = self.log.clone();
        tokio::spawn(async move {
            tokio::time::sleep(timeout).await;
            if let Some(in_flight) = instance.take_in_flight(Some(&request_id), generation) {
                let message = format!("Task timed out after {:.2} seconds", timeout.as_secs_f64());
                log.line(&format!("{request_id} {message}"));
                let _ = in_flight
                    .reply
                    .send(Err(InvokeError::new("Sandbox.Timedout", message)));
                instance.retire(in_flight.generation);
            }
        });
    }

    /// Starts the first instance on first use: binaries may be built after the stack started.
    async fn ensure_started(self: Arc<Self>) -> Result<Vec<Arc<Instance>>, InvokeError> {
        let mut instances = self.instances.lock().await;
        if !instances.is_empty() {
            return Ok(instances.clone());
        }
        if !self.executable.is_file() {
            return Err(InvokeError::new(
                "Local.BinaryMissing",
                format!(
                    "{} is not built ({} not found)",
                    self.spec.binary,
                    self.executable.display()
                ),
            ));
        }
        self.clone().add_instance(&mut instances);
        Ok(instances.clone())
    }

    /// Starts another instance when more invocations wait than instances are free (or still
    /// starting), up to the function's concurrency: concurrent requests run concurrently.
    async fn scale_up(self: Arc<Self>) {
        let mut instances = self.instances.lock().await;
        if instances.is_empty() || instances.len() >= self.concurrency {
            return;
        }
        let free = instances
            .iter()
            .filter(|i| i.in_flight.lock().map(|f| f.is_none()).unwrap_or(false))
            .count();
        if self.waiting.load(Ordering::SeqCst) > free {
            self.clone().add_instance(&mut instances);
        }
    }

    fn add_instance(self: Arc<Self>, instances: &mut Vec<Arc<Instance>>) {
        let instance = Arc::new(Instance {
            label: format!("{}#{}", self.spec.logical_id, instances.len() + 1),
            generation: AtomicU64::new(0),
            in_flight: Mutex::new(None),
            retired: Notify::new(),
            kill: Notify::new(),
            spawned_at: Mutex::new(Instant::now()),
            awaiting_first_next: AtomicBool::new(true),
            init_error: Mutex::new(None),
            binary_modified: Mutex::new(None),
        });
        let supervisor = tokio::spawn(supervise(self.clone(), instance.clone()));
        if let Ok(mut handles) = self.supervisors.lock() {
            handles.push(supervisor);
        }
        instances.push(instance);
    }

    /// After a rebuild, idle processes are replaced so the next invocation runs the new binary.
    fn retire_stale_instances(&self, instances: &[Arc<Instance>]) {
        let Some(current) = modified(&self.executable) else {
            return;
        };
        for instance in instances {
            let started_with = instance.binary_modified.lock().ok().and_then(|m| *m);
            let idle = instance
                .in_flight
                .lock()
                .map(|f| f.is_none())
                .unwrap_or(false);
            if started_with.is_some_and(|t| t != current) && idle {
                tracing::info!("{} binary changed; restarting", instance.label);
                instance.retire(instance.generation.load(Ordering::SeqCst));
            }
        }
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Keeps one process running per instance: restarts it when it exits, fails its in-flight work.
async fn supervise(function: Arc<Function>, instance: Arc<Instance>) {
    let mut shutdown = function.shutdown.clone();
    let mut backoff = Duration::from_millis(250);
    loop {
        if *shutdown.borrow() {
            return;
        }
        let generation = instance.generation.load(Ordering::SeqCst);
        let started = Instant::now();
        if let Ok(mut at) = instance.spawned_at.lock() {
            *at = started;
        }
        if let Ok(mut m) = instance.binary_modified.lock() {
            *m = modified(&function.executable);
        }
        instance.awaiting_first_next.store(true, Ordering::SeqCst);

        let runtime_api = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
            Ok(listener) => {
                runtime_api::serve(listener, function.clone(), instance.clone(), generation)
            }
            Err(e) => {
                tracing::error!("{}: cannot bind a Runtime API port: {e}", instance.label);
                if !pause(&mut shutdown, Duration::from_secs(1)).await {
                    return;
                }
                continue;
            }
        };
        let exit = match spawn_process(&function, &instance, runtime_api.port) {
            Err(e) => format!("could not start {}: {e}", function.executable.display()),
            Ok(mut child) => loop {
                tokio::select! {
                    status = child.wait() => {
                        break match status {
                            Ok(s) => format!("exited with {s}"),
                            Err(e) => format!("wait failed: {e}"),
                        };
                    }
                    _ = instance.kill.notified() => {
                        if instance.generation.load(Ordering::SeqCst) != generation {
                            let _ = child.kill().await;
                            break "killed".to_string();
                        }
                    }
                    _ = shutdown.changed() => {
                        let _ = child.kill().await;
                        instance.retire(generation);
                        runtime_api.task.abort();
                        fail_in_flight(&instance, generation, "the local stack is shutting down");
                        return;
                    }
                }
            },
        };

        // The process is gone: its long-polls stop, its invocation fails as Lambda's would.
        instance.retire(generation);
        runtime_api.task.abort();
        let retired_on_purpose = exit == "killed";
        if !retired_on_purpose {
            tracing::warn!("{} {exit}", instance.label);
            function.log.line(&format!("{} {exit}", instance.label));
        }
        fail_in_flight(&instance, generation, &format!("Runtime exited: {exit}"));
        let init_failed =
            !retired_on_purpose && instance.awaiting_first_next.load(Ordering::SeqCst);
        if init_failed {
            let mut demand = function.demand.subscribe();
            demand.borrow_and_update();
            fail_waiting(&function, &instance, &exit);
            // Lambda inits on demand: no point restarting a broken binary until someone invokes it.
            tokio::select! {
                _ = demand.changed() => {}
                _ = shutdown.changed() => return,
            }
        }

        if started.elapsed() < Duration::from_secs(2) && !retired_on_purpose {
            // A binary that dies at start-up would otherwise be restarted in a tight loop.
            if !pause(&mut shutdown, backoff).await {
                return;
            }
            backoff = (backoff * 2).min(Duration::from_secs(5));
        } else {
            backoff = Duration::from_millis(250);
        }
    }
}

/// A process that dies before asking for work failed its init; like Lambda, fail the invocations
/// waiting for it rather than letting them hang. (If another process is polling, it keeps them.)
fn fail_waiting(function: &Function, instance: &Instance, exit: &str) {
    let reported = instance.init_error.lock().ok().and_then(|mut e| e.take());
    let message = match reported {
        Some(error) => format!("init failed ({exit}): {error}"),
        None => format!("init failed: the runtime {exit} before asking for work"),
    };
    let Ok(mut queue) = function.queue_rx.try_lock() else {
        return;
    };
    while let Ok(invocation) = queue.try_recv() {
        function.waiting.fetch_sub(1, Ordering::SeqCst);
        let _ = invocation
            .reply
            .send(Err(InvokeError::new("Runtime.InitError", message.clone())));
    }
}

/// Sleeps unless the stack stops first; answers whether to go on.
async fn pause(shutdown: &mut watch::Receiver<bool>, duration: Duration) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(duration) => !*shutdown.borrow(),
        _ = shutdown.changed() => false,
    }
}

fn fail_in_flight(instance: &Instance, generation: u64, message: &str) {
    if let Some(in_flight) = instance.take_in_flight(None, generation) {
        let _ = in_flight
            .reply
            .send(Err(InvokeError::new("Runtime.ExitError", message)));
    }
}

fn spawn_process(
    function: &Function,
    instance: &Instance,
    runtime_api_port: u16,
) -> std::io::Result<tokio::process::Child> {
    let mut child = tokio::process::Command::new(&function.executable)
        .env_clear()
        .envs(function.environment.iter().map(|(k, v)| (k, v)))
        .env(
            "AWS_LAMBDA_RUNTIME_API",
            format!("127.0.0.1:{runtime_api_port}"),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    tracing::debug!("{} started (pid {:?})", instance.label, child.id());
    if let Some(out) = child.stdout.take() {
        tokio::spawn(copy_lines(out, function.log.clone()));
    }
    if let Some(err) = child.stderr.take() {
        tokio::spawn(copy_lines(err, function.log.clone()));
    }
    Ok(child)
}

async fn copy_lines(stream: impl AsyncRead + Unpin, log: Arc<FunctionLog>) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        log.line(&line);
    }
}

/// `<state-dir>/logs/<LogicalId>.log`, echoed to stdout with a short prefix when verbose.
pub struct FunctionLog {
    file: Mutex<Option<std::fs::File>>,
    /// Bytes written (lines and their newlines): what CloudWatch Logs would ingest.
    pub bytes: AtomicU64,
    prefix: String,
    verbose: bool,
}

impl FunctionLog {
    fn open(path: &Path, prefix: String, verbose: bool) -> FunctionLog {
        // One log per run: the previous run's is replaced.
        let file = std::fs::File::create(path)
            .map_err(|e| tracing::warn!("cannot open {}: {e}", path.display()))
            .ok();
        FunctionLog {
            file: Mutex::new(file),
            bytes: AtomicU64::new(0),
            prefix,
            verbose,
        }
    }

    pub fn line(&self, text: &str) {
        self.bytes
            .fetch_add(text.len() as u64 + 1, Ordering::Relaxed);
        if let Ok(mut file) = self.file.lock() {
            if let Some(file) = file.as_mut() {
                let _ = writeln!(file, "{text}");
            }
        }
        if self.verbose {
            println!("[{}] {text}", self.prefix);
        }
    }
}

/// `AuthSignInFunction` → `AuthSignIn`: enough to tell the lines apart.
fn short_name(logical_id: &str) -> String {
    logical_id
        .strip_suffix("Function")
        .filter(|s| !s.is_empty())
        .unwrap_or(logical_id)
        .to_string()
}
