//! Creates the template's tables, queues, bus, rules, secrets, mail identities and buckets in the emulator.

use crate::aws::{describe, Aws};
use crate::config::Config;
use crate::resolve::{Resolver, ACCOUNT_ID, REGION};
use crate::signing_key::SigningKey;
use crate::template::{Resource, Template};
use aws_sdk_dynamodb::types as ddb;
use aws_sdk_eventbridge::types::Target;
use aws_sdk_sqs::types::QueueAttributeName;
use rand::Rng;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The queue every bus event is copied to, so the stack can show what was published.
pub const TAP_QUEUE: &str = "ates-local-tap";
const TAP_RULE: &str = "ates-local-tap";

#[derive(Debug, Clone, Default)]
pub struct Resources {
    pub tables: BTreeMap<String, TableInfo>,
    pub queues: BTreeMap<String, QueueInfo>,
    pub buses: Vec<String>,
    pub secrets: Vec<String>,
    /// Rules whose targets are functions: the emulator cannot invoke them, the tap does.
    pub function_rules: Vec<FunctionRule>,
    /// Rules whose targets are queues, by rule name: where a replay through them delivers.
    pub queue_rules: BTreeMap<String, QueueRule>,
    pub tap_queue_url: String,
}

#[derive(Debug, Clone)]
pub struct TableInfo {
    pub logical_id: String,
    pub name: String,
    pub stream_arn: Option<String>,
}

#[derive(Debug, Clone)]
pub struct QueueInfo {
    pub logical_id: String,
    pub name: String,
    pub url: String,
    pub arn: String,
    pub visibility_timeout_secs: u64,
    pub fifo: bool,
    pub redrive: Option<Redrive>,
}

/// A RedrivePolicy, applied by the stack because the emulator's receive counts are not reliable.
#[derive(Debug, Clone)]
pub struct Redrive {
    pub dead_letter_arn: String,
    pub max_receive_count: u32,
}

/// The tap sees every bus through one queue, so these match events of any bus (one bus in practice).
#[derive(Debug, Clone)]
pub struct FunctionRule {
    pub rule: String,
    pub pattern: Value,
    pub function: String,
}

/// A rule that delivers to queues (the emulator does that; a replay is the stack's).
#[derive(Debug, Clone)]
pub struct QueueRule {
    pub pattern: Value,
    pub queue_arns: Vec<String>,
}

impl Resources {
    pub fn queue_by_arn(&self, arn: &str) -> Option<&QueueInfo> {
        self.queues.values().find(|q| q.arn == arn)
    }

    pub fn table_by_stream_arn(&self, arn: &str) -> Option<&TableInfo> {
        self.tables
            .values()
            .find(|t| t.stream_arn.as_deref() == Some(arn))
    }

    /// The bus `POST /_local/events` publishes to when an entry names none.
    pub fn default_bus(&self) -> String {
        self.buses
            .first()
            .cloned()
            .unwrap_or_else(|| "default".into())
    }
}

/// Provisions everything, updating `resolver` with the identities only the emulator knows.
pub async fn provision(
    template: &Template,
    config: &Config,
    resolver: &mut Resolver,
    aws: &Aws,
) -> Result<Resources, String> {
    let mut resources = Resources::default();

    for bus in template.of_kind("AWS::Events::EventBus") {
        let name = resolver.physical_name(&bus.logical_id, &bus.kind, &bus.properties);
        if name != "default" {
            aws.events
                .create_event_bus()
                .name(&name)
                .send()
                .await
                .map_err(|e| describe(&format!("create event bus {name}"), e))?;
        }
        resources.buses.push(name);
    }

    for table in template.of_kind("AWS::DynamoDB::Table") {
        let info = create_table(table, resolver, aws).await?;
        if let Some(arn) = &info.stream_arn {
            resolver.set_attribute(&table.logical_id, "StreamArn", arn.clone());
        }
        resources.tables.insert(table.logical_id.clone(), info);
    }

    for queue in template.of_kind("AWS::SQS::Queue") {
        let info = create_queue(queue, resolver, aws).await?;
        resolver.set_ref(&queue.logical_id, info.url.clone());
        resolver.set_attribute(&queue.logical_id, "QueueUrl", info.url.clone());
        resources.queues.insert(queue.logical_id.clone(), info);
    }

    // One issuer key per start: its ring for the signing-key secrets, its JWKS for the public ones.
    let mut generated = BTreeMap::new();
    if !config.signing_key_secrets.is_empty() || !config.public_key_secrets.is_empty() {
        let key = tokio::task::spawn_blocking(SigningKey::generate)
            .await
            .map_err(|e| e.to_string())??;
        tracing::info!("fresh RS256 signing key {}", key.kid);
        for id in &config.signing_key_secrets {
            generated.insert(id.clone(), key.secret_json().to_string());
        }
        for id in &config.public_key_secrets {
            generated.insert(id.clone(), key.jwks().to_string());
        }
    }
    for secret in template.of_kind("AWS::SecretsManager::Secret") {
        let name = create_secret(
            secret,
            resolver,
            aws,
            generated.get(&secret.logical_id).cloned(),
        )
        .await?;
        resources.secrets.push(name);
    }

    for identity in template.of_kind("AWS::SES::EmailIdentity") {
        let name =
            resolver.physical_name(&identity.logical_id, &identity.kind, &identity.properties);
        aws.sesv2
            .create_email_identity()
            .email_identity(&name)
            .send()
            .await
            .map_err(|e| describe(&format!("create email identity {name}"), e))?;
    }

    for bucket in template.of_kind("AWS::S3::Bucket") {
        let name = resolver.physical_name(&bucket.logical_id, &bucket.kind, &bucket.properties);
        aws.s3
            .create_bucket()
            .bucket(&name)
            .send()
            .await
            .map_err(|e| describe(&format!("create bucket {name}"), e))?;
    }

    for rule in template.of_kind("AWS::Events::Rule") {
        create_rule(rule, resolver, aws, &mut resources).await?;
    }

    // The emulator keeps the archive's record (its ARN, when it was made); the stack replays
    // from what its tap saw (`replay`), through the named rules only.
    for archive in template.of_kind("AWS::Events::Archive") {
        let props = resolver.resolve(&Value::Object(archive.properties.clone()))?;
        let name = resolver.physical_name(&archive.logical_id, &archive.kind, &archive.properties);
        aws.events
            .create_archive()
            .archive_name(&name)
            .event_source_arn(text(&props, "SourceArn"))
            .send()
            .await
            .map_err(|e| describe(&format!("create archive {name}"), e))?;
    }

    resources.tap_queue_url = create_tap(aws, &resources.buses).await?;
    Ok(resources)
}

/// The hash key attribute of every table of the template, by physical name (what IAM's
/// `dynamodb:LeadingKeys` reads).
pub fn hash_keys(template: &Template, resolver: &Resolver) -> crate::iam::HashKeys {
    template
        .of_kind("AWS::DynamoDB::Table")
        .filter_map(|table| {
            let name = resolver.physical_name(&table.logical_id, &table.kind, &table.properties);
            let hash = table
                .properties
                .get("KeySchema")?
                .as_array()?
                .iter()
                .find_map(|k| {
                    (k.get("KeyType")? == "HASH")
                        .then(|| k.get("AttributeName")?.as_str().map(str::to_string))
                        .flatten()
                })?;
            Some((name, hash))
        })
        .collect()
}

async fn create_table(
    table: &Resource,
    resolver: &Resolver,
    aws: &Aws,
) -> Result<TableInfo, String> {
    let name = resolver.physical_name(&table.logical_id, &table.kind, &table.properties);
    let props = resolver.resolve(&Value::Object(table.properties.clone()))?;
    let fail = |what: &str| format!("table {name}: {what}");

    let key_schema = |v: &Value| -> Result<Vec<ddb::KeySchemaElement>, String> {
        list(v)
            .iter()
            .map(|k| {
                ddb::KeySchemaElement::builder()
                    .attribute_name(text(k, "AttributeName"))
                    .key_type(ddb::KeyType::from(text(k, "KeyType").as_str()))
                    .build()
                    .map_err(|e| fail(&e.to_string()))
            })
            .collect()
    };
    let projection = |v: &Value| {
        let p = v.get("Projection").cloned().unwrap_or(Value::Null);
        ddb::Projection::builder()
            .projection_type(ddb::ProjectionType::from(
                p.get("ProjectionType")
                    .and_then(Value::as_str)
                    .unwrap_or("ALL"),
            ))
            .set_non_key_attributes(p.get("NonKeyAttributes").map(|a| {
                list(a)
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            }))
            .build()
    };
    let provisioned = props.get("BillingMode").and_then(Value::as_str) == Some("PROVISIONED");
    let throughput = |v: &Value| -> Result<Option<ddb::ProvisionedThroughput>, String> {
        if !provisioned {
            return Ok(None);
        }
        let t = v
            .get("ProvisionedThroughput")
            .cloned()
            .unwrap_or(Value::Null);
        let units = |k: &str| {
            t.get(k)
                .map(crate::functions::scalar_string)
                .and_then(|s| s.parse().ok())
                .unwrap_or(5)
        };
        ddb::ProvisionedThroughput::builder()
            .read_capacity_units(units("ReadCapacityUnits"))
            .write_capacity_units(units("WriteCapacityUnits"))
            .build()
            .map(Some)
            .map_err(|e| fail(&e.to_string()))
    };

    let mut request = aws
        .dynamodb
        .create_table()
        .table_name(&name)
        .billing_mode(if provisioned {
            ddb::BillingMode::Provisioned
        } else {
            ddb::BillingMode::PayPerRequest
        })
        .set_key_schema(Some(key_schema(
            props.get("KeySchema").unwrap_or(&Value::Null),
        )?))
        .set_provisioned_throughput(throughput(&props)?);
    for def in list(props.get("AttributeDefinitions").unwrap_or(&Value::Null)) {
        request = request.attribute_definitions(
            ddb::AttributeDefinition::builder()
                .attribute_name(text(def, "AttributeName"))
                .attribute_type(ddb::ScalarAttributeType::from(
                    text(def, "AttributeType").as_str(),
                ))
                .build()
                .map_err(|e| fail(&e.to_string()))?,
        );
    }
    for index in list(props.get("GlobalSecondaryIndexes").unwrap_or(&Value::Null)) {
        request = request.global_secondary_indexes(
            ddb::GlobalSecondaryIndex::builder()
                .index_name(text(index, "IndexName"))
                .set_key_schema(Some(key_schema(
                    index.get("KeySchema").unwrap_or(&Value::Null),
                )?))
                .projection(projection(index))
                .set_provisioned_throughput(throughput(index)?)
                .build()
                .map_err(|e| fail(&e.to_string()))?,
        );
    }
    for index in list(props.get("LocalSecondaryIndexes").unwrap_or(&Value::Null)) {
        request = request.local_secondary_indexes(
            ddb::LocalSecondaryIndex::builder()
                .index_name(text(index, "IndexName"))
                .set_key_schema(Some(key_schema(
                    index.get("KeySchema").unwrap_or(&Value::Null),
                )?))
                .projection(projection(index))
                .build()
                .map_err(|e| fail(&e.to_string()))?,
        );
    }
    if let Some(view) = props
        .pointer("/StreamSpecification/StreamViewType")
        .and_then(Value::as_str)
    {
        request = request.stream_specification(
            ddb::StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(ddb::StreamViewType::from(view))
                .build()
                .map_err(|e| fail(&e.to_string()))?,
        );
    }
    let created = request
        .send()
        .await
        .map_err(|e| describe(&format!("create table {name}"), e))?;
    let stream_arn = created
        .table_description()
        .and_then(|d| d.latest_stream_arn())
        .map(str::to_string);

    if let Some(ttl) = props.get("TimeToLiveSpecification") {
        if truthy(ttl.get("Enabled")) {
            aws.dynamodb
                .update_time_to_live()
                .table_name(&name)
                .time_to_live_specification(
                    ddb::TimeToLiveSpecification::builder()
                        .attribute_name(text(ttl, "AttributeName"))
                        .enabled(true)
                        .build()
                        .map_err(|e| fail(&e.to_string()))?,
                )
                .send()
                .await
                .map_err(|e| describe(&format!("enable TTL on {name}"), e))?;
        }
    }
    tracing::info!("table {name} created");
    Ok(TableInfo {
        logical_id: table.logical_id.clone(),
        name,
        stream_arn,
    })
}

async fn create_queue(
    queue: &Resource,
    resolver: &Resolver,
    aws: &Aws,
) -> Result<QueueInfo, String> {
    let name = resolver.physical_name(&queue.logical_id, &queue.kind, &queue.properties);
    let props = resolver.resolve(&Value::Object(queue.properties.clone()))?;
    let mut request = aws.sqs.create_queue().queue_name(&name);
    // RedrivePolicy is deliberately not given to the emulator: the stack moves dead letters itself.
    for (property, attribute) in [
        ("VisibilityTimeout", QueueAttributeName::VisibilityTimeout),
        (
            "MessageRetentionPeriod",
            QueueAttributeName::MessageRetentionPeriod,
        ),
        ("DelaySeconds", QueueAttributeName::DelaySeconds),
        ("MaximumMessageSize", QueueAttributeName::MaximumMessageSize),
        (
            "ReceiveMessageWaitTimeSeconds",
            QueueAttributeName::ReceiveMessageWaitTimeSeconds,
        ),
        ("FifoQueue", QueueAttributeName::FifoQueue),
        (
            "ContentBasedDeduplication",
            QueueAttributeName::ContentBasedDeduplication,
        ),
    ] {
        if let Some(v) = props.get(property) {
            request = request.attributes(attribute, crate::functions::scalar_string(v));
        }
    }
    let created = request
        .send()
        .await
        .map_err(|e| describe(&format!("create queue {name}"), e))?;
    let url = created.queue_url().unwrap_or_default().to_string();

    let redrive = match props.get("RedrivePolicy") {
        // CloudFormation also accepts the policy as a JSON string.
        Some(Value::String(s)) => serde_json::from_str(s).ok(),
        Some(v) => Some(v.clone()),
        None => None,
    }
    .and_then(|p: Value| {
        Some(Redrive {
            dead_letter_arn: p.get("deadLetterTargetArn")?.as_str()?.to_string(),
            max_receive_count: crate::functions::scalar_string(p.get("maxReceiveCount")?)
                .parse()
                .ok()?,
        })
    });
    tracing::info!("queue {name} created");
    Ok(QueueInfo {
        logical_id: queue.logical_id.clone(),
        arn: format!("arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}"),
        name,
        url,
        visibility_timeout_secs: props
            .get("VisibilityTimeout")
            .and_then(|v| crate::functions::scalar_string(v).parse().ok())
            .unwrap_or(30),
        fifo: truthy(props.get("FifoQueue")),
        redrive,
    })
}

async fn create_secret(
    secret: &Resource,
    resolver: &Resolver,
    aws: &Aws,
    generated: Option<String>,
) -> Result<String, String> {
    let name = resolver.physical_name(&secret.logical_id, &secret.kind, &secret.properties);
    let props = resolver.resolve(&Value::Object(secret.properties.clone()))?;
    let value = if let Some(value) = generated {
        value
    } else if let Some(s) = props.get("SecretString").and_then(Value::as_str) {
        s.to_string()
    } else {
        generated_secret(props.get("GenerateSecretString"))
    };
    let mut request = aws.secrets.create_secret().name(&name).secret_string(value);
    if let Some(d) = props.get("Description").and_then(Value::as_str) {
        request = request.description(d);
    }
    request
        .send()
        .await
        .map_err(|e| describe(&format!("create secret {name}"), e))?;
    Ok(name)
}

/// What Secrets Manager makes of GenerateSecretString: a password, optionally inside a JSON template.
fn generated_secret(spec: Option<&Value>) -> String {
    let length = spec
        .and_then(|s| s.get("PasswordLength"))
        .map(crate::functions::scalar_string)
        .and_then(|s| s.parse().ok())
        .unwrap_or(32);
    let password: String = rand::thread_rng()
        .sample_iter(rand::distributions::Alphanumeric)
        .take(length)
        .map(char::from)
        .collect();
    let template = spec
        .and_then(|s| s.get("SecretStringTemplate"))
        .and_then(Value::as_str);
    let key = spec
        .and_then(|s| s.get("GenerateStringKey"))
        .and_then(Value::as_str);
    match (
        template.and_then(|t| serde_json::from_str::<Value>(t).ok()),
        key,
    ) {
        (Some(mut doc), Some(key)) if doc.is_object() => {
            doc[key] = Value::String(password);
            doc.to_string()
        }
        _ => password,
    }
}

async fn create_rule(
    rule: &Resource,
    resolver: &Resolver,
    aws: &Aws,
    resources: &mut Resources,
) -> Result<(), String> {
    let name = resolver.physical_name(&rule.logical_id, &rule.kind, &rule.properties);
    let props = resolver.resolve(&Value::Object(rule.properties.clone()))?;
    let bus = props
        .get("EventBusName")
        .and_then(Value::as_str)
        .map(|b| b.rsplit('/').next().unwrap_or(b).to_string())
        .unwrap_or_else(|| "default".into());
    let pattern = match props.get("EventPattern") {
        Some(Value::String(s)) => {
            Some(serde_json::from_str::<Value>(s).map_err(|e| format!("rule {name}: {e}"))?)
        }
        other => other.cloned(),
    };
    let Some(pattern) = pattern else {
        tracing::warn!(
            "rule {name} has no EventPattern (schedule rules are not run locally); skipped"
        );
        return Ok(());
    };
    let disabled = props.get("State").and_then(Value::as_str) == Some("DISABLED");
    aws.events
        .put_rule()
        .name(&name)
        .event_bus_name(&bus)
        .event_pattern(pattern.to_string())
        .state(if disabled {
            aws_sdk_eventbridge::types::RuleState::Disabled
        } else {
            aws_sdk_eventbridge::types::RuleState::Enabled
        })
        .send()
        .await
        .map_err(|e| describe(&format!("put rule {name}"), e))?;

    let mut targets = Vec::new();
    for target in list(props.get("Targets").unwrap_or(&Value::Null)) {
        let arn = text(target, "Arn");
        if let Some(function) =
            arn.strip_prefix(&format!("arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:"))
        {
            if !disabled {
                resources.function_rules.push(FunctionRule {
                    rule: name.clone(),
                    pattern: pattern.clone(),
                    function: function.to_string(),
                });
            }
            continue;
        }
        if arn.starts_with("arn:aws:sqs:") && !disabled {
            resources
                .queue_rules
                .entry(name.clone())
                .or_insert_with(|| QueueRule {
                    pattern: pattern.clone(),
                    queue_arns: Vec::new(),
                })
                .queue_arns
                .push(arn.clone());
        }
        let mut t = Target::builder().id(text(target, "Id")).arn(arn);
        if let Some(input) = target.get("Input") {
            t = t.input(crate::functions::scalar_string(input));
        }
        if let Some(path) = target.get("InputPath").and_then(Value::as_str) {
            t = t.input_path(path);
        }
        targets.push(t.build().map_err(|e| format!("rule {name} target: {e}"))?);
    }
    if !targets.is_empty() {
        aws.events
            .put_targets()
            .rule(&name)
            .event_bus_name(&bus)
            .set_targets(Some(targets))
            .send()
            .await
            .map_err(|e| describe(&format!("put targets of {name}"), e))?;
    }
    tracing::info!("rule {name} on bus {bus} created");
    Ok(())
}

/// A catch-all rule on every bus → the tap queue.
async fn create_tap(aws: &Aws, buses: &[String]) -> Result<String, String> {
    let created = aws
        .sqs
        .create_queue()
        .queue_name(TAP_QUEUE)
        .send()
        .await
        .map_err(|e| describe("create the tap queue", e))?;
    let url = created.queue_url().unwrap_or_default().to_string();
    let arn = format!("arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{TAP_QUEUE}");
    let mut buses = buses.to_vec();
    if !buses.iter().any(|b| b == "default") {
        buses.push("default".into());
    }
    for bus in buses {
        // An empty prefix matches every source; the emulator accepts it (no match-all keyword exists).
        aws.events
            .put_rule()
            .name(TAP_RULE)
            .event_bus_name(&bus)
            .event_pattern(json!({"source": [{"prefix": ""}]}).to_string())
            .send()
            .await
            .map_err(|e| describe(&format!("put the tap rule on {bus}"), e))?;
        aws.events
            .put_targets()
            .rule(TAP_RULE)
            .event_bus_name(&bus)
            .targets(
                Target::builder()
                    .id("tap")
                    .arn(&arn)
                    .build()
                    .map_err(|e| e.to_string())?,
            )
            .send()
            .await
            .map_err(|e| describe(&format!("target the tap on {bus}"), e))?;
    }
    Ok(url)
}

fn list(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or_default()
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .map(crate::functions::scalar_string)
        .unwrap_or_default()
}

fn truthy(v: Option<&Value>) -> bool {
    v.is_some_and(|v| v == true || v == "true")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_follow_their_template() {
        let plain = generated_secret(None);
        assert_eq!(plain.len(), 32);
        let doc: Value = serde_json::from_str(&generated_secret(Some(&json!({
            "SecretStringTemplate": "{\"username\":\"admin\"}", "GenerateStringKey": "password", "PasswordLength": 12
        }))))
        .unwrap();
        assert_eq!(doc["username"], "admin");
        assert_eq!(doc["password"].as_str().unwrap().len(), 12);
    }
}
