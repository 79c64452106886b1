//! The matching table (DynamoDB). Items, keyed by `pk`/`sk`:
//! - `PERSON#<account id>` / `PERSON`: an account as auth last said and the worker's skills as
//!   hiring last set them (each half only forward in revision); also the copy callers are
//!   checked against;
//! - `SKILL#<skill>` / `<worker id>`: one per skill of each worker who can be chosen now (an
//!   active worker with a profile), written and removed with the person: the workers with a
//!   skill are one query of its partition, never a scan. A skill's partition holds everyone with
//!   it (thousands of items are one or two pages, read in full at every choice); a worker's
//!   change writes at most their old and new skills in one transaction (hiring allows 20 per
//!   worker: 41 items, within DynamoDB's 100);
//! - `ORDER#<id>` / `ORDER`: an order as matching sees it (the highest version seen, its need,
//!   where matching is with it, the candidates of the latest choice);
//! - `WAITING` / `<since>#<order id>` and `WAITING#<skill>` / `<since>#<order id>`: an order
//!   while it waits, oldest first, for the 5-minute retry and for a worker's enrolment;
//! - `BOOKING#<worker id>` / `<slot start>#<order id>`: an order booked to a worker; expires 8
//!   days after its slot ends (after that it neither overlaps a new slot nor counts in a 7-day
//!   load), so a worker's partition holds their recent and coming orders only;
//! - `SCHEDULE#<worker id>` / `SCHEDULE`: the version of the worker's bookings; a booking is
//!   written only with it, conditional on the version read, so two orders never book one
//!   worker from the same reading;
//! - `OUTBOX#<event id>` / `OUTBOX`: events to publish.
//!
//! Every write of a use case is one transaction of named items; no clock is read here.

use std::collections::BTreeSet;

use ates_kernel::contracts::accounts::AccountSnapshot;
use ates_kernel::dynamo::{
    from_item, get_n, get_s, key, n, s, to_item, Item, StoreError, Table, Transaction,
};
use ates_kernel::identity::AccountCopies;
use ates_kernel::outbox;
use aws_sdk_dynamodb::types::TransactWriteItem;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use uuid::Uuid;

use crate::choice::{Booking, Schedule};
use crate::order::Order;
use crate::person::Person;
use crate::ports::{Change, Orders, People, Saved, Schedules, Waiting};

/// Fixed-width times, so a sort key orders as time does.
fn instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn person_key(id: Uuid) -> Item {
    key(format!("PERSON#{id}"), "PERSON")
}

fn skill_key(skill: &str, worker_id: Uuid) -> Item {
    key(format!("SKILL#{skill}"), worker_id.to_string())
}

fn order_key(id: Uuid) -> Item {
    key(format!("ORDER#{id}"), "ORDER")
}

/// The order's two waiting items while it waits: all of them, and its skill's.
fn waiting_keys(order: &Order) -> Vec<Item> {
    let (Some(since), Some(need)) = (order.waiting_since, &order.need) else {
        return Vec::new();
    };
    if !order.waits() {
        return Vec::new();
    }
    let sk = format!("{}#{}", instant(since), order.order_id);
    vec![
        key("WAITING", &sk),
        key(format!("WAITING#{}", need.required_skill), sk),
    ]
}

fn booking_key(booking: &Booking) -> Item {
    key(
        format!("BOOKING#{}", booking.worker_id),
        format!("{}#{}", instant(booking.slot.start), booking.order_id),
    )
}

fn schedule_key(worker_id: Uuid) -> Item {
    key(format!("SCHEDULE#{worker_id}"), "SCHEDULE")
}

/// How long after its slot ends a booking is kept: past the 7-day load window.
fn booking_kept() -> Duration {
    Duration::days(8)
}

pub struct Store {
    table: Table,
}

impl Store {
    pub fn new(table: Table) -> Store {
        Store { table }
    }

    /// A put of a record written only over the stamp it was read at (or where there is none).
    fn put_over(&self, item: Item, stamp: Option<u64>) -> TransactWriteItem {
        match stamp {
            None => self
                .table
                .put_item(item, Some("attribute_not_exists(pk)"), &[]),
            Some(stamp) => {
                self.table
                    .put_item(item, Some("stamp = :stamp"), &[(":stamp", n(stamp))])
            }
        }
    }

    /// Runs a use case's transaction: a failed condition means what was read changed.
    async fn commit(&self, transaction: Transaction) -> Result<Saved, StoreError> {
        match self.table.transact(transaction).await? {
            Ok(()) => Ok(Saved::Done),
            Err(c) if c.any_failed() => Ok(Saved::Stale),
            Err(c) => Err(c.into()),
        }
    }

    /// The items of partition `pk` in sort-key order, every page of it or the first `limit`.
    async fn partition(&self, pk: &str, limit: Option<usize>) -> Result<Vec<Item>, StoreError> {
        let mut found = Vec::new();
        let mut start = None;
        loop {
            let left = limit.map(|l| l.saturating_sub(found.len()));
            if left == Some(0) {
                return Ok(found);
            }
            let out = self
                .table
                .client()
                .query()
                .table_name(self.table.name())
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(pk))
                // A schedule read to book someone must see every booking already made.
                .consistent_read(true)
                .set_limit(left.map(|l| l.min(1000) as i32))
                .set_exclusive_start_key(start)
                .send()
                .await?;
            found.extend(out.items().iter().cloned());
            start = out.last_evaluated_key().cloned();
            if start.is_none() {
                return Ok(found);
            }
        }
    }
}

fn uuid(item: &Item, name: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(get_s(item, name)?).map_err(|e| StoreError::Malformed(e.to_string()))
}

impl AccountCopies for Store {
    async fn account_copy(&self, id: Uuid) -> Result<Option<AccountSnapshot>, StoreError> {
        Ok(self.person(id).await?.and_then(|p| p.account))
    }
}

impl People for Store {
    async fn person(&self, account_id: Uuid) -> Result<Option<Person>, StoreError> {
        self.table.get_as(person_key(account_id)).await
    }

    async fn save_person(
        &self,
        before: Option<&Person>,
        after: &Person,
    ) -> Result<Saved, StoreError> {
        let mut item = to_item(after);
        item.extend(person_key(after.account_id));
        let mut transaction =
            Transaction::new().with("person", self.put_over(item, before.map(|p| p.stamp)));
        let had: BTreeSet<String> = before.map(Person::eligible_skills).unwrap_or_default();
        let has = after.eligible_skills();
        for skill in had.difference(&has) {
            transaction.add(
                "skill",
                self.table
                    .delete_item(skill_key(skill, after.account_id), None, &[]),
            );
        }
        for skill in has.difference(&had) {
            let mut item = skill_key(skill, after.account_id);
            item.insert("worker_id".to_owned(), s(after.account_id.to_string()));
            transaction.add("skill", self.table.put_item(item, None, &[]));
        }
        self.commit(transaction).await
    }

    async fn workers_with(&self, skill: &str) -> Result<Vec<Uuid>, StoreError> {
        let items = self.partition(&format!("SKILL#{skill}"), None).await?;
        items.iter().map(|item| uuid(item, "worker_id")).collect()
    }
}

impl Orders for Store {
    async fn order(&self, order_id: Uuid) -> Result<Option<Order>, StoreError> {
        self.table.get_as(order_key(order_id)).await
    }

    async fn save_order(
        &self,
        before: Option<&Order>,
        after: &Order,
        change: Change<'_>,
    ) -> Result<Saved, StoreError> {
        let mut item = to_item(after);
        item.extend(order_key(after.order_id));
        let mut transaction =
            Transaction::new().with("order", self.put_over(item, before.map(|o| o.stamp)));
        let (was, is) = (
            before.map(waiting_keys).unwrap_or_default(),
            waiting_keys(after),
        );
        if was != is {
            for key in was {
                transaction.add("waiting", self.table.delete_item(key, None, &[]));
            }
            for mut key in is {
                key.insert("order_id".to_owned(), s(after.order_id.to_string()));
                transaction.add("waiting", self.table.put_item(key, None, &[]));
            }
        }
        if let Some(freed) = change.freed {
            transaction.add(
                "freed",
                self.table.delete_item(booking_key(freed), None, &[]),
            );
        }
        if let Some((booking, version)) = change.booked {
            let mut item = to_item(booking);
            item.extend(booking_key(booking));
            let expires = booking.slot.end.max(booking.matched_at) + booking_kept();
            item.insert("ttl".to_owned(), n(expires.timestamp()));
            transaction.add(
                "booking",
                self.table
                    .put_item(item, Some("attribute_not_exists(pk)"), &[]),
            );
            let mut schedule = schedule_key(booking.worker_id);
            schedule.insert("version".to_owned(), n(version + 1));
            let guard = match version {
                0 => self
                    .table
                    .put_item(schedule, Some("attribute_not_exists(pk)"), &[]),
                v => {
                    self.table
                        .put_item(schedule, Some("version = :version"), &[(":version", n(v))])
                }
            };
            transaction.add("schedule", guard);
        }
        transaction.add_all(
            outbox::OUTBOX,
            outbox::records(self.table.name(), change.events),
        );
        self.commit(transaction).await
    }
}

impl Schedules for Store {
    async fn schedule(&self, worker_id: Uuid) -> Result<Schedule, StoreError> {
        let version = match self.table.get(schedule_key(worker_id)).await? {
            Some(item) => get_n(&item, "version")?,
            None => 0,
        };
        let items = self
            .partition(&format!("BOOKING#{worker_id}"), None)
            .await?;
        let bookings = items.iter().map(from_item).collect::<Result<_, _>>()?;
        Ok(Schedule {
            worker_id,
            version,
            bookings,
        })
    }
}

impl Store {
    /// The first `limit` orders of a waiting partition, longest waiting first.
    async fn waiting_in(
        &self,
        pk: &str,
        limit: usize,
    ) -> Result<Vec<(DateTime<Utc>, Uuid)>, StoreError> {
        let items = self.partition(pk, Some(limit)).await?;
        items
            .iter()
            .map(|item| {
                let sk = get_s(item, "sk")?;
                let since = sk
                    .split_once('#')
                    .and_then(|(since, _)| since.parse().ok())
                    .ok_or_else(|| StoreError::Malformed(format!("waiting item {sk}")))?;
                Ok((since, uuid(item, "order_id")?))
            })
            .collect()
    }
}

impl Waiting for Store {
    async fn waiting(&self, limit: usize) -> Result<Vec<(DateTime<Utc>, Uuid)>, StoreError> {
        self.waiting_in("WAITING", limit).await
    }

    async fn waiting_for(&self, skill: &str, limit: usize) -> Result<Vec<Uuid>, StoreError> {
        let waiting = self.waiting_in(&format!("WAITING#{skill}"), limit).await?;
        Ok(waiting.into_iter().map(|(_, id)| id).collect())
    }
}
