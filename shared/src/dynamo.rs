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

    /// Whether the transaction lost only to concurrent ones: no condition failed, so trying
    /// again may well succeed.
    pub fn only_conflicts(&self) -> bool {
        self.0.iter().any(|c| c == TRANSACTION_CONFLICT)
            && self
                .0
                .iter()
                .all(|c| c == TRANSACTION_CONFLICT || c == "None")
    }
}

impl From<Cancelled> for StoreError {
    fn from(c: Cancelled) -> Self {
        StoreError::Aws(format!("transaction cancelled: {:?}", c.0))
    }
}

/// How often a transaction that lost only to a concurrent one is tried in all.
const CONFLICT_ATTEMPTS: u32 = 5;

/// Runs one `TransactWriteItems`: all of `items` or nothing. A cancellation is an answer the
/// caller reads (the inner `Err`, saying which conditions failed); anything else is an error.
///
/// A cancellation caused only by another transaction on the same items (`TransactionConflict`,
/// no condition failed) says nothing about the data, so it is retried here, after a jittered
/// backoff, rather than surfacing as a 500 or a retried message. Throttling is retried by the
/// SDK's own retry policy.
pub async fn transact(
    db: &aws_sdk_dynamodb::Client,
    items: Vec<TransactWriteItem>,
) -> Result<Result<(), Cancelled>, StoreError> {
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
                Some(reasons) => Cancelled(reasons),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn cancelled(codes: &[&str]) -> Cancelled {
        Cancelled(codes.iter().map(|c| c.to_string()).collect())
    }

    #[test]
    fn a_transaction_that_lost_only_to_a_concurrent_one_is_worth_retrying() {
        assert!(cancelled(&["None", TRANSACTION_CONFLICT]).only_conflicts());
        assert!(!cancelled(&[CONDITION_FAILED, TRANSACTION_CONFLICT]).only_conflicts());
        assert!(!cancelled(&["None", CONDITION_FAILED]).only_conflicts());
        assert!(!cancelled(&["None", "ValidationError"]).only_conflicts());
    }

    #[test]
    fn backoff_stays_under_its_ceiling() {
        for attempt in 1..10 {
            assert!(backoff(attempt) <= std::time::Duration::from_millis(25 << attempt.min(6)));
        }
    }
}
