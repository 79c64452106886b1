//! The calculator table (DynamoDB). Items, keyed by `pk`/`sk`:
//! - `SERVICE_TYPE#<id>` / `SERVICE_TYPE`: a service type's base price and whether it is
//!   active, at the highest revision seen;
//! - `WORKER#<account id>` / `LEVEL`: a worker's level, at the highest revision seen;
//! - `ORDER#<id>` / `ORDER`: an order as created and the estimate given for it (written once,
//!   with its `Calculator.EstimateGiven`);
//! - `PRICE#<order id>#<executor id>` / `PRICE`: the price set for the order done by that
//!   executor, and the latest match of them it answered (written with its `Calculator.PriceSet`);
//! - `PAID#<client id>` / `PAID`: the client's paid total and how many payments made it;
//!   `PAYMENT#<invoice id>` / `PAYMENT`: a paid invoice counted (written together);
//! - `ACCOUNT#<id>` / `ACCOUNT`: the copy of an account; `INBOX#calculator.sync-account#<event
//!   id>` / `INBOX`: account events applied;
//! - `OUTBOX#<event id>` / `OUTBOX`: events to publish.
//!
//! The copies need no inbox record: a copy moves only to a later revision, so a repeated event
//! fails its condition and writes nothing. An order's estimate and a price need none either:
//! each is keyed by what it answers (the order; the order and executor), so a repeat under any
//! event id finds it there. Every write of a use case is one transaction of named items; no
//! clock is read here.

use std::collections::HashMap;

use ates_kernel::dynamo::{key, n, to_item, Item, StoreError, Transaction, NEWER_REVISION};
use ates_kernel::event::Envelope;
use ates_kernel::inbox::Outcome;
use ates_kernel::outbox;
use serde::Serialize;
use uuid::Uuid;

use crate::copies::{ServiceType, WorkerLevel};
use crate::loyalty::{PaidTotal, Payment};
use crate::order::{ExecutorPrice, PricedOrder};
use crate::ports::{
    CalculatorStore, Estimates, PaidTotals, Prices, Saved, ServiceTypes, WorkerLevels,
};

/// The inbox name of the account-copy consumer.
const SYNC_ACCOUNT: &str = "calculator.sync-account";

/// The names of a transaction's items whose conditions mean "not as read".
const ORDER: &str = "order";
const PRICE: &str = "price";
const TOTAL: &str = "total";
const PAYMENT: &str = "payment";

/// Written only where nothing is.
const ABSENT: &str = "attribute_not_exists(pk)";

fn service_type_key(id: Uuid) -> Item {
    key(format!("SERVICE_TYPE#{id}"), "SERVICE_TYPE")
}

fn worker_key(account_id: Uuid) -> Item {
    key(format!("WORKER#{account_id}"), "LEVEL")
}

fn order_key(id: Uuid) -> Item {
    key(format!("ORDER#{id}"), "ORDER")
}

fn price_key(order_id: Uuid, executor_id: Uuid) -> Item {
    key(format!("PRICE#{order_id}#{executor_id}"), "PRICE")
}

fn total_key(client_id: Uuid) -> Item {
    key(format!("PAID#{client_id}"), "PAID")
}

fn payment_key(invoice_id: Uuid) -> Item {
    key(format!("PAYMENT#{invoice_id}"), "PAYMENT")
}

/// `value` as an item under `key`.
fn item(key: Item, value: &impl Serialize) -> Item {
    let mut item = to_item(value);
    item.extend(key);
    item
}

ates_kernel::table_store!(Store + copies(SYNC_ACCOUNT));

impl Store {
    /// Writes a copy unless the one there has its revision or a later one.
    async fn keep_newer(&self, item: Item, revision: u64) -> Result<Outcome, StoreError> {
        let values = HashMap::from([(":revision".to_owned(), n(revision))]);
        let kept = self
            .table
            .put_if(item, NEWER_REVISION, Some(values))
            .await?;
        Ok(if kept {
            Outcome::Applied
        } else {
            Outcome::Superseded
        })
    }

    /// Runs `transaction` with `event` in the outbox; `Stale` when any of `stale` failed.
    async fn commit(
        &self,
        transaction: Transaction,
        event: &Envelope,
        stale: &[&str],
    ) -> Result<Saved, StoreError> {
        let events = std::slice::from_ref(event);
        outbox::commit_unkeyed(&self.table, transaction, events, stale).await
    }
}

impl CalculatorStore for Store {}

impl ServiceTypes for Store {
    async fn service_type(&self, id: Uuid) -> Result<Option<ServiceType>, StoreError> {
        self.table.get_as(service_type_key(id)).await
    }

    async fn keep_service_type(&self, service_type: &ServiceType) -> Result<Outcome, StoreError> {
        let item = item(service_type_key(service_type.service_type_id), service_type);
        self.keep_newer(item, service_type.revision).await
    }
}

impl WorkerLevels for Store {
    async fn worker_level(&self, account_id: Uuid) -> Result<Option<WorkerLevel>, StoreError> {
        self.table.get_as(worker_key(account_id)).await
    }

    async fn keep_worker_level(&self, level: &WorkerLevel) -> Result<Outcome, StoreError> {
        let item = item(worker_key(level.account_id), level);
        self.keep_newer(item, level.revision).await
    }
}

impl PaidTotals for Store {
    async fn paid_total(&self, client_id: Uuid) -> Result<PaidTotal, StoreError> {
        let total = self.table.get_as(total_key(client_id)).await?;
        Ok(total.unwrap_or_else(|| PaidTotal::none(client_id)))
    }

    async fn payment_recorded(&self, invoice_id: Uuid) -> Result<bool, StoreError> {
        Ok(self.table.get(payment_key(invoice_id)).await?.is_some())
    }

    async fn record_payment(
        &self,
        payment: &Payment,
        before: &PaidTotal,
        after: &PaidTotal,
    ) -> Result<Saved, StoreError> {
        let total = item(total_key(after.client_id), after);
        // Version 0 is a client who has paid nothing: no item yet.
        let total = match before.version {
            0 => self.table.put_item(total, Some(ABSENT), &[]),
            read => self
                .table
                .put_item(total, Some("version = :value"), &[(":value", n(read))]),
        };
        let counted = self.table.put_item(
            item(payment_key(payment.invoice_id), payment),
            Some(ABSENT),
            &[],
        );
        let transaction = Transaction::new().with(TOTAL, total).with(PAYMENT, counted);
        match self.table.transact(transaction).await? {
            Ok(()) => Ok(Saved::Done),
            Err(c) if c.failed(TOTAL) || c.failed(PAYMENT) => Ok(Saved::Stale),
            Err(c) => Err(c.into()),
        }
    }
}

impl Estimates for Store {
    async fn order(&self, order_id: Uuid) -> Result<Option<PricedOrder>, StoreError> {
        self.table.get_as(order_key(order_id)).await
    }

    async fn give_estimate(
        &self,
        order: &PricedOrder,
        event: &Envelope,
    ) -> Result<Outcome, StoreError> {
        let written =
            self.table
                .put_item(item(order_key(order.order_id), order), Some(ABSENT), &[]);
        let transaction = Transaction::new().with(ORDER, written);
        Ok(match self.commit(transaction, event, &[ORDER]).await? {
            Saved::Done => Outcome::Applied,
            Saved::Stale | Saved::KeyUsed => Outcome::Duplicate,
        })
    }
}

impl Prices for Store {
    async fn price(
        &self,
        order_id: Uuid,
        executor_id: Uuid,
    ) -> Result<Option<ExecutorPrice>, StoreError> {
        self.table.get_as(price_key(order_id, executor_id)).await
    }

    async fn set_price(
        &self,
        price: &ExecutorPrice,
        previous: Option<&ExecutorPrice>,
        event: &Envelope,
    ) -> Result<Saved, StoreError> {
        let written = item(price_key(price.order_id, price.executor_id), price);
        let written = match previous {
            None => self.table.put_item(written, Some(ABSENT), &[]),
            Some(read) => self.table.put_item(
                written,
                Some("match_version = :value"),
                &[(":value", n(read.match_version))],
            ),
        };
        let transaction = Transaction::new().with(PRICE, written);
        self.commit(transaction, event, &[PRICE]).await
    }
}
