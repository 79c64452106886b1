//! ates-ops: the operator's commands (SPEC "Operations"), against AWS or the local stack.
//! The commands are the `ates_ops` library; this is its command line.

use ates_ops::{run, Options, USAGE};
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(e) if e.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("ates-ops: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&options).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ates-ops: {e}");
            ExitCode::FAILURE
        }
    }
}
