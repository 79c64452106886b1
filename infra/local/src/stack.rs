//! The running stack: what every handler and poller shares.

use crate::authorizer::{Authorized, Denial, JwtAuthorizer, JwtConfig};
use crate::aws::Aws;
use crate::aws_api::StackResource;
use crate::aws_calls::AwsCalls;
use crate::gateway::{self, RouteTable};
use crate::lambda::Lambda;
use crate::ledger::Ledger;
use crate::provision::Resources;
use crate::resolve::Resolver;
use crate::site::Site;
use crate::template::Template;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

pub struct Stack {
    pub api_url: String,
    pub aws_endpoint: String,
    pub aws: Aws,
    pub lambda: Lambda,
    pub routes: RouteTable,
    /// The web app's files, served where no route matches (`--web-dir`).
    pub site: Option<Site>,
    /// By (API logical id, authorizer logical id or, on a SAM HttpApi, name).
    pub authorizers: BTreeMap<(String, String), JwtAuthorizer>,
    pub resources: Resources,
    /// What CloudFormation's `ListStackResources` answers for the template (`aws_api`).
    pub stack_resources: Vec<StackResource>,
    /// Every event the tap saw on the buses, in arrival order.
    pub events: Mutex<Vec<Value>>,
    pub ledger: Ledger,
    /// The AWS calls each function made (through its proxy), by operation.
    pub aws_calls: Arc<AwsCalls>,
    /// How soon a failed message or batch is retried (Lambda's backoff, shortened for local runs).
    pub retry_delay: Duration,
    /// Processes per function (`--concurrency`).
    pub concurrency: usize,
    pub shutdown: watch::Receiver<bool>,
}

impl Stack {
    pub fn is_shutting_down(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// Sleeps, but wakes early when the stack stops; answers false then.
    pub async fn pause(&self, duration: Duration) -> bool {
        let mut shutdown = self.shutdown.clone();
        tokio::select! {
            _ = tokio::time::sleep(duration) => !self.is_shutting_down(),
            _ = shutdown.changed() => false,
        }
    }

    pub async fn authorize(
        &self,
        api: Option<&str>,
        name: &str,
        authorization: Option<&str>,
        scopes: &[String],
    ) -> Result<Authorized, Denial> {
        // Routes on SAM's implicit API name their authorizer only; look it up on any API.
        let authorizer = match api {
            Some(api) => self.authorizers.get(&(api.to_string(), name.to_string())),
            None => self
                .authorizers
                .iter()
                .find(|((_, n), _)| n == name)
                .map(|(_, a)| a),
        };
        let Some(authorizer) = authorizer else {
            return Err(Denial::Unauthorized(format!("no authorizer {name}")));
        };
        let issuer = authorizer.config.issuer.clone();
        authorizer
            .authorize(authorization, scopes, || self.fetch_jwks(issuer))
            .await
    }

    /// The issuer is normally this API, so its JWKS comes from our own route to the function.
    async fn fetch_jwks(&self, issuer: String) -> Result<Value, String> {
        let path = "/.well-known/jwks.json";
        let issuer = issuer.trim_end_matches('/');
        if issuer != self.api_url {
            let url = format!("{issuer}{path}");
            return tokio::task::spawn_blocking(move || {
                ureq::get(&url)
                    .timeout(Duration::from_secs(5))
                    .call()
                    .map_err(|e| e.to_string())?
                    .into_json::<Value>()
                    .map_err(|e| e.to_string())
            })
            .await
            .map_err(|e| e.to_string())?;
        }
        let matched = self
            .routes
            .find("GET", path)
            .ok_or("no function serves GET /.well-known/jwks.json")?;
        let event = gateway::internal_get_event(path, &matched);
        let answer = self
            .lambda
            .invoke(&matched.route.function, &event)
            .await
            .map_err(|e| e.to_string())?;
        let body = gateway::response_body(&answer)?;
        serde_json::from_slice(&body).map_err(|e| format!("JWKS is not JSON: {e}"))
    }
}

/// Every JWT authorizer: each `AWS::ApiGatewayV2::Authorizer` (keyed by its API's and its own
/// logical id, as routes name them), and each SAM HttpApi's `Auth.Authorizers` (by name).
pub fn authorizers(
    template: &Template,
    resolver: &Resolver,
) -> Result<BTreeMap<(String, String), JwtAuthorizer>, String> {
    let mut all = BTreeMap::new();
    for authorizer in template.of_kind("AWS::ApiGatewayV2::Authorizer") {
        let id = &authorizer.logical_id;
        let props = resolver.resolve(&Value::Object(authorizer.properties.clone()))?;
        if props.get("AuthorizerType").and_then(Value::as_str) != Some("JWT") {
            tracing::warn!("authorizer {id} is not a JWT authorizer; its routes will answer 401");
            continue;
        }
        let api =
            crate::template::references(authorizer.properties.get("ApiId").unwrap_or(&Value::Null))
                .into_iter()
                .next()
                .ok_or_else(|| format!("authorizer {id} names no ApiId"))?;
        let jwt = props.get("JwtConfiguration").unwrap_or(&Value::Null);
        let config = jwt_config(jwt, ("Issuer", "Audience"), id)?;
        all.insert((api, id.clone()), JwtAuthorizer::new(config));
    }
    for api in template.of_kind("AWS::Serverless::HttpApi") {
        let Some(auth) = api.properties.get("Auth") else {
            continue;
        };
        let auth = resolver.resolve(auth)?;
        for (name, spec) in auth
            .get("Authorizers")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let Some(jwt) = spec.get("JwtConfiguration") else {
                tracing::warn!(
                    "authorizer {name} is not a JWT authorizer; its routes will answer 401"
                );
                continue;
            };
            let config = jwt_config(jwt, ("issuer", "audience"), name)?;
            all.insert(
                (api.logical_id.clone(), name.clone()),
                JwtAuthorizer::new(config),
            );
        }
    }
    Ok(all)
}

/// A JWT authorizer's issuer and audiences, under the names its template spells them with
/// (`Issuer`/`Audience` in CloudFormation's `AWS::ApiGatewayV2::Authorizer`, lower case in SAM's).
fn jwt_config(
    jwt: &Value,
    (issuer, audience): (&str, &str),
    name: &str,
) -> Result<JwtConfig, String> {
    let issuer = jwt
        .get(issuer)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("authorizer {name} has no {issuer}"))?
        .trim_end_matches('/')
        .to_string();
    let audiences = match jwt.get(audience) {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    };
    Ok(JwtConfig { issuer, audiences })
}
