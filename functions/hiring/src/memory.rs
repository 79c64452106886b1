//! In-memory stores for testing the use cases without AWS: every write is atomic under one lock
//! and checks the same conditions the DynamoDB store's transaction does (version, revision, the
//! address's open application, a worker's first profile, the key), so a use case that is right
//! here is right there. A token mailbox keeps what it was asked to send.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use ates_kernel::dynamo::{Listed, StoreError};
use ates_kernel::event::Envelope;
use ates_kernel::idempotency::AnswersInMemory;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::application::{Application, Filter, Kind, Status};
use crate::bank::Entry;
use crate::error::HiringError;
use crate::ports::{
    Accounts, ApplicationChanges, Applications, Change, Deadlines, KeyedAnswer, NotMailed, Saved,
    Shelf, TokenMail, Workers,
};
use crate::worker::WorkerProfile;

#[derive(Default)]
struct State {
    applications: HashMap<Uuid, Application>,
    open: HashMap<(String, Kind), Uuid>,
    due: BTreeSet<(DateTime<Utc>, Uuid)>,
    /// The bank's entries of every kind, by kind and id, as JSON (as the table keeps them,
    /// whatever their type).
    bank: HashMap<(&'static str, Uuid), serde_json::Value>,
    workers: HashMap<Uuid, WorkerProfile>,
    answers: AnswersInMemory,
    published: Vec<Envelope>,
}

ates_kernel::memory_store!(MemoryStore(State) + published + replays);

impl Applications for MemoryStore {
    async fn application(&self, id: Uuid) -> Result<Option<Application>, StoreError> {
        Ok(self.state.lock().applications.get(&id).cloned())
    }

    async fn open_application(
        &self,
        email: &str,
        kind: Kind,
    ) -> Result<Option<Application>, StoreError> {
        let state = self.state.lock();
        let open = state.open.get(&(email.to_owned(), kind));
        Ok(open.and_then(|id| state.applications.get(id)).cloned())
    }

    async fn applications_in(
        &self,
        filter: &Filter,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listed<Application>, HiringError> {
        let mut found: Vec<Application> = (self.state.lock().applications.values())
            .filter(|a| filter.admits(a))
            .cloned()
            .collect();
        // As the table's index orders them: by the time to the microsecond, then by id.
        let key = |a: &Application| (a.submitted_at.timestamp_micros(), a.application_id);
        found.sort_by_key(|a| std::cmp::Reverse(key(a)));
        Ok(Listed::page_of(found, limit, cursor)?)
    }
}

impl ApplicationChanges for MemoryStore {
    async fn add_application(
        &self,
        application: &Application,
        event: &Envelope,
    ) -> Result<Saved, StoreError> {
        let mut state = self.state.lock();
        let open = (application.email.clone(), application.kind);
        if state.open.contains_key(&open)
            || state.applications.contains_key(&application.application_id)
        {
            return Ok(Saved::Stale);
        }
        state.open.insert(open, application.application_id);
        state
            .applications
            .insert(application.application_id, application.clone());
        state.published.push(event.clone());
        Ok(Saved::Done)
    }

    async fn change_application(
        &self,
        before: &Application,
        after: &Application,
        change: Change<'_>,
    ) -> Result<Saved, StoreError> {
        let state = &mut *self.state.lock();
        let id = after.application_id;
        let as_read = state.applications.get(&id).map(|a| a.version) == Some(before.version)
            && change
                .hired
                .is_none_or(|hired| !state.workers.contains_key(&hired.account_id));
        Ok(state.answers.commit(change.keyed, as_read, || {
            if let Some(hired) = change.hired {
                state.workers.insert(hired.account_id, hired.clone());
            }
            if !after.status.is_open() {
                state.open.remove(&(after.email.clone(), after.kind));
            }
            if let Some(deadline) = before.deadline.filter(|_| before.status == Status::Test) {
                state.due.remove(&(deadline, id));
            }
            if let Some(deadline) = after.deadline.filter(|_| after.status == Status::Test) {
                state.due.insert((deadline, id));
            }
            state.applications.insert(id, after.clone());
            state.published.extend(change.events.iter().cloned());
        }))
    }
}

impl Deadlines for MemoryStore {
    async fn due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Uuid>, StoreError> {
        let state = self.state.lock();
        Ok(state
            .due
            .iter()
            .take_while(|(deadline, _)| *deadline <= now)
            .take(limit)
            .map(|(_, id)| *id)
            .collect())
    }
}

fn read<T: Entry>(value: &serde_json::Value) -> Result<T, StoreError> {
    T::deserialize(value).map_err(|e| StoreError::Malformed(e.to_string()))
}

impl<T: Entry> Shelf<T> for MemoryStore {
    async fn entry(&self, id: Uuid) -> Result<Option<T>, StoreError> {
        self.state
            .lock()
            .bank
            .get(&(T::KIND, id))
            .map(read)
            .transpose()
    }

    async fn entries(&self, ids: &[Uuid]) -> Result<Vec<T>, StoreError> {
        let state = self.state.lock();
        ids.iter()
            .filter_map(|id| state.bank.get(&(T::KIND, *id)))
            .map(read)
            .collect()
    }

    async fn save_entry(
        &self,
        entry: &T,
        previous: Option<&T>,
        keyed: KeyedAnswer<'_>,
        _now: DateTime<Utc>,
    ) -> Result<Saved, StoreError> {
        let value =
            serde_json::to_value(entry).map_err(|e| StoreError::Malformed(e.to_string()))?;
        let state = &mut *self.state.lock();
        let at = (T::KIND, entry.id());
        let stored = state.bank.get(&at).map(read::<T>).transpose()?;
        let as_read = stored.map(|e| e.revision()) == previous.map(Entry::revision);
        Ok(state.answers.commit(keyed, as_read, || {
            state.bank.insert(at, value);
        }))
    }

    async fn shelf(&self, limit: usize, cursor: Option<&str>) -> Result<Listed<T>, HiringError> {
        let mut all: Vec<T> = (self.state.lock().bank.iter())
            .filter(|((kind, _), _)| *kind == T::KIND)
            .map(|(_, value)| read(value))
            .collect::<Result<_, _>>()?;
        all.sort_by_key(|e| std::cmp::Reverse((e.created_at().timestamp_micros(), e.id())));
        Ok(Listed::page_of(all, limit, cursor)?)
    }
}

impl Workers for MemoryStore {
    async fn worker(&self, account_id: Uuid) -> Result<Option<WorkerProfile>, StoreError> {
        Ok(self.state.lock().workers.get(&account_id).cloned())
    }

    async fn change_worker(
        &self,
        profile: &WorkerProfile,
        previous: &WorkerProfile,
        event: &Envelope,
        keyed: KeyedAnswer<'_>,
        _now: DateTime<Utc>,
    ) -> Result<Saved, StoreError> {
        let state = &mut *self.state.lock();
        let stored = state.workers.get(&profile.account_id).map(|w| w.revision);
        Ok(state
            .answers
            .commit(keyed, stored == Some(previous.revision), || {
                state.workers.insert(profile.account_id, profile.clone());
                state.published.push(event.clone());
            }))
    }
}

impl Accounts for MemoryStore {
    async fn account_with_address(&self, email: &str) -> Result<Option<Uuid>, StoreError> {
        let accounts = self.accounts.lock();
        let found = accounts.all().find(|a| a.email.eq_ignore_ascii_case(email));
        Ok(found.map(|a| a.account_id))
    }
}

/// A [`TokenMail`] that keeps every token it was asked to mail, by application.
#[derive(Default)]
pub struct Mailbox {
    sent: Mutex<Vec<(Uuid, String, String)>>,
}

impl Mailbox {
    /// `(application id, address, token)` of every mail, in order.
    pub fn sent(&self) -> Vec<(Uuid, String, String)> {
        self.sent
            .lock()
            .expect("no test panicked holding the lock")
            .clone()
    }

    /// The last token mailed for an application.
    pub fn token_of(&self, application_id: Uuid) -> Option<String> {
        self.sent()
            .into_iter()
            .rev()
            .find(|(id, _, _)| *id == application_id)
            .map(|(_, _, t)| t)
    }
}

impl TokenMail for Mailbox {
    async fn mail_token(&self, application: &Application, token: &str) -> Result<(), NotMailed> {
        let sent = (
            application.application_id,
            application.email.clone(),
            token.to_owned(),
        );
        self.sent
            .lock()
            .expect("no test panicked holding the lock")
            .push(sent);
        Ok(())
    }
}
