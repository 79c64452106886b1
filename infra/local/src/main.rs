//! ates-local: runs the whole of template.yaml (and its nested stacks) on this machine, against
//! the moto AWS emulator.
//! The stack is the `ates_local` library; this is its command line.

use ates_local::{run, workspace_root, Options, USAGE};
use std::process::ExitCode;

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
