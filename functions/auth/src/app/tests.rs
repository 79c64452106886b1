//! The use cases against the in-memory store and a recording mailer: every rule of SPEC A1–A3
//! and A5 that `app` and the domain decide, without an emulator. What DynamoDB itself must do
//! (conditions, transactions, the outbox items) is checked in `tests/flows.rs`.

use ates_kernel::usecase::Failure;
use std::sync::OnceLock;

use crate::account::{AccountChange, NewAccount};
use crate::app::{self, BootstrapAdmin};
use crate::challenge::{
    WrongGuesses, CODE_LIFETIME_SECONDS, FIRST_WAIT_SECONDS, FREE_WRONG_GUESSES,
    MAX_CODES_PER_WINDOW, MAX_GUESSES, MAX_WAIT_SECONDS,
};
use crate::error::AuthError;
use crate::issuer::{Issuer, KeyRing, RefreshToken, TokenPair, AUDIENCE, REFRESH_TOKEN_SECONDS};
use crate::memory::{MemoryStore, RecordingMailer, TokenState};
use ates_kernel::event::Cause;
use ates_kernel::identity::{Claims, Refused};
use ates_kernel::identity::{NotAllowed, Role};
use ates_kernel::testing::claims;
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use uuid::Uuid;

const ISSUER: &str = "https://ates.test";
const PASSWORD: &str = "kiwi-secret-pass";

/// One signing key for the whole test binary: making RSA keys is slow.
fn keys() -> KeyRing {
    static KEY: OnceLock<String> = OnceLock::new();
    let json = KEY.get_or_init(ates_kernel::testing::signing_key_json);
    KeyRing::parse(json).unwrap()
}

fn issuer() -> Issuer {
    Issuer::with_keys(ISSUER.into(), keys()).unwrap()
}

/// An admin's proof, as the HTTP edge makes it from the caller.
fn admin() -> Claims {
    claims(Uuid::now_v7(), Role::Admin)
}

fn cause() -> Cause {
    Cause::request("use-case-test")
}

struct Auth {
    store: MemoryStore,
    mailer: RecordingMailer,
    issuer: Issuer,
    admin_id: Uuid,
    now: DateTime<Utc>,
}

impl Auth {
    /// A fresh context with its first admin, bootstrapped as after a deployment.
    async fn start() -> Auth {
        let store = MemoryStore::new();
        let input = BootstrapAdmin {
            email: "root@ates.test".into(),
            full_name: "Root".into(),
            password: None,
            force: false,
        };
        let now = Utc::now();
        let admin = app::bootstrap_admin(&store, input, false, now)
            .await
            .unwrap();
        Auth {
            store,
            mailer: RecordingMailer::new(),
            issuer: issuer(),
            admin_id: admin.account.account_id,
            now,
        }
    }

    async fn create(
        &self,
        email: &str,
        role: Role,
        password: Option<&str>,
    ) -> Result<crate::account::Account, AuthError> {
        let new = NewAccount {
            email: email.into(),
            full_name: "Kiwi Popug".into(),
            role,
            password: password.map(str::to_owned),
        };
        app::create_account(&self.store, &admin(), &new, &cause(), self.now).await
    }

    async fn sign_in(&self, email: &str, password: &str) -> Result<TokenPair, AuthError> {
        app::sign_in(&self.store, &self.issuer, email, password, self.now).await
    }

    async fn refresh(&self, token: &str) -> Result<TokenPair, AuthError> {
        app::refresh(&self.store, &self.issuer, token, self.now).await
    }

    async fn deactivate(&self, id: Uuid) -> Result<crate::account::Account, AuthError> {
        let root = claims(self.admin_id, Role::Admin);
        app::deactivate_account(&self.store, &root, id, &cause(), self.now).await
    }

    async fn request_code(&self, email: &str, at: DateTime<Utc>) -> Result<(), AuthError> {
        app::request_code(&self.store, &self.mailer, email, at).await
    }

    async fn sign_in_with_code(
        &self,
        email: &str,
        code: &str,
        at: DateTime<Utc>,
    ) -> Result<TokenPair, AuthError> {
        app::sign_in_with_code(&self.store, &self.issuer, email, code, at).await
    }

    /// The code in the latest mail.
    fn mailed_code(&self) -> String {
        let mail = self.mailer.sent().pop().expect("a mail was sent");
        mail.text
            .split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == 6)
            .expect("a six-digit code in the mail")
            .to_owned()
    }

    fn event_names(&self, account_id: Uuid) -> Vec<String> {
        self.store
            .events()
            .iter()
            .filter(|e| e.data["account_id"] == account_id.to_string())
            .map(|e| e.name.clone())
            .collect()
    }

    fn claims(&self, pair: &TokenPair) -> Value {
        let jwks = keys().jwks();
        let key = &jwks["keys"][0];
        let decoding = DecodingKey::from_rsa_components(
            key["n"].as_str().unwrap(),
            key["e"].as_str().unwrap(),
        )
        .unwrap();
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        jsonwebtoken::decode::<Value>(&pair.access_token, &decoding, &validation)
            .unwrap()
            .claims
    }
}

fn session_of(pair: &TokenPair) -> Uuid {
    RefreshToken::parse(&pair.refresh_token).unwrap().session_id
}

#[tokio::test]
async fn a_created_account_is_published_as_account_created() {
    let auth = Auth::start().await;
    let kiwi = auth
        .create("Kiwi@Popug.Test", Role::Worker, None)
        .await
        .unwrap();
    assert_eq!(
        (kiwi.email.as_str(), kiwi.active, kiwi.revision),
        ("kiwi@popug.test", true, 1)
    );
    let events: Vec<_> = auth
        .store
        .events()
        .into_iter()
        .filter(|e| e.data["account_id"] == kiwi.account_id.to_string())
        .collect();
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].name.as_str(), events[0].producer.as_str()),
        ("Account.Created", "auth")
    );
    assert_eq!(events[0].correlation_id, "use-case-test");
    assert_eq!(events[0].data["email"], "kiwi@popug.test");
    assert_eq!(events[0].data["revision"], 1);
}

#[tokio::test]
async fn an_email_belongs_to_one_account() {
    let auth = Auth::start().await;
    auth.create("kiwi@popug.test", Role::Worker, None)
        .await
        .unwrap();
    let before = auth.store.events().len();
    let again = auth.create("KIWI@popug.test", Role::Manager, None).await;
    assert!(matches!(again, Err(AuthError::EmailTaken)), "{again:?}");
    assert_eq!(auth.store.events().len(), before, "nothing is published");
}

#[tokio::test]
async fn only_admins_administer_accounts() {
    let auth = Auth::start().await;
    for (i, role) in [Role::Worker, Role::Manager, Role::Accountant]
        .into_iter()
        .enumerate()
    {
        let account = auth
            .create(&format!("popug{i}@popug.test"), role, None)
            .await
            .unwrap();
        let as_admin = claims(account.account_id, Role::Admin);
        let refused = app::list_accounts(&auth.store, &as_admin, None, None).await;
        let Err(AuthError::Failed(Failure::Refused(Refused::NotAllowed(refused)))) = refused else {
            panic!("a {role} listed the accounts");
        };
        assert_eq!(
            refused,
            NotAllowed { role },
            "the account's role counts, not the token's"
        );
        assert_eq!(refused.to_string(), format!("a {role} may not do this"));
    }
    let root = claims(auth.admin_id, Role::Worker);
    assert!(app::list_accounts(&auth.store, &root, None, None)
        .await
        .is_ok());
}

#[tokio::test]
async fn bad_input_writes_nothing() {
    let auth = Auth::start().await;
    let before = auth.store.events().len();
    for (email, password) in [
        ("not-an-email", None),
        ("weak@popug.test", Some("123")),
        ("same@popug.test", Some("same@popug.test")),
    ] {
        let result = auth.create(email, Role::Worker, password).await;
        assert!(
            matches!(result, Err(AuthError::Invalid(_))),
            "{email}: {result:?}"
        );
    }
    let blank = NewAccount {
        email: "blank@popug.test".into(),
        full_name: "  ".into(),
        role: Role::Worker,
        password: None,
    };
    let result = app::create_account(&auth.store, &admin(), &blank, &cause(), auth.now).await;
    assert!(matches!(result, Err(AuthError::Invalid(_))), "{result:?}");
    assert_eq!(auth.store.events().len(), before);
    let page = app::list_accounts(&auth.store, &admin(), None, None)
        .await
        .unwrap();
    assert_eq!(page.accounts.len(), 1, "only the admin exists");
}

#[tokio::test]
async fn a_password_is_kept_only_as_an_argon2id_hash() {
    let auth = Auth::start().await;
    let kiwi = auth
        .create("kiwi@popug.test", Role::Worker, Some(PASSWORD))
        .await
        .unwrap();
    let hash = auth.store.password_hash(kiwi.account_id).unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains(PASSWORD));
    assert!(
        auth.store.events()[1].data.get("password").is_none()
            && !auth.store.events()[1].data.to_string().contains("argon2")
    );
}

#[tokio::test]
async fn the_right_password_signs_in_with_a_signed_access_token() {
    let auth = Auth::start().await;
    let kiwi = auth
        .create("kiwi@popug.test", Role::Manager, Some(PASSWORD))
        .await
        .unwrap();
    let pair = auth.sign_in("Kiwi@Popug.test", PASSWORD).await.unwrap();
    let claims = auth.claims(&pair);
    assert_eq!(claims["sub"], kiwi.account_id.to_string());
    assert_eq!(claims["role"], "manager");
    assert_eq!(claims["scope"], Role::Manager.scopes().join(" "));
    assert_eq!(claims["email"], "kiwi@popug.test");
    assert_eq!(claims["iat"], auth.now.timestamp());
    assert_eq!(
        (pair.account_id, pair.role),
        (kiwi.account_id, Role::Manager)
    );
    assert_eq!(auth.store.sessions(), 1, "a sign-in starts a session");
}

#[tokio::test]
async fn a_wrong_password_or_an_unknown_email_is_refused_alike() {
    let auth = Auth::start().await;
    auth.create("kiwi@popug.test", Role::Worker, Some(PASSWORD))
        .await
        .unwrap();
    auth.create("nopass@popug.test", Role::Worker, None)
        .await
        .unwrap();
    for (email, password) in [
        ("kiwi@popug.test", "kiwi-secret-pasS"),
        ("nobody@popug.test", PASSWORD),
        ("nopass@popug.test", PASSWORD),
    ] {
        let result = auth.sign_in(email, password).await;
        assert!(
            matches!(result, Err(AuthError::WrongCredentials)),
            "{email}: {result:?}"
        );
    }
    assert_eq!(auth.store.sessions(), 0, "no session was started");
}

/// Security: password guesses were unlimited.
#[tokio::test]
async fn wrong_passwords_make_the_account_wait_before_the_hash_is_even_checked() {
    let auth = Auth::start().await;
    auth.create("kiwi@popug.test", Role::Worker, Some(PASSWORD))
        .await
        .unwrap();
    for _ in 0..crate::password::FREE_FAILURES {
        let wrong = auth.sign_in("kiwi@popug.test", "not-the-password-1").await;
        assert!(
            matches!(wrong, Err(AuthError::WrongCredentials)),
            "{wrong:?}"
        );
    }
    let waiting = auth.sign_in("kiwi@popug.test", PASSWORD).await;
    assert!(
        matches!(waiting, Err(AuthError::TooMany(_))),
        "even the right one waits: {waiting:?}"
    );
    let later = auth.now + chrono::Duration::seconds(3);
    let pair = app::sign_in(
        &auth.store,
        &auth.issuer,
        "kiwi@popug.test",
        PASSWORD,
        later,
    )
    .await;
    assert!(pair.is_ok(), "after the wait: {pair:?}");
    let fresh = app::sign_in(
        &auth.store,
        &auth.issuer,
        "kiwi@popug.test",
        "not-the-password-1",
        later,
    )
    .await;
    assert!(
        matches!(fresh, Err(AuthError::WrongCredentials)),
        "a sign-in starts the count again: {fresh:?}"
    );
}

#[tokio::test]
async fn a_deactivated_account_cannot_sign_in() {
    let auth = Auth::start().await;
    let kiwi = auth
        .create("kiwi@popug.test", Role::Worker, Some(PASSWORD))
        .await
        .unwrap();
    let pair = auth.sign_in("kiwi@popug.test", PASSWORD).await.unwrap();
    auth.request_code("kiwi@popug.test", auth.now)
        .await
        .unwrap();
    let code = auth.mailed_code();
    auth.deactivate(kiwi.account_id).await.unwrap();

    let by_password = auth.sign_in("kiwi@popug.test", PASSWORD).await;
    assert!(
        matches!(by_password, Err(AuthError::WrongCredentials)),
        "the right password of a deactivated account is not confirmed: {by_password:?}"
    );
    let by_refresh = auth.refresh(&pair.refresh_token).await;
    assert!(
        matches!(by_refresh, Err(AuthError::Deactivated)),
        "its refresh tokens stop working: {by_refresh:?}"
    );
    let by_code = auth
        .sign_in_with_code("kiwi@popug.test", &code, auth.now)
        .await;
    assert!(
        matches!(by_code, Err(AuthError::Deactivated)),
        "{by_code:?}"
    );
    auth.request_code("kiwi@popug.test", auth.now)
        .await
        .unwrap();
    assert_eq!(
        auth.mailer.sent().len(),
        1,
        "a deactivated account is mailed no code"
    );
}

#[tokio::test]
async fn a_refresh_token_refreshes_once_within_its_session() {
    let auth = Auth::start().await;
    auth.create("kiwi@popug.test", Role::Worker, Some(PASSWORD))
        .await
        .unwrap();
    let first = auth.sign_in("kiwi@popug.test", PASSWORD).await.unwrap();
    let second = auth.refresh(&first.refresh_token).await.unwrap();
    assert_ne!(second.refresh_token, first.refresh_token);
    assert_eq!(session_of(&second), session_of(&first));
    let third = auth.refresh(&second.refresh_token).await.unwrap();
    assert_eq!(session_of(&third), session_of(&first));
    assert_eq!(
        auth.claims(&third)["sub"],
        auth.claims(&first)["sub"],
        "the same account"
    );
    for bad in ["", "nope", format!("{}x", third.refresh_token).as_str()] {
        let result = auth.refresh(bad).await;
        assert!(
            matches!(result, Err(AuthError::BadRefreshToken)),
            "{bad}: {result:?}"
        );
    }
}

#[tokio::test]
async fn a_reused_refresh_token_ends_its_session() {
    let auth = Auth::start().await;
    auth.create("kea@popug.test", Role::Worker, Some(PASSWORD))
        .await
        .unwrap();
    let laptop = auth.sign_in("kea@popug.test", PASSWORD).await.unwrap();
    let phone = auth.sign_in("kea@popug.test", PASSWORD).await.unwrap();

    let successor = auth.refresh(&laptop.refresh_token).await.unwrap();
    let reused = auth.refresh(&laptop.refresh_token).await;
    assert!(
        matches!(reused, Err(AuthError::BadRefreshToken)),
        "{reused:?}"
    );
    assert_eq!(
        auth.store.session_state(session_of(&laptop)),
        Some(TokenState::Revoked)
    );
    let after = auth.refresh(&successor.refresh_token).await;
    assert!(
        matches!(after, Err(AuthError::BadRefreshToken)),
        "the successor dies with the copied token: {after:?}"
    );
    assert_eq!(
        auth.store.session_state(session_of(&phone)),
        Some(TokenState::Active),
        "another sign-in lives on"
    );
    auth.refresh(&phone.refresh_token).await.unwrap();
}

#[tokio::test]
async fn a_forged_refresh_token_ends_no_session() {
    let auth = Auth::start().await;
    auth.create("kea@popug.test", Role::Worker, Some(PASSWORD))
        .await
        .unwrap();
    let phone = auth.sign_in("kea@popug.test", PASSWORD).await.unwrap();
    let (prefix, _) = phone.refresh_token.rsplit_once('.').unwrap();
    let forged = format!("{prefix}.{}", "A".repeat(43));
    let result = auth.refresh(&forged).await;
    assert!(
        matches!(result, Err(AuthError::BadRefreshToken)),
        "{result:?}"
    );
    app::sign_out(&auth.store, &forged).await.unwrap();
    assert_eq!(
        auth.store.session_state(session_of(&phone)),
        Some(TokenState::Active)
    );
    auth.refresh(&phone.refresh_token).await.unwrap();
}

#[tokio::test]
async fn a_refresh_token_expires() {
    let auth = Auth::start().await;
    auth.create("kiwi@popug.test", Role::Worker, Some(PASSWORD))
        .await
        .unwrap();
    let pair = auth.sign_in("kiwi@popug.test", PASSWORD).await.unwrap();
    let later = auth.now + Duration::seconds(REFRESH_TOKEN_SECONDS);
    let result = app::refresh(&auth.store, &auth.issuer, &pair.refresh_token, later).await;
    assert!(
        matches!(result, Err(AuthError::BadRefreshToken)),
        "{result:?}"
    );
    let just_before = later - Duration::seconds(1);
    app::refresh(&auth.store, &auth.issuer, &pair.refresh_token, just_before)
        .await
        .unwrap();
}

#[tokio::test]
async fn signing_out_ends_the_session_and_repeating_it_is_harmless() {
    let auth = Auth::start().await;
    auth.create("kiwi@popug.test", Role::Worker, Some(PASSWORD))
        .await
        .unwrap();
    let first = auth.sign_in("kiwi@popug.test", PASSWORD).await.unwrap();
    let second = auth.refresh(&first.refresh_token).await.unwrap();
    // Signing out with an older token of the session ends the whole session.
    app::sign_out(&auth.store, &first.refresh_token)
        .await
        .unwrap();
    assert_eq!(
        auth.store.session_state(session_of(&first)),
        Some(TokenState::Revoked)
    );
    let result = auth.refresh(&second.refresh_token).await;
    assert!(
        matches!(result, Err(AuthError::BadRefreshToken)),
        "{result:?}"
    );
    app::sign_out(&auth.store, &second.refresh_token)
        .await
        .unwrap();
    app::sign_out(&auth.store, "not a token").await.unwrap();
}

#[tokio::test]
async fn a_mailed_code_is_single_use() {
    let auth = Auth::start().await;
    let kiwi = auth
        .create("kiwi@popug.test", Role::Worker, None)
        .await
        .unwrap();
    auth.request_code("Kiwi@popug.test", auth.now)
        .await
        .unwrap();
    let mails = auth.mailer.sent();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, "kiwi@popug.test");
    let code = auth.mailed_code();

    let wrong = if code == "000000" { "111111" } else { "000000" };
    let result = auth
        .sign_in_with_code("kiwi@popug.test", wrong, auth.now)
        .await;
    assert!(matches!(result, Err(AuthError::BadCode)), "{result:?}");
    let pair = auth
        .sign_in_with_code("kiwi@popug.test", &code, auth.now)
        .await
        .unwrap();
    assert_eq!(auth.claims(&pair)["sub"], kiwi.account_id.to_string());
    let again = auth
        .sign_in_with_code("kiwi@popug.test", &code, auth.now)
        .await;
    assert!(matches!(again, Err(AuthError::BadCode)), "{again:?}");
}

#[tokio::test]
async fn a_mailed_code_expires() {
    let auth = Auth::start().await;
    auth.create("kiwi@popug.test", Role::Worker, None)
        .await
        .unwrap();
    auth.request_code("kiwi@popug.test", auth.now)
        .await
        .unwrap();
    let code = auth.mailed_code();
    let expired = auth.now + Duration::seconds(CODE_LIFETIME_SECONDS);
    let result = auth
        .sign_in_with_code("kiwi@popug.test", &code, expired)
        .await;
    assert!(matches!(result, Err(AuthError::BadCode)), "{result:?}");
    auth.sign_in_with_code("kiwi@popug.test", &code, expired - Duration::seconds(1))
        .await
        .unwrap();
}

#[tokio::test]
async fn wrong_guesses_of_a_code_are_limited() {
    let auth = Auth::start().await;
    let (code, wrong) = kiwi_has_a_code(&auth).await;
    for _ in 0..MAX_GUESSES {
        let result = auth
            .sign_in_with_code("kiwi@popug.test", wrong, auth.now)
            .await;
        assert!(matches!(result, Err(AuthError::BadCode)), "{result:?}");
    }
    let result = auth
        .sign_in_with_code("kiwi@popug.test", &code, auth.now)
        .await;
    assert!(
        matches!(result, Err(AuthError::BadCode)),
        "after {MAX_GUESSES} wrong guesses even the right code is refused: {result:?}"
    );
    assert_eq!(auth.store.sessions(), 0);
}

/// Kiwi, a worker, has asked for a code: the code mailed, and a wrong one.
async fn kiwi_has_a_code(auth: &Auth) -> (String, &'static str) {
    auth.create("kiwi@popug.test", Role::Worker, None)
        .await
        .unwrap();
    auth.request_code("kiwi@popug.test", auth.now)
        .await
        .unwrap();
    let code = auth.mailed_code();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    (code, wrong)
}

/// Twenty wrong guesses that all read the challenge before any wrote (concurrent requests);
/// each is refused.
async fn twenty_wrong_guesses_from_one_read(auth: &Auth, wrong: &str) {
    auth.store.freeze_challenge_reads(true);
    for _ in 0..20 {
        let result = auth
            .sign_in_with_code("kiwi@popug.test", wrong, auth.now)
            .await;
        assert!(matches!(result, Err(AuthError::BadCode)), "{result:?}");
    }
    auth.store.freeze_challenge_reads(false);
}

/// Security: wrong guesses that all read the challenge before any of them wrote
/// (concurrent requests) were counted as one, so the guess limit could be walked past.
#[tokio::test]
async fn wrong_guesses_that_race_are_each_counted() {
    let auth = Auth::start().await;
    let (code, wrong) = kiwi_has_a_code(&auth).await;
    twenty_wrong_guesses_from_one_read(&auth, wrong).await;
    let stored = auth.store.stored_challenge("kiwi@popug.test").unwrap();
    assert_eq!(
        stored.guesses, MAX_GUESSES,
        "every guess counted, up to the limit"
    );
    let result = auth
        .sign_in_with_code("kiwi@popug.test", &code, auth.now)
        .await;
    assert!(matches!(result, Err(AuthError::BadCode)), "{result:?}");
    assert_eq!(auth.store.sessions(), 0);
}

/// Security: every new code came with a fresh set of guesses, so an address
/// could be guessed at 15 times per quarter hour, forever.
#[tokio::test]
async fn wrong_guesses_are_bounded_per_address_and_a_new_code_does_not_give_them_back() {
    let auth = Auth::start().await;
    auth.create("kiwi@popug.test", Role::Worker, None)
        .await
        .unwrap();
    let mut made = 0;
    while made < FREE_WRONG_GUESSES {
        auth.request_code("kiwi@popug.test", auth.now)
            .await
            .unwrap();
        let code = auth.mailed_code();
        let wrong = if code == "000000" { "111111" } else { "000000" };
        for _ in 0..MAX_GUESSES.min(FREE_WRONG_GUESSES - made) {
            let result = auth
                .sign_in_with_code("kiwi@popug.test", wrong, auth.now)
                .await;
            assert!(matches!(result, Err(AuthError::BadCode)), "{result:?}");
            made += 1;
        }
    }
    // A fresh code: its own guesses, but the address's budget is used up.
    auth.request_code("kiwi@popug.test", auth.now)
        .await
        .unwrap();
    let fresh = auth.mailed_code();
    let result = auth
        .sign_in_with_code("kiwi@popug.test", &fresh, auth.now)
        .await;
    assert!(
        matches!(&result, Err(AuthError::TooMany(m)) if m.contains("60 s")),
        "even the right code waits: {result:?}"
    );
    let later = auth.now + Duration::seconds(FIRST_WAIT_SECONDS);
    auth.sign_in_with_code("kiwi@popug.test", &fresh, later)
        .await
        .unwrap();
    assert_eq!(
        auth.store
            .stored_challenge("kiwi@popug.test")
            .unwrap()
            .wrong,
        WrongGuesses::default(),
        "a right code clears the wrong guesses"
    );
}

#[tokio::test]
async fn a_stranger_guessing_holds_an_address_back_an_hour_at_most() {
    let auth = Auth::start().await;
    let (code, wrong) = kiwi_has_a_code(&auth).await;
    // Months of guessing, the last one just now.
    let t = auth.now.timestamp();
    auth.store.set_wrong_guesses(
        "kiwi@popug.test",
        WrongGuesses {
            failures: 5000,
            failed_at: t,
        },
    );
    let result = auth
        .sign_in_with_code("kiwi@popug.test", wrong, auth.now)
        .await;
    assert!(
        matches!(&result, Err(AuthError::TooMany(m)) if m.contains(&format!("{MAX_WAIT_SECONDS} s"))),
        "{result:?}"
    );
    let stored = auth.store.stored_challenge("kiwi@popug.test").unwrap();
    assert_eq!(
        (stored.guesses, stored.wrong.failures),
        (0, 5000),
        "a guess refused for the wait is not judged, nor counted"
    );
    // An hour later the person's code is judged (the code itself is still fresh here).
    auth.store.set_wrong_guesses(
        "kiwi@popug.test",
        WrongGuesses {
            failures: 5000,
            failed_at: t - MAX_WAIT_SECONDS,
        },
    );
    auth.sign_in_with_code("kiwi@popug.test", &code, auth.now)
        .await
        .unwrap();
}

#[tokio::test]
async fn wrong_guesses_racing_each_count_against_the_address() {
    let auth = Auth::start().await;
    let (_, wrong) = kiwi_has_a_code(&auth).await;
    twenty_wrong_guesses_from_one_read(&auth, wrong).await;
    let stored = auth.store.stored_challenge("kiwi@popug.test").unwrap();
    assert_eq!(
        stored.wrong.failures, MAX_GUESSES,
        "each judged guess counted against the address"
    );
}

/// Security: only real accounts cost a mail, so the answer's timing told them
/// apart from unknown addresses, and a mail that failed was a 500 for them alone.
#[tokio::test]
async fn known_and_unknown_addresses_are_answered_alike_and_in_the_same_time() {
    let auth = Auth::start().await;
    auth.create("kiwi@popug.test", Role::Worker, None)
        .await
        .unwrap();
    let pace = std::time::Duration::from_millis(300);
    let mail_time = std::time::Duration::from_millis(120);
    let slow = RecordingMailer::slow(mail_time);
    let failing = RecordingMailer::failing(mail_time);
    let stalled = RecordingMailer::slow(std::time::Duration::from_secs(5));
    for (mailer, email) in [
        (&slow, "kiwi@popug.test"),
        (&slow, "stranger@popug.test"),
        (&failing, "kiwi@popug.test"),
        (&stalled, "kiwi@popug.test"),
    ] {
        let started = std::time::Instant::now();
        let result = app::request_code_paced(&auth.store, mailer, email, auth.now, pace).await;
        let took = started.elapsed();
        assert!(result.is_ok(), "{email}: {result:?}");
        assert!(
            took >= pace && took < pace + mail_time,
            "{email} answered in {took:?}, not {pace:?}"
        );
    }
    assert_eq!(slow.sent().len(), 1, "only the account is mailed");
    assert!(failing.sent().is_empty());
}

#[tokio::test]
async fn codes_requested_are_limited_for_any_address_alike() {
    let auth = Auth::start().await;
    auth.create("kiwi@popug.test", Role::Worker, None)
        .await
        .unwrap();
    for email in ["kiwi@popug.test", "stranger@popug.test"] {
        for _ in 0..MAX_CODES_PER_WINDOW {
            auth.request_code(email, auth.now).await.unwrap();
        }
        let result = auth.request_code(email, auth.now).await;
        assert!(
            matches!(result, Err(AuthError::TooMany(_))),
            "{email}: {result:?}"
        );
    }
    let sent = auth.mailer.sent();
    assert_eq!(sent.len(), MAX_CODES_PER_WINDOW as usize);
    assert!(
        sent.iter().all(|m| m.to == "kiwi@popug.test"),
        "a stranger's address is mailed nothing"
    );
}

#[tokio::test]
async fn a_new_code_replaces_the_previous_one() {
    let auth = Auth::start().await;
    auth.create("kiwi@popug.test", Role::Worker, None)
        .await
        .unwrap();
    auth.request_code("kiwi@popug.test", auth.now)
        .await
        .unwrap();
    let first = auth.mailed_code();
    auth.request_code("kiwi@popug.test", auth.now)
        .await
        .unwrap();
    let second = auth.mailed_code();
    if first != second {
        let result = auth
            .sign_in_with_code("kiwi@popug.test", &first, auth.now)
            .await;
        assert!(matches!(result, Err(AuthError::BadCode)), "{result:?}");
    }
    auth.sign_in_with_code("kiwi@popug.test", &second, auth.now)
        .await
        .unwrap();
}

#[tokio::test]
async fn an_update_is_published_and_a_change_to_nothing_is_not() {
    let auth = Auth::start().await;
    let kiwi = auth
        .create("kiwi@popug.test", Role::Worker, None)
        .await
        .unwrap();
    let promote = AccountChange {
        full_name: Some("Kiwi P.".into()),
        role: Some(Role::Accountant),
    };
    let changed = app::update_account(
        &auth.store,
        &admin(),
        kiwi.account_id,
        &promote,
        &cause(),
        auth.now,
    )
    .await
    .unwrap();
    assert_eq!(
        (changed.role, changed.full_name.as_str(), changed.revision),
        (Role::Accountant, "Kiwi P.", 2)
    );
    let same = app::update_account(
        &auth.store,
        &admin(),
        kiwi.account_id,
        &promote,
        &cause(),
        auth.now,
    )
    .await
    .unwrap();
    assert_eq!(same, changed);
    assert_eq!(
        auth.event_names(kiwi.account_id),
        ["Account.Created", "Account.Updated"]
    );
    let stored = app::me(&auth.store, &claims(kiwi.account_id, Role::Worker))
        .await
        .unwrap();
    assert_eq!(stored, changed);
    let unknown = app::update_account(
        &auth.store,
        &admin(),
        Uuid::now_v7(),
        &promote,
        &cause(),
        auth.now,
    )
    .await;
    assert!(
        matches!(unknown, Err(AuthError::UnknownAccount)),
        "{unknown:?}"
    );
}

#[tokio::test]
async fn deactivation_is_published_once_and_never_by_oneself() {
    let auth = Auth::start().await;
    let kiwi = auth
        .create("kiwi@popug.test", Role::Worker, None)
        .await
        .unwrap();
    let gone = auth.deactivate(kiwi.account_id).await.unwrap();
    assert_eq!((gone.active, gone.revision), (false, 2));
    let again = auth.deactivate(kiwi.account_id).await.unwrap();
    assert_eq!(again, gone, "a repeat is harmless");
    assert_eq!(
        auth.event_names(kiwi.account_id),
        ["Account.Created", "Account.Deactivated"]
    );
    let myself = auth.deactivate(auth.admin_id).await;
    assert!(
        matches!(myself, Err(AuthError::NotAllowed(_))),
        "{myself:?}"
    );
    let rename = AccountChange {
        full_name: Some("Ghost".into()),
        role: None,
    };
    let changed = app::update_account(
        &auth.store,
        &admin(),
        kiwi.account_id,
        &rename,
        &cause(),
        auth.now,
    )
    .await;
    assert!(
        matches!(changed, Err(AuthError::NotAllowed(_))),
        "{changed:?}"
    );
}

/// Security: the bootstrap minted an admin for every new email, with a password.
#[tokio::test]
async fn the_bootstrap_refuses_a_second_admin_and_a_password_where_not_allowed() {
    let store = MemoryStore::new();
    let input = |email: &str, password: Option<&str>, force: bool| BootstrapAdmin {
        email: email.into(),
        full_name: "Root".into(),
        password: password.map(str::to_owned),
        force,
    };
    let refused = app::bootstrap_admin(
        &store,
        input("root@ates.test", Some("a-password-1"), false),
        false,
        Utc::now(),
    )
    .await;
    assert!(matches!(refused, Err(AuthError::Invalid(_))), "{refused:?}");
    assert!(store.events().is_empty(), "nothing written");
    app::bootstrap_admin(
        &store,
        input("root@ates.test", None, false),
        false,
        Utc::now(),
    )
    .await
    .unwrap();
    let second = app::bootstrap_admin(
        &store,
        input("mallory@ates.test", None, false),
        false,
        Utc::now(),
    )
    .await;
    assert!(
        matches!(second, Err(AuthError::NotAllowed(_))),
        "{second:?}"
    );
    let forced = app::bootstrap_admin(
        &store,
        input("deputy@ates.test", None, true),
        false,
        Utc::now(),
    )
    .await
    .unwrap();
    assert!(forced.created);
    assert_eq!(store.events().len(), 2);
}

#[tokio::test]
async fn the_first_admin_is_bootstrapped_once() {
    let store = MemoryStore::new();
    let input = || BootstrapAdmin {
        email: "Root@ates.test".into(),
        full_name: "Root".into(),
        password: Some("bootstrap-password-1".into()),
        force: false,
    };
    let first = app::bootstrap_admin(&store, input(), true, Utc::now())
        .await
        .unwrap();
    assert!(first.created);
    assert_eq!(
        (first.account.role, first.account.email.as_str()),
        (Role::Admin, "root@ates.test")
    );
    let second = app::bootstrap_admin(&store, input(), true, Utc::now())
        .await
        .unwrap();
    assert!(!second.created);
    assert_eq!(second.account, first.account);
    assert_eq!(store.events().len(), 1, "one Account.Created");
    let pair = app::sign_in(
        &store,
        &issuer(),
        "root@ates.test",
        "bootstrap-password-1",
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(pair.role, Role::Admin);
}

#[tokio::test]
async fn accounts_are_listed_by_email_a_page_at_a_time() {
    let auth = Auth::start().await;
    for email in ["c@popug.test", "a@popug.test", "b@popug.test"] {
        auth.create(email, Role::Worker, None).await.unwrap();
    }
    let first = app::list_accounts(&auth.store, &admin(), Some(2), None)
        .await
        .unwrap();
    let emails: Vec<_> = first.accounts.iter().map(|a| a.email.as_str()).collect();
    assert_eq!(emails, ["a@popug.test", "b@popug.test"]);
    assert_eq!(first.next.as_deref(), Some("b@popug.test"));
    let second = app::list_accounts(&auth.store, &admin(), Some(2), first.next.as_deref())
        .await
        .unwrap();
    let emails: Vec<_> = second.accounts.iter().map(|a| a.email.as_str()).collect();
    assert_eq!(emails, ["c@popug.test", "root@ates.test"]);
    for limit in [0, 101, -1] {
        let result = app::list_accounts(&auth.store, &admin(), Some(limit), None).await;
        assert!(
            matches!(&result, Err(AuthError::Invalid(m)) if m == "limit must be 1 to 100"),
            "{limit}: {result:?}"
        );
    }
    let result = app::list_accounts(&auth.store, &admin(), None, Some("nobody@popug.test")).await;
    assert!(matches!(result, Err(AuthError::Invalid(_))), "{result:?}");
}

#[tokio::test]
async fn me_is_the_signed_in_account() {
    let auth = Auth::start().await;
    let kiwi = auth
        .create("kiwi@popug.test", Role::Worker, None)
        .await
        .unwrap();
    assert_eq!(
        app::me(&auth.store, &claims(kiwi.account_id, Role::Worker))
            .await
            .unwrap(),
        kiwi
    );
    let unknown = app::me(&auth.store, &claims(Uuid::now_v7(), Role::Worker)).await;
    assert!(
        matches!(unknown, Err(AuthError::UnknownAccount)),
        "{unknown:?}"
    );
}

// ------------------------------------------------------------------ accounts of the hired (M1)

mod hired {
    use ates_kernel::contracts::hiring::{
        ApplicationAccepted, ApplicationDeclined, ApplicationSubmitted, Kind,
    };
    use ates_kernel::event::{Cause, DomainEvent, Envelope};
    use ates_kernel::inbox::{ConsumeError, Outcome};
    use rand::rngs::StdRng;
    use rand::seq::SliceRandom;
    use rand::{Rng, SeedableRng};
    use serde::Serialize;

    use super::*;
    use crate::ports::AccountDirectory;

    fn at() -> DateTime<Utc> {
        "2026-12-01T10:00:00Z".parse().unwrap()
    }

    fn hiring<E: DomainEvent + Serialize>(payload: &E) -> Envelope {
        Envelope::wrap("hiring", payload, &Cause::request("hiring-test"), at()).unwrap()
    }

    /// Hiring derives the account id from the application id; any fixed derivation will do here.
    fn accepted(application: Uuid, kind: Kind) -> ApplicationAccepted {
        ApplicationAccepted {
            application_id: application,
            account_id: Uuid::new_v5(&Uuid::NAMESPACE_OID, application.as_bytes()),
            email: format!("{application}@popug.test"),
            full_name: "Kiwi Popug".into(),
            role: kind,
            accepted_by: Uuid::now_v7(),
            accepted_at: at(),
        }
    }

    fn created(store: &MemoryStore) -> Vec<Envelope> {
        store
            .events()
            .into_iter()
            .filter(|e| e.name == "Account.Created")
            .collect()
    }

    #[tokio::test]
    async fn an_accepted_application_opens_its_account_once() {
        for kind in Kind::ALL {
            let store = MemoryStore::new();
            let hire = accepted(Uuid::new_v4(), kind);
            let event = hiring(&hire);
            assert_eq!(
                app::open_hired_account(&store, &event, at()).await.unwrap(),
                Outcome::Applied
            );
            assert_eq!(
                app::open_hired_account(&store, &event, at()).await.unwrap(),
                Outcome::Duplicate,
                "a second delivery"
            );
            let account = store.account(hire.account_id).await.unwrap().unwrap();
            assert_eq!(account.password_hash, None, "signs in with mailed codes");
            let account = account.account;
            assert_eq!(
                (account.email.as_str(), account.role, account.active),
                (hire.email.as_str(), kind.role(), true)
            );
            assert_eq!(account.created_at, hire.accepted_at);
            let events = created(&store);
            assert_eq!(events.len(), 1, "{kind}");
            let published = ates_kernel::contracts::accounts::decode_account(&events[0])
                .unwrap()
                .unwrap();
            assert_eq!(published, account.snapshot());
            assert_eq!(events[0].causation_id, Some(event.id.to_string()));
        }
    }

    #[tokio::test]
    async fn an_address_with_an_account_keeps_it_and_nothing_is_opened() {
        let auth = Auth::start().await;
        let hire = ApplicationAccepted {
            email: "ROOT@ates.test".into(),
            ..accepted(Uuid::new_v4(), Kind::Manager)
        };
        let before = auth.store.events().len();
        assert_eq!(
            app::open_hired_account(&auth.store, &hiring(&hire), at())
                .await
                .unwrap(),
            Outcome::NotConcerned
        );
        assert_eq!(auth.store.account(hire.account_id).await.unwrap(), None);
        assert_eq!(auth.store.events().len(), before);
    }

    #[tokio::test]
    async fn an_acceptance_that_cannot_open_an_account_is_parked() {
        let store = MemoryStore::new();
        let hire = ApplicationAccepted {
            email: "not an address".into(),
            ..accepted(Uuid::new_v4(), Kind::Worker)
        };
        let refused = app::open_hired_account(&store, &hiring(&hire), at()).await;
        assert!(
            matches!(refused, Err(ConsumeError::Poison(_))),
            "{refused:?}"
        );
        assert!(store.events().is_empty());
    }

    /// M1's property: however often and in whatever order hiring's events reach auth, each
    /// accepted application gives one account, and nothing else gives any. 300 seeded orders
    /// of 8 applications' events, each delivered one to three times.
    #[tokio::test]
    async fn any_order_and_any_repeats_give_one_account_per_accepted_application() {
        for seed in 0..300 {
            let rng = &mut StdRng::seed_from_u64(seed);
            let store = MemoryStore::new();
            let mut deliveries = Vec::new();
            let mut hired = Vec::new();
            for _ in 0..8 {
                let application = Uuid::new_v4();
                let kind = *Kind::ALL.choose(rng).unwrap();
                let hire = accepted(application, kind);
                let mut events = vec![hiring(&ApplicationSubmitted {
                    application_id: application,
                    kind,
                    email: hire.email.clone(),
                    full_name: hire.full_name.clone(),
                    submitted_at: at(),
                })];
                if rng.gen_bool(0.7) {
                    events.push(hiring(&hire));
                    hired.push(hire);
                } else {
                    events.push(hiring(&ApplicationDeclined {
                        application_id: application,
                        kind,
                        email: hire.email.clone(),
                        full_name: hire.full_name.clone(),
                        reason: "Not now".into(),
                        declined_by: None,
                        declined_at: at(),
                    }));
                }
                for event in events {
                    for _ in 0..rng.gen_range(1..=3) {
                        deliveries.push(event.clone());
                    }
                }
            }
            deliveries.shuffle(rng);
            for event in &deliveries {
                app::open_hired_account(&store, event, at()).await.unwrap();
            }
            let mut opened: Vec<Uuid> = created(&store)
                .iter()
                .map(|e| e.data["account_id"].as_str().unwrap().parse().unwrap())
                .collect();
            opened.sort_unstable();
            let mut expected: Vec<Uuid> = hired.iter().map(|h| h.account_id).collect();
            expected.sort_unstable();
            assert_eq!(opened, expected, "seed {seed}");
            for hire in &hired {
                let account = store.account(hire.account_id).await.unwrap().unwrap();
                assert_eq!(account.account.role, hire.role.role(), "seed {seed}");
            }
        }
    }
}
