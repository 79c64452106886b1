//! The use cases of auth, one function per command or query: each reads what it needs through
//! the ports, decides with the domain, builds its events, commits, and says what a lost
//! conditional write means. Nothing here knows HTTP or AWS. Account administration first makes
//! an [`Admin`] (the kernel's `Capability<Admins>`) from the caller's account, so none of it runs
//! for anyone else; the
//! operator's bootstrap, which no token reaches, opens its account through the same private
//! step as [`create_account`] rather than through a forged proof.

use ates_kernel::contracts::hiring::{decode_application_accepted, ApplicationAccepted};
use ates_kernel::event::DomainEvent;
use ates_kernel::event::{Cause, Envelope};
use ates_kernel::identity::{Capability, Claims, Rights, Role};
use ates_kernel::inbox::{ConsumeError, Outcome};
use ates_kernel::usecase::Failure;
use ates_kernel::usecase::{execute, Attempt};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::account::{
    normalize_email, Account, AccountChange, AccountCreated, AccountDeactivated, AccountUpdated,
    NewAccount,
};
use crate::challenge::{self, Guess};
use crate::error::AuthError;
use crate::issuer::{Issuer, RefreshToken, TokenPair};
use crate::password;
use crate::ports::{
    AccountAdministration, AccountDirectory, AccountPage, Challenges, Mailer, Passwords, Sessions,
    Written,
};
use crate::PRODUCER;
use ates_kernel::identity::AccountCopies;

/// Who administers accounts (SPEC A1): admins only.
#[derive(Debug)]
pub struct Admins;

impl Rights for Admins {
    const ROLES: &'static [Role] = &[Role::Admin];
}

/// Proof that the caller is an admin, made from their account as it is now
/// (`Claims::may`): the account administration use cases ask for one first.
pub type Admin = Capability<Admins>;

/// `sign in` with email and password (SPEC A2): a new session and its first token pair.
pub async fn sign_in(
    store: &(impl Passwords + Sessions),
    issuer: &Issuer,
    email: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<TokenPair, AuthError> {
    let email = normalize_email(email)?;
    let credentials = store.credentials(&email).await?;
    let Some((account, hash, failures)) =
        credentials.and_then(|c| Some((c.account, c.password_hash?, c.failures)))
    else {
        // As slow as a real check, so the answer does not tell who has an account.
        password::verify_nothing(password);
        return Err(AuthError::WrongCredentials);
    };
    // Checked before the (deliberately slow) hash: an account under a guessing attack costs
    // the attacker a growing wait, and us no CPU.
    if let Some(failures) = failures {
        let wait = failures.waits_until() - now.timestamp();
        if wait > 0 {
            return Err(AuthError::TooMany(format!(
                "too many wrong passwords; try again in {wait} s or sign in with a mailed code"
            )));
        }
    }
    if !password::verify(password, &hash) {
        store
            .count_password_failure(account.account_id, now.timestamp())
            .await?;
        return Err(AuthError::WrongCredentials);
    }
    // The same answer as a wrong password: a deactivated account's password is not confirmed.
    if !account.active {
        return Err(AuthError::WrongCredentials);
    }
    if failures.is_some() {
        store.clear_password_failures(account.account_id).await?;
    }
    let pair = start_session(store, issuer, &account, now).await?;
    tracing::info!(account_id = %account.account_id, "signed in with a password");
    Ok(pair)
}

/// `refresh`: the presented token is used up and the next pair of its session answered.
/// A token that was used already was copied: its session ends, and with it whatever token was
/// minted after it, so a thief's successors die with the stolen token.
pub async fn refresh(
    store: &(impl AccountDirectory + Sessions),
    issuer: &Issuer,
    refresh_token: &str,
    now: DateTime<Utc>,
) -> Result<TokenPair, AuthError> {
    let old = RefreshToken::parse(refresh_token).ok_or(AuthError::BadRefreshToken)?;
    let account = store
        .account(old.account_id)
        .await?
        .ok_or(AuthError::BadRefreshToken)?
        .account;
    if !account.active {
        return Err(AuthError::Deactivated);
    }
    let now = now.timestamp();
    let new = old.next();
    if store.rotate_refresh_token(&old, &new, now).await? == Written::Lost {
        if store.refresh_token_used(&old).await? {
            tracing::warn!(account_id = %old.account_id, session_id = %old.session_id, "a used refresh token came back: the session is revoked");
            store.end_session(&old).await?;
        }
        return Err(AuthError::BadRefreshToken);
    }
    token_pair(issuer, &account, &new, now)
}

/// `sign out`: revokes the refresh token and ends its session, so no token of that sign-in
/// refreshes again. Repeating it, or an unknown token, is harmless.
pub async fn sign_out(store: &impl Sessions, refresh_token: &str) -> Result<(), AuthError> {
    if let Some(token) = RefreshToken::parse(refresh_token) {
        // Lost: an unknown token, or one of another session; there is nothing to end.
        let _ = store.sign_out(&token).await?;
    }
    Ok(())
}

/// How long `request a code` takes to answer when paced ([`request_code_paced`]), whatever the
/// address: longer than a mail takes to send, so the answer's timing says nothing of who has an
/// account.
pub const CODE_REQUEST_TIME: std::time::Duration = std::time::Duration::from_secs(1);

/// `request a code` (SPEC A3): mails a one-time code to an active account's address. It
/// answers alike whether or not the address belongs to an account, so it cannot be used to
/// find out who works here: the rate limit counts every address, and a mail that could not be
/// sent is logged, not answered (only real accounts are mailed, so a failure would tell).
pub async fn request_code(
    store: &(impl AccountDirectory + Challenges),
    mailer: &impl Mailer,
    email: &str,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    let email = normalize_email(email)?;
    let previous = store.challenge(&email).await?;
    let (challenge, code) = challenge::issue(
        &email,
        previous.as_ref(),
        now.timestamp(),
        &mut rand::thread_rng(),
    )?;
    if store.save_challenge(&email, &challenge).await? == Written::Lost {
        // Retrying would bypass the limit just judged; the caller asks again later.
        return Err(AuthError::TooMany(
            "another code was requested at the same moment".into(),
        ));
    }
    if let Some(stored) = store
        .account_by_email(&email)
        .await?
        .filter(|s| s.account.active)
    {
        let minutes = challenge::CODE_LIFETIME_SECONDS / 60;
        let text = format!(
            "Hello {},\n\nyour aTES sign-in code is {code}. It works once, for {minutes} minutes.\n\nIf you did not ask for it, ignore this mail.\n",
            stored.account.full_name
        );
        let account_id = stored.account.account_id;
        match mailer.send(&email, "Your aTES sign-in code", &text).await {
            Ok(()) => tracing::info!(%account_id, "sign-in code mailed"),
            Err(e) => tracing::error!(%account_id, "sign-in code not mailed: {e}"),
        }
    }
    Ok(())
}

/// [`request_code`], answered exactly `time` after it was asked: never sooner, and never
/// later (what is still running then, a slow mail say, is cut off and the request answered as
/// done), so known and unknown addresses take the same time.
pub async fn request_code_paced(
    store: &(impl AccountDirectory + Challenges),
    mailer: &impl Mailer,
    email: &str,
    now: DateTime<Utc>,
    time: std::time::Duration,
) -> Result<(), AuthError> {
    let deadline = tokio::time::Instant::now() + time;
    let outcome = tokio::time::timeout_at(deadline, request_code(store, mailer, email, now)).await;
    tokio::time::sleep_until(deadline).await;
    outcome.unwrap_or_else(|_| {
        tracing::warn!("a code request was cut off after {time:?}");
        Ok(())
    })
}

/// `sign in with a code`: the right, unexpired code of an email signs in once. Every guess is
/// bounded twice: by its code (a few guesses each) and by the address, whose wrong guesses over
/// all its codes cost a growing wait once the free ones are used up.
pub async fn sign_in_with_code(
    store: &(impl AccountDirectory + Challenges + Sessions),
    issuer: &Issuer,
    email: &str,
    code: &str,
    now: DateTime<Utc>,
) -> Result<TokenPair, AuthError> {
    let email = normalize_email(email)?;
    let challenge = store.challenge(&email).await?.ok_or(AuthError::BadCode)?;
    // Before the code is even looked at: an address under a guessing attack takes no guess
    // until its wait is over, the right code included.
    if let Some(until) = challenge.wrong.waits_until(now.timestamp()) {
        return Err(AuthError::TooMany(format!(
            "too many wrong codes for this address; try again in {} s",
            until - now.timestamp()
        )));
    }
    let verdict = challenge::guess(&challenge, &email, code, now.timestamp());
    if verdict == Guess::Spent {
        return Err(AuthError::BadCode);
    }
    // Every guess is counted, atomically, before it is judged: concurrent guesses each take
    // one of the code's guesses, and with none left, even the right code is refused.
    if store.take_guess(&email, &challenge).await? == Written::Lost {
        return Err(AuthError::BadCode);
    }
    if verdict == Guess::Wrong {
        store
            .count_wrong_guess(&email, &challenge.wrong, now.timestamp())
            .await?;
        return Err(AuthError::BadCode);
    }
    // Lost: another sign-in spent the code (or a new one was sent) meanwhile.
    if store.spend_challenge(&email, &challenge).await? == Written::Lost {
        return Err(AuthError::BadCode);
    }
    let account = store
        .account_by_email(&email)
        .await?
        .ok_or(AuthError::BadCode)?
        .account;
    if !account.active {
        return Err(AuthError::Deactivated);
    }
    let pair = start_session(store, issuer, &account, now).await?;
    tracing::info!(account_id = %account.account_id, "signed in with a one-time code");
    Ok(pair)
}

async fn start_session(
    store: &impl Sessions,
    issuer: &Issuer,
    account: &Account,
    now: DateTime<Utc>,
) -> Result<TokenPair, AuthError> {
    let now = now.timestamp();
    let refresh = RefreshToken::start_session(account.account_id);
    store.start_session(&refresh, now).await?;
    token_pair(issuer, account, &refresh, now)
}

fn token_pair(
    issuer: &Issuer,
    account: &Account,
    refresh: &RefreshToken,
    now: i64,
) -> Result<TokenPair, AuthError> {
    let access = issuer.access_token(account, now)?;
    Ok(TokenPair::new(access, refresh, account))
}

/// `me`: the signed-in account.
pub async fn me(
    store: &(impl AccountCopies + AccountDirectory),
    me: &Claims,
) -> Result<Account, AuthError> {
    // The token's account, read alongside the check that it may still sign in.
    let mine = store.account(me.account_id);
    let (_, mine) = me.caller_and(store, mine).await?;
    Ok(mine.ok_or(AuthError::UnknownAccount)?.account)
}

/// The page size of [`list_accounts`] when none is asked for, and the largest one.
pub const DEFAULT_PAGE: i32 = 50;
pub const MAX_PAGE: i32 = 100;

/// `list accounts` (admins): ordered by email, a page at a time.
pub async fn list_accounts(
    store: &(impl AccountCopies + AccountDirectory),
    caller: &Claims,
    limit: Option<i32>,
    cursor: Option<&str>,
) -> Result<AccountPage, AuthError> {
    let _admin: Admin = caller.may(store).await?;
    let limit = limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(AuthError::Invalid(format!("limit must be 1 to {MAX_PAGE}")));
    }
    store.accounts(limit, cursor).await
}

/// `create an account` (admins, SPEC A1): an active account and its `Account.Created`, unless
/// the email belongs to an account already.
pub async fn create_account(
    store: &(impl AccountAdministration + AccountCopies),
    caller: &Claims,
    new: &NewAccount,
    cause: &Cause,
    now: DateTime<Utc>,
) -> Result<Account, AuthError> {
    let _admin: Admin = caller.may(store).await?;
    open_account(store, new, cause, now).await
}

/// Opens an account: what an admin's [`create_account`] does, and the operator's
/// [`bootstrap_admin`] (no caller, so no proof to ask for).
async fn open_account(
    store: &impl AccountAdministration,
    new: &NewAccount,
    cause: &Cause,
    now: DateTime<Utc>,
) -> Result<Account, AuthError> {
    let account = Account::open(new, now)?;
    let hash = match &new.password {
        Some(p) => {
            password::check_strength(p, &account.email)?;
            Some(password::hash(p)?)
        }
        None => None,
    };
    let event = Envelope::wrap(PRODUCER, &AccountCreated(account.snapshot()), cause, now)?;
    // Lost: the email item exists; an email belongs to one account.
    if store
        .create_account(&account, hash.as_deref(), &event)
        .await?
        == Written::Lost
    {
        return Err(AuthError::EmailTaken);
    }
    tracing::info!(account_id = %account.account_id, role = %account.role, "account created");
    Ok(account)
}

/// M1: an accepted application (`Application.Accepted`) opens its account, once. Its id is the
/// one hiring derived from the application, so every delivery names the same account: a later
/// one finds it and changes nothing, and one racing the first loses the commit, reads again and
/// finds it. An address with another account keeps that one (one account per address; hiring
/// accepts no address it knows an account of, so this is a race): nothing is opened, and it is
/// logged and counted for an operator. Hiring's other events open nothing.
pub async fn open_hired_account(
    store: &(impl AccountDirectory + AccountAdministration),
    event: &Envelope,
    now: DateTime<Utc>,
) -> Result<Outcome, ConsumeError> {
    if event.name != ApplicationAccepted::NAME {
        return Ok(Outcome::NotConcerned);
    }
    let unprocessable = |e: &dyn std::fmt::Display| ConsumeError::Poison(e.to_string());
    let accepted = decode_application_accepted(event).map_err(|e| unprocessable(&e))?;
    let account = Account::hired(&accepted).map_err(|e| unprocessable(&e))?;
    let created = Envelope::wrap(
        PRODUCER,
        &AccountCreated(account.snapshot()),
        &Cause::event(event),
        now,
    )
    .map_err(|e| unprocessable(&e))?;
    let retry = |e: AuthError| ConsumeError::Retry(e.to_string());
    execute(|| async {
        if store.account(account.account_id).await.map_err(retry)?.is_some() {
            return Ok(Attempt::Done(Outcome::Duplicate));
        }
        if let Some(other) = store
            .account_by_email(&account.email)
            .await
            .map_err(retry)?
        {
            tracing::warn!(application_id = %accepted.application_id, existing = %other.account.account_id, "an accepted application's address has an account already: none opened");
            ates_kernel::metrics::count("HiresNotOpened", 1);
            return Ok(Attempt::Done(Outcome::NotConcerned));
        }
        // Lost: the id or the address was taken meanwhile; the next try reads which.
        Ok(
            match store
                .create_account(&account, None, &created)
                .await
                .map_err(retry)?
            {
                Written::Done => {
                    tracing::info!(account_id = %account.account_id, role = %account.role, application_id = %accepted.application_id, "account opened for an accepted application");
                    Attempt::Done(Outcome::Applied)
                }
                Written::Lost => Attempt::Lost,
            },
        )
    })
    .await
}

/// `update an account` (admins): name and/or role, with `Account.Updated`. A change that
/// changes nothing answers the account as it is and publishes nothing.
pub async fn update_account(
    store: &(impl AccountAdministration + AccountCopies + AccountDirectory),
    caller: &Claims,
    account_id: Uuid,
    change: &AccountChange,
    cause: &Cause,
    now: DateTime<Utc>,
) -> Result<Account, AuthError> {
    // The caller check alongside the first read: one round trip, not two in a row.
    let current = store.account(account_id);
    let (_admin, current): (Admin, _) = caller.may_and(store, current).await?;
    let current = current.ok_or(AuthError::UnknownAccount)?.account;
    let Some(changed) = current.change(change)? else {
        return Ok(current);
    };
    let event = Envelope::wrap(PRODUCER, &AccountUpdated(changed.snapshot()), cause, now)?;
    save(store, &changed, &event).await?;
    tracing::info!(account_id = %account_id, revision = changed.revision, "account updated");
    Ok(changed)
}

/// `deactivate an account` (admins), with `Account.Deactivated`: it can no longer sign in and
/// its refresh tokens stop working. Repeating it is harmless; nobody deactivates themselves
/// (the admin is the one the proof admitted).
pub async fn deactivate_account(
    store: &(impl AccountAdministration + AccountCopies + AccountDirectory),
    caller: &Claims,
    account_id: Uuid,
    cause: &Cause,
    now: DateTime<Utc>,
) -> Result<Account, AuthError> {
    let current = store.account(account_id);
    let (admin, current): (Admin, _) = caller.may_and(store, current).await?;
    let current = current.ok_or(AuthError::UnknownAccount)?.account;
    let Some(deactivated) = current.deactivate(admin.account_id())? else {
        return Ok(current);
    };
    let event = Envelope::wrap(
        PRODUCER,
        &AccountDeactivated(deactivated.snapshot()),
        cause,
        now,
    )?;
    save(store, &deactivated, &event).await?;
    tracing::info!(account_id = %account_id, "account deactivated");
    Ok(deactivated)
}

/// Commits a changed account. Lost: another admin changed it since it was read; the change was
/// decided on what they overwrote, so the caller reloads rather than this retrying blindly.
async fn save(
    store: &impl AccountAdministration,
    account: &Account,
    event: &Envelope,
) -> Result<(), AuthError> {
    match store.save_account(account, event).await? {
        Written::Done => Ok(()),
        Written::Lost => Err(AuthError::Failed(Failure::ChangedMeanwhile)),
    }
}

/// The input of the bootstrap (SPEC A5), invoked by an operator, not over HTTP.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BootstrapAdmin {
    pub email: String,
    #[serde(default = "default_admin_name")]
    pub full_name: String,
    /// Local use only: refused unless the deployment allows it (`BootstrapAdminPassword`);
    /// in production the admin signs in with a mailed code.
    #[serde(default)]
    pub password: Option<String>,
    /// Add an admin although one exists already (an operator's explicit choice).
    #[serde(default)]
    pub force: bool,
}

fn default_admin_name() -> String {
    "Administrator".to_owned()
}

/// What the bootstrap did: created the admin, or found the email taken already.
#[derive(Debug, Serialize)]
pub struct Bootstrapped {
    pub created: bool,
    pub account: Account,
}

/// `bootstrap the first admin`: creates an admin, once. Run again for the same email it answers
/// that admin; for another email it refuses while an admin exists (unless `force`), so the
/// function cannot be used to mint admins. A password only where `passwords_allowed` (locally).
pub async fn bootstrap_admin(
    store: &(impl AccountAdministration + AccountDirectory),
    input: BootstrapAdmin,
    passwords_allowed: bool,
    now: DateTime<Utc>,
) -> Result<Bootstrapped, AuthError> {
    let email = normalize_email(&input.email)?;
    if let Some(existing) = store.account_by_email(&email).await? {
        return Ok(Bootstrapped {
            created: false,
            account: existing.account,
        });
    }
    if input.password.is_some() && !passwords_allowed {
        return Err(AuthError::Invalid(
            "no password here: the admin signs in with a mailed code".into(),
        ));
    }
    if !input.force && an_admin_exists(store).await? {
        return Err(AuthError::NotAllowed(
            "an admin exists already; admins add admins (or pass force: true)".into(),
        ));
    }
    let new = NewAccount {
        email,
        full_name: input.full_name,
        role: Role::Admin,
        password: input.password,
    };
    let cause = Cause::request(format!("bootstrap-{}", Uuid::new_v4()));
    let account = open_account(store, &new, &cause, now).await?;
    Ok(Bootstrapped {
        created: true,
        account,
    })
}

/// Whether any account is an admin: the accounts a page at a time (bootstrapping is rare).
async fn an_admin_exists(store: &impl AccountDirectory) -> Result<bool, AuthError> {
    let mut after: Option<String> = None;
    loop {
        let page = store.accounts(100, after.as_deref()).await?;
        if page.accounts.iter().any(|a| a.role == Role::Admin) {
            return Ok(true);
        }
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(false),
        }
    }
}

#[cfg(test)]
mod tests;
