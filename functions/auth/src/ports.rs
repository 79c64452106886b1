//! The ports the use cases drive: where auth keeps its state, one small trait per need (a use
//! case asks only for the ones it uses; [`AuthStore`] is all of them), and how it mails people
//! ([`Mailer`]). The DynamoDB table (`store`) and SES (`mail`) are the adapters in a
//! Lambda; `memory` holds in-memory ones for tests.

use std::future::Future;

use ates_kernel::event::Envelope;
use ates_kernel::identity::AccountCopies;
use uuid::Uuid;

use crate::account::Account;
use crate::challenge::Challenge;
use crate::error::AuthError;
use crate::issuer::RefreshToken;

/// An account, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAccount {
    pub account: Account,
    /// A password hash kept in the account itself, as accounts created before hashes got a
    /// partition of their own were ([`AuthStore::credentials`]); `None` for the rest.
    pub password_hash: Option<String>,
}

/// What a password sign-in reads of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub account: Account,
    /// Its password's hash, if it has a password.
    pub password_hash: Option<String>,
    /// Its wrong passwords since it last signed in.
    pub failures: Option<crate::password::Failures>,
}

/// A page of accounts (ordered by email) and where the next one starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountPage {
    pub accounts: Vec<Account>,
    /// The cursor of the next page: the email of the last account on this one.
    pub next: Option<String>,
}

/// What a write guarded by a condition did. `Lost` means the condition did not hold (someone
/// else wrote first, or the thing is not in the state the caller read); nothing was written,
/// and the use case decides what that means.
#[must_use = "a lost write changed nothing; decide what that means"]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Done,
    Lost,
}

/// Accounts read: by id, by email, a page at a time (A1).
pub trait AccountDirectory {
    /// The account with this id (a consistent read).
    fn account(
        &self,
        id: Uuid,
    ) -> impl Future<Output = Result<Option<StoredAccount>, AuthError>> + Send;
    /// The account with this (normalised) email.
    fn account_by_email(
        &self,
        email: &str,
    ) -> impl Future<Output = Result<Option<StoredAccount>, AuthError>> + Send;
    /// Accounts ordered by email, `limit` at a time, after the account with email
    /// `after_email` (a cursor of a previous page; an unknown one is `Invalid`).
    fn accounts(
        &self,
        limit: i32,
        after_email: Option<&str>,
    ) -> impl Future<Output = Result<AccountPage, AuthError>> + Send;
}

/// Accounts opened and changed, each with its event (A1).
pub trait AccountAdministration {
    /// Stores a new account with its event. `Lost` when the email or the id belongs to an
    /// account already.
    fn create_account(
        &self,
        account: &Account,
        password_hash: Option<&str>,
        event: &Envelope,
    ) -> impl Future<Output = Result<Written, AuthError>> + Send;
    /// Stores a changed account with its event, if it is still at the revision before
    /// `account.revision`; `Lost` when someone changed it meanwhile (or it does not exist).
    fn save_account(
        &self,
        account: &Account,
        event: &Envelope,
    ) -> impl Future<Output = Result<Written, AuthError>> + Send;
}

/// Sessions: started at a sign-in, their refresh tokens rotated, ended (A2, A3).
pub trait Sessions {
    /// A sign-in: a new, active session and its first refresh token, together.
    fn start_session(
        &self,
        token: &RefreshToken,
        now: i64,
    ) -> impl Future<Output = Result<(), AuthError>> + Send;
    /// In one atomic step: uses up `old` (if it is active, unexpired and the account's), stores
    /// `new`, its successor, and keeps their session alive (if it is active). `Lost` when any
    /// of that does not hold; then nothing changed.
    fn rotate_refresh_token(
        &self,
        old: &RefreshToken,
        new: &RefreshToken,
        now: i64,
    ) -> impl Future<Output = Result<Written, AuthError>> + Send;
    /// Whether this exact token was issued in its session and has been used up by a refresh.
    fn refresh_token_used(
        &self,
        token: &RefreshToken,
    ) -> impl Future<Output = Result<bool, AuthError>> + Send;
    /// Ends the session of `token` (if it is the account's), so no token of it refreshes again.
    fn end_session(
        &self,
        token: &RefreshToken,
    ) -> impl Future<Output = Result<(), AuthError>> + Send;
    /// Revokes `token` and ends its session, both or neither. `Lost` when the token is unknown
    /// or not of its claimed account and session.
    fn sign_out(
        &self,
        token: &RefreshToken,
    ) -> impl Future<Output = Result<Written, AuthError>> + Send;
}

/// A password sign-in's credentials and its failures (A2).
pub trait Passwords {
    /// What a password sign-in needs of the account with this (normalised) email, read
    /// consistently: the account, its password hash (kept apart from the account, in a
    /// partition only creating an account and signing in with a password touch) and its wrong
    /// passwords. `None` when no account has the email.
    fn credentials(
        &self,
        email: &str,
    ) -> impl Future<Output = Result<Option<Credentials>, AuthError>> + Send;
    /// Counts one wrong password for an account, atomically.
    fn count_password_failure(
        &self,
        account: Uuid,
        at: i64,
    ) -> impl Future<Output = Result<(), AuthError>> + Send;
    /// Forgets an account's wrong passwords (it signed in).
    fn clear_password_failures(
        &self,
        account: Uuid,
    ) -> impl Future<Output = Result<(), AuthError>> + Send;
}

/// One-time codes: issued, guessed, spent (A4).
pub trait Challenges {
    /// The pending one-time code of an email (a consistent read).
    fn challenge(
        &self,
        email: &str,
    ) -> impl Future<Output = Result<Option<Challenge>, AuthError>> + Send;
    /// Stores a challenge's code if it is still at `challenge.version - 1` (absent, for
    /// version 1); `Lost` when someone changed it since. The address's wrong guesses
    /// (`challenge.wrong`) are left as stored: a new code does not reset them.
    fn save_challenge(
        &self,
        email: &str,
        challenge: &Challenge,
    ) -> impl Future<Output = Result<Written, AuthError>> + Send;
    /// Counts one guess at the challenge's code, atomically, if the code is still the one read
    /// and has guesses left; `Lost` otherwise. Concurrent guesses each take one: none is lost.
    fn take_guess(
        &self,
        email: &str,
        challenge: &Challenge,
    ) -> impl Future<Output = Result<Written, AuthError>> + Send;
    /// Counts one wrong guess at an address's codes, atomically (concurrent ones each count),
    /// at `at`. Wrong guesses forgotten by then (`WrongGuesses::counted`) start afresh. `seen`
    /// is what the caller read (a hint of which write will hold; any outcome is counted right).
    fn count_wrong_guess(
        &self,
        email: &str,
        seen: &crate::challenge::WrongGuesses,
        at: i64,
    ) -> impl Future<Output = Result<(), AuthError>> + Send;
    /// Marks the code spent if the challenge is still the one that was guessed (its version),
    /// so a code signs in once, and clears the address's wrong guesses; `Lost` otherwise.
    fn spend_challenge(
        &self,
        email: &str,
        challenge: &Challenge,
    ) -> impl Future<Output = Result<Written, AuthError>> + Send;
}

/// Auth's state: accounts, the sessions of sign-ins with their refresh tokens, and the pending
/// one-time codes; every port above, and the accounts as the caller check reads them. Every write
/// that changes an account also commits its event (the outbox), in the same atomic step. A use
/// case asks only for the ports it uses; the handlers and the binaries hold a whole store.
///
/// The futures are `Send` because a Lambda handler's future is.
///
/// Each store says it is one, so a store that lacks a port fails where it is defined.
pub trait AuthStore:
    AccountCopies + AccountDirectory + AccountAdministration + Sessions + Passwords + Challenges
{
}

/// Sends a plain-text mail to one address.
pub trait Mailer: Sync {
    fn send(
        &self,
        to: &str,
        subject: &str,
        text: &str,
    ) -> impl Future<Output = Result<(), AuthError>> + Send;
}
