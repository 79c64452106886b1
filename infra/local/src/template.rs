//! Reads the SAM template into JSON, turning CloudFormation short tags into their long forms.

use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// The parts of a SAM template the local stack cares about, still unresolved.
#[derive(Debug, Clone)]
pub struct Template {
    pub parameters: BTreeMap<String, Value>,
    /// `Globals.Function`, merged into every `AWS::Serverless::Function`.
    pub function_globals: Map<String, Value>,
    pub resources: BTreeMap<String, Resource>,
}

#[derive(Debug, Clone)]
pub struct Resource {
    pub logical_id: String,
    pub kind: String,
    pub properties: Map<String, Value>,
    pub metadata: Map<String, Value>,
}

impl Template {
    pub fn load(path: &Path) -> Result<Template, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Template::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Template, String> {
        let yaml: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| e.to_string())?;
        let doc = yaml_to_json(yaml)?;

        let parameters = object_at(&doc, "Parameters")
            .into_iter()
            .map(|(name, spec)| (name, spec.get("Default").cloned().unwrap_or(Value::Null)))
            .collect();
        let function_globals = doc
            .pointer("/Globals/Function")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();

        let mut resources = BTreeMap::new();
        for (logical_id, body) in object_at(&doc, "Resources") {
            let kind = body
                .get("Type")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("resource {logical_id} has no Type"))?
                .to_string();
            let field = |name: &str| {
                body.get(name)
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default()
            };
            resources.insert(
                logical_id.clone(),
                Resource {
                    logical_id,
                    kind,
                    properties: field("Properties"),
                    metadata: field("Metadata"),
                },
            );
        }

        Ok(Template {
            parameters,
            function_globals,
            resources,
        })
    }

    /// Resources of one CloudFormation type, in logical-id order.
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Resource> + 'a {
        self.resources.values().filter(move |r| r.kind == kind)
    }
}

impl Resource {
    /// A function's binary: `Metadata.BuildProperties.Binary`, as SAM's cargo-lambda build names it.
    pub fn binary(&self) -> Option<&str> {
        self.metadata
            .get("BuildProperties")
            .and_then(|b| b.get("Binary"))
            .and_then(Value::as_str)
    }
}

/// Every name a value refers to, in order: `Ref`s, `Fn::GetAtt`s' resources, and the `${Name}`
/// or `${Name.Attribute}` of `Fn::Sub` strings (parameters and pseudo parameters included).
pub fn references(value: &Value) -> Vec<String> {
    let mut found = Vec::new();
    collect_references(value, &mut found);
    found
}

fn collect_references(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner) {
                    ("Ref", Value::String(id)) => found.push(id.clone()),
                    ("Fn::GetAtt", Value::Array(parts)) => {
                        found.extend(parts.first().and_then(Value::as_str).map(str::to_string))
                    }
                    ("Fn::Sub", Value::String(text)) => sub_names(text, found),
                    ("Fn::Sub", Value::Array(parts)) => {
                        // `[text, {Name: value}]`: the text's names that the map does not define.
                        let defined = parts.get(1).and_then(Value::as_object);
                        if let Some(text) = parts.first().and_then(Value::as_str) {
                            let mut names = Vec::new();
                            sub_names(text, &mut names);
                            found.extend(
                                names
                                    .into_iter()
                                    .filter(|n| defined.is_none_or(|d| !d.contains_key(n))),
                            );
                        }
                        if let Some(defined) = defined {
                            defined.values().for_each(|v| collect_references(v, found));
                        }
                    }
                    _ => collect_references(inner, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_references(v, found)),
        _ => {}
    }
}

/// `${Name}` and `${Name.Attribute}` (as Name) in a Sub text; `${!Literal}` is not a reference.
fn sub_names(text: &str, found: &mut Vec<String>) {
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { return };
        let name = &after[..end];
        if !name.starts_with('!') {
            found.push(name.split('.').next().unwrap_or_default().to_string());
        }
        rest = &after[end + 1..];
    }
}

fn object_at(doc: &Value, key: &str) -> Vec<(String, Value)> {
    doc.get(key)
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// YAML → JSON; `!Ref x` becomes `{"Ref": x}`, `!GetAtt A.B` becomes `{"Fn::GetAtt": [A, B]}`,
/// and any other `!Name v` becomes `{"Fn::Name": v}`, so the resolver sees one form only.
pub fn yaml_to_json(yaml: serde_yaml::Value) -> Result<Value, String> {
    use serde_yaml::Value as Y;
    Ok(match yaml {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => serde_json::to_value(&n).map_err(|e| e.to_string())?,
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(
            items
                .into_iter()
                .map(yaml_to_json)
                .collect::<Result<_, _>>()?,
        ),
        Y::Mapping(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                let key = match k {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    other => return Err(format!("unsupported mapping key {other:?}")),
                };
                out.insert(key, yaml_to_json(v)?);
            }
            Value::Object(out)
        }
        Y::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!');
            let value = yaml_to_json(tagged.value)?;
            let long = match name {
                "Ref" => ("Ref".to_string(), value),
                "GetAtt" => {
                    let parts = match value {
                        // `!GetAtt Resource.Attribute` splits on the first dot only.
                        Value::String(s) => match s.split_once('.') {
                            Some((res, attr)) => vec![Value::from(res), Value::from(attr)],
                            None => return Err(format!("bad !GetAtt {s}")),
                        },
                        Value::Array(parts) => parts,
                        other => return Err(format!("bad !GetAtt {other}")),
                    };
                    ("Fn::GetAtt".to_string(), Value::Array(parts))
                }
                other => (format!("Fn::{other}"), value),
            };
            let mut out = Map::new();
            out.insert(long.0, long.1);
            Value::Object(out)
        }
    })
}

/// The workspace's own template.yaml, for unit tests across the crate.
#[cfg(test)]
pub fn project_template() -> Template {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml");
    Template::load(&path).expect("template.yaml parses")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn short_tags_become_long_forms() {
        let t = Template::parse(
            r#"
Resources:
  A:
    Type: X
    Properties:
      R: !Ref Thing
      G: !GetAtt Queue.Arn
      S: !Sub "arn:${AWS::Region}:${Thing}"
      J: !Join [",", [a, b]]
      Long: { "Fn::GetAtt": [Queue, QueueName] }
"#,
        )
        .unwrap();
        let p = &t.resources["A"].properties;
        assert_eq!(p["R"], json!({"Ref": "Thing"}));
        assert_eq!(p["G"], json!({"Fn::GetAtt": ["Queue", "Arn"]}));
        assert_eq!(p["S"], json!({"Fn::Sub": "arn:${AWS::Region}:${Thing}"}));
        assert_eq!(p["J"], json!({"Fn::Join": [",", ["a", "b"]]}));
        assert_eq!(p["Long"], json!({"Fn::GetAtt": ["Queue", "QueueName"]}));
    }

    #[test]
    fn references_are_found_in_every_long_form() {
        let value = json!({
            "A": {"Ref": "Table"},
            "B": [{"Fn::GetAtt": ["Queue", "Arn"]}],
            "C": {"Fn::Sub": "arn:${AWS::Partition}:${Bus.Arn}/${!Literal}"},
            "D": {"Fn::Sub": ["${Local}-${Param}", {"Local": {"Ref": "Secret"}}]},
        });
        assert_eq!(
            references(&value),
            ["Table", "Queue", "AWS::Partition", "Bus", "Param", "Secret"]
        );
    }

    #[test]
    fn reads_the_project_template() {
        let t = project_template();
        assert_eq!(
            t.parameters["IssuerUrl"],
            json!("http://127.0.0.1:3000"),
            "parameter defaults are kept"
        );
        assert_eq!(t.resources["AuthTable"].kind, "AWS::DynamoDB::Table");
        assert!(t.of_kind("AWS::Serverless::Function").count() >= 10);
        assert_eq!(
            t.resources["AuthMeFunction"].metadata["BuildProperties"]["Binary"],
            json!("auth-me")
        );
        assert_eq!(
            t.function_globals["Environment"]["Variables"]["EVENT_BUS_NAME"],
            json!({"Ref": "EventBus"})
        );
    }
}
