//! `openapi.yaml` as a document: every Schema Object in it uses only the keywords of the Schema
//! Object of the OpenAPI version it declares.
//!
//! A YAML flow mapping ends a plain scalar at a comma, so
//! `{ type: string, description: The address as given, in lower case }` is a description of
//! "The address as given" and a second key, `in lower case`, with no value. JSON Schema ignores a
//! keyword it does not know, so nothing else notices: the document still validates, Schemathesis
//! still runs, and the reader is told half a sentence. Any key that is no keyword is such a slip
//! (or a keyword of another version: `nullable` is OpenAPI 3.0's, not 3.1's); `x-` extensions
//! are allowed.

use ates_tests::{yaml, Yaml};

/// The Schema Object of OpenAPI 3.1: JSON Schema 2020-12 (core, applicator, unevaluated,
/// validation, format, content and meta-data vocabularies) plus OpenAPI's own fixed fields.
#[rustfmt::skip] // grouped by vocabulary, not one a line
const OPENAPI_3_1_SCHEMA_KEYWORDS: &[&str] = &[
    // core
    "$schema", "$id", "$ref", "$anchor", "$dynamicRef", "$dynamicAnchor", "$vocabulary",
    "$comment", "$defs",
    // applicator
    "allOf", "anyOf", "oneOf", "not", "if", "then", "else", "dependentSchemas", "prefixItems",
    "items", "contains", "properties", "patternProperties", "additionalProperties",
    "propertyNames",
    // unevaluated
    "unevaluatedItems", "unevaluatedProperties",
    // validation
    "type", "enum", "const", "multipleOf", "maximum", "exclusiveMaximum", "minimum",
    "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems",
    "uniqueItems", "maxContains", "minContains", "maxProperties", "minProperties", "required",
    "dependentRequired",
    // format and content
    "format", "contentEncoding", "contentMediaType", "contentSchema",
    // meta-data
    "title", "description", "default", "deprecated", "readOnly", "writeOnly", "examples",
    // OpenAPI's fixed fields of a Schema Object (`example` is deprecated in 3.1, still allowed)
    "discriminator", "xml", "externalDocs", "example",
];

/// Keywords whose value is one schema.
const ONE_SCHEMA: &[&str] = &[
    "not",
    "if",
    "then",
    "else",
    "items",
    "contains",
    "additionalProperties",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
    "contentSchema",
];
/// Keywords whose value is a list of schemas.
const SCHEMA_LIST: &[&str] = &["allOf", "anyOf", "oneOf", "prefixItems"];
/// Keywords whose value maps names to schemas.
const SCHEMA_MAP: &[&str] = &[
    "properties",
    "patternProperties",
    "dependentSchemas",
    "$defs",
];

fn key(k: &Yaml) -> String {
    match k {
        Yaml::String(s) => s.clone(),
        other => serde_yaml::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_owned(),
    }
}

/// Checks one Schema Object (a boolean schema has no keys) and the schemas inside it.
fn schema(node: &Yaml, at: &str, wrong: &mut Vec<String>) {
    let Some(map) = node.as_mapping() else { return };
    for (k, v) in map {
        let name = key(k);
        let here = format!("{at}/{name}");
        if !(OPENAPI_3_1_SCHEMA_KEYWORDS.contains(&name.as_str()) || name.starts_with("x-")) {
            let value = serde_yaml::to_string(v).unwrap_or_default();
            wrong.push(format!("{here} = {}", value.trim()));
            continue;
        }
        if ONE_SCHEMA.contains(&name.as_str()) {
            schema(v, &here, wrong);
        } else if SCHEMA_LIST.contains(&name.as_str()) {
            for (i, s) in v.as_sequence().into_iter().flatten().enumerate() {
                schema(s, &format!("{here}/{i}"), wrong);
            }
        } else if SCHEMA_MAP.contains(&name.as_str()) {
            for (n, s) in v.as_mapping().into_iter().flatten() {
                schema(s, &format!("{here}/{}", key(n)), wrong);
            }
        }
    }
}

/// Walks the document outside schemas: every `schema` field (of a parameter, a header, a media
/// type) and every entry of `components.schemas` is a Schema Object. Examples are data, not
/// document structure, and are not walked.
fn document(node: &Yaml, at: &str, wrong: &mut Vec<String>, found: &mut usize) {
    match node {
        Yaml::Mapping(map) => {
            for (k, v) in map {
                let name = key(k);
                let here = format!("{at}/{name}");
                if name == "schema" {
                    *found += 1;
                    schema(v, &here, wrong);
                } else if here == "#/components/schemas" {
                    for (n, s) in v.as_mapping().into_iter().flatten() {
                        *found += 1;
                        schema(s, &format!("{here}/{}", key(n)), wrong);
                    }
                } else if name != "example" && name != "examples" {
                    document(v, &here, wrong, found);
                }
            }
        }
        Yaml::Sequence(items) => {
            for (i, item) in items.iter().enumerate() {
                document(item, &format!("{at}/{i}"), wrong, found);
            }
        }
        _ => {}
    }
}

#[test]
fn every_schema_in_the_api_document_uses_only_schema_keywords() {
    let api = yaml("openapi.yaml");
    let version = api["openapi"].as_str().unwrap_or_default();
    assert!(
        version.starts_with("3.1."),
        "openapi.yaml declares OpenAPI {version:?}; this test knows the Schema Object of 3.1 \
         (3.0's differs: `nullable`, no `const`, `examples`, `$defs`…): update the keyword list"
    );
    let (mut wrong, mut found) = (Vec::new(), 0);
    document(&api, "#", &mut wrong, &mut found);
    assert!(
        found > 20,
        "the walk found only {found} schemas: is the document's shape still what it expects?"
    );
    assert!(
        wrong.is_empty(),
        "keys that are no OpenAPI {version} Schema Object keyword (an unquoted comma in a YAML flow \
         mapping splits a value into a second key: quote it):\n  {}",
        wrong.join("\n  ")
    );
}

#[test]
fn the_walk_finds_a_key_that_is_no_keyword() {
    // The slip this test exists for, as YAML reads it.
    let slip: Yaml = serde_yaml::from_str(
        "components:\n  schemas:\n    A:\n      type: object\n      properties:\n        \
         email: { type: string, description: The address as given, in lower case }\n        \
         list: { type: array, items: { type: string, nullable: true } }\n        \
         ok: { type: string, description: \"Quoted, as it should be\", x-note: fine }\n",
    )
    .unwrap();
    let (mut wrong, mut found) = (Vec::new(), 0);
    document(&slip, "#", &mut wrong, &mut found);
    assert_eq!(found, 1);
    assert_eq!(
        wrong
            .iter()
            .map(|w| w.split(" = ").next().unwrap())
            .collect::<Vec<_>>(),
        [
            "#/components/schemas/A/properties/email/in lower case",
            "#/components/schemas/A/properties/list/items/nullable"
        ]
    );
}
