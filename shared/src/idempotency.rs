//! `Idempotency-Key`: a client that retries a command with the same key gets the first answer
//! again instead of a second effect. The first answer is stored in the same transaction as the
//! command's effect, so there is never an effect without its answer or an answer without its
//! effect. Any context's command can use it: the key is per caller, and the request is kept to
//! tell a retry from a different request under the same key.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::TransactWriteItem;

use crate::dynamo::{key, n, s, StoreError, Table};

/// Stored answers outlive any sensible client retry.
const RETENTION_SECONDS: i64 = 24 * 3600;

/// A command sent with an `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    /// `<caller>#<key>`: keys are per caller.
    pub key: String,
    /// What was asked, to tell a retry from a different request under the same key.
    pub request: String,
}

impl IdempotencyKey {
    /// The caller's key for `request`; a key is 1 to 128 ASCII characters.
    pub fn new(caller: &str, key: &str, request: String) -> Option<Self> {
        (!key.is_empty() && key.len() <= 128 && key.is_ascii()).then(|| Self {
            key: format!("{caller}#{key}"),
            request,
        })
    }
}

/// The first answer to a keyed command.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Replay {
    pub request: String,
    /// The answer's JSON body.
    pub body: String,
}

fn item_key(idempotency: &IdempotencyKey) -> HashMap<String, crate::dynamo::AttributeValue> {
    key(format!("IDEMPOTENCY#{}", idempotency.key), "IDEMPOTENCY")
}

/// The record of the first answer, to go into the command's transaction: it fails that
/// transaction if the key was used before.
pub fn record(table: &str, key: &IdempotencyKey, body: &str, now: i64) -> TransactWriteItem {
    let mut item = item_key(key);
    item.extend([
        ("request".to_owned(), s(&key.request)),
        ("body".to_owned(), s(body)),
        ("ttl".to_owned(), n(now + RETENTION_SECONDS)),
    ]);
    crate::dynamo::put(table, item, "attribute_not_exists(pk)")
}

/// The first answer under `key`, if there was one (read consistently).
pub async fn replay(table: &Table, key: &IdempotencyKey) -> Result<Option<Replay>, StoreError> {
    table.get_as(item_key(key)).await
}
