//! ates-ops against a local stack of its own (the whole-system tests' `Stack`), through the
//! stack's AWS endpoint (`/_local/aws`): the same calls it makes to AWS.

use ates_tests::Stack;
use serde_json::{json, Value};
use std::process::Command;

/// Runs ates-ops against the stack; answers (succeeded, stdout, stderr).
fn ops(stack: &Stack, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ates-ops"))
        .arg("--endpoint-url")
        .arg(format!("{}/_local/aws", stack.api))
        .args(args)
        // The emulator's credentials, whatever the shell running the tests has.
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_ENDPOINT_URL")
        .output()
        .expect("ates-ops runs");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    eprintln!("$ ates-ops {}\n{stdout}{stderr}", args.join(" "));
    (out.status.success(), stdout, stderr)
}

/// A call to the emulator in an AWS JSON protocol (`AmazonSQS.SendMessage`, say).
fn emulator(stack: &Stack, service: &str, target: &str, body: Value) -> Value {
    ureq::post(&format!("{}/", stack.aws))
        .set("x-amz-target", target)
        .set("content-type", "application/x-amz-json-1.0")
        .set(
            "authorization",
            &format!("AWS4-HMAC-SHA256 Credential=test/20261206/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0"),
        )
        .send_string(&body.to_string())
        .unwrap_or_else(|e| panic!("{target}: {e}"))
        .into_json()
        .expect("json")
}

/// An `Account.Created` envelope for a new account: (envelope, event id, account id).
fn account_created() -> (Value, String, String) {
    let event_id = uuid::Uuid::now_v7().to_string();
    let account = uuid::Uuid::now_v7().to_string();
    let envelope = json!({
        "id": event_id, "name": "Account.Created", "version": 1,
        "occurred_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "producer": "auth", "correlation_id": format!("ates-ops-test-{event_id}"),
        "data": {"account_id": account, "email": format!("{account}@popug.test"),
                 "full_name": "An Ops Popug", "role": "worker", "active": true, "revision": 1}
    });
    (envelope, event_id, account)
}

fn queue_url(stack: &Stack, logical_id: &str) -> String {
    let info = stack.call("GET", "/_local/info", None, None).1;
    info["queues"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|q| q["logical_id"] == logical_id)
        .and_then(|q| q["url"].as_str())
        .unwrap_or_else(|| panic!("no queue {logical_id}"))
        .to_owned()
}

fn inbox(stack: &Stack, consumer: &str, event_id: &str) -> usize {
    stack
        .items("TasksTable", &format!("INBOX#{consumer}#{event_id}"))
        .len()
}

fn deliveries_of(stack: &Stack, function: &str, event_id: &str) -> usize {
    let ledger = stack.call("GET", "/_local/deliveries", None, None).1;
    ledger[function][event_id]["deliveries"]
        .as_u64()
        .unwrap_or(0) as usize
}

#[test]
fn a_parked_event_is_listed_shown_and_redriven_to_its_consumer_once() {
    let stack = Stack::shared();
    let dead_letters = "TasksAccountEventsDeadLetters";
    // What SQS leaves in the dead-letter queue when a consumer's retries run out: the bus's event.
    let (envelope, event_id, account) = account_created();
    let event = json!({
        "version": "0", "id": uuid::Uuid::new_v4().to_string(), "detail-type": "Account.Created",
        "source": "ates.auth", "account": "123456789012", "time": envelope["occurred_at"],
        "region": "us-east-1", "resources": [], "detail": envelope,
    });
    emulator(
        stack,
        "sqs",
        "AmazonSQS.SendMessage",
        json!({"QueueUrl": queue_url(stack, dead_letters), "MessageBody": event.to_string()}),
    );

    let (ok, listed, _) = ops(stack, &["dlq", "list"]);
    assert!(ok);
    let row = listed
        .lines()
        .find(|l| l.starts_with(dead_letters))
        .unwrap_or_else(|| panic!("{dead_letters} is listed: {listed}"));
    assert!(row.contains("TasksAccountEventsQueue"), "{row}");
    assert!(
        row.split_whitespace()
            .nth(1)
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1,
        "its depth: {row}"
    );
    assert!(listed.contains("ClockDeadLetters"), "by name too: {listed}");

    let (ok, shown, _) = ops(stack, &["dlq", "show", dead_letters]);
    assert!(ok);
    let line = shown
        .lines()
        .find(|l| l.contains(&event_id))
        .unwrap_or_else(|| panic!("the event is shown: {shown}"));
    assert!(line.contains("Account.Created"), "{line}");

    let (ok, dry, _) = ops(stack, &["--dry-run", "dlq", "redrive", dead_letters]);
    assert!(ok);
    assert!(dry.contains("would redrive"), "{dry}");
    let (_, shown, _) = ops(stack, &["dlq", "show", dead_letters]);
    assert!(shown.contains(&event_id), "a dry run leaves it: {shown}");
    assert!(stack.account_copy("TasksTable", &account).is_none());

    let (ok, redriven, _) = ops(stack, &["dlq", "redrive", dead_letters]);
    assert!(ok);
    assert!(
        redriven.contains("to TasksAccountEventsQueue"),
        "{redriven}"
    );
    stack.eventually(60, "the redriven event consumed", || {
        (inbox(stack, "tasks.sync-account", &event_id) == 1).then_some(())
    });
    assert_eq!(
        usize::from(stack.account_copy("TasksTable", &account).is_some()),
        1,
        "the account's copy, from the redriven event"
    );

    // Again: nothing is left to move, and nothing happens twice.
    let (ok, again, _) = ops(stack, &["dlq", "redrive", dead_letters]);
    assert!(ok);
    assert!(!again.contains(&event_id));
    let (_, shown, _) = ops(stack, &["dlq", "show", dead_letters]);
    assert!(!shown.contains(&event_id), "{shown}");
    assert_eq!(inbox(stack, "tasks.sync-account", &event_id), 1);
}

#[test]
fn an_outbox_record_whose_relay_was_lost_is_republished_and_consumed_exactly_once() {
    let stack = Stack::shared();
    let since = chrono::Utc::now() - chrono::Duration::seconds(2);
    let key = |id: &str| json!({"pk": {"S": format!("OUTBOX#{id}")}, "sk": {"S": "OUTBOX"}});

    // An outbox record the relay published: its consumer applied it.
    let (first, first_id, first_account) = account_created();
    let mut item = key(&first_id);
    item["event"] = json!({"S": first.to_string()});
    item["ttl"] = json!({"N": (chrono::Utc::now().timestamp() + 7 * 86_400).to_string()});
    emulator(
        stack,
        "dynamodb",
        "DynamoDB_20120810.PutItem",
        json!({"TableName": "AuthTable", "Item": item}),
    );
    stack.eventually(60, "the relayed event consumed", || {
        (inbox(stack, "tasks.sync-account", &first_id) == 1).then_some(())
    });

    // The same record rewritten with another event: a change, not an insert, so the relay's
    // stream filter never hands it over. Its event is in the outbox and was never published,
    // as when a stream batch is lost.
    let (lost, lost_id, lost_account) = account_created();
    emulator(
        stack,
        "dynamodb",
        "DynamoDB_20120810.UpdateItem",
        json!({"TableName": "AuthTable", "Key": key(&first_id),
               "UpdateExpression": "SET #e = :e", "ExpressionAttributeNames": {"#e": "event"},
               "ExpressionAttributeValues": {":e": {"S": lost.to_string()}}}),
    );
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert!(
        stack.account_copy("TasksTable", &lost_account).is_none(),
        "the lost event reached no consumer"
    );

    let since = since.to_rfc3339();
    let args = [
        "outbox",
        "republish",
        "--context",
        "auth",
        "--since",
        &since,
    ];
    let (ok, dry, _) = ops(stack, &[&["--dry-run"][..], &args[..]].concat());
    assert!(ok);
    assert!(dry.contains("would republish"), "{dry}");

    let (ok, published, _) = ops(stack, &args);
    assert!(ok);
    assert!(published.contains("republished"), "{published}");
    stack.eventually(60, "the lost event consumed", || {
        (inbox(stack, "tasks.sync-account", &lost_id) == 1).then_some(())
    });
    assert_eq!(
        usize::from(stack.account_copy("TasksTable", &lost_account).is_some()),
        1
    );

    // Safe to repeat: delivered again, applied once.
    let (ok, _, _) = ops(stack, &args);
    assert!(ok);
    stack.eventually(60, "the second republish delivered", || {
        (deliveries_of(stack, "TasksSyncAccountFunction", &lost_id) >= 2).then_some(())
    });
    assert_eq!(inbox(stack, "tasks.sync-account", &lost_id), 1);
    assert_eq!(inbox(stack, "tasks.sync-account", &first_id), 1);
    assert_eq!(
        usize::from(stack.account_copy("TasksTable", &first_account).is_some()),
        1
    );
}

#[test]
fn a_days_close_is_rerun_by_the_clock_with_the_same_event() {
    let stack = Stack::shared();
    let date = "2026-01-10";
    let day_ended = |stack: &Stack| -> Vec<String> {
        stack
            .events()
            .iter()
            .filter(|e| e["detail-type"] == "Clock.DayEnded")
            .filter(|e| e["detail"]["data"]["business_date"] == date)
            .map(|e| e["detail"]["id"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let (ok, dry, _) = ops(stack, &["--dry-run", "close", "rerun", "--date", date]);
    assert!(ok);
    assert!(
        dry.contains("2026-01-11T00:00:00Z"),
        "the end of the day, UTC: {dry}"
    );
    assert!(day_ended(stack).is_empty(), "a dry run publishes nothing");

    for _ in 0..2 {
        let (ok, out, _) = ops(stack, &["close", "rerun", "--date", date]);
        assert!(ok);
        assert!(out.contains(date), "{out}");
    }
    let ids = stack.eventually(30, "both day ends on the bus", || {
        let ids = day_ended(stack);
        (ids.len() == 2).then_some(ids)
    });
    assert_eq!(
        ids[0], ids[1],
        "one event, however often: accounting closes once"
    );
}

#[test]
fn an_analytics_rebuild_is_started_and_followed_to_its_end() {
    let stack = Stack::shared();
    let (ok, dry, _) = ops(stack, &["--dry-run", "rebuild", "start"]);
    assert!(ok);
    assert!(dry.contains("would invoke"), "{dry}");

    let (ok, started, _) = ops(stack, &["rebuild", "start"]);
    assert!(ok);
    let rebuild: Value = serde_json::from_str(&started).expect("the rebuild as JSON");
    let id = rebuild["rebuild_id"].as_str().expect("its id").to_owned();
    assert_eq!(rebuild["status"], "replaying");

    // The switch is checked every minute; fire the check rather than wait for it.
    let fire = "/_local/schedules/AnalyticsSettleRebuildFunction/Watch/fire";
    let progress = stack.eventually(60, "the rebuild completed", || {
        stack.call("POST", fire, None, None);
        let (ok, status, _) = ops(stack, &["rebuild", "status", &id]);
        assert!(ok);
        let status: Value = serde_json::from_str(&status).expect("its progress as JSON");
        (status["status"] == "completed").then_some(status)
    });
    assert_eq!(progress["answering_generation"], rebuild["generation"]);
    let (ok, waited, _) = ops(stack, &["rebuild", "status", &id, "--wait"]);
    assert!(ok, "a finished rebuild ends the wait at once: {waited}");
}

#[test]
fn biddings_replay_is_started_through_its_function() {
    let stack = Stack::shared();
    let (ok, dry, _) = ops(stack, &["--dry-run", "replay", "bidding", "--since", "1h"]);
    assert!(ok);
    assert!(
        dry.contains("would invoke") && dry.contains("\"from\""),
        "{dry}"
    );
    let (ok, started, stderr) = ops(stack, &["replay", "bidding", "--since", "1m"]);
    assert!(ok, "{stderr}");
    assert!(started.contains("replay bidding-"), "{started}");
}

#[test]
fn billings_replay_is_started_through_its_function() {
    let stack = Stack::shared();
    let (ok, started, stderr) = ops(stack, &["replay", "billing", "--since", "1m"]);
    assert!(ok, "{stderr}");
    assert!(started.contains("replay billing-"), "{started}");
    assert!(
        started.contains("bonuses' revenue lines written again"),
        "{started}"
    );
}
