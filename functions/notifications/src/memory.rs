//! An in-memory [`NotificationStore`] and [`Courier`] for testing the use cases without AWS. The
//! store checks the same conditions the DynamoDB store does (absent, same version, newer
//! revision, inbox); the courier keeps what it delivered and fails as a test tells it to.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use ates_kernel::dynamo::StoreError;
use uuid::Uuid;

use crate::error::NotificationError;
use crate::message::Content;
use crate::message::{Message, Status};
use crate::ports::{
    Courier, Listing, MessageHistory, Messages, NotificationStore, OrderClients, Undelivered,
};

#[derive(Default)]
struct State {
    messages: HashMap<String, Message>,
    clients: HashMap<Uuid, Uuid>,
}

ates_kernel::memory_store!(MemoryStore(State));

impl NotificationStore for MemoryStore {}

impl Messages for MemoryStore {
    async fn message(&self, id: &str) -> Result<Option<Message>, StoreError> {
        Ok(self.state.lock().messages.get(id).cloned())
    }

    async fn save_message(
        &self,
        message: &Message,
        previous: Option<&Message>,
    ) -> Result<bool, StoreError> {
        let mut state = self.state.lock();
        let stored = state.messages.get(&message.message_id).map(|m| m.version);
        if stored != previous.map(|p| p.version) {
            return Ok(false);
        }
        state
            .messages
            .insert(message.message_id.clone(), message.clone());
        Ok(true)
    }
}

impl OrderClients for MemoryStore {
    async fn order_client(&self, order: Uuid) -> Result<Option<Uuid>, StoreError> {
        Ok(self.state.lock().clients.get(&order).copied())
    }

    async fn save_order_client(&self, order: Uuid, client: Uuid) -> Result<(), StoreError> {
        self.state.lock().clients.entry(order).or_insert(client);
        Ok(())
    }
}

impl MessageHistory for MemoryStore {
    async fn messages_to(
        &self,
        account: Uuid,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listing, NotificationError> {
        let mut mine: Vec<Message> = self
            .state
            .lock()
            .messages
            .values()
            .filter(|m| m.account_id == Some(account))
            .cloned()
            .collect();
        // As the table's index orders them: by the time to the microsecond (its sort key's
        // precision), then by id.
        let key = |m: &Message| (m.created_at.timestamp_micros(), m.message_id.clone());
        mine.sort_by_key(|m| std::cmp::Reverse(key(m)));
        Ok(Listing::page_of(mine, limit, cursor)?)
    }

    async fn all_messages(
        &self,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listing, NotificationError> {
        let mut all: Vec<Message> = self.state.lock().messages.values().cloned().collect();
        all.sort_by(|a, b| (b.created_at, &b.message_id).cmp(&(a.created_at, &a.message_id)));
        Ok(Listing::page_of(all, limit, cursor)?)
    }

    async fn parked_messages(
        &self,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listing, NotificationError> {
        let mut parked: Vec<Message> = self
            .state
            .lock()
            .messages
            .values()
            .filter(|m| m.status == Status::Failed)
            .cloned()
            .collect();
        // As the table's index orders them: by the last attempt to the microsecond, then by id.
        let key = |m: &Message| (m.attempted_at.timestamp_micros(), m.message_id.clone());
        parked.sort_by_key(|m| std::cmp::Reverse(key(m)));
        Ok(Listing::page_of(parked, limit, cursor)?)
    }
}

/// A [`Courier`] that keeps what it delivered, and first answers the failures it was told to.
#[derive(Default)]
pub struct RecordingCourier {
    delivered: Mutex<Vec<(Message, Content)>>,
    failures: Mutex<VecDeque<Undelivered>>,
}

impl RecordingCourier {
    /// The next deliveries fail with these, in order; then deliveries succeed again.
    pub fn fail_with(&self, failures: impl IntoIterator<Item = Undelivered>) {
        self.failures
            .lock()
            .expect("no test panicked holding the lock")
            .extend(failures);
    }

    /// What was delivered, in order.
    pub fn delivered(&self) -> Vec<(Message, Content)> {
        self.delivered
            .lock()
            .expect("no test panicked holding the lock")
            .clone()
    }
}

impl Courier for RecordingCourier {
    async fn deliver(&self, message: &Message, content: &Content) -> Result<(), Undelivered> {
        let failure = self
            .failures
            .lock()
            .expect("no test panicked holding the lock")
            .pop_front();
        if let Some(failure) = failure {
            return Err(failure);
        }
        self.delivered
            .lock()
            .expect("no test panicked holding the lock")
            .push((message.clone(), content.clone()));
        Ok(())
    }
}
