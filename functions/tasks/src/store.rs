//! The tasks table (DynamoDB). Items, keyed by `pk`/`sk`:
//! - `ACCOUNT#<id>` / `ACCOUNT`: the copy of an account, at its newest revision seen;
//! - `POOL` / `ASSIGNABLE`: the ids of every assignable account, as one string set, so picking
//!   an assignee is one read;
//! - `INBOX#tasks#<event id>` / `INBOX`: events already consumed;
//! - `OUTBOX#<event id>` / `OUTBOX`: events to publish.

use ates_kernel::dynamo::{key, n, s, StoreError};
use ates_kernel::event::Envelope;
use ates_kernel::inbox::{self, Outcome};
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};

use crate::accounts::AccountSnapshot;
use crate::CONSUMER;

#[derive(Clone)]
pub struct Store {
    db: aws_sdk_dynamodb::Client,
    table: String,
}

impl Store {
    pub fn new(config: &aws_config::SdkConfig, table: String) -> Store {
        Store { db: aws_sdk_dynamodb::Client::new(config), table }
    }

    pub fn from_env(config: &aws_config::SdkConfig) -> Result<Store, ates_kernel::config::MissingVariable> {
        Ok(Store::new(config, ates_kernel::config::required("TABLE_NAME")?))
    }

    /// Applies an account snapshot, once per event and only if it is newer than the copy:
    /// events may arrive twice and in any order.
    pub async fn sync_account(&self, account: &AccountSnapshot, event: &Envelope) -> Result<Outcome, StoreError> {
        let mut item = key(format!("ACCOUNT#{}", account.account_id), "ACCOUNT");
        item.extend([
            ("account_id".to_owned(), s(account.account_id.to_string())),
            ("email".to_owned(), s(&account.email)),
            ("full_name".to_owned(), s(&account.full_name)),
            ("role".to_owned(), s(account.role.as_str())),
            ("active".to_owned(), AttributeValue::Bool(account.active)),
            ("revision".to_owned(), n(account.revision)),
        ]);
        let copy = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) OR revision < :revision")
            .expression_attribute_values(":revision", n(account.revision))
            .build()
            .expect("table and item are set");
        let id = AttributeValue::Ss(vec![account.account_id.to_string()]);
        let pool = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key("POOL", "ASSIGNABLE")))
            .update_expression(if account.is_assignable() { "ADD ids :id" } else { "DELETE ids :id" })
            .expression_attribute_values(":id", id)
            .build()
            .expect("update is complete");
        let effect = vec![TransactWriteItem::builder().put(copy).build(), TransactWriteItem::builder().update(pool).build()];
        inbox::commit(&self.db, &self.table, CONSUMER, event, effect).await
    }

    /// The ids of every assignable account.
    pub async fn assignable_accounts(&self) -> Result<Vec<String>, StoreError> {
        let out = self
            .db
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key("POOL", "ASSIGNABLE")))
            .consistent_read(true)
            .send()
            .await?;
        let mut ids = out.item().and_then(|i| i.get("ids")).and_then(|v| v.as_ss().ok()).cloned().unwrap_or_default();
        // Sets come back in no particular order; sorted, a seeded pick is reproducible.
        ids.sort_unstable();
        Ok(ids)
    }
}
