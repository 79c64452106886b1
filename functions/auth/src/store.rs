//! The DynamoDB adapter of [`AuthStore`]: the auth table. Items, all keyed by `pk`/`sk`:
//! - `ACCOUNT#<id>` / `ACCOUNT`: the account; `gsi1pk = ACCOUNTS` lists them (accounts created
//!   before `PASSWORD#` existed keep their password hash here);
//! - `PASSWORD#<id>` / `PASSWORD`: the account's password hash, in a partition of its own so
//!   that only the functions that need it may read it (IAM `dynamodb:LeadingKeys`);
//! - `FAILURES#<id>` / `FAILURES`: wrong passwords given for the account;
//! - `EMAIL#<email>` / `EMAIL`: makes emails unique and finds an account by email;
//! - `SESSION#<id>` / `SESSION`: a sign-in's session, the family of its refresh tokens
//!   (`active` or `revoked`);
//! - `REFRESH#<sha256>` / `REFRESH`: a refresh token of a session (`active`, `used` or `revoked`);
//! - `CODE#<email>` / `CODE`: the pending one-time code of an email, and the wrong guesses at
//!   its codes (`failures`, `failed_at`), which outlive each code;
//! - `OUTBOX#<event id>` / `OUTBOX`: events, written with the change that caused them.

use std::collections::HashMap;

use ates_kernel::contracts::accounts::AccountSnapshot;
use ates_kernel::dynamo::{
    from_item, get_s, key, n, opt_s, s, to_item, update, Item, StoreError, Table, Transaction,
};
use ates_kernel::event::Envelope;
use ates_kernel::identity::AccountCopies;
use ates_kernel::outbox;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::account::Account;
use crate::challenge::{Challenge, WrongGuesses, FORGET_AFTER_SECONDS};
use crate::error::AuthError;
use crate::issuer::{RefreshToken, REFRESH_TOKEN_SECONDS};
use crate::ports::{
    AccountAdministration, AccountDirectory, AccountPage, AuthStore, Challenges, Credentials,
    Passwords, Sessions, StoredAccount, Written,
};

pub struct Store {
    table: Table,
}

fn account_pk(id: Uuid) -> String {
    format!("ACCOUNT#{id}")
}

/// An account as stored; a password hash only in accounts stored before hashes moved to
/// `PASSWORD#<id>`.
#[derive(Serialize, Deserialize)]
struct AccountItem {
    #[serde(flatten)]
    account: Account,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    password_hash: Option<String>,
}

impl Store {
    pub fn new(table: Table) -> Store {
        Store { table }
    }

    fn account_item(&self, account: &Account) -> Item {
        let mut item = to_item(&AccountItem {
            account: account.clone(),
            password_hash: None,
        });
        item.extend(key(account_pk(account.account_id), "ACCOUNT"));
        item.extend([
            ("gsi1pk".to_owned(), s("ACCOUNTS")),
            ("gsi1sk".to_owned(), s(&account.email)),
        ]);
        item
    }

    fn refresh_item(&self, token: &RefreshToken, now: i64) -> Item {
        let mut item = key(format!("REFRESH#{}", token.hash), "REFRESH");
        item.extend([
            ("account_id".to_owned(), s(token.account_id.to_string())),
            ("session_id".to_owned(), s(token.session_id.to_string())),
            ("state".to_owned(), s("active")),
            ("expires_at".to_owned(), n(now + REFRESH_TOKEN_SECONDS)),
            ("ttl".to_owned(), n(now + REFRESH_TOKEN_SECONDS)),
        ]);
        item
    }
}

/// Auth keeps the accounts themselves: the caller is checked against the account, not a copy.
impl AuthStore for Store {}

impl AccountCopies for Store {
    async fn account_copy(&self, id: Uuid) -> Result<Option<AccountSnapshot>, StoreError> {
        let item = self.table.get(key(account_pk(id), "ACCOUNT")).await?;
        Ok(item
            .as_ref()
            .map(read_account)
            .transpose()?
            .map(|stored| stored.account.snapshot()))
    }
}

impl AccountDirectory for Store {
    async fn account(&self, id: Uuid) -> Result<Option<StoredAccount>, AuthError> {
        let item = self.table.get(key(account_pk(id), "ACCOUNT")).await?;
        Ok(item.as_ref().map(read_account).transpose()?)
    }

    async fn account_by_email(&self, email: &str) -> Result<Option<StoredAccount>, AuthError> {
        let item = self
            .table
            .get(key(format!("EMAIL#{email}"), "EMAIL"))
            .await?;
        let Some(item) = item else {
            return Ok(None);
        };
        let id = Uuid::parse_str(get_s(&item, "account_id")?)
            .map_err(|e| StoreError::Malformed(e.to_string()))?;
        self.account(id).await
    }

    async fn accounts(
        &self,
        limit: i32,
        after_email: Option<&str>,
    ) -> Result<AccountPage, AuthError> {
        let mut query = self
            .table
            .client()
            .query()
            .table_name(self.table.name())
            .index_name("gsi1")
            .key_condition_expression("gsi1pk = :accounts")
            .expression_attribute_values(":accounts", s("ACCOUNTS"))
            .limit(limit);
        if let Some(email) = after_email {
            let id = self
                .account_by_email(email)
                .await?
                .map(|a| a.account.account_id);
            let Some(id) = id else {
                return Err(AuthError::Invalid("the cursor is not valid".into()));
            };
            query = query.set_exclusive_start_key(Some(HashMap::from([
                ("gsi1pk".to_owned(), s("ACCOUNTS")),
                ("gsi1sk".to_owned(), s(email)),
                ("pk".to_owned(), s(account_pk(id))),
                ("sk".to_owned(), s("ACCOUNT")),
            ])));
        }
        let out = query.send().await.map_err(StoreError::from)?;
        let accounts = out
            .items()
            .iter()
            .map(|i| read_account(i).map(|a| a.account).map_err(AuthError::from))
            .collect::<Result<Vec<_>, _>>()?;
        let next = out
            .last_evaluated_key()
            .and_then(|k| opt_s(k, "gsi1sk"))
            .map(str::to_owned);
        Ok(AccountPage { accounts, next })
    }
}

impl AccountAdministration for Store {
    async fn create_account(
        &self,
        account: &Account,
        password_hash: Option<&str>,
        event: &Envelope,
    ) -> Result<Written, AuthError> {
        let mut email = key(format!("EMAIL#{}", account.email), "EMAIL");
        email.insert("account_id".to_owned(), s(account.account_id.to_string()));
        let mut transaction = Transaction::new()
            .with(
                "account",
                self.table
                    .put(self.account_item(account), "attribute_not_exists(pk)"),
            )
            .with("email", self.table.put(email, "attribute_not_exists(pk)"))
            .with(outbox::OUTBOX, outbox::record(self.table.name(), event));
        if let Some(hash) = password_hash {
            let mut password = password_key(account.account_id);
            password.insert("password_hash".to_owned(), s(hash));
            transaction.add(
                "password",
                self.table.put(password, "attribute_not_exists(pk)"),
            );
        }
        match self.table.transact(transaction).await? {
            Ok(()) => Ok(Written::Done),
            // The address, or the id, has an account already.
            Err(c) if c.failed("email") || c.failed("account") => Ok(Written::Lost),
            Err(c) => Err(StoreError::from(c).into()),
        }
    }

    async fn save_account(
        &self,
        account: &Account,
        event: &Envelope,
    ) -> Result<Written, AuthError> {
        let update = Update::builder()
            .table_name(self.table.name())
            .set_key(Some(key(account_pk(account.account_id), "ACCOUNT")))
            .update_expression(
                "SET full_name = :name, #role = :role, active = :active, revision = :revision",
            )
            .condition_expression("revision = :previous")
            .expression_attribute_names("#role", "role")
            .expression_attribute_values(":name", s(&account.full_name))
            .expression_attribute_values(":role", s(account.role.as_str()))
            .expression_attribute_values(":active", AttributeValue::Bool(account.active))
            .expression_attribute_values(":revision", n(account.revision))
            .expression_attribute_values(":previous", n(account.revision - 1))
            .build()
            .expect("update is complete");
        let transaction = Transaction::new()
            .with(
                "account",
                TransactWriteItem::builder().update(update).build(),
            )
            .with(outbox::OUTBOX, outbox::record(self.table.name(), event));
        match self.table.transact(transaction).await? {
            Ok(()) => Ok(Written::Done),
            Err(c) if c.failed("account") => Ok(Written::Lost),
            Err(c) => Err(StoreError::from(c).into()),
        }
    }
}

impl Sessions for Store {
    async fn start_session(&self, token: &RefreshToken, now: i64) -> Result<(), AuthError> {
        let mut session = key(format!("SESSION#{}", token.session_id), "SESSION");
        session.extend([
            ("account_id".to_owned(), s(token.account_id.to_string())),
            ("state".to_owned(), s("active")),
            ("started_at".to_owned(), n(now)),
            ("ttl".to_owned(), n(now + REFRESH_TOKEN_SECONDS)),
        ]);
        let transaction = Transaction::new()
            .with(
                "session",
                self.table.put(session, "attribute_not_exists(pk)"),
            )
            .with(
                "refresh-token",
                self.table
                    .put(self.refresh_item(token, now), "attribute_not_exists(pk)"),
            );
        self.table
            .transact(transaction)
            .await?
            .map_err(StoreError::from)?;
        Ok(())
    }

    async fn rotate_refresh_token(
        &self,
        old: &RefreshToken,
        new: &RefreshToken,
        now: i64,
    ) -> Result<Written, AuthError> {
        let spend = Update::builder()
            .table_name(self.table.name())
            .set_key(Some(key(format!("REFRESH#{}", old.hash), "REFRESH")))
            .update_expression("SET #state = :used")
            .condition_expression(
                "#state = :active AND expires_at > :now AND account_id = :account",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":used", s("used"))
            .expression_attribute_values(":active", s("active"))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":account", s(old.account_id.to_string()));
        let keep_session = Update::builder()
            .table_name(self.table.name())
            .set_key(Some(session_key(old)))
            .update_expression("SET #ttl = :ttl")
            .condition_expression("#state = :active AND account_id = :account")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":ttl", n(now + REFRESH_TOKEN_SECONDS))
            .expression_attribute_values(":active", s("active"))
            .expression_attribute_values(":account", s(old.account_id.to_string()));
        let transaction = Transaction::new()
            .with("spent-token", update(spend))
            .with(
                "refresh-token",
                self.table
                    .put(self.refresh_item(new, now), "attribute_not_exists(pk)"),
            )
            .with("session", update(keep_session));
        match self.table.transact(transaction).await? {
            Ok(()) => Ok(Written::Done),
            Err(c) if c.any_failed() => Ok(Written::Lost),
            Err(c) => Err(StoreError::from(c).into()),
        }
    }

    async fn refresh_token_used(&self, token: &RefreshToken) -> Result<bool, AuthError> {
        let item = self
            .table
            .get(key(format!("REFRESH#{}", token.hash), "REFRESH"))
            .await?;
        Ok(item
            .as_ref()
            .filter(|item| opt_s(item, "session_id") == Some(&token.session_id.to_string()))
            .and_then(|item| opt_s(item, "state"))
            == Some("used"))
    }

    async fn end_session(&self, token: &RefreshToken) -> Result<(), AuthError> {
        let revoke = self
            .table
            .update(session_key(token))
            .update_expression("SET #state = :revoked")
            .condition_expression("account_id = :account")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":revoked", s("revoked"))
            .expression_attribute_values(":account", s(token.account_id.to_string()));
        // Not the account's session, or no session: nothing to end.
        self.table.update_if(revoke).await?;
        Ok(())
    }

    async fn sign_out(&self, token: &RefreshToken) -> Result<Written, AuthError> {
        let revoke = |key: Item| {
            Update::builder()
                .table_name(self.table.name())
                .set_key(Some(key))
                .update_expression("SET #state = :revoked")
                .expression_attribute_names("#state", "state")
                .expression_attribute_values(":revoked", s("revoked"))
                .expression_attribute_values(":account", s(token.account_id.to_string()))
        };
        let transaction = Transaction::new()
            .with(
                "refresh-token",
                update(
                    revoke(key(format!("REFRESH#{}", token.hash), "REFRESH"))
                        .condition_expression("account_id = :account AND session_id = :session")
                        .expression_attribute_values(":session", s(token.session_id.to_string())),
                ),
            )
            .with(
                "session",
                update(revoke(session_key(token)).condition_expression("account_id = :account")),
            );
        match self.table.transact(transaction).await? {
            Ok(()) => Ok(Written::Done),
            Err(c) if c.any_failed() => Ok(Written::Lost),
            Err(c) => Err(StoreError::from(c).into()),
        }
    }
}

impl Passwords for Store {
    async fn credentials(&self, email: &str) -> Result<Option<Credentials>, AuthError> {
        let Some(item) = self
            .table
            .get(key(format!("EMAIL#{email}"), "EMAIL"))
            .await?
        else {
            return Ok(None);
        };
        let id = Uuid::parse_str(get_s(&item, "account_id")?)
            .map_err(|e| StoreError::Malformed(e.to_string()))?;
        // One read for the three: the account, its password, its wrong passwords.
        let keys = vec![
            key(account_pk(id), "ACCOUNT"),
            password_key(id),
            failures_key(id),
        ];
        let items = self.table.batch_get(keys).await?;
        let with_pk = |pk: &str| items.iter().find(|i| opt_s(i, "pk") == Some(pk));
        let Some(stored) = with_pk(&account_pk(id)).map(read_account).transpose()? else {
            return Ok(None);
        };
        let password_hash = with_pk(&format!("PASSWORD#{id}"))
            .and_then(|i| opt_s(i, "password_hash"))
            .map(str::to_owned)
            .or(stored.password_hash);
        let failures = with_pk(&format!("FAILURES#{id}"))
            .map(from_item::<crate::password::Failures>)
            .transpose()?;
        Ok(Some(Credentials {
            account: stored.account,
            password_hash,
            failures,
        }))
    }

    async fn count_password_failure(&self, account: Uuid, at: i64) -> Result<(), AuthError> {
        let count = self
            .table
            .update(failures_key(account))
            .update_expression("ADD #count :one SET last_at = :at, #ttl = :ttl")
            .expression_attribute_names("#count", "count")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":at", n(at))
            .expression_attribute_values(":ttl", n(at + 24 * 3600));
        self.table.update_if(count).await?;
        Ok(())
    }

    async fn clear_password_failures(&self, account: Uuid) -> Result<(), AuthError> {
        self.table
            .client()
            .delete_item()
            .table_name(self.table.name())
            .set_key(Some(failures_key(account)))
            .send()
            .await
            .map_err(ates_kernel::dynamo::StoreError::from)?;
        Ok(())
    }
}

impl Challenges for Store {
    async fn challenge(&self, email: &str) -> Result<Option<Challenge>, AuthError> {
        Ok(self.table.get_as(challenge_key(email)).await?)
    }

    async fn save_challenge(
        &self,
        email: &str,
        challenge: &Challenge,
    ) -> Result<Written, AuthError> {
        // An update of the code's own attributes: the address's wrong guesses, kept in the same
        // item, are not touched (a put would reset them, and lose any counted meanwhile).
        let mut save = self
            .table
            .update(challenge_key(email))
            .update_expression(
                "SET code_hash = :hash, expires_at = :expires, guesses = :zero, \
                 window_started_at = :window, codes_in_window = :codes, version = :version, \
                 #ttl = :ttl",
            )
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":hash", s(&challenge.code_hash))
            .expression_attribute_values(":expires", n(challenge.expires_at))
            .expression_attribute_values(":zero", n(challenge.guesses))
            .expression_attribute_values(":window", n(challenge.window_started_at))
            .expression_attribute_values(":codes", n(challenge.codes_in_window))
            .expression_attribute_values(":version", n(challenge.version))
            // Kept past expiry for the rate-limit window and the wrong guesses' memory.
            .expression_attribute_values(":ttl", n(challenge.expires_at + FORGET_AFTER_SECONDS));
        save = if challenge.version == 1 {
            save.condition_expression("attribute_not_exists(pk)")
        } else {
            save.condition_expression("version = :previous")
                .expression_attribute_values(":previous", n(challenge.version - 1))
        };
        Ok(written(self.table.update_if(save).await?))
    }

    async fn take_guess(&self, email: &str, challenge: &Challenge) -> Result<Written, AuthError> {
        let guess = self
            .table
            .update(challenge_key(email))
            .update_expression("ADD guesses :one")
            .condition_expression("code_hash = :hash AND guesses < :max")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":hash", s(&challenge.code_hash))
            .expression_attribute_values(":max", n(crate::challenge::MAX_GUESSES));
        Ok(written(self.table.update_if(guess).await?))
    }

    async fn count_wrong_guess(
        &self,
        email: &str,
        seen: &WrongGuesses,
        at: i64,
    ) -> Result<(), AuthError> {
        let forgotten_before = at - FORGET_AFTER_SECONDS;
        let write = |afresh: bool| {
            let update = self
                .table
                .update(challenge_key(email))
                .expression_attribute_names("#ttl", "ttl")
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":zero", n(0))
                .expression_attribute_values(":at", n(at))
                .expression_attribute_values(":forgotten", n(forgotten_before))
                .expression_attribute_values(":ttl", n(at + FORGET_AFTER_SECONDS));
            if afresh {
                update
                    .update_expression("SET failures = :one, failed_at = :at, #ttl = :ttl")
                    .condition_expression(
                        "attribute_exists(pk) AND (attribute_not_exists(failed_at) \
                         OR failed_at <= :forgotten OR failures = :zero)",
                    )
            } else {
                update
                    .update_expression("ADD failures :one SET failed_at = :at, #ttl = :ttl")
                    .condition_expression("failed_at > :forgotten AND failures > :zero")
            }
        };
        // Each is one atomic write: onto wrong guesses that still count, or (when those are
        // forgotten, or there are none) afresh; the one the caller's read makes likely first.
        // Losing both means another guess changed which holds in between: try again. Neither
        // holds when the code's item is gone, and then there is nothing to count.
        let mut afresh = seen.counted(at) == 0;
        for _ in 0..4 {
            if self.table.update_if(write(afresh)).await? {
                return Ok(());
            }
            afresh = !afresh;
        }
        Ok(())
    }

    async fn spend_challenge(
        &self,
        email: &str,
        challenge: &Challenge,
    ) -> Result<Written, AuthError> {
        let spend = self
            .table
            .update(challenge_key(email))
            .update_expression(
                "SET expires_at = :spent, version = :next REMOVE failures, failed_at",
            )
            .condition_expression("version = :version")
            .expression_attribute_values(":spent", n(0))
            .expression_attribute_values(":next", n(challenge.version + 1))
            .expression_attribute_values(":version", n(challenge.version));
        Ok(written(self.table.update_if(spend).await?))
    }
}

fn written(done: bool) -> Written {
    if done {
        Written::Done
    } else {
        Written::Lost
    }
}

fn password_key(account: Uuid) -> Item {
    key(format!("PASSWORD#{account}"), "PASSWORD")
}

fn failures_key(account: Uuid) -> Item {
    key(format!("FAILURES#{account}"), "FAILURES")
}

fn challenge_key(email: &str) -> Item {
    key(format!("CODE#{email}"), "CODE")
}

fn read_account(item: &Item) -> Result<StoredAccount, StoreError> {
    let stored: AccountItem = from_item(item)?;
    Ok(StoredAccount {
        account: stored.account,
        password_hash: stored.password_hash,
    })
}

fn session_key(token: &RefreshToken) -> Item {
    key(format!("SESSION#{}", token.session_id), "SESSION")
}
