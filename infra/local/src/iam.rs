//! The functions' IAM policies, enforced on their AWS calls as AWS would: every call a
//! function's proxy forwards (`aws_calls`) is first turned into the IAM requests it makes (a
//! `TransactWriteItems` is one `PutItem`/`UpdateItem`/`DeleteItem`/`ConditionCheckItem` per
//! item, a `PutEvents` one `events:PutEvents` per entry with its `events:source`, ...), and each
//! must be allowed by a statement of the function's `Policies`: its action, its resource and its
//! conditions (`StringEquals`, `StringLike`, and their `ForAllValues:` forms, on
//! `dynamodb:LeadingKeys` and `events:source`). A call no statement allows is answered
//! `AccessDeniedException` and nothing reaches the emulator, so a policy narrower than the code
//! fails the test that runs that code.
//!
//! Evaluated: DynamoDB's item, query, scan, batch-get and transaction calls, SQS `SendMessage`
//! (and its batch), EventBridge `PutEvents` and a replay's `DescribeArchive`, `StartReplay` and
//! `DescribeReplay`, Secrets Manager `GetSecretValue`, SES `SendEmail`.
//! Any other call passes unchecked (with a warning), as does every call of a function whose
//! policies include a SAM policy template, which this module does not expand.

use serde_json::Value;
use std::collections::BTreeMap;

use crate::resolve::{ACCOUNT_ID, REGION};

/// One IAM request: an action on a resource, with the request's condition keys.
#[derive(Debug, Clone, PartialEq)]
pub struct Access {
    pub action: String,
    pub resource: String,
    pub context: BTreeMap<String, Vec<String>>,
}

impl Access {
    fn new(action: &str, resource: String) -> Access {
        Access {
            action: action.to_string(),
            resource,
            context: BTreeMap::new(),
        }
    }

    fn with(mut self, key: &str, values: Vec<String>) -> Access {
        self.context.insert(key.to_string(), values);
        self
    }
}

impl std::fmt::Display for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} on {}", self.action, self.resource)?;
        for (key, values) in &self.context {
            write!(f, " ({key} = {values:?})")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
struct Statement {
    allow: bool,
    actions: Vec<String>,
    resources: Vec<String>,
    /// (operator, key, values)
    conditions: Vec<(String, String, Vec<String>)>,
}

/// A function's policies, as far as they are inline statements.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    statements: Vec<Statement>,
}

/// One value or a list of them, as strings.
fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items.iter().flat_map(strings).collect(),
        Value::String(s) => vec![s.clone()],
        Value::Null => vec![],
        other => vec![other.to_string()],
    }
}

impl Policy {
    /// The policy of a function's resolved `Policies`; `None` when one of them is not an inline
    /// document (a SAM policy template or a managed policy): then nothing is enforced.
    pub fn of(policies: &Value) -> Result<Option<Policy>, String> {
        if !policies.is_null() && !policies.is_array() {
            return Ok(None);
        }
        let mut statements = Vec::new();
        for policy in policies.as_array().into_iter().flatten() {
            let Some(list) = policy.get("Statement") else {
                return Ok(None);
            };
            for s in list
                .as_array()
                .cloned()
                .unwrap_or_else(|| vec![list.clone()])
            {
                let mut conditions = Vec::new();
                for (operator, keys) in s["Condition"].as_object().into_iter().flatten() {
                    for (key, values) in keys.as_object().into_iter().flatten() {
                        conditions.push((operator.clone(), key.clone(), strings(values)));
                    }
                }
                if s.get("NotAction").is_some() || s.get("NotResource").is_some() {
                    return Err("NotAction and NotResource are not evaluated locally".into());
                }
                statements.push(Statement {
                    allow: s["Effect"] != "Deny",
                    actions: strings(&s["Action"]),
                    resources: strings(&s["Resource"])
                        .iter()
                        .map(|r| normalize_resource(r))
                        .collect(),
                    conditions,
                });
            }
        }
        Ok(Some(Policy { statements }))
    }

    /// How many statements it has.
    pub fn len(&self) -> usize {
        self.statements.len()
    }

    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }

    /// Whether the policy allows `access`: some statement allows it and none denies it.
    pub fn allows(&self, access: &Access) -> bool {
        let applies = |s: &Statement| {
            s.actions.iter().any(|a| like(a, &access.action, true))
                && s.resources.iter().any(|r| like(r, &access.resource, false))
                && s.conditions
                    .iter()
                    .all(|(op, key, values)| condition(op, values, access.context.get(key)))
        };
        let denied = self.statements.iter().any(|s| !s.allow && applies(s));
        !denied && self.statements.iter().any(|s| s.allow && applies(s))
    }
}

/// IAM's wildcard match: `*` any run of characters, `?` one. Actions ignore case.
fn like(pattern: &str, value: &str, ignore_case: bool) -> bool {
    let (p, v) = if ignore_case {
        (pattern.to_lowercase(), value.to_lowercase())
    } else {
        (pattern.to_string(), value.to_string())
    };
    let (p, v): (Vec<char>, Vec<char>) = (p.chars().collect(), v.chars().collect());
    // Classic two-pointer glob with backtracking on the last star.
    let (mut i, mut j, mut star, mut mark) = (0, 0, None, 0);
    while j < v.len() {
        if i < p.len() && (p[i] == '?' || p[i] == v[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some(i);
            mark = j;
            i += 1;
        } else if let Some(s) = star {
            i = s + 1;
            mark += 1;
            j = mark;
        } else {
            return false;
        }
    }
    while i < p.len() && p[i] == '*' {
        i += 1;
    }
    i == p.len()
}

/// One condition operator on the request's values of its key.
fn condition(operator: &str, expected: &[String], actual: Option<&Vec<String>>) -> bool {
    let (set, op) = match operator.split_once(':') {
        Some((set, op)) => (Some(set), op),
        None => (None, operator),
    };
    let matches = |value: &String| {
        expected.iter().any(|e| match op {
            "StringEquals" => e == value,
            "StringLike" => like(e, value, false),
            _ => false,
        })
    };
    if !matches!(op, "StringEquals" | "StringLike") {
        tracing::warn!("IAM condition {operator} is not evaluated locally: it fails");
        return false;
    }
    match (set, actual) {
        // IAM's trap, kept: ForAllValues holds for a request without the key.
        (Some("ForAllValues"), None) => true,
        (Some("ForAllValues"), Some(values)) => values.iter().all(matches),
        (Some("ForAnyValue"), Some(values)) => values.iter().any(matches),
        (None, Some(values)) if values.len() == 1 => matches(&values[0]),
        _ => false,
    }
}

fn arn(service: &str, rest: &str) -> String {
    format!("arn:aws:{service}:{REGION}:{ACCOUNT_ID}:{rest}")
}

/// The hash key attribute of each table, by physical name (`pk` if unknown).
pub type HashKeys = BTreeMap<String, String>;

/// The IAM requests one AWS call makes; `None` when this module does not evaluate it.
pub fn accesses(
    operation: &str,
    body: &[u8],
    uri: &axum::http::Uri,
    hash_keys: &HashKeys,
) -> Option<Vec<Access>> {
    let (service, name) = operation.split_once(':')?;
    let json = || serde_json::from_slice::<Value>(body).ok();
    match service {
        "dynamodb" => dynamodb(name, &json()?, hash_keys),
        "sqs" => {
            let queue = match json() {
                Some(body) => body["QueueUrl"].as_str().map(str::to_string),
                None => form_param(body, "QueueUrl").or_else(|| {
                    uri.query()
                        .and_then(|q| form_param(q.as_bytes(), "QueueUrl"))
                }),
            }?;
            let queue_name = queue.trim_end_matches('/').rsplit('/').next()?.to_string();
            match name {
                "SendMessage" | "SendMessageBatch" => Some(vec![Access::new(
                    "sqs:SendMessage",
                    arn("sqs", &queue_name),
                )]),
                _ => None,
            }
        }
        "events" if name == "PutEvents" => Some(
            json()?["Entries"]
                .as_array()?
                .iter()
                .map(|entry| {
                    let bus = entry["EventBusName"].as_str().unwrap_or("default");
                    let resource = if bus.starts_with("arn:") {
                        bus.to_string()
                    } else {
                        arn("events", &format!("event-bus/{bus}"))
                    };
                    let source = entry["Source"].as_str().unwrap_or_default().to_string();
                    Access::new("events:PutEvents", resource).with("events:source", vec![source])
                })
                .collect(),
        ),
        // A replay (N4): the archive it reads and the replay it names, as AWS authorizes them.
        "events" if name == "DescribeArchive" => {
            let archive = json()?["ArchiveName"].as_str()?.to_string();
            Some(vec![Access::new(
                "events:DescribeArchive",
                arn("events", &format!("archive/{archive}")),
            )])
        }
        "events" if name == "StartReplay" => {
            let body = json()?;
            let replay = body["ReplayName"].as_str()?;
            Some(vec![
                Access::new(
                    "events:StartReplay",
                    arn("events", &format!("replay/{replay}")),
                ),
                Access::new(
                    "events:StartReplay",
                    body["EventSourceArn"].as_str()?.to_string(),
                ),
            ])
        }
        "events" if name == "DescribeReplay" => {
            let replay = json()?["ReplayName"].as_str()?.to_string();
            Some(vec![Access::new(
                "events:DescribeReplay",
                arn("events", &format!("replay/{replay}")),
            )])
        }
        "secretsmanager" if name == "GetSecretValue" => {
            let id = json()?["SecretId"].as_str()?.to_string();
            Some(vec![Access::new(
                "secretsmanager:GetSecretValue",
                secret_arn(&id),
            )])
        }
        "sesv2" if name == "SendEmail" => {
            let from = json()?["FromEmailAddress"].as_str()?.to_string();
            // "Name <address>" or a bare address: the identity is the address.
            let address = from
                .rsplit_once('<')
                .map(|(_, a)| a.trim_end_matches('>').to_string())
                .unwrap_or(from);
            Some(vec![Access::new(
                "ses:SendEmail",
                arn("ses", &format!("identity/{address}")),
            )])
        }
        _ => None,
    }
}

/// A secret named by its name or ARN, as an ARN; policies name secrets either way locally
/// (`!Ref` is the name here, the ARN in AWS), so [`normalize_resource`] maps both.
fn secret_arn(id: &str) -> String {
    if id.starts_with("arn:") {
        id.to_string()
    } else {
        arn("secretsmanager", &format!("secret:{id}"))
    }
}

/// A statement's resource as the local stack resolved it: a secret's `!Ref` is its name here,
/// its ARN in AWS.
pub fn normalize_resource(resource: &str) -> String {
    if resource.starts_with("arn:") || resource == "*" {
        resource.to_string()
    } else {
        secret_arn(resource)
    }
}

fn form_param(form: &[u8], name: &str) -> Option<String> {
    String::from_utf8_lossy(form).split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| percent_decode(v))
    })
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match u8::from_str_radix(&text[i + 1..i + 3], 16) {
                Ok(b) => {
                    out.push(b);
                    i += 3;
                    continue;
                }
                Err(_) => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The string value of an attribute value (`{"S": "x"}`), as LeadingKeys sees it.
fn scalar(value: &Value) -> Option<String> {
    let object = value.as_object()?;
    object
        .get("S")
        .or_else(|| object.get("N"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

fn dynamodb(operation: &str, body: &Value, hash_keys: &HashKeys) -> Option<Vec<Access>> {
    let table_arn = |table: &str| {
        if table.starts_with("arn:") {
            table.to_string()
        } else {
            arn("dynamodb", &format!("table/{table}"))
        }
    };
    let hash_key = |table: &str| {
        hash_keys
            .get(table.rsplit('/').next().unwrap_or(table))
            .cloned()
            .unwrap_or_else(|| "pk".into())
    };
    let item_access = |action: &str, table: &str, key: &Value| {
        let leading = scalar(&key[hash_key(table)]).into_iter().collect();
        Access::new(action, table_arn(table)).with("dynamodb:LeadingKeys", leading)
    };
    let table = body["TableName"].as_str().unwrap_or_default();
    let on_table_or_index = |action: &str| {
        let resource = match body["IndexName"].as_str() {
            Some(index) => format!("{}/index/{index}", table_arn(table)),
            None => table_arn(table),
        };
        Access::new(action, resource)
    };
    Some(match operation {
        "GetItem" | "UpdateItem" | "DeleteItem" => {
            vec![item_access(
                &format!("dynamodb:{operation}"),
                table,
                &body["Key"],
            )]
        }
        "PutItem" => vec![item_access("dynamodb:PutItem", table, &body["Item"])],
        "Scan" => vec![on_table_or_index("dynamodb:Scan")],
        "Query" => {
            let mut access = on_table_or_index("dynamodb:Query");
            if body.get("IndexName").is_none() {
                if let Some(value) = queried_partition(body, &hash_key(table)) {
                    access = access.with("dynamodb:LeadingKeys", vec![value]);
                }
            }
            vec![access]
        }
        "BatchGetItem" => body["RequestItems"]
            .as_object()?
            .iter()
            .map(|(table, request)| {
                let leading = request["Keys"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|k| scalar(&k[hash_key(table)]))
                    .collect();
                Access::new("dynamodb:BatchGetItem", table_arn(table))
                    .with("dynamodb:LeadingKeys", leading)
            })
            .collect(),
        "TransactWriteItems" => body["TransactItems"]
            .as_array()?
            .iter()
            .filter_map(|item| {
                let (kind, write) = item.as_object()?.iter().next()?;
                let table = write["TableName"].as_str()?;
                let (action, key) = match kind.as_str() {
                    "Put" => ("dynamodb:PutItem", &write["Item"]),
                    "Update" => ("dynamodb:UpdateItem", &write["Key"]),
                    "Delete" => ("dynamodb:DeleteItem", &write["Key"]),
                    "ConditionCheck" => ("dynamodb:ConditionCheckItem", &write["Key"]),
                    _ => return None,
                };
                Some(item_access(action, table, key))
            })
            .collect(),
        _ => return None,
    })
}

/// The partition a table query names: `<hash key> = :value` in its key condition.
fn queried_partition(body: &Value, hash_key: &str) -> Option<String> {
    let condition = body["KeyConditionExpression"].as_str()?;
    let names = body["ExpressionAttributeNames"].as_object();
    for clause in condition.split(" AND ").chain(condition.split(" and ")) {
        let Some((left, right)) = clause.split_once('=') else {
            continue;
        };
        let left = left.trim().trim_start_matches('(');
        let attribute = match names.and_then(|n| n.get(left)).and_then(Value::as_str) {
            Some(name) => name,
            None => left,
        };
        if attribute == hash_key {
            let placeholder = right.trim().trim_end_matches(')');
            return scalar(&body["ExpressionAttributeValues"][placeholder]);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy(statements: Value) -> Policy {
        Policy::of(&json!([{ "Statement": statements }]))
            .unwrap()
            .unwrap()
    }

    fn calls(operation: &str, body: Value) -> Vec<Access> {
        accesses(
            operation,
            body.to_string().as_bytes(),
            &"/".parse().unwrap(),
            &HashKeys::new(),
        )
        .unwrap()
    }

    const TABLE: &str = "arn:aws:dynamodb:us-east-1:123456789012:table/AuthTable";

    #[test]
    fn leading_keys_bound_which_partitions_an_action_may_touch() {
        let p = policy(json!([
            {"Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": TABLE,
             "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["ACCOUNT#*", "EMAIL#*"]}}},
        ]));
        let get = |pk: &str| {
            calls(
                "dynamodb:GetItem",
                json!({"TableName": "AuthTable", "Key": {"pk": {"S": pk}, "sk": {"S": "x"}}}),
            )
        };
        assert!(p.allows(&get("ACCOUNT#1")[0]));
        assert!(!p.allows(&get("PASSWORD#1")[0]), "another partition");
        let put = calls(
            "dynamodb:PutItem",
            json!({"TableName": "AuthTable", "Item": {"pk": {"S": "ACCOUNT#1"}}}),
        );
        assert!(!p.allows(&put[0]), "another action");
        let other = calls(
            "dynamodb:GetItem",
            json!({"TableName": "TasksTable", "Key": {"pk": {"S": "ACCOUNT#1"}}}),
        );
        assert!(!p.allows(&other[0]), "another table");
    }

    #[test]
    fn a_transaction_needs_each_of_its_writes() {
        let p = policy(json!([
            {"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": TABLE,
             "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["SESSION#*", "REFRESH#*"]}}},
        ]));
        let transaction = |second: Value| {
            calls(
                "dynamodb:TransactWriteItems",
                json!({"TransactItems": [
                    {"Put": {"TableName": "AuthTable", "Item": {"pk": {"S": "SESSION#1"}}}},
                    second,
                ]}),
            )
        };
        let ok = transaction(
            json!({"Put": {"TableName": "AuthTable", "Item": {"pk": {"S": "REFRESH#1"}}}}),
        );
        assert!(ok.iter().all(|a| p.allows(a)));
        let update = transaction(
            json!({"Update": {"TableName": "AuthTable", "Key": {"pk": {"S": "REFRESH#1"}}}}),
        );
        assert_eq!(update[1].action, "dynamodb:UpdateItem");
        assert!(!p.allows(&update[1]));
    }

    #[test]
    fn queries_scans_and_batches_name_their_index_and_partitions() {
        let q = calls(
            "dynamodb:Query",
            json!({"TableName": "T", "IndexName": "gsi1", "KeyConditionExpression": "gsi1pk = :a"}),
        );
        assert_eq!(
            q[0].resource,
            "arn:aws:dynamodb:us-east-1:123456789012:table/T/index/gsi1"
        );
        let q = calls(
            "dynamodb:Query",
            json!({"TableName": "T", "KeyConditionExpression": "#p = :pk AND sk BETWEEN :a AND :b",
                   "ExpressionAttributeNames": {"#p": "pk"},
                   "ExpressionAttributeValues": {":pk": {"S": "EARNINGS#3"}}}),
        );
        assert_eq!(q[0].context["dynamodb:LeadingKeys"], ["EARNINGS#3"]);
        let b = calls(
            "dynamodb:BatchGetItem",
            json!({"RequestItems": {"T": {"Keys": [{"pk": {"S": "A#1"}}, {"pk": {"S": "B#2"}}]}}}),
        );
        assert_eq!(b[0].action, "dynamodb:BatchGetItem");
        assert_eq!(b[0].context["dynamodb:LeadingKeys"], ["A#1", "B#2"]);
    }

    #[test]
    fn events_are_put_only_under_the_allowed_source_and_secrets_by_name_or_arn() {
        let p = policy(json!([
            {"Effect": "Allow", "Action": "events:PutEvents",
             "Resource": "arn:aws:events:us-east-1:123456789012:event-bus/ates",
             "Condition": {"StringEquals": {"events:source": "ates.auth"}}},
            {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "ates/auth/public-keys"},
        ]));
        let put = |source: &str| {
            calls(
                "events:PutEvents",
                json!({"Entries": [{"EventBusName": "ates", "Source": source}]}),
            )
        };
        assert!(p.allows(&put("ates.auth")[0]));
        assert!(!p.allows(&put("ates.tasks")[0]));
        let secret = |id: &str| calls("secretsmanager:GetSecretValue", json!({"SecretId": id}));
        assert!(p.allows(&secret("ates/auth/public-keys")[0]));
        assert!(!p.allows(&secret("ates/auth/signing-key")[0]));
    }

    #[test]
    fn a_replay_is_started_only_under_its_granted_name_from_the_granted_archive() {
        let archive = "arn:aws:events:us-east-1:123456789012:archive/ates-events";
        let p = policy(json!([
            {"Effect": "Allow", "Action": "events:DescribeArchive", "Resource": archive},
            {"Effect": "Allow", "Action": "events:StartReplay",
             "Resource": [archive, "arn:aws:events:us-east-1:123456789012:replay/bidding-*"]},
        ]));
        let describe = |name: &str| calls("events:DescribeArchive", json!({"ArchiveName": name}));
        assert!(p.allows(&describe("ates-events")[0]));
        assert!(!p.allows(&describe("other-events")[0]));
        let start = |name: &str, source: &str| {
            calls(
                "events:StartReplay",
                json!({"ReplayName": name, "EventSourceArn": source}),
            )
        };
        assert!(start("bidding-1", archive).iter().all(|a| p.allows(a)));
        assert!(!start("analytics-1", archive).iter().all(|a| p.allows(a)));
        let elsewhere = "arn:aws:events:us-east-1:123456789012:archive/other";
        assert!(!start("bidding-1", elsewhere).iter().all(|a| p.allows(a)));
        let progress = calls("events:DescribeReplay", json!({"ReplayName": "bidding-1"}));
        assert!(!p.allows(&progress[0]), "not granted");
    }

    #[test]
    fn sqs_and_ses_name_their_queue_and_identity() {
        let p = policy(json!([
            {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:123456789012:Dead"},
            {"Effect": "Allow", "Action": "ses:SendEmail",
             "Resource": "arn:aws:ses:us-east-1:123456789012:identity/no-reply@ates.local"},
        ]));
        let send = |url: &str| {
            calls(
                "sqs:SendMessageBatch",
                json!({"QueueUrl": url, "Entries": []}),
            )
        };
        assert!(p.allows(&send("http://127.0.0.1:5000/123456789012/Dead")[0]));
        assert!(!p.allows(&send("http://127.0.0.1:5000/123456789012/Other")[0]));
        let mail = |from: &str| calls("sesv2:SendEmail", json!({"FromEmailAddress": from}));
        assert!(p.allows(&mail("aTES <no-reply@ates.local>")[0]));
        assert!(!p.allows(&mail("boss@ates.local")[0]));
    }

    #[test]
    fn wildcards_and_denials_are_iams() {
        assert!(like("dynamodb:*", "dynamodb:GetItem", true));
        assert!(like("ACCOUNT#*", "ACCOUNT#1", false));
        assert!(!like("ACCOUNT#*", "account#1", false));
        assert!(like("a?c", "abc", false) && !like("a?c", "ac", false));
        let p = policy(json!([
            {"Effect": "Allow", "Action": "dynamodb:*", "Resource": TABLE},
            {"Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": "*"},
        ]));
        let delete = calls(
            "dynamodb:DeleteItem",
            json!({"TableName": "AuthTable", "Key": {"pk": {"S": "X"}}}),
        );
        assert!(!p.allows(&delete[0]));
        assert!(
            Policy::of(&json!([{"DynamoDBCrudPolicy": {"TableName": "T"}}]))
                .unwrap()
                .is_none()
        );
    }
}
