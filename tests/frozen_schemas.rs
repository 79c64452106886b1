//! Published event schemas are frozen: a schema in `events/` may change only in ways
//! that keep every event it described valid and every property it named. Anything else — a
//! removed property, a newly required one, a narrowed type, a new `enum`, `pattern` or bound,
//! `additionalProperties` closed — is a new version: `events/<Name>/v<N+1>.schema.json`, with a
//! decoder in `ates_kernel::contracts` that accepts both. New files have no history and pass.
//!
//! Checked: every `events/*/v*.schema.json` and `events/envelope.schema.json` in the working tree
//! against HEAD, and every consecutive pair of its committed versions (first-parent history, so
//! the check means something on a fresh clone too). Without git, or in a shallow clone, the test
//! says what it could not check.

use std::path::Path;
use std::process::Command;

use ates_tests::{event_schemas, root};
use serde_json::{json, Map, Value};

/// Breaks that reached history before this check existed, or on a branch that was never
/// published, each with its reason: `(commit id or prefix, schema path, why it is acceptable)`.
/// Empty: no committed schema has ever changed incompatibly. Add an entry only for a commit that
/// cannot be rewritten and whose schema version no deployed producer ever used.
const ALLOWED_BREAKS: &[(&str, &str, &str)] = &[];

/// Keywords that describe and never constrain.
const ANNOTATIONS: &[&str] = &[
    "$schema",
    "$id",
    "$comment",
    "title",
    "description",
    "examples",
    "default",
    "deprecated",
    "readOnly",
    "writeOnly",
];

/// Bounds a new version may raise (or drop) but never add or lower.
const UPPER_BOUNDS: &[&str] = &[
    "maxLength",
    "maxItems",
    "maxProperties",
    "maximum",
    "exclusiveMaximum",
];

/// Bounds a new version may lower (or drop) but never add or raise.
const LOWER_BOUNDS: &[&str] = &[
    "minLength",
    "minItems",
    "minProperties",
    "minimum",
    "exclusiveMinimum",
];

/// Keywords compared one by one below; any other constraint may be dropped or kept as it is,
/// but a new or changed one is a break (this check cannot tell whether it accepts less).
const UNDERSTOOD: &[&str] = &[
    "type",
    "enum",
    "const",
    "required",
    "properties",
    "additionalProperties",
    "items",
    "multipleOf",
];

const ALL_TYPES: &[&str] = &[
    "array", "boolean", "integer", "null", "number", "object", "string",
];

/// What `new` refuses that `old` accepted, or what of `old` it no longer names: empty when `new`
/// is a backward-compatible change of `old`. Each line says where (a JSON pointer into the
/// schema) and what.
pub fn breaking_changes(old: &Value, new: &Value) -> Vec<String> {
    let mut found = Vec::new();
    compare(old, new, "", &mut found);
    found
}

fn compare(old: &Value, new: &Value, at: &str, found: &mut Vec<String>) {
    if old == new {
        return;
    }
    let here = if at.is_empty() { "/" } else { at };
    let mut broke = |what: String| found.push(format!("{here}: {what}"));
    // Boolean schemas: `true` accepts everything, `false` nothing.
    let (old, new) = match (old, new) {
        (Value::Bool(false), _) => return,
        (_, Value::Bool(false)) => return broke("now accepts nothing (false)".into()),
        _ => (as_object(old), as_object(new)),
    };

    // Types: every type an old instance could have must still be allowed.
    if let Some(allowed) = declared_types(&new) {
        let before = effective_types(&old);
        let lost: Vec<&str> = before
            .iter()
            .copied()
            .filter(|t| !covers(&allowed, t))
            .collect();
        if !lost.is_empty() {
            broke(format!(
                "type narrowed from {} to {} (refuses {})",
                before.join("|"),
                allowed.join("|"),
                lost.join(", ")
            ));
        }
    }

    // Values: a new enum or const must keep every value the old one allowed.
    if let Some(allowed) = allowed_values(&new) {
        match allowed_values(&old) {
            None => broke(format!(
                "added {} (values were unrestricted)",
                if new.contains_key("const") {
                    "const"
                } else {
                    "enum"
                }
            )),
            Some(before) => {
                for value in before.iter().filter(|v| !allowed.contains(v)) {
                    broke(format!("value {value} no longer allowed"));
                }
            }
        }
    }

    // Required: nothing newly required.
    let required = |schema: &Map<String, Value>| -> Vec<String> {
        schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    };
    let required_before = required(&old);
    for field in required(&new) {
        if !required_before.contains(&field) {
            broke(format!("newly required property `{field}`"));
        }
    }

    // Properties: none removed, each compatible, a new one compatible with what old allowed
    // for it (nothing to check when old refused unknown properties).
    let empty = Map::new();
    let properties = |schema: &Map<String, Value>| -> Map<String, Value> {
        schema
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty)
            .clone()
    };
    let (old_properties, new_properties) = (properties(&old), properties(&new));
    let old_additional = old
        .get("additionalProperties")
        .unwrap_or(&Value::Bool(true));
    let new_additional = new
        .get("additionalProperties")
        .unwrap_or(&Value::Bool(true));
    for (name, before) in &old_properties {
        match new_properties.get(name) {
            None => found.push(format!("{here}: removed property `{name}`")),
            Some(after) => compare(before, after, &format!("{at}/properties/{name}"), found),
        }
    }
    for (name, after) in &new_properties {
        if !old_properties.contains_key(name) && *old_additional != Value::Bool(false) {
            // Old events may carry this property with any value additionalProperties allowed.
            compare(
                old_additional,
                after,
                &format!("{at}/properties/{name} (added to an open object)"),
                found,
            );
        }
    }
    if *old_additional != Value::Bool(false) {
        if *new_additional == Value::Bool(false) {
            found.push(format!(
                "{here}: additionalProperties closed (false): properties it allowed are refused"
            ));
        } else if old_additional != new_additional {
            compare(
                old_additional,
                new_additional,
                &format!("{at}/additionalProperties"),
                found,
            );
        }
    }

    // Items.
    let items = |schema: &Map<String, Value>| schema.get("items").cloned();
    let (old_items, new_items) = (items(&old), items(&new));
    if let Some(after) = &new_items {
        compare(
            old_items.as_ref().unwrap_or(&Value::Bool(true)),
            after,
            &format!("{at}/items"),
            found,
        );
    }

    let mut broke = |what: String| found.push(format!("{here}: {what}"));
    // Bounds.
    for (bounds, tighter) in [
        (
            UPPER_BOUNDS,
            (|new: f64, old: f64| new < old) as fn(f64, f64) -> bool,
        ),
        (LOWER_BOUNDS, |new, old| new > old),
    ] {
        for &bound in bounds {
            let Some(after) = new.get(bound).and_then(Value::as_f64) else {
                continue;
            };
            match old.get(bound).and_then(Value::as_f64) {
                None => broke(format!("added {bound} {after}")),
                Some(before) if tighter(after, before) => {
                    broke(format!("{bound} tightened from {before} to {after}"))
                }
                Some(_) => {}
            }
        }
    }
    if let Some(after) = new.get("multipleOf").and_then(Value::as_f64) {
        let before = old.get("multipleOf").and_then(Value::as_f64);
        if !before.is_some_and(|b| (b / after).fract() == 0.0) {
            broke(format!(
                "multipleOf {after} refuses numbers the old schema allowed"
            ));
        }
    }

    // Everything else (pattern, format, allOf, anyOf, not, $ref, …): kept as it was, or dropped.
    for (keyword, after) in &new {
        let known = ANNOTATIONS.contains(&keyword.as_str())
            || UNDERSTOOD.contains(&keyword.as_str())
            || UPPER_BOUNDS.contains(&keyword.as_str())
            || LOWER_BOUNDS.contains(&keyword.as_str())
            || keyword.starts_with("x-");
        if !known && old.get(keyword) != Some(after) {
            broke(match old.get(keyword) {
                None => format!("added {keyword} {after}"),
                Some(before) => format!("changed {keyword} from {before} to {after}"),
            });
        }
    }
}

/// Whether a `type` list allows instances of type `t` (every integer is a number).
fn covers(types: &[&str], t: &str) -> bool {
    types.contains(&t) || (t == "integer" && types.contains(&"number"))
}

fn as_object(schema: &Value) -> Map<String, Value> {
    match schema {
        Value::Object(map) => map.clone(),
        // `true`, and anything that is not a schema, constrains nothing.
        _ => Map::new(),
    }
}

/// The schema's `type` as a list; None when it has none (every type).
fn declared_types(schema: &Map<String, Value>) -> Option<Vec<&str>> {
    match schema.get("type")? {
        Value::String(t) => Some(vec![t.as_str()]),
        Value::Array(ts) => Some(ts.iter().filter_map(Value::as_str).collect()),
        _ => None,
    }
}

/// The types an instance valid under the schema can have: its `type`, narrowed by its
/// `enum`/`const` values when it has them.
fn effective_types(schema: &Map<String, Value>) -> Vec<&'static str> {
    let declared = declared_types(schema);
    let declared = |t: &str| {
        declared
            .as_ref()
            .is_none_or(|d| d.contains(&t) || (t == "integer" && d.contains(&"number")))
    };
    let mut types: Vec<&'static str> = match allowed_values(schema) {
        Some(values) => values.iter().map(type_of).collect(),
        None => ALL_TYPES.to_vec(),
    };
    types.retain(|t| declared(t));
    if types.contains(&"number") {
        types.retain(|t| *t != "integer"); // every integer is a number
    }
    types.sort();
    types.dedup();
    types
}

fn allowed_values(schema: &Map<String, Value>) -> Option<Vec<Value>> {
    match (schema.get("const"), schema.get("enum")) {
        (Some(value), _) => Some(vec![value.clone()]),
        (None, Some(Value::Array(values))) => Some(values.clone()),
        _ => None,
    }
}

fn type_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(n) if n.as_f64().is_some_and(|f| f.fract() == 0.0) => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

// ------------------------------------------------------------------------------------- git

/// `git -C <root> <args>`: its output, or None when git is missing or the command fails.
fn git(root: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

/// A schema as committed at `rev` (`path` relative to the repository's top); None where the
/// commit has no such file.
fn committed(root: &Path, rev: &str, path: &str) -> Option<Value> {
    let text = git(root, &["show", &format!("{rev}:{path}")])?;
    Some(serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} at {rev}: {e}")))
}

/// `(commit, path at that commit)` of every first-parent commit that changed the file, oldest
/// first, following renames; paths relative to the repository's top. First-parent: a merge
/// counts as one change, so versions from two parallel branches are never compared.
fn history(root: &Path, path: &str) -> Vec<(String, String)> {
    let log = git(
        root,
        &[
            "log",
            "--first-parent",
            "--follow",
            "--name-only",
            "--format=%x01%H",
            "--",
            path,
        ],
    )
    .unwrap_or_default();
    let mut revisions: Vec<(String, String)> = log
        .split('\u{1}')
        .filter_map(|entry| {
            let mut lines = entry.lines().map(str::trim).filter(|l| !l.is_empty());
            Some((lines.next()?.to_owned(), lines.next()?.to_owned()))
        })
        // `--follow` finds renames by likeness: a new event's schema, close to another event's,
        // is taken for that one renamed. A rename never changes which event a schema is of, so
        // the history ends where the path names another event.
        .take_while(|(_, older)| event_of(older) == event_of(path))
        .collect();
    revisions.reverse();
    revisions
}

/// The event a schema's path is of: `events/Order.Created/v1.schema.json` → `Order.Created`.
fn event_of(path: &str) -> &str {
    let path = path.rsplit_once("events/").map_or(path, |(_, rest)| rest);
    path.split('/').next().unwrap_or(path)
}

/// The frozen files: every versioned event schema, and the envelope all of them travel in.
fn frozen_files(root: &Path) -> Vec<String> {
    event_schemas(root)
        .into_iter()
        .map(|(_, _, path)| path)
        .chain(["events/envelope.schema.json".to_owned()])
        .filter(|path| root.join(path).exists())
        .collect()
}

fn is_frozen(path: &str) -> bool {
    path == "events/envelope.schema.json"
        || path.strip_prefix("events/").is_some_and(|rest| {
            rest.split_once('/').is_some_and(|(_, file)| {
                file.strip_prefix('v')
                    .and_then(|f| f.strip_suffix(".schema.json"))
                    .is_some_and(|v| v.parse::<u32>().is_ok())
            })
        })
}

/// What the check found in the repository at `root`: the breaks, and notes on what it could
/// not check.
#[derive(Debug, Default)]
struct Findings {
    breaks: Vec<String>,
    notes: Vec<String>,
}

fn check_repository(root: &Path, allowed_breaks: &[(&str, &str, &str)]) -> Findings {
    let mut findings = Findings::default();
    let read = |path: &str| -> Value {
        let text =
            std::fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
    };
    let files = frozen_files(root);
    for path in &files {
        read(path);
    }

    if git(root, &["rev-parse", "--verify", "--quiet", "HEAD"]).is_none() {
        findings.notes.push(format!(
            "no git repository (or no commit) at {}: the schemas were read, but cannot be \
             compared with their published versions",
            root.display()
        ));
        return findings;
    }
    if git(root, &["rev-parse", "--is-shallow-repository"]).is_some_and(|s| s.trim() == "true") {
        findings.notes.push(
            "shallow clone: history is compared only as far back as it was fetched \
             (git fetch --unshallow for all of it)"
                .into(),
        );
    }

    // The working tree against HEAD: what the change at hand does.
    let prefix = git(root, &["rev-parse", "--show-prefix"]).unwrap_or_default();
    let prefix = prefix.trim();
    for path in &files {
        if let Some(published) = committed(root, "HEAD", &format!("{prefix}{path}")) {
            for problem in breaking_changes(&published, &read(path)) {
                findings
                    .breaks
                    .push(format!("{path} (working tree vs HEAD) at {problem}"));
            }
        }
    }
    let at_head = git(
        root,
        &["ls-tree", "-r", "--name-only", "HEAD", "--", "events"],
    )
    .unwrap_or_default();
    for path in at_head.lines().filter(|p| is_frozen(p)) {
        if !root.join(path).exists() {
            findings.breaks.push(format!(
                "{path}: published at HEAD, missing from the working tree (old events still \
                 name this version)"
            ));
        }
    }

    // Every committed change: what history did, checked again on every clone.
    let mut compared = 0;
    for path in &files {
        for pair in history(root, path).windows(2) {
            let ((old_rev, old_path), (new_rev, new_path)) = (&pair[0], &pair[1]);
            let (Some(before), Some(after)) = (
                committed(root, old_rev, old_path),
                committed(root, new_rev, new_path),
            ) else {
                continue; // deleted in one of them
            };
            compared += 1;
            let allowed = allowed_breaks
                .iter()
                .any(|(commit, p, _)| p == new_path && new_rev.starts_with(commit));
            if allowed {
                continue;
            }
            for problem in breaking_changes(&before, &after) {
                findings.breaks.push(format!(
                    "{new_path} changed in commit {} (from {}) at {problem}",
                    &new_rev[..12],
                    &old_rev[..12]
                ));
            }
        }
    }
    findings.notes.push(format!(
        "{} files compared with HEAD, {compared} committed changes compared",
        files.len()
    ));
    findings
}

#[test]
fn published_event_schemas_change_only_compatibly() {
    let findings = check_repository(&root(), ALLOWED_BREAKS);
    for note in &findings.notes {
        eprintln!("frozen schemas: {note}");
    }
    assert!(
        findings.breaks.is_empty(),
        "published event schemas changed incompatibly:\n  {}\n\
         A breaking change is a new version: events/<Name>/v<N+1>.schema.json (+ example), \
         registered in ates_kernel::schema::REGISTRY, with a decoder accepting both. A break \
         already in history that no deployed producer used goes into ALLOWED_BREAKS \
         (tests/frozen_schemas.rs) with its reason.",
        findings.breaks.join("\n  ")
    );
}

/// A throwaway repository for the history tests; None (and the test says so) without git.
fn scratch_repository(test: &str) -> Option<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("ates-frozen-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("events/Popug.Flew")).unwrap();
    if git(&dir, &["init", "--quiet"]).is_none() {
        eprintln!("{test}: git is not available; skipped");
        return None;
    }
    for setting in [
        ["user.name", "frozen-schemas test"],
        ["user.email", "test@ates.invalid"],
        ["commit.gpgsign", "false"],
    ] {
        git(&dir, &["config", setting[0], setting[1]]).unwrap();
    }
    Some(dir)
}

fn commit(dir: &Path, schema: &Value, message: &str) -> String {
    std::fs::write(
        dir.join("events/Popug.Flew/v1.schema.json"),
        serde_json::to_string_pretty(schema).unwrap(),
    )
    .unwrap();
    git(dir, &["add", "-A"]).unwrap();
    git(dir, &["commit", "--quiet", "-m", message]).unwrap();
    git(dir, &["rev-parse", "HEAD"]).unwrap().trim().to_owned()
}

#[test]
fn a_break_in_committed_history_is_found_and_an_allowed_one_is_not() {
    let Some(dir) = scratch_repository("history") else {
        return;
    };
    commit(&dir, &task(), "Popug.Flew v1");
    commit(
        &dir,
        &with(task(), "/properties/version", json!({"type": "integer"})),
        "an optional field",
    );
    let broke = commit(
        &dir,
        &with(task(), "/properties/title/maxLength", json!(100)),
        "shorter titles",
    );
    let findings = check_repository(&dir, &[]);
    assert_eq!(findings.breaks.len(), 2, "{findings:?}");
    assert!(
        findings.breaks.iter().all(|b| b.contains(&broke[..12])),
        "{findings:?}"
    );
    assert!(findings
        .breaks
        .iter()
        .any(|b| b.contains("removed property `version`")));
    assert!(findings
        .breaks
        .iter()
        .any(|b| b.contains("maxLength tightened")));
    assert!(findings
        .notes
        .iter()
        .any(|n| n.contains("2 committed changes")));

    let allowed = [(&broke[..8], "events/Popug.Flew/v1.schema.json", "a test")];
    assert!(check_repository(&dir, &allowed).breaks.is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_break_in_the_working_tree_is_found_and_a_new_version_is_not() {
    let Some(dir) = scratch_repository("worktree") else {
        return;
    };
    commit(&dir, &task(), "Popug.Flew v1");
    std::fs::write(
        dir.join("events/Popug.Flew/v1.schema.json"),
        with(task(), "/required", json!(["task_id", "title", "jira_id"])).to_string(),
    )
    .unwrap();
    let findings = check_repository(&dir, &[]);
    assert_eq!(
        findings.breaks,
        ["events/Popug.Flew/v1.schema.json (working tree vs HEAD) at /: newly required property `jira_id`"]
    );

    // The same change as v2, v1 left alone: fine, and v2 has no history yet.
    std::fs::write(
        dir.join("events/Popug.Flew/v1.schema.json"),
        serde_json::to_string_pretty(&task()).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.join("events/Popug.Flew/v2.schema.json"),
        with(task(), "/required", json!(["task_id", "title", "jira_id"])).to_string(),
    )
    .unwrap();
    assert!(check_repository(&dir, &[]).breaks.is_empty());

    // Deleting a published version is a break.
    std::fs::remove_file(dir.join("events/Popug.Flew/v1.schema.json")).unwrap();
    let findings = check_repository(&dir, &[]);
    assert!(
        findings
            .breaks
            .iter()
            .any(|b| b.contains("missing from the working tree")),
        "{findings:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn without_git_the_schemas_are_only_read_and_the_test_says_so() {
    let dir = std::env::temp_dir().join(format!("ates-frozen-tarball-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("events/Popug.Flew")).unwrap();
    std::fs::write(
        dir.join("events/Popug.Flew/v1.schema.json"),
        task().to_string(),
    )
    .unwrap();
    // A directory outside any repository: GIT_CEILING_DIRECTORIES is not ours to set, so only
    // run where the temp dir is not inside a repository.
    if git(&dir, &["rev-parse", "--git-dir"]).is_some() {
        eprintln!("the temp dir is inside a git repository; skipped");
        return;
    }
    let findings = check_repository(&dir, &[]);
    assert!(findings.breaks.is_empty());
    assert!(
        findings.notes[0].contains("no git repository"),
        "{findings:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

// ----------------------------------------------------------------------- the rule itself

fn object(properties: Value, required: &[&str]) -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": required,
        "properties": properties,
    })
}

fn task() -> Value {
    object(
        json!({
            "task_id": {"type": "string", "format": "uuid"},
            "title": {"type": "string", "maxLength": 200},
            "jira_id": {"type": ["string", "null"]},
        }),
        &["task_id", "title"],
    )
}

/// The schema with the keyword at `pointer` set (added or replaced).
fn with(mut schema: Value, pointer: &str, value: Value) -> Value {
    let (parent, key) = pointer.rsplit_once('/').expect("a JSON pointer");
    schema
        .pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("{pointer}"))
        .insert(key.to_owned(), value);
    schema
}

fn breaks(old: &Value, new: &Value) -> String {
    breaking_changes(old, new).join("; ")
}

#[test]
fn an_unchanged_schema_and_changed_descriptions_are_compatible() {
    assert_eq!(breaks(&task(), &task()), "");
    let described = with(
        task(),
        "/properties/title/description",
        json!("What to do."),
    );
    assert_eq!(breaks(&task(), &described), "");
}

#[test]
fn a_removed_property_breaks() {
    let mut new = task();
    new["properties"].as_object_mut().unwrap().remove("jira_id");
    assert_eq!(breaks(&task(), &new), "/: removed property `jira_id`");
}

#[test]
fn an_added_optional_property_is_compatible() {
    let new = with(task(), "/properties/version", json!({"type": "integer"}));
    assert_eq!(breaks(&task(), &new), "");
}

#[test]
fn a_property_added_to_an_open_object_must_accept_what_the_object_allowed() {
    // Old events may already carry it, with any value.
    let open = with(task(), "/additionalProperties", json!(true));
    let new = with(
        open.clone(),
        "/properties/version",
        json!({"type": "integer"}),
    );
    assert!(
        breaks(&open, &new).contains("type narrowed"),
        "{}",
        breaks(&open, &new)
    );
    let anything = with(
        open.clone(),
        "/properties/note",
        json!({"description": "free"}),
    );
    assert_eq!(breaks(&open, &anything), "");
}

#[test]
fn a_newly_required_property_breaks() {
    let new = with(task(), "/required", json!(["task_id", "title", "jira_id"]));
    assert_eq!(
        breaks(&task(), &new),
        "/: newly required property `jira_id`"
    );
    let added_required = with(
        with(task(), "/properties/version", json!({"type": "integer"})),
        "/required",
        json!(["task_id", "title", "version"]),
    );
    assert_eq!(
        breaks(&task(), &added_required),
        "/: newly required property `version`"
    );
}

#[test]
fn a_property_no_longer_required_is_compatible() {
    let new = with(task(), "/required", json!(["task_id"]));
    assert_eq!(breaks(&task(), &new), "");
}

#[test]
fn a_narrowed_type_breaks() {
    let not_null = with(task(), "/properties/jira_id/type", json!("string"));
    assert_eq!(
        breaks(&task(), &not_null),
        "/properties/jira_id: type narrowed from null|string to string (refuses null)"
    );
    let number = with(task(), "/properties/title/type", json!("integer"));
    assert!(breaks(&task(), &number).contains("type narrowed from string to integer"));
    let number = with(task(), "/properties/version", json!({"type": "number"}));
    let integer = with(task(), "/properties/version", json!({"type": "integer"}));
    assert_eq!(
        breaks(&number, &integer),
        "/properties/version: type narrowed from number to integer (refuses number)"
    );
}

#[test]
fn a_widened_type_is_compatible() {
    let nullable = with(task(), "/properties/title/type", json!(["string", "null"]));
    assert_eq!(breaks(&task(), &nullable), "");
    let integer = with(task(), "/properties/version", json!({"type": "integer"}));
    let number = with(task(), "/properties/version", json!({"type": "number"}));
    assert_eq!(breaks(&integer, &number), "");
    let untyped = with(task(), "/properties/title", json!({}));
    assert_eq!(breaks(&task(), &untyped), "");
}

#[test]
fn an_added_enum_pattern_or_format_breaks_and_a_dropped_one_is_compatible() {
    let role = with(
        task(),
        "/properties/role",
        json!({"enum": ["admin", "worker"]}),
    );
    let fewer = with(role.clone(), "/properties/role/enum", json!(["admin"]));
    assert_eq!(
        breaks(&role, &fewer),
        "/properties/role: value \"worker\" no longer allowed"
    );
    let more = with(
        role.clone(),
        "/properties/role/enum",
        json!(["admin", "worker", "x"]),
    );
    assert_eq!(breaks(&role, &more), "");
    let enumerated = with(task(), "/properties/title/enum", json!(["a"]));
    assert!(breaks(&task(), &enumerated).contains("added enum"));
    let constant = with(task(), "/properties/title/const", json!("a"));
    assert!(breaks(&task(), &constant).contains("added const"));

    let pattern = with(task(), "/properties/title/pattern", json!("^[^\\[\\]]+$"));
    assert!(breaks(&task(), &pattern).contains("added pattern"));
    assert_eq!(breaks(&pattern, &task()), "");
    let other = with(pattern.clone(), "/properties/title/pattern", json!("^.+$"));
    assert!(breaks(&pattern, &other).contains("changed pattern"));
    let format = with(task(), "/properties/title/format", json!("email"));
    assert!(breaks(&task(), &format).contains("added format"));
}

#[test]
fn a_tightened_bound_breaks_and_a_loosened_one_is_compatible() {
    let shorter = with(task(), "/properties/title/maxLength", json!(100));
    assert_eq!(
        breaks(&task(), &shorter),
        "/properties/title: maxLength tightened from 200 to 100"
    );
    let longer = with(task(), "/properties/title/maxLength", json!(300));
    assert_eq!(breaks(&task(), &longer), "");
    let minimum = with(task(), "/properties/title/minLength", json!(1));
    assert_eq!(
        breaks(&task(), &minimum),
        "/properties/title: added minLength 1"
    );
    assert_eq!(breaks(&minimum, &task()), "");
}

#[test]
fn closing_additional_properties_breaks() {
    let open = with(task(), "/additionalProperties", json!(true));
    assert_eq!(
        breaks(&open, &task()),
        "/: additionalProperties closed (false): properties it allowed are refused"
    );
    assert_eq!(breaks(&task(), &open), "");
    let implicit = {
        let mut s = task();
        s.as_object_mut().unwrap().remove("additionalProperties");
        s
    };
    assert!(breaks(&implicit, &task()).contains("additionalProperties closed"));
}

#[test]
fn nested_objects_and_items_are_compared_too() {
    let nested = with(
        task(),
        "/properties/tags",
        json!({"type": "array", "items": task()}),
    );
    let narrowed = with(
        nested.clone(),
        "/properties/tags/items/properties/jira_id/type",
        json!("string"),
    );
    assert!(
        breaks(&nested, &narrowed)
            .starts_with("/properties/tags/items/properties/jira_id: type narrowed"),
        "{}",
        breaks(&nested, &narrowed)
    );
}

#[test]
fn the_published_versions_that_replaced_each_other_were_breaks() {
    // The rule agrees with history: each v<N+1> in events/ was needed.
    let root = root();
    let read = |path: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(root.join(path)).unwrap()).unwrap()
    };
    for (old, new) in [
        (
            "events/Task.Created/v1.schema.json",
            "events/Task.Created/v2.schema.json",
        ),
        (
            "events/Task.Created/v2.schema.json",
            "events/Task.Created/v3.schema.json",
        ),
        (
            "events/Task.Assigned/v1.schema.json",
            "events/Task.Assigned/v2.schema.json",
        ),
        (
            "events/Task.Completed/v1.schema.json",
            "events/Task.Completed/v2.schema.json",
        ),
    ] {
        assert!(
            !breaking_changes(&read(old), &read(new)).is_empty(),
            "{old} -> {new}"
        );
    }
}

#[test]
fn a_schema_is_of_the_event_its_folder_names() {
    assert_eq!(
        event_of("events/Order.Created/v1.schema.json"),
        "Order.Created"
    );
    assert_eq!(
        event_of("sub/events/Supplies.KitReceived/v1.schema.json"),
        "Supplies.KitReceived"
    );
    assert_ne!(
        event_of("events/Supplies.KitIssued/v1.schema.json"),
        event_of("events/Supplies.KitReceived/v1.schema.json"),
        "a likeness is no rename"
    );
}
