//! Resolves CloudFormation intrinsics (Ref, GetAtt, Sub, Join, Select, Split, If and the
//! conditions' Equals, Not, And, Or) to the local stack's names.

use crate::template::Template;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};

pub const REGION: &str = "us-east-1";
/// The account moto puts everything in when called with the dummy credentials.
pub const ACCOUNT_ID: &str = "123456789012";
/// The stack the local one plays: samconfig.toml's default stack name, so every name the
/// templates derive from it (the bus, the archive, the issuer's secrets) is the deployed one's.
pub const STACK_NAME: &str = "ates";

#[derive(Debug, Clone)]
pub struct Resolver {
    parameters: BTreeMap<String, Value>,
    refs: HashMap<String, Value>,
    attributes: HashMap<(String, String), Value>,
    conditions: BTreeMap<String, Value>,
}

impl Resolver {
    /// Parameters take their template defaults, then `overrides` (the local API URL as issuer, say).
    /// Every resource gets its physical identity up front: names and ARNs are deterministic here,
    /// and the few that are not (queue URLs, stream ARNs) are corrected by provisioning.
    pub fn new(template: &Template, overrides: &[(&str, &str)], aws_endpoint: &str) -> Resolver {
        let mut parameters = template.parameters.clone();
        for (name, value) in overrides {
            parameters.insert(name.to_string(), Value::from(*value));
        }
        let mut resolver = Resolver {
            parameters,
            refs: HashMap::new(),
            attributes: HashMap::new(),
            conditions: template.conditions.clone(),
        };
        for resource in template.resources.values() {
            resolver.register_identity(
                &resource.logical_id,
                &resource.kind,
                &resource.properties,
                aws_endpoint,
            );
        }
        resolver
    }

    pub fn set_ref(&mut self, logical_id: &str, value: impl Into<Value>) {
        self.refs.insert(logical_id.to_string(), value.into());
    }

    pub fn set_attribute(&mut self, logical_id: &str, attribute: &str, value: impl Into<Value>) {
        self.attributes.insert(
            (logical_id.to_string(), attribute.to_string()),
            value.into(),
        );
    }

    /// The physical name a resource gets: its explicit name property when it has one, else its logical id.
    pub fn physical_name(
        &self,
        logical_id: &str,
        kind: &str,
        properties: &Map<String, Value>,
    ) -> String {
        let name_property = match kind {
            "AWS::DynamoDB::Table" => "TableName",
            "AWS::SQS::Queue" => "QueueName",
            "AWS::Events::EventBus" | "AWS::Events::Rule" | "AWS::SecretsManager::Secret" => "Name",
            "AWS::SES::EmailIdentity" => "EmailIdentity",
            "AWS::Logs::LogGroup" => "LogGroupName",
            "AWS::Events::Archive" => "ArchiveName",
            "AWS::S3::Bucket" => "BucketName",
            _ => "",
        };
        let explicit = properties
            .get(name_property)
            .and_then(|v| self.resolve(v).ok())
            .and_then(|v| v.as_str().map(str::to_string));
        let mut name = explicit.unwrap_or_else(|| logical_id.to_string());
        let fifo = properties
            .get("FifoQueue")
            .is_some_and(|v| v == true || v == "true");
        if kind == "AWS::SQS::Queue" && fifo && !name.ends_with(".fifo") {
            name.push_str(".fifo");
        }
        // A bucket's name is lowercase.
        if kind == "AWS::S3::Bucket" {
            name = name.to_lowercase();
        }
        name
    }

    fn register_identity(
        &mut self,
        id: &str,
        kind: &str,
        properties: &Map<String, Value>,
        aws_endpoint: &str,
    ) {
        let name = self.physical_name(id, kind, properties);
        let arn =
            |service: &str, rest: String| format!("arn:aws:{service}:{REGION}:{ACCOUNT_ID}:{rest}");
        match kind {
            "AWS::DynamoDB::Table" => {
                self.set_ref(id, name.clone());
                self.set_attribute(id, "Arn", arn("dynamodb", format!("table/{name}")));
                self.set_attribute(
                    id,
                    "StreamArn",
                    arn("dynamodb", format!("table/{name}/stream/pending")),
                );
            }
            "AWS::SQS::Queue" => {
                let url = format!("{}/{ACCOUNT_ID}/{name}", aws_endpoint.trim_end_matches('/'));
                self.set_ref(id, url.clone());
                self.set_attribute(id, "QueueUrl", url);
                self.set_attribute(id, "Arn", arn("sqs", name.clone()));
                self.set_attribute(id, "QueueName", name);
            }
            "AWS::Events::EventBus" => {
                self.set_ref(id, name.clone());
                self.set_attribute(id, "Arn", arn("events", format!("event-bus/{name}")));
                self.set_attribute(id, "Name", name);
            }
            "AWS::Events::Rule" => {
                self.set_ref(id, name.clone());
                self.set_attribute(id, "Arn", arn("events", format!("rule/{name}")));
            }
            "AWS::S3::Bucket" => {
                self.set_ref(id, name.clone());
                self.set_attribute(id, "Arn", format!("arn:aws:s3:::{name}"));
            }
            "AWS::Events::Archive" => {
                self.set_ref(id, name.clone());
                self.set_attribute(id, "Arn", arn("events", format!("archive/{name}")));
            }
            // CloudFormation answers a secret's ARN to Ref; its name works everywhere an id is asked for.
            "AWS::SecretsManager::Secret" => {
                self.set_ref(id, name.clone());
                self.set_attribute(id, "Id", name.clone());
                self.set_attribute(id, "Arn", arn("secretsmanager", format!("secret:{name}")));
            }
            "AWS::Serverless::Function" | "AWS::Lambda::Function" => {
                self.set_ref(id, id);
                self.set_attribute(id, "Arn", arn("lambda", format!("function:{id}")));
            }
            "AWS::Logs::LogGroup" => {
                self.set_ref(id, name.clone());
                self.set_attribute(id, "Arn", arn("logs", format!("log-group:{name}:*")));
            }
            "AWS::Serverless::HttpApi" | "AWS::ApiGatewayV2::Api" => {
                self.set_ref(id, "local");
            }
            // An authorizer's or integration's id is its logical id here: routes find theirs by it.
            "AWS::ApiGatewayV2::Authorizer" | "AWS::ApiGatewayV2::Integration" => {
                self.set_ref(id, id);
            }
            _ => self.set_ref(id, name),
        }
    }

    /// Resolves every intrinsic inside `value`; `AWS::NoValue` removes the key or item holding it.
    pub fn resolve(&self, value: &Value) -> Result<Value, String> {
        Ok(self.resolve_inner(value)?.unwrap_or(Value::Null))
    }

    fn resolve_inner(&self, value: &Value) -> Result<Option<Value>, String> {
        match value {
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    if let Some(v) = self.resolve_inner(item)? {
                        out.push(v);
                    }
                }
                Ok(Some(Value::Array(out)))
            }
            Value::Object(map) if map.len() == 1 => {
                let (key, arg) = map.iter().next().expect("one entry");
                match key.as_str() {
                    "Ref" => self.resolve_ref(arg),
                    "Fn::GetAtt" => self.resolve_get_att(arg).map(Some),
                    "Fn::Sub" => self.resolve_sub(arg).map(|s| Some(Value::String(s))),
                    "Fn::Join" => self.resolve_join(arg).map(|s| Some(Value::String(s))),
                    "Fn::Select" => self.resolve_select(arg).map(Some),
                    "Fn::Split" => self.resolve_split(arg).map(Some),
                    "Fn::If" => match arg.as_array().map(Vec::as_slice) {
                        Some([Value::String(condition), then, otherwise]) => {
                            if self.condition(condition)? {
                                self.resolve_inner(then)
                            } else {
                                self.resolve_inner(otherwise)
                            }
                        }
                        _ => Err(format!("bad Fn::If {arg}")),
                    },
                    other if other.starts_with("Fn::") => {
                        Err(format!("intrinsic {other} is not supported locally"))
                    }
                    _ => self.resolve_object(map).map(Some),
                }
            }
            Value::Object(map) => self.resolve_object(map).map(Some),
            other => Ok(Some(other.clone())),
        }
    }

    /// Whether a condition of the template holds, for the parameters given.
    pub fn condition(&self, name: &str) -> Result<bool, String> {
        let expression = self
            .conditions
            .get(name)
            .ok_or_else(|| format!("unknown condition {name}"))?;
        self.holds(expression, 0)
    }

    fn holds(&self, expression: &Value, depth: usize) -> Result<bool, String> {
        if depth > 16 {
            return Err("conditions nest too deep (or refer to themselves)".into());
        }
        let map = expression
            .as_object()
            .filter(|m| m.len() == 1)
            .ok_or_else(|| format!("bad condition {expression}"))?;
        let (key, arg) = map.iter().next().expect("one entry");
        let items = || arg.as_array().map(Vec::as_slice).unwrap_or_default();
        match key.as_str() {
            "Condition" => {
                let name = arg.as_str().ok_or_else(|| format!("bad condition {arg}"))?;
                let inner = self
                    .conditions
                    .get(name)
                    .ok_or_else(|| format!("unknown condition {name}"))?;
                self.holds(inner, depth + 1)
            }
            "Fn::Equals" => match items() {
                // A parameter without a value (a required one nobody gave here) equals "".
                [a, b] => {
                    let text = |v: &Value| match self.resolve(v)? {
                        Value::Null => Ok(String::new()),
                        v => scalar_text(&v),
                    };
                    Ok(text(a)? == text(b)?)
                }
                _ => Err(format!("bad Fn::Equals {arg}")),
            },
            "Fn::Not" => match items() {
                [inner] => Ok(!self.holds(inner, depth + 1)?),
                _ => Err(format!("bad Fn::Not {arg}")),
            },
            "Fn::And" => items()
                .iter()
                .try_fold(true, |all, c| Ok(all & self.holds(c, depth + 1)?)),
            "Fn::Or" => items()
                .iter()
                .try_fold(false, |any, c| Ok(any | self.holds(c, depth + 1)?)),
            other => Err(format!("{other} is not a condition function")),
        }
    }

    fn resolve_object(&self, map: &Map<String, Value>) -> Result<Value, String> {
        let mut out = Map::new();
        for (k, v) in map {
            if let Some(v) = self.resolve_inner(v)? {
                out.insert(k.clone(), v);
            }
        }
        Ok(Value::Object(out))
    }

    fn resolve_ref(&self, arg: &Value) -> Result<Option<Value>, String> {
        let name = self.resolve(arg)?;
        let name = name.as_str().ok_or_else(|| format!("bad Ref {arg}"))?;
        if name == "AWS::NoValue" {
            return Ok(None);
        }
        self.lookup(name).map(Some)
    }

    fn lookup(&self, name: &str) -> Result<Value, String> {
        if let Some(v) = pseudo_parameter(name) {
            return Ok(Value::from(v));
        }
        if let Some(v) = self.parameters.get(name) {
            return Ok(v.clone());
        }
        self.refs
            .get(name)
            .cloned()
            .ok_or_else(|| format!("Ref to unknown name {name}"))
    }

    fn resolve_get_att(&self, arg: &Value) -> Result<Value, String> {
        let arg = self.resolve(arg)?;
        let (resource, attribute) = match &arg {
            Value::String(s) => s
                .split_once('.')
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .ok_or_else(|| format!("bad GetAtt {s}"))?,
            Value::Array(parts) if parts.len() == 2 => (
                parts[0].as_str().unwrap_or_default().to_string(),
                parts[1].as_str().unwrap_or_default().to_string(),
            ),
            other => return Err(format!("bad GetAtt {other}")),
        };
        self.attributes
            .get(&(resource.clone(), attribute.clone()))
            .cloned()
            .ok_or_else(|| format!("GetAtt {resource}.{attribute} is not known locally"))
    }

    fn resolve_sub(&self, arg: &Value) -> Result<String, String> {
        let (text, vars) = match arg {
            Value::String(s) => (s.clone(), Map::new()),
            Value::Array(parts) if parts.len() == 2 => {
                let text = parts[0].as_str().ok_or("Fn::Sub text must be a string")?;
                let vars = match self.resolve(&parts[1])? {
                    Value::Object(m) => m,
                    _ => return Err("Fn::Sub variables must be a map".into()),
                };
                (text.to_string(), vars)
            }
            other => return Err(format!("bad Fn::Sub {other}")),
        };
        let mut out = String::new();
        let mut rest = text.as_str();
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| format!("unclosed ${{ in {text}"))?;
            let name = &after[..end];
            if let Some(literal) = name.strip_prefix('!') {
                // `${!Name}` is how Sub spells a literal `${Name}`.
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else {
                let value = match vars.get(name) {
                    Some(v) => v.clone(),
                    None if name.contains('.') && !name.starts_with("AWS::") => {
                        self.resolve_get_att(&Value::from(name))?
                    }
                    None => self.lookup(name)?,
                };
                out.push_str(&scalar_text(&value)?);
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn resolve_join(&self, arg: &Value) -> Result<String, String> {
        let arg = self.resolve(arg)?;
        match arg.as_array().map(Vec::as_slice) {
            Some([Value::String(delimiter), Value::Array(items)]) => Ok(items
                .iter()
                .map(scalar_text)
                .collect::<Result<Vec<_>, _>>()?
                .join(delimiter)),
            _ => Err(format!("bad Fn::Join {arg}")),
        }
    }

    fn resolve_select(&self, arg: &Value) -> Result<Value, String> {
        let arg = self.resolve(arg)?;
        match arg.as_array().map(Vec::as_slice) {
            Some([index, Value::Array(items)]) => {
                let index = scalar_text(index)?
                    .parse::<usize>()
                    .map_err(|e| format!("bad Fn::Select index: {e}"))?;
                items
                    .get(index)
                    .cloned()
                    .ok_or_else(|| format!("Fn::Select index {index} out of range"))
            }
            _ => Err(format!("bad Fn::Select {arg}")),
        }
    }

    fn resolve_split(&self, arg: &Value) -> Result<Value, String> {
        let arg = self.resolve(arg)?;
        match arg.as_array().map(Vec::as_slice) {
            Some([Value::String(delimiter), Value::String(text)]) => Ok(Value::Array(
                text.split(delimiter.as_str()).map(Value::from).collect(),
            )),
            _ => Err(format!("bad Fn::Split {arg}")),
        }
    }
}

fn pseudo_parameter(name: &str) -> Option<&'static str> {
    Some(match name {
        "AWS::Region" => REGION,
        "AWS::AccountId" => ACCOUNT_ID,
        "AWS::StackName" => STACK_NAME,
        "AWS::StackId" => "arn:aws:cloudformation:us-east-1:123456789012:stack/ates-local/local",
        "AWS::Partition" => "aws",
        "AWS::URLSuffix" => "amazonaws.com",
        _ => return None,
    })
}

fn scalar_text(value: &Value) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(format!("expected a scalar, got {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::{project_template, Template};
    use serde_json::json;

    fn resolver(yaml: &str) -> (Template, Resolver) {
        let t = Template::parse(yaml).unwrap();
        let r = Resolver::new(&t, &[], "http://127.0.0.1:5000");
        (t, r)
    }

    #[test]
    fn resolves_refs_attributes_and_subs() {
        let (t, r) = resolver(
            r#"
Parameters:
  Stage: { Type: String, Default: dev }
Resources:
  Bus: { Type: AWS::Events::EventBus, Properties: { Name: !Sub "ates-${Stage}" } }
  Queue: { Type: AWS::SQS::Queue }
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Environment:
        Variables:
          BUS: !Ref Bus
          QUEUE_URL: !Ref Queue
          QUEUE_ARN: !GetAtt Queue.Arn
          NAME: { "Fn::GetAtt": [Queue, QueueName] }
          TEXT: !Sub "${AWS::Region}/${AWS::AccountId}/${Queue.QueueName}/${!Literal}"
          LIST: !Join [",", [a, !Ref Stage]]
          PICK: !Select [1, !Split ["/", "x/y/z"]]
          GONE: !Ref AWS::NoValue
"#,
        );
        let env = r
            .resolve(&Value::Object(t.resources["Fn"].properties.clone()))
            .unwrap()["Environment"]["Variables"]
            .clone();
        assert_eq!(
            env,
            json!({
                "BUS": "ates-dev",
                "QUEUE_URL": "http://127.0.0.1:5000/123456789012/Queue",
                "QUEUE_ARN": "arn:aws:sqs:us-east-1:123456789012:Queue",
                "NAME": "Queue",
                "TEXT": "us-east-1/123456789012/Queue/${Literal}",
                "LIST": "a,dev",
                "PICK": "y",
            })
        );
    }

    #[test]
    fn conditions_choose_between_values_and_remove_keys() {
        let t = Template::parse(
            r#"
Parameters:
  Reserved: { Type: Number, Default: 0 }
  Mail: { Type: String, Default: "" }
Conditions:
  Reserves: !Not [!Equals [!Ref Reserved, "0"]]
  Mails: !Not [!Equals [!Ref Mail, ""]]
  Both: !And [!Condition Reserves, !Condition Mails]
  Either: !Or [!Condition Reserves, !Condition Mails]
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      ReservedConcurrentExecutions: !If [Reserves, !Ref Reserved, !Ref AWS::NoValue]
      Tag: !If [Both, both, !If [Either, either, neither]]
"#,
        )
        .unwrap();
        let props = Value::Object(t.resources["Fn"].properties.clone());
        let with = |overrides: &[(&str, &str)]| {
            let r = Resolver::new(&t, overrides, "http://127.0.0.1:5000");
            r.resolve(&props).unwrap()
        };
        assert_eq!(
            with(&[]),
            json!({"Tag": "neither"}),
            "NoValue removes the key"
        );
        assert_eq!(
            with(&[("Reserved", "10")]),
            json!({"ReservedConcurrentExecutions": "10", "Tag": "either"})
        );
        assert_eq!(
            with(&[("Reserved", "10"), ("Mail", "ops@popug.test")])["Tag"],
            json!("both")
        );
        let r = Resolver::new(&t, &[("Mail", "ops@popug.test")], "http://127.0.0.1:5000");
        assert!(r.condition("Mails").unwrap());
        assert!(r.condition("Nope").is_err());
    }

    #[test]
    fn unknown_names_are_errors() {
        let (_, r) = resolver("Resources: {}");
        assert!(r.resolve(&json!({"Ref": "Nope"})).is_err());
        assert!(r.resolve(&json!({"Fn::GetAtt": ["Nope", "Arn"]})).is_err());
        assert!(r.resolve(&json!({"Fn::If": ["C", 1, 2]})).is_err());
    }

    #[test]
    fn resolves_the_project_template() {
        let t = project_template();
        let r = Resolver::new(
            &t,
            &[("IssuerUrl", "http://127.0.0.1:4000")],
            "http://127.0.0.1:5000",
        );
        let rule = r
            .resolve(&Value::Object(
                t.resources["TasksAccountEventsRule"].properties.clone(),
            ))
            .unwrap();
        assert_eq!(rule["EventBusName"], json!("ates"));
        assert_eq!(
            rule["Targets"][0]["Arn"],
            json!("arn:aws:sqs:us-east-1:123456789012:TasksAccountEventsQueue")
        );
        let authorizer = r
            .resolve(&Value::Object(
                t.resources["HttpApiAuthorizer"].properties.clone(),
            ))
            .unwrap();
        assert_eq!(
            authorizer["JwtConfiguration"]["Issuer"],
            json!("http://127.0.0.1:4000"),
            "the issuer is the local API, not the template default"
        );
        assert_eq!(
            r.resolve(&json!({"Ref": "AuthSigningKey"})).unwrap(),
            json!("ates/auth/signing-key"),
            "named after the stack, which the local one plays as ates"
        );
        assert_eq!(
            r.resolve(&json!({"Ref": "EventArchive"})).unwrap(),
            json!("ates-events")
        );
        assert_eq!(
            r.resolve(&json!({"Ref": "MailFrom"})).unwrap(),
            json!("no-reply@ates.local")
        );
    }
}
