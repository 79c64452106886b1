//! The contract of every port of the auth table (`ports`: each contract names the ports it
//! asserts) and of the kernel's [`AccountCopies`] beside them: what the use
//! cases rely on, asserted through the port alone. Every contract runs on the in-memory store
//! the use-case tests use (`memory::…`) and on the DynamoDB store over a fresh table of one
//! emulator shared by this binary (`dynamo::…`).

use ates_auth::account::{Account, AccountSnapshot};
use ates_auth::challenge::{Challenge, WrongGuesses, FORGET_AFTER_SECONDS, MAX_GUESSES};
use ates_auth::error::AuthError;
use ates_auth::issuer::{RefreshToken, REFRESH_TOKEN_SECONDS};
use ates_auth::password::Failures;
use ates_auth::ports::{
    AccountAdministration, AccountDirectory, Challenges, Passwords, Sessions, StoredAccount,
    Written,
};
use ates_kernel::event::Envelope;
use ates_kernel::identity::{AccountCopies, Role};
use ates_kernel::testing::{self, at};
use uuid::Uuid;

ates_kernel::store_contracts!(
    ates_auth::memory::MemoryStore::default(),
    ates_auth::store::Store::new,
    "Auth";
    an_email_makes_one_account,
    an_account_changes_only_from_the_revision_before,
    accounts_are_listed_by_email_and_paged,
    a_refresh_token_is_spent_once_within_its_live_session,
    a_session_ends_and_a_sign_out_revokes_its_token,
    wrong_passwords_are_counted_and_cleared,
    a_code_is_saved_from_the_version_read_and_keeps_the_wrong_guesses,
    a_code_takes_its_guesses_and_is_spent_once,
);

/// Seconds, as the store's callers give them.
const NOW: i64 = 1_795_000_000;

fn account(email: &str, role: Role) -> Account {
    Account {
        profile: AccountSnapshot {
            account_id: Uuid::now_v7(),
            email: email.into(),
            full_name: "Kiwi".into(),
            role,
            active: true,
            revision: 1,
        },
        created_at: at("2026-11-20T10:00:00.123456Z"),
    }
}

/// The same token (`RefreshToken` is not `Clone`), to present with other claims.
fn copy(token: &RefreshToken) -> RefreshToken {
    RefreshToken {
        token: token.token.clone(),
        hash: token.hash.clone(),
        account_id: token.account_id,
        session_id: token.session_id,
    }
}

fn event(account: &Account) -> Envelope {
    testing::account_event(&account.snapshot())
}

async fn create<S: AccountAdministration>(store: &S, account: &Account, password: Option<&str>) {
    let written = store
        .create_account(account, password, &event(account))
        .await;
    assert_eq!(written.unwrap(), Written::Done, "{account:?} created");
}

fn stored(account: &Account) -> Option<StoredAccount> {
    Some(StoredAccount {
        account: account.clone(),
        password_hash: None,
    })
}

async fn an_email_makes_one_account<
    S: AccountAdministration + AccountCopies + AccountDirectory + Passwords,
>(
    store: &S,
) {
    let kiwi = account("kiwi@popug.test", Role::Worker);
    assert_eq!(store.account(kiwi.account_id).await.unwrap(), None);
    assert_eq!(store.account_by_email(&kiwi.email).await.unwrap(), None);
    assert_eq!(store.credentials(&kiwi.email).await.unwrap(), None);
    create(store, &kiwi, Some("hash-1")).await;
    assert_eq!(store.account(kiwi.account_id).await.unwrap(), stored(&kiwi));
    assert_eq!(
        store.account_by_email(&kiwi.email).await.unwrap(),
        stored(&kiwi)
    );
    assert_eq!(
        store.account_copy(kiwi.account_id).await.unwrap(),
        Some(kiwi.snapshot())
    );
    let credentials = store.credentials(&kiwi.email).await.unwrap().unwrap();
    assert_eq!(credentials.account, kiwi);
    assert_eq!(credentials.password_hash.as_deref(), Some("hash-1"));
    assert_eq!(credentials.failures, None);

    let twin = account("kiwi@popug.test", Role::Admin);
    let written = store
        .create_account(&twin, Some("hash-2"), &event(&twin))
        .await;
    assert_eq!(written.unwrap(), Written::Lost, "the email is taken");
    assert_eq!(store.account(twin.account_id).await.unwrap(), None);
    let credentials = store.credentials(&kiwi.email).await.unwrap().unwrap();
    assert_eq!(
        (credentials.account, credentials.password_hash.as_deref()),
        (kiwi.clone(), Some("hash-1"))
    );

    // The same id again under another address (a hired account's second delivery racing the
    // first): nothing is written.
    let same_id = Account {
        profile: AccountSnapshot {
            email: "other@popug.test".into(),
            ..kiwi.profile.clone()
        },
        ..kiwi.clone()
    };
    let written = store.create_account(&same_id, None, &event(&same_id)).await;
    assert_eq!(written.unwrap(), Written::Lost, "the id is taken");
    assert_eq!(
        store.account_by_email("other@popug.test").await.unwrap(),
        None
    );
    assert_eq!(store.account(kiwi.account_id).await.unwrap(), stored(&kiwi));

    let mango = account("mango@popug.test", Role::Manager);
    create(store, &mango, None).await;
    let credentials = store.credentials(&mango.email).await.unwrap().unwrap();
    assert_eq!(credentials.password_hash, None, "no password");
    let client = account("client@popug.test", Role::Client);
    create(store, &client, None).await;
    assert_eq!(
        store.account_copy(client.account_id).await.unwrap(),
        Some(client.snapshot())
    );
    assert_eq!(store.account_copy(Uuid::now_v7()).await.unwrap(), None);
}

async fn an_account_changes_only_from_the_revision_before<
    S: AccountAdministration + AccountDirectory,
>(
    store: &S,
) {
    let kiwi = account("kiwi@popug.test", Role::Worker);
    create(store, &kiwi, Some("hash")).await;
    let promoted = Account {
        profile: AccountSnapshot {
            role: Role::Manager,
            full_name: "Kiwi the Second".into(),
            revision: 2,
            ..kiwi.profile.clone()
        },
        ..kiwi.clone()
    };
    let written = store.save_account(&promoted, &event(&promoted)).await;
    assert_eq!(written.unwrap(), Written::Done);
    assert_eq!(
        store.account(kiwi.account_id).await.unwrap(),
        stored(&promoted)
    );
    // Another change made from revision 1.
    let deactivated = Account {
        profile: AccountSnapshot {
            active: false,
            revision: 2,
            ..kiwi.profile.clone()
        },
        ..kiwi.clone()
    };
    let written = store.save_account(&deactivated, &event(&deactivated)).await;
    assert_eq!(written.unwrap(), Written::Lost);
    let skipped = Account {
        profile: AccountSnapshot {
            active: false,
            revision: 4,
            ..promoted.profile.clone()
        },
        ..promoted.clone()
    };
    let written = store.save_account(&skipped, &event(&skipped)).await;
    assert_eq!(written.unwrap(), Written::Lost, "a revision skipped");
    assert_eq!(
        store.account(kiwi.account_id).await.unwrap(),
        stored(&promoted)
    );
    // The email and the creation stay as they were.
    let renamed = Account {
        profile: AccountSnapshot {
            email: "other@popug.test".into(),
            active: false,
            revision: 3,
            ..promoted.profile.clone()
        },
        created_at: at("2020-01-01T00:00:00Z"),
    };
    let written = store.save_account(&renamed, &event(&renamed)).await;
    assert_eq!(written.unwrap(), Written::Done);
    let expected = Account {
        profile: AccountSnapshot {
            active: false,
            revision: 3,
            ..promoted.profile.clone()
        },
        ..promoted
    };
    assert_eq!(
        store.account(kiwi.account_id).await.unwrap(),
        stored(&expected)
    );
    assert_eq!(
        store.account_by_email("kiwi@popug.test").await.unwrap(),
        stored(&expected)
    );
    assert_eq!(
        store.account_by_email("other@popug.test").await.unwrap(),
        None
    );
    let mut ghost = account("ghost@popug.test", Role::Worker);
    ghost.profile.revision = 2;
    let written = store.save_account(&ghost, &event(&ghost)).await;
    assert_eq!(written.unwrap(), Written::Lost, "no such account");
}

async fn accounts_are_listed_by_email_and_paged<S: AccountAdministration + AccountDirectory>(
    store: &S,
) {
    let mut all = Vec::new();
    for name in ["mango", "kiwi", "zebra", "apple", "lime", "fig", "date"] {
        let a = account(&format!("{name}@popug.test"), Role::Worker);
        create(store, &a, None).await;
        all.push(a);
    }
    all.sort_by(|a, b| a.email.cmp(&b.email));
    for limit in [1, 2, 3, 7, 50] {
        let (mut listed, mut after) = (Vec::new(), None::<String>);
        for _ in 0..100 {
            let page = store.accounts(limit, after.as_deref()).await.unwrap();
            assert!(page.accounts.len() <= limit as usize);
            if let Some(next) = &page.next {
                let last = page.accounts.last().map(|a| &a.email);
                assert_eq!(Some(next), last, "the cursor is the last email on the page");
            }
            listed.extend(page.accounts);
            after = page.next;
            if after.is_none() {
                break;
            }
        }
        assert_eq!(listed, all, "by email, each once, by {limit}");
    }
    let first = store.accounts(2, None).await.unwrap();
    assert_eq!(first.next.as_deref(), Some("date@popug.test"));
    let unknown = store.accounts(2, Some("nobody@popug.test")).await;
    assert!(matches!(unknown, Err(AuthError::Invalid(_))), "{unknown:?}");
}

async fn a_refresh_token_is_spent_once_within_its_live_session<S: Sessions>(store: &S) {
    let kiwi = Uuid::now_v7();
    let first = RefreshToken::start_session(kiwi);
    store.start_session(&first, NOW).await.unwrap();
    assert!(
        store.start_session(&first, NOW).await.is_err(),
        "a session starts once"
    );
    assert!(!store.refresh_token_used(&first).await.unwrap());
    let second = first.next();
    let rotated = store.rotate_refresh_token(&first, &second, NOW + 10).await;
    assert_eq!(rotated.unwrap(), Written::Done);
    assert!(store.refresh_token_used(&first).await.unwrap());
    assert!(!store.refresh_token_used(&second).await.unwrap());
    // The spent token again: lost, and nothing is stored for its would-be successor.
    let third = first.next();
    let again = store.rotate_refresh_token(&first, &third, NOW + 20).await;
    assert_eq!(again.unwrap(), Written::Lost);
    let after_third = store
        .rotate_refresh_token(&third, &third.next(), NOW + 20)
        .await;
    assert_eq!(
        after_third.unwrap(),
        Written::Lost,
        "the third was never stored"
    );
    // A successor that exists already.
    let taken = store.rotate_refresh_token(&second, &first, NOW + 20).await;
    assert_eq!(taken.unwrap(), Written::Lost);
    assert!(
        !store.refresh_token_used(&second).await.unwrap(),
        "nothing changed"
    );
    // Presented as someone else's.
    let forged = RefreshToken {
        account_id: Uuid::now_v7(),
        ..copy(&second)
    };
    let stolen = store
        .rotate_refresh_token(&forged, &forged.next(), NOW + 20)
        .await;
    assert_eq!(stolen.unwrap(), Written::Lost);
    // Expired.
    let late = store
        .rotate_refresh_token(&second, &second.next(), NOW + 10 + REFRESH_TOKEN_SECONDS)
        .await;
    assert_eq!(late.unwrap(), Written::Lost);
    assert!(!store.refresh_token_used(&second).await.unwrap());
    let fourth = second.next();
    let rotated = store.rotate_refresh_token(&second, &fourth, NOW + 30).await;
    assert_eq!(rotated.unwrap(), Written::Done);
    // Another session's id on the token: not used in that session.
    let elsewhere = RefreshToken {
        session_id: Uuid::new_v4(),
        ..copy(&second)
    };
    assert!(!store.refresh_token_used(&elsewhere).await.unwrap());
    assert!(!store
        .refresh_token_used(&RefreshToken::start_session(kiwi))
        .await
        .unwrap());
}

async fn a_session_ends_and_a_sign_out_revokes_its_token<S: Sessions>(store: &S) {
    let kiwi = Uuid::now_v7();
    let first = RefreshToken::start_session(kiwi);
    store.start_session(&first, NOW).await.unwrap();
    // Someone else's claim on the session ends nothing.
    let forged = RefreshToken {
        account_id: Uuid::now_v7(),
        ..copy(&first)
    };
    store.end_session(&forged).await.unwrap();
    let next = first.next();
    let rotated = store.rotate_refresh_token(&first, &next, NOW + 1).await;
    assert_eq!(rotated.unwrap(), Written::Done);
    store.end_session(&next).await.unwrap();
    let after_end = store
        .rotate_refresh_token(&next, &next.next(), NOW + 2)
        .await;
    assert_eq!(after_end.unwrap(), Written::Lost, "the session ended");
    store
        .end_session(&RefreshToken::start_session(kiwi))
        .await
        .unwrap();

    let other = RefreshToken::start_session(kiwi);
    store.start_session(&other, NOW).await.unwrap();
    assert_eq!(store.sign_out(&forged).await.unwrap(), Written::Lost);
    let wrong_session = RefreshToken {
        session_id: first.session_id,
        ..copy(&other)
    };
    assert_eq!(store.sign_out(&wrong_session).await.unwrap(), Written::Lost);
    let unknown = RefreshToken::start_session(kiwi);
    assert_eq!(store.sign_out(&unknown).await.unwrap(), Written::Lost);
    let still = store
        .rotate_refresh_token(&other, &other.next(), NOW + 1)
        .await;
    assert_eq!(
        still.unwrap(),
        Written::Done,
        "the refused sign-outs changed nothing"
    );

    let last = RefreshToken::start_session(kiwi);
    store.start_session(&last, NOW).await.unwrap();
    assert_eq!(store.sign_out(&last).await.unwrap(), Written::Done);
    let revoked = store
        .rotate_refresh_token(&last, &last.next(), NOW + 1)
        .await;
    assert_eq!(revoked.unwrap(), Written::Lost);
    assert!(
        !store.refresh_token_used(&last).await.unwrap(),
        "revoked, not used"
    );
}

async fn wrong_passwords_are_counted_and_cleared<S: AccountAdministration + Passwords>(store: &S) {
    let kiwi = account("kiwi@popug.test", Role::Worker);
    create(store, &kiwi, Some("hash")).await;
    let failures = || async {
        store
            .credentials(&kiwi.email)
            .await
            .unwrap()
            .unwrap()
            .failures
    };
    store
        .count_password_failure(kiwi.account_id, NOW)
        .await
        .unwrap();
    store
        .count_password_failure(kiwi.account_id, NOW + 5)
        .await
        .unwrap();
    assert_eq!(
        failures().await,
        Some(Failures {
            count: 2,
            last_at: NOW + 5
        })
    );
    store
        .clear_password_failures(kiwi.account_id)
        .await
        .unwrap();
    assert_eq!(failures().await, None);
    store
        .clear_password_failures(kiwi.account_id)
        .await
        .unwrap();
    store
        .count_password_failure(kiwi.account_id, NOW + 9)
        .await
        .unwrap();
    assert_eq!(
        failures().await,
        Some(Failures {
            count: 1,
            last_at: NOW + 9
        })
    );
}

fn challenge(code: &str, version: u64) -> Challenge {
    Challenge {
        code_hash: code.into(),
        expires_at: NOW + 600,
        guesses: 0,
        window_started_at: NOW,
        codes_in_window: version as u32,
        version,
        wrong: WrongGuesses::default(),
    }
}

async fn a_code_is_saved_from_the_version_read_and_keeps_the_wrong_guesses<S: Challenges>(
    store: &S,
) {
    let email = "kiwi@popug.test";
    assert_eq!(store.challenge(email).await.unwrap(), None);
    // No code yet: a wrong guess has nothing to count on.
    store
        .count_wrong_guess(email, &WrongGuesses::default(), NOW)
        .await
        .unwrap();
    assert_eq!(store.challenge(email).await.unwrap(), None);
    assert_eq!(
        store
            .save_challenge(email, &challenge("c2", 2))
            .await
            .unwrap(),
        Written::Lost,
        "version 2 of nothing"
    );
    let first = challenge("c1", 1);
    assert_eq!(
        store.save_challenge(email, &first).await.unwrap(),
        Written::Done
    );
    assert_eq!(store.challenge(email).await.unwrap(), Some(first.clone()));
    assert_eq!(
        store
            .save_challenge(email, &challenge("c1b", 1))
            .await
            .unwrap(),
        Written::Lost,
        "there is one already"
    );

    store
        .count_wrong_guess(email, &WrongGuesses::default(), NOW + 1)
        .await
        .unwrap();
    let seen = store.challenge(email).await.unwrap().unwrap().wrong;
    assert_eq!(
        seen,
        WrongGuesses {
            failures: 1,
            failed_at: NOW + 1
        }
    );
    // A caller that read stale guesses still counts right.
    store
        .count_wrong_guess(email, &WrongGuesses::default(), NOW + 2)
        .await
        .unwrap();
    store
        .count_wrong_guess(email, &seen, NOW + 3)
        .await
        .unwrap();
    let wrong = WrongGuesses {
        failures: 3,
        failed_at: NOW + 3,
    };
    assert_eq!(store.challenge(email).await.unwrap().unwrap().wrong, wrong);

    // A new code leaves the wrong guesses as they are, whatever the challenge says of them.
    let second = Challenge {
        wrong: WrongGuesses::default(),
        ..challenge("c2", 2)
    };
    assert_eq!(
        store.save_challenge(email, &second).await.unwrap(),
        Written::Done
    );
    assert_eq!(
        store.challenge(email).await.unwrap(),
        Some(Challenge {
            wrong,
            ..second.clone()
        })
    );
    assert_eq!(
        store
            .save_challenge(email, &challenge("c2b", 2))
            .await
            .unwrap(),
        Written::Lost,
        "from version 1, but it is at 2"
    );

    // Forgotten after a quiet day: they start afresh.
    let later = NOW + 3 + FORGET_AFTER_SECONDS;
    store.count_wrong_guess(email, &wrong, later).await.unwrap();
    assert_eq!(
        store.challenge(email).await.unwrap().unwrap().wrong,
        WrongGuesses {
            failures: 1,
            failed_at: later
        }
    );
}

async fn a_code_takes_its_guesses_and_is_spent_once<S: Challenges>(store: &S) {
    let email = "kiwi@popug.test";
    let code = challenge("c1", 1);
    assert_eq!(
        store.take_guess(email, &code).await.unwrap(),
        Written::Lost,
        "no code"
    );
    assert_eq!(
        store.save_challenge(email, &code).await.unwrap(),
        Written::Done
    );
    for guess in 1..=MAX_GUESSES {
        assert_eq!(
            store.take_guess(email, &code).await.unwrap(),
            Written::Done,
            "guess {guess}"
        );
    }
    assert_eq!(
        store.take_guess(email, &code).await.unwrap(),
        Written::Lost,
        "no guesses left"
    );
    assert_eq!(
        store.challenge(email).await.unwrap().unwrap().guesses,
        MAX_GUESSES
    );

    let second = challenge("c2", 2);
    assert_eq!(
        store.save_challenge(email, &second).await.unwrap(),
        Written::Done
    );
    assert_eq!(store.challenge(email).await.unwrap().unwrap().guesses, 0);
    assert_eq!(
        store.take_guess(email, &code).await.unwrap(),
        Written::Lost,
        "a guess at the code replaced"
    );
    assert_eq!(
        store.take_guess(email, &second).await.unwrap(),
        Written::Done
    );
    store
        .count_wrong_guess(email, &WrongGuesses::default(), NOW)
        .await
        .unwrap();

    assert_eq!(
        store.spend_challenge(email, &code).await.unwrap(),
        Written::Lost,
        "the version guessed is gone"
    );
    let guessed = store.challenge(email).await.unwrap().unwrap();
    assert_eq!(
        store.spend_challenge(email, &guessed).await.unwrap(),
        Written::Done
    );
    let spent = store.challenge(email).await.unwrap().unwrap();
    assert_eq!(
        spent,
        Challenge {
            expires_at: 0,
            version: 3,
            wrong: WrongGuesses::default(),
            ..guessed.clone()
        },
        "spent, and the wrong guesses cleared"
    );
    assert_eq!(
        store.spend_challenge(email, &guessed).await.unwrap(),
        Written::Lost,
        "a code signs in once"
    );
    assert_eq!(
        store
            .spend_challenge("nobody@popug.test", &guessed)
            .await
            .unwrap(),
        Written::Lost
    );
}
