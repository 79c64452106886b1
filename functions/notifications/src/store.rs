//! The notifications table (DynamoDB). Items, keyed by `pk`/`sk`:
//! - `ACCOUNT#<id>` / `ACCOUNT`: the copy of an account (address, name), at its newest
//!   revision seen;
//! - `MESSAGE#<message id>` / `MESSAGE`: a message and its latest attempt; `gsi1` finds an
//!   account's messages, newest first (`TO#<account id>`, `<created_at>#<message id>`);
//! - `INBOX#notifications.sync-account#<event id>` / `INBOX`: account events already applied.
//!
//! A statement's message needs no inbox record: the message itself, keyed by the statement's
//! id, is what makes a request delivered again (under any event id) change nothing.

use std::collections::HashMap;

use ates_kernel::contracts::accounts::AccountSnapshot;
use ates_kernel::dynamo::{
    encode_cursor, from_item, key, n, page_error, put_newer_revision, s, to_item, Item, StoreError,
    Table,
};
use ates_kernel::event::Envelope;
use ates_kernel::http::AccountCopies;
use ates_kernel::inbox::{self, Committed, Outcome};
use chrono::SecondsFormat;
use uuid::Uuid;

use crate::error::NotificationError;
use crate::message::Message;
use crate::ports::{Listing, NotificationStore};

/// The inbox name of the account-copy consumer.
const SYNC_ACCOUNT: &str = "notifications.sync-account";

fn message_key(id: &str) -> Item {
    key(format!("MESSAGE#{id}"), "MESSAGE")
}

fn account_key(id: Uuid) -> Item {
    key(format!("ACCOUNT#{id}"), "ACCOUNT")
}

fn message_item(message: &Message) -> Item {
    let mut item = to_item(message);
    item.extend(message_key(&message.message_id));
    // Fixed-width times, so the sort key orders as time does.
    let created = message
        .created_at
        .to_rfc3339_opts(SecondsFormat::Micros, true);
    item.extend([
        ("gsi1pk".to_owned(), s(format!("TO#{}", message.account_id))),
        (
            "gsi1sk".to_owned(),
            s(format!("{created}#{}", message.message_id)),
        ),
    ]);
    item
}

/// A page of messages and the cursor after it.
fn listing(items: &[Item], last: Option<&Item>) -> Result<Listing, NotificationError> {
    let messages = items
        .iter()
        .map(from_item)
        .collect::<Result<_, StoreError>>()?;
    Ok(Listing {
        messages,
        next_cursor: encode_cursor(last),
    })
}

#[derive(Clone)]
pub struct Store {
    table: Table,
}

impl Store {
    pub fn new(table: Table) -> Store {
        Store { table }
    }
}

impl AccountCopies for Store {
    async fn account_copy(&self, id: Uuid) -> Result<Option<AccountSnapshot>, StoreError> {
        self.recipient(id).await
    }
}

impl NotificationStore for Store {
    async fn recipient(&self, account: Uuid) -> Result<Option<AccountSnapshot>, StoreError> {
        self.table.get_as(account_key(account)).await
    }

    async fn save_account(
        &self,
        account: &AccountSnapshot,
        event: &Envelope,
    ) -> Result<Outcome, StoreError> {
        let effect = vec![put_newer_revision(
            self.table.name(),
            account_key(account.account_id),
            account,
            account.revision,
        )];
        Ok(
            match inbox::commit(&self.table, SYNC_ACCOUNT, event, effect).await? {
                Committed::Applied => Outcome::Applied,
                Committed::Duplicate => Outcome::Duplicate,
                // Only the copy has a condition: a newer revision is there already.
                Committed::Refused(_) => Outcome::Superseded,
            },
        )
    }

    async fn message(&self, id: &str) -> Result<Option<Message>, StoreError> {
        self.table.get_as(message_key(id)).await
    }

    async fn save_message(
        &self,
        message: &Message,
        previous: Option<&Message>,
    ) -> Result<bool, StoreError> {
        let item = message_item(message);
        match previous {
            None => {
                self.table
                    .put_if(item, "attribute_not_exists(pk)", None)
                    .await
            }
            Some(previous) => {
                let values = HashMap::from([(":version".to_owned(), n(previous.version))]);
                self.table
                    .put_if(item, "version = :version", Some(values))
                    .await
            }
        }
    }

    async fn messages_to(
        &self,
        account: Uuid,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listing, NotificationError> {
        let start = ates_kernel::dynamo::decode_cursor(cursor, &["pk", "sk", "gsi1pk", "gsi1sk"])?;
        let out = self
            .table
            .client()
            .query()
            .table_name(self.table.name())
            .index_name("gsi1")
            .key_condition_expression("gsi1pk = :to")
            .expression_attribute_values(":to", s(format!("TO#{account}")))
            .scan_index_forward(false)
            .limit(limit as i32)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(page_error::<_, _, NotificationError>(cursor.is_some()))?;
        listing(out.items(), out.last_evaluated_key())
    }

    async fn all_messages(
        &self,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listing, NotificationError> {
        let start = ates_kernel::dynamo::decode_cursor(cursor, &["pk", "sk"])?;
        let out = self
            .table
            .client()
            .scan()
            .table_name(self.table.name())
            .filter_expression("begins_with(pk, :message)")
            .expression_attribute_values(":message", s("MESSAGE#"))
            .limit(limit as i32)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(page_error::<_, _, NotificationError>(cursor.is_some()))?;
        listing(out.items(), out.last_evaluated_key())
    }
}
