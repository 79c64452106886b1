//! The supplies table (DynamoDB). Items, keyed by `pk`/`sk`:
//! - `KIT#<kit id>` / `KIT`: an order's kit; `gsi1` lists one status's kits newest first
//!   (`KITS#<status>`, `<requested_at>#<kit id>`); `gsi2` holds the kits waiting for the
//!   supplier by deadline (`DUE`, `<due_at>#<kit id>`), for the re-order timer (a sparse index:
//!   a kit that waits for nothing has no `gsi2` attributes);
//! - `ORDER#<order id>` / `ORDER`: what supplies knows of the order (its executor, by the
//!   order's version; whether it was cancelled);
//! - `AUDIT#<entry id>` / `AUDIT`: the append-only audit; `gsi1` lists it newest first
//!   (`AUDIT`, `<at>#<entry id>`);
//! - `ACCOUNT#<id>` / `ACCOUNT`: the copy of an account (who calls);
//! - `INBOX#supplies.sync-account#<event id>` / `INBOX`: account events applied;
//! - `OUTBOX#<event id>` / `OUTBOX`: events to publish.
//!
//! Every write of a use case is one transaction of named items; no clock is read here.

use ates_kernel::dynamo::{
    from_item, key, n, s, to_item, AttributeValue, Item, Listed, StoreError, Transaction,
};
use ates_kernel::event::Envelope;
use ates_kernel::outbox;
use aws_sdk_dynamodb::types::TransactWriteItem;
use chrono::{DateTime, SecondsFormat, Utc};
use uuid::Uuid;

use crate::error::SuppliesError;
use crate::kit::{kit_id, AuditEntry, Kit, OrderCopy, Status};
use crate::ports::{Audit, KitAsRead, KitChanges, Kits, Orders, Saved, SuppliesStore};

/// The inbox name of the account-copy consumer.
const SYNC_ACCOUNT: &str = "supplies.sync-account";

/// The names of a transaction's items whose conditions mean "read again".
const KIT: &str = "kit";
const ORDER: &str = "order";
const AUDIT: &str = "audit";

/// Fixed-width times, so a sort key orders as time does.
fn instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn kit_key(id: Uuid) -> Item {
    key(format!("KIT#{id}"), "KIT")
}

fn order_key(id: Uuid) -> Item {
    key(format!("ORDER#{id}"), "ORDER")
}

fn kit_item(kit: &Kit) -> Item {
    let mut item = to_item(kit);
    item.extend(kit_key(kit.kit_id));
    item.extend([
        ("gsi1pk".to_owned(), s(format!("KITS#{}", kit.status))),
        (
            "gsi1sk".to_owned(),
            s(format!("{}#{}", instant(kit.requested_at), kit.kit_id)),
        ),
    ]);
    if let Some(due) = kit.due_at.filter(|_| kit.status.awaits_supplier()) {
        item.extend([
            ("gsi2pk".to_owned(), s("DUE")),
            (
                "gsi2sk".to_owned(),
                s(format!("{}#{}", instant(due), kit.kit_id)),
            ),
        ]);
    }
    item
}

fn audit_item(entry: &AuditEntry) -> Item {
    let mut item = to_item(entry);
    item.extend(key(format!("AUDIT#{}", entry.entry_id), "AUDIT"));
    item.extend([
        ("gsi1pk".to_owned(), s("AUDIT")),
        (
            "gsi1sk".to_owned(),
            s(format!("{}#{}", instant(entry.at), entry.entry_id)),
        ),
    ]);
    item
}

ates_kernel::table_store!(Store + copies(SYNC_ACCOUNT));

impl Store {
    /// The kit's write: over the version read.
    fn changed_kit(&self, before: &Kit, after: &Kit) -> TransactWriteItem {
        self.table.put_item(
            kit_item(after),
            Some("version = :version"),
            &[(":version", n(before.version))],
        )
    }

    /// The order copy, as it was read: absent, or at the version read.
    fn order_as_read(
        order: Option<&OrderCopy>,
    ) -> (&'static str, Vec<(&'static str, AttributeValue)>) {
        match order {
            None => ("attribute_not_exists(pk)", Vec::new()),
            Some(order) => ("version = :version", vec![(":version", n(order.version))]),
        }
    }

    /// Runs a transaction with the audit's new entries and the events; the conditions named in
    /// `stale` mean what was read changed.
    async fn commit(
        &self,
        mut transaction: Transaction,
        audit: &[AuditEntry],
        events: &[Envelope],
    ) -> Result<Saved, StoreError> {
        // Append-only: an entry is written once, never replaced.
        for entry in audit {
            transaction.add(
                AUDIT,
                self.table
                    .put_item(audit_item(entry), Some("attribute_not_exists(pk)"), &[]),
            );
        }
        // No command here is keyed.
        outbox::commit_unkeyed(&self.table, transaction, events, &[KIT, ORDER, AUDIT]).await
    }
}

impl SuppliesStore for Store {}

impl Kits for Store {
    async fn kit(&self, kit_id: Uuid) -> Result<Option<Kit>, StoreError> {
        self.table.get_as(kit_key(kit_id)).await
    }

    async fn kits_in(
        &self,
        status: Status,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listed<Kit>, SuppliesError> {
        let partition = format!("KITS#{status}");
        self.table
            .newest_first(Some("gsi1"), &partition, None, limit, cursor)
            .await
    }

    /// One query of the index's `DUE` partition up to `now`, earliest first.
    async fn due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Uuid>, StoreError> {
        // `~` sorts after every character of an id, so every deadline at `now` is in.
        let out = self
            .table
            .client()
            .query()
            .table_name(self.table.name())
            .index_name("gsi2")
            .key_condition_expression("gsi2pk = :due AND gsi2sk <= :now")
            .expression_attribute_values(":due", s("DUE"))
            .expression_attribute_values(":now", s(format!("{}#~", instant(now))))
            .scan_index_forward(true)
            .limit(limit as i32)
            .send()
            .await?;
        out.items()
            .iter()
            .map(|item| from_item::<Kit>(item).map(|kit| kit.kit_id))
            .collect()
    }
}

impl Orders for Store {
    async fn order(&self, order_id: Uuid) -> Result<Option<OrderCopy>, StoreError> {
        self.table.get_as(order_key(order_id)).await
    }
}

impl KitChanges for Store {
    async fn add_kit(&self, kit: &Kit, order: Option<&OrderCopy>) -> Result<Saved, StoreError> {
        let (condition, values) = Self::order_as_read(order);
        let transaction = Transaction::new()
            .with(
                KIT,
                self.table
                    .put_item(kit_item(kit), Some("attribute_not_exists(pk)"), &[]),
            )
            .with(
                ORDER,
                self.table
                    .check_item(order_key(kit.order_id), condition, &values),
            );
        self.commit(transaction, &[], &[]).await
    }

    async fn change_kit(
        &self,
        before: &Kit,
        after: &Kit,
        audit: &[AuditEntry],
        events: &[Envelope],
    ) -> Result<Saved, StoreError> {
        let transaction = Transaction::new().with(KIT, self.changed_kit(before, after));
        self.commit(transaction, audit, events).await
    }

    async fn change_order(
        &self,
        before: Option<&OrderCopy>,
        after: &OrderCopy,
        kit: KitAsRead<'_>,
        audit: &[AuditEntry],
    ) -> Result<Saved, StoreError> {
        let (condition, values) = Self::order_as_read(before);
        let mut item = to_item(after);
        item.extend(order_key(after.order_id));
        let mut transaction =
            Transaction::new().with(ORDER, self.table.put_item(item, Some(condition), &values));
        let kit = match kit {
            KitAsRead::Absent => self.table.check_item(
                kit_key(kit_id(after.order_id)),
                "attribute_not_exists(pk)",
                &[],
            ),
            KitAsRead::Changed { before, after } => self.changed_kit(before, after),
        };
        transaction.add(KIT, kit);
        self.commit(transaction, audit, &[]).await
    }
}

impl Audit for Store {
    async fn audit(
        &self,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listed<AuditEntry>, SuppliesError> {
        // Sort keys are `<instant>#<id>`; `#` sorts before every character of an id, so
        // `<from>#` is the first key at `from`, and `<until>#` lies before every key at `until`.
        let (low, high) = (
            format!("{}#", instant(from)),
            format!("{}#", instant(until)),
        );
        self.table
            .newest_between(Some("gsi1"), "AUDIT", (&low, &high), limit, cursor)
            .await
    }
}
