//! The auth commands against the emulator, called as API Gateway would call them.

use ates_auth::issuer::{Issuer, KeyRing, AUDIENCE};
use ates_auth::signing_key::{PublicKeys, Refreshed, SigningKeys};
use ates_auth::store::Store;
use ates_auth::{api, app};
use ates_kernel::identity::Role;
use ates_kernel::mail::Mailer;
use ates_kernel::testing::{answer as read, api_request, signing_key_json, Emulator};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};

const ISSUER: &str = "https://ates.test";

struct Auth {
    emulator: Emulator,
    config: aws_config::SdkConfig,
    store: Store,
    keys: SigningKeys,
    public: PublicKeys,
    jwks: Value,
    admin: String,
}

impl Auth {
    async fn start() -> Auth {
        let (emulator, config, table) = Emulator::with_table("AuthTable").await;
        let ses = aws_sdk_sesv2::Client::new(&config);
        ses.create_email_identity()
            .email_identity("no-reply@ates.test")
            .send()
            .await
            .unwrap();
        let store = Store::new(table);
        let ring = KeyRing::parse(&signing_key_json()).unwrap();
        let jwks = ring.jwks();
        let keys = Refreshed::fixed(Issuer::with_keys(ISSUER.into(), ring).unwrap());
        let public = Refreshed::fixed(jwks.clone());
        let input = serde_json::from_value(
            json!({"email": "root@ates.test", "password": "bootstrap-password-1"}),
        )
        .unwrap();
        let created = app::bootstrap_admin(&store, input, true, chrono::Utc::now())
            .await
            .unwrap();
        assert!(created.created);
        let admin = created.account.account_id.to_string();
        Auth {
            emulator,
            config,
            store,
            keys,
            public,
            jwks,
            admin,
        }
    }

    fn admin(&self) -> Option<(&str, Role)> {
        Some((&self.admin, Role::Admin))
    }

    async fn create(&self, body: Value) -> (u16, Value) {
        let req = api_request(
            "POST",
            "/accounts",
            "/accounts",
            Some(&body.to_string()),
            self.admin(),
        );
        read(api::create_account(&self.store, req).await)
    }

    async fn sign_in(&self, email: &str, password: &str) -> (u16, Value) {
        let body = json!({"email": email, "password": password}).to_string();
        read(
            api::sign_in(
                &self.store,
                &self.keys,
                api_request("POST", "/auth/sign-in", "/auth/sign-in", Some(&body), None),
            )
            .await,
        )
    }

    async fn refresh(&self, token: &str) -> (u16, Value) {
        let body = json!({"refresh_token": token}).to_string();
        read(
            api::refresh(
                &self.store,
                &self.keys,
                api_request("POST", "/auth/refresh", "/auth/refresh", Some(&body), None),
            )
            .await,
        )
    }

    async fn items(
        &self,
    ) -> Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        let db = aws_sdk_dynamodb::Client::new(&self.config);
        db.scan()
            .table_name("AuthTable")
            .send()
            .await
            .unwrap()
            .items()
            .to_vec()
    }

    async fn mails(&self) -> Vec<Value> {
        let data: Value = ureq::get(&format!("{}/moto-api/data.json", self.emulator.endpoint))
            .call()
            .unwrap()
            .into_json()
            .unwrap();
        data["ses"]["Message"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

fn verify(auth: &Auth, token: &str) -> Value {
    let key = &auth.jwks["keys"][0];
    let decoding =
        DecodingKey::from_rsa_components(key["n"].as_str().unwrap(), key["e"].as_str().unwrap())
            .unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    jsonwebtoken::decode::<Value>(token, &decoding, &validation)
        .unwrap()
        .claims
}

#[tokio::test]
async fn an_admin_creates_a_worker_who_signs_in_refreshes_and_signs_out() {
    let auth = Auth::start().await;
    let (status, worker) = auth
        .create(json!({"email": "Kiwi@Popug.test", "full_name": "Kiwi", "role": "worker", "password": "kiwi-secret-pass"}))
        .await;
    assert_eq!(status, 201, "{worker}");
    assert_eq!(worker["email"], "kiwi@popug.test");

    let (status, tokens) = auth.sign_in("kiwi@popug.test", "kiwi-secret-pass").await;
    assert_eq!(status, 200, "{tokens}");
    let claims = verify(&auth, tokens["access_token"].as_str().unwrap());
    assert_eq!(claims["sub"], worker["account_id"]);
    assert_eq!(claims["role"], "worker");
    assert_eq!(claims["scope"], "ates");

    let (status, _) = auth.sign_in("kiwi@popug.test", "kiwi-secret-pasS").await;
    assert_eq!(status, 401, "a wrong password is refused");

    // A session's tokens refresh one after another.
    let first = tokens["refresh_token"].as_str().unwrap();
    let (status, rotated) = auth.refresh(first).await;
    assert_eq!(status, 200);
    assert_ne!(rotated["refresh_token"], tokens["refresh_token"]);
    let second = rotated["refresh_token"].as_str().unwrap();
    let (status, rotated) = auth.refresh(second).await;
    assert_eq!(status, 200, "{rotated}");
    let third = rotated["refresh_token"].as_str().unwrap().to_owned();

    let sign_out = |token: &str| {
        let body = json!({"refresh_token": token}).to_string();
        let req = api_request(
            "POST",
            "/auth/sign-out",
            "/auth/sign-out",
            Some(&body),
            None,
        );
        api::sign_out(&auth.store, req)
    };
    assert_eq!(read(sign_out(&third).await).0, 204);
    assert_eq!(
        auth.refresh(&third).await.0,
        401,
        "signing out revokes the refresh token"
    );
    assert_eq!(read(sign_out(&third).await).0, 204, "twice is harmless");
}

#[tokio::test]
async fn a_refresh_token_used_twice_ends_its_session_and_no_other() {
    let auth = Auth::start().await;
    let (status, _) = auth
        .create(json!({"email": "kea@popug.test", "full_name": "Kea", "role": "worker", "password": "kea-secret-pass"}))
        .await;
    assert_eq!(status, 201);
    let (_, laptop) = auth.sign_in("kea@popug.test", "kea-secret-pass").await;
    let (_, phone) = auth.sign_in("kea@popug.test", "kea-secret-pass").await;

    // The laptop refreshes; someone who copied its first token tries it afterwards.
    let copied = laptop["refresh_token"].as_str().unwrap();
    let (status, rotated) = auth.refresh(copied).await;
    assert_eq!(status, 200);
    let successor = rotated["refresh_token"].as_str().unwrap();
    assert_eq!(auth.refresh(copied).await.0, 401, "a token refreshes once");
    assert_eq!(
        auth.refresh(successor).await.0,
        401,
        "the reuse ended the session: the successor is refused too"
    );

    // A forged token in the phone's session (right prefix, wrong secret) ends nothing.
    let phone_token = phone["refresh_token"].as_str().unwrap();
    let (prefix, _) = phone_token.rsplit_once('.').unwrap();
    let forged = format!("{prefix}.{}", "A".repeat(43));
    assert_eq!(auth.refresh(&forged).await.0, 401);
    let (status, _) = auth.refresh(phone_token).await;
    assert_eq!(status, 200, "the other session lives on");
}

#[tokio::test]
async fn a_deactivated_account_can_neither_sign_in_nor_refresh() {
    let auth = Auth::start().await;
    let (_, worker) = auth
        .create(json!({"email": "gone@popug.test", "full_name": "Gone", "role": "worker", "password": "gone-secret-pass"}))
        .await;
    let (_, tokens) = auth.sign_in("gone@popug.test", "gone-secret-pass").await;
    let id = worker["account_id"].as_str().unwrap();
    let path = format!("/accounts/{id}/deactivate");
    let deactivate = || {
        api_request(
            "POST",
            "/accounts/{account_id}/deactivate",
            &path,
            None,
            auth.admin(),
        )
    };
    let (status, gone) = read(api::deactivate_account(&auth.store, deactivate()).await);
    assert_eq!(
        (status, gone["active"].clone(), gone["revision"].clone()),
        (200, json!(false), json!(2))
    );
    let (status, again) = read(api::deactivate_account(&auth.store, deactivate()).await);
    assert_eq!(
        (status, again["revision"].clone()),
        (200, json!(2)),
        "deactivating twice is harmless"
    );

    assert_eq!(
        auth.sign_in("gone@popug.test", "gone-secret-pass").await.0,
        401,
        "answered as a wrong password: the password is not confirmed"
    );
    assert_eq!(
        auth.refresh(tokens["refresh_token"].as_str().unwrap())
            .await
            .0,
        403
    );
}

#[tokio::test]
async fn bad_input_is_a_problem_and_writes_nothing() {
    let auth = Auth::start().await;
    auth.create(json!({"email": "taken@popug.test", "full_name": "T", "role": "worker"}))
        .await;
    let before = auth.items().await.len();
    let cases = [
        (
            json!({"email": "not-an-email", "full_name": "X", "role": "worker"}),
            422,
        ),
        (
            json!({"email": "TAKEN@popug.test", "full_name": "X", "role": "worker"}),
            409,
        ),
        (
            json!({"email": "weak@popug.test", "full_name": "X", "role": "worker", "password": "123"}),
            422,
        ),
        (
            json!({"email": "role@popug.test", "full_name": "X", "role": "overlord"}),
            422,
        ),
        (
            json!({"email": "extra@popug.test", "full_name": "X", "role": "worker", "salary": 1}),
            422,
        ),
        (json!({"email": "noname@popug.test", "role": "worker"}), 422),
        (
            json!({"email": "blank@popug.test", "full_name": "  ", "role": "worker"}),
            422,
        ),
    ];
    for (body, expected) in cases {
        assert_eq!(auth.create(body.clone()).await.0, expected, "{body}");
    }
    let malformed = api_request(
        "POST",
        "/accounts",
        "/accounts",
        Some("{\"email\": "),
        auth.admin(),
    );
    assert_eq!(
        read(api::create_account(&auth.store, malformed).await).0,
        400
    );
    let huge =
        json!({"email": "big@popug.test", "full_name": "x".repeat(70_000), "role": "worker"})
            .to_string();
    let huge = api_request("POST", "/accounts", "/accounts", Some(&huge), auth.admin());
    assert_eq!(read(api::create_account(&auth.store, huge).await).0, 413);
    let body = json!({"email": "w@popug.test", "full_name": "W", "role": "worker"}).to_string();
    let someone = uuid::Uuid::new_v4().to_string();
    let as_worker = api_request(
        "POST",
        "/accounts",
        "/accounts",
        Some(&body),
        Some((&someone, Role::Worker)),
    );
    assert_eq!(
        read(api::create_account(&auth.store, as_worker).await).0,
        403,
        "only admins create accounts"
    );
    let anonymous = api_request("POST", "/accounts", "/accounts", Some(&body), None);
    assert_eq!(
        read(api::create_account(&auth.store, anonymous).await).0,
        401
    );
    assert_eq!(auth.items().await.len(), before, "nothing was written");
}

#[tokio::test]
async fn every_account_change_is_committed_with_its_event() {
    let auth = Auth::start().await;
    let (_, worker) = auth
        .create(json!({"email": "evt@popug.test", "full_name": "Evt", "role": "worker"}))
        .await;
    let id = worker["account_id"].as_str().unwrap();
    let path = format!("/accounts/{id}");
    let body = json!({"role": "accountant", "full_name": "Evt P."}).to_string();
    let req = api_request(
        "PATCH",
        "/accounts/{account_id}",
        &path,
        Some(&body),
        auth.admin(),
    );
    let (status, changed) = read(api::update_account(&auth.store, req).await);
    assert_eq!(
        (status, changed["role"].clone(), changed["revision"].clone()),
        (200, json!("accountant"), json!(2))
    );

    let events: Vec<Value> = auth
        .items()
        .await
        .iter()
        .filter(|i| i["pk"].as_s().unwrap().starts_with("OUTBOX#"))
        .flat_map(|i| ates_kernel::outbox::events_in(i).unwrap())
        .map(|e| serde_json::to_value(e).unwrap())
        .filter(|e: &Value| e["data"]["account_id"] == id)
        .collect();
    let mut names: Vec<_> = events
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["Account.Created", "Account.Updated"]);
    for event in &events {
        ates_kernel::schema::check(event["name"].as_str().unwrap(), 1, &event["data"]).unwrap();
        assert_eq!(event["producer"], "auth");
    }
}

#[tokio::test]
async fn a_mailed_code_signs_in_once() {
    let auth = Auth::start().await;
    auth.create(json!({"email": "code@popug.test", "full_name": "Code", "role": "worker"}))
        .await;
    let mailer = Mailer::new(&auth.config, "no-reply@ates.test".into());
    let request = || {
        let body = json!({"email": "code@popug.test"}).to_string();
        api_request(
            "POST",
            "/auth/sign-in/code/request",
            "/auth/sign-in/code/request",
            Some(&body),
            None,
        )
    };
    assert_eq!(
        read(api::request_code(&auth.store, &mailer, request()).await).0,
        202
    );
    let mails = auth.mails().await;
    assert_eq!(mails.len(), 1);
    let text = mails[0]["body"]
        .as_str()
        .or(mails[0]["text"].as_str())
        .unwrap_or_default()
        .to_owned();
    let text = if text.is_empty() {
        mails[0].to_string()
    } else {
        text
    };
    let code: String = text
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .expect("a six-digit code in the mail")
        .into();

    let sign_in = |code: &str| {
        let body = json!({"email": "code@popug.test", "code": code}).to_string();
        api_request(
            "POST",
            "/auth/sign-in/code",
            "/auth/sign-in/code",
            Some(&body),
            None,
        )
    };
    let wrong = if code == "000000" { "111111" } else { "000000" };
    assert_eq!(
        read(api::sign_in_with_code(&auth.store, &auth.keys, sign_in(wrong)).await).0,
        401
    );
    let (status, tokens) =
        read(api::sign_in_with_code(&auth.store, &auth.keys, sign_in(&code)).await);
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(
        verify(&auth, tokens["access_token"].as_str().unwrap())["role"],
        "worker"
    );
    assert_eq!(
        read(api::sign_in_with_code(&auth.store, &auth.keys, sign_in(&code)).await).0,
        401,
        "single use"
    );

    // Three codes per window: the fourth request is refused, for any address alike.
    assert_eq!(
        read(api::request_code(&auth.store, &mailer, request()).await).0,
        202
    );
    assert_eq!(
        read(api::request_code(&auth.store, &mailer, request()).await).0,
        202
    );
    assert_eq!(
        read(api::request_code(&auth.store, &mailer, request()).await).0,
        429
    );
}

#[tokio::test]
async fn the_issuer_publishes_its_discovery_document_and_keys() {
    let auth = Auth::start().await;
    let req = api_request(
        "GET",
        "/.well-known/openid-configuration",
        "/.well-known/openid-configuration",
        None,
        None,
    );
    let (_, discovery) = read(api::well_known(ISSUER, &auth.public, req).await);
    assert_eq!(discovery["issuer"], ISSUER);
    assert_eq!(
        discovery["jwks_uri"],
        format!("{ISSUER}/.well-known/jwks.json")
    );
    let req = api_request(
        "GET",
        "/.well-known/jwks.json",
        "/.well-known/jwks.json",
        None,
        None,
    );
    let (_, jwks) = read(api::well_known(ISSUER, &auth.public, req).await);
    assert_eq!(jwks, auth.jwks);
    assert_eq!(jwks["keys"][0]["alg"], "RS256");
}

/// Security, in the table: an address's wrong guesses live in its code's item,
/// are counted atomically (guesses at once each count), survive a new code, and start afresh
/// once forgotten.
#[tokio::test]
async fn wrong_guesses_outlive_a_new_code_and_are_each_counted_in_the_table() {
    use ates_auth::challenge::{FORGET_AFTER_SECONDS, FREE_WRONG_GUESSES, MAX_GUESSES};
    use ates_auth::error::AuthError;
    use ates_auth::ports::Challenges;

    let auth = Auth::start().await;
    let mailer = Mailer::new(&auth.config, "no-reply@ates.test".into());
    let email = "nobody@popug.test";
    let now = chrono::Utc::now();
    let issuer = auth.keys.get().await;
    let guess = || app::sign_in_with_code(&auth.store, &issuer, email, "000000", now);
    let wrong_guesses = || async {
        auth.store
            .challenge(email)
            .await
            .unwrap()
            .map(|c| (c.guesses, c.wrong.failures))
    };

    app::request_code(&auth.store, &mailer, email, now)
        .await
        .unwrap();
    let (a, b, c, d, e, f) = tokio::join!(guess(), guess(), guess(), guess(), guess(), guess());
    for result in [a, b, c, d, e, f] {
        assert!(matches!(result, Err(AuthError::BadCode)), "{result:?}");
    }
    assert_eq!(wrong_guesses().await, Some((MAX_GUESSES, MAX_GUESSES)));

    app::request_code(&auth.store, &mailer, email, now)
        .await
        .unwrap();
    assert_eq!(
        wrong_guesses().await,
        Some((0, MAX_GUESSES)),
        "a new code: its own guesses, the address's wrong ones kept"
    );
    for _ in 0..FREE_WRONG_GUESSES - MAX_GUESSES {
        assert!(matches!(guess().await, Err(AuthError::BadCode)));
    }
    assert!(matches!(guess().await, Err(AuthError::TooMany(_))));

    let quiet_day_later = now.timestamp() + FORGET_AFTER_SECONDS;
    let seen = auth.store.challenge(email).await.unwrap().unwrap().wrong;
    auth.store
        .count_wrong_guess(email, &seen, quiet_day_later)
        .await
        .unwrap();
    assert_eq!(
        wrong_guesses().await.map(|(_, wrong)| wrong),
        Some(1),
        "forgotten after a quiet day: counted afresh"
    );
}

/// Security: a password's hash lives in a partition of its own (`PASSWORD#<id>`,
/// which IAM lets sign-in alone read), not in the account item that many functions read; a hash
/// that an earlier version kept in the account still signs in.
#[tokio::test]
async fn a_password_hash_is_kept_apart_from_the_account_and_an_old_one_still_signs_in() {
    use aws_sdk_dynamodb::types::AttributeValue::S;

    let auth = Auth::start().await;
    let (status, worker) = auth
        .create(json!({"email": "hash@popug.test", "full_name": "Hash", "role": "worker", "password": "hash-secret-pass"}))
        .await;
    assert_eq!(status, 201, "{worker}");
    let id = worker["account_id"].as_str().unwrap();
    let items = auth.items().await;
    let item = |pk: &str| {
        items
            .iter()
            .find(|i| i["pk"].as_s().is_ok_and(|p| p == pk))
            .cloned()
    };
    let account = item(&format!("ACCOUNT#{id}")).expect("the account");
    assert!(!account.contains_key("password_hash"), "{account:?}");
    let password = item(&format!("PASSWORD#{id}")).expect("the password's own item");
    assert!(password["password_hash"]
        .as_s()
        .unwrap()
        .starts_with("$argon2id$"));
    assert_eq!(
        auth.sign_in("hash@popug.test", "hash-secret-pass").await.0,
        200
    );

    // As an account stored before: the hash in the account item, no item of its own.
    let db = aws_sdk_dynamodb::Client::new(&auth.config);
    db.delete_item()
        .table_name("AuthTable")
        .key("pk", S(format!("PASSWORD#{id}")))
        .key("sk", S("PASSWORD".into()))
        .send()
        .await
        .unwrap();
    db.update_item()
        .table_name("AuthTable")
        .key("pk", S(format!("ACCOUNT#{id}")))
        .key("sk", S("ACCOUNT".into()))
        .update_expression("SET password_hash = :hash")
        .expression_attribute_values(":hash", password["password_hash"].clone())
        .send()
        .await
        .unwrap();
    assert_eq!(
        auth.sign_in("hash@popug.test", "hash-secret-pass").await.0,
        200
    );
    assert_eq!(
        auth.sign_in("hash@popug.test", "not-the-password").await.0,
        401
    );
}
