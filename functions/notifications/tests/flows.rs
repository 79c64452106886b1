//! Notifications against the emulator: the DynamoDB store, SES through the kernel's mailer, and
//! the routes called as API Gateway would call them.

use ates_kernel::contracts::accounting::StatementRequested;
use ates_kernel::contracts::accounts::AccountSnapshot;
use ates_kernel::copies::KeepsAccountCopies;
use ates_kernel::event::{Cause, Envelope};
use ates_kernel::identity::Role;
use ates_kernel::inbox::{ConsumeError, Delivery, Outcome};
use ates_kernel::mail::Mailer;
use ates_kernel::testing::{self, answer as read, api_request, Emulator};
use ates_notifications::app::Messages;
use ates_notifications::app::{self};
use ates_notifications::mail::Ses;
use ates_notifications::message::Status;
use ates_notifications::{api, store::Store};
use chrono::{NaiveDate, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

const FROM: &str = "no-reply@ates.local";

struct Notifications {
    emulator: Emulator,
    config: aws_config::SdkConfig,
    store: Store,
    ses: Ses,
}

impl Notifications {
    async fn start() -> Notifications {
        let (emulator, config, table) = Emulator::with_table("NotificationsTable").await;
        aws_sdk_sesv2::Client::new(&config)
            .create_email_identity()
            .email_identity(FROM)
            .send()
            .await
            .unwrap();
        Notifications {
            store: Store::new(table),
            ses: Ses(Mailer::new(&config, FROM.into())),
            config,
            emulator,
        }
    }

    /// An account as the auth context announced it.
    async fn account(&self, name: &str) -> AccountSnapshot {
        let account = AccountSnapshot {
            email: format!("{}@popug.test", Uuid::new_v4()),
            ..testing::account(name, Role::Worker)
        };
        let event = testing::account_event(&account);
        assert_eq!(
            self.store.save_account(&account, &event).await.unwrap(),
            Outcome::Applied
        );
        account
    }

    /// The mail SES accepted, as the emulator keeps it.
    fn mail_to(&self, to: &str) -> Vec<Value> {
        let data: Value = ureq::get(&format!("{}/moto-api/data.json", self.emulator.endpoint))
            .call()
            .unwrap()
            .into_json()
            .unwrap();
        ["ses", "sesv2"]
            .iter()
            .filter_map(|service| data.pointer(&format!("/{service}/Message")))
            .filter_map(Value::as_array)
            .flatten()
            .filter(|m| m.to_string().contains(to))
            .cloned()
            .collect()
    }

    async fn send(&self, event: &Envelope, receive_count: u32) -> Result<Outcome, ConsumeError> {
        let delivery = Delivery {
            receive_count,
            max_receive_count: 5,
            replayed: false,
        };
        app::send_statement(&self.store, &self.ses, event, delivery, Utc::now()).await
    }
}

fn statement(account: Uuid, date: NaiveDate, fees: i64, rewards: i64) -> Envelope {
    let closing = fees + rewards;
    let statement = StatementRequested {
        statement_id: format!("statement:{account}:{date}"),
        account_id: account,
        business_date: date,
        opening_balance_cents: 0,
        fees_cents: fees,
        rewards_cents: rewards,
        closing_balance_cents: closing,
        paid_cents: closing.max(0),
        carried_cents: closing.min(0),
        currency: "USD".into(),
    };
    Envelope::wrap(
        "accounting",
        &statement,
        &Cause::request("close"),
        Utc::now(),
    )
    .unwrap()
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
}

#[tokio::test]
async fn a_statement_delivered_three_times_reaches_ses_once_and_its_history_says_sent() {
    let n = Notifications::start().await;
    let kiwi = n.account("Kiwi").await;
    let event = statement(kiwi.account_id, day(20), -3000, 4900);
    let outcomes = [
        n.send(&event, 1).await.unwrap(),
        n.send(&event, 2).await.unwrap(),
        n.send(&event, 3).await.unwrap(),
    ];
    assert_eq!(
        outcomes,
        [Outcome::Applied, Outcome::Duplicate, Outcome::Duplicate]
    );
    let mail = n.mail_to(&kiwi.email);
    assert_eq!(mail.len(), 1, "one mail: {mail:?}");
    let text = mail[0].to_string();
    assert!(text.contains("$19.00 paid out"), "{text}");
    assert!(
        text.contains("-$30.00") && text.contains("$49.00"),
        "{text}"
    );

    let me = kiwi.account_id.to_string();
    let (status, history) = read(
        api::list_my_messages(
            &n.store,
            api_request(
                "GET",
                "/notifications/mine",
                "/notifications/mine",
                None,
                Some((&me, Role::Worker)),
            ),
        )
        .await,
    );
    assert_eq!(status, 200, "{history}");
    let message = &history["messages"][0];
    assert_eq!(
        message,
        &json!({
            "message_id": format!("statement:{me}:2026-11-20"), "account_id": me,
            "channel": "email", "to": kiwi.email, "subject": message["subject"],
            "kind": "daily_statement", "business_date": "2026-11-20", "status": "sent",
            "attempts": 1, "created_at": message["created_at"], "sent_at": message["sent_at"],
            "last_error": null, "sent_by": null
        })
    );
    assert!(message["sent_at"].is_string());
}

#[tokio::test]
async fn a_mail_ses_rejects_is_failed_and_poison() {
    let n = Notifications::start().await;
    let kiwi = n.account("Kiwi").await;
    // A sender SES has not verified: SES refuses the message itself.
    let unverified = Ses(Mailer::new(&n.config, "nobody@elsewhere.example".into()));
    let event = statement(kiwi.account_id, day(20), -1500, 0);
    let delivery = Delivery {
        receive_count: 1,
        max_receive_count: 5,
        replayed: false,
    };
    let result = app::send_statement(&n.store, &unverified, &event, delivery, Utc::now()).await;
    assert!(matches!(result, Err(ConsumeError::Poison(_))), "{result:?}");
    let id = format!("statement:{}:2026-11-20", kiwi.account_id);
    let message = n.store.message(&id).await.unwrap().unwrap();
    assert_eq!((message.status, message.attempts), (Status::Failed, 1));
    assert!(n.mail_to(&kiwi.email).is_empty());

    // Redriven once the sender is fixed: sent, on the second attempt.
    assert_eq!(n.send(&event, 1).await.unwrap(), Outcome::Applied);
    let message = n.store.message(&id).await.unwrap().unwrap();
    assert_eq!((message.status, message.attempts), (Status::Sent, 2));
    assert_eq!(n.mail_to(&kiwi.email).len(), 1);
}

#[tokio::test]
async fn the_history_pages_newest_first_and_only_admins_read_everyones() {
    let n = Notifications::start().await;
    let kiwi = n.account("Kiwi").await;
    let mango = n.account("Mango").await;
    for d in [20, 21, 22] {
        n.send(&statement(kiwi.account_id, day(d), -1000, 0), 1)
            .await
            .unwrap();
    }
    n.send(&statement(mango.account_id, day(20), 0, 2500), 1)
        .await
        .unwrap();

    let me = kiwi.account_id.to_string();
    let mine = |query: &str| {
        api_request(
            "GET",
            "/notifications/mine",
            &format!("/notifications/mine{query}"),
            None,
            Some((&me, Role::Worker)),
        )
    };
    let (status, first) = read(api::list_my_messages(&n.store, mine("?limit=2")).await);
    assert_eq!(status, 200, "{first}");
    let dates = |page: &Value| -> Vec<String> {
        page["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["business_date"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(dates(&first), ["2026-11-22", "2026-11-21"]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let (_, rest) =
        read(api::list_my_messages(&n.store, mine(&format!("?limit=2&cursor={cursor}"))).await);
    assert_eq!(dates(&rest), ["2026-11-20"]);

    for (query, status) in [
        ("?limit=0", 422),
        ("?limit=101", 422),
        ("?limit=ten", 422),
        ("?cursor=not-a-cursor", 422),
        ("?cursor=e30", 422),
    ] {
        assert_eq!(
            read(api::list_my_messages(&n.store, mine(query)).await).0,
            status,
            "{query}"
        );
    }

    // Someone this context has no copy of yet: their token's role stands.
    let someone = Uuid::new_v4().to_string();
    let everyone = |role: Role| {
        api_request(
            "GET",
            "/notifications",
            "/notifications?limit=100",
            None,
            Some((&someone, role)),
        )
    };
    for role in [Role::Worker, Role::Manager, Role::Accountant] {
        assert_eq!(
            read(api::list_messages(&n.store, everyone(role)).await).0,
            403,
            "{role}"
        );
    }
    let (status, all) = read(api::list_messages(&n.store, everyone(Role::Admin)).await);
    assert_eq!(status, 200, "{all}");
    assert_eq!(all["messages"].as_array().unwrap().len(), 4);
    let unsigned = api_request(
        "GET",
        "/notifications/mine",
        "/notifications/mine",
        None,
        None,
    );
    assert_eq!(read(api::list_my_messages(&n.store, unsigned).await).0, 401);
}

#[tokio::test]
async fn a_manager_writes_through_the_route_ses_takes_it_once_and_bad_input_is_a_problem() {
    let n = Notifications::start().await;
    let kiwi = n.account("Kiwi").await;
    let manager = Uuid::new_v4().to_string();
    let write = |body: &str, key: Option<&str>, role: Role| {
        let mut req = api_request(
            "POST",
            "/notifications/messages",
            "/notifications/messages",
            Some(body),
            Some((&manager, role)),
        );
        if let Some(key) = key {
            req.headers_mut()
                .insert("idempotency-key", key.parse().unwrap());
        }
        req
    };
    let body =
        json!({"account_id": kiwi.account_id, "subject": "Monday", "text": "Come by."}).to_string();
    let (status, sent) =
        read(api::send_message(&n.store, &n.ses, write(&body, Some("k"), Role::Manager)).await);
    assert_eq!(status, 201, "{sent}");
    assert_eq!(
        (&sent["status"], &sent["kind"], &sent["sent_by"]),
        (&json!("sent"), &json!("direct"), &json!(manager))
    );
    let (status, again) =
        read(api::send_message(&n.store, &n.ses, write(&body, Some("k"), Role::Manager)).await);
    assert_eq!((status, &again), (200, &sent), "a lost answer, asked again");
    assert_eq!(n.mail_to(&kiwi.email).len(), 1, "SES took it once");

    let stranger = json!({"account_id": Uuid::now_v7(), "subject": "Hi", "text": "x"}).to_string();
    for (body, role, status) in [
        (body.as_str(), Role::Worker, 403),
        (body.as_str(), Role::Client, 403),
        ("{", Role::Manager, 400),
        (r#"{"account_id": 7}"#, Role::Manager, 422),
        (stranger.as_str(), Role::Manager, 422),
    ] {
        let (got, problem) =
            read(api::send_message(&n.store, &n.ses, write(body, None, role)).await);
        assert_eq!(got, status, "{role} {body}: {problem}");
        assert!(problem["type"].is_string(), "a problem: {problem}");
    }
    let reused =
        json!({"account_id": kiwi.account_id, "subject": "Tuesday", "text": "x"}).to_string();
    let (status, _) =
        read(api::send_message(&n.store, &n.ses, write(&reused, Some("k"), Role::Manager)).await);
    assert_eq!(status, 422, "the key of another message");
    assert_eq!(n.mail_to(&kiwi.email).len(), 1);
}
