//! Each function's environment as files, for running one function outside the stack with
//! `cargo lambda watch --env-file` against the stack's emulator (`--env-dir`; `make dev` writes
//! `target/local-env/<binary>.env`). Generated at every start from what the stack gives the
//! function's processes: the template's variables, resolved (tables, queue URLs, the bus), and
//! the emulator's endpoint (the function's own AWS proxy, so its calls are counted and held to
//! its IAM statements), region and credentials. Not Lambda's own variables: cargo lambda sets
//! those.

use crate::lambda::Lambda;
use std::path::{Path, PathBuf};

/// The variables of the sandbox that go into the files besides the template's.
const AWS_VARIABLES: [&str; 5] = [
    "AWS_ENDPOINT_URL",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
];

/// Writes `<dir>/<binary>.env` for every function (and removes the `.env` files of functions
/// the template no longer has); answers the files written.
pub fn write(dir: &Path, lambda: &Lambda) -> Result<Vec<PathBuf>, String> {
    let fail = |e: std::io::Error| format!("{}: {e}", dir.display());
    std::fs::create_dir_all(dir).map_err(fail)?;
    for entry in std::fs::read_dir(dir).map_err(fail)? {
        let path = entry.map_err(fail)?.path();
        if path.extension().is_some_and(|e| e == "env") {
            std::fs::remove_file(&path).map_err(fail)?;
        }
    }
    let mut written = Vec::new();
    for spec in lambda.specs() {
        let environment = lambda.environment(&spec.logical_id).unwrap_or_default();
        let mut lines: Vec<String> = environment
            .iter()
            .filter(|(k, _)| {
                spec.environment.contains_key(k) || AWS_VARIABLES.contains(&k.as_str())
            })
            .map(|(k, v)| format!("{k}={}\n", quoted(v)))
            .collect();
        lines.sort();
        lines.dedup();
        let path = dir.join(format!("{}.env", spec.binary));
        std::fs::write(&path, lines.concat()).map_err(|e| format!("{}: {e}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// A value as a dotenv file holds it: bare when plain, else quoted.
fn quoted(value: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./:@,+=%$".contains(c);
    if !value.is_empty() && value.chars().all(plain) {
        value.to_string()
    } else if !value.contains('\'') {
        format!("'{value}'")
    } else {
        format!(
            "\"{}\"",
            value
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n")
        )
    }
}

/// Reads a file [`write`] wrote back into (name, value) pairs.
pub fn read(path: &Path) -> Result<Vec<(String, String)>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(text
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| {
            let v = if let Some(inner) = v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
                inner.to_string()
            } else if let Some(inner) = v.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
                inner
                    .replace("\\n", "\n")
                    .replace("\\\"", "\"")
                    .replace("\\\\", "\\")
            } else {
                v.to_string()
            };
            (k.to_string(), v)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lambda::LambdaSettings;

    #[test]
    fn every_functions_file_holds_every_variable_its_template_declares_and_the_emulators() {
        let template = crate::template::project_template();
        let resolver = crate::resolve::Resolver::new(&template, &[], "http://127.0.0.1:4566");
        let specs = crate::functions::function_specs(&template, &resolver).unwrap();
        let dir = std::env::temp_dir().join(format!("ates-local-envs-{}", std::process::id()));
        let lambda = Lambda::new(
            specs,
            &LambdaSettings {
                bin_dir: dir.join("bin"),
                log_dir: dir.join("logs"),
                aws_endpoint: "http://127.0.0.1:4566".into(),
                function_endpoints: [(
                    "ClockEndDayFunction".to_string(),
                    "http://127.0.0.1:4999".to_string(),
                )]
                .into(),
                concurrency: 1,
                verbose: false,
            },
        );
        let stale = dir.join("env").join("gone-function.env");
        std::fs::create_dir_all(dir.join("env")).unwrap();
        std::fs::write(&stale, "X=1\n").unwrap();
        let written = write(&dir.join("env"), &lambda).unwrap();
        assert!(
            !stale.exists(),
            "a function no longer in the template loses its file"
        );

        let functions: Vec<_> = template.of_kind("AWS::Serverless::Function").collect();
        assert_eq!(written.len(), functions.len());
        for function in functions {
            let binary = function.binary().unwrap_or(&function.logical_id);
            let file = dir.join("env").join(format!("{binary}.env"));
            let variables: std::collections::BTreeMap<String, String> =
                read(&file).unwrap().into_iter().collect();
            // As the template states them; resolved, so a variable a condition leaves out
            // (`AWS::NoValue`) is not asked for.
            let declared = function
                .properties
                .get("Environment")
                .and_then(|e| e.get("Variables"))
                .map(|v| resolver.resolve(v).unwrap())
                .and_then(|v| v.as_object().cloned())
                .unwrap_or_default();
            for name in declared.keys() {
                assert!(variables.contains_key(name), "{binary}.env lacks {name}");
            }
            for name in AWS_VARIABLES {
                assert!(variables.contains_key(name), "{binary}.env lacks {name}");
            }
            assert!(
                !variables.contains_key("PATH"),
                "only the function's own variables"
            );
        }
        let clock = read(&dir.join("env").join("clock-end-day.env")).unwrap();
        assert!(
            clock.contains(&("AWS_ENDPOINT_URL".into(), "http://127.0.0.1:4999".into())),
            "a function reaches the emulator through its own proxy: {clock:?}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn values_are_quoted_only_when_they_must_be_and_read_back_as_written() {
        let dir = std::env::temp_dir().join(format!("ates-local-env-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("x.env");
        let values = ["http://127.0.0.1:4566/123/Q", "a b", "it's \"x\"", ""];
        let text: String = values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("K{i}={}\n", quoted(v)))
            .collect();
        assert!(
            text.starts_with("K0=http://127.0.0.1:4566/123/Q\n"),
            "{text}"
        );
        std::fs::write(&file, text).unwrap();
        let read = read(&file).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        let read: Vec<&str> = read.iter().map(|(_, v)| v.as_str()).collect();
        assert_eq!(read, values);
    }
}
