//! Counters folded from a table's stream, exactly once, in batches: what many facts add up to (a
//! day's figures) written once a batch instead of once a fact. A fact is its own item, written
//! once by its key (which makes it once); the stream hands its insert to a fold function, which
//! adds a batch's facts to their counters in one transaction.
//!
//! Lambda retries a failed stream batch from its first record, with the same records or more. So
//! a fold commits, with its additions, a marker keyed by the first record it folds
//! (`FOLD#<event id>` / `FOLD`) that remembers the last record's sequence number; a retry finds
//! the marker, skips what it covers and folds only the rest, under a marker of its own. Records
//! of one batch come from one shard, in order, so their sequence numbers compare. The mapping
//! must retry until it succeeds (`MaximumRetryAttempts: -1`), with neither bisection nor
//! partial batch responses: either would start a retry at a record no marker names.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;

use crate::dynamo::{key, n, s, update, Item, StoreError, Table, Transaction};
/// A stream record as Lambda hands it over (the relay's too).
pub use crate::outbox::DynamoDbRecord;

/// A transaction takes 100 items: the marker and at most this many counters.
const COUNTERS_PER_COMMIT: usize = 90;
/// Stream records live 24 hours; a marker need not outlive its retries.
const MARKER_SECONDS: i64 = 2 * 24 * 3600;
const MARKER: &str = "marker";

/// What one record adds: `amount` to attribute `attribute` of the item `pk` / `sk`.
#[derive(Debug, Clone, PartialEq)]
pub struct Addition {
    pub pk: String,
    pub sk: String,
    pub attribute: &'static str,
    pub amount: i64,
}

/// Sequence numbers are decimal strings of up to 40 digits: padded, they compare as numbers.
fn padded(sequence: &str) -> String {
    format!("{sequence:0>48}")
}

fn sequence(record: &DynamoDbRecord) -> String {
    padded(record.change.sequence_number.as_deref().unwrap_or_default())
}

fn marker_key(record: &DynamoDbRecord) -> Item {
    key(format!("FOLD#{}", record.event_id), "FOLD")
}

/// Additions summed per counter, in a stable order, those that add nothing left out.
fn summed(additions: impl IntoIterator<Item = Addition>) -> Vec<Addition> {
    let mut sums: BTreeMap<(String, String, &'static str), i64> = BTreeMap::new();
    for a in additions {
        *sums.entry((a.pk, a.sk, a.attribute)).or_default() += a.amount;
    }
    sums.into_iter()
        .filter(|(_, amount)| *amount != 0)
        .map(|((pk, sk, attribute), amount)| Addition {
            pk,
            sk,
            attribute,
            amount,
        })
        .collect()
}

/// The items the counters of `additions` are: one per `pk` / `sk`.
fn items(additions: &[Addition]) -> usize {
    let mut keys: Vec<(&str, &str)> = additions
        .iter()
        .map(|a| (a.pk.as_str(), a.sk.as_str()))
        .collect();
    keys.dedup();
    keys.len()
}

/// A number from 0 to `shards - 1`, the same for every record one commit folds: the shard its
/// additions go to, so that a commit adds to one item per counter, and commits spread over the
/// shards (no key is hot).
fn spread(event_id: &str, shards: u32) -> u32 {
    let hash = event_id.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    hash % shards.max(1)
}

/// Folds `records` into `table`'s counters exactly once, however often Lambda hands the same
/// records over. `additions` tells what a record adds, given the shard of its commit (one of
/// `shards`). Answers how many records it folded this time (those a marker covered are skipped).
pub async fn fold(
    table: &Table,
    records: &[DynamoDbRecord],
    shards: u32,
    additions: impl Fn(&DynamoDbRecord, u32) -> Result<Vec<Addition>, String>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<usize, StoreError> {
    let mut rest = records;
    let mut folded = 0;
    while let Some(first) = rest.first() {
        if let Some(marker) = table.get(marker_key(first)).await? {
            let through = crate::dynamo::get_s(&marker, "through")?.to_owned();
            let covered = rest.iter().take_while(|r| sequence(r) <= through).count();
            // A marker names its first record, so it covers that one at least.
            rest = &rest[covered.max(1)..];
            continue;
        }
        // As many records as fit one transaction's counters.
        let shard = spread(&first.event_id, shards);
        let mut counters = Vec::new();
        let mut taken = 0;
        for record in rest {
            let mine = additions(record, shard).map_err(StoreError::Malformed)?;
            let mut together = counters.clone();
            together.extend(mine);
            let together = summed(together);
            if taken > 0 && items(&together) > COUNTERS_PER_COMMIT {
                break;
            }
            counters = together;
            taken += 1;
        }
        if counters.is_empty() {
            // Nothing to add: nothing to guard either.
            rest = &rest[taken..];
            continue;
        }
        let last = &rest[taken - 1];
        let mut marker = marker_key(first);
        marker.insert("through".into(), s(sequence(last)));
        marker.insert("ttl".into(), n(now.timestamp() + MARKER_SECONDS));
        let mut transaction =
            Transaction::new().with(MARKER, table.put(marker, "attribute_not_exists(pk)"));
        // One update an item, adding to each of its attributes.
        let mut by_item: BTreeMap<(&str, &str), Vec<&Addition>> = BTreeMap::new();
        for c in &counters {
            by_item.entry((&c.pk, &c.sk)).or_default().push(c);
        }
        for (i, ((pk, sk), adds)) in by_item.into_iter().enumerate() {
            let mut add = table.update(key(pk, sk));
            let mut terms = Vec::new();
            for (j, a) in adds.iter().enumerate() {
                terms.push(format!("#a{j} :n{j}"));
                add = add
                    .expression_attribute_names(format!("#a{j}"), a.attribute)
                    .expression_attribute_values(format!(":n{j}"), n(a.amount));
            }
            let add = add.update_expression(format!("ADD {}", terms.join(", ")));
            transaction.add(format!("counter{i}"), update(add));
        }
        match table.transact(transaction).await? {
            Ok(()) => {
                folded += taken;
                rest = &rest[taken..];
            }
            // Folded meanwhile (a lost answer to an earlier try): the marker says how far.
            Err(c) if c.failed(MARKER) => {}
            Err(c) => return Err(c.into()),
        }
    }
    Ok(folded)
}

/// The new image of a stream record, read as `T`: how [`fold`]'s callers read a fact.
pub fn image<T: DeserializeOwned>(record: &DynamoDbRecord) -> Result<T, String> {
    serde_dynamo::from_item(record.change.new_image.clone()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_spread_evenly_over_the_shards() {
        let mut counts = [0u32; 32];
        for _ in 0..32_000 {
            let event_id = uuid::Uuid::new_v4().simple().to_string();
            counts[spread(&event_id, 32) as usize] += 1;
        }
        // 1,000 expected per shard: none may take more than 1.15x its share.
        assert!(
            counts.iter().all(|c| (850..=1150).contains(c)),
            "{counts:?}"
        );
    }

    #[test]
    fn sequence_numbers_compare_as_numbers_once_padded() {
        assert!(padded("900") < padded("1000"));
        assert!(padded("49541296383091372810938734") < padded("149541296383091372810938734"));
        assert_eq!(padded("7").len(), 48);
    }

    fn add(day: &str, attribute: &'static str, amount: i64) -> Addition {
        Addition {
            pk: "EARNINGS#1".into(),
            sk: day.into(),
            attribute,
            amount,
        }
    }

    #[test]
    fn additions_to_one_counter_are_summed_and_zeros_dropped() {
        let summed = summed([
            add("a", "fees", 5),
            add("b", "fees", 1),
            add("a", "fees", 7),
            add("a", "rewards", 3),
            add("a", "rewards", -3),
            add("a", "paid", 2),
        ]);
        assert_eq!(
            summed,
            [
                add("a", "fees", 12),
                add("a", "paid", 2),
                add("b", "fees", 1)
            ]
        );
        assert_eq!(items(&summed), 2, "two days, two items");
    }
}
