//! The command line: options, their workspace-relative defaults, and the usage text.

use std::path::{Path, PathBuf};
use std::time::Duration;

pub const USAGE: &str = "\
usage: ates-local [options]
  --port N            HTTP API port (default 3000, or $ATES_PORT; 0 = any free port)
  --aws-port N        port for the emulator it starts (default 0 = any free port)
  --aws-endpoint URL  use an already-running emulator instead (its state is reset)
  --moto PATH         the emulator to start (default $ATES_MOTO_SERVER, else infra/moto-server)
  --template PATH     root SAM template, its nested stacks read too (default template.yaml)
  --config PATH       what the stack knows beyond the template (default infra/local/local.json)
  --bin-dir PATH      where the function binaries are (default target/debug; target/lambda works too)
  --state-dir PATH    logs and stack.json (default .local)
  --web-dir PATH      the web app's files, served at / where no API route matches (default web)
  --env-dir PATH      write each function's environment to PATH/<binary>.env, for
                      `cargo lambda watch --env-file` (make dev: target/local-env)
  --concurrency N     most processes per function, started on demand (default 1; a
                      function's ReservedConcurrentExecutions overrides it)
  --retry-delay-ms N  delay before a failed message or batch is retried (default 1000)
  --exit-with-stdin   stop when stdin reaches end-of-file
  --verbose           echo function output to stdout
Relative defaults are relative to the workspace root.
env: ATES_LOCAL_LOG (log filter), and the bootstrap's overrides the config names
(the project's: ATES_BOOTSTRAP_ADMIN_EMAIL, ATES_BOOTSTRAP_ADMIN_PASSWORD)";

#[derive(Debug, Clone)]
pub struct Options {
    pub port: u16,
    pub aws_port: u16,
    pub aws_endpoint: Option<String>,
    pub moto: PathBuf,
    pub template: PathBuf,
    pub config: PathBuf,
    pub bin_dir: PathBuf,
    pub state_dir: PathBuf,
    pub web_dir: PathBuf,
    pub env_dir: Option<PathBuf>,
    pub concurrency: usize,
    pub retry_delay: Duration,
    pub exit_with_stdin: bool,
    pub verbose: bool,
}

impl Options {
    /// Reads the command line; `Err("")` asks for the usage text.
    pub fn parse(args: impl IntoIterator<Item = String>, root: &Path) -> Result<Options, String> {
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
            config: root.join("infra/local/local.json"),
            bin_dir: target_dir.join("debug"),
            state_dir: root.join(".local"),
            web_dir: root.join("web"),
            env_dir: None,
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
                "--config" => options.config = PathBuf::from(value()?),
                "--bin-dir" => options.bin_dir = PathBuf::from(value()?),
                "--state-dir" => options.state_dir = PathBuf::from(value()?),
                "--web-dir" => options.web_dir = PathBuf::from(value()?),
                "--env-dir" => options.env_dir = Some(PathBuf::from(value()?)),
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
pub fn workspace_root() -> PathBuf {
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
        assert_eq!(o.config, PathBuf::from("/ws/infra/local/local.json"));
        assert_eq!(o.state_dir, PathBuf::from("/ws/.local"));
        assert_eq!(o.web_dir, PathBuf::from("/ws/web"));
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
