//! `Idempotency-Key`: a client that retries a command with the same key gets the first answer
//! again instead of a second effect. The first answer is stored in the same transaction as the
//! command's effect, so there is never an effect without its answer or an answer without its
//! effect. Any context's command can use it: the key is per caller, and the fingerprint of the
//! validated command is kept to tell a retry from a different command under the same key (the
//! kernel's executor decides which: [`crate::usecase::execute_keyed`]).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::TransactWriteItem;

use crate::dynamo::{key, n, s, StoreError, Table};
use crate::usecase::Keyed;

/// Stored answers outlive any sensible client retry.
const RETENTION_SECONDS: i64 = 24 * 3600;

/// A caller's `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    /// `<caller>#<key>`: keys are per caller.
    pub key: String,
}

impl IdempotencyKey {
    /// The caller's key; a key is 1 to 128 ASCII characters.
    pub fn new(caller: &str, key: &str) -> Option<Self> {
        (!key.is_empty() && key.len() <= 128 && key.is_ascii()).then(|| Self {
            key: format!("{caller}#{key}"),
        })
    }
}

/// The name of the key's record in a command's transaction.
pub const IDEMPOTENCY: &str = "idempotency";

/// The first answer to a keyed command.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Replay {
    /// The fingerprint of the command it answered.
    pub request: String,
    /// The answer's JSON body.
    pub body: String,
}

fn item_key(idempotency: &IdempotencyKey) -> HashMap<String, crate::dynamo::AttributeValue> {
    key(format!("IDEMPOTENCY#{}", idempotency.key), "IDEMPOTENCY")
}

/// The record of the first answer, to go into the command's transaction under [`IDEMPOTENCY`]:
/// it fails that transaction if the key was used before.
pub fn record(table: &str, keyed: &Keyed, body: &str, now: i64) -> TransactWriteItem {
    let mut item = item_key(&keyed.key);
    item.extend([
        ("request".to_owned(), s(&keyed.fingerprint)),
        ("body".to_owned(), s(body)),
        ("ttl".to_owned(), n(now + RETENTION_SECONDS)),
    ]);
    crate::dynamo::put(table, item, "attribute_not_exists(pk)")
}

/// Commits a command's `transaction` with its key's answer, if it is keyed: `KeyUsed` when the
/// key had an answer already, `Stale` when one of the items named in `stale` lost its condition
/// (nothing was written either way).
pub async fn commit(
    table: &Table,
    mut transaction: crate::dynamo::Transaction,
    keyed: crate::usecase::KeyedAnswer<'_>,
    now: i64,
    stale: &[&str],
) -> Result<crate::usecase::Saved, StoreError> {
    use crate::usecase::Saved;
    if let Some((keyed, answer)) = keyed {
        transaction.add(IDEMPOTENCY, record(table.name(), keyed, answer, now));
    }
    match table.transact(transaction).await? {
        Ok(()) => Ok(Saved::Done),
        Err(c) if c.failed(IDEMPOTENCY) => Ok(Saved::KeyUsed),
        Err(c) if stale.iter().any(|name| c.failed(name)) => Ok(Saved::Stale),
        Err(c) => Err(c.into()),
    }
}

/// The first answer under `key`, if there was one (read consistently).
pub async fn replay(table: &Table, key: &IdempotencyKey) -> Result<Option<Replay>, StoreError> {
    table.get_as(item_key(key)).await
}

/// The first answers of keyed commands as an in-memory store keeps them (its `Replays`).
#[cfg(any(test, feature = "testing"))]
#[derive(Default)]
pub struct AnswersInMemory(HashMap<String, Replay>);

#[cfg(any(test, feature = "testing"))]
impl AnswersInMemory {
    /// Whether this write's key has an answer already (the write is then `Saved::KeyUsed`).
    pub fn used(&self, keyed: crate::usecase::KeyedAnswer<'_>) -> bool {
        keyed.is_some_and(|(keyed, _)| self.0.contains_key(&keyed.key.key))
    }

    /// Keeps this write's answer under its key, in the same step as the write.
    pub fn keep(&mut self, keyed: crate::usecase::KeyedAnswer<'_>) {
        if let Some((keyed, answer)) = keyed {
            let replay = Replay {
                request: keyed.fingerprint.clone(),
                body: answer.to_owned(),
            };
            self.0.insert(keyed.key.key.clone(), replay);
        }
    }

    pub fn replay(&self, key: &IdempotencyKey) -> Option<Replay> {
        self.0.get(&key.key).cloned()
    }

    /// A keyed write as a table commits one: `KeyUsed` when the key has an answer already,
    /// `Stale` unless the write's condition holds (`as_read`: what it decided on is still as
    /// it was read); otherwise `write` happens and the key keeps its answer, in one step.
    pub fn commit(
        &mut self,
        keyed: crate::usecase::KeyedAnswer<'_>,
        as_read: bool,
        write: impl FnOnce(),
    ) -> crate::usecase::Saved {
        use crate::usecase::Saved;
        if self.used(keyed) {
            return Saved::KeyUsed;
        }
        if !as_read {
            return Saved::Stale;
        }
        write();
        self.keep(keyed);
        Saved::Done
    }
}
