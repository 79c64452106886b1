//! Reads the SAM template into JSON, turning CloudFormation short tags into their long forms, and
//! reads its nested stacks into it.
//!
//! A root template's `AWS::Serverless::Application`s (and `AWS::CloudFormation::Stack`s) whose
//! location is a file here are read too, and their resources join the root's in one map, as if
//! they were one stack: a nested stack's parameters are replaced by the root's expressions its
//! `Parameters` pass (its defaults where none is passed), and the root's
//! `!GetAtt Stack.Outputs.Name` by the nested stack's output. Every reference then names a
//! resource of the one map, or a root parameter, so the resolver and everything after it sees
//! one template. Logical ids must be unique over all the stacks (each context prefixes its own).
//! Each template's `Globals.Function` is merged into its own functions here. Conditions join the
//! same way (a nested stack's read in the root's terms; one name, one meaning over every stack),
//! for the resolver's `Fn::If` and a resource's `Condition`.

use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The parts of a SAM template the local stack cares about, still unresolved, with its nested
/// stacks' resources among its own.
#[derive(Debug, Clone)]
pub struct Template {
    /// The root template's parameters and their defaults.
    pub parameters: BTreeMap<String, Value>,
    pub resources: BTreeMap<String, Resource>,
    /// The root template's outputs (their `Value`s), nested stacks' outputs read through.
    pub outputs: BTreeMap<String, Value>,
    /// Every stack's `Conditions`, unevaluated (the resolver evaluates them).
    pub conditions: BTreeMap<String, Value>,
    /// The nested stacks read into `resources`: their logical ids and template files.
    pub stacks: Vec<NestedStack>,
}

#[derive(Debug, Clone)]
pub struct NestedStack {
    pub logical_id: String,
    pub path: PathBuf,
}

#[derive(Debug, Clone)]
pub struct Resource {
    pub logical_id: String,
    pub kind: String,
    /// Its properties; a function's with its template's `Globals.Function` merged in.
    pub properties: Map<String, Value>,
    pub metadata: Map<String, Value>,
    /// Its attributes beside Type, Properties and Metadata: `Condition`, `DeletionPolicy`,
    /// `UpdateReplacePolicy`, `DependsOn`.
    pub attributes: Map<String, Value>,
    /// The nested stack (the root's logical id of it) it is declared in; None in the root.
    pub stack: Option<String>,
}

const NESTED_STACK_KINDS: [&str; 2] =
    ["AWS::Serverless::Application", "AWS::CloudFormation::Stack"];

impl Template {
    /// Reads a template and the nested stacks it names (their `Location`, relative to it).
    pub fn load(path: &Path) -> Result<Template, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let mut template =
            Template::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        template
            .read_nested(base, 0)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(template)
    }

    /// One template's text; a nested stack it names stays a resource of its kind.
    pub fn parse(text: &str) -> Result<Template, String> {
        let yaml: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| e.to_string())?;
        let doc = yaml_to_json(yaml)?;

        let parameters = object_at(&doc, "Parameters")
            .into_iter()
            .map(|(name, spec)| (name, spec.get("Default").cloned().unwrap_or(Value::Null)))
            .collect();
        let function_globals = doc
            .pointer("/Globals/Function")
            .cloned()
            .unwrap_or_else(|| Value::Object(Map::new()));

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
            let mut properties = field("Properties");
            if kind == "AWS::Serverless::Function" {
                // SAM merges Globals into a function: maps key by key, lists appended, the
                // function's own scalars win.
                let mut merged = function_globals.clone();
                merge_globals(&mut merged, &Value::Object(properties));
                properties = merged.as_object().cloned().unwrap_or_default();
            }
            let attributes = body
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(k, _)| !["Type", "Properties", "Metadata"].contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            resources.insert(
                logical_id.clone(),
                Resource {
                    logical_id,
                    kind,
                    properties,
                    metadata: field("Metadata"),
                    attributes,
                    stack: None,
                },
            );
        }
        let outputs = object_at(&doc, "Outputs")
            .into_iter()
            .map(|(name, output)| (name, output.get("Value").cloned().unwrap_or(Value::Null)))
            .collect();

        let conditions = object_at(&doc, "Conditions").into_iter().collect();

        Ok(Template {
            parameters,
            resources,
            outputs,
            conditions,
            stacks: Vec::new(),
        })
    }

    /// Reads each nested stack whose template is a file under `base` into this one.
    fn read_nested(&mut self, base: &Path, depth: usize) -> Result<(), String> {
        if depth > 4 {
            return Err("nested stacks nest too deep".into());
        }
        let nested: Vec<(String, String, Map<String, Value>)> = self
            .resources
            .values()
            .filter(|r| NESTED_STACK_KINDS.contains(&r.kind.as_str()))
            .filter_map(|r| {
                let location = r
                    .properties
                    .get("Location")
                    .or_else(|| r.properties.get("TemplateURL"))
                    .and_then(Value::as_str)
                    .filter(|l| !l.contains("://"))?;
                let passed = r
                    .properties
                    .get("Parameters")
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default();
                Some((r.logical_id.clone(), location.to_string(), passed))
            })
            .collect();
        let mut outputs = BTreeMap::new();
        for (stack, location, passed) in nested {
            let path = base.join(&location);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("{stack}: cannot read {}: {e}", path.display()))?;
            let mut child =
                Template::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            child
                .read_nested(path.parent().unwrap_or(Path::new(".")), depth + 1)
                .map_err(|e| format!("{}: {e}", path.display()))?;

            // What each of its parameters is, in this template's terms.
            let mut arguments = Map::new();
            for (name, default) in &child.parameters {
                let value = match passed.get(name) {
                    Some(value) => value.clone(),
                    None if !default.is_null() => default.clone(),
                    None => {
                        return Err(format!(
                            "{stack} does not pass {name}, which {} needs (no default)",
                            path.display()
                        ))
                    }
                };
                arguments.insert(name.clone(), value);
            }
            if let Some(name) = passed.keys().find(|n| !child.parameters.contains_key(*n)) {
                return Err(format!(
                    "{stack} passes {name}, which {} does not declare",
                    path.display()
                ));
            }

            for (id, mut resource) in std::mem::take(&mut child.resources) {
                if self.resources.contains_key(&id) {
                    return Err(format!(
                        "{id} of {stack} ({}) is also a logical id elsewhere: ids must be unique over every stack",
                        path.display()
                    ));
                }
                let substitute = |m: &Map<String, Value>| match substitute_parameters(
                    &Value::Object(m.clone()),
                    &arguments,
                ) {
                    Value::Object(m) => m,
                    _ => unreachable!("an object stays an object"),
                };
                resource.properties = substitute(&resource.properties);
                resource.metadata = substitute(&resource.metadata);
                resource.attributes = substitute(&resource.attributes);
                resource.stack = Some(stack.clone());
                self.resources.insert(id, resource);
            }
            for (name, condition) in std::mem::take(&mut child.conditions) {
                let condition = substitute_parameters(&condition, &arguments);
                match self.conditions.get(&name) {
                    Some(known) if *known != condition => {
                        return Err(format!(
                            "condition {name} of {stack} ({}) means something else elsewhere: names must be unique over every stack",
                            path.display()
                        ))
                    }
                    _ => {
                        self.conditions.insert(name, condition);
                    }
                }
            }
            for (name, value) in &child.outputs {
                outputs.insert(
                    (stack.clone(), name.clone()),
                    substitute_parameters(value, &arguments),
                );
            }
            self.stacks.push(NestedStack {
                logical_id: stack.clone(),
                path: path.clone(),
            });
            self.stacks.extend(child.stacks);
        }
        if !outputs.is_empty() {
            for resource in self.resources.values_mut() {
                let properties =
                    substitute_outputs(&Value::Object(resource.properties.clone()), &outputs)?;
                resource.properties = properties.as_object().cloned().unwrap_or_default();
            }
            for value in self.outputs.values_mut() {
                *value = substitute_outputs(value, &outputs)?;
            }
        }
        Ok(())
    }

    /// This template without the resources whose condition `holds` says is false.
    pub fn only_where(
        &self,
        mut holds: impl FnMut(&str) -> Result<bool, String>,
    ) -> Result<Template, String> {
        let mut kept = self.clone();
        for (id, resource) in &self.resources {
            if let Some(condition) = resource.attributes.get("Condition").and_then(Value::as_str) {
                if !holds(condition).map_err(|e| format!("{id}'s condition: {e}"))? {
                    kept.resources.remove(id);
                }
            }
        }
        Ok(kept)
    }

    /// Resources of one CloudFormation type, in logical-id order.
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Resource> + 'a {
        self.resources.values().filter(move |r| r.kind == kind)
    }
}

/// `value` with each `Ref` to a nested template's parameter replaced by what its stack passes,
/// and each `${Parameter}` of a `Fn::Sub` text given that value in the Sub's variable map.
fn substitute_parameters(value: &Value, arguments: &Map<String, Value>) -> Value {
    match value {
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| substitute_parameters(v, arguments))
                .collect(),
        ),
        Value::Object(map) if map.len() == 1 => {
            let (key, arg) = map.iter().next().expect("one entry");
            match (key.as_str(), arg) {
                ("Ref", Value::String(name)) if arguments.contains_key(name) => {
                    arguments[name].clone()
                }
                ("Fn::Sub", Value::String(text)) => {
                    sub_with(text, &Map::new(), |n| arguments.get(n).cloned())
                }
                ("Fn::Sub", Value::Array(parts)) if parts.len() == 2 => {
                    let text = parts[0].as_str().unwrap_or_default();
                    let vars = match substitute_parameters(&parts[1], arguments) {
                        Value::Object(vars) => vars,
                        _ => Map::new(),
                    };
                    sub_with(text, &vars, |n| arguments.get(n).cloned())
                }
                _ => {
                    let mut out = Map::new();
                    out.insert(key.clone(), substitute_parameters(arg, arguments));
                    Value::Object(out)
                }
            }
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), substitute_parameters(v, arguments)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A `Fn::Sub` of `text` whose variables are `vars` plus, for each `${name}` of the text that
/// `vars` does not define, `value_of(name)` where that is known. Stays the short form when it
/// needs no variables.
fn sub_with(
    text: &str,
    vars: &Map<String, Value>,
    mut value_of: impl FnMut(&str) -> Option<Value>,
) -> Value {
    let mut vars = vars.clone();
    let mut names = Vec::new();
    sub_full_names(text, &mut names);
    for name in names {
        if !vars.contains_key(&name) {
            if let Some(value) = value_of(&name) {
                vars.insert(name, value);
            }
        }
    }
    let mut sub = Map::new();
    if vars.is_empty() {
        sub.insert("Fn::Sub".into(), Value::from(text));
    } else {
        sub.insert(
            "Fn::Sub".into(),
            Value::Array(vec![Value::from(text), Value::Object(vars)]),
        );
    }
    Value::Object(sub)
}

/// `value` with each `Fn::GetAtt` of a nested stack's output (`[Stack, "Outputs.Name"]`)
/// replaced by that output's value.
fn substitute_outputs(
    value: &Value,
    outputs: &BTreeMap<(String, String), Value>,
) -> Result<Value, String> {
    let output_of = |stack: &str, attribute: &str| -> Option<Result<Value, String>> {
        let name = attribute.strip_prefix("Outputs.")?;
        let is_nested = outputs.keys().any(|(s, _)| s == stack);
        if !is_nested {
            return None;
        }
        Some(
            outputs
                .get(&(stack.to_string(), name.to_string()))
                .cloned()
                .ok_or_else(|| format!("{stack} has no output {name}")),
        )
    };
    Ok(match value {
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| substitute_outputs(v, outputs))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) if map.len() == 1 => {
            let (key, arg) = map.iter().next().expect("one entry");
            let get_att = match (key.as_str(), arg) {
                ("Fn::GetAtt", Value::Array(parts)) if parts.len() == 2 => parts[0]
                    .as_str()
                    .zip(parts[1].as_str())
                    .map(|(a, b)| (a.to_string(), b.to_string())),
                ("Fn::GetAtt", Value::String(s)) => s
                    .split_once('.')
                    .map(|(a, b)| (a.to_string(), b.to_string())),
                _ => None,
            };
            if let Some(found) =
                get_att.and_then(|(stack, attribute)| output_of(&stack, &attribute))
            {
                return found;
            }
            match (key.as_str(), arg) {
                ("Fn::Sub", Value::String(_)) | ("Fn::Sub", Value::Array(_)) => {
                    let (text, vars) = match arg {
                        Value::String(text) => (text.as_str(), Map::new()),
                        Value::Array(parts) => (
                            parts.first().and_then(Value::as_str).unwrap_or_default(),
                            match parts.get(1).map(|v| substitute_outputs(v, outputs)) {
                                Some(Ok(Value::Object(vars))) => vars,
                                Some(Err(e)) => return Err(e),
                                _ => Map::new(),
                            },
                        ),
                        _ => unreachable!(),
                    };
                    let mut missing = None;
                    let sub = sub_with(text, &vars, |name| {
                        let (stack, attribute) = name.split_once('.')?;
                        match output_of(stack, attribute)? {
                            Ok(v) => Some(v),
                            Err(e) => {
                                missing = Some(e);
                                None
                            }
                        }
                    });
                    if let Some(e) = missing {
                        return Err(e);
                    }
                    sub
                }
                _ => {
                    let mut out = Map::new();
                    out.insert(key.clone(), substitute_outputs(arg, outputs)?);
                    Value::Object(out)
                }
            }
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), substitute_outputs(v, outputs)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

/// SAM merges Globals into a function: maps merge key by key, lists append, scalars are overridden.
pub fn merge_globals(base: &mut Value, function: &Value) {
    match (base, function) {
        (Value::Object(base), Value::Object(function)) => {
            for (k, v) in function {
                match base.get_mut(k) {
                    Some(existing) => merge_globals(existing, v),
                    None => {
                        base.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (Value::Array(base), Value::Array(function)) => base.extend(function.iter().cloned()),
        (base, function) => *base = function.clone(),
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

/// The full names of a Sub text (`Name`, `Name.Attribute`), pseudo parameters and `${!Literal}`s left out.
fn sub_full_names(text: &str, found: &mut Vec<String>) {
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { return };
        let name = &after[..end];
        if !name.starts_with('!') && !name.starts_with("AWS::") {
            found.push(name.to_string());
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

/// YAML → JSON; `!Ref x` becomes `{"Ref": x}` (`!Condition` likewise), `!GetAtt A.B` becomes `{"Fn::GetAtt": [A, B]}`,
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
                // `!Condition X` is a condition's reference, `{"Condition": X}` in the long form.
                "Ref" | "Condition" => (name.to_string(), value),
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
            t.parameters["Architecture"],
            json!("x86_64"),
            "parameter defaults are kept"
        );
        assert_eq!(
            t.parameters["IssuerUrl"],
            Value::Null,
            "a required parameter has no value until the stack gives one"
        );
        assert_eq!(
            t.resources["AuthTable"].attributes["DeletionPolicy"],
            json!("Retain"),
            "resource attributes are kept"
        );
        assert_eq!(
            t.conditions["ReservesSignInConcurrency"],
            json!({"Fn::Not": [{"Fn::Equals": [{"Ref": "SignInReservedConcurrency"}, "0"]}]}),
            "a nested stack's conditions, its parameters read as what the root passes"
        );
        assert_eq!(t.resources["AuthTable"].kind, "AWS::DynamoDB::Table");
        assert!(t.of_kind("AWS::Serverless::Function").count() >= 10);
        assert_eq!(
            t.resources["AuthMeFunction"].metadata["BuildProperties"]["Binary"],
            json!("auth-me")
        );
        assert_eq!(
            t.resources["AuthMeFunction"].properties["Environment"]["Variables"]["EVENT_BUS_NAME"],
            json!({"Ref": "EventBus"}),
            "the nested stack's Globals, its parameter read as what the root passes"
        );
        assert_eq!(
            t.resources["AuthMeFunction"].stack.as_deref(),
            Some("AuthStack")
        );
        assert_eq!(t.resources["EventBus"].stack, None);
        let stacks: Vec<&str> = t.stacks.iter().map(|s| s.logical_id.as_str()).collect();
        for context in [
            "Auth",
            "Tasks",
            "Clock",
            "Accounting",
            "Notifications",
            "Analytics",
        ] {
            assert!(
                stacks.contains(&format!("{context}Stack").as_str()),
                "{stacks:?}"
            );
        }
        assert_eq!(
            t.outputs["BootstrapAdminFunction"],
            json!({"Ref": "AuthBootstrapAdminFunction"}),
            "a nested stack's output, read through"
        );
    }

    /// A root and a nested stack in a scratch directory.
    fn nested_pair(root: &str, nested: &str) -> Result<Template, String> {
        let dir = std::env::temp_dir().join(format!(
            "ates-template-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        std::fs::create_dir_all(dir.join("ctx")).unwrap();
        std::fs::write(dir.join("root.yaml"), root).unwrap();
        std::fs::write(dir.join("ctx/template.yaml"), nested).unwrap();
        let loaded = Template::load(&dir.join("root.yaml"));
        let _ = std::fs::remove_dir_all(&dir);
        loaded
    }
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

    const NESTED: &str = r#"
Parameters:
  BusName: { Type: String }
  BusArn: { Type: String }
  Level: { Type: String, Default: info }
Globals:
  Function:
    Architectures: [x86_64]
    Environment: { Variables: { BUS: !Ref BusName, LEVEL: !Ref Level } }
Resources:
  CtxQueue: { Type: AWS::SQS::Queue }
  CtxFunction:
    Type: AWS::Serverless::Function
    Properties:
      Environment: { Variables: { QUEUE: !Ref CtxQueue } }
      Policies:
        - Statement:
            - Effect: Allow
              Action: events:PutEvents
              Resource: !Ref BusArn
            - Effect: Allow
              Action: sqs:SendMessage
              Resource: !Sub "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:x-${BusName}-${Local}"
Outputs:
  Function: { Value: !Ref CtxFunction }
  Queue: { Value: !GetAtt CtxQueue.Arn }
"#;

    #[test]
    fn nested_stacks_read_into_one_template() {
        let t = nested_pair(
            r#"
Resources:
  Bus: { Type: AWS::Events::EventBus, Properties: { Name: ates } }
  Ctx:
    Type: AWS::Serverless::Application
    Properties:
      Location: ctx/template.yaml
      Parameters: { BusName: !Ref Bus, BusArn: !GetAtt Bus.Arn }
  Watcher:
    Type: AWS::SQS::QueuePolicy
    Properties: { Queues: [!GetAtt Ctx.Outputs.Queue], Text: !Sub "fn-${Ctx.Outputs.Function}" }
Outputs:
  Function: { Value: !GetAtt Ctx.Outputs.Function }
"#,
            NESTED,
        )
        .unwrap();
        let f = &t.resources["CtxFunction"];
        assert_eq!(f.stack.as_deref(), Some("Ctx"));
        assert_eq!(
            f.properties["Environment"]["Variables"],
            json!({"BUS": {"Ref": "Bus"}, "LEVEL": "info", "QUEUE": {"Ref": "CtxQueue"}}),
            "Globals merged; parameters are what the root passes, or their defaults"
        );
        assert_eq!(f.properties["Architectures"], json!(["x86_64"]));
        let statements = &f.properties["Policies"][0]["Statement"];
        assert_eq!(
            statements[0]["Resource"],
            json!({"Fn::GetAtt": ["Bus", "Arn"]})
        );
        assert_eq!(
            statements[1]["Resource"],
            json!({"Fn::Sub": [
                "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:x-${BusName}-${Local}",
                {"BusName": {"Ref": "Bus"}}
            ]})
        );
        assert_eq!(
            references(&statements[1]["Resource"]),
            [
                "AWS::Partition",
                "AWS::Region",
                "AWS::AccountId",
                "Local",
                "Bus"
            ]
        );
        assert_eq!(t.outputs["Function"], json!({"Ref": "CtxFunction"}));
        let watcher = &t.resources["Watcher"].properties;
        assert_eq!(
            watcher["Queues"],
            json!([{"Fn::GetAtt": ["CtxQueue", "Arn"]}])
        );
        assert_eq!(
            watcher["Text"],
            json!({"Fn::Sub": ["fn-${Ctx.Outputs.Function}", {"Ctx.Outputs.Function": {"Ref": "CtxFunction"}}]})
        );
        assert_eq!(t.stacks.len(), 1);

        let r = crate::resolve::Resolver::new(&t, &[], "http://127.0.0.1:5000");
        assert_eq!(
            r.resolve(&watcher["Text"]).unwrap(),
            json!("fn-CtxFunction")
        );
        assert_eq!(
            r.resolve(&statements[0]["Resource"]).unwrap(),
            json!("arn:aws:events:us-east-1:123456789012:event-bus/ates")
        );
    }

    #[test]
    fn conditions_join_in_the_roots_terms_and_one_name_means_one_thing() {
        let nested = format!("{NESTED}Conditions:\n  Debugging: !Equals [!Ref Level, debug]\n");
        let root = |condition: &str| {
            format!(
                "Conditions:\n  Debugging: {condition}\nResources:\n  Ctx:\n    Type: AWS::Serverless::Application\n    Properties:\n      Location: ctx/template.yaml\n      Parameters: {{ BusName: a, BusArn: b, Level: !Ref Wanted }}\n"
            )
        };
        let t = nested_pair(&root("!Equals [!Ref Wanted, debug]"), &nested).unwrap();
        assert_eq!(
            t.conditions["Debugging"],
            json!({"Fn::Equals": [{"Ref": "Wanted"}, "debug"]})
        );
        let clash = nested_pair(&root("!Equals [!Ref Wanted, trace]"), &nested).unwrap_err();
        assert!(clash.contains("condition Debugging"), "{clash}");
    }

    #[test]
    fn a_nested_stack_gets_every_parameter_it_needs_and_no_other_and_ids_stay_unique() {
        let root = |parameters: &str| {
            format!(
                "Resources:\n  Ctx:\n    Type: AWS::Serverless::Application\n    Properties:\n      Location: ctx/template.yaml\n      Parameters: {parameters}\n"
            )
        };
        let missing = nested_pair(&root("{ BusName: a }"), NESTED).unwrap_err();
        assert!(missing.contains("does not pass BusArn"), "{missing}");
        let extra = nested_pair(&root("{ BusName: a, BusArn: b, Nope: c }"), NESTED).unwrap_err();
        assert!(extra.contains("passes Nope"), "{extra}");
        let twice = nested_pair(
            &format!(
                "{}  CtxQueue: {{ Type: AWS::SQS::Queue }}\n",
                root("{ BusName: a, BusArn: b }")
            ),
            NESTED,
        )
        .unwrap_err();
        assert!(twice.contains("CtxQueue"), "{twice}");
        let unknown_output = nested_pair(
            &format!(
                "{}Outputs:\n  X: {{ Value: !GetAtt Ctx.Outputs.Nope }}\n",
                root("{ BusName: a, BusArn: b }")
            ),
            NESTED,
        )
        .unwrap_err();
        assert!(
            unknown_output.contains("no output Nope"),
            "{unknown_output}"
        );
    }
}
