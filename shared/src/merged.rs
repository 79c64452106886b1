//! A listing newest first across several partitions of one index: shards that spread a hot
//! listing's writes (no partition takes more than its share), or the prefixes of one partition
//! read as one (an assignee's open and done tasks). Each page asks every partition not yet
//! exhausted for at most a page after where it stopped, takes the newest `limit` of them all,
//! and remembers where each partition stopped: a page is never empty while more exist, and its
//! cost is a query per partition, all at once, whatever the table holds.
//!
//! The order is the index sort key's, read after the partition's prefix (`open#2026-…#id` and
//! `done#2026-…#id` compare by `2026-…#id`), newest first.

use std::cmp::Reverse;

use serde::de::DeserializeOwned;

use crate::dynamo::{from_item, get_s, s, BadCursor, Item, Listed, StoreError, Table};

/// One partition of the listing: its index partition key and, if only part of it is listed,
/// the sort key's prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    pub key: String,
    pub prefix: Option<String>,
}

impl Partition {
    pub fn whole(key: impl Into<String>) -> Partition {
        Partition {
            key: key.into(),
            prefix: None,
        }
    }

    pub fn prefixed(key: impl Into<String>, prefix: impl Into<String>) -> Partition {
        Partition {
            key: key.into(),
            prefix: Some(prefix.into()),
        }
    }
}

/// Where a partition stopped: not yet read (`null`), after this sort key, or exhausted (`""`).
type Positions = Vec<Option<String>>;

fn decode(cursor: Option<&str>, partitions: usize) -> Result<Positions, BadCursor> {
    use base64::Engine;
    let Some(cursor) = cursor else {
        return Ok(vec![None; partitions]);
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| BadCursor)?;
    let positions: Positions = serde_json::from_slice(&bytes).map_err(|_| BadCursor)?;
    if positions.len() != partitions || positions.iter().all(|p| p.as_deref() == Some("")) {
        return Err(BadCursor);
    }
    Ok(positions)
}

fn encode(positions: &Positions) -> String {
    use base64::Engine;
    let json = serde_json::to_vec(positions).expect("positions serialise");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

/// The page of `limit` newest items of `partitions` of `index` after `cursor`, as `T`s.
pub async fn newest_first<T, E>(
    table: &Table,
    index: &str,
    partitions: &[Partition],
    limit: usize,
    cursor: Option<&str>,
) -> Result<Listed<T>, E>
where
    T: DeserializeOwned,
    E: From<BadCursor> + From<StoreError>,
{
    let mut positions = decode(cursor, partitions.len())?;
    let sort = format!("{index}sk");
    // (order key, partition, item) of every candidate; whether each partition was read now and
    // has more.
    let mut found: Vec<(String, usize, Item)> = Vec::new();
    let mut read_now = vec![false; partitions.len()];
    let mut more = vec![false; partitions.len()];
    // Every partition not exhausted, at once: a page costs one round trip, not one per partition.
    let reads = partitions.iter().enumerate().filter_map(|(i, partition)| {
        let after = match &positions[i] {
            Some(done) if done.is_empty() => return None,
            other => other.clone(),
        };
        Some(async move {
            let read = read(table, index, partition, after.as_deref(), limit).await?;
            Ok::<_, StoreError>((i, partition, read))
        })
    });
    for (i, partition, (items, has_more)) in futures_util::future::try_join_all(reads).await? {
        (read_now[i], more[i]) = (true, has_more);
        let skip = partition.prefix.as_deref().map_or(0, str::len);
        for item in items {
            let order = get_s(&item, &sort)?
                .get(skip..)
                .unwrap_or_default()
                .to_owned();
            found.push((order, i, item));
        }
    }
    found.sort_by(|a, b| Reverse(&a.0).cmp(&Reverse(&b.0)).then(a.1.cmp(&b.1)));
    let mut left = vec![false; partitions.len()];
    for (_, i, _) in found.iter().skip(limit) {
        left[*i] = true;
    }
    found.truncate(limit);
    for (_, i, item) in &found {
        positions[*i] = Some(get_s(item, &sort)?.to_owned());
    }
    for i in 0..partitions.len() {
        if read_now[i] && !more[i] && !left[i] {
            // Everything the partition had is taken.
            positions[i] = Some(String::new());
        }
    }
    let next_cursor = positions
        .iter()
        .any(|p| p.as_deref() != Some(""))
        .then(|| encode(&positions));
    Ok(Listed {
        items: found
            .iter()
            .map(|(_, _, item)| from_item(item))
            .collect::<Result<_, _>>()?,
        next_cursor,
    })
}

/// At most `limit` items of `partition` before the sort key `after` (all, when none), newest
/// first, and whether it has more.
async fn read(
    table: &Table,
    index: &str,
    partition: &Partition,
    after: Option<&str>,
    limit: usize,
) -> Result<(Vec<Item>, bool), StoreError> {
    let mut query = table
        .client()
        .query()
        .table_name(table.name())
        .index_name(index)
        .scan_index_forward(false)
        .expression_attribute_names("#pk", format!("{index}pk"))
        .expression_attribute_values(":pk", s(&partition.key));
    let mut condition = "#pk = :pk".to_owned();
    match (&partition.prefix, after) {
        (None, None) => {}
        (None, Some(after)) => {
            condition.push_str(" AND #sk < :after");
            query = query.expression_attribute_values(":after", s(after));
        }
        (Some(prefix), None) => {
            condition.push_str(" AND begins_with(#sk, :prefix)");
            query = query.expression_attribute_values(":prefix", s(prefix));
        }
        // BETWEEN is inclusive: the item at `after` itself is read again and dropped below.
        (Some(prefix), Some(after)) => {
            condition.push_str(" AND #sk BETWEEN :prefix AND :after");
            query = query
                .expression_attribute_values(":prefix", s(prefix))
                .expression_attribute_values(":after", s(after));
        }
    }
    if condition.contains("#sk") {
        query = query.expression_attribute_names("#sk", format!("{index}sk"));
    }
    let out = query
        .key_condition_expression(condition)
        .limit(limit as i32 + 1)
        .send()
        .await?;
    let sort = format!("{index}sk");
    let mut items: Vec<Item> = out
        .items()
        .iter()
        .filter(|item| after.is_none_or(|after| get_s(item, &sort).ok() != Some(after)))
        .cloned()
        .collect();
    let more = items.len() > limit || out.last_evaluated_key().is_some();
    items.truncate(limit);
    Ok((items, more))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_is_where_each_partition_stopped_and_nothing_else() {
        let positions = vec![
            None,
            Some("2026-12-07T10:00:00Z#a".to_owned()),
            Some(String::new()),
        ];
        let cursor = encode(&positions);
        assert_eq!(decode(Some(&cursor), 3), Ok(positions));
        assert_eq!(
            decode(Some(&cursor), 2),
            Err(BadCursor),
            "another listing's"
        );
        assert_eq!(decode(Some("not base64!"), 3), Err(BadCursor));
        let finished = encode(&vec![Some(String::new()); 3]);
        assert_eq!(
            decode(Some(&finished), 3),
            Err(BadCursor),
            "never handed out"
        );
        assert_eq!(decode(None, 2), Ok(vec![None, None]));
    }
}
