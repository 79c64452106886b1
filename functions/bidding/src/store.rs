//! Bidding's table (DynamoDB), its own and no one else's (SPEC M8: kept apart). Items, keyed by
//! `pk`/`sk`:
//! - `BOOK#<order id>` / `BOOK`: an order's book (the facts bidding learned of the order and
//!   every bet on it) and its `version`, which every write of it is conditional on;
//! - `MANAGER#<manager id>` / `ORDER#<order id>`: the manager bet on the order (written with the
//!   bet, only where none is: one bet per manager and order), for `GET /bets/mine`;
//! - `SETTLED` / `<business day>#<order id>`: the order's book settled (was invoiced) that day,
//!   for the standings (derived from the book's facts: a replay of orders' events lists it
//!   again, N4);
//! - `ACCOUNT#<id>` / `ACCOUNT`: the copy of an account; `INBOX#<consumer>#<event id>` /
//!   `INBOX`: events applied; `IDEMPOTENCY#<caller>#<key>` / `IDEMPOTENCY`: a bet's first
//!   answer (the kernel's).
//!
//! No stream and no outbox: bidding publishes nothing. Every write of a use case is one
//! transaction of named items; no clock is read here.

use ates_kernel::dynamo::{from_item, get_s, key, n, s, to_item, Item, StoreError, Transaction};
use ates_kernel::event::Envelope;
use ates_kernel::idempotency;
use ates_kernel::inbox::{self, Committed};
use ates_kernel::usecase::KeyedAnswer;
use aws_sdk_dynamodb::types::TransactWriteItem;
use chrono::{NaiveDate, Utc};
use uuid::Uuid;

use crate::app::consumer;
use crate::bet::{Bet, Book};
use crate::ports::{BiddingStore, Books, Learned, OrderFacts, Readings, Saved, StoredBook};

/// The names of a transaction's items whose conditions mean "not as read".
const BOOK: &str = "book";
const BETTOR: &str = "bettor";

/// Written only where nothing is.
const ABSENT: &str = "attribute_not_exists(pk)";

/// The partition of settled books.
const SETTLED: &str = "SETTLED";

/// At most this many keys to one `BatchGetItem` (DynamoDB's limit).
const BATCH: usize = 100;

fn book_key(order_id: Uuid) -> Item {
    key(format!("BOOK#{order_id}"), "BOOK")
}

fn bettor_key(manager_id: Uuid, order_id: Uuid) -> Item {
    key(format!("MANAGER#{manager_id}"), format!("ORDER#{order_id}"))
}

fn settled_key(day: NaiveDate, order_id: Uuid) -> Item {
    key(SETTLED, format!("{day}#{order_id}"))
}

ates_kernel::table_store!(Store + copies(consumer::SYNC_ACCOUNT) + replays);

impl Store {
    /// The write of `after` as the book read as `read`: conditional on the version read.
    fn book_write(&self, read: &StoredBook, after: &Book) -> TransactWriteItem {
        let mut item = to_item(&StoredBook {
            order_id: read.order_id,
            book: after.clone(),
            version: read.version + 1,
        });
        item.extend(book_key(read.order_id));
        match read.version {
            0 => self.table.put_item(item, Some(ABSENT), &[]),
            version => self.table.put_item(
                item,
                Some("version = :version"),
                &[(":version", n(version))],
            ),
        }
    }

    fn order_ids(items: &[Item]) -> Result<Vec<Uuid>, StoreError> {
        items
            .iter()
            .map(|item| {
                let id = get_s(item, "order_id")?;
                Uuid::parse_str(id).map_err(|e| StoreError::Malformed(e.to_string()))
            })
            .collect()
    }
}

impl BiddingStore for Store {}

impl Books for Store {
    async fn book(&self, order_id: Uuid) -> Result<Option<StoredBook>, StoreError> {
        self.table.get_as(book_key(order_id)).await
    }

    async fn books(&self, order_ids: &[Uuid]) -> Result<Vec<StoredBook>, StoreError> {
        let mut unique = order_ids.to_vec();
        unique.sort();
        unique.dedup();
        let mut found = Vec::with_capacity(unique.len());
        for chunk in unique.chunks(BATCH) {
            let keys = chunk.iter().map(|id| book_key(*id)).collect();
            for item in self.table.batch_get(keys).await? {
                found.push(from_item(&item)?);
            }
        }
        Ok(found)
    }

    async fn place_bet(
        &self,
        read: &StoredBook,
        after: &Book,
        bet: &Bet,
        keyed: KeyedAnswer<'_>,
    ) -> Result<Saved, StoreError> {
        let mut bettor = bettor_key(bet.manager_id, bet.order_id);
        bettor.insert("order_id".to_owned(), s(bet.order_id.to_string()));
        let transaction = Transaction::new()
            .with(BOOK, self.book_write(read, after))
            .with(BETTOR, self.table.put_item(bettor, Some(ABSENT), &[]));
        idempotency::commit(
            &self.table,
            transaction,
            keyed,
            Utc::now().timestamp(),
            &[BOOK, BETTOR],
        )
        .await
    }
}

impl OrderFacts for Store {
    async fn learn(
        &self,
        consumer: &str,
        event: &Envelope,
        read: &StoredBook,
        after: &Book,
        settled_on: Option<NaiveDate>,
        replayed: bool,
    ) -> Result<Learned, StoreError> {
        let mut effect = Transaction::new().with(BOOK, self.book_write(read, after));
        if let Some(day) = settled_on {
            let mut listed = settled_key(day, read.order_id);
            listed.insert("order_id".to_owned(), s(read.order_id.to_string()));
            effect.add("settled", self.table.put_item(listed, None, &[]));
        }
        // A replayed event: the book's version alone guards (the inbox has it already).
        let committed = if replayed {
            inbox::commit_replayed(&self.table, effect).await?
        } else {
            inbox::commit(&self.table, consumer, event, effect).await?
        };
        Ok(match committed {
            Committed::Applied => Learned::Applied,
            Committed::Duplicate => Learned::Duplicate,
            Committed::Refused(c) if c.failed(BOOK) => Learned::Stale,
            Committed::Refused(c) => return Err(c.into()),
        })
    }
}

impl Readings for Store {
    async fn orders_bet_by(&self, manager_id: Uuid) -> Result<Vec<Uuid>, StoreError> {
        let items = self
            .table
            .query_between(&format!("MANAGER#{manager_id}"), "ORDER#", "ORDER#~")
            .await?;
        Self::order_ids(&items)
    }

    async fn settled_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Uuid>, StoreError> {
        let items = self
            .table
            .query_between(SETTLED, &from.to_string(), &format!("{to}#~"))
            .await?;
        Self::order_ids(&items)
    }
}
