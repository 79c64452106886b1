//! The DynamoDB adapter of [`AuthStore`]: the auth table. Items, all keyed by `pk`/`sk`:
//! - `ACCOUNT#<id>` / `ACCOUNT`: the account and its password hash; `gsi1pk = ACCOUNTS` lists them;
//! - `EMAIL#<email>` / `EMAIL`: makes emails unique and finds an account by email;
//! - `SESSION#<id>` / `SESSION`: a sign-in's session, the family of its refresh tokens
//!   (`active` or `revoked`);
//! - `REFRESH#<sha256>` / `REFRESH`: a refresh token of a session (`active`, `used` or `revoked`);
//! - `CODE#<email>` / `CODE`: the pending one-time code of an email;
//! - `OUTBOX#<event id>` / `OUTBOX`: events, written with the change that caused them.

use std::collections::HashMap;

use ates_kernel::dynamo::{
    get_bool, get_n, get_s, key, n, opt_s, put, s, transact, update, Item, StoreError,
};
use ates_kernel::event::Envelope;
use ates_kernel::identity::Role;
use ates_kernel::outbox;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use uuid::Uuid;

use crate::account::Account;
use crate::challenge::Challenge;
use crate::error::AuthError;
use crate::issuer::{RefreshToken, REFRESH_TOKEN_SECONDS};
use crate::ports::{AccountPage, AuthStore, StoredAccount, Written};

#[derive(Clone)]
pub struct Store {
    db: aws_sdk_dynamodb::Client,
    table: String,
}

fn account_pk(id: Uuid) -> String {
    format!("ACCOUNT#{id}")
}

impl Store {
    pub fn new(config: &aws_config::SdkConfig, table: String) -> Store {
        Store {
            db: aws_sdk_dynamodb::Client::new(config),
            table,
        }
    }

    pub fn from_env(
        config: &aws_config::SdkConfig,
    ) -> Result<Store, ates_kernel::config::MissingVariable> {
        Ok(Store::new(
            config,
            ates_kernel::config::required("TABLE_NAME")?,
        ))
    }

    fn account_item(&self, account: &Account, password_hash: Option<&str>) -> Item {
        let mut item = key(account_pk(account.account_id), "ACCOUNT");
        item.extend([
            ("account_id".to_owned(), s(account.account_id.to_string())),
            ("email".to_owned(), s(&account.email)),
            ("full_name".to_owned(), s(&account.full_name)),
            ("role".to_owned(), s(account.role.as_str())),
            ("active".to_owned(), AttributeValue::Bool(account.active)),
            ("revision".to_owned(), n(account.revision)),
            ("created_at".to_owned(), s(account.created_at.to_rfc3339())),
            ("gsi1pk".to_owned(), s("ACCOUNTS")),
            ("gsi1sk".to_owned(), s(&account.email)),
        ]);
        if let Some(hash) = password_hash {
            item.insert("password_hash".to_owned(), s(hash));
        }
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

impl AuthStore for Store {
    async fn create_account(
        &self,
        account: &Account,
        password_hash: Option<&str>,
        event: &Envelope,
    ) -> Result<Written, AuthError> {
        let mut email = key(format!("EMAIL#{}", account.email), "EMAIL");
        email.insert("account_id".to_owned(), s(account.account_id.to_string()));
        let items = vec![
            put(
                &self.table,
                self.account_item(account, password_hash),
                "attribute_not_exists(pk)",
            ),
            put(&self.table, email, "attribute_not_exists(pk)"),
            outbox::record(&self.table, event),
        ];
        match transact(&self.db, items).await? {
            Ok(()) => Ok(Written::Done),
            Err(c) if c.failed_at(1) => Ok(Written::Lost),
            Err(c) => Err(StoreError::from(c).into()),
        }
    }

    async fn save_account(
        &self,
        account: &Account,
        event: &Envelope,
    ) -> Result<Written, AuthError> {
        let update = Update::builder()
            .table_name(&self.table)
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
        let items = vec![
            TransactWriteItem::builder().update(update).build(),
            outbox::record(&self.table, event),
        ];
        match transact(&self.db, items).await? {
            Ok(()) => Ok(Written::Done),
            Err(c) if c.failed_at(0) => Ok(Written::Lost),
            Err(c) => Err(StoreError::from(c).into()),
        }
    }

    async fn account(&self, id: Uuid) -> Result<Option<StoredAccount>, AuthError> {
        let out = self
            .db
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(account_pk(id), "ACCOUNT")))
            .consistent_read(true)
            .send()
            .await
            .map_err(StoreError::from)?;
        out.item().map(read_account).transpose()
    }

    async fn account_by_email(&self, email: &str) -> Result<Option<StoredAccount>, AuthError> {
        let out = self
            .db
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("EMAIL#{email}"), "EMAIL")))
            .send()
            .await
            .map_err(StoreError::from)?;
        let Some(item) = out.item() else {
            return Ok(None);
        };
        let id = Uuid::parse_str(get_s(item, "account_id")?)
            .map_err(|e| StoreError::Malformed(e.to_string()))?;
        self.account(id).await
    }

    async fn accounts(
        &self,
        limit: i32,
        after_email: Option<&str>,
    ) -> Result<AccountPage, AuthError> {
        let mut query = self
            .db
            .query()
            .table_name(&self.table)
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
            .map(|i| read_account(i).map(|a| a.account))
            .collect::<Result<Vec<_>, _>>()?;
        let next = out
            .last_evaluated_key()
            .and_then(|k| opt_s(k, "gsi1sk"))
            .map(str::to_owned);
        Ok(AccountPage { accounts, next })
    }

    async fn start_session(&self, token: &RefreshToken, now: i64) -> Result<(), AuthError> {
        let mut session = key(format!("SESSION#{}", token.session_id), "SESSION");
        session.extend([
            ("account_id".to_owned(), s(token.account_id.to_string())),
            ("state".to_owned(), s("active")),
            ("started_at".to_owned(), n(now)),
            ("ttl".to_owned(), n(now + REFRESH_TOKEN_SECONDS)),
        ]);
        let items = vec![
            put(&self.table, session, "attribute_not_exists(pk)"),
            put(
                &self.table,
                self.refresh_item(token, now),
                "attribute_not_exists(pk)",
            ),
        ];
        transact(&self.db, items).await?.map_err(StoreError::from)?;
        Ok(())
    }

    async fn rotate_refresh_token(
        &self,
        old: &RefreshToken,
        new: &RefreshToken,
        now: i64,
    ) -> Result<Written, AuthError> {
        let spend = Update::builder()
            .table_name(&self.table)
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
            .table_name(&self.table)
            .set_key(Some(session_key(old)))
            .update_expression("SET #ttl = :ttl")
            .condition_expression("#state = :active AND account_id = :account")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":ttl", n(now + REFRESH_TOKEN_SECONDS))
            .expression_attribute_values(":active", s("active"))
            .expression_attribute_values(":account", s(old.account_id.to_string()));
        let items = vec![
            update(spend),
            put(
                &self.table,
                self.refresh_item(new, now),
                "attribute_not_exists(pk)",
            ),
            update(keep_session),
        ];
        match transact(&self.db, items).await? {
            Ok(()) => Ok(Written::Done),
            Err(c) if c.any_failed() => Ok(Written::Lost),
            Err(c) => Err(StoreError::from(c).into()),
        }
    }

    async fn refresh_token_used(&self, token: &RefreshToken) -> Result<bool, AuthError> {
        let out = self
            .db
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("REFRESH#{}", token.hash), "REFRESH")))
            .consistent_read(true)
            .send()
            .await
            .map_err(StoreError::from)?;
        Ok(out
            .item()
            .filter(|item| opt_s(item, "session_id") == Some(&token.session_id.to_string()))
            .and_then(|item| opt_s(item, "state"))
            == Some("used"))
    }

    async fn end_session(&self, token: &RefreshToken) -> Result<(), AuthError> {
        let result = self
            .db
            .update_item()
            .table_name(&self.table)
            .set_key(Some(session_key(token)))
            .update_expression("SET #state = :revoked")
            .condition_expression("account_id = :account")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":revoked", s("revoked"))
            .expression_attribute_values(":account", s(token.account_id.to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Not the account's session, or no session: nothing to end.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(StoreError::from(e).into()),
        }
    }

    async fn sign_out(&self, token: &RefreshToken) -> Result<Written, AuthError> {
        let revoke = |key: Item| {
            Update::builder()
                .table_name(&self.table)
                .set_key(Some(key))
                .update_expression("SET #state = :revoked")
                .expression_attribute_names("#state", "state")
                .expression_attribute_values(":revoked", s("revoked"))
                .expression_attribute_values(":account", s(token.account_id.to_string()))
        };
        let items = vec![
            update(
                revoke(key(format!("REFRESH#{}", token.hash), "REFRESH"))
                    .condition_expression("account_id = :account AND session_id = :session")
                    .expression_attribute_values(":session", s(token.session_id.to_string())),
            ),
            update(revoke(session_key(token)).condition_expression("account_id = :account")),
        ];
        match transact(&self.db, items).await? {
            Ok(()) => Ok(Written::Done),
            Err(c) if c.any_failed() => Ok(Written::Lost),
            Err(c) => Err(StoreError::from(c).into()),
        }
    }

    async fn challenge(&self, email: &str) -> Result<Option<Challenge>, AuthError> {
        let out = self
            .db
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("CODE#{email}"), "CODE")))
            .consistent_read(true)
            .send()
            .await
            .map_err(StoreError::from)?;
        let Some(item) = out.item() else {
            return Ok(None);
        };
        Ok(Some(Challenge {
            code_hash: get_s(item, "code_hash")?.to_owned(),
            expires_at: get_n(item, "expires_at")?,
            guesses: get_n(item, "guesses")?,
            window_started_at: get_n(item, "window_started_at")?,
            codes_in_window: get_n(item, "codes_in_window")?,
            version: get_n(item, "version")?,
        }))
    }

    async fn save_challenge(
        &self,
        email: &str,
        challenge: &Challenge,
    ) -> Result<Written, AuthError> {
        let mut item = key(format!("CODE#{email}"), "CODE");
        item.extend([
            ("code_hash".to_owned(), s(&challenge.code_hash)),
            ("expires_at".to_owned(), n(challenge.expires_at)),
            ("guesses".to_owned(), n(challenge.guesses)),
            (
                "window_started_at".to_owned(),
                n(challenge.window_started_at),
            ),
            ("codes_in_window".to_owned(), n(challenge.codes_in_window)),
            ("version".to_owned(), n(challenge.version)),
            // Kept past expiry for the rate-limit window.
            (
                "ttl".to_owned(),
                n(challenge.window_started_at + 2 * crate::challenge::WINDOW_SECONDS),
            ),
        ]);
        let condition = if challenge.version == 1 {
            "attribute_not_exists(pk)"
        } else {
            "version = :previous"
        };
        let mut request = self
            .db
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition);
        if challenge.version > 1 {
            request = request.expression_attribute_values(":previous", n(challenge.version - 1));
        }
        match request.send().await {
            Ok(_) => Ok(Written::Done),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(Written::Lost)
            }
            Err(e) => Err(StoreError::from(e).into()),
        }
    }

    async fn spend_challenge(
        &self,
        email: &str,
        challenge: &Challenge,
    ) -> Result<Written, AuthError> {
        let result = self
            .db
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("CODE#{email}"), "CODE")))
            .update_expression("SET expires_at = :spent, version = :next")
            .condition_expression("version = :version")
            .expression_attribute_values(":spent", n(0))
            .expression_attribute_values(":next", n(challenge.version + 1))
            .expression_attribute_values(":version", n(challenge.version))
            .send()
            .await;
        match result {
            Ok(_) => Ok(Written::Done),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(Written::Lost)
            }
            Err(e) => Err(StoreError::from(e).into()),
        }
    }
}

fn read_account(item: &Item) -> Result<StoredAccount, AuthError> {
    let malformed = |e: String| AuthError::Store(StoreError::Malformed(e));
    let account = Account {
        account_id: Uuid::parse_str(get_s(item, "account_id")?)
            .map_err(|e| malformed(e.to_string()))?,
        email: get_s(item, "email")?.to_owned(),
        full_name: get_s(item, "full_name")?.to_owned(),
        role: Role::parse(get_s(item, "role")?).ok_or_else(|| malformed("unknown role".into()))?,
        active: get_bool(item, "active")?,
        revision: get_n(item, "revision")?,
        created_at: get_s(item, "created_at")?
            .parse()
            .map_err(|e: chrono::ParseError| malformed(e.to_string()))?,
    };
    Ok(StoredAccount {
        account,
        password_hash: opt_s(item, "password_hash").map(str::to_owned),
    })
}

fn session_key(token: &RefreshToken) -> Item {
    key(format!("SESSION#{}", token.session_id), "SESSION")
}
