//! Notifications' use cases on the in-memory store and courier: the requirements (SPEC
//! "Notifications", B5's mail, M1's and M9's mails to applicants), without HTTP or AWS. The same use cases run on DynamoDB in
//! `flows.rs`.

use ates_kernel::contracts::accounting::StatementRequested;
use ates_kernel::contracts::accounts::AccountSnapshot;
use ates_kernel::contracts::hiring::{
    ApplicationAccepted, ApplicationDeclined, ApplicationSubmitted, ApplicationTestAssigned,
    ApplicationTestSubmitted, Kind as Applying,
};
use ates_kernel::event::{Cause, Envelope};
use ates_kernel::identity::{Claims, NotAllowed, Refused, Role};
use ates_kernel::inbox::{ConsumeError, Delivery, Outcome};
use ates_kernel::testing::{account, account_event, claims};
use ates_kernel::usecase::Failure;
use ates_notifications::app::MessageHistory;
use ates_notifications::app::Messages;
use ates_notifications::app::{self, Undelivered};
use ates_notifications::error::NotificationError;
use ates_notifications::memory::{MemoryStore, RecordingCourier};
use ates_notifications::message::{Channel, Kind, Status};
use chrono::{Duration, NaiveDate, Utc};
use serde_json::json;
use uuid::Uuid;

const MAX_RECEIVE_COUNT: u32 = 5;

fn delivery(receive_count: u32) -> Delivery {
    Delivery {
        receive_count,
        max_receive_count: MAX_RECEIVE_COUNT,
        replayed: false,
    }
}

async fn kiwi(store: &MemoryStore) -> Uuid {
    let kiwi = account("Kiwi", Role::Worker);
    let outcome = app::sync_account(store, &account_event(&kiwi)).await;
    assert_eq!(outcome.unwrap(), Outcome::Applied);
    kiwi.account_id
}

/// An admin's proof, as the HTTP edge makes it from the caller.
fn admin() -> Claims {
    claims(Uuid::new_v4(), Role::Admin)
}

fn date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 20).unwrap()
}

/// A day that ended with `closing` cents: paid out if positive, carried if negative.
fn statement(account: Uuid, fees: i64, rewards: i64) -> StatementRequested {
    let closing = fees + rewards;
    StatementRequested {
        statement_id: format!("statement:{account}:{}", date()),
        account_id: account,
        business_date: date(),
        opening_balance_cents: 0,
        fees_cents: fees,
        rewards_cents: rewards,
        closing_balance_cents: closing,
        paid_cents: closing.max(0),
        carried_cents: closing.min(0),
        currency: "USD".into(),
    }
}

fn requested(statement: &StatementRequested) -> Envelope {
    Envelope::wrap(
        "accounting",
        statement,
        &Cause::request("close"),
        Utc::now(),
    )
    .unwrap()
}

#[tokio::test]
async fn a_statement_delivered_three_times_is_mailed_once() {
    let (store, courier) = (MemoryStore::default(), RecordingCourier::default());
    let account = kiwi(&store).await;
    let event = requested(&statement(account, -3000, 4900));
    let now = Utc::now();
    let outcomes = [
        app::send_statement(&store, &courier, &event, delivery(1), now).await,
        app::send_statement(&store, &courier, &event, delivery(2), now).await,
        // The same request again under another event id (a republished outbox record).
        app::send_statement(
            &store,
            &courier,
            &Envelope {
                id: Uuid::now_v7(),
                ..event.clone()
            },
            delivery(1),
            now,
        )
        .await,
    ];
    let outcomes: Vec<Outcome> = outcomes.into_iter().map(Result::unwrap).collect();
    assert_eq!(
        outcomes,
        [Outcome::Applied, Outcome::Duplicate, Outcome::Duplicate]
    );
    let delivered = courier.delivered();
    assert_eq!(delivered.len(), 1, "one mail per account and day");
    let (message, _) = &delivered[0];
    assert_eq!(message.to, "kiwi@popug.test");
    let stored = store.message(&message.message_id).await.unwrap().unwrap();
    assert_eq!(stored.status, Status::Sent);
    assert_eq!(stored.attempts, 1);
    assert!(stored.sent_at.is_some());
    assert_eq!(
        (stored.channel, stored.kind, stored.business_date),
        (Channel::Email, Kind::DailyStatement, Some(date()))
    );
}

#[tokio::test]
async fn a_statement_for_an_account_not_known_yet_waits_for_the_account() {
    let (store, courier) = (MemoryStore::default(), RecordingCourier::default());
    let late = account("Late", Role::Worker);
    let account = late.account_id;
    let event = requested(&statement(account, -1000, 0));
    let early = app::send_statement(&store, &courier, &event, delivery(1), Utc::now()).await;
    assert!(
        matches!(early, Err(ConsumeError::Retry(_))),
        "retried, not poison: {early:?}"
    );
    assert!(courier.delivered().is_empty());
    assert!(store
        .messages_to(account, 10, None)
        .await
        .unwrap()
        .items
        .is_empty());

    // Account.Created arrives; the redelivery mails it.
    app::sync_account(&store, &account_event(&late))
        .await
        .unwrap();
    let later = app::send_statement(&store, &courier, &event, delivery(2), Utc::now()).await;
    assert_eq!(later.unwrap(), Outcome::Applied);
    assert_eq!(courier.delivered()[0].0.to, "late@popug.test");
}

#[tokio::test]
async fn a_mail_the_channel_does_not_take_is_retrying_and_then_failed_on_the_last_delivery() {
    let (store, courier) = (MemoryStore::default(), RecordingCourier::default());
    let account = kiwi(&store).await;
    let event = requested(&statement(account, -1500, 0));
    let id = format!("statement:{account}:{}", date());
    courier.fail_with(
        (0..MAX_RECEIVE_COUNT).map(|_| Undelivered::Failed("TooManyRequestsException".into())),
    );
    for receive_count in 1..=MAX_RECEIVE_COUNT {
        let result = app::send_statement(
            &store,
            &courier,
            &event,
            delivery(receive_count),
            Utc::now(),
        )
        .await;
        assert!(matches!(result, Err(ConsumeError::Retry(_))), "{result:?}");
        let message = store.message(&id).await.unwrap().unwrap();
        assert_eq!(message.attempts, receive_count);
        let expected = if receive_count < MAX_RECEIVE_COUNT {
            Status::Retrying
        } else {
            Status::Failed
        };
        assert_eq!(message.status, expected, "after delivery {receive_count}");
        assert!(message.sent_at.is_none());
    }
    assert!(courier.delivered().is_empty());

    // Redriven from the dead-letter queue once SES is back: sent, on its sixth attempt.
    let redriven = app::send_statement(&store, &courier, &event, delivery(1), Utc::now()).await;
    assert_eq!(redriven.unwrap(), Outcome::Applied);
    let message = store.message(&id).await.unwrap().unwrap();
    assert_eq!((message.status, message.attempts), (Status::Sent, 6));
}

#[tokio::test]
async fn a_mail_the_channel_rejects_is_failed_and_parked_at_once() {
    let (store, courier) = (MemoryStore::default(), RecordingCourier::default());
    let account = kiwi(&store).await;
    let event = requested(&statement(account, -1500, 0));
    courier.fail_with([Undelivered::Rejected("MessageRejected: bad address".into())]);
    let result = app::send_statement(&store, &courier, &event, delivery(1), Utc::now()).await;
    assert!(matches!(result, Err(ConsumeError::Poison(_))), "{result:?}");
    let message = store
        .message(&format!("statement:{account}:{}", date()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(message.status, Status::Failed);
}

#[tokio::test]
async fn a_delivery_waits_while_another_one_is_sending_and_takes_over_when_it_died() {
    let (store, courier) = (MemoryStore::default(), RecordingCourier::default());
    let account = kiwi(&store).await;
    let event = requested(&statement(account, 0, 2000));
    let id = format!("statement:{account}:{}", date());
    // A delivery claimed the message and died before SES answered (or before it marked `sent`).
    let t0 = Utc::now();
    courier.fail_with([Undelivered::Failed("unused".into())]);
    app::send_statement(&store, &courier, &event, delivery(1), t0)
        .await
        .unwrap_err();
    let claimed = store.message(&id).await.unwrap().unwrap();
    let sending = ates_notifications::message::Message {
        status: Status::Sending,
        version: claimed.version + 1,
        ..claimed.clone()
    };
    assert!(store.save_message(&sending, Some(&claimed)).await.unwrap());

    let soon = app::send_statement(&store, &courier, &event, delivery(2), t0).await;
    assert!(
        matches!(soon, Err(ConsumeError::Retry(_))),
        "a claim within its lease may still be sending: {soon:?}"
    );
    assert!(courier.delivered().is_empty());
    let later = app::send_statement(
        &store,
        &courier,
        &event,
        delivery(3),
        t0 + Duration::minutes(3),
    )
    .await;
    assert_eq!(
        later.unwrap(),
        Outcome::Applied,
        "the dead sender's claim is taken over"
    );
    assert_eq!(courier.delivered().len(), 1);
}

#[tokio::test]
async fn a_statement_reads_the_payout_or_the_debt_with_the_days_fees_and_rewards() {
    let (store, courier) = (MemoryStore::default(), RecordingCourier::default());
    let paid = kiwi(&store).await;
    let indebted = kiwi(&store).await;
    for (account, fees, rewards) in [(paid, -3000, 4900), (indebted, -2500, 2000)] {
        let event = requested(&statement(account, fees, rewards));
        app::send_statement(&store, &courier, &event, delivery(1), Utc::now())
            .await
            .unwrap();
    }
    let delivered = courier.delivered();
    let (_, payout) = &delivered[0];
    assert!(
        payout.subject.contains("$19.00 paid out"),
        "{}",
        payout.subject
    );
    for body in [&payout.text, &payout.html] {
        for amount in ["-$30.00", "$49.00", "Paid out: $19.00"] {
            assert!(body.contains(amount), "{amount} in {body}");
        }
        assert!(body.contains("Kiwi") && body.contains("2026-11-20"));
        assert!(!body.contains("carried"));
    }
    let (_, debt) = &delivered[1];
    assert!(
        debt.subject.contains("-$5.00 carried over"),
        "{}",
        debt.subject
    );
    for body in [&debt.text, &debt.html] {
        for amount in ["-$25.00", "$20.00", "Debt carried over: -$5.00"] {
            assert!(body.contains(amount), "{amount} in {body}");
        }
        assert!(!body.contains("Paid out"));
    }
    assert!(payout.html.starts_with("<!DOCTYPE html>"));
}

#[tokio::test]
async fn a_request_that_can_never_be_mailed_is_poison() {
    let (store, courier) = (MemoryStore::default(), RecordingCourier::default());
    let account = kiwi(&store).await;
    let mut euros = requested(&statement(account, -1000, 0));
    euros.data["currency"] = json!("EUR");
    let mut unreadable = requested(&statement(account, -1000, 0));
    unreadable.data = json!({"statement_id": 7});
    let mut future = requested(&statement(account, -1000, 0));
    future.version = 2;
    for event in [euros, unreadable, future] {
        let result = app::send_statement(&store, &courier, &event, delivery(1), Utc::now()).await;
        assert!(matches!(result, Err(ConsumeError::Poison(_))), "{result:?}");
    }
    assert!(courier.delivered().is_empty());
}

#[tokio::test]
async fn a_statement_goes_to_the_newest_address_whatever_order_the_changes_came_in() {
    let (store, courier) = (MemoryStore::default(), RecordingCourier::default());
    let kiwi = account("Kiwi", Role::Worker);
    let moved = AccountSnapshot {
        email: "kiwi@new.popug.test".into(),
        revision: 3,
        ..kiwi.clone()
    };
    let stale = AccountSnapshot {
        email: "kiwi@old.popug.test".into(),
        revision: 2,
        ..kiwi.clone()
    };
    for change in [&kiwi, &moved, &stale] {
        app::sync_account(&store, &account_event(change))
            .await
            .unwrap();
    }
    let event = requested(&statement(kiwi.account_id, -3000, 4900));
    app::send_statement(&store, &courier, &event, delivery(1), Utc::now())
        .await
        .unwrap();
    let to: Vec<String> = courier.delivered().into_iter().map(|(m, _)| m.to).collect();
    assert_eq!(to, ["kiwi@new.popug.test"]);
}

#[tokio::test]
async fn the_history_shows_an_accounts_messages_newest_first_a_page_at_a_time() {
    let (store, courier) = (MemoryStore::default(), RecordingCourier::default());
    let account = kiwi(&store).await;
    let other = kiwi(&store).await;
    let t0 = Utc::now();
    for day in 0..3 {
        let mut s = statement(account, -1000, 0);
        s.business_date = date() + Duration::days(day);
        s.statement_id = format!("statement:{account}:{}", s.business_date);
        let now = t0 + Duration::days(day);
        app::send_statement(&store, &courier, &requested(&s), delivery(1), now)
            .await
            .unwrap();
    }
    app::send_statement(
        &store,
        &courier,
        &requested(&statement(other, 0, 2000)),
        delivery(1),
        t0,
    )
    .await
    .unwrap();

    let first = app::my_messages(&store, &claims(account, Role::Worker), 2, None)
        .await
        .unwrap();
    let dates: Vec<String> = first
        .items
        .iter()
        .map(|m| m.business_date.unwrap().to_string())
        .collect();
    assert_eq!(dates, ["2026-11-22", "2026-11-21"]);
    let rest = app::my_messages(
        &store,
        &claims(account, Role::Worker),
        2,
        first.next_cursor.as_deref(),
    )
    .await
    .unwrap();
    assert_eq!(rest.items.len(), 1);
    assert_eq!(rest.items[0].business_date, Some(date()));
    assert!(rest.next_cursor.is_none());
    assert_eq!(
        app::all_messages(&store, &admin(), false, 10, None)
            .await
            .unwrap()
            .items
            .len(),
        4
    );
}

#[tokio::test]
async fn only_admins_read_everyones_messages() {
    let store = MemoryStore::default();
    for role in [Role::Manager, Role::Accountant, Role::Worker] {
        let refused =
            app::all_messages(&store, &claims(Uuid::new_v4(), role), false, 10, None).await;
        assert!(
            matches!(refused, Err(NotificationError::Failed(Failure::Refused(Refused::NotAllowed(n)))) if n == NotAllowed { role }),
            "{role}"
        );
    }
    let demoted = account("Demoted", Role::Worker);
    app::sync_account(&store, &account_event(&demoted))
        .await
        .unwrap();
    let refused = app::all_messages(
        &store,
        &claims(demoted.account_id, Role::Admin),
        false,
        10,
        None,
    )
    .await;
    assert!(
        matches!(
            refused,
            Err(NotificationError::Failed(Failure::Refused(
                Refused::NotAllowed(_)
            )))
        ),
        "the account's role counts, not the token's"
    );
    assert!(app::all_messages(&store, &admin(), false, 10, None)
        .await
        .is_ok());
}

// ---------------------------------------------------------------- an applicant's mails (M1, M9)

const SITE: &str = "https://ates.test";

fn hiring_event(payload: &impl ates_kernel::event::DomainEvent) -> Envelope {
    Envelope::wrap("hiring", payload, &Cause::request("apply"), Utc::now()).unwrap()
}

/// The events of one application, as hiring publishes them.
struct Application {
    id: Uuid,
    account: Uuid,
}

impl Application {
    fn new() -> Application {
        let id = Uuid::now_v7();
        Application {
            id,
            account: Uuid::new_v5(&Uuid::NAMESPACE_OID, id.as_bytes()),
        }
    }

    fn submitted(&self, kind: Applying) -> Envelope {
        hiring_event(&ApplicationSubmitted {
            application_id: self.id,
            kind,
            email: "kea@popug.test".into(),
            full_name: "Kea Popug".into(),
            submitted_at: Utc::now(),
        })
    }

    fn test_assigned(&self, deadline: &str) -> Envelope {
        hiring_event(&ApplicationTestAssigned {
            application_id: self.id,
            email: "kea@popug.test".into(),
            full_name: "Kea Popug".into(),
            profile_id: Uuid::now_v7(),
            profile_revision: 1,
            deadline: deadline.parse().unwrap(),
            assigned_by: Uuid::now_v7(),
            assigned_at: Utc::now(),
        })
    }

    fn accepted(&self, role: Applying) -> Envelope {
        hiring_event(&ApplicationAccepted {
            application_id: self.id,
            account_id: self.account,
            email: "kea@popug.test".into(),
            full_name: "Kea Popug".into(),
            role,
            accepted_by: Uuid::now_v7(),
            accepted_at: Utc::now(),
        })
    }

    fn declined(&self, reason: &str) -> Envelope {
        hiring_event(&ApplicationDeclined {
            application_id: self.id,
            kind: Applying::Worker,
            email: "kea@popug.test".into(),
            full_name: "Kea Popug".into(),
            reason: reason.into(),
            declined_by: Some(Uuid::now_v7()),
            declined_at: Utc::now(),
        })
    }
}

async fn mail(
    store: &MemoryStore,
    courier: &RecordingCourier,
    event: &Envelope,
) -> Result<Outcome, ConsumeError> {
    app::mail_applicant(store, courier, SITE, event, delivery(1), Utc::now()).await
}

#[tokio::test]
async fn a_worker_applicant_is_mailed_the_receipt_the_test_and_the_welcome() {
    let (store, courier) = (MemoryStore::default(), RecordingCourier::default());
    let kea = Application::new();
    for event in [
        kea.submitted(Applying::Worker),
        kea.test_assigned("2026-12-08T10:30:00Z"),
        kea.accepted(Applying::Worker),
    ] {
        assert_eq!(
            mail(&store, &courier, &event).await.unwrap(),
            Outcome::Applied
        );
    }
    let delivered = courier.delivered();
    let kinds: Vec<Kind> = delivered.iter().map(|(m, _)| m.kind).collect();
    assert_eq!(
        kinds,
        [
            Kind::ApplicationReceived,
            Kind::TestAssigned,
            Kind::ApplicationAccepted
        ]
    );
    for (message, content) in &delivered {
        assert_eq!(message.to, "kea@popug.test");
        assert_eq!(message.business_date, None);
        assert!(
            content.text.starts_with("Hello Kea Popug,"),
            "{}",
            content.text
        );
        let stored = store.message(&message.message_id).await.unwrap().unwrap();
        assert_eq!((stored.status, stored.attempts), (Status::Sent, 1));
    }

    let (received, receipt) = &delivered[0];
    assert_eq!(
        received.message_id,
        format!("application:{}:received", kea.id)
    );
    assert_eq!(received.account_id, None, "an applicant has no account");
    assert!(receipt
        .subject
        .contains("received your application as a worker"));
    assert!(
        receipt.text.contains("a manager gives you a short test"),
        "{}",
        receipt.text
    );

    let (_, test) = &delivered[1];
    let due = "Tuesday 8 December 2026, 10:30 UTC";
    assert!(test.subject.contains(due), "{}", test.subject);
    assert!(test.text.contains(due) && test.text.contains("the link in the mail"));

    let (welcomed, welcome) = &delivered[2];
    assert_eq!(
        welcomed.message_id,
        format!("application:{}:accepted", kea.id)
    );
    assert_eq!(welcomed.account_id, Some(kea.account), "the new account's");
    assert!(welcome.subject.contains("Welcome to UberPopug, Kea Popug"));
    for words in [
        "you join as a worker",
        "open https://ates.test/#/sign-in",
        "(kea@popug.test) and ask for a code",
    ] {
        assert!(welcome.text.contains(words), "{words} in {}", welcome.text);
    }
    assert!(welcome.html.contains("https://ates.test/#/sign-in"));
}

#[tokio::test]
async fn a_declined_applicant_is_mailed_the_reason_as_written() {
    let (store, courier) = (MemoryStore::default(), RecordingCourier::default());
    let kea = Application::new();
    let reason = "Your score was below the pass mark.\nYou may apply again in a month.";
    mail(&store, &courier, &kea.declined(reason)).await.unwrap();
    let (message, content) = &courier.delivered()[0];
    assert_eq!(message.kind, Kind::ApplicationDeclined);
    assert_eq!(
        message.message_id,
        format!("application:{}:declined", kea.id)
    );
    assert!(content.subject.contains("declined"), "{}", content.subject);
    assert!(content.text.contains(reason), "{}", content.text);
    assert!(content.text.contains("Kea Popug"));
}

#[tokio::test]
async fn a_step_delivered_again_is_mailed_once() {
    let (store, courier) = (MemoryStore::default(), RecordingCourier::default());
    let kea = Application::new();
    let accepted = kea.accepted(Applying::Client);
    let republished = Envelope {
        id: Uuid::now_v7(),
        ..accepted.clone()
    };
    let outcomes = [
        mail(&store, &courier, &accepted).await.unwrap(),
        mail(&store, &courier, &accepted).await.unwrap(),
        mail(&store, &courier, &republished).await.unwrap(),
    ];
    assert_eq!(
        outcomes,
        [Outcome::Applied, Outcome::Duplicate, Outcome::Duplicate]
    );
    assert_eq!(courier.delivered().len(), 1, "one welcome");
    let all = app::all_messages(&store, &admin(), false, 10, None)
        .await
        .unwrap();
    assert_eq!(all.items.len(), 1);
    assert_eq!(all.items[0].attempts, 1);
}

#[tokio::test]
async fn steps_delivered_out_of_order_are_each_mailed_once() {
    let (store, courier) = (MemoryStore::default(), RecordingCourier::default());
    let kea = Application::new();
    // The decline overtook the receipt on its way (separate events, any order).
    let declined = kea.declined("The deadline passed.");
    let submitted = kea.submitted(Applying::Manager);
    for event in [&declined, &submitted, &declined, &submitted] {
        mail(&store, &courier, event).await.unwrap();
    }
    let kinds: Vec<Kind> = courier.delivered().iter().map(|(m, _)| m.kind).collect();
    assert_eq!(
        kinds,
        [Kind::ApplicationDeclined, Kind::ApplicationReceived]
    );
    let (_, receipt) = &courier.delivered()[1];
    assert!(
        receipt.text.contains("an admin reviews"),
        "{}",
        receipt.text
    );
}

#[tokio::test]
async fn the_welcome_is_in_the_new_accounts_own_history_and_the_rest_only_in_everyones() {
    let (store, courier) = (MemoryStore::default(), RecordingCourier::default());
    let kea = Application::new();
    for event in [
        kea.submitted(Applying::Manager),
        kea.accepted(Applying::Manager),
    ] {
        mail(&store, &courier, &event).await.unwrap();
    }
    let mine = app::my_messages(&store, &claims(kea.account, Role::Manager), 10, None)
        .await
        .unwrap();
    let kinds: Vec<Kind> = mine.items.iter().map(|m| m.kind).collect();
    assert_eq!(kinds, [Kind::ApplicationAccepted]);
    let all = app::all_messages(&store, &admin(), false, 10, None)
        .await
        .unwrap();
    assert_eq!(all.items.len(), 2);
}

#[tokio::test]
async fn an_applicant_address_the_channel_rejects_is_failed_and_parked_and_a_slow_one_retried() {
    let (store, courier) = (MemoryStore::default(), RecordingCourier::default());
    let kea = Application::new();
    let submitted = kea.submitted(Applying::Worker);
    courier.fail_with([Undelivered::Failed("TooManyRequestsException".into())]);
    let throttled = mail(&store, &courier, &submitted).await;
    assert!(
        matches!(throttled, Err(ConsumeError::Retry(_))),
        "{throttled:?}"
    );
    let id = format!("application:{}:received", kea.id);
    let message = store.message(&id).await.unwrap().unwrap();
    assert_eq!(message.status, Status::Retrying);
    assert_eq!(
        mail(&store, &courier, &submitted).await.unwrap(),
        Outcome::Applied
    );
    let message = store.message(&id).await.unwrap().unwrap();
    assert_eq!((message.status, message.attempts), (Status::Sent, 2));

    courier.fail_with([Undelivered::Rejected("MessageRejected: bad address".into())]);
    let rejected = mail(&store, &courier, &kea.declined("No.")).await;
    assert!(
        matches!(rejected, Err(ConsumeError::Poison(_))),
        "{rejected:?}"
    );
    let id = format!("application:{}:declined", kea.id);
    assert_eq!(
        store.message(&id).await.unwrap().unwrap().status,
        Status::Failed
    );
}

#[tokio::test]
async fn an_event_that_is_no_step_an_applicant_is_mailed_about_is_poison() {
    let (store, courier) = (MemoryStore::default(), RecordingCourier::default());
    let kea = Application::new();
    let scored = hiring_event(&ApplicationTestSubmitted {
        application_id: kea.id,
        score: 5,
        max_score: 5,
        passed: true,
        submitted_at: Utc::now(),
    });
    let mut future = kea.submitted(Applying::Worker);
    future.version = 2;
    let mut unreadable = kea.accepted(Applying::Worker);
    unreadable.data = json!({"application_id": 7});
    for event in [scored, future, unreadable] {
        let result = mail(&store, &courier, &event).await;
        assert!(matches!(result, Err(ConsumeError::Poison(_))), "{result:?}");
    }
    assert!(courier.delivered().is_empty());
    assert!(app::all_messages(&store, &admin(), false, 10, None)
        .await
        .unwrap()
        .items
        .is_empty());
}
