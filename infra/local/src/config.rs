//! What the stack knows of the project beyond the template, from a checked-in file
//! (`infra/local/local.json` by default): the function that bootstraps the first user once the
//! stack is up, and the secrets that hold the issuer's signing key and its public half (written
//! fresh on every start).

use crate::template::Template;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Free text for the file's readers.
    #[serde(default)]
    pub about: Option<String>,
    #[serde(default)]
    pub bootstrap: Option<Bootstrap>,
    /// Logical ids of `AWS::SecretsManager::Secret`s given a fresh RS256 signing key (one key
    /// per start, as the ring `{"keys": [...]}` of `infra/signing-key.py`).
    #[serde(default)]
    pub signing_key_secrets: Vec<String>,
    /// Logical ids of the secrets given that key's public half, as a JWKS.
    #[serde(default)]
    pub public_key_secrets: Vec<String>,
    /// Template parameters set differently on this machine than in a deployment (their
    /// defaults), such as allowing the bootstrap admin a password.
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
}

/// A function invoked once the stack is ready, with `input` (string fields overridable from the
/// environment through `env`), and what to tell the user when it succeeded.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bootstrap {
    /// Logical id of a function of the template.
    pub function: String,
    #[serde(default)]
    pub input: Map<String, Value>,
    /// Input field → environment variable that replaces it when set.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Printed after the ready line; `{api_url}` and `{field}` (the input's strings) are filled in.
    #[serde(default)]
    pub hint: Option<String>,
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Config::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Config, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }

    /// Every id it names must be of the right kind in the template.
    pub fn check(&self, template: &Template) -> Result<(), String> {
        let is = |id: &str, kind: &str| template.resources.get(id).is_some_and(|r| r.kind == kind);
        if let Some(b) = &self.bootstrap {
            if !is(&b.function, "AWS::Serverless::Function") {
                return Err(format!(
                    "the bootstrap function {} is not a function of the template",
                    b.function
                ));
            }
        }
        for id in self
            .signing_key_secrets
            .iter()
            .chain(&self.public_key_secrets)
        {
            if !is(id, "AWS::SecretsManager::Secret") {
                return Err(format!(
                    "the signing key secret {id} is not a secret of the template"
                ));
            }
        }
        Ok(())
    }
}

impl Bootstrap {
    /// The input, each `env` field replaced by its variable where that is set.
    pub fn input(&self) -> Map<String, Value> {
        self.input_with(|name| std::env::var(name).ok())
    }

    fn input_with(&self, var: impl Fn(&str) -> Option<String>) -> Map<String, Value> {
        let mut input = self.input.clone();
        for (field, name) in &self.env {
            if let Some(value) = var(name) {
                input.insert(field.clone(), Value::String(value));
            }
        }
        input
    }

    /// The hint with `{api_url}` and the input's string fields filled in.
    pub fn hint(&self, api_url: &str, input: &Map<String, Value>) -> Option<String> {
        let mut hint = self.hint.clone()?.replace("{api_url}", api_url);
        for (field, value) in input {
            if let Some(text) = value.as_str() {
                hint = hint.replace(&format!("{{{field}}}"), text);
            }
        }
        Some(hint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::project_template;
    use serde_json::json;

    fn project_config() -> Config {
        Config::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("local.json")).unwrap()
    }

    #[test]
    fn the_project_config_matches_the_template_and_the_readme() {
        let config = project_config();
        config.check(&project_template()).unwrap();
        assert_eq!(config.signing_key_secrets, ["AuthSigningKey"]);
        assert_eq!(config.public_key_secrets, ["AuthPublicKeys"]);
        let bootstrap = config.bootstrap.unwrap();
        assert_eq!(bootstrap.function, "AuthBootstrapAdminFunction");
        // README: the local admin, and the variables that override it.
        let readme =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
                .unwrap();
        for field in ["email", "password"] {
            let default = bootstrap.input[field].as_str().unwrap();
            assert!(readme.contains(default), "README names {default}");
            assert!(
                readme.contains(&bootstrap.env[field]),
                "README names its variable"
            );
        }
    }

    #[test]
    fn env_overrides_and_the_hint() {
        let bootstrap = project_config().bootstrap.unwrap();
        let input = bootstrap.input_with(|name| {
            (name == "ATES_BOOTSTRAP_ADMIN_EMAIL").then(|| "boss@popug.test".to_string())
        });
        assert_eq!(
            Value::Object(input.clone()),
            json!({"email": "boss@popug.test", "full_name": "Local Admin", "password": "popug-local-admin-pass"})
        );
        assert_eq!(
            bootstrap.hint("http://127.0.0.1:3000", &input).unwrap(),
            "open http://127.0.0.1:3000/ in a browser and sign in as boss@popug.test / popug-local-admin-pass"
        );
    }

    #[test]
    fn unknown_ids_and_fields_are_errors() {
        let t = project_template();
        let wrong = Config::parse(r#"{"signing_key_secrets": ["AuthTable"]}"#).unwrap();
        assert!(wrong.check(&t).is_err());
        let wrong = Config::parse(r#"{"public_key_secrets": ["AuthTable"]}"#).unwrap();
        assert!(wrong.check(&t).is_err());
        let missing = Config::parse(r#"{"bootstrap": {"function": "Nope"}}"#).unwrap();
        assert!(missing.check(&t).is_err());
        assert!(Config::parse(r#"{"signing_key_secret": []}"#).is_err());
        Config::default().check(&t).unwrap();
    }
}
