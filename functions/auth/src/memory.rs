//! In-memory adapters of the ports, for tests: an [`AuthStore`] that keeps the same conditions
//! the DynamoDB table does (unique emails, revisioned accounts, single-use refresh tokens and
//! codes, "absent" on creation), and a [`Mailer`] that records what it sends.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use ates_kernel::contracts::accounts::AccountSnapshot;
use ates_kernel::copies::{AccountCopies, Locked};
use ates_kernel::dynamo::StoreError;
use ates_kernel::event::Envelope;
use uuid::Uuid;

use crate::account::Account;
use crate::challenge::Challenge;
use crate::error::AuthError;
use crate::issuer::{RefreshToken, REFRESH_TOKEN_SECONDS};
use crate::ports::{
    AccountAdministration, AccountDirectory, AccountPage, AuthStore, Challenges, Credentials,
    Mailer, Passwords, Sessions, StoredAccount, Written,
};

/// The state of a session or of a refresh token, as the table keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenState {
    Active,
    Used,
    Revoked,
}

#[derive(Debug, Clone)]
struct Session {
    account_id: Uuid,
    state: TokenState,
}

#[derive(Debug, Clone)]
struct Refresh {
    account_id: Uuid,
    session_id: Uuid,
    state: TokenState,
    expires_at: i64,
}

#[derive(Debug, Default)]
struct Tables {
    accounts: HashMap<Uuid, StoredAccount>,
    /// Email -> account id: the uniqueness of emails, and accounts ordered by email.
    emails: BTreeMap<String, Uuid>,
    sessions: HashMap<Uuid, Session>,
    /// By token hash, as the table keys them.
    refresh_tokens: HashMap<String, Refresh>,
    challenges: HashMap<String, Challenge>,
    password_failures: HashMap<Uuid, crate::password::Failures>,
    /// Password hashes, apart from the accounts as the table keeps them.
    passwords: HashMap<Uuid, String>,
    /// Challenges as a racing request read them before the others wrote (see
    /// [`MemoryStore::freeze_challenge_reads`]).
    frozen_challenges: Option<HashMap<String, Challenge>>,
    outbox: Vec<Envelope>,
}

/// The auth table in memory. Every method is one atomic step under one lock, as a DynamoDB
/// transaction is.
#[derive(Debug, Default)]
pub struct MemoryStore {
    tables: Locked<Tables>,
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// From now on, reads of challenges answer what is stored now, as requests that all read
    /// before any of them wrote would see; `false` reads the table again.
    pub fn freeze_challenge_reads(&self, frozen: bool) {
        let mut tables = self.tables.lock();
        tables.frozen_challenges = frozen.then(|| tables.challenges.clone());
    }

    /// The stored challenge of an email, whatever reads answer.
    pub fn stored_challenge(&self, email: &str) -> Option<Challenge> {
        self.tables.lock().challenges.get(email).cloned()
    }

    /// Sets an address's wrong guesses, as if they had been made.
    pub fn set_wrong_guesses(&self, email: &str, wrong: crate::challenge::WrongGuesses) {
        if let Some(stored) = self.tables.lock().challenges.get_mut(email) {
            stored.wrong = wrong;
        }
    }

    /// Every event committed so far, in commit order (what the outbox relay would publish).
    pub fn events(&self) -> Vec<Envelope> {
        self.tables.lock().outbox.clone()
    }

    /// The state of a session, if it exists.
    pub fn session_state(&self, session_id: Uuid) -> Option<TokenState> {
        self.tables
            .lock()
            .sessions
            .get(&session_id)
            .map(|s| s.state)
    }

    /// How many sessions were started (each sign-in starts one).
    pub fn sessions(&self) -> usize {
        self.tables.lock().sessions.len()
    }

    /// The stored password hash of an account.
    pub fn password_hash(&self, account_id: Uuid) -> Option<String> {
        self.tables.lock().passwords.get(&account_id).cloned()
    }
}

impl AuthStore for MemoryStore {}

impl AccountCopies for MemoryStore {
    async fn account_copy(&self, id: Uuid) -> Result<Option<AccountSnapshot>, StoreError> {
        let tables = self.tables.lock();
        Ok(tables
            .accounts
            .get(&id)
            .map(|stored| stored.account.snapshot()))
    }
}

impl AccountDirectory for MemoryStore {
    async fn account(&self, id: Uuid) -> Result<Option<StoredAccount>, AuthError> {
        Ok(self.tables.lock().accounts.get(&id).cloned())
    }

    async fn account_by_email(&self, email: &str) -> Result<Option<StoredAccount>, AuthError> {
        let tables = self.tables.lock();
        Ok(tables
            .emails
            .get(email)
            .and_then(|id| tables.accounts.get(id))
            .cloned())
    }

    async fn accounts(
        &self,
        limit: i32,
        after_email: Option<&str>,
    ) -> Result<AccountPage, AuthError> {
        let tables = self.tables.lock();
        let range = match after_email {
            Some(email) if !tables.emails.contains_key(email) => {
                return Err(AuthError::Invalid("the cursor is not valid".into()));
            }
            Some(email) => tables
                .emails
                .range::<str, _>((std::ops::Bound::Excluded(email), std::ops::Bound::Unbounded))
                .collect::<Vec<_>>(),
            None => tables.emails.iter().collect(),
        };
        let limit = usize::try_from(limit).unwrap_or(0);
        let accounts: Vec<Account> = range
            .iter()
            .take(limit)
            .map(|(_, id)| tables.accounts[*id].account.clone())
            .collect();
        // Like a DynamoDB query: a full page says where it stopped, even if nothing follows.
        let next = (accounts.len() == limit)
            .then(|| accounts.last().map(|a| a.email.clone()))
            .flatten();
        Ok(AccountPage { accounts, next })
    }
}

impl AccountAdministration for MemoryStore {
    async fn create_account(
        &self,
        account: &Account,
        password_hash: Option<&str>,
        event: &Envelope,
    ) -> Result<Written, AuthError> {
        let mut tables = self.tables.lock();
        if tables.accounts.contains_key(&account.account_id)
            || tables.emails.contains_key(&account.email)
        {
            return Ok(Written::Lost);
        }
        tables
            .emails
            .insert(account.email.clone(), account.account_id);
        tables.accounts.insert(
            account.account_id,
            StoredAccount {
                account: account.clone(),
                password_hash: None,
            },
        );
        if let Some(hash) = password_hash {
            tables.passwords.insert(account.account_id, hash.to_owned());
        }
        tables.outbox.push(event.clone());
        Ok(Written::Done)
    }

    async fn save_account(
        &self,
        account: &Account,
        event: &Envelope,
    ) -> Result<Written, AuthError> {
        let mut tables = self.tables.lock();
        let Some(stored) = tables.accounts.get_mut(&account.account_id) else {
            return Ok(Written::Lost);
        };
        if stored.account.revision + 1 != account.revision {
            return Ok(Written::Lost);
        }
        // As the table's update: name, role, active and revision; email and creation stay.
        stored.account.profile.full_name = account.full_name.clone();
        stored.account.profile.role = account.role;
        stored.account.profile.active = account.active;
        stored.account.profile.revision = account.revision;
        tables.outbox.push(event.clone());
        Ok(Written::Done)
    }
}

impl Sessions for MemoryStore {
    async fn start_session(&self, token: &RefreshToken, now: i64) -> Result<(), AuthError> {
        let mut tables = self.tables.lock();
        if tables.sessions.contains_key(&token.session_id)
            || tables.refresh_tokens.contains_key(&token.hash)
        {
            return Err(AuthError::Internal(
                "session or token exists already".into(),
            ));
        }
        tables.sessions.insert(
            token.session_id,
            Session {
                account_id: token.account_id,
                state: TokenState::Active,
            },
        );
        tables.refresh_tokens.insert(
            token.hash.clone(),
            Refresh {
                account_id: token.account_id,
                session_id: token.session_id,
                state: TokenState::Active,
                expires_at: now + REFRESH_TOKEN_SECONDS,
            },
        );
        Ok(())
    }

    async fn rotate_refresh_token(
        &self,
        old: &RefreshToken,
        new: &RefreshToken,
        now: i64,
    ) -> Result<Written, AuthError> {
        let mut tables = self.tables.lock();
        let spendable = tables.refresh_tokens.get(&old.hash).is_some_and(|r| {
            r.state == TokenState::Active && r.expires_at > now && r.account_id == old.account_id
        });
        let fresh = !tables.refresh_tokens.contains_key(&new.hash);
        let session_active = tables
            .sessions
            .get(&old.session_id)
            .is_some_and(|s| s.state == TokenState::Active && s.account_id == old.account_id);
        if !(spendable && fresh && session_active) {
            return Ok(Written::Lost);
        }
        if let Some(spent) = tables.refresh_tokens.get_mut(&old.hash) {
            spent.state = TokenState::Used;
        }
        tables.refresh_tokens.insert(
            new.hash.clone(),
            Refresh {
                account_id: new.account_id,
                session_id: new.session_id,
                state: TokenState::Active,
                expires_at: now + REFRESH_TOKEN_SECONDS,
            },
        );
        Ok(Written::Done)
    }

    async fn refresh_token_used(&self, token: &RefreshToken) -> Result<bool, AuthError> {
        Ok(self
            .tables
            .lock()
            .refresh_tokens
            .get(&token.hash)
            .is_some_and(|r| r.session_id == token.session_id && r.state == TokenState::Used))
    }

    async fn end_session(&self, token: &RefreshToken) -> Result<(), AuthError> {
        if let Some(session) = self.tables.lock().sessions.get_mut(&token.session_id) {
            if session.account_id == token.account_id {
                session.state = TokenState::Revoked;
            }
        }
        Ok(())
    }

    async fn sign_out(&self, token: &RefreshToken) -> Result<Written, AuthError> {
        let mut tables = self.tables.lock();
        let token_ok = tables
            .refresh_tokens
            .get(&token.hash)
            .is_some_and(|r| r.account_id == token.account_id && r.session_id == token.session_id);
        let session_ok = tables
            .sessions
            .get(&token.session_id)
            .is_some_and(|s| s.account_id == token.account_id);
        if !(token_ok && session_ok) {
            return Ok(Written::Lost);
        }
        if let Some(r) = tables.refresh_tokens.get_mut(&token.hash) {
            r.state = TokenState::Revoked;
        }
        if let Some(s) = tables.sessions.get_mut(&token.session_id) {
            s.state = TokenState::Revoked;
        }
        Ok(Written::Done)
    }
}

impl Passwords for MemoryStore {
    async fn credentials(&self, email: &str) -> Result<Option<Credentials>, AuthError> {
        let tables = self.tables.lock();
        let Some(stored) = tables
            .emails
            .get(email)
            .and_then(|id| tables.accounts.get(id))
        else {
            return Ok(None);
        };
        let id = stored.account.account_id;
        Ok(Some(Credentials {
            account: stored.account.clone(),
            password_hash: tables
                .passwords
                .get(&id)
                .cloned()
                .or_else(|| stored.password_hash.clone()),
            failures: tables.password_failures.get(&id).copied(),
        }))
    }

    async fn count_password_failure(&self, account: Uuid, at: i64) -> Result<(), AuthError> {
        let mut tables = self.tables.lock();
        let failures =
            tables
                .password_failures
                .entry(account)
                .or_insert(crate::password::Failures {
                    count: 0,
                    last_at: at,
                });
        failures.count += 1;
        failures.last_at = at;
        Ok(())
    }

    async fn clear_password_failures(&self, account: Uuid) -> Result<(), AuthError> {
        self.tables.lock().password_failures.remove(&account);
        Ok(())
    }
}

impl Challenges for MemoryStore {
    async fn challenge(&self, email: &str) -> Result<Option<Challenge>, AuthError> {
        let tables = self.tables.lock();
        let read = tables
            .frozen_challenges
            .as_ref()
            .unwrap_or(&tables.challenges);
        Ok(read.get(email).cloned())
    }

    async fn save_challenge(
        &self,
        email: &str,
        challenge: &Challenge,
    ) -> Result<Written, AuthError> {
        let mut tables = self.tables.lock();
        let holds = match tables.challenges.get(email) {
            None => challenge.version == 1,
            Some(stored) => challenge.version > 1 && stored.version == challenge.version - 1,
        };
        if !holds {
            return Ok(Written::Lost);
        }
        // As the table's update: the code's fields; the wrong guesses stay as they are.
        let wrong = tables
            .challenges
            .get(email)
            .map(|c| c.wrong)
            .unwrap_or_default();
        let mut saved = challenge.clone();
        saved.wrong = wrong;
        tables.challenges.insert(email.to_owned(), saved);
        Ok(Written::Done)
    }

    async fn take_guess(&self, email: &str, challenge: &Challenge) -> Result<Written, AuthError> {
        let mut tables = self.tables.lock();
        match tables.challenges.get_mut(email) {
            Some(stored)
                if stored.code_hash == challenge.code_hash
                    && stored.guesses < crate::challenge::MAX_GUESSES =>
            {
                stored.guesses += 1;
                Ok(Written::Done)
            }
            _ => Ok(Written::Lost),
        }
    }

    async fn count_wrong_guess(
        &self,
        email: &str,
        _seen: &crate::challenge::WrongGuesses,
        at: i64,
    ) -> Result<(), AuthError> {
        if let Some(stored) = self.tables.lock().challenges.get_mut(email) {
            let counted = stored.wrong.counted(at);
            stored.wrong = crate::challenge::WrongGuesses {
                failures: counted + 1,
                failed_at: at,
            };
        }
        Ok(())
    }

    async fn spend_challenge(
        &self,
        email: &str,
        challenge: &Challenge,
    ) -> Result<Written, AuthError> {
        let mut tables = self.tables.lock();
        let Some(stored) = tables
            .challenges
            .get_mut(email)
            .filter(|c| c.version == challenge.version)
        else {
            return Ok(Written::Lost);
        };
        stored.expires_at = 0;
        stored.version = challenge.version + 1;
        stored.wrong = crate::challenge::WrongGuesses::default();
        Ok(Written::Done)
    }
}

/// A mail as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
}

/// A [`Mailer`] that keeps what it is asked to send; it can be made slow, or failing (as SES
/// can be).
#[derive(Debug, Default)]
pub struct RecordingMailer {
    sent: Mutex<Vec<Mail>>,
    delay: std::time::Duration,
    failing: bool,
}

impl RecordingMailer {
    pub fn new() -> RecordingMailer {
        RecordingMailer::default()
    }

    /// A mailer that takes `delay` to send each mail.
    pub fn slow(delay: std::time::Duration) -> RecordingMailer {
        RecordingMailer {
            delay,
            ..RecordingMailer::default()
        }
    }

    /// A mailer that fails every mail (after `delay`), keeping none.
    pub fn failing(delay: std::time::Duration) -> RecordingMailer {
        RecordingMailer {
            delay,
            failing: true,
            ..RecordingMailer::default()
        }
    }

    /// Every mail sent so far, oldest first.
    pub fn sent(&self) -> Vec<Mail> {
        self.sent.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Mailer for RecordingMailer {
    async fn send(&self, to: &str, subject: &str, text: &str) -> Result<(), AuthError> {
        tokio::time::sleep(self.delay).await;
        if self.failing {
            return Err(AuthError::Mail("the mail service is down".into()));
        }
        self.sent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Mail {
                to: to.to_owned(),
                subject: subject.to_owned(),
                text: text.to_owned(),
            });
        Ok(())
    }
}
