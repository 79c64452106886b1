//! Analytics' rebuild by replay (SPEC N4) end to end, through the local stack: the bus's
//! archive is replayed through analytics' own rules into a fresh generation, the routes keep
//! answering from the old one meanwhile, and the switch comes once the new one has caught up;
//! the rebuilt projection is the old one, item for item.

use std::collections::BTreeMap;

use ates_tests::Stack;
use serde_json::{json, Value};

/// Every projection item of generation `g`, keyed without its generation. Left out: the kept
/// movements (they name their generation) and the inbox records. A day's figures are added up
/// over their shards (`EARNINGS/<date>`): which shard a fold adds to depends on the stream's
/// record ids, which a replay does not repeat.
fn projection(stack: &Stack, g: u32) -> BTreeMap<String, Value> {
    let prefix = format!("G{g}#");
    let mut projection = BTreeMap::new();
    for mut item in stack.items("AnalyticsTable", &prefix) {
        let pk = item["pk"]["S"]
            .as_str()
            .unwrap()
            .trim_start_matches(&prefix)
            .to_owned();
        let sk = item["sk"]["S"].as_str().unwrap().to_owned();
        if sk == "MOVE" {
            continue;
        }
        if pk.starts_with("EARNINGS#") {
            let day: &mut Value = projection
                .entry(format!("EARNINGS/{sk}"))
                .or_insert_with(|| json!({"fees_cents": 0, "rewards_cents": 0}));
            for figure in ["fees_cents", "rewards_cents"] {
                let cents: i64 = item[figure]["N"].as_str().unwrap_or("0").parse().unwrap();
                day[figure] = json!(day[figure].as_i64().unwrap() + cents);
            }
            continue;
        }
        let fields = item.as_object_mut().unwrap();
        fields.remove("pk");
        fields.remove("sk");
        projection.insert(format!("{pk}/{sk}"), item);
    }
    projection
}

/// What the routes answer for today.
fn figures(stack: &Stack, admin: &str, today: &str) -> Value {
    let get = |path: String| {
        let (status, body) = stack.call("GET", &path, Some(admin), None);
        assert_eq!(status, 200, "{path}: {body}");
        body
    };
    json!({
        "earnings": get(format!("/analytics/earnings?from={today}&to={today}"))["days"],
        "best": get(format!("/analytics/most-expensive-task?period=day&date={today}"))["task"],
        "in_debt": get("/analytics/summary".into())["negative_balance_accounts"],
    })
}

#[test]
fn a_rebuild_replays_the_archive_into_a_new_generation_and_switches_once_caught_up() {
    let stack = Stack::shared();
    let admin = stack.admin_token();
    let (worker_id, worker) = stack.employee(&admin, "worker");
    stack.wait_assignable(&worker_id);
    let mut tasks = Vec::new();
    for title in ["Polish the perch", "Sort the seeds", "Preen the plan"] {
        let (status, task) = stack.call(
            "POST",
            "/tasks",
            Some(&worker),
            Some(&json!({ "title": title })),
        );
        assert_eq!(status, 201, "{task}");
        tasks.push(task["task_id"].as_str().unwrap().to_owned());
    }
    for task in &tasks[..2] {
        let (status, done) = stack.call(
            "POST",
            &format!("/tasks/{task}/complete"),
            Some(&worker),
            None,
        );
        assert_eq!(status, 200, "{done}");
    }
    // Two rewards and three fees reach analytics (the worker is then in credit or in debt).
    let today = stack.eventually(60, "analytics has every movement", || {
        let (_, me) = stack.call("GET", "/accounting/me", Some(&worker), None);
        let today = me["business_date"].as_str()?.to_owned();
        let best = &figures(stack, &admin, &today)["best"];
        let postings = projection(stack, 1)
            .keys()
            .filter(|k| k.starts_with("BALANCE#"))
            .count();
        (best.is_object() && postings == 1).then_some(today)
    });
    // Quiet for longer than the fold's batching window (5 s): the days' figures are folded.
    stack.eventually(60, "analytics is quiet", || {
        let before = projection(stack, 1);
        std::thread::sleep(std::time::Duration::from_secs(7));
        (projection(stack, 1) == before).then_some(())
    });
    let before = figures(stack, &admin, &today);
    let old = projection(stack, 1);
    assert!(
        old.len() >= 7,
        "a day's earnings, a balance, best day and month, three titles: {old:?}"
    );

    let (status, rebuild) = stack.call("POST", "/analytics/rebuilds", Some(&admin), None);
    assert_eq!(status, 202, "{rebuild}");
    assert_eq!(
        (rebuild["generation"].as_u64(), rebuild["status"].as_str()),
        (Some(2), Some("replaying"))
    );
    let id = rebuild["rebuild_id"].as_str().unwrap().to_owned();
    let (status, refused) = stack.call("POST", "/analytics/rebuilds", Some(&admin), None);
    assert_eq!(status, 409, "one rebuild at a time: {refused}");
    assert!(
        refused["detail"].as_str().unwrap().contains(&id),
        "{refused}"
    );

    // Meanwhile the old generation answers, unchanged.
    let (status, progress) = stack.call(
        "GET",
        &format!("/analytics/rebuilds/{id}"),
        Some(&admin),
        None,
    );
    assert_eq!(status, 200, "{progress}");
    assert_eq!(progress["answering_generation"], 1, "{progress}");
    assert_eq!(figures(stack, &admin, &today), before);

    let done = stack.eventually(60, "the rebuild is switched to", || {
        let fired = stack.call(
            "POST",
            "/_local/schedules/AnalyticsSettleRebuildFunction/Watch/fire",
            None,
            None,
        );
        assert!(fired.0 < 300, "{fired:?}");
        let (_, progress) = stack.call(
            "GET",
            &format!("/analytics/rebuilds/{id}"),
            Some(&admin),
            None,
        );
        (progress["status"] == "completed").then_some(progress)
    });
    assert_eq!(done["answering_generation"], 2, "{done}");
    assert_eq!(done["replayed_through"], done["replay_until"], "{done}");
    // The switch waits for the queues, not for the fold: the new generation's days may lag by
    // the fold's batching window.
    stack.eventually(30, "the new generation answers the same", || {
        (figures(stack, &admin, &today) == before).then_some(())
    });
    assert_eq!(
        projection(stack, 2),
        old,
        "rebuilt from nothing, item for item"
    );

    // Only analytics' projection rules carried the replay: its consumers had each event twice
    // (live, then replayed), accounting's consumer of the same Task.Created events once.
    let (_, deliveries) = stack.call("GET", "/_local/deliveries", None, None);
    let most = |function: &str| {
        deliveries[function]
            .as_object()
            .map(|d| d.values().map(|d| d["deliveries"].as_u64().unwrap()).max())
            .unwrap_or_default()
    };
    assert_eq!(
        most("AnalyticsRecordTitleFunction"),
        Some(2),
        "{deliveries}"
    );
    assert_eq!(
        most("AnalyticsRecordMovementFunction"),
        Some(2),
        "{deliveries}"
    );
    assert_eq!(
        most("AccountingRecordTaskFunction"),
        Some(1),
        "{deliveries}"
    );
}
