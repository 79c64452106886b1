//! The orders table (DynamoDB). Items, keyed by `pk`/`sk`:
//! - `ORDER#<id>` / `ORDER`: an order, its marking and the facts it was told. Indexes, each
//!   newest first by `<created_at>#<id>`: `gsi1` its client's orders (`CLIENT#<id>`), `gsi2` its
//!   executor's (`EXECUTOR#<id>`, only while it has one), `gsi3` its stage's
//!   (`STAGE#<place>`), `gsi4` every order (`ORDERS`: one partition, about 1,000 order writes a
//!   second; a busier marketplace shards it by month);
//! - `ORDER#<id>` / `HISTORY#<version>`: one per transition, written with it, never twice;
//! - `APPROVAL_DUE` / `<due>#<id>`: an order in `report` and when it is approved by itself,
//!   for the timer (written with `finish`, removed when the order leaves `report`);
//! - `SERVICE_TYPE#<id>` / `TYPE`: a service type at its newest revision; `gsi1` lists the
//!   active and the retired newest first (`SERVICE_TYPES#active|retired`);
//! - `ACCOUNT#<id>` / `ACCOUNT`: the copy of an account;
//! - `IDEMPOTENCY#<caller>#<key>` / `IDEMPOTENCY`: the first answer to a keyed command;
//! - `INBOX#orders.sync-account#<event id>` / `INBOX`: account events applied;
//! - `OUTBOX#<event id>` / `OUTBOX`: events to publish.
//!
//! Every write of a use case is one transaction of named items; no clock is read here. The
//! other contexts' events need no inbox record: the facts an order keeps make a redelivery
//! change nothing.

use ates_kernel::dynamo::{
    from_item, get_s, key, s, to_item, Item, Listed, StoreError, Transaction,
};
use ates_kernel::event::Envelope;
use ates_kernel::outbox;
use chrono::{DateTime, SecondsFormat, Utc};
use uuid::Uuid;

use crate::error::OrderError;
use crate::order::{HistoryEntry, Listing, Order};
use crate::ports::{
    ApprovalsDue, KeyedAnswer, OrderChanges, OrderListings, OrderStore, Orders, Saved, ServiceTypes,
};
use crate::service_type::ServiceType;

/// The inbox name of the account-copy consumer.
const SYNC_ACCOUNT: &str = "orders.sync-account";

/// The names of a transaction's items whose conditions mean "read again".
const ORDER: &str = "order";
const HISTORY: &str = "history";
const SERVICE_TYPE: &str = "service_type";

/// Fixed-width times, so a sort key orders as time does.
fn instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn order_key(id: Uuid) -> Item {
    key(format!("ORDER#{id}"), "ORDER")
}

fn order_item(order: &Order) -> Item {
    let mut item = to_item(order);
    item.extend(order_key(order.order_id));
    let created = format!("{}#{}", instant(order.created_at), order.order_id);
    let mut index = |i: &str, pk: String| {
        item.insert(format!("{i}pk"), s(pk));
        item.insert(format!("{i}sk"), s(&created));
    };
    index("gsi1", format!("CLIENT#{}", order.client_id));
    if let Some(executor) = order.executor_id {
        index("gsi2", format!("EXECUTOR#{executor}"));
    }
    index("gsi3", format!("STAGE#{}", order.stage()));
    index("gsi4", "ORDERS".to_owned());
    item
}

fn history_key(id: Uuid, version: u64) -> Item {
    key(format!("ORDER#{id}"), format!("HISTORY#{version:020}"))
}

/// The timer's record of an order in `report`, if it is in `report`.
fn approval_key(order: &Order) -> Option<Item> {
    let due = order.approval_due()?;
    Some(key(
        "APPROVAL_DUE",
        format!("{}#{}", instant(due), order.order_id),
    ))
}

fn service_type_key(id: Uuid) -> Item {
    key(format!("SERVICE_TYPE#{id}"), "TYPE")
}

fn shelf(active: bool) -> String {
    format!(
        "SERVICE_TYPES#{}",
        if active { "active" } else { "retired" }
    )
}

ates_kernel::table_store!(Store + copies(SYNC_ACCOUNT) + replays);

impl Store {
    /// The history entries of fired transitions, each written once.
    fn history(&self, order_id: Uuid, history: &[HistoryEntry]) -> Transaction {
        let mut transaction = Transaction::new();
        transaction.add_all(
            HISTORY,
            history.iter().map(|entry| {
                let mut item = to_item(entry);
                item.extend(history_key(order_id, entry.version));
                self.table
                    .put_item(item, Some("attribute_not_exists(pk)"), &[])
            }),
        );
        transaction
    }

    /// One page of orders from an index partition, within `listing`'s dates if it has them.
    async fn orders_from(
        &self,
        index: &str,
        partition: &str,
        listing: Option<&Listing>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listed<Order>, OrderError> {
        let span = listing.filter(|l| l.from.is_some() || l.until.is_some());
        match span {
            None => {
                self.table
                    .newest_first(Some(index), partition, None, limit, cursor)
                    .await
            }
            // Sort keys are `<instant>#<id>`: `#` sorts before every character of an id and
            // `~` after, so `<from>#` is the first key at `from` and `<until>#` lies before
            // every key at `until`. An open end is the first or the last key there can be.
            Some(listing) => {
                let low = listing
                    .from
                    .map_or("0".to_owned(), |f| format!("{}#", instant(f)));
                let high = listing
                    .until
                    .map_or("~".to_owned(), |u| format!("{}#", instant(u)));
                self.table
                    .newest_between(Some(index), partition, (&low, &high), limit, cursor)
                    .await
            }
        }
    }
}

impl OrderStore for Store {}

impl ServiceTypes for Store {
    async fn service_type(&self, id: Uuid) -> Result<Option<ServiceType>, StoreError> {
        self.table.get_as(service_type_key(id)).await
    }

    async fn service_types(
        &self,
        active: bool,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listed<ServiceType>, OrderError> {
        self.table
            .newest_first(Some("gsi1"), &shelf(active), None, limit, cursor)
            .await
    }

    async fn save_service_type(
        &self,
        service_type: &ServiceType,
        previous: Option<&ServiceType>,
        event: &Envelope,
        keyed: KeyedAnswer<'_>,
        now: DateTime<Utc>,
    ) -> Result<Saved, StoreError> {
        let mut item = to_item(service_type);
        item.extend(service_type_key(service_type.service_type_id));
        item.extend([
            ("gsi1pk".to_owned(), s(shelf(service_type.active))),
            (
                "gsi1sk".to_owned(),
                s(format!(
                    "{}#{}",
                    instant(service_type.created_at),
                    service_type.service_type_id
                )),
            ),
        ]);
        outbox::commit_over_revision(
            &self.table,
            SERVICE_TYPE,
            item,
            previous.map(|p| p.revision),
            std::slice::from_ref(event),
            keyed,
            now,
        )
        .await
    }
}

impl Orders for Store {
    async fn order(&self, id: Uuid) -> Result<Option<Order>, StoreError> {
        self.table.get_as(order_key(id)).await
    }

    async fn history(&self, id: Uuid) -> Result<Vec<HistoryEntry>, StoreError> {
        let items = self
            .table
            .query_between(&format!("ORDER#{id}"), "HISTORY#", "HISTORY#~")
            .await?;
        items.iter().map(from_item).collect()
    }
}

impl OrderListings for Store {
    async fn orders_of_client(
        &self,
        client_id: Uuid,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listed<Order>, OrderError> {
        let partition = format!("CLIENT#{client_id}");
        self.orders_from("gsi1", &partition, None, limit, cursor)
            .await
    }

    async fn orders_of_executor(
        &self,
        executor_id: Uuid,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listed<Order>, OrderError> {
        let partition = format!("EXECUTOR#{executor_id}");
        self.orders_from("gsi2", &partition, None, limit, cursor)
            .await
    }

    async fn orders_in(
        &self,
        listing: &Listing,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listed<Order>, OrderError> {
        let (index, partition) = match listing.stage {
            Some(stage) => ("gsi3", format!("STAGE#{stage}")),
            None => ("gsi4", "ORDERS".to_owned()),
        };
        self.orders_from(index, &partition, Some(listing), limit, cursor)
            .await
    }
}

impl OrderChanges for Store {
    async fn add_order(
        &self,
        order: &Order,
        history: &[HistoryEntry],
        events: &[Envelope],
        keyed: KeyedAnswer<'_>,
    ) -> Result<Saved, StoreError> {
        let mut transaction = Transaction::new().with(
            ORDER,
            self.table
                .put_item(order_item(order), Some("attribute_not_exists(pk)"), &[]),
        );
        transaction.append(self.history(order.order_id, history));
        outbox::commit(
            &self.table,
            transaction,
            events,
            keyed,
            order.created_at,
            &[ORDER, HISTORY],
        )
        .await
    }

    async fn change_order(
        &self,
        before: &Order,
        after: &Order,
        history: &[HistoryEntry],
        events: &[Envelope],
    ) -> Result<Saved, StoreError> {
        let mut transaction = Transaction::new().with(
            ORDER,
            self.table
                .put_over_revision(order_item(after), Some(before.revision)),
        );
        transaction.append(self.history(after.order_id, history));
        if approval_key(before) != approval_key(after) {
            if let Some(due) = approval_key(before) {
                transaction.add("approval", self.table.delete_item(due, None, &[]));
            }
            if let Some(mut due) = approval_key(after) {
                due.insert("order_id".to_owned(), s(after.order_id.to_string()));
                transaction.add("approval", self.table.put_item(due, None, &[]));
            }
        }
        let now = history.last().map_or(after.created_at, |h| h.at);
        outbox::commit(
            &self.table,
            transaction,
            events,
            None,
            now,
            &[ORDER, HISTORY],
        )
        .await
    }
}

impl ApprovalsDue for Store {
    /// One query of the timer's partition up to `now` (its sort keys start with the due time).
    async fn approvals_due(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Uuid>, StoreError> {
        let to = format!("{}#~", instant(now));
        let items = self.table.query_between("APPROVAL_DUE", "0", &to).await?;
        items
            .iter()
            .take(limit)
            .map(|item| {
                Uuid::parse_str(get_s(item, "order_id")?)
                    .map_err(|e| StoreError::Malformed(e.to_string()))
            })
            .collect()
    }
}
