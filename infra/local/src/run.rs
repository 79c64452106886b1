//! Starts the whole stack: emulator, provisioning, functions, pollers, schedules and the HTTP API.

use crate::config::Config;
use crate::lambda::{Lambda, LambdaSettings};
use crate::moto::Emulator;
use crate::options::Options;
use crate::resolve::Resolver;
use crate::site::Site;
use crate::stack::Stack;
use crate::template::Template;
use crate::{
    admin, aws, aws_api, aws_calls, functions, gateway, iam, ledger, pollers, provision, replay,
    scheduler, stack,
};
use axum::Router;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

/// Runs the stack until Ctrl-C, SIGTERM or (with `--exit-with-stdin`) the end of stdin.
pub async fn run(options: Options) -> Result<(), String> {
    let template = Template::load(&options.template)?;
    let config = Config::load(&options.config)?;
    config
        .check(&template)
        .map_err(|e| format!("{}: {e}", options.config.display()))?;
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
    let result = run_stack(
        &options,
        &template,
        &config,
        listener,
        &api_url,
        &emulator.endpoint,
    )
    .await;
    emulator.stop().await;
    let _ = std::fs::remove_file(options.state_dir.join("stack.json"));
    result
}

async fn run_stack(
    options: &Options,
    template: &Template,
    config: &Config,
    listener: tokio::net::TcpListener,
    api_url: &str,
    aws_endpoint: &str,
) -> Result<(), String> {
    let mut overrides = vec![("IssuerUrl", api_url)];
    overrides.extend(
        config
            .parameters
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str())),
    );
    let mut resolver = Resolver::new(template, &overrides, aws_endpoint);
    // A resource whose condition is false here (the alarm mail's subscription, say) is not made.
    let template = &template.only_where(|condition| resolver.condition(condition))?;
    let aws = aws::Aws::connect(aws_endpoint).await;
    let resources = provision::provision(template, config, &mut resolver, &aws).await?;
    let specs = functions::function_specs(template, &resolver)?;
    let authorizers = stack::authorizers(template, &resolver)?;
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    // Functions reach the emulator through proxies that count their calls; the stack goes direct.
    let aws_calls = Arc::new(aws_calls::AwsCalls::new(
        specs.iter().map(|s| s.logical_id.as_str()),
    ));
    let replays = Arc::new(replay::Replays::default());
    let mut policies = BTreeMap::new();
    for spec in &specs {
        let policy = iam::Policy::of(&spec.policies)
            .map_err(|e| format!("{}'s policies: {e}", spec.logical_id))?;
        if policy.is_none() {
            tracing::warn!(
                "{}: a policy template or managed policy; its AWS calls are not checked",
                spec.logical_id
            );
        }
        policies.insert(spec.logical_id.clone(), policy);
    }
    let (function_endpoints, proxies) = aws_calls::start_proxies(
        &aws_calls,
        &replays,
        &policies,
        provision::hash_keys(template, &resolver),
        aws_endpoint,
        &shutdown_rx,
    )
    .await?;
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
        site: Site::at(&options.web_dir),
        authorizers,
        resources,
        stack_resources: aws_api::stack_resources(template, &resolver),
        events: Mutex::new(Vec::new()),
        ledger: ledger::Ledger::default(),
        aws_calls,
        retry_delay: options.retry_delay,
        concurrency: options.concurrency,
        shutdown: shutdown_rx.clone(),
    });

    if let Some(dir) = &options.env_dir {
        let written = crate::local_env::write(dir, &stack.lambda)?;
        tracing::info!(
            "{} functions' environments in {} (cargo lambda watch --env-file)",
            written.len(),
            dir.display()
        );
    }
    replays.attach(&stack);
    let mut tasks = pollers::start(&stack);
    tasks.extend(proxies);
    tasks.extend(scheduler::start(&stack));

    let app = Router::new()
        .merge(aws_api::router())
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

    let hint = bootstrap(&stack, config, api_url).await;
    let state =
        json!({"api_url": api_url, "aws_endpoint": aws_endpoint, "pid": std::process::id()});
    let state_file = options.state_dir.join("stack.json");
    std::fs::write(&state_file, format!("{state:#}\n"))
        .map_err(|e| format!("{}: {e}", state_file.display()))?;
    let hint = hint.map(|h| format!(" - {h}")).unwrap_or_default();
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

/// Runs the config's bootstrap function once, if there is one; answers what to tell the user.
async fn bootstrap(stack: &Stack, config: &Config, api_url: &str) -> Option<String> {
    let bootstrap = config.bootstrap.as_ref()?;
    let name = &bootstrap.function;
    let input = bootstrap.input();
    match stack
        .lambda
        .invoke(name, &Value::Object(input.clone()))
        .await
    {
        Ok(answer) => {
            tracing::info!("bootstrapped with {name}: {answer}");
            bootstrap.hint(api_url, &input)
        }
        Err(e) => {
            tracing::warn!("the bootstrap {name} failed: {e}");
            let binary = stack
                .lambda
                .spec(name)
                .map_or(name.as_str(), |s| s.binary.as_str());
            Some(format!(
                "nothing was bootstrapped ({binary} is not built or failed; see the log)"
            ))
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
