//! An in-memory [`BiddingStore`] for testing the use cases without AWS: every write is atomic
//! under one lock and checks the same conditions the DynamoDB store's transaction does (a book
//! changed only from the version read, one bet per manager and order, an event applied once per
//! consumer, a key's first answer kept with its write), so a use case that is right here is
//! right there.

use std::collections::{BTreeSet, HashMap, HashSet};

use ates_kernel::dynamo::StoreError;
use ates_kernel::event::Envelope;
use ates_kernel::idempotency::AnswersInMemory;
use ates_kernel::usecase::KeyedAnswer;
use chrono::NaiveDate;
use uuid::Uuid;

use crate::bet::{Bet, Book};
use crate::ports::{BiddingStore, Books, Learned, OrderFacts, Readings, Saved, StoredBook};

#[derive(Default)]
struct State {
    books: HashMap<Uuid, StoredBook>,
    /// (manager, order): the manager's index of their bets.
    bettors: BTreeSet<(Uuid, Uuid)>,
    /// (business day, order): the books settled each day.
    settled: BTreeSet<(NaiveDate, Uuid)>,
    /// (consumer, event id) applied.
    inbox: HashSet<(String, Uuid)>,
    answers: AnswersInMemory,
}

ates_kernel::memory_store!(MemoryStore(State) + replays);

impl BiddingStore for MemoryStore {}

fn version_of(books: &HashMap<Uuid, StoredBook>, order_id: Uuid) -> u64 {
    books.get(&order_id).map_or(0, |b| b.version)
}

impl Books for MemoryStore {
    async fn book(&self, order_id: Uuid) -> Result<Option<StoredBook>, StoreError> {
        Ok(self.state.lock().books.get(&order_id).cloned())
    }

    async fn books(&self, order_ids: &[Uuid]) -> Result<Vec<StoredBook>, StoreError> {
        let state = self.state.lock();
        let unique: BTreeSet<&Uuid> = order_ids.iter().collect();
        Ok(unique
            .into_iter()
            .filter_map(|id| state.books.get(id).cloned())
            .collect())
    }

    async fn place_bet(
        &self,
        read: &StoredBook,
        after: &Book,
        bet: &Bet,
        keyed: KeyedAnswer<'_>,
    ) -> Result<Saved, StoreError> {
        let state = &mut *self.state.lock();
        let as_read = version_of(&state.books, read.order_id) == read.version
            && !state.bettors.contains(&(bet.manager_id, bet.order_id));
        let (books, bettors) = (&mut state.books, &mut state.bettors);
        Ok(state.answers.commit(keyed, as_read, || {
            books.insert(
                read.order_id,
                StoredBook {
                    order_id: read.order_id,
                    book: after.clone(),
                    version: read.version + 1,
                },
            );
            bettors.insert((bet.manager_id, bet.order_id));
        }))
    }
}

impl OrderFacts for MemoryStore {
    async fn learn(
        &self,
        consumer: &str,
        event: &Envelope,
        read: &StoredBook,
        after: &Book,
        settled_on: Option<NaiveDate>,
        replayed: bool,
    ) -> Result<Learned, StoreError> {
        let state = &mut *self.state.lock();
        if !replayed && state.inbox.contains(&(consumer.to_owned(), event.id)) {
            return Ok(Learned::Duplicate);
        }
        if version_of(&state.books, read.order_id) != read.version {
            return Ok(Learned::Stale);
        }
        state.inbox.insert((consumer.to_owned(), event.id));
        state.books.insert(
            read.order_id,
            StoredBook {
                order_id: read.order_id,
                book: after.clone(),
                version: read.version + 1,
            },
        );
        if let Some(day) = settled_on {
            state.settled.insert((day, read.order_id));
        }
        Ok(Learned::Applied)
    }
}

impl MemoryStore {
    /// A loss, as a bug or an operator's mistake may cause one: the facts `order_id`'s book
    /// learned from orders' events and its listing among the settled books are gone; its bets
    /// stay (the book as a replay finds it).
    pub fn lose_facts(&self, order_id: Uuid) {
        let state = &mut *self.state.lock();
        if let Some(stored) = state.books.get_mut(&order_id) {
            stored.book = Book {
                bets: stored.book.bets.clone(),
                ..Book::default()
            };
            stored.version += 1;
        }
        state.settled.retain(|(_, order)| *order != order_id);
    }
}

impl Readings for MemoryStore {
    async fn orders_bet_by(&self, manager_id: Uuid) -> Result<Vec<Uuid>, StoreError> {
        let state = self.state.lock();
        Ok(state
            .bettors
            .iter()
            .filter(|(m, _)| *m == manager_id)
            .map(|(_, order)| *order)
            .collect())
    }

    async fn settled_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Uuid>, StoreError> {
        let state = self.state.lock();
        Ok(state
            .settled
            .iter()
            .filter(|(day, _)| (from..=to).contains(day))
            .map(|(_, order)| *order)
            .collect())
    }
}
