//! Auth end to end, through the local stack: the real function binaries behind the emulated
//! API Gateway (JWT authorizer and route scopes), the outbox relay, the bus and a consumer. The
//! tests share the stack; each creates the accounts it needs.

use ates_kernel::identity::Role;
use ates_tests::{routes, template, Stack};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

/// A new worker's sign-up body, under an email of its own.
fn worker_body(name: &str) -> Value {
    json!({"email": format!("{name}-e2e@popug.test"), "full_name": name, "role": "worker", "password": format!("{name}-e2e-password")})
}

#[test]
fn the_bootstrapped_admin_signs_in_as_an_admin() {
    let stack = Stack::shared();
    let admin = stack.admin_token();
    let (status, me) = stack.call("GET", "/auth/me", Some(&admin), None);
    assert_eq!((status, me["role"].as_str()), (200, Some("admin")));
}

#[test]
fn an_admin_creates_an_account_once_per_email() {
    let stack = Stack::shared();
    let admin = stack.admin_token();
    let body = worker_body("kiwi");
    let (status, worker) = stack.call("POST", "/accounts", Some(&admin), Some(&body));
    assert_eq!(status, 201, "{worker}");
    let (status, problem) = stack.call("POST", "/accounts", Some(&admin), Some(&body));
    assert_eq!(
        (status, problem["type"].as_str()),
        (409, Some("urn:ates:problem:conflict"))
    );
}

#[test]
fn a_worker_signs_in_refreshes_and_signs_out_and_then_the_refresh_token_is_dead() {
    let stack = Stack::shared();
    let admin = stack.admin_token();
    let body = worker_body("kea");
    let (status, worker) = stack.call("POST", "/accounts", Some(&admin), Some(&body));
    assert_eq!(status, 201, "{worker}");

    let tokens = stack.sign_in("kea-e2e@popug.test", "kea-e2e-password");
    let (status, me) = stack.call("GET", "/auth/me", tokens["access_token"].as_str(), None);
    assert_eq!(
        (status, me["account_id"].clone()),
        (200, worker["account_id"].clone())
    );

    let (status, refreshed) = stack.call(
        "POST",
        "/auth/refresh",
        None,
        Some(&json!({"refresh_token": tokens["refresh_token"]})),
    );
    assert_eq!(status, 200, "{refreshed}");
    let (status, _) = stack.call(
        "POST",
        "/auth/sign-out",
        None,
        Some(&json!({"refresh_token": refreshed["refresh_token"]})),
    );
    assert_eq!(status, 204);
    let (status, _) = stack.call(
        "POST",
        "/auth/refresh",
        None,
        Some(&json!({"refresh_token": refreshed["refresh_token"]})),
    );
    assert_eq!(status, 401, "a signed-out refresh token is dead");
}

#[test]
fn a_deactivated_worker_is_refused_at_sign_in() {
    let stack = Stack::shared();
    let admin = stack.admin_token();
    let body = worker_body("kakapo");
    let (status, worker) = stack.call("POST", "/accounts", Some(&admin), Some(&body));
    assert_eq!(status, 201, "{worker}");
    stack.sign_in("kakapo-e2e@popug.test", "kakapo-e2e-password");

    let id = worker["account_id"].as_str().unwrap();
    let (status, gone) = stack.call(
        "POST",
        &format!("/accounts/{id}/deactivate"),
        Some(&admin),
        None,
    );
    assert_eq!((status, gone["active"].as_bool()), (200, Some(false)));
    let (status, _) = stack.call(
        "POST",
        "/auth/sign-in",
        None,
        Some(&json!({"email": "kakapo-e2e@popug.test", "password": "kakapo-e2e-password"})),
    );
    assert_eq!(
        status, 401,
        "a deactivated worker is refused, as a wrong password is"
    );
}

/// SPEC: rights follow the account, not the token. Every context checks a caller against its
/// own copy of the account, so a live token of a deactivated account stops working everywhere
/// as soon as `Account.Deactivated` arrives, long before it expires.
#[test]
fn a_deactivated_accounts_live_token_is_refused_by_every_context_within_seconds() {
    let stack = Stack::shared();
    let admin = stack.admin_token();
    let (id, token) = stack.employee(&admin, "worker");
    let own_routes = [
        "/auth/me",
        "/tasks/mine",
        "/accounting/me",
        "/notifications/mine",
    ];
    stack.eventually(20, "every context knows the new worker", || {
        own_routes
            .iter()
            .all(|route| stack.call("GET", route, Some(&token), None).0 == 200)
            .then_some(())
    });

    let (status, _) = stack.call(
        "POST",
        &format!("/accounts/{id}/deactivate"),
        Some(&admin),
        None,
    );
    assert_eq!(status, 200);
    for route in own_routes {
        let (status, problem) = stack.eventually(20, route, || {
            let (status, problem) = stack.call("GET", route, Some(&token), None);
            (status != 200).then_some((status, problem))
        });
        assert_eq!(status, 401, "{route}: {problem}");
        assert_eq!(problem["detail"], "the account is deactivated", "{route}");
    }
}

/// The backdoor of the review: a demoted admin's token, still valid for minutes, can no
/// longer create an admin (auth checks its own table: at once) nor read what only admins
/// read (each context's copy: within seconds).
#[test]
fn a_demoted_admins_live_token_keeps_only_the_new_roles_rights() {
    let stack = Stack::shared();
    let admin = stack.admin_token();
    let (id, token) = stack.employee(&admin, "admin");
    let admin_reads = ["/tasks", "/accounting/earnings", "/analytics/summary"];
    stack.eventually(20, "every context knows the new admin", || {
        admin_reads
            .iter()
            .all(|route| stack.call("GET", route, Some(&token), None).0 == 200)
            .then_some(())
    });

    let (status, demoted) = stack.call(
        "PATCH",
        &format!("/accounts/{id}"),
        Some(&admin),
        Some(&json!({"role": "worker"})),
    );
    assert_eq!((status, demoted["role"].as_str()), (200, Some("worker")));
    let backdoor = json!({"email": "backdoor-e2e@popug.test", "full_name": "Backdoor", "role": "admin", "password": "a-backdoor-password"});
    let (status, problem) = stack.call("POST", "/accounts", Some(&token), Some(&backdoor));
    assert_eq!(
        status, 403,
        "the demoted admin created an account: {problem}"
    );
    for route in admin_reads {
        stack.eventually(20, route, || {
            (stack.call("GET", route, Some(&token), None).0 == 403).then_some(())
        });
    }
    assert_eq!(
        stack.call("GET", "/tasks/mine", Some(&token), None).0,
        200,
        "a worker's own routes stay open"
    );
}

#[test]
fn account_created_reaches_the_task_tracker_exactly_once_even_when_delivered_twice() {
    let stack = Stack::shared();
    let admin = stack.admin_token();
    let (worker, _) = stack.employee(&admin, "worker");
    let created = stack.eventually(30, "Account.Created on the bus", || {
        stack.events().into_iter().find(|e| {
            e["detail-type"] == "Account.Created"
                && e["detail"]["data"]["account_id"] == worker.as_str()
        })
    });
    let event_id = created["detail"]["id"].as_str().unwrap().to_owned();
    stack.eventually(30, "the task tracker's copy of the account", || {
        (stack.account_copy("TasksTable", &worker).is_some()).then_some(())
    });

    // The bus delivers it again (at-least-once delivery does that).
    let again = json!({"source": created["source"], "detail-type": created["detail-type"], "detail": created["detail"]});
    let (status, _) = stack.call("POST", "/_local/events", None, Some(&again));
    assert!(status < 300, "{status}");
    stack.eventually(30, "the duplicate delivered to the consumer", || {
        let deliveries = stack.call("GET", "/_local/deliveries", None, None).1;
        (deliveries.to_string().matches(&event_id).count() > 0
            && delivered_twice(&deliveries, "TasksSyncAccountFunction", &event_id))
        .then_some(())
    });
    let inbox = stack.items(
        "TasksTable",
        &format!("INBOX#tasks.sync-account#{event_id}"),
    );
    assert_eq!(inbox.len(), 1, "applied once");
    let copy = stack.account_copy("TasksTable", &worker).expect("the copy");
    assert_eq!(copy["revision"]["N"], "1");
    let dead = stack.call("GET", "/_local/dead-letters", None, None).1;
    assert!(
        !dead.to_string().contains(&event_id),
        "nothing went to a dead-letter queue: {dead}"
    );
}

#[test]
fn an_account_event_that_can_never_be_applied_is_parked_at_once_and_can_be_redriven() {
    let stack = Stack::shared();
    let event_id = uuid::Uuid::now_v7().to_string();
    let poison = json!({"source": "ates.auth", "detail-type": "Account.Created", "detail": {
        "id": event_id, "name": "Account.Created", "version": 1, "occurred_at": "2026-11-21T10:00:00Z",
        "producer": "auth", "correlation_id": "poison-test", "data": {"account_id": "not-an-account"}
    }});
    let (status, _) = stack.call("POST", "/_local/events", None, Some(&poison));
    assert!(status < 300, "{status}");
    let parked = |stack: &Stack| {
        let dead = stack.call("GET", "/_local/dead-letters", None, None).1;
        dead.as_array()
            .into_iter()
            .flatten()
            .filter(|q| q["queue"] == "TasksAccountEventsDeadLetters")
            .flat_map(|q| q["messages"].as_array().cloned().unwrap_or_default())
            .filter(|m| m.to_string().contains(&event_id))
            .collect::<Vec<_>>()
    };
    let messages = stack.eventually(30, "the poison in the consumer's dead-letter queue", || {
        let messages = parked(stack);
        (!messages.is_empty()).then_some(messages)
    });
    assert_eq!(messages.len(), 1);
    assert!(
        messages[0]["messageAttributes"]["ates-parked-reason"]
            .as_str()
            .is_some_and(|r| !r.is_empty()),
        "the reason is kept with it: {}",
        messages[0]
    );
    let deliveries = stack.call("GET", "/_local/deliveries", None, None).1;
    assert!(
        !delivered_twice(&deliveries, "TasksSyncAccountFunction", &event_id),
        "parked on its first delivery, not after the queue's five receives"
    );

    // Redriven, it is delivered again (and, still poison, parked again).
    let (status, _) = stack.call(
        "POST",
        "/_local/dead-letters/TasksAccountEventsDeadLetters/redrive",
        None,
        None,
    );
    assert!(status < 300, "{status}");
    stack.eventually(30, "the redriven message delivered again", || {
        let deliveries = stack.call("GET", "/_local/deliveries", None, None).1;
        delivered_twice(&deliveries, "TasksSyncAccountFunction", &event_id).then_some(())
    });
    stack.eventually(30, "the poison parked again", || {
        (parked(stack).len() == 1).then_some(())
    });
}

/// Whether the local stack's delivery ledger shows `event_id` delivered at least twice to `function`.
fn delivered_twice(deliveries: &Value, function: &str, event_id: &str) -> bool {
    let count = |v: &Value| {
        v["deliveries"]
            .as_u64()
            .or(v["count"].as_u64())
            .or(v["delivered"].as_u64())
            .or(v.as_u64())
            .unwrap_or(0)
    };
    match &deliveries[function] {
        Value::Object(by_key) => by_key.get(event_id).map(count).unwrap_or(0) >= 2,
        Value::Array(rows) => {
            rows.iter()
                .filter(|r| r.to_string().contains(event_id))
                .map(count)
                .sum::<u64>()
                >= 2
        }
        _ => {
            deliveries
                .as_array()
                .into_iter()
                .flatten()
                .filter(|r| r.to_string().contains(event_id) && r.to_string().contains(function))
                .map(count)
                .sum::<u64>()
                >= 2
        }
    }
}

/// The key that signs now: the newest of the signing-key ring whose `not_before` has come.
fn signing_key(stack: &Stack) -> Value {
    let secret = stack.aws(
        "secretsmanager.GetSecretValue",
        json!({"SecretId": "ates/auth/signing-key"}),
    );
    let ring: Value =
        serde_json::from_str(secret["SecretString"].as_str().expect("the signing key")).unwrap();
    let now = chrono::Utc::now().timestamp();
    ring["keys"]
        .as_array()
        .expect("a ring of keys")
        .iter()
        .filter(|k| k["not_before"].as_i64().unwrap_or(0) <= now)
        .max_by_key(|k| k["not_before"].as_i64().unwrap_or(0))
        .expect("a key that signs now")
        .clone()
}

fn claims(stack: &Stack, overrides: Value) -> Value {
    let now = chrono::Utc::now().timestamp();
    let mut claims = json!({
        "iss": stack.api, "sub": uuid::Uuid::now_v7().to_string(), "aud": "ates", "iat": now, "exp": now + 600,
        "jti": "x", "role": "admin", "scope": Role::Admin.scopes().join(" "), "email": "forger@popug.test"
    });
    for (k, v) in overrides.as_object().unwrap() {
        claims[k] = v.clone();
    }
    claims
}

fn forge(stack: &Stack, overrides: Value) -> String {
    let key = signing_key(stack);
    let mut header = Header::new(Algorithm::RS256);
    header.kid = key["kid"].as_str().map(str::to_owned);
    let pem =
        EncodingKey::from_rsa_pem(key["private_key_pem"].as_str().unwrap().as_bytes()).unwrap();
    encode(&header, &claims(stack, overrides), &pem).unwrap()
}

#[test]
fn forged_expired_foreign_and_tampered_tokens_are_refused_at_the_gateway() {
    let stack = Stack::shared();
    let valid = forge(stack, json!({}));
    assert_eq!(
        stack.call("GET", "/auth/me", Some(&valid), None).0,
        404,
        "a correctly signed token passes the gateway (its account does not exist)"
    );

    let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let unsigned = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&claims(stack, json!({})))
    );
    let public_pem = {
        let key = signing_key(stack);
        let mut openssl = std::process::Command::new("openssl")
            .args(["rsa", "-pubout"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        use std::io::Write;
        openssl
            .stdin
            .take()
            .unwrap()
            .write_all(key["private_key_pem"].as_str().unwrap().as_bytes())
            .unwrap();
        openssl.wait_with_output().unwrap().stdout
    };
    let hs256 = encode(
        &Header::new(Algorithm::HS256),
        &claims(stack, json!({})),
        &EncodingKey::from_secret(&public_pem),
    )
    .unwrap();
    let expired = forge(
        stack,
        json!({"exp": chrono::Utc::now().timestamp() - 3600, "iat": chrono::Utc::now().timestamp() - 7200}),
    );
    let foreign = forge(stack, json!({"iss": "https://evil.example"}));
    let wrong_audience = forge(stack, json!({"aud": "someone-else"}));
    let tampered = {
        let worker = forge(stack, json!({"role": "worker", "scope": "ates"}));
        let parts: Vec<&str> = worker.split('.').collect();
        format!(
            "{}.{}.{}",
            parts[0],
            b64(&claims(stack, json!({}))),
            parts[2]
        )
    };
    for (what, token) in [
        ("alg none", unsigned),
        ("HS256 signed with the public key", hs256),
        ("expired", expired),
        ("another issuer", foreign),
        ("another audience", wrong_audience),
        ("tampered", tampered),
        ("garbage", "not.a.jwt".to_owned()),
    ] {
        assert_eq!(
            stack.call("GET", "/auth/me", Some(&token), None).0,
            401,
            "{what}"
        );
    }
    assert_eq!(stack.call("GET", "/auth/me", None, None).0, 401, "no token");
}

#[test]
fn every_route_allows_exactly_the_roles_whose_scopes_it_names() {
    let stack = Stack::shared();
    let admin = stack.admin_token();
    let tokens: Vec<(Role, String)> = [Role::Manager, Role::Accountant, Role::Worker, Role::Client]
        .into_iter()
        .map(|role| (role, stack.employee(&admin, role.as_str()).1))
        .chain([(Role::Admin, admin.clone())])
        .collect();
    let template = template();
    let mut checked = 0;
    for (method, path, scopes) in routes(&template) {
        if scopes.is_empty() {
            continue; // public: sign-in, refresh, discovery
        }
        let path = path
            .replace("{account_id}", &uuid::Uuid::now_v7().to_string())
            .replace("{task_id}", &uuid::Uuid::now_v7().to_string())
            .replace("{shuffle_id}", &uuid::Uuid::now_v7().to_string())
            .replace("{rebuild_id}", &uuid::Uuid::now_v7().to_string())
            .replace("{application_id}", &uuid::Uuid::new_v4().to_string())
            .replace("{question_id}", &uuid::Uuid::now_v7().to_string())
            .replace("{test_id}", &uuid::Uuid::now_v7().to_string())
            .replace("{profile_id}", &uuid::Uuid::now_v7().to_string())
            .replace("{order_id}", &uuid::Uuid::now_v7().to_string())
            .replace("{service_type_id}", &uuid::Uuid::now_v7().to_string())
            .replace("{kit_id}", &uuid::Uuid::now_v7().to_string())
            .replace("{date}", "2026-11-20");
        let body = (method != "GET").then(|| json!({}));
        assert_eq!(
            stack.call(&method, &path, None, body.as_ref()).0,
            401,
            "{method} {path} without a token"
        );
        for (role, token) in &tokens {
            let allowed = role.scopes().iter().any(|s| scopes.iter().any(|r| r == s));
            let (status, answer) = stack.call(&method, &path, Some(token), body.as_ref());
            let refused_by_gateway = status == 403 && answer["message"] == "Forbidden";
            assert_eq!(
                !refused_by_gateway, allowed,
                "{role} {method} {path}: {status} {answer}"
            );
            assert!(status < 500, "{role} {method} {path}: {status} {answer}");
            checked += 1;
        }
    }
    assert!(checked >= 40, "{checked} route × role checks");
}

/// Security, end to end: guesses sent at once to several instances of the
/// function, each reading the code before any of them wrote, must each be counted.
#[test]
fn twenty_concurrent_wrong_codes_are_all_counted_and_then_the_right_code_is_refused() {
    let stack = Stack::shared();
    let admin = stack.admin_token();
    let email = format!("guessed-{}@popug.test", uuid::Uuid::now_v7().simple());
    let body = json!({"email": email, "full_name": "Guessed", "role": "worker"});
    let (status, _) = stack.call("POST", "/accounts", Some(&admin), Some(&body));
    assert_eq!(status, 201);
    let code = stack.mailed_code(&email);
    let right: u32 = code.parse().unwrap();

    let start = std::sync::Barrier::new(20);
    let answers: Vec<u16> = std::thread::scope(|scope| {
        let guesses: Vec<_> = (1..=20u32)
            .map(|i| {
                let (start, email) = (&start, &email);
                scope.spawn(move || {
                    let wrong = format!("{:06}", (right + i) % 1_000_000);
                    start.wait();
                    stack
                        .call(
                            "POST",
                            "/auth/sign-in/code",
                            None,
                            Some(&json!({"email": email, "code": wrong})),
                        )
                        .0
                })
            })
            .collect();
        guesses.into_iter().map(|g| g.join().unwrap()).collect()
    });
    assert!(answers.iter().all(|s| *s == 401), "{answers:?}");
    let info = stack.call("GET", "/_local/info", None, None).1;
    let instances = info["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "AuthSignInWithCodeFunction")
        .map(|f| f["instances"]["started"].as_u64().unwrap_or(0))
        .unwrap();
    assert!(instances > 1, "the guesses ran on {instances} instance(s)");

    let (status, answer) = stack.call(
        "POST",
        "/auth/sign-in/code",
        None,
        Some(&json!({"email": email, "code": code})),
    );
    assert_eq!(status, 401, "the right code after 20 wrong ones: {answer}");
}

/// The kid a token was signed with.
fn kid(token: &str) -> String {
    jsonwebtoken::decode_header(token)
        .unwrap()
        .kid
        .expect("a kid")
}

/// Security: the issuer's key is rotated (the operator's command,
/// `infra/signing-key.py rotate`) while tokens are live. Signers pick the new key up without a
/// restart once its time has come; the JWKS publishes it ahead and keeps the old one, so no
/// valid token is refused.
#[test]
fn a_key_rotation_while_tokens_are_live_refuses_no_valid_token() {
    let stack = Stack::shared();
    let admin = stack.admin_token();
    let (email, password) = ("rotation-e2e@popug.test", "rotation-e2e-password");
    let body = json!({"email": email, "full_name": "Rota", "role": "worker", "password": password});
    let (status, _) = stack.call("POST", "/accounts", Some(&admin), Some(&body));
    assert_eq!(status, 201);
    let before = stack.sign_in(email, password);
    let old_token = before["access_token"].as_str().unwrap().to_owned();
    let old_kid = kid(&old_token);

    let root = ates_tests::root();
    let venv_python = root.join(".venv/bin/python3");
    let python = if venv_python.exists() {
        venv_python
    } else {
        "python3".into()
    };
    let lead = 3;
    let rotated = std::process::Command::new(python)
        .arg(root.join("infra/signing-key.py"))
        .args(["rotate", "--lead", &lead.to_string()])
        .env("AWS_ENDPOINT_URL", &stack.aws)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .output()
        .expect("infra/signing-key.py runs");
    assert!(
        rotated.status.success(),
        "{}",
        String::from_utf8_lossy(&rotated.stderr)
    );

    // Published ahead, with the old key still there; the old token still works.
    let published = |stack: &Stack| -> Vec<String> {
        let jwks = stack.call("GET", "/.well-known/jwks.json", None, None).1;
        jwks["keys"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|k| k["kid"].as_str().map(str::to_owned))
            .collect()
    };
    let kids = stack.eventually(10, "the next key published", || {
        let kids = published(stack);
        (kids.len() == 2).then_some(kids)
    });
    assert!(kids.contains(&old_kid), "{kids:?}");
    let jwks = stack.call("GET", "/.well-known/jwks.json", None, None).1;
    assert!(
        !jwks.to_string().contains("PRIVATE") && jwks["keys"][0].get("d").is_none(),
        "public halves only: {jwks}"
    );
    assert_eq!(stack.call("GET", "/auth/me", Some(&old_token), None).0, 200);

    // Once its time has come, sign-ins and refreshes are signed with the new key: no restart.
    let after = stack.eventually(30, "a sign-in signed with the new key", || {
        let pair = stack.sign_in(email, password);
        (kid(pair["access_token"].as_str().unwrap()) != old_kid).then_some(pair)
    });
    let new_token = after["access_token"].as_str().unwrap();
    let new_kid = kid(new_token);
    let ring = stack.aws(
        "secretsmanager.GetSecretValue",
        json!({"SecretId": "ates/auth/signing-key"}),
    );
    let ring: Value = serde_json::from_str(ring["SecretString"].as_str().unwrap()).unwrap();
    let not_before = ring["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == new_kid.as_str())
        .and_then(|k| k["not_before"].as_i64())
        .expect("the new key in the ring");
    let payload = new_token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert!(
        claims["iat"].as_i64().unwrap() >= not_before,
        "not signed before its time: {claims} vs {not_before}"
    );
    assert!(
        kids.contains(&new_kid),
        "{new_kid} was published ahead: {kids:?}"
    );
    for (what, token) in [("the new token", new_token), ("the old token", &old_token)] {
        let (status, me) = stack.call("GET", "/auth/me", Some(token), None);
        assert_eq!(status, 200, "{what}: {me}");
    }
    let (status, refreshed) = stack.call(
        "POST",
        "/auth/refresh",
        None,
        Some(&json!({"refresh_token": before["refresh_token"]})),
    );
    assert_eq!(status, 200, "{refreshed}");
    assert_eq!(kid(refreshed["access_token"].as_str().unwrap()), new_kid);
    assert_eq!(stack.call("GET", "/auth/me", Some(&admin), None).0, 200);
}
