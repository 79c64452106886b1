//! The notifications table (DynamoDB). Items, keyed by `pk`/`sk`:
//! - `ACCOUNT#<id>` / `ACCOUNT`: the copy of an account (address, name), at its newest
//!   revision seen;
//! - `MESSAGE#<message id>` / `MESSAGE`: a message and its latest attempt; `gsi1` finds an
//!   account's messages, newest first (`TO#<account id>`, `<created_at>#<message id>`); a
//!   message to an applicant, who has no account, is not in `gsi1` at all; `gsi2` finds the
//!   messages given up (`failed`), the latest attempt first (`PARKED`, `<attempted_at>#<id>`),
//!   and only while they are; `gsi3` lists everyone's messages newest first (`MESSAGES#<n>`,
//!   eight partitions so none takes every message, `<created_at>#<id>`), merged by
//!   `merged::newest_first`;
//! - `ORDER#<id>` / `ORDER`: an order's client (`Order.Created`), whom its steps are mailed to;
//! - `INBOX#notifications.sync-account#<event id>` / `INBOX`: account events already applied.
//!
//! A message needs no inbox record: the message itself, keyed by what it answers (a statement's
//! id, an application's step), is what makes a request delivered again (under any event id)
//! change nothing.

use std::collections::HashMap;

use ates_kernel::dynamo::{key, n, s, to_item, Item, StoreError};
use ates_kernel::merged::{self, Partition};
use chrono::SecondsFormat;
use uuid::Uuid;

use crate::error::NotificationError;
use crate::message::{Message, Status};
use crate::ports::{Listing, MessageHistory, Messages, NotificationStore, OrderClients};

/// The inbox name of the account-copy consumer.
const SYNC_ACCOUNT: &str = "notifications.sync-account";

fn message_key(id: &str) -> Item {
    key(format!("MESSAGE#{id}"), "MESSAGE")
}

/// The one partition of `gsi2`: the messages given up, as long as they stay so.
const PARKED: &str = "PARKED";

fn message_item(message: &Message) -> Item {
    let mut item = to_item(message);
    item.extend(message_key(&message.message_id));
    // Fixed-width times, so the sort keys order as time does.
    let at = |t: chrono::DateTime<chrono::Utc>| {
        let t = t.to_rfc3339_opts(SecondsFormat::Micros, true);
        s(format!("{t}#{}", message.message_id))
    };
    if let Some(account) = message.account_id {
        item.extend([
            ("gsi1pk".to_owned(), s(format!("TO#{account}"))),
            ("gsi1sk".to_owned(), at(message.created_at)),
        ]);
    }
    // A sparse index of what waits for an admin: a message is in it only while `failed` (the
    // item is written whole each time, so a redriven one leaves it).
    if message.status == Status::Failed {
        item.extend([
            ("gsi2pk".to_owned(), s(PARKED)),
            ("gsi2sk".to_owned(), at(message.attempted_at)),
        ]);
    }
    item.extend([
        ("gsi3pk".to_owned(), s(listed_under(&message.message_id))),
        ("gsi3sk".to_owned(), at(message.created_at)),
    ]);
    item
}

/// Partitions of everyone's messages: writes spread over them, a page merges them.
const LISTING_SHARDS: u32 = 8;

/// A message's partition of `gsi3`, by its id (FNV-1a: stable across processes and builds).
fn listed_under(message_id: &str) -> String {
    let hash = message_id.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    format!("MESSAGES#{}", hash % LISTING_SHARDS)
}

ates_kernel::table_store!(Store + copies(SYNC_ACCOUNT));

impl NotificationStore for Store {}

impl Messages for Store {
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
}

fn order_key(order: Uuid) -> Item {
    key(format!("ORDER#{order}"), "ORDER")
}

#[derive(serde::Serialize, serde::Deserialize)]
struct OrderClient {
    client_id: Uuid,
}

impl OrderClients for Store {
    async fn order_client(&self, order: Uuid) -> Result<Option<Uuid>, StoreError> {
        let found: Option<OrderClient> = self.table.get_as(order_key(order)).await?;
        Ok(found.map(|o| o.client_id))
    }

    async fn save_order_client(&self, order: Uuid, client: Uuid) -> Result<(), StoreError> {
        let mut item = to_item(&OrderClient { client_id: client });
        item.extend(order_key(order));
        // An order's client never changes: the first write stands, a repeat writes nothing.
        self.table
            .put_if(item, "attribute_not_exists(pk)", None)
            .await
            .map(|_| ())
    }
}

impl MessageHistory for Store {
    async fn messages_to(
        &self,
        account: Uuid,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listing, NotificationError> {
        let to = format!("TO#{account}");
        self.table
            .newest_first(Some("gsi1"), &to, None, limit, cursor)
            .await
    }

    async fn all_messages(
        &self,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listing, NotificationError> {
        let partitions: Vec<Partition> = (0..LISTING_SHARDS)
            .map(|shard| Partition::whole(format!("MESSAGES#{shard}")))
            .collect();
        merged::newest_first(&self.table, "gsi3", &partitions, limit, cursor).await
    }

    async fn parked_messages(
        &self,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listing, NotificationError> {
        self.table
            .newest_first(Some("gsi2"), PARKED, None, limit, cursor)
            .await
    }
}
