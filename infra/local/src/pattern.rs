//! EventBridge-style content patterns, as Lambda's event filtering applies them to records.

use serde_json::{Map, Value};

/// A record passes when there are no patterns or when any pattern matches it.
pub fn passes(patterns: &[Value], record: &Value) -> bool {
    patterns.is_empty() || patterns.iter().any(|p| matches(p, record))
}

/// Every field of the pattern must match the record; nested objects match nested fields.
pub fn matches(pattern: &Value, record: &Value) -> bool {
    match pattern {
        Value::Object(fields) => fields
            .iter()
            .all(|(key, expected)| field_matches(expected, record.get(key))),
        _ => false,
    }
}

fn field_matches(expected: &Value, actual: Option<&Value>) -> bool {
    match expected {
        Value::Object(_) => actual.is_some_and(|a| a.is_object() && matches(expected, a)),
        Value::Array(alternatives) => alternatives
            .iter()
            .any(|alt| alternative_matches(alt, actual)),
        // A bare scalar is not valid pattern syntax, but meaning "equals" is the kind reading.
        scalar => actual.is_some_and(|a| a == scalar),
    }
}

/// One entry of a pattern's list: a literal, or an operator object such as `{"prefix": "x"}`.
fn alternative_matches(alternative: &Value, actual: Option<&Value>) -> bool {
    if let Value::Object(op) = alternative {
        if let Some(Value::Bool(want)) = op.get("exists") {
            return actual.is_some() == *want;
        }
        let Some(actual) = actual else {
            return false;
        };
        // A list in the record matches if any of its items does.
        if let Value::Array(items) = actual {
            return items.iter().any(|item| operator_matches(op, item));
        }
        return operator_matches(op, actual);
    }
    match actual {
        Some(Value::Array(items)) => items.iter().any(|item| item == alternative),
        Some(value) => value == alternative,
        None => false,
    }
}

fn operator_matches(op: &Map<String, Value>, actual: &Value) -> bool {
    op.iter().all(|(name, arg)| match name.as_str() {
        "prefix" => text_op(
            arg,
            actual,
            |a, p| a.starts_with(p),
            |a, p| a.to_lowercase().starts_with(&p.to_lowercase()),
        ),
        "suffix" => text_op(
            arg,
            actual,
            |a, s| a.ends_with(s),
            |a, s| a.to_lowercase().ends_with(&s.to_lowercase()),
        ),
        "equals-ignore-case" => match (arg.as_str(), actual.as_str()) {
            (Some(want), Some(a)) => a.eq_ignore_ascii_case(want),
            _ => false,
        },
        "anything-but" => match arg {
            Value::Array(excluded) => !excluded.contains(actual),
            Value::Object(inner) => !operator_matches(inner, actual),
            single => single != actual,
        },
        "numeric" => numeric_matches(arg, actual),
        other => {
            tracing::warn!(
                "filter operator {other} is not supported locally; treating it as no match"
            );
            false
        }
    })
}

/// `{"prefix": "x"}` or `{"prefix": {"equals-ignore-case": "x"}}`.
fn text_op(
    arg: &Value,
    actual: &Value,
    exact: fn(&str, &str) -> bool,
    folded: fn(&str, &str) -> bool,
) -> bool {
    let Some(actual) = actual.as_str() else {
        return false;
    };
    match arg {
        Value::String(want) => exact(actual, want),
        Value::Object(inner) => inner
            .get("equals-ignore-case")
            .and_then(Value::as_str)
            .is_some_and(|want| folded(actual, want)),
        _ => false,
    }
}

/// `{"numeric": [">", 0, "<=", 5]}`: every comparison must hold.
fn numeric_matches(arg: &Value, actual: &Value) -> bool {
    let number = match actual {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse::<f64>().ok(),
        _ => None,
    };
    let (Some(number), Some(terms)) = (number, arg.as_array()) else {
        return false;
    };
    terms.chunks(2).all(|pair| match pair {
        [Value::String(op), bound] => {
            let Some(bound) = bound.as_f64() else {
                return false;
            };
            match op.as_str() {
                "=" => number == bound,
                "<" => number < bound,
                "<=" => number <= bound,
                ">" => number > bound,
                ">=" => number >= bound,
                _ => false,
            }
        }
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn outbox_filter() -> Value {
        // The relay's filter in template.yaml.
        serde_json::from_str(
            r#"{"eventName":["INSERT"],"dynamodb":{"Keys":{"pk":{"S":[{"prefix":"OUTBOX#"}]}}}}"#,
        )
        .unwrap()
    }

    fn record(event_name: &str, pk: &str) -> Value {
        json!({"eventName": event_name, "dynamodb": {"Keys": {"pk": {"S": pk}, "sk": {"S": "x"}}}})
    }

    #[test]
    fn the_outbox_filter_takes_outbox_inserts_only() {
        let f = outbox_filter();
        assert!(matches(&f, &record("INSERT", "OUTBOX#01J")));
        assert!(!matches(&f, &record("MODIFY", "OUTBOX#01J")));
        assert!(!matches(&f, &record("INSERT", "ACCOUNT#1")));
        assert!(!matches(&f, &json!({"eventName": "INSERT"})));
    }

    #[test]
    fn operators() {
        let r = json!({"a": "Hello", "n": 5, "tags": ["x", "y"], "nested": {"b": null}});
        assert!(matches(&json!({"a": ["Nope", "Hello"]}), &r));
        assert!(matches(&json!({"a": [{"suffix": "llo"}]}), &r));
        assert!(matches(
            &json!({"a": [{"prefix": {"equals-ignore-case": "he"}}]}),
            &r
        ));
        assert!(matches(
            &json!({"a": [{"equals-ignore-case": "HELLO"}]}),
            &r
        ));
        assert!(matches(&json!({"a": [{"anything-but": ["x"]}]}), &r));
        assert!(!matches(&json!({"a": [{"anything-but": "Hello"}]}), &r));
        assert!(matches(&json!({"n": [{"numeric": [">", 1, "<=", 5]}]}), &r));
        assert!(!matches(&json!({"n": [{"numeric": ["<", 5]}]}), &r));
        assert!(
            matches(&json!({"tags": ["y"]}), &r),
            "a list matches when any item does"
        );
        assert!(matches(&json!({"missing": [{"exists": false}]}), &r));
        assert!(!matches(&json!({"a": [{"exists": false}]}), &r));
        assert!(matches(&json!({"nested": {"b": [null]}}), &r));
        assert!(passes(&[], &r));
        assert!(passes(&[json!({"a": ["no"]}), json!({"n": [5]})], &r));
    }
}
