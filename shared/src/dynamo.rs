//! A context's DynamoDB table. Every context's table has the same key shape: string `pk` and
//! `sk`, and optional indexes `gsi1` to `gsi4` keyed `gsi<n>pk`/`gsi<n>sk`. Items are Rust types
//! mapped by serde_dynamo ([`to_item`], [`from_item`]) plus their key attributes; a [`Table`]
//! reads them consistently, writes them under conditions, and runs transactions, retrying
//! conflicts (and, through the SDK, throttling) with jittered backoff.

use std::collections::HashMap;
use std::str::FromStr;

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::scan::builders::ScanFluentBuilder;
use aws_sdk_dynamodb::types::builders::UpdateBuilder;
pub use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::types::{
    ConditionCheck, Delete, KeysAndAttributes, Put, TransactWriteItem, Update,
};
use serde::{de::DeserializeOwned, Serialize};

pub type Item = HashMap<String, AttributeValue>;

/// One page (at most `limit` items) of a query or a scan, read as `T`s, from a `cursor` this
/// listing gave; `E` is the listing's error. A macro, not a function: the SDK's query and scan
/// builders have the same methods but no trait in common.
macro_rules! page {
    ($request:expr, $limit:expr, $cursor:expr) => {{
        let request = $request;
        let start = decode_cursor($cursor, &start_keys(request.get_index_name().as_deref()))?;
        let out = request
            .limit($limit as i32)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(page_error::<_, _, E>($cursor.is_some()))?;
        Ok(Listed::read(out.items(), out.last_evaluated_key())?)
    }};
}

/// A context's table: its client and name, built once per cold start.
#[derive(Clone)]
pub struct Table {
    db: aws_sdk_dynamodb::Client,
    name: String,
}

impl Table {
    pub fn new(config: &aws_config::SdkConfig, name: String) -> Self {
        Self {
            db: aws_sdk_dynamodb::Client::new(config),
            name,
        }
    }

    /// The function's table, named by `TABLE_NAME`.
    pub fn from_env(
        config: &aws_config::SdkConfig,
    ) -> Result<Self, crate::config::MissingVariable> {
        Ok(Self::new(config, crate::config::required("TABLE_NAME")?))
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The client, for the requests this type does not wrap (queries, scans).
    pub fn client(&self) -> &aws_sdk_dynamodb::Client {
        &self.db
    }

    /// A query of this table; name an index on it to query that.
    fn query(&self) -> QueryFluentBuilder {
        self.db.query().table_name(&self.name)
    }

    /// One page of a partition, newest (highest sort key) first: the items of the table, or of
    /// `index`, whose hash key is `key` and whose sort key begins with `sort_prefix` if one is
    /// given; read as `T`s, from a `cursor` this listing gave.
    pub async fn newest_first<T, E>(
        &self,
        index: Option<&str>,
        key: &str,
        sort_prefix: Option<&str>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listed<T>, E>
    where
        T: DeserializeOwned,
        E: From<BadCursor> + From<StoreError>,
    {
        let query = self.newest_of(index, key);
        let query = match sort_prefix {
            None => query.key_condition_expression("#pk = :pk"),
            Some(prefix) => query
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .expression_attribute_names("#sk", key_attribute(index, "sk"))
                .expression_attribute_values(":prefix", s(prefix)),
        };
        page!(query, limit, cursor)
    }

    /// [`Table::newest_first`] of the items whose sort key is from `low` to `high`, both
    /// included.
    pub async fn newest_between<T, E>(
        &self,
        index: Option<&str>,
        key: &str,
        (low, high): (&str, &str),
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listed<T>, E>
    where
        T: DeserializeOwned,
        E: From<BadCursor> + From<StoreError>,
    {
        let query = self
            .newest_of(index, key)
            .key_condition_expression("#pk = :pk AND #sk BETWEEN :low AND :high")
            .expression_attribute_names("#sk", key_attribute(index, "sk"))
            .expression_attribute_values(":low", s(low))
            .expression_attribute_values(":high", s(high));
        page!(query, limit, cursor)
    }

    /// A query of one partition (`#pk = :pk`) of the table or of `index`, highest sort key
    /// first.
    fn newest_of(&self, index: Option<&str>, key: &str) -> QueryFluentBuilder {
        self.query()
            .set_index_name(index.map(str::to_owned))
            .expression_attribute_names("#pk", key_attribute(index, "pk"))
            .expression_attribute_values(":pk", s(key))
            .scan_index_forward(false)
    }

    /// A scan of this table; name an index on it to scan that.
    pub fn scan(&self) -> ScanFluentBuilder {
        self.db.scan().table_name(&self.name)
    }

    /// One page of `scan` read as `T`s, from a `cursor` this listing gave. A scan reads `limit`
    /// items before its filter, so a page may hold fewer (or none) and still have a next.
    pub async fn scan_page<T, E>(
        &self,
        scan: ScanFluentBuilder,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listed<T>, E>
    where
        T: DeserializeOwned,
        E: From<BadCursor> + From<StoreError>,
    {
        page!(scan, limit, cursor)
    }

    /// One page of the items whose `pk` begins with `prefix` and that meet `filter`, if any (a
    /// condition without values), read as `T`s: a [`Table::scan_page`] of one kind of item.
    pub async fn scan_prefix<T, E>(
        &self,
        prefix: &str,
        filter: Option<&str>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listed<T>, E>
    where
        T: DeserializeOwned,
        E: From<BadCursor> + From<StoreError>,
    {
        let condition = match filter {
            None => "begins_with(pk, :prefix)".to_owned(),
            Some(filter) => format!("begins_with(pk, :prefix) AND {filter}"),
        };
        let scan = self
            .scan()
            .filter_expression(condition)
            .expression_attribute_values(":prefix", s(prefix));
        self.scan_page(scan, limit, cursor).await
    }

    /// The item under `key`, read consistently.
    pub async fn get(&self, key: Item) -> Result<Option<Item>, StoreError> {
        let out = self
            .db
            .get_item()
            .table_name(&self.name)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await?;
        Ok(out.item().cloned())
    }

    /// The item under `key` as a `T`, read consistently.
    pub async fn get_as<T: DeserializeOwned>(&self, key: Item) -> Result<Option<T>, StoreError> {
        self.get(key)
            .await?
            .map(|item| from_item(&item))
            .transpose()
    }

    /// Writes `item` if `condition` holds; `false` when it did not (nothing written).
    pub async fn put_if(
        &self,
        item: Item,
        condition: &str,
        values: Option<HashMap<String, AttributeValue>>,
    ) -> Result<bool, StoreError> {
        let result = self
            .db
            .put_item()
            .table_name(&self.name)
            .set_item(Some(item))
            .condition_expression(condition)
            .set_expression_attribute_values(values)
            .send()
            .await;
        written(result)
    }

    /// Runs `put` (built as a transaction's item is) alone: a single-item write costs half of
    /// what the same item does in a transaction. `false` when its condition did not hold.
    pub async fn put_alone(&self, put: Put) -> Result<bool, StoreError> {
        let result = self
            .db
            .put_item()
            .table_name(put.table_name())
            .set_item(Some(put.item().clone()))
            .set_condition_expression(put.condition_expression().map(str::to_owned))
            .set_expression_attribute_names(put.expression_attribute_names().cloned())
            .set_expression_attribute_values(put.expression_attribute_values().cloned())
            .send()
            .await;
        written(result)
    }

    /// Writes `item` whatever is there: for what only the newest matters (a card, payout
    /// details, a title), never for a use case's state, which a transaction writes.
    pub async fn overwrite(&self, item: Item) -> Result<(), StoreError> {
        self.db
            .put_item()
            .table_name(&self.name)
            .set_item(Some(item))
            .send()
            .await?;
        Ok(())
    }

    /// An update of an item of this table: for a transaction ([`update`]) or alone
    /// ([`Table::update_if`]).
    pub fn update(&self, key: Item) -> UpdateBuilder {
        Update::builder().table_name(&self.name).set_key(Some(key))
    }

    /// Runs one update alone; `false` when its condition did not hold (nothing written).
    pub async fn update_if(&self, update: UpdateBuilder) -> Result<bool, StoreError> {
        let update = update.build().expect("an update names its table and key");
        let result = self
            .db
            .update_item()
            .table_name(update.table_name())
            .set_key(Some(update.key().clone()))
            .update_expression(update.update_expression())
            .set_condition_expression(update.condition_expression().map(str::to_owned))
            .set_expression_attribute_names(update.expression_attribute_names().cloned())
            .set_expression_attribute_values(update.expression_attribute_values().cloned())
            .send()
            .await;
        written(result)
    }

    /// A transaction item that writes `item` to this table only if `condition` holds.
    pub fn put(&self, item: Item, condition: &str) -> TransactWriteItem {
        put(&self.name, item, condition)
    }

    /// A transaction item that writes `item` if `condition` (when there is one) holds, with the
    /// `:values` the condition names.
    pub fn put_item(
        &self,
        item: Item,
        condition: Option<&str>,
        values: &[(&str, AttributeValue)],
    ) -> TransactWriteItem {
        let put = Put::builder()
            .table_name(&self.name)
            .set_item(Some(item))
            .set_condition_expression(condition.map(str::to_owned))
            .set_expression_attribute_values(named(values))
            .build()
            .expect("table and item are set");
        TransactWriteItem::builder().put(put).build()
    }

    /// A transaction item that writes `item` over what a command read of it: only where nothing
    /// is when it read nothing (`read` is `None`), else only while the item is still at the
    /// `revision` read. Its condition failing means the item changed since it was read.
    pub fn put_over_revision(&self, item: Item, read: Option<u64>) -> TransactWriteItem {
        match read {
            None => self.put_item(item, Some("attribute_not_exists(pk)"), &[]),
            Some(revision) => self.put_item(
                item,
                Some("revision = :revision"),
                &[(":revision", n(revision))],
            ),
        }
    }

    /// A transaction item that deletes the item under `key` if `condition` (when there is one)
    /// holds.
    pub fn delete_item(
        &self,
        key: Item,
        condition: Option<&str>,
        values: &[(&str, AttributeValue)],
    ) -> TransactWriteItem {
        let delete = Delete::builder()
            .table_name(&self.name)
            .set_key(Some(key))
            .set_condition_expression(condition.map(str::to_owned))
            .set_expression_attribute_values(named(values))
            .build()
            .expect("table and key are set");
        TransactWriteItem::builder().delete(delete).build()
    }

    /// A transaction item that writes nothing: the transaction happens only if `condition`
    /// holds for the item under `key`.
    pub fn check_item(
        &self,
        key: Item,
        condition: &str,
        values: &[(&str, AttributeValue)],
    ) -> TransactWriteItem {
        let check = ConditionCheck::builder()
            .table_name(&self.name)
            .set_key(Some(key))
            .condition_expression(condition)
            .set_expression_attribute_values(named(values))
            .build()
            .expect("table, key and condition are set");
        TransactWriteItem::builder().condition_check(check).build()
    }

    /// One `TransactWriteItems` on this table (see [`transact`]).
    pub async fn transact(
        &self,
        transaction: Transaction,
    ) -> Result<Result<(), Cancelled>, StoreError> {
        transact(&self.db, transaction).await
    }

    /// Every item `query` finds, all pages of it (DynamoDB answers at most 1 MB a call): for the
    /// reads that need the whole set, as a period's movements or an account's payouts. `query` is
    /// built on [`Table::client`], without a start key.
    pub async fn query_all(&self, query: QueryFluentBuilder) -> Result<Vec<Item>, StoreError> {
        Ok(query
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await?)
    }

    /// Every item of partition `pk` whose sort key is between `from` and `to` (inclusive), all
    /// pages of it.
    pub async fn query_between(
        &self,
        pk: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<Item>, StoreError> {
        self.query_all(
            self.db
                .query()
                .table_name(&self.name)
                .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
                .expression_attribute_values(":pk", s(pk))
                .expression_attribute_values(":from", s(from))
                .expression_attribute_values(":to", s(to)),
        )
        .await
    }

    /// Items by key, read consistently: one call, more only for keys DynamoDB left unprocessed.
    pub async fn batch_get(&self, keys: Vec<Item>) -> Result<Vec<Item>, StoreError> {
        let mut found = Vec::new();
        let mut pending = keys;
        for attempt in 1..=5 {
            if pending.is_empty() {
                break;
            }
            if attempt > 1 {
                tokio::time::sleep(backoff(attempt)).await;
            }
            let request = KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut pending)))
                .consistent_read(true)
                .build()
                .expect("keys are set");
            let out = self
                .db
                .batch_get_item()
                .request_items(&self.name, request)
                .send()
                .await?;
            found.extend(
                out.responses()
                    .and_then(|r| r.get(&self.name))
                    .cloned()
                    .unwrap_or_default(),
            );
            pending = out
                .unprocessed_keys()
                .and_then(|u| u.get(&self.name))
                .map(|k| k.keys().to_vec())
                .unwrap_or_default();
        }
        if pending.is_empty() {
            Ok(found)
        } else {
            Err(StoreError::Aws(
                "keys left unprocessed after retries".into(),
            ))
        }
    }
}

/// Whether a single conditional write happened: `false` when its condition did not hold.
fn written<O, E, R>(result: Result<O, SdkError<E, R>>) -> Result<bool, StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match result {
        Ok(_) => Ok(true),
        Err(e)
            if e.as_service_error().and_then(|e| e.code()) == Some(CONDITION_FAILED_EXCEPTION) =>
        {
            Ok(false)
        }
        Err(e) => Err(e.into()),
    }
}

const CONDITION_FAILED_EXCEPTION: &str = "ConditionalCheckFailedException";

/// A listing's cursor: a query's last evaluated key, opaque to clients (URL-safe base64 of its
/// string attributes).
fn encode_cursor(last: Option<&Item>) -> Option<String> {
    use base64::Engine;
    let plain: HashMap<&str, &str> = last?
        .iter()
        .filter_map(|(k, v)| Some((k.as_str(), v.as_s().ok()?.as_str())))
        .collect();
    Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&plain).ok()?))
}

/// One page of a listing: its items, and the cursor of the next page (none after the last).
#[derive(Debug, Clone, PartialEq)]
pub struct Listed<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Listed<T> {
    /// A page of `items` (already in the listing's order) from `cursor`, an offset: how an
    /// in-memory store lists.
    pub fn page_of(
        mut items: Vec<T>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Self, BadCursor> {
        let start = match cursor {
            None => 0,
            Some(c) => c.parse::<usize>().map_err(|_| BadCursor)?,
        };
        let end = (start + limit).min(items.len());
        let next_cursor = (end < items.len()).then(|| end.to_string());
        Ok(Listed {
            items: items.drain(start.min(end)..end).collect(),
            next_cursor,
        })
    }
}

impl<T: DeserializeOwned> Listed<T> {
    /// A page as DynamoDB answered it: its items read as `T`s, and its last key as the cursor.
    fn read(items: &[Item], last: Option<&Item>) -> Result<Self, StoreError> {
        Ok(Listed {
            items: items.iter().map(from_item).collect::<Result<_, _>>()?,
            next_cursor: encode_cursor(last),
        })
    }
}

/// The attributes of a start key: the table's key, and the index's (`gsi1` → `gsi1pk`,
/// `gsi1sk`) when a listing reads one.
fn start_keys(index: Option<&str>) -> Vec<String> {
    let mut keys = vec!["pk".to_owned(), "sk".to_owned()];
    if let Some(index) = index {
        keys.extend([format!("{index}pk"), format!("{index}sk")]);
    }
    keys
}

/// A cursor that was not given by this listing.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the cursor is not valid")]
pub struct BadCursor;

/// A cursor [`encode_cursor`] gave, back as a start key: exactly the listing's `keys` (the
/// table's key attributes and, for an index, the index's), no more and no fewer.
fn decode_cursor<K: AsRef<str>>(
    cursor: Option<&str>,
    keys: &[K],
) -> Result<Option<Item>, BadCursor> {
    use base64::Engine;
    let Some(cursor) = cursor else {
        return Ok(None);
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| BadCursor)?;
    let plain: HashMap<String, String> = serde_json::from_slice(&bytes).map_err(|_| BadCursor)?;
    if plain.len() != keys.len()
        || !plain
            .keys()
            .all(|k| keys.iter().any(|key| key.as_ref() == k))
    {
        return Err(BadCursor);
    }
    Ok(Some(plain.into_iter().map(|(k, v)| (k, s(v))).collect()))
}

/// Reads a listing's failed call, as the listing's own error. When it was given a cursor,
/// DynamoDB's `ValidationException` is a start key it refuses (of the right shape, but outside
/// the query's partition or range: a cursor this listing did not give), the caller's mistake;
/// anything else is the store's.
fn page_error<E, R, T>(cursor_given: bool) -> impl FnOnce(SdkError<E, R>) -> T
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
    T: From<BadCursor> + From<StoreError>,
{
    move |e| {
        let refused = e
            .as_service_error()
            .is_some_and(|s| s.code() == Some("ValidationException"));
        if cursor_given && refused {
            T::from(BadCursor)
        } else {
            T::from(StoreError::from(e))
        }
    }
}

/// A value as an item's attributes (serde_dynamo). `None` fields are left out rather than
/// stored as NULL, so `attribute_exists` means "has a value".
pub fn to_item<T: Serialize>(value: &T) -> Item {
    let mut item: Item = serde_dynamo::to_item(value).expect("a stored type maps to an item");
    item.retain(|_, v| !matches!(v, AttributeValue::Null(_)));
    item
}

/// An item's attributes as a value (serde_dynamo); key and bookkeeping attributes are ignored.
pub fn from_item<T: DeserializeOwned>(item: &Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item.clone()).map_err(|e| StoreError::Malformed(e.to_string()))
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("stored item is malformed: {0}")]
    Malformed(String),
    #[error("DynamoDB call failed: {0}")]
    Aws(String),
}

impl<E: std::error::Error + 'static, R: std::fmt::Debug> From<SdkError<E, R>> for StoreError {
    fn from(e: SdkError<E, R>) -> Self {
        StoreError::Aws(DisplayErrorContext(e).to_string())
    }
}

pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub fn key(pk: impl Into<String>, sk: impl Into<String>) -> Item {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}

/// A condition's `:values`, as the SDK takes them (none: `None`, which it requires).
fn named(values: &[(&str, AttributeValue)]) -> Option<HashMap<String, AttributeValue>> {
    (!values.is_empty()).then(|| {
        values
            .iter()
            .map(|(name, value)| ((*name).to_owned(), value.clone()))
            .collect()
    })
}

/// A transaction item that writes `item` only if `condition` holds.
pub fn put(table: &str, item: Item, condition: &str) -> TransactWriteItem {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression(condition)
        .build()
        .expect("table, item and condition are set");
    TransactWriteItem::builder().put(put).build()
}

/// The condition of a copy kept only forward: nothing there yet, or an older `:revision`.
pub const NEWER_REVISION: &str = "attribute_not_exists(pk) OR revision < :revision";

/// A transaction item that writes `value` (which has a `revision` attribute) under `key`
/// unless the item there has this revision or a newer one: how a context keeps its copy of
/// another context's entity, only forward, whatever order the events arrive in.
pub fn put_newer_revision<T: Serialize>(
    table: &str,
    key: Item,
    value: &T,
    revision: u64,
) -> TransactWriteItem {
    let mut item = to_item(value);
    item.extend(key);
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression(NEWER_REVISION)
        .expression_attribute_values(":revision", n(revision))
        .build()
        .expect("table, item and condition are set");
    TransactWriteItem::builder().put(put).build()
}

/// A transaction item from a prepared update.
pub fn update(update: UpdateBuilder) -> TransactWriteItem {
    TransactWriteItem::builder()
        .update(update.build().expect("an update names its table and key"))
        .build()
}

pub fn get_s<'a>(item: &'a Item, name: &str) -> Result<&'a str, StoreError> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
        .ok_or_else(|| StoreError::Malformed(format!("string attribute {name} missing")))
}

pub fn opt_s<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

pub fn get_n<T: FromStr>(item: &Item, name: &str) -> Result<T, StoreError> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| StoreError::Malformed(format!("number attribute {name} missing")))
}

pub fn get_bool(item: &Item, name: &str) -> Result<bool, StoreError> {
    item.get(name)
        .and_then(|v| v.as_bool().ok())
        .copied()
        .ok_or_else(|| StoreError::Malformed(format!("boolean attribute {name} missing")))
}

/// A transaction being built: every item carries a name, so that a cancellation says whose
/// condition failed by name ("task", "inbox", "idempotency", `task:<id>`), never by position.
#[derive(Debug, Clone, Default)]
pub struct Transaction {
    names: Vec<String>,
    items: Vec<TransactWriteItem>,
}

impl Transaction {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `item` under `name`.
    pub fn add(&mut self, name: impl Into<String>, item: TransactWriteItem) -> &mut Self {
        self.names.push(name.into());
        self.items.push(item);
        self
    }

    /// Adds `item` under `name`, by value, for building in one expression.
    pub fn with(mut self, name: impl Into<String>, item: TransactWriteItem) -> Self {
        self.add(name, item);
        self
    }

    /// Adds every item of `items`, all under `name` (items whose conditions never fail, or
    /// whose failures mean the same thing, such as a batch of outbox records).
    pub fn add_all(
        &mut self,
        name: &str,
        items: impl IntoIterator<Item = TransactWriteItem>,
    ) -> &mut Self {
        for item in items {
            self.add(name, item);
        }
        self
    }

    /// Appends `other`'s items with their names.
    pub fn append(&mut self, other: Transaction) -> &mut Self {
        self.names.extend(other.names);
        self.items.extend(other.items);
        self
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// A transaction DynamoDB cancelled: each item's name and reason code (`"None"` where that item
/// was fine, [`CONDITION_FAILED`] where its condition did not hold).
#[derive(Debug, Clone, PartialEq)]
pub struct Cancelled(pub Vec<(String, String)>);

impl Cancelled {
    /// Whether the condition of an item named `name` failed.
    pub fn failed(&self, name: &str) -> bool {
        self.failed_names().any(|n| n == name)
    }

    /// The names of the items whose conditions failed.
    pub fn failed_names(&self) -> impl Iterator<Item = &str> {
        self.0
            .iter()
            .filter(|(_, code)| code == CONDITION_FAILED)
            .map(|(name, _)| name.as_str())
    }

    /// Whether any item's condition failed.
    pub fn any_failed(&self) -> bool {
        self.failed_names().next().is_some()
    }

    /// Whether the transaction lost only to concurrent ones: no condition failed, so trying
    /// again may well succeed.
    pub fn only_conflicts(&self) -> bool {
        self.0.iter().any(|(_, c)| c == TRANSACTION_CONFLICT)
            && self
                .0
                .iter()
                .all(|(_, c)| c == TRANSACTION_CONFLICT || c == "None")
    }
}

impl From<Cancelled> for StoreError {
    fn from(c: Cancelled) -> Self {
        StoreError::Aws(format!("transaction cancelled: {:?}", c.0))
    }
}

/// How often a transaction that lost only to a concurrent one is tried in all.
const CONFLICT_ATTEMPTS: u32 = 5;

/// Runs one `TransactWriteItems`: all of `transaction` or nothing. A cancellation is an answer
/// the caller reads (the inner `Err`, naming the items whose conditions failed); anything else is
/// an error.
///
/// A cancellation caused only by another transaction on the same items (`TransactionConflict`,
/// no condition failed) says nothing about the data, so it is retried here, after a jittered
/// backoff, rather than surfacing as a 500 or a retried message. Throttling is retried by the
/// SDK's own retry policy.
pub async fn transact(
    db: &aws_sdk_dynamodb::Client,
    transaction: Transaction,
) -> Result<Result<(), Cancelled>, StoreError> {
    let Transaction { names, items } = transaction;
    let mut attempt = 1;
    loop {
        let result = db
            .transact_write_items()
            .set_transact_items(Some(items.clone()))
            .send()
            .await;
        let cancelled = match result {
            Ok(_) => return Ok(Ok(())),
            Err(err) => match cancellation_reasons(&err) {
                Some(reasons) => Cancelled(names.iter().cloned().zip(reasons).collect()),
                None => return Err(err.into()),
            },
        };
        if !cancelled.only_conflicts() || attempt == CONFLICT_ATTEMPTS {
            return Ok(Err(cancelled));
        }
        tokio::time::sleep(backoff(attempt)).await;
        attempt += 1;
    }
}

/// Full jitter over an exponential ceiling: 0..(25 ms × 2^attempt).
pub fn backoff(attempt: u32) -> std::time::Duration {
    use rand::Rng;
    let ceiling_ms = 25u64 << attempt.min(6);
    std::time::Duration::from_millis(rand::thread_rng().gen_range(0..=ceiling_ms))
}

/// The cancellation reason codes of a cancelled `TransactWriteItems`, one per item in order
/// (`"None"` where that item was fine), or `None` if the error was something else.
fn cancellation_reasons<R>(
    err: &SdkError<aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError, R>,
) -> Option<Vec<String>> {
    match err.as_service_error()? {
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c) => Some(
            c.cancellation_reasons()
                .iter()
                .map(|r| r.code().unwrap_or("None").to_owned())
                .collect(),
        ),
        _ => None,
    }
}

pub const CONDITION_FAILED: &str = "ConditionalCheckFailed";
pub const TRANSACTION_CONFLICT: &str = "TransactionConflict";

/// A key attribute's name (`pk`, `sk`) in the table, or in `index` (`gsi1pk`, `gsi1sk`).
fn key_attribute(index: Option<&str>, name: &str) -> String {
    format!("{}{name}", index.unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cancelled(codes: &[&str]) -> Cancelled {
        Cancelled(
            codes
                .iter()
                .enumerate()
                .map(|(i, c)| (format!("item{i}"), c.to_string()))
                .collect(),
        )
    }

    #[test]
    fn a_cancellation_names_the_items_whose_conditions_failed() {
        let c = Cancelled(vec![
            ("task".into(), "None".into()),
            ("outbox".into(), "None".into()),
            ("idempotency".into(), CONDITION_FAILED.into()),
        ]);
        assert!(c.failed("idempotency"));
        assert!(!c.failed("task"));
        assert!(!c.failed("inbox"));
        assert_eq!(c.failed_names().collect::<Vec<_>>(), ["idempotency"]);
    }

    #[test]
    fn a_transaction_that_lost_only_to_a_concurrent_one_is_worth_retrying() {
        assert!(cancelled(&["None", TRANSACTION_CONFLICT]).only_conflicts());
        assert!(!cancelled(&[CONDITION_FAILED, TRANSACTION_CONFLICT]).only_conflicts());
        assert!(!cancelled(&["None", CONDITION_FAILED]).only_conflicts());
        assert!(!cancelled(&["None", "ValidationError"]).only_conflicts());
    }

    #[test]
    fn a_cursor_comes_back_only_with_exactly_its_listings_keys() {
        let keys = ["pk", "sk", "gsi1pk", "gsi1sk"];
        let last: Item = keys
            .iter()
            .map(|k| (k.to_string(), s(format!("{k}-value"))))
            .collect();
        let cursor = encode_cursor(Some(&last)).unwrap();
        assert_eq!(decode_cursor(Some(&cursor), &keys), Ok(Some(last)));
        assert_eq!(decode_cursor(None, &keys), Ok(None));
        let crafted = |json: &str| {
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
        };
        for bad in [
            "not-a-cursor".to_owned(),
            crafted(r#"{"pk":"x"}"#),
            crafted(r#"{"pk":"x","sk":"y","gsi1pk":"z","gsi1sk":"w","gsi2pk":"v"}"#),
            crafted(r#"{"pk":"x","sk":"y","gsi2pk":"z","gsi2sk":"w"}"#),
            crafted("{}"),
            crafted("[1]"),
        ] {
            assert_eq!(decode_cursor(Some(&bad), &keys), Err(BadCursor), "{bad}");
        }
    }

    #[derive(Debug, PartialEq)]
    enum ListingError {
        Cursor,
        Store,
    }
    impl From<BadCursor> for ListingError {
        fn from(_: BadCursor) -> Self {
            ListingError::Cursor
        }
    }
    impl From<StoreError> for ListingError {
        fn from(_: StoreError) -> Self {
            ListingError::Store
        }
    }

    #[test]
    fn a_start_key_dynamodb_refuses_is_the_callers_cursor_and_nothing_else_is() {
        use aws_sdk_dynamodb::operation::query::QueryError;
        use aws_smithy_runtime_api::http::{Response, StatusCode};
        use aws_smithy_types::body::SdkBody;
        use aws_smithy_types::error::ErrorMetadata;
        let failed = |code: &str| {
            let error = QueryError::generic(ErrorMetadata::builder().code(code).build());
            let raw = Response::new(StatusCode::try_from(400).unwrap(), SdkBody::empty());
            SdkError::service_error(error, raw)
        };
        let page = |code: &str, cursor_given: bool| -> ListingError {
            page_error(cursor_given)(failed(code))
        };
        assert_eq!(page("ValidationException", true), ListingError::Cursor);
        assert_eq!(page("ValidationException", false), ListingError::Store);
        assert_eq!(
            page("ProvisionedThroughputExceededException", true),
            ListingError::Store
        );
    }

    #[test]
    fn backoff_stays_under_its_ceiling() {
        for attempt in 1..10 {
            assert!(backoff(attempt) <= std::time::Duration::from_millis(25 << attempt.min(6)));
        }
    }
}
