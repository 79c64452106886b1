//! DynamoDB request units as on-demand billing counts them, computed from what each call reads and
//! writes (the emulator's own `ConsumedCapacity` is not truthful: moto answers a fixed figure
//! whatever the item size, no doubling for transactions, no index writes).
//!
//! The rules (Amazon DynamoDB Developer Guide, "Read/write capacity mode" and "Item sizes and
//! formats"):
//! - an item's size is the sum of its attributes' names and values: a string its UTF-8 bytes, a
//!   number about one byte per two significant digits plus one, binary its bytes, a boolean or null
//!   one byte, a list or map 3 bytes plus one byte per element plus the elements (and a map's names);
//! - a write is one write request unit per 1 KB of the item (the larger of before and after), at
//!   least one; a transactional write two; a ConditionCheck in a transaction is billed as a write;
//! - every global secondary index the write touches is one more write per 1 KB of its entry: one to
//!   put an entry or to remove one, two when the item's index key changed (a delete and a put), none
//!   when no projected attribute changed; index writes are standard writes, not doubled;
//! - a strongly consistent read is one read request unit per 4 KB, an eventually consistent read
//!   half, a transactional read two; a query or scan sums the items it returns before rounding up;
//!   a read that finds nothing still costs the minimum.

use serde_json::{Map, Value};

pub const WRITE_UNIT_BYTES: u64 = 1024;
pub const READ_UNIT_BYTES: u64 = 4096;

/// The size of one attribute value (`{"S": ...}`, `{"N": ...}`, ...) in bytes.
pub fn value_size(value: &Value) -> u64 {
    let Some((kind, v)) = value.as_object().and_then(|m| m.iter().next()) else {
        return 0;
    };
    match kind.as_str() {
        "S" => v.as_str().map_or(0, |s| s.len() as u64),
        "N" => v.as_str().map_or(0, number_size),
        "B" => v.as_str().map_or(0, base64_len),
        "BOOL" | "NULL" => 1,
        "SS" => strings(v).map(|s| s.len() as u64).sum(),
        "NS" => strings(v).map(number_size).sum(),
        "BS" => strings(v).map(base64_len).sum(),
        "L" => {
            let items = v.as_array().map(Vec::as_slice).unwrap_or_default();
            3 + items.iter().map(|e| 1 + value_size(e)).sum::<u64>()
        }
        "M" => {
            let map = v.as_object();
            3 + map
                .into_iter()
                .flatten()
                .map(|(name, e)| 1 + name.len() as u64 + value_size(e))
                .sum::<u64>()
        }
        _ => 0,
    }
}

fn strings(v: &Value) -> impl Iterator<Item = &str> {
    v.as_array().into_iter().flatten().filter_map(Value::as_str)
}

/// Decoded length of a base64 string.
fn base64_len(s: &str) -> u64 {
    let padding = s.bytes().rev().take_while(|b| *b == b'=').count() as u64;
    (s.len() as u64 / 4 * 3).saturating_sub(padding)
}

/// A number: one byte per two significant digits (leading and trailing zeros trimmed), plus one.
pub fn number_size(n: &str) -> u64 {
    let mantissa = n
        .trim_start_matches(['-', '+'])
        .split(['e', 'E'])
        .next()
        .unwrap_or_default();
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len() as u64;
    significant.max(1).div_ceil(2) + 1
}

/// The size of an item: its attributes' names plus values.
pub fn item_size(item: &Map<String, Value>) -> u64 {
    item.iter()
        .map(|(name, value)| name.len() as u64 + value_size(value))
        .sum()
}

/// Write request units of a write of an item of `bytes` (the larger of before and after).
pub fn write_units(bytes: u64, transactional: bool) -> f64 {
    let units = bytes.div_ceil(WRITE_UNIT_BYTES).max(1) as f64;
    if transactional {
        2.0 * units
    } else {
        units
    }
}

/// Read request units of reading `bytes` in one request.
pub fn read_units(bytes: u64, consistency: Consistency) -> f64 {
    let units = bytes.div_ceil(READ_UNIT_BYTES).max(1) as f64;
    match consistency {
        Consistency::Eventual => units / 2.0,
        Consistency::Strong => units,
        Consistency::Transactional => 2.0 * units,
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Consistency {
    Eventual,
    Strong,
    Transactional,
}

/// A global secondary index: its key attributes and what it projects.
#[derive(Debug, Clone, PartialEq)]
pub struct Index {
    pub name: String,
    pub keys: Vec<String>,
    /// `None`: every attribute (`ALL`); else the non-key attributes of `INCLUDE` (empty: `KEYS_ONLY`).
    pub projected: Option<Vec<String>>,
}

/// A table's primary key attributes and global secondary indexes, from `DescribeTable`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TableShape {
    pub keys: Vec<String>,
    pub indexes: Vec<Index>,
}

impl TableShape {
    pub fn from_description(description: &Value) -> TableShape {
        let key_names = |schema: &Value| -> Vec<String> {
            schema
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|k| k["AttributeName"].as_str().map(str::to_string))
                .collect()
        };
        let table = &description["Table"];
        let indexes = table["GlobalSecondaryIndexes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|index| {
                let projection = &index["Projection"];
                Index {
                    name: index["IndexName"].as_str().unwrap_or_default().to_string(),
                    keys: key_names(&index["KeySchema"]),
                    projected: match projection["ProjectionType"].as_str() {
                        Some("KEYS_ONLY") => Some(Vec::new()),
                        Some("INCLUDE") => Some(
                            projection["NonKeyAttributes"]
                                .as_array()
                                .into_iter()
                                .flatten()
                                .filter_map(|a| a.as_str().map(str::to_string))
                                .collect(),
                        ),
                        _ => None,
                    },
                }
            })
            .collect();
        TableShape {
            keys: key_names(&table["KeySchema"]),
            indexes,
        }
    }

    /// The primary key of `item`.
    pub fn key_of(&self, item: &Map<String, Value>) -> Map<String, Value> {
        self.keys
            .iter()
            .filter_map(|k| item.get(k).map(|v| (k.clone(), v.clone())))
            .collect()
    }
}

impl Index {
    fn entry(
        &self,
        table_keys: &[String],
        item: &Map<String, Value>,
    ) -> Option<Map<String, Value>> {
        if !self.keys.iter().all(|k| item.contains_key(k)) {
            return None; // a sparse index: an item without the index's key is not in it
        }
        Some(match &self.projected {
            None => item.clone(),
            Some(extra) => item
                .iter()
                .filter(|(name, _)| {
                    self.keys.contains(name) || table_keys.contains(name) || extra.contains(name)
                })
                .map(|(n, v)| (n.clone(), v.clone()))
                .collect(),
        })
    }

    /// Write units this index takes for an item going from `old` to `new` (`None`: absent).
    pub fn write_units(
        &self,
        table_keys: &[String],
        old: Option<&Map<String, Value>>,
        new: Option<&Map<String, Value>>,
    ) -> f64 {
        let old = old.and_then(|i| self.entry(table_keys, i));
        let new = new.and_then(|i| self.entry(table_keys, i));
        let units = |e: &Map<String, Value>| write_units(item_size(e), false);
        match (old, new) {
            (None, None) => 0.0,
            (Some(e), None) | (None, Some(e)) => units(&e),
            (Some(o), Some(n)) => {
                let moved = self.keys.iter().any(|k| o.get(k) != n.get(k));
                if moved {
                    units(&o) + units(&n)
                } else if o != n {
                    units(&o).max(units(&n))
                } else {
                    0.0
                }
            }
        }
    }
}

/// Units of one item written from `old` to `new` (either absent): the table's and its indexes'.
pub fn item_write_units(
    shape: &TableShape,
    old: Option<&Map<String, Value>>,
    new: Option<&Map<String, Value>>,
    transactional: bool,
) -> (f64, f64) {
    let size = old.map_or(0, item_size).max(new.map_or(0, item_size));
    let table = write_units(size, transactional);
    let indexes = shape
        .indexes
        .iter()
        .map(|index| index.write_units(&shape.keys, old, new))
        .sum();
    (table, indexes)
}

/// The kind of an item, from its key: each `#`-separated part of `pk` and `sk` that is not a
/// name in capitals (an id, a date, a number) becomes `*`. `ACCOUNT#<id>` / `ENTRY#<seq>` is
/// `ACCOUNT#*/ENTRY#*`: what a write's units are broken down by, to see which items cost.
pub fn kind_of(key: &Map<String, Value>) -> String {
    let part = |name: &str| {
        let text = key
            .get(name)
            .and_then(|v| v.get("S").or_else(|| v.get("N")))
            .and_then(Value::as_str)
            .unwrap_or("");
        if text.is_empty() {
            return String::new();
        }
        text.split('#')
            .map(|p| {
                if !p.is_empty() && p.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
                    p
                } else {
                    "*"
                }
            })
            .collect::<Vec<_>>()
            .join("#")
    };
    format!("{}/{}", part("pk"), part("sk"))
}

/// One item a write request touches.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    pub table: String,
    /// The key, or for a Put (whose key the table's shape finds) the item.
    pub key: Option<Map<String, Value>>,
    pub put: Option<Map<String, Value>>,
    pub transactional: bool,
    /// A ConditionCheck: billed as a write, changes nothing.
    pub check_only: bool,
}

/// The items a DynamoDB write operation (`PutItem`, ...) touches, from its request body.
pub fn written(operation: &str, body: &Value) -> Vec<Written> {
    let single =
        |table: &Value, key: Option<&Value>, put: Option<&Value>, tx: bool, check| Written {
            table: table.as_str().unwrap_or_default().to_string(),
            key: key.and_then(Value::as_object).cloned(),
            put: put.and_then(Value::as_object).cloned(),
            transactional: tx,
            check_only: check,
        };
    match operation {
        "PutItem" => vec![single(
            &body["TableName"],
            None,
            body.get("Item"),
            false,
            false,
        )],
        "UpdateItem" | "DeleteItem" => {
            vec![single(
                &body["TableName"],
                body.get("Key"),
                None,
                false,
                false,
            )]
        }
        "BatchWriteItem" => body["RequestItems"]
            .as_object()
            .into_iter()
            .flatten()
            .flat_map(|(table, requests)| {
                let table = Value::String(table.clone());
                requests.as_array().into_iter().flatten().map(move |r| {
                    single(
                        &table,
                        r["DeleteRequest"].get("Key"),
                        r["PutRequest"].get("Item"),
                        false,
                        false,
                    )
                })
            })
            .collect(),
        "TransactWriteItems" => body["TransactItems"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|action| {
                let (kind, a) = action.as_object()?.iter().next()?;
                Some(single(
                    &a["TableName"],
                    a.get("Key"),
                    a.get("Item"),
                    true,
                    kind == "ConditionCheck",
                ))
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Read units of a DynamoDB read operation, from its request and its (successful) response.
pub fn read_units_of(operation: &str, request: &Value, response: &Value) -> f64 {
    let consistency = |consistent: &Value| {
        if consistent.as_bool() == Some(true) {
            Consistency::Strong
        } else {
            Consistency::Eventual
        }
    };
    let item = |v: &Value| v.as_object().map_or(0, item_size);
    match operation {
        "GetItem" => read_units(
            item(&response["Item"]),
            consistency(&request["ConsistentRead"]),
        ),
        "BatchGetItem" => response["Responses"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(table, items)| {
                let c = consistency(&request["RequestItems"][table]["ConsistentRead"]);
                let found: Vec<&Value> = items.as_array().into_iter().flatten().collect();
                let asked = request["RequestItems"][table]["Keys"]
                    .as_array()
                    .map_or(0, Vec::len);
                // A key not found still costs the minimum.
                let missing = asked.saturating_sub(found.len()) as f64 * read_units(0, c);
                found.iter().map(|i| read_units(item(i), c)).sum::<f64>() + missing
            })
            .sum(),
        "TransactGetItems" => response["Responses"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| read_units(item(&r["Item"]), Consistency::Transactional))
            .sum(),
        "Query" | "Scan" => {
            // An index is read eventually consistent whatever is asked.
            let c = if request.get("IndexName").is_some() {
                Consistency::Eventual
            } else {
                consistency(&request["ConsistentRead"])
            };
            let bytes: u64 = response["Items"]
                .as_array()
                .into_iter()
                .flatten()
                .map(item)
                .sum();
            read_units(bytes, c)
        }
        _ => 0.0,
    }
}

pub fn is_write(operation: &str) -> bool {
    matches!(
        operation,
        "PutItem" | "UpdateItem" | "DeleteItem" | "BatchWriteItem" | "TransactWriteItems"
    )
}

pub fn is_read(operation: &str) -> bool {
    matches!(
        operation,
        "GetItem" | "BatchGetItem" | "TransactGetItems" | "Query" | "Scan"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn an_items_kind_keeps_the_names_and_hides_the_ids() {
        let key = map(json!({"pk": {"S": "ACCOUNT#5f0c-77"}, "sk": {"S": "ENTRY#000042"}}));
        assert_eq!(kind_of(&key), "ACCOUNT#*/ENTRY#*");
        let key = map(json!({"pk": {"S": "G1#EARNINGS#3"}, "sk": {"S": "2026-12-07"}}));
        assert_eq!(kind_of(&key), "*#EARNINGS#*/*");
        assert_eq!(kind_of(&map(json!({"pk": {"S": "COUNTER"}}))), "COUNTER/");
    }

    #[test]
    fn sizes_follow_the_documented_rules() {
        // Strings are their UTF-8 bytes; names count too.
        assert_eq!(item_size(&map(json!({"pk": {"S": "abc"}}))), 5);
        assert_eq!(item_size(&map(json!({"n": {"S": "é"}}))), 3);
        // Numbers: one byte per two significant digits, plus one; zeros at either end trimmed.
        assert_eq!(number_size("7"), 2);
        assert_eq!(number_size("12"), 2);
        assert_eq!(number_size("123"), 3);
        assert_eq!(number_size("-1500"), 2);
        assert_eq!(number_size("0.0012"), 2);
        assert_eq!(number_size("1234567890"), 6);
        // Booleans and null one byte; binary its decoded bytes.
        assert_eq!(value_size(&json!({"BOOL": true})), 1);
        assert_eq!(value_size(&json!({"NULL": true})), 1);
        assert_eq!(value_size(&json!({"B": "AAECAw=="})), 4);
        // Lists and maps: 3 bytes, one per element, plus the elements (and a map's names).
        assert_eq!(value_size(&json!({"L": []})), 3);
        assert_eq!(value_size(&json!({"M": {}})), 3);
        assert_eq!(
            value_size(&json!({"L": [{"S": "ab"}, {"N": "1"}]})),
            3 + (1 + 2) + (1 + 2)
        );
        assert_eq!(
            value_size(&json!({"M": {"ab": {"S": "xyz"}}})),
            3 + 1 + 2 + 3
        );
        assert_eq!(value_size(&json!({"SS": ["a", "bc"]})), 3);
    }

    #[test]
    fn units_round_up_per_kilobyte_written_and_per_four_read() {
        // The guide's examples: a 500-byte item is 1 WRU, 3.5 KB is 4 WRU; 3.5 KB read strongly
        // consistent is 1 RRU, eventually 0.5; 8 KB is 2 RRU; a 1 KB transactional write is 2 WRU
        // and a 3 KB transactional write 6; a 500-byte transactional read 2 RRU.
        assert_eq!(write_units(500, false), 1.0);
        assert_eq!(write_units(3584, false), 4.0);
        assert_eq!(write_units(1024, false), 1.0);
        assert_eq!(write_units(1025, false), 2.0);
        assert_eq!(write_units(0, false), 1.0);
        assert_eq!(write_units(1024, true), 2.0);
        assert_eq!(write_units(3072, true), 6.0);
        assert_eq!(read_units(3584, Consistency::Strong), 1.0);
        assert_eq!(read_units(3584, Consistency::Eventual), 0.5);
        assert_eq!(read_units(8192, Consistency::Strong), 2.0);
        assert_eq!(read_units(8193, Consistency::Eventual), 1.5);
        assert_eq!(read_units(500, Consistency::Transactional), 2.0);
        assert_eq!(
            read_units(0, Consistency::Strong),
            1.0,
            "a miss costs the minimum"
        );
    }

    fn shape() -> TableShape {
        TableShape::from_description(&json!({"Table": {
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "GlobalSecondaryIndexes": [
            {"IndexName": "gsi1", "KeySchema": [{"AttributeName": "gsi1pk", "KeyType": "HASH"}, {"AttributeName": "gsi1sk", "KeyType": "RANGE"}],
             "Projection": {"ProjectionType": "ALL"}},
            {"IndexName": "gsi2", "KeySchema": [{"AttributeName": "gsi2pk", "KeyType": "HASH"}],
             "Projection": {"ProjectionType": "KEYS_ONLY"}}
        ]}}))
    }

    #[test]
    fn indexes_cost_a_write_per_entry_put_or_removed_and_two_when_the_key_moves() {
        let s = shape();
        assert_eq!(s.keys, ["pk", "sk"]);
        assert_eq!(s.indexes[1].projected, Some(vec![]));
        let open = map(
            json!({"pk": {"S": "T#1"}, "sk": {"S": "T"}, "gsi1pk": {"S": "open"}, "gsi1sk": {"S": "1"}, "title": {"S": "x"}}),
        );
        let renamed = map(
            json!({"pk": {"S": "T#1"}, "sk": {"S": "T"}, "gsi1pk": {"S": "open"}, "gsi1sk": {"S": "1"}, "title": {"S": "y"}}),
        );
        let done = map(
            json!({"pk": {"S": "T#1"}, "sk": {"S": "T"}, "gsi1pk": {"S": "done"}, "gsi1sk": {"S": "1"}, "title": {"S": "y"}}),
        );
        let plain = map(json!({"pk": {"S": "T#1"}, "sk": {"S": "T"}}));
        // A new item in gsi1 only (gsi2 is sparse): 1 table + 1 index; a transaction doubles the table's.
        assert_eq!(item_write_units(&s, None, Some(&open), false), (1.0, 1.0));
        assert_eq!(item_write_units(&s, None, Some(&open), true), (2.0, 1.0));
        // A projected attribute changes: the entry is rewritten (1); the index key moves: 2.
        assert_eq!(
            item_write_units(&s, Some(&open), Some(&renamed), false),
            (1.0, 1.0)
        );
        assert_eq!(
            item_write_units(&s, Some(&renamed), Some(&done), false),
            (1.0, 2.0)
        );
        // Nothing in any index: the table only; unchanged (a ConditionCheck): no index write.
        assert_eq!(item_write_units(&s, None, Some(&plain), false), (1.0, 0.0));
        assert_eq!(
            item_write_units(&s, Some(&open), Some(&open), true),
            (2.0, 0.0)
        );
        // A delete removes the entry.
        assert_eq!(item_write_units(&s, Some(&open), None, false), (1.0, 1.0));
        // KEYS_ONLY: a change of a non-key attribute does not touch the index.
        let with2 = |t: &str| {
            map(
                json!({"pk": {"S": "A"}, "sk": {"S": "A"}, "gsi2pk": {"S": "p"}, "title": {"S": t}}),
            )
        };
        assert_eq!(
            item_write_units(&s, Some(&with2("a")), Some(&with2("b")), false),
            (1.0, 0.0)
        );
        // The larger of before and after: an item shrinking from 1.5 KB still costs 2.
        let big =
            map(json!({"pk": {"S": "T#1"}, "sk": {"S": "T"}, "blob": {"S": "x".repeat(1500)}}));
        assert_eq!(
            item_write_units(&s, Some(&big), Some(&plain), false),
            (2.0, 0.0)
        );
        assert_eq!(
            s.key_of(&open),
            map(json!({"pk": {"S": "T#1"}, "sk": {"S": "T"}}))
        );
    }

    #[test]
    fn the_items_a_write_touches() {
        let tx = json!({"TransactItems": [
            {"Put": {"TableName": "T", "Item": {"pk": {"S": "a"}}}},
            {"Update": {"TableName": "T", "Key": {"pk": {"S": "b"}}, "UpdateExpression": "SET x = :x"}},
            {"ConditionCheck": {"TableName": "U", "Key": {"pk": {"S": "c"}}}},
            {"Delete": {"TableName": "T", "Key": {"pk": {"S": "d"}}}}
        ]});
        let w = written("TransactWriteItems", &tx);
        assert_eq!(w.len(), 4);
        assert!(w.iter().all(|w| w.transactional));
        assert_eq!(w.iter().filter(|w| w.check_only).count(), 1);
        assert!(w[0].put.is_some() && w[0].key.is_none());
        assert_eq!(w[2].table, "U");
        let batch = json!({"RequestItems": {"T": [
            {"PutRequest": {"Item": {"pk": {"S": "a"}}}},
            {"DeleteRequest": {"Key": {"pk": {"S": "b"}}}}
        ]}});
        let w = written("BatchWriteItem", &batch);
        assert_eq!(w.len(), 2);
        assert!(!w[0].transactional && w[0].put.is_some() && w[1].key.is_some());
        assert_eq!(written("GetItem", &tx), vec![]);
    }

    #[test]
    fn reads_are_priced_from_what_came_back() {
        let item = json!({"pk": {"S": "x".repeat(5000)}});
        assert_eq!(
            read_units_of(
                "GetItem",
                &json!({"ConsistentRead": true}),
                &json!({"Item": item})
            ),
            2.0
        );
        assert_eq!(read_units_of("GetItem", &json!({}), &json!({})), 0.5);
        // A query sums its items before rounding: 3 × 2 KB = 6 KB → 2 units, 1 eventually; on an index always eventually.
        let small = json!({"pk": {"S": "x".repeat(2046)}});
        let three = json!({"Items": [small, small, small]});
        assert_eq!(
            read_units_of("Query", &json!({"ConsistentRead": true}), &three),
            2.0
        );
        assert_eq!(read_units_of("Query", &json!({}), &three), 1.0);
        assert_eq!(
            read_units_of(
                "Query",
                &json!({"IndexName": "gsi1", "ConsistentRead": true}),
                &three
            ),
            1.0
        );
        // A batch: per item, a key not found at the minimum.
        let batch = json!({"RequestItems": {"T": {"Keys": [{}, {}, {}], "ConsistentRead": true}}});
        assert_eq!(
            read_units_of(
                "BatchGetItem",
                &batch,
                &json!({"Responses": {"T": [small]}})
            ),
            3.0
        );
        assert_eq!(
            read_units_of(
                "TransactGetItems",
                &json!({}),
                &json!({"Responses": [{"Item": small}, {}]})
            ),
            4.0
        );
    }
}
