//! An in-memory [`NotificationStore`] and [`Courier`] for testing the use cases without AWS. The
//! store checks the same conditions the DynamoDB store does (absent, same version, newer
//! revision, inbox); the courier keeps what it delivered and fails as a test tells it to.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;

use ates_kernel::contracts::accounts::AccountSnapshot;
use ates_kernel::dynamo::StoreError;
use ates_kernel::event::Envelope;
use ates_kernel::http::AccountCopies;
use ates_kernel::inbox::Outcome;
use uuid::Uuid;

use crate::error::NotificationError;
use crate::message::Message;
use crate::ports::{Courier, Listing, NotificationStore, Undelivered};
use crate::statement::Content;

#[derive(Default)]
struct State {
    accounts: HashMap<Uuid, AccountSnapshot>,
    inbox: HashSet<Uuid>,
    messages: HashMap<String, Message>,
}

#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl MemoryStore {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .expect("no test panicked holding the lock")
    }
}

/// A page of `messages` (already in order) from `cursor`, an offset.
fn page_of(
    mut messages: Vec<Message>,
    limit: usize,
    cursor: Option<&str>,
) -> Result<Listing, NotificationError> {
    let start = match cursor {
        None => 0,
        Some(c) => c
            .parse::<usize>()
            .map_err(|_| NotificationError::BadCursor)?,
    };
    let end = (start + limit).min(messages.len());
    let next_cursor = (end < messages.len()).then(|| end.to_string());
    let messages = messages.drain(start.min(end)..end).collect();
    Ok(Listing {
        messages,
        next_cursor,
    })
}

impl AccountCopies for MemoryStore {
    async fn account_copy(&self, id: Uuid) -> Result<Option<AccountSnapshot>, StoreError> {
        Ok(self.state().accounts.get(&id).cloned())
    }
}

impl NotificationStore for MemoryStore {
    async fn recipient(&self, account: Uuid) -> Result<Option<AccountSnapshot>, StoreError> {
        Ok(self.state().accounts.get(&account).cloned())
    }

    async fn save_account(
        &self,
        account: &AccountSnapshot,
        event: &Envelope,
    ) -> Result<Outcome, StoreError> {
        let mut state = self.state();
        if state.inbox.contains(&event.id) {
            return Ok(Outcome::Duplicate);
        }
        if let Some(copy) = state.accounts.get(&account.account_id) {
            if copy.revision >= account.revision {
                return Ok(Outcome::Superseded);
            }
        }
        state.accounts.insert(account.account_id, account.clone());
        state.inbox.insert(event.id);
        Ok(Outcome::Applied)
    }

    async fn message(&self, id: &str) -> Result<Option<Message>, StoreError> {
        Ok(self.state().messages.get(id).cloned())
    }

    async fn save_message(
        &self,
        message: &Message,
        previous: Option<&Message>,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        let stored = state.messages.get(&message.message_id).map(|m| m.version);
        if stored != previous.map(|p| p.version) {
            return Ok(false);
        }
        state
            .messages
            .insert(message.message_id.clone(), message.clone());
        Ok(true)
    }

    async fn messages_to(
        &self,
        account: Uuid,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listing, NotificationError> {
        let mut mine: Vec<Message> = self
            .state()
            .messages
            .values()
            .filter(|m| m.account_id == account)
            .cloned()
            .collect();
        mine.sort_by(|a, b| (b.created_at, &b.message_id).cmp(&(a.created_at, &a.message_id)));
        page_of(mine, limit, cursor)
    }

    async fn all_messages(
        &self,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listing, NotificationError> {
        let mut all: Vec<Message> = self.state().messages.values().cloned().collect();
        all.sort_by(|a, b| a.message_id.cmp(&b.message_id));
        page_of(all, limit, cursor)
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
