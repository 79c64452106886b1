//! The SDK clients, and the stack's resources found by their logical ids.

use crate::options::Options;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_sqs::config::Credentials;
use serde_json::Value;
use tokio::sync::OnceCell;

/// The region an emulator answers in when nothing else says (the local stack's).
const LOCAL_REGION: &str = "us-east-1";

pub struct Aws {
    pub config: aws_config::SdkConfig,
    pub sqs: aws_sdk_sqs::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub lambda: aws_sdk_lambda::Client,
    cloudformation: aws_sdk_cloudformation::Client,
    pub stack: String,
    pub dry_run: bool,
    resources: OnceCell<Vec<StackResource>>,
}

/// One resource of the stack or of a stack nested in it.
#[derive(Debug, Clone)]
pub struct StackResource {
    pub logical_id: String,
    pub kind: String,
    pub physical_id: String,
}

/// Any failure, as the message the operator reads.
pub type Result<T> = std::result::Result<T, String>;

/// An SDK error with its whole cause chain.
pub fn describe(what: &str, error: impl std::error::Error) -> String {
    format!("{what}: {}", aws_sdk_sqs::error::DisplayErrorContext(error))
}

impl Aws {
    pub async fn connect(options: &Options) -> Aws {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(ates_kernel::aws::http_client());
        let endpoint = options
            .endpoint_url
            .clone()
            .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok());
        if let Some(url) = &options.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let region = options.region.clone().or_else(|| {
            let from_env = ["AWS_REGION", "AWS_DEFAULT_REGION"]
                .iter()
                .any(|v| std::env::var_os(v).is_some());
            (endpoint.is_some() && !from_env).then(|| LOCAL_REGION.to_string())
        });
        if let Some(region) = region {
            loader = loader.region(Region::new(region));
        }
        // The emulator takes any credentials; an operator pointing at it may have none.
        let has_credentials = ["AWS_ACCESS_KEY_ID", "AWS_PROFILE"]
            .iter()
            .any(|v| std::env::var_os(v).is_some());
        if endpoint.is_some() && !has_credentials {
            loader = loader
                .credentials_provider(Credentials::new("test", "test", None, None, "ates-ops"));
        }
        let config = loader.load().await;
        Aws {
            sqs: aws_sdk_sqs::Client::new(&config),
            dynamodb: aws_sdk_dynamodb::Client::new(&config),
            lambda: aws_sdk_lambda::Client::new(&config),
            cloudformation: aws_sdk_cloudformation::Client::new(&config),
            config,
            stack: options.stack.clone(),
            dry_run: options.dry_run,
            resources: OnceCell::new(),
        }
    }

    /// Every resource of the stack and of the stacks nested in it (read once).
    pub async fn resources(&self) -> Result<&[StackResource]> {
        self.resources
            .get_or_try_init(|| self.list_resources())
            .await
            .map(Vec::as_slice)
    }

    async fn list_resources(&self) -> Result<Vec<StackResource>> {
        let mut stacks = vec![self.stack.clone()];
        let mut all = Vec::new();
        while let Some(stack) = stacks.pop() {
            let mut pages = self
                .cloudformation
                .list_stack_resources()
                .stack_name(&stack)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page =
                    page.map_err(|e| describe(&format!("list the resources of {stack}"), e))?;
                for summary in page.stack_resource_summaries() {
                    let resource = StackResource {
                        logical_id: summary.logical_resource_id().unwrap_or_default().into(),
                        kind: summary.resource_type().unwrap_or_default().into(),
                        physical_id: summary.physical_resource_id().unwrap_or_default().into(),
                    };
                    if resource.kind == "AWS::CloudFormation::Stack"
                        && !resource.physical_id.is_empty()
                    {
                        stacks.push(resource.physical_id.clone());
                    }
                    all.push(resource);
                }
            }
        }
        Ok(all)
    }

    /// The physical id of the stack's resource `logical_id`.
    pub async fn physical_id(&self, logical_id: &str) -> Result<String> {
        self.resources()
            .await?
            .iter()
            .find(|r| r.logical_id == logical_id)
            .map(|r| r.physical_id.clone())
            .ok_or_else(|| format!("the stack {} has no resource {logical_id}", self.stack))
    }

    /// The physical ids of the stack's resources of one type, by logical id.
    pub async fn of_kind(&self, kind: &str) -> Result<Vec<(String, String)>> {
        Ok(self
            .resources()
            .await?
            .iter()
            .filter(|r| r.kind == kind)
            .map(|r| (r.logical_id.clone(), r.physical_id.clone()))
            .collect())
    }

    /// Invokes a function synchronously; its answer, or its error as the function reported it.
    pub async fn invoke(&self, function: &str, payload: &Value) -> Result<Value> {
        let out = self
            .lambda
            .invoke()
            .function_name(function)
            .payload(aws_sdk_lambda::primitives::Blob::new(payload.to_string()))
            .send()
            .await
            .map_err(|e| describe(&format!("invoke {function}"), e))?;
        let body = out
            .payload()
            .map(|p| String::from_utf8_lossy(p.as_ref()).into_owned())
            .unwrap_or_default();
        if let Some(error) = out.function_error() {
            return Err(format!("{function} failed ({error}): {body}"));
        }
        if body.is_empty() {
            return Ok(Value::Null);
        }
        Ok(serde_json::from_str(&body).unwrap_or(Value::String(body)))
    }
}
