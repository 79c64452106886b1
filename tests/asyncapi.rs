//! `events/asyncapi.yaml`: the events as an AsyncAPI 3.0 document, generated from the schema
//! registry (`events/`) and from how `template.yaml` wires the bus. The test
//! fails when the checked-in document is stale; this rewrites it:
//!
//! ```sh
//! ATES_REGENERATE=1 cargo test -p ates-tests --test asyncapi
//! ```
//!
//! Nothing here names an event, a context or a function: a new event, version, producer or
//! consumer appears in the document by being added where it lives.
//!
//! - Events: every `events/<Name>/v<N>.schema.json` (the payload, verbatim) and its example; the
//!   envelope (`events/envelope.schema.json`) once, as a message trait.
//! - Producer: the context (`functions/<dir>`, publishing as its `PRODUCER`) whose production
//!   code builds one of the event's Rust types (a `DomainEvent` whose `NAME` is the event, found
//!   in `shared/` or the contexts); the versions of the types it builds are the ones it sends.
//!   The template's rules say where they expect the event from (`source`): they must agree with
//!   the code, and they decide where the code alone is ambiguous or silent.
//! - Consumers: every enabled `AWS::Events::Rule` on the project's bus, and every
//!   `EventBridgeRule`/`CloudWatchEvent` event of a function, whose pattern matches the event
//!   as it travels (the local stack's pattern matcher, on an EventBridge entry built from the
//!   envelope example and the version's example), followed to the function: a rule's target
//!   queue to the functions it feeds, or a function target directly.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use ates_local::pattern;
use ates_tests::{event_schemas, functions, property, references, root, template, Template, Yaml};
use serde_json::Value;
use serde_yaml::Mapping;

const DOCUMENT: &str = "events/asyncapi.yaml";
const REGENERATE: &str = "ATES_REGENERATE=1 cargo test -p ates-tests --test asyncapi";
const SCHEMA_FORMAT: &str = "application/schema+json;version=draft-2020-12";

#[test]
fn the_asyncapi_document_is_generated_from_the_registry_and_the_template() {
    let generated = generate(&root());
    let path = root().join(DOCUMENT);
    if std::env::var("ATES_REGENERATE").is_ok_and(|v| !v.is_empty() && v != "0") {
        std::fs::write(&path, &generated).unwrap_or_else(|e| panic!("{DOCUMENT}: {e}"));
        eprintln!("{DOCUMENT} regenerated");
        return;
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    if current != generated {
        let end = || std::iter::repeat("<end of file>");
        let lines = current.lines().count().max(generated.lines().count());
        let (line, (have, want)) = current
            .lines()
            .chain(end())
            .zip(generated.lines().chain(end()))
            .take(lines)
            .enumerate()
            .find(|(_, (have, want))| have != want)
            .unwrap_or((lines, ("(other line endings)", "")));
        panic!(
            "{DOCUMENT} is stale (line {}: it has {have:?}, the registry and the template say \
             {want:?}). Regenerate it:\n    {REGENERATE}",
            line + 1
        );
    }
}

// ------------------------------------------------------------------------------ the events

struct Event {
    name: String,
    versions: Vec<Version>,
}

struct Version {
    number: u32,
    /// The schema and the example as written (keys in their order).
    schema: Yaml,
    example: Yaml,
    /// The example as data, to route.
    example_value: Value,
}

/// A JSON file read twice: as YAML, to keep its keys' order in the document, and as JSON.
fn read_json(root: &Path, path: &str) -> (Yaml, Value) {
    let text = std::fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    let value: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    let yaml: Yaml = serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    let same: Value = serde_yaml::from_value(yaml.clone()).expect("YAML reads back as JSON");
    assert_eq!(same, value, "{path} reads the same as YAML and as JSON");
    (yaml, value)
}

fn events(root: &Path) -> Vec<Event> {
    let mut events: Vec<Event> = Vec::new();
    for (name, number, path) in event_schemas(root) {
        let (schema, _) = read_json(root, &path);
        let example_path = path.replace(".schema.json", ".example.json");
        let (example, example_value) = read_json(root, &example_path);
        let version = Version {
            number,
            schema,
            example,
            example_value,
        };
        match events.last_mut() {
            Some(event) if event.name == name => event.versions.push(version),
            _ => events.push(Event {
                name,
                versions: vec![version],
            }),
        }
    }
    for event in &mut events {
        event.versions.sort_by_key(|v| v.number);
    }
    events
}

// ------------------------------------------------------------------------------- the code

/// A bounded context: `functions/<dir>`, the name it publishes under, its production code and
/// its binaries.
struct Context {
    dir: String,
    producer: Option<String>,
    code: String,
    binaries: BTreeSet<String>,
}

fn contexts(root: &Path) -> Vec<Context> {
    let mut contexts = Vec::new();
    for dir in sorted_entries(&root.join("functions")) {
        let src = dir.join("src");
        if !src.is_dir() {
            continue;
        }
        let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap_or_default();
        let binaries = sorted_entries(&src.join("bin"))
            .iter()
            .filter_map(|f| f.file_stem())
            .map(|f| f.to_string_lossy().into_owned())
            .collect();
        contexts.push(Context {
            dir: dir.file_name().unwrap().to_string_lossy().into_owned(),
            producer: const_value(&lib, "PRODUCER").map(unquote),
            code: production_code(&src),
            binaries,
        });
    }
    contexts
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .map(|e| e.expect("a readable folder").path())
        .collect();
    entries.sort();
    entries
}

/// The Rust under `src` that runs in production: no `tests` folders or `tests.rs` files, no
/// trailing `#[cfg(test)] mod`, no comments.
fn production_code(src: &Path) -> String {
    let mut code = String::new();
    let mut pending = vec![src.to_path_buf()];
    while let Some(path) = pending.pop() {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if path.is_dir() {
            if name != "tests" {
                pending.extend(sorted_entries(&path));
            }
            continue;
        }
        if !name.ends_with(".rs") || name == "tests.rs" {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let mut lines = text.lines().peekable();
        while let Some(line) = lines.next() {
            let line = line.trim();
            if line == "#[cfg(test)]" {
                match lines.peek().map(|next| next.trim()) {
                    // A test module here: the rest of the file is tests.
                    Some(next) if next.contains("mod ") && next.ends_with('{') => break,
                    // One in its own file (`mod tests;`), which is not read.
                    Some(next) if next.contains("mod ") => {
                        lines.next();
                        continue;
                    }
                    _ => {}
                }
            }
            if !line.starts_with("//") {
                code.push_str(line);
                code.push('\n');
            }
        }
    }
    code
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

/// The identifier (or macro parameter, `$name`) at the start of `text`.
fn leading_ident(text: &str) -> &str {
    let text = text.trim_start();
    &text[..text.find(|c| !is_ident(c)).unwrap_or(text.len())]
}

/// What `const KEY: .. = <value>;` sets, as written.
fn const_value<'a>(code: &'a str, key: &str) -> Option<&'a str> {
    let at = code
        .match_indices(&format!("const {key}"))
        .map(|(at, _)| at)
        .find(|&at| !code[at + 6 + key.len()..].starts_with(is_ident))?;
    let rest = &code[at..];
    let value = &rest[rest.find('=')? + 1..];
    Some(value[..value.find(';')?].trim())
}

fn unquote(literal: &str) -> String {
    literal.trim().trim_matches('"').to_owned()
}

/// A Rust type of an event: `(type, event name, version)`.
type EventType = (String, String, Option<u32>);

/// The [`EventType`] of every `impl DomainEvent for T { const NAME ..; const
/// VERSION ..; }` in `code`, also where a `macro_rules!` writes the impl and its invocations
/// name the type (`account_event!(AccountCreated, "Account.Created")`).
fn domain_events(code: &str) -> Vec<EventType> {
    const IMPL: &str = "DomainEvent for ";
    let mut found = Vec::new();
    for (at, _) in code.match_indices(IMPL) {
        let rest = &code[at + IMPL.len()..];
        let block = &rest[..rest.find('}').unwrap_or(rest.len())];
        let fields = [
            leading_ident(rest),
            const_value(block, "NAME").unwrap_or_default(),
            const_value(block, "VERSION").unwrap_or_default(),
        ];
        let mut push = |[ty, name, version]: [&str; 3]| {
            found.push((ty.to_owned(), unquote(name), version.parse().ok()));
        };
        if !fields.iter().any(|f| f.starts_with('$')) {
            push(fields);
            continue;
        }
        // Written by a macro: its matcher lists the parameters, each call gives their values.
        let Some(start) = code[..at].rfind("macro_rules!") else {
            continue;
        };
        let definition = &code[start + "macro_rules!".len()..at];
        let name = leading_ident(definition);
        let matcher = definition.split("=>").next().unwrap_or_default();
        let parameters: Vec<&str> = matcher.split('$').skip(1).map(leading_ident).collect();
        for (call, _) in code.match_indices(&format!("{name}!(")) {
            let args = &code[call + name.len() + 2..];
            let args: Vec<&str> = args[..args.find(')').unwrap_or(args.len())]
                .split(',')
                .map(str::trim)
                .collect();
            push(fields.map(|field| argument(field, &parameters, &args)));
        }
    }
    found
}

/// A macro body's `$parameter` as one call sets it; anything else as it is.
fn argument<'a>(field: &'a str, parameters: &[&str], args: &[&'a str]) -> &'a str {
    match field.strip_prefix('$') {
        Some(p) => parameters
            .iter()
            .position(|q| *q == p)
            .and_then(|i| args.get(i).copied())
            .unwrap_or_default(),
        None => field,
    }
}

/// Whether `code` builds a value of type `ty` (`Ty { .. }`, `Ty(..)`, `Ty::new(..)`), not only
/// names it (a `use`, a signature, `Ty::NAME`, a `let Ty { .. } =` destructuring).
fn constructs(code: &str, ty: &str) -> bool {
    code.match_indices(ty).any(|(at, _)| {
        let before = code[..at].trim_end();
        let after = &code[at + ty.len()..];
        let whole = !code[..at].ends_with(is_ident) && !after.starts_with(is_ident);
        let constructor = after.strip_prefix("::").is_some_and(|rest| {
            let method = leading_ident(rest);
            method.starts_with(|c: char| c.is_lowercase())
                && rest[method.len()..].trim_start().starts_with('(')
        });
        let opens = after.trim_start().starts_with(['{', '(']) || constructor;
        let previous = &before[before.rfind(|c| !is_ident(c)).map_or(0, |i| i + 1)..];
        let declares = [
            "struct", "enum", "union", "impl", "for", "fn", "let", "type", "trait",
        ]
        .contains(&previous)
            || before.ends_with("->");
        whole && opens && !declares
    })
}

// --------------------------------------------------------------------------- the template

/// One way events reach a consumer: a rule (or a function's rule event), its pattern, and
/// the function (or other target) it ends in, through a queue or not.
struct Route {
    rule: String,
    pattern: Value,
    queue: Option<String>,
    target: String,
}

fn pattern_of(value: &Value) -> Option<Value> {
    match value {
        Value::String(text) => serde_json::from_str(text).ok(),
        Value::Object(_) => Some(value.clone()),
        _ => None,
    }
}

fn routes(t: &Template) -> Vec<Route> {
    // The project's buses, by logical id and by name.
    let buses: BTreeSet<String> = t
        .of_kind("AWS::Events::EventBus")
        .flat_map(|bus| {
            let name = property(&bus.properties, "Name")
                .as_str()
                .map(str::to_owned);
            [Some(bus.logical_id.clone()), name].into_iter().flatten()
        })
        .collect();
    let on_our_bus = |bus: &Value| {
        let named = bus
            .as_str()
            .map(|b| b.rsplit('/').next().unwrap_or(b).to_owned());
        references(bus)
            .into_iter()
            .chain(named)
            .any(|b| buses.contains(&b))
    };
    let fed_by = |queue: &str| -> Vec<String> {
        functions(t)
            .filter(|f| {
                property(&f.properties, "Events")
                    .as_object()
                    .into_iter()
                    .flatten()
                    .any(|(_, e)| {
                        e["Type"].as_str() == Some("SQS")
                            && references(&e["Properties"]["Queue"])
                                .first()
                                .map(String::as_str)
                                == Some(queue)
                    })
            })
            .map(|f| f.logical_id.clone())
            .collect()
    };

    let mut routes = Vec::new();
    for rule in t.of_kind("AWS::Events::Rule") {
        let p = &rule.properties;
        if property(p, "State").as_str() == Some("DISABLED")
            || !on_our_bus(property(p, "EventBusName"))
        {
            continue;
        }
        let Some(pattern) = pattern_of(property(p, "EventPattern")) else {
            continue;
        };
        for target in property(p, "Targets").as_array().into_iter().flatten() {
            let Some(id) = references(&target["Arn"]).into_iter().next() else {
                continue;
            };
            let is_queue = t
                .resources
                .get(&id)
                .is_some_and(|r| r.kind == "AWS::SQS::Queue");
            let targets = if is_queue { fed_by(&id) } else { Vec::new() };
            if targets.is_empty() {
                routes.push(Route {
                    rule: rule.logical_id.clone(),
                    pattern: pattern.clone(),
                    queue: None,
                    target: id.clone(),
                });
            }
            for function in targets {
                routes.push(Route {
                    rule: rule.logical_id.clone(),
                    pattern: pattern.clone(),
                    queue: Some(id.clone()),
                    target: function,
                });
            }
        }
    }
    for f in functions(t) {
        for (name, event) in property(&f.properties, "Events")
            .as_object()
            .into_iter()
            .flatten()
        {
            let p = &event["Properties"];
            let kind = event["Type"].as_str().unwrap_or_default();
            if !["EventBridgeRule", "CloudWatchEvent"].contains(&kind)
                || p["State"].as_str() == Some("DISABLED")
                || !on_our_bus(&p["EventBusName"])
            {
                continue;
            }
            if let Some(pattern) = pattern_of(&p["Pattern"]) {
                routes.push(Route {
                    rule: format!("{}.Events.{name}", f.logical_id),
                    pattern,
                    queue: None,
                    target: f.logical_id.clone(),
                });
            }
        }
    }
    routes
}

/// The values a pattern's field accepts when it lists only literal strings; None when it does
/// not filter on the field or filters otherwise too (a prefix, say).
fn literals(pattern: &Value, field: &str) -> Option<Vec<String>> {
    pattern
        .get(field)?
        .as_array()?
        .iter()
        .map(|alternative| alternative.as_str().map(str::to_owned))
        .collect()
}

/// The event as EventBridge delivers it to rules: the envelope example, made this event.
fn on_the_bus(envelope: &Value, name: &str, version: u32, producer: &str, data: &Value) -> Value {
    let mut detail = envelope.clone();
    detail["name"] = name.into();
    detail["version"] = version.into();
    detail["producer"] = producer.into();
    detail["data"] = data.clone();
    serde_json::json!({
        "version": "0",
        "id": "00000000-0000-0000-0000-000000000000",
        "detail-type": name,
        "source": format!("ates.{producer}"),
        "account": "000000000000",
        "time": detail["occurred_at"],
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    })
}

// ----------------------------------------------------------------------- who sends what

struct Producer {
    name: String,
    dir: Option<String>,
    /// The versions its code builds; empty when that is unknown.
    versions: BTreeSet<u32>,
}

fn producer(
    event: &Event,
    contexts: &[Context],
    types: &[EventType],
    routes: &[Route],
) -> Producer {
    let name = &event.name;
    // What the code says: the contexts building one of the event's types.
    let mut by_code: BTreeMap<String, (String, BTreeSet<u32>)> = BTreeMap::new();
    for context in contexts {
        let Some(producer) = &context.producer else {
            continue;
        };
        for (ty, _, version) in types.iter().filter(|(_, n, _)| n == name) {
            if constructs(&context.code, ty) {
                let entry = by_code
                    .entry(producer.clone())
                    .or_insert_with(|| (context.dir.clone(), BTreeSet::new()));
                entry.1.extend(*version);
            }
        }
    }
    // What the template says: the sources of the rules that name the event.
    let mut expected: Option<BTreeSet<String>> = None;
    let mut naming = Vec::new();
    for route in routes {
        let names_it = literals(&route.pattern, "detail-type").is_some_and(|n| n.contains(name));
        let Some(sources) = literals(&route.pattern, "source").filter(|_| names_it) else {
            continue;
        };
        let sources: BTreeSet<String> = sources
            .iter()
            .filter_map(|s| s.strip_prefix("ates."))
            .map(str::to_owned)
            .collect();
        naming.push((route.rule.clone(), sources.clone()));
        expected = Some(match expected {
            None => sources,
            Some(before) => before.intersection(&sources).cloned().collect(),
        });
    }
    let mut candidates: BTreeSet<String> = by_code.keys().cloned().collect();
    if let Some(expected) = &expected {
        if candidates.is_empty() {
            candidates = expected.clone();
        } else {
            candidates.retain(|c| expected.contains(c));
        }
    }
    let mut candidates = candidates.into_iter();
    let (Some(chosen), None) = (candidates.next(), candidates.next()) else {
        panic!(
            "who produces {name}? The code builds it in {:?}; the template's rules expect it \
             from {naming:?}. One context must build it (a DomainEvent whose NAME is {name:?}, \
             in a crate with a PRODUCER), and every rule naming it must accept that source.",
            by_code.keys().collect::<Vec<_>>()
        )
    };
    let (dir, versions) = by_code.remove(&chosen).unzip();
    Producer {
        name: chosen,
        dir,
        versions: versions.unwrap_or_default(),
    }
}

// ---------------------------------------------------------------------------- the document

fn map<const N: usize>(entries: [(&str, Yaml); N]) -> Yaml {
    let mut m = Mapping::new();
    for (key, value) in entries {
        if !value.is_null() {
            m.insert(Yaml::from(key), value);
        }
    }
    Yaml::Mapping(m)
}

fn text(value: impl Into<String>) -> Yaml {
    Yaml::String(value.into())
}

fn reference(pointer: impl AsRef<str>) -> Yaml {
    map([("$ref", text(pointer.as_ref()))])
}

fn multi_format(schema: Yaml) -> Yaml {
    map([("schemaFormat", text(SCHEMA_FORMAT)), ("schema", schema)])
}

fn field(value: &Yaml, key: &str) -> Yaml {
    value.get(key).cloned().unwrap_or(Yaml::Null)
}

/// The functions' contexts: `functions/<dir>` of the binary each one runs.
fn context_of(t: &Template, contexts: &[Context], function: &str) -> Option<String> {
    let binary = t.resources.get(function)?.binary()?;
    contexts
        .iter()
        .find(|c| c.binaries.contains(binary))
        .map(|c| c.dir.clone())
}

fn generate(root: &Path) -> String {
    let t = template();
    let events = events(root);
    let contexts = contexts(root);
    let mut types = domain_events(&production_code(&root.join("shared/src")));
    for context in &contexts {
        types.extend(domain_events(&context.code));
    }
    let routes = routes(&t);
    let (envelope, _) = read_json(root, "events/envelope.schema.json");
    let (envelope_text, envelope_example) = read_json(root, "events/envelope.example.json");
    let producers_allowed: Vec<String> = field(&field(&envelope, "properties"), "producer")
        .get("enum")
        .and_then(|e| serde_yaml::from_value(e.clone()).ok())
        .unwrap_or_default();
    // The bus is named after the stack: its name as the local stack (the stack `ates`) has it.
    let resolver = ates_local::resolve::Resolver::new(&t, &[], "http://127.0.0.1:4566");
    let buses: Vec<String> = t
        .of_kind("AWS::Events::EventBus")
        .map(|b| {
            match resolver
                .resolve(property(&b.properties, "Name"))
                .ok()
                .as_ref()
                .and_then(|n| n.as_str())
            {
                Some(name) => format!("`{name}` ({})", b.logical_id),
                None => b.logical_id.clone(),
            }
        })
        .collect();

    let mut channels = Mapping::new();
    let mut operations = Mapping::new();
    let mut messages = Mapping::new();
    for event in &events {
        let name = &event.name;
        let producer = producer(event, &contexts, &types, &routes);
        assert!(
            producers_allowed.is_empty() || producers_allowed.contains(&producer.name),
            "{name}: producer {} is not in the envelope's producer enum {producers_allowed:?}",
            producer.name
        );
        let channel = format!("#/channels/{name}");
        let in_channel = |v: u32| reference(format!("{channel}/messages/v{v}"));

        // Messages: one per version.
        let mut channel_messages = Mapping::new();
        for version in &event.versions {
            let v = version.number;
            let id = format!("{name}.v{v}");
            let mut headers = Mapping::new();
            for (key, value) in envelope_text.as_mapping().into_iter().flatten() {
                let value = match key.as_str().unwrap_or_default() {
                    "data" => continue,
                    "name" => text(name),
                    "version" => Yaml::from(v),
                    "producer" => text(&producer.name),
                    _ => value.clone(),
                };
                headers.insert(key.clone(), value);
            }
            let title = format!("{name} v{v}");
            let summary = field(&version.schema, "title");
            messages.insert(
                text(&id),
                map([
                    ("name", text(name)),
                    ("title", text(&title)),
                    (
                        "summary",
                        if summary.as_str() == Some(&title) {
                            Yaml::Null
                        } else {
                            summary
                        },
                    ),
                    ("description", field(&version.schema, "description")),
                    ("contentType", text("application/json")),
                    (
                        "traits",
                        Yaml::Sequence(vec![reference("#/components/messageTraits/Envelope")]),
                    ),
                    ("payload", multi_format(version.schema.clone())),
                    (
                        "examples",
                        Yaml::Sequence(vec![map([
                            ("name", text(format!("v{v}"))),
                            ("headers", Yaml::Mapping(headers)),
                            ("payload", version.example.clone()),
                        ])]),
                    ),
                ]),
            );
            channel_messages.insert(
                text(format!("v{v}")),
                reference(format!("#/components/messages/{id}")),
            );
        }
        let routing = format!(
            "On the EventBridge bus {} as `detail-type` `{name}`, `source` `ates.{}`; the entry's \
             `detail` is the envelope, whose `data` is the payload.",
            buses.join(", "),
            producer.name
        );
        channels.insert(
            text(name),
            map([
                ("address", text(name)),
                ("title", text(name)),
                ("description", text(routing)),
                ("messages", Yaml::Mapping(channel_messages)),
            ]),
        );

        // The producer's send: the versions its code builds (all, where that is unknown).
        let all: Vec<u32> = event.versions.iter().map(|v| v.number).collect();
        let sent: Vec<u32> = match all
            .iter()
            .copied()
            .filter(|v| producer.versions.contains(v))
            .collect::<Vec<_>>()
        {
            none if none.is_empty() => all.clone(),
            some => some,
        };
        let versions = |vs: &[u32]| {
            vs.iter()
                .map(|v| format!("v{v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let from = match &producer.dir {
            Some(dir) => format!("the {} context (functions/{dir})", producer.name),
            None => format!("`ates.{}` (as the template's rules expect)", producer.name),
        };
        operations.insert(
            text(format!("{name}.sent-by.{}", producer.name)),
            map([
                ("action", text("send")),
                ("channel", reference(&channel)),
                ("title", text(format!("{} publishes {name}", producer.name))),
                (
                    "description",
                    text(format!(
                        "Produced by {from}; it publishes {}.",
                        versions(&sent)
                    )),
                ),
                (
                    "messages",
                    Yaml::Sequence(sent.iter().map(|&v| in_channel(v)).collect()),
                ),
                ("x-ates-producer", text(&producer.name)),
            ]),
        );

        // Each consumer's receive: the versions its rules match.
        let mut received: BTreeMap<&str, (BTreeSet<u32>, BTreeSet<String>)> = BTreeMap::new();
        for version in &event.versions {
            let entry = on_the_bus(
                &envelope_example,
                name,
                version.number,
                &producer.name,
                &version.example_value,
            );
            for route in routes
                .iter()
                .filter(|r| pattern::matches(&r.pattern, &entry))
            {
                let via = match &route.queue {
                    Some(queue) => format!("rule {} and queue {queue}", route.rule),
                    None => format!("rule {}", route.rule),
                };
                let consumer = received.entry(route.target.as_str()).or_default();
                consumer.0.insert(version.number);
                consumer.1.insert(via);
            }
        }
        for (target, (versions_received, via)) in received {
            let resource = t.resources.get(target);
            let context = context_of(&t, &contexts, target);
            let who = match (resource.and_then(|r| r.binary()), &context) {
                (Some(binary), Some(dir)) => {
                    format!("{target} (binary {binary}, functions/{dir})")
                }
                _ => format!(
                    "{target} ({})",
                    resource.map_or("not in the template", |r| r.kind.as_str())
                ),
            };
            let vs: Vec<u32> = versions_received.into_iter().collect();
            operations.insert(
                text(format!("{name}.received-by.{target}")),
                map([
                    ("action", text("receive")),
                    ("channel", reference(&channel)),
                    (
                        "title",
                        text(format!(
                            "{} receives {name}",
                            context.as_deref().unwrap_or(target)
                        )),
                    ),
                    (
                        "description",
                        text(format!(
                            "{who}, through {}; it receives {}.",
                            via.into_iter().collect::<Vec<_>>().join(", "),
                            versions(&vs)
                        )),
                    ),
                    (
                        "messages",
                        Yaml::Sequence(vs.iter().map(|&v| in_channel(v)).collect()),
                    ),
                    ("x-ates-consumer", context.map_or(Yaml::Null, Yaml::String)),
                    ("x-ates-function", text(target)),
                ]),
            );
        }
    }

    // The envelope, once: every field but `data` (the payload) as the messages' headers.
    let mut headers = envelope.clone();
    if let Some(Yaml::Mapping(properties)) = headers.get_mut("properties") {
        properties.remove("data");
    }
    if let Some(Yaml::Sequence(required)) = headers.get_mut("required") {
        required.retain(|r| r.as_str() != Some("data"));
    }
    let envelope_trait = map([
        ("title", field(&envelope, "title")),
        (
            "summary",
            text(
                "events/envelope.schema.json: the EventBridge entry's detail; its `data` is the \
                 message's payload, the rest are these headers.",
            ),
        ),
        ("description", field(&envelope, "description")),
        ("headers", multi_format(headers)),
        (
            "correlationId",
            map([
                (
                    "description",
                    text("Links a request to every event it caused."),
                ),
                ("location", text("$message.header#/correlation_id")),
            ]),
        ),
    ]);

    let description = format!(
        "The domain events of aTES. Generated from the schema registry (events/) and \
         template.yaml by tests/asyncapi.rs; do not edit, regenerate with `{REGENERATE}`.\n\n\
         Every event is an EventBridge entry whose `source` is `ates.<producer>`, whose \
         `detail-type` is the event's name and whose `detail` is the envelope (the Envelope \
         message trait, events/envelope.schema.json); a message's payload is the envelope's \
         `data`, described by events/<name>/v<version>.schema.json. A producer's operation \
         lists the versions it publishes today; a consumer's, the versions its rules deliver, \
         which it decodes through ates_kernel::contracts.\n"
    );
    let document = map([
        ("asyncapi", text("3.0.0")),
        (
            "info",
            map([
                ("title", text("aTES events")),
                ("version", text(env!("CARGO_PKG_VERSION"))),
                ("description", text(description)),
            ]),
        ),
        ("defaultContentType", text("application/json")),
        ("channels", Yaml::Mapping(channels)),
        ("operations", Yaml::Mapping(operations)),
        (
            "components",
            map([
                ("messageTraits", map([("Envelope", envelope_trait)])),
                ("messages", Yaml::Mapping(messages)),
            ]),
        ),
    ]);
    format!(
        "# Generated from events/ and template.yaml by tests/asyncapi.rs; do not edit.\n\
         # Regenerate: {REGENERATE}\n{}",
        serde_yaml::to_string(&document).expect("the document serializes")
    )
}

// --------------------------------------------------------------------- the derivation

#[test]
fn event_types_are_found_in_impls_and_in_macros() {
    let an_impl = r#"
impl DomainEvent for TaskCreated {
const NAME: &'static str = "Task.Created";
const VERSION: u32 = 3;
}
"#;
    assert_eq!(
        domain_events(an_impl),
        [("TaskCreated".into(), "Task.Created".into(), Some(3))]
    );
    // The account events' macro, as the kernel writes it.
    let macro_made = include_str!("../shared/src/contracts/accounts.rs");
    assert_eq!(
        domain_events(macro_made),
        [
            ("AccountCreated".into(), "Account.Created".into(), Some(1)),
            ("AccountUpdated".into(), "Account.Updated".into(), Some(1)),
            (
                "AccountDeactivated".into(),
                "Account.Deactivated".into(),
                Some(1)
            ),
        ]
    );
}

#[test]
fn building_a_value_is_told_from_naming_its_type() {
    for built in [
        "let created = TaskCreated {",
        "Envelope::wrap(PRODUCER, &AccountCreated(account.snapshot()), cause, now)?;",
        "Ok(contracts::TaskCreated { task_id })",
        "let priced = TaskCreated::new(task, now);",
    ] {
        assert!(
            constructs(built, "TaskCreated") || constructs(built, "AccountCreated"),
            "{built}"
        );
    }
    for named in [
        "use ates_kernel::contracts::tasks::{TaskAssigned, TaskCreated};",
        "pub struct TaskCreated {",
        "fn created(task: &Task) -> TaskCreated {",
        "impl From<Task> for TaskCreated {",
        "let e: TaskCreatedV1 = envelope.decode()?;",
        "let TaskCreatedV2 { title, .. } = v2;",
        "decode::<TaskCreated>()",
        "TaskCreated::NAME => handle(envelope),",
    ] {
        assert!(!constructs(named, "TaskCreated"), "{named}");
    }
}

#[test]
fn every_event_has_one_producer_and_the_rules_agree_with_the_code() {
    // generate() panics otherwise; this names the producers the code has today.
    let root = root();
    let contexts = contexts(&root);
    let mut types = domain_events(&production_code(&root.join("shared/src")));
    for context in &contexts {
        types.extend(domain_events(&context.code));
    }
    let routes = routes(&template());
    let producers: BTreeMap<String, String> = events(&root)
        .iter()
        .map(|e| (e.name.clone(), producer(e, &contexts, &types, &routes).name))
        .collect();
    assert_eq!(producers["Account.Created"], "auth");
    assert_eq!(producers["Task.Created"], "tasks");
    assert_eq!(producers["Clock.DayEnded"], "clock");
}

fn fixture(rule_source: Option<&str>) -> (Event, Vec<Context>, Vec<EventType>, Vec<Route>) {
    let event = Event {
        name: "Day.Closed".into(),
        versions: Vec::new(),
    };
    let contexts = vec![Context {
        dir: "accounting".into(),
        producer: Some("accounting".into()),
        code: "let closed = DayClosed { date };\n".into(),
        binaries: BTreeSet::new(),
    }];
    let types: Vec<EventType> = vec![("DayClosed".into(), "Day.Closed".into(), Some(1))];
    let routes = rule_source
        .map(|source| Route {
            rule: "NotificationsDayEventsRule".into(),
            pattern: serde_json::json!({"source": [source], "detail-type": ["Day.Closed"]}),
            queue: None,
            target: "NotificationsMailStatementFunction".into(),
        })
        .into_iter()
        .collect();
    (event, contexts, types, routes)
}

#[test]
fn the_producer_is_the_context_that_builds_the_event_and_the_rules_must_agree() {
    let (event, contexts, types, routes) = fixture(Some("ates.accounting"));
    let found = producer(&event, &contexts, &types, &routes);
    assert_eq!(
        (found.name.as_str(), found.dir.as_deref()),
        ("accounting", Some("accounting"))
    );
    assert_eq!(found.versions, BTreeSet::from([1]));

    // Where no code builds it, the rules' source says who sends it.
    let found = producer(&event, &[], &types, &routes);
    assert_eq!((found.name.as_str(), found.dir), ("accounting", None));

    let (event, contexts, types, routes) = fixture(Some("ates.tasks"));
    let disagreeing = std::panic::catch_unwind(|| producer(&event, &contexts, &types, &routes));
    assert!(
        disagreeing.is_err(),
        "a rule expecting another source is refused"
    );
    let (event, _, types, _) = fixture(None);
    let unknown = std::panic::catch_unwind(|| producer(&event, &[], &types, &[]));
    assert!(
        unknown.is_err(),
        "an event nobody builds and nobody names is refused"
    );
}
