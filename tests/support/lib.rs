//! Support for the whole-system tests: the template as data, and (for end-to-end tests) a local
//! stack of our own.

use std::path::PathBuf;

pub use serde_yaml::Value as Yaml;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

pub fn yaml(file: &str) -> Yaml {
    let text = std::fs::read_to_string(root().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// Every logical id that a value refers to, through `!Ref`, `!GetAtt` or their long forms.
pub fn references(value: &Yaml) -> Vec<String> {
    let mut found = Vec::new();
    collect(value, &mut found);
    found
}

fn collect(value: &Yaml, found: &mut Vec<String>) {
    match value {
        Yaml::Tagged(tagged) => match (tagged.tag.to_string().as_str(), &tagged.value) {
            ("!Ref", Yaml::String(id)) => found.push(id.clone()),
            ("!GetAtt", Yaml::String(path)) => found.push(path.split('.').next().unwrap_or_default().to_owned()),
            (_, inner) => collect(inner, found),
        },
        Yaml::Mapping(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    (Some("Ref"), Yaml::String(id)) => found.push(id.clone()),
                    (Some("Fn::GetAtt"), Yaml::Sequence(parts)) => {
                        found.extend(parts.first().and_then(Yaml::as_str).map(str::to_owned))
                    }
                    _ => collect(v, found),
                }
            }
        }
        Yaml::Sequence(items) => items.iter().for_each(|v| collect(v, found)),
        _ => {}
    }
}

/// A function of the template: its logical id, binary and properties.
pub struct Function {
    pub id: String,
    pub binary: String,
    pub properties: Yaml,
}

pub fn functions(template: &Yaml) -> Vec<Function> {
    template["Resources"]
        .as_mapping()
        .expect("Resources")
        .iter()
        .filter(|(_, r)| r["Type"].as_str() == Some("AWS::Serverless::Function"))
        .map(|(id, r)| Function {
            id: id.as_str().unwrap_or_default().to_owned(),
            binary: r["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap_or_default().to_owned(),
            properties: r["Properties"].clone(),
        })
        .collect()
}

/// `(METHOD, path, scopes)` of every HttpApi route; scopes empty where the route is public.
pub fn routes(template: &Yaml) -> Vec<(String, String, Vec<String>)> {
    let mut routes = Vec::new();
    for f in functions(template) {
        let Some(events) = f.properties["Events"].as_mapping() else { continue };
        for (_, event) in events {
            if event["Type"].as_str() != Some("HttpApi") {
                continue;
            }
            let p = &event["Properties"];
            let scopes = p["Auth"]["AuthorizationScopes"]
                .as_sequence()
                .map(|s| s.iter().filter_map(Yaml::as_str).map(str::to_owned).collect())
                .unwrap_or_default();
            routes.push((p["Method"].as_str().unwrap_or_default().to_uppercase(), p["Path"].as_str().unwrap_or_default().to_owned(), scopes));
        }
    }
    routes.sort();
    routes
}
