//! The payments table (DynamoDB). Items, keyed by `pk`/`sk`:
//! - `CARD#<client id>` / `CARD`: the client's card on file (the acquirer's token, last four
//!   digits, brand);
//! - `INVOICE#<invoice id>` / `COLLECTION#<attempt, 10 digits>`: one attempt at collecting the
//!   invoice (`collection_id` `invoice:<invoice id>:<attempt>`, the acquirer's idempotency key);
//!   an invoice's collections are its partition, read in one query (no index);
//! - `ACCOUNT#<id>` / `PAYOUT_DETAILS`: where the account's payouts go (its IBAN);
//! - `ACCOUNT#<id>` / `PAYOUT#<payout id>`: a payout to the account (`payout:<account>:<date>`
//!   or `salary:<worker>:<month>`), held, pending or posted; an account's payouts are one query;
//! - `ACCOUNT#<id>` / `WAITING#<payout id>`: a copy of that payout while it waits for the bank
//!   (held or pending), written and removed in the payout's own transaction, so the payouts an
//!   account's new IBAN releases, and its held total, are read without its whole history;
//! - `ACCOUNT#<id>` / `ACCOUNT`: the copy of an account (who calls);
//! - `INBOX#payments.sync-account#<event id>` / `INBOX`: account events applied;
//! - `OUTBOX#<event id>` / `OUTBOX`: events to publish.
//!
//! Every write of a collection or a payout is one transaction of named items, with its events;
//! no clock is read here.

use ates_kernel::dynamo::{from_item, key, n, s, to_item, Item, StoreError, Transaction};
use ates_kernel::event::Envelope;
use ates_kernel::outbox;
use aws_sdk_dynamodb::types::TransactWriteItem;
use uuid::Uuid;

use crate::card::Card;
use crate::collection::Collection;
use crate::payout::{Payout, PayoutDetails};
use crate::ports::{Cards, Collections, PaymentsStore, PayoutDetailsBook, Payouts, Saved};

/// The inbox name of the account-copy consumer.
const SYNC_ACCOUNT: &str = "payments.sync-account";

/// The name of a transaction's collection or payout item, whose condition means "read again".
const STATE: &str = "state";

fn card_key(client_id: Uuid) -> Item {
    key(format!("CARD#{client_id}"), "CARD")
}

fn collection_key(invoice_id: Uuid, attempt: u32) -> Item {
    key(
        format!("INVOICE#{invoice_id}"),
        format!("COLLECTION#{attempt:010}"),
    )
}

fn collection_item(collection: &Collection) -> Item {
    let mut item = to_item(collection);
    item.extend(collection_key(collection.invoice_id, collection.attempt));
    item
}

fn details_key(account_id: Uuid) -> Item {
    key(format!("ACCOUNT#{account_id}"), "PAYOUT_DETAILS")
}

fn payout_key(account_id: Uuid, payout_id: &str) -> Item {
    key(
        format!("ACCOUNT#{account_id}"),
        format!("PAYOUT#{payout_id}"),
    )
}

fn payout_item(payout: &Payout) -> Item {
    let mut item = to_item(payout);
    item.extend(payout_key(payout.account_id, &payout.payout_id));
    item
}

fn waiting_key(payout: &Payout) -> Item {
    key(
        format!("ACCOUNT#{}", payout.account_id),
        format!("WAITING#{}", payout.payout_id),
    )
}

ates_kernel::table_store!(Store + copies(SYNC_ACCOUNT));

impl Store {
    /// `item` (a collection or a payout) written if `condition` holds, with the events, in one
    /// transaction.
    async fn commit(
        &self,
        item: Item,
        condition: &str,
        version: Option<u64>,
        events: &[Envelope],
    ) -> Result<Saved, StoreError> {
        self.commit_with(item, condition, version, None, events)
            .await
    }

    /// Every page of the account's payouts kept under `prefix` (`PAYOUT#`: all of them;
    /// `WAITING#`: the copies of those that wait), read consistently: a registration must see a
    /// payout written just before it (see `app::pay_out`).
    async fn payouts_under(
        &self,
        account_id: Uuid,
        prefix: &str,
    ) -> Result<Vec<Payout>, StoreError> {
        let query = self
            .table
            .client()
            .query()
            .table_name(self.table.name())
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(format!("ACCOUNT#{account_id}")))
            .expression_attribute_values(":prefix", s(prefix))
            .consistent_read(true);
        let items = self.table.query_all(query).await?;
        items.iter().map(from_item).collect()
    }

    /// A payout written as [`Store::commit`] writes it, with its waiting copy put or removed.
    async fn commit_payout(
        &self,
        payout: &Payout,
        condition: &str,
        version: Option<u64>,
        events: &[Envelope],
    ) -> Result<Saved, StoreError> {
        let waiting = if payout.waits() {
            let mut copy = to_item(payout);
            copy.extend(waiting_key(payout));
            self.table.put_item(copy, None, &[])
        } else {
            self.table.delete_item(waiting_key(payout), None, &[])
        };
        self.commit_with(
            payout_item(payout),
            condition,
            version,
            Some(waiting),
            events,
        )
        .await
    }

    async fn commit_with(
        &self,
        item: Item,
        condition: &str,
        version: Option<u64>,
        beside: Option<TransactWriteItem>,
        events: &[Envelope],
    ) -> Result<Saved, StoreError> {
        let values = version.map(|v| (":version", n(v)));
        let mut transaction = Transaction::new().with(
            STATE,
            self.table
                .put_item(item, Some(condition), values.as_slice()),
        );
        if let Some(beside) = beside {
            transaction.add("waiting", beside);
        }
        // No write here is keyed by a caller.
        outbox::commit_unkeyed(&self.table, transaction, events, &[STATE]).await
    }
}

impl PaymentsStore for Store {}

impl Cards for Store {
    async fn card(&self, client_id: Uuid) -> Result<Option<Card>, StoreError> {
        self.table.get_as(card_key(client_id)).await
    }

    async fn keep_card(&self, card: &Card) -> Result<(), StoreError> {
        let mut item = to_item(card);
        item.extend(card_key(card.client_id));
        // The newest card replaces the last: no condition.
        self.table.overwrite(item).await
    }

    async fn forget_card(&self, client_id: Uuid) -> Result<bool, StoreError> {
        let out = self
            .table
            .client()
            .delete_item()
            .table_name(self.table.name())
            .set_key(Some(card_key(client_id)))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await?;
        Ok(out.attributes().is_some_and(|a| !a.is_empty()))
    }
}

impl Collections for Store {
    async fn collection(
        &self,
        invoice_id: Uuid,
        attempt: u32,
    ) -> Result<Option<Collection>, StoreError> {
        self.table.get_as(collection_key(invoice_id, attempt)).await
    }

    async fn collections_of(&self, invoice_id: Uuid) -> Result<Vec<Collection>, StoreError> {
        // `~` sorts after every digit: every attempt of the invoice is in.
        let items = self
            .table
            .query_between(
                &format!("INVOICE#{invoice_id}"),
                "COLLECTION#",
                "COLLECTION#~",
            )
            .await?;
        items.iter().map(from_item).collect()
    }

    async fn add_collection(
        &self,
        collection: &Collection,
        events: &[Envelope],
    ) -> Result<Saved, StoreError> {
        self.commit(
            collection_item(collection),
            "attribute_not_exists(pk)",
            None,
            events,
        )
        .await
    }

    async fn change_collection(
        &self,
        before: &Collection,
        after: &Collection,
        events: &[Envelope],
    ) -> Result<Saved, StoreError> {
        self.commit(
            collection_item(after),
            "version = :version",
            Some(before.version),
            events,
        )
        .await
    }
}

impl PayoutDetailsBook for Store {
    async fn payout_details(&self, account_id: Uuid) -> Result<Option<PayoutDetails>, StoreError> {
        self.table.get_as(details_key(account_id)).await
    }

    async fn keep_payout_details(&self, details: &PayoutDetails) -> Result<(), StoreError> {
        let mut item = to_item(details);
        item.extend(details_key(details.account_id));
        // The newest details replace the last: no condition.
        self.table.overwrite(item).await
    }
}

impl Payouts for Store {
    async fn payout(
        &self,
        account_id: Uuid,
        payout_id: &str,
    ) -> Result<Option<Payout>, StoreError> {
        self.table.get_as(payout_key(account_id, payout_id)).await
    }

    async fn payouts_of(&self, account_id: Uuid) -> Result<Vec<Payout>, StoreError> {
        self.payouts_under(account_id, "PAYOUT#").await
    }

    async fn waiting_payouts_of(&self, account_id: Uuid) -> Result<Vec<Payout>, StoreError> {
        self.payouts_under(account_id, "WAITING#").await
    }

    async fn add_payout(&self, payout: &Payout, events: &[Envelope]) -> Result<Saved, StoreError> {
        self.commit_payout(payout, "attribute_not_exists(pk)", None, events)
            .await
    }

    async fn change_payout(
        &self,
        before: &Payout,
        after: &Payout,
        events: &[Envelope],
    ) -> Result<Saved, StoreError> {
        self.commit_payout(after, "version = :version", Some(before.version), events)
            .await
    }
}
