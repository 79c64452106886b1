//! Small helpers for reading and writing DynamoDB items by hand. Every context's table uses the
//! same key shape: string `pk` and `sk`, and an optional `gsi1pk`/`gsi1sk` index.

use std::collections::HashMap;
use std::str::FromStr;

use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::types::builders::UpdateBuilder;
pub use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};

pub type Item = HashMap<String, AttributeValue>;

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

/// A transaction DynamoDB cancelled: each item's reason code, in order (`"None"` where that item
/// was fine), e.g. [`CONDITION_FAILED`] where its condition did not hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Cancelled(pub Vec<String>);

impl Cancelled {
    /// Whether the condition of item `index` failed.
    pub fn failed_at(&self, index: usize) -> bool {
        self.0.get(index).map(String::as_str) == Some(CONDITION_FAILED)
    }

    /// Whether any item's condition failed.
    pub fn any_failed(&self) -> bool {
        self.0.iter().any(|c| c == CONDITION_FAILED)
    }
}

impl From<Cancelled> for StoreError {
    fn from(c: Cancelled) -> Self {
        StoreError::Aws(format!("transaction cancelled: {:?}", c.0))
    }
}

/// Runs one `TransactWriteItems`: all of `items` or nothing. A cancellation is an answer the
/// caller reads (the inner `Err`, saying which conditions failed); anything else is an error.
pub async fn transact(
    db: &aws_sdk_dynamodb::Client,
    items: Vec<TransactWriteItem>,
) -> Result<Result<(), Cancelled>, StoreError> {
    match db
        .transact_write_items()
        .set_transact_items(Some(items))
        .send()
        .await
    {
        Ok(_) => Ok(Ok(())),
        Err(err) => match cancellation_reasons(&err) {
            Some(reasons) => Ok(Err(Cancelled(reasons))),
            None => Err(err.into()),
        },
    }
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
