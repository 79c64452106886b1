//! ates-local: runs the whole of template.yaml on this machine, against the moto AWS emulator.

mod admin;
mod authorizer;
mod aws;
mod aws_calls;
mod functions;
mod gateway;
mod lambda;
mod ledger;
mod moto;
mod pattern;
mod pollers;
mod provision;
mod resolve;
mod runtime_api;
mod scheduler;
mod signing_key;
mod stack;
mod template;

use crate::lambda::{Lambda, LambdaSettings};
use crate::moto::Emulator;
use crate::resolve::Resolver;
use crate::stack::Stack;
use crate::template::Template;
use axum::Router;
use serde_json::json;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

const USAGE: &str = "\
usage: ates-local [options]
  --port N            HTTP API port (default 3000, or $ATES_PORT; 0 = any free port)
  --aws-port N        port for the emulator it starts (default 0 = any free port)
  --aws-endpoint URL  use an already-running emulator instead (its state is reset)
  --moto PATH         the emulator to start (default $ATES_MOTO_SERVER, else infra/moto-server)
  --template PATH     SAM template (default template.yaml)
  --bin-dir PATH      where the function binaries are (default target/debug; target/lambda works too)
  --state-dir PATH    logs and stack.json (default .local)
  --concurrency N     processes per function (default 1)
  --retry-delay-ms N  delay before a failed message or batch is retried (default 1000)
  --exit-with-stdin   stop when stdin reaches end-of-file
  --verbose           echo function output to stdout
Relative defaults are relative to the workspace root.
env: ATES_BOOTSTRAP_ADMIN_EMAIL, ATES_BOOTSTRAP_ADMIN_PASSWORD, ATES_LOCAL_LOG (log filter)";

#[derive(Debug, Clone)]
struct Options {
    port: u16,
    aws_port: u16,
    aws_endpoint: Option<String>,
    moto: PathBuf,
    template: PathBuf,
    bin_dir: PathBuf,
    state_dir: PathBuf,
    concurrency: usize,
    retry_delay: Duration,
    exit_with_stdin: bool,
    verbose: bool,
}

impl Options {
    fn parse(args: impl IntoIterator<Item = String>, root: &Path) -> Result<Options, String> {
        let env_port = std::env::var("ATES_PORT").ok();
        let target_dir = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .map(|d| if d.is_absolute() { d } else { root.join(d) })
            .unwrap_or_else(|| root.join("target"));
        let mut options = Options {
            port: match env_port {
                Some(p) => p
                    .parse()
                    .map_err(|_| format!("ATES_PORT={p} is not a port"))?,
                None => 3000,
            },
            aws_port: 0,
            aws_endpoint: None,
            moto: std::env::var_os("ATES_MOTO_SERVER")
                .map(PathBuf::from)
                .unwrap_or_else(|| root.join("infra/moto-server")),
            template: root.join("template.yaml"),
            bin_dir: target_dir.join("debug"),
            state_dir: root.join(".local"),
            concurrency: 1,
            retry_delay: Duration::from_millis(1000),
            exit_with_stdin: false,
            verbose: false,
        };
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) => (f.to_string(), Some(v.to_string())),
                None => (arg.clone(), None),
            };
            let mut value = || {
                inline
                    .clone()
                    .or_else(|| args.next())
                    .ok_or_else(|| format!("{flag} needs a value"))
            };
            let number = |v: String| {
                v.parse::<u64>()
                    .map_err(|_| format!("{flag}: {v} is not a number"))
            };
            match flag.as_str() {
                "--port" => options.port = port(&value()?)?,
                "--aws-port" => options.aws_port = port(&value()?)?,
                "--aws-endpoint" => options.aws_endpoint = Some(value()?),
                "--moto" => options.moto = PathBuf::from(value()?),
                "--template" => options.template = PathBuf::from(value()?),
                "--bin-dir" => options.bin_dir = PathBuf::from(value()?),
                "--state-dir" => options.state_dir = PathBuf::from(value()?),
                "--concurrency" => options.concurrency = number(value()?)?.max(1) as usize,
                "--retry-delay-ms" => {
                    options.retry_delay = Duration::from_millis(number(value()?)?)
                }
                "--exit-with-stdin" => options.exit_with_stdin = true,
                "--verbose" | "-v" => options.verbose = true,
                "--help" | "-h" => return Err(String::new()),
                other => return Err(format!("unknown option {other}")),
            }
        }
        Ok(options)
    }
}

fn port(text: &str) -> Result<u16, String> {
    text.parse().map_err(|_| format!("{text} is not a port"))
}

/// The Cargo workspace around the current directory (or around this executable), else the current directory.
fn workspace_root() -> PathBuf {
    let is_root = |dir: &Path| {
        std::fs::read_to_string(dir.join("Cargo.toml")).is_ok_and(|t| t.contains("[workspace]"))
    };
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf));
    for start in std::iter::once(cwd.clone()).chain(exe_dir) {
        if let Some(root) = start.ancestors().find(|d| is_root(d)) {
            return root.to_path_buf();
        }
    }
    cwd
}

#[tokio::main]
async fn main() -> ExitCode {
    let root = workspace_root();
    let options = match Options::parse(std::env::args().skip(1), &root) {
        Ok(o) => o,
        Err(e) if e.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("ates-local: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("ATES_LOCAL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("ates_local=info,warn"));
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();

    match run(options).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(options: Options) -> Result<(), String> {
    let template = Template::load(&options.template)?;
    let logs = options.state_dir.join("logs");
    std::fs::create_dir_all(&logs).map_err(|e| format!("{}: {e}", logs.display()))?;

    // Bound first: the API's own URL is the issuer every function and token must agree on.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", options.port))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", options.port))?;
    let api_port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let api_url = format!("http://127.0.0.1:{api_port}");

    let mut emulator = match &options.aws_endpoint {
        Some(url) => Emulator::existing(url).await?,
        None => {
            let port = match options.aws_port {
                0 => free_port()?,
                p => p,
            };
            Emulator::start(&options.moto, port, &logs.join("moto.log")).await?
        }
    };
    let result = run_stack(&options, &template, listener, &api_url, &emulator.endpoint).await;
    emulator.stop().await;
    let _ = std::fs::remove_file(options.state_dir.join("stack.json"));
    result
}

async fn run_stack(
    options: &Options,
    template: &Template,
    listener: tokio::net::TcpListener,
    api_url: &str,
    aws_endpoint: &str,
) -> Result<(), String> {
    let mut resolver = Resolver::new(template, &[("IssuerUrl", api_url)], aws_endpoint);
    let aws = aws::Aws::connect(aws_endpoint).await;
    let resources = provision::provision(template, &mut resolver, &aws).await?;
    let specs = functions::function_specs(template, &resolver)?;
    let authorizers = stack::authorizers(template, &resolver)?;
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    // Functions reach the emulator through proxies that count their calls; the stack goes direct.
    let aws_calls = Arc::new(aws_calls::AwsCalls::new(
        specs.iter().map(|s| s.logical_id.as_str()),
    ));
    let (function_endpoints, proxies) =
        aws_calls::start_proxies(&aws_calls, aws_endpoint, &shutdown_rx).await?;
    let lambda = Lambda::new(
        specs,
        &LambdaSettings {
            bin_dir: options.bin_dir.clone(),
            log_dir: options.state_dir.join("logs"),
            aws_endpoint: aws_endpoint.to_string(),
            function_endpoints,
            concurrency: options.concurrency,
            verbose: options.verbose,
        },
    );
    let routes = gateway::RouteTable::new(lambda.specs());
    let stack = Arc::new(Stack {
        api_url: api_url.to_string(),
        aws_endpoint: aws_endpoint.to_string(),
        aws,
        lambda,
        routes,
        authorizers,
        resources,
        events: Mutex::new(Vec::new()),
        ledger: ledger::Ledger::default(),
        aws_calls,
        retry_delay: options.retry_delay,
        concurrency: options.concurrency,
        shutdown: shutdown_rx.clone(),
    });

    let mut tasks = pollers::start(&stack);
    tasks.extend(proxies);
    tasks.extend(scheduler::start(&stack));

    let app = Router::new()
        .nest("/_local", admin::router())
        .fallback(gateway::handle)
        .with_state(stack.clone());
    let mut server_shutdown = shutdown_rx.clone();
    let server = tokio::spawn(async move {
        let serving = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = server_shutdown.wait_for(|stop| *stop).await;
        });
        if let Err(e) = serving.await {
            tracing::error!("HTTP API stopped: {e}");
        }
    });

    let admin = bootstrap_admin(&stack).await;
    let state =
        json!({"api_url": api_url, "aws_endpoint": aws_endpoint, "pid": std::process::id()});
    let state_file = options.state_dir.join("stack.json");
    std::fs::write(&state_file, format!("{state:#}\n"))
        .map_err(|e| format!("{}: {e}", state_file.display()))?;
    let hint = match admin {
        Some((email, password)) => format!(
            " - sign in: POST {api_url}/auth/sign-in {{\"email\":\"{email}\",\"password\":\"{password}\"}}"
        ),
        None => " - no admin was bootstrapped (auth-bootstrap-admin is not built or failed; see the log)".into(),
    };
    println!("aTES local stack ready at {api_url}{hint}");

    wait_for_stop(options.exit_with_stdin).await;
    tracing::info!("stopping");
    let _ = shutdown_tx.send(true);
    stack.lambda.shutdown().await;
    for task in tasks {
        task.abort();
    }
    let _ = tokio::time::timeout(Duration::from_secs(3), server).await;
    Ok(())
}

/// Creates the first admin through the template's bootstrap function, if it is built.
async fn bootstrap_admin(stack: &Stack) -> Option<(String, String)> {
    let spec = stack
        .lambda
        .specs()
        .find(|s| s.binary == "auth-bootstrap-admin")?;
    let name = spec.logical_id.clone();
    let email =
        std::env::var("ATES_BOOTSTRAP_ADMIN_EMAIL").unwrap_or_else(|_| "admin@ates.local".into());
    let password = std::env::var("ATES_BOOTSTRAP_ADMIN_PASSWORD")
        .unwrap_or_else(|_| "popug-local-admin-pass".into());
    let payload = json!({"email": email, "full_name": "Local Admin", "password": password});
    match stack.lambda.invoke(&name, &payload).await {
        Ok(answer) => {
            tracing::info!("bootstrapped the admin {email}: {answer}");
            Some((email, password))
        }
        Err(e) => {
            tracing::warn!("could not bootstrap the admin: {e}");
            None
        }
    }
}

/// Ctrl-C, SIGTERM, or (with --exit-with-stdin) the end of stdin.
async fn wait_for_stop(exit_with_stdin: bool) {
    let (stdin_closed_tx, stdin_closed) = tokio::sync::oneshot::channel::<()>();
    if exit_with_stdin {
        // A plain thread: a blocking stdin read cannot be cancelled and must not hold up the runtime.
        std::thread::spawn(move || {
            let mut sink = [0u8; 1024];
            let mut stdin = std::io::stdin();
            while std::io::Read::read(&mut stdin, &mut sink).is_ok_and(|n| n > 0) {}
            let _ = stdin_closed_tx.send(());
        });
    }
    let stdin_eof = async {
        if exit_with_stdin {
            let _ = stdin_closed.await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
        _ = stdin_eof => {}
    }
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, String> {
        Options::parse(args.iter().map(|s| s.to_string()), Path::new("/ws"))
    }

    #[test]
    fn options_have_workspace_defaults() {
        let o = parse(&[]).unwrap();
        if std::env::var_os("ATES_MOTO_SERVER").is_none() {
            assert_eq!(o.moto, PathBuf::from("/ws/infra/moto-server"));
        }
        assert_eq!(o.template, PathBuf::from("/ws/template.yaml"));
        assert_eq!(o.state_dir, PathBuf::from("/ws/.local"));
        assert_eq!(o.concurrency, 1);
        assert!(!o.exit_with_stdin);
    }

    #[test]
    fn options_parse() {
        let o = parse(&[
            "--port",
            "0",
            "--aws-port=5000",
            "--exit-with-stdin",
            "--concurrency",
            "2",
            "--retry-delay-ms",
            "10",
        ])
        .unwrap();
        assert_eq!((o.port, o.aws_port, o.concurrency), (0, 5000, 2));
        assert!(o.exit_with_stdin);
        assert_eq!(o.retry_delay, Duration::from_millis(10));
        assert!(parse(&["--port"]).is_err());
        assert!(parse(&["--nope"]).is_err());
        assert_eq!(parse(&["--help"]).unwrap_err(), "");
    }
}
