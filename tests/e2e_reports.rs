//! Reports end to end, through the local stack: an order's events put on the bus as orders
//! publishes them, the executor's image uploaded with a plain HTTP PUT to the presigned URL (the
//! emulator's S3), the pre-report citing it, `Report.PreReportSubmitted` on the bus, the reads
//! with the image's presigned GET, and a manager's QA case. Each test uses orders of its own.

use ates_tests::Stack;
use chrono::{DateTime, Datelike, Duration, SecondsFormat, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// An order at `pending` whose executor is `worker` and whose slot starts in ten minutes, as
/// orders publishes it; answers once reports knows it.
fn pending_order(stack: &Stack, worker: &str, client: Uuid) -> Uuid {
    let order_id = Uuid::now_v7();
    let start = Utc::now() + Duration::minutes(10);
    let now = time(Utc::now());
    stack.publish(
        "orders",
        "Order.Created",
        json!({
            "order_id": order_id, "version": 1, "places": ["new"], "client_id": client,
            "service_type_id": Uuid::now_v7(), "service_type_revision": 1,
            "base_price_cents": 10000, "required_skill": "windows",
            "slot_start": time(start), "slot_end": time(start + Duration::hours(2)),
            "supplies": [], "at": now
        }),
    );
    // Out of order: the join before the assignment.
    stack.publish(
        "orders",
        "Order.Pending",
        json!({"order_id": order_id, "version": 5, "places": ["pending"], "executor_id": worker, "at": now}),
    );
    stack.publish(
        "orders",
        "Order.ExecutorAssigned",
        json!({"order_id": order_id, "version": 3, "places": ["executor", "to_supply"], "executor_id": worker, "at": now}),
    );
    stack.eventually(60, "reports knows the order", || {
        let copy = stack.items("ReportsTable", &format!("ORDER#{order_id}"));
        let copy = copy.first()?;
        let pending = copy["places"].to_string().contains("pending");
        let known = copy["client_id"]["S"] == client.to_string().as_str()
            && copy["executor_id"]["S"] == worker;
        (pending && known).then_some(())
    });
    order_id
}

fn put(url: &str, content_type: &str, tagging: &str, bytes: &[u8]) -> u16 {
    match ureq::put(url)
        .set("content-type", content_type)
        .set("x-amz-tagging", tagging)
        .send_bytes(bytes)
    {
        Ok(r) => r.status(),
        Err(ureq::Error::Status(status, _)) => status,
        Err(e) => panic!("PUT {url}: {e}"),
    }
}

#[test]
fn the_executor_uploads_an_image_and_files_the_pre_report_which_reaches_the_bus() {
    let stack = Stack::shared();
    let admin = stack.admin_token();
    let (worker, worker_token) = stack.employee(&admin, "worker");
    let (_, stranger_token) = stack.employee(&admin, "worker");
    let client = Uuid::now_v7();
    let order_id = pending_order(stack, &worker, client);

    let image: &[u8] = b"\x89PNG\r\n\x1a\n-a-tiny-picture";
    let (status, upload) = stack.call(
        "POST",
        &format!("/reports/{order_id}/attachments"),
        Some(&worker_token),
        Some(&json!({"content_type": "image/png", "size_bytes": image.len()})),
    );
    assert_eq!(status, 201, "{upload}");
    let url = upload["upload_url"].as_str().expect("a URL");
    assert_eq!(put(url, "image/png", "cited=false", image), 200);
    let attachment = upload["attachment_id"].clone();

    // Someone else's order does not exist for them; an image never uploaded is named.
    let body = json!({"text": "arrived, starting", "attachments": [attachment]});
    let (status, _) = stack.call(
        "POST",
        &format!("/reports/{order_id}/pre-report"),
        Some(&stranger_token),
        Some(&body),
    );
    assert_eq!(status, 404);
    let missing = Uuid::now_v7();
    let (status, problem) = stack.call(
        "POST",
        &format!("/reports/{order_id}/pre-report"),
        Some(&worker_token),
        Some(&json!({"text": "x", "attachments": [missing]})),
    );
    assert_eq!(status, 422, "{problem}");
    assert!(problem["detail"].to_string().contains(&missing.to_string()));

    let (status, filed) = stack.call(
        "POST",
        &format!("/reports/{order_id}/pre-report"),
        Some(&worker_token),
        Some(&body),
    );
    assert_eq!(status, 201, "{filed}");
    assert_eq!(filed["attachments"][0]["size_bytes"], json!(image.len()));
    let (status, _) = stack.call(
        "POST",
        &format!("/reports/{order_id}/pre-report"),
        Some(&worker_token),
        Some(&body),
    );
    assert_eq!(status, 409, "once per order");

    let event: Value = stack.eventually(60, "Report.PreReportSubmitted on the bus", || {
        stack.events().into_iter().find(|e| {
            e["detail-type"] == "Report.PreReportSubmitted"
                && e["detail"]["data"]["order_id"] == order_id.to_string().as_str()
        })
    });
    assert_eq!(event["source"], "ates.reports");
    assert_eq!(event["detail"]["data"]["executor_id"], worker.as_str());
    assert_eq!(
        event["detail"]["data"]["attachment_ids"],
        json!([attachment])
    );

    // The executor reads it back, the image through its presigned GET.
    let (status, read) = stack.call(
        "GET",
        &format!("/reports/{order_id}"),
        Some(&worker_token),
        None,
    );
    assert_eq!(status, 200, "{read}");
    assert_eq!(read["pre_report"]["text"], "arrived, starting");
    assert!(read.get("report").is_none());
    let image_url = read["pre_report"]["attachments"][0]["url"]
        .as_str()
        .expect("a URL");
    let mut fetched = Vec::new();
    std::io::Read::read_to_end(
        &mut ureq::get(image_url)
            .call()
            .expect("the image")
            .into_reader(),
        &mut fetched,
    )
    .unwrap();
    assert_eq!(fetched, image);
    let (status, _) = stack.call(
        "GET",
        &format!("/reports/{order_id}"),
        Some(&stranger_token),
        None,
    );
    assert_eq!(status, 404);
}

#[test]
fn a_manager_opens_one_qa_case_per_order_and_closes_it() {
    let stack = Stack::shared();
    let admin = stack.admin_token();
    let (worker, _) = stack.employee(&admin, "worker");
    let (_, manager) = stack.employee(&admin, "manager");
    let order_id = pending_order(stack, &worker, Uuid::now_v7());

    let (status, case) = stack.call(
        "POST",
        "/reports/qa-cases",
        Some(&manager),
        Some(&json!({"order_id": order_id})),
    );
    assert_eq!(status, 201, "{case}");
    assert_eq!(
        (case["cause"].as_str(), case["status"].as_str()),
        (Some("manual"), Some("open"))
    );
    let (status, _) = stack.call(
        "POST",
        "/reports/qa-cases",
        Some(&manager),
        Some(&json!({"order_id": order_id})),
    );
    assert_eq!(status, 409, "one open case per order");

    let (status, listed) = stack.call("GET", "/reports/qa-cases?status=open", Some(&manager), None);
    assert_eq!(status, 200, "{listed}");
    assert!(listed["cases"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["case_id"] == case["case_id"]));

    let case_id = case["case_id"].as_str().unwrap();
    let (status, closed) = stack.call(
        "POST",
        &format!("/reports/qa-cases/{case_id}/report"),
        Some(&manager),
        Some(&json!({"verdict": "ok", "notes": "all in order"})),
    );
    assert_eq!(status, 200, "{closed}");
    assert_eq!(closed["status"], "closed");
    let (status, _) = stack.call(
        "POST",
        &format!("/reports/qa-cases/{case_id}/report"),
        Some(&manager),
        Some(&json!({"verdict": "ok", "notes": "again"})),
    );
    assert_eq!(status, 409, "a closed case");
}

/// The order decided by its client at `at`: approved (`Order.SuccessInvoiced`) or declined.
fn decide(stack: &Stack, order_id: Uuid, worker: &str, approved: bool, at: DateTime<Utc>) {
    let (name, place) = if approved {
        ("Order.SuccessInvoiced", "success_invoiced")
    } else {
        ("Order.FailedInvoiced", "failed_invoiced")
    };
    let client = Uuid::now_v7();
    stack.publish(
        "orders",
        name,
        json!({
            "order_id": order_id, "version": 9, "places": [place], "client_id": client,
            "executor_id": worker, "list_price_cents": 14400, "value_cents": 13000,
            "decided_by": client, "reason": (!approved).then_some("still dirty"), "at": time(at)
        }),
    );
}

/// The QA cases of `order_id`, as the manager lists them (every status).
fn cases_of(stack: &Stack, manager: &str, order_id: Uuid) -> Vec<Value> {
    let (status, listed) = stack.call("GET", "/reports/qa-cases?limit=100", Some(manager), None);
    assert_eq!(status, 200, "{listed}");
    listed["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["order_id"] == order_id.to_string().as_str())
        .cloned()
        .collect()
}

#[test]
fn a_declined_order_opens_its_case_and_bad_work_on_an_approved_one_fines_the_worker() {
    let stack = Stack::shared();
    let admin = stack.admin_token();
    let (worker, _) = stack.employee(&admin, "worker");
    let (_, manager) = stack.employee(&admin, "manager");

    let declined = Uuid::now_v7();
    decide(stack, declined, &worker, false, Utc::now());
    decide(stack, declined, &worker, false, Utc::now());
    let case = stack.eventually(60, "the declined order's case", || {
        cases_of(stack, &manager, declined).into_iter().next()
    });
    assert_eq!(case["cause"], "declined");
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert_eq!(
        cases_of(stack, &manager, declined).len(),
        1,
        "once per order"
    );

    let approved = Uuid::now_v7();
    decide(stack, approved, &worker, true, Utc::now());
    stack.eventually(60, "reports knows the approval", || {
        let copy = stack.items("ReportsTable", &format!("ORDER#{approved}"));
        copy.first()?.get("approved_at")?.get("S")?;
        Some(())
    });
    let (status, case) = stack.call(
        "POST",
        "/reports/qa-cases",
        Some(&manager),
        Some(&json!({"order_id": approved})),
    );
    assert_eq!(status, 201, "{case}");
    let case_id = case["case_id"].as_str().unwrap().to_owned();
    let (status, closed) = stack.call(
        "POST",
        &format!("/reports/qa-cases/{case_id}/report"),
        Some(&manager),
        Some(&json!({"verdict": "worker_at_fault", "notes": "streaks on every window"})),
    );
    assert_eq!(status, 200, "{closed}");
    let fine = stack.eventually(60, "Report.Fine on the bus", || {
        stack.events().into_iter().find(|e| {
            e["detail-type"] == "Report.Fine" && e["detail"]["data"]["case_id"] == case_id.as_str()
        })
    });
    assert_eq!(fine["detail"]["data"]["executor_id"], worker.as_str());
    assert_eq!(fine["detail"]["data"]["list_price_cents"], 14400);
}

#[test]
fn the_end_of_a_week_samples_its_approved_orders() {
    let stack = Stack::shared();
    let admin = stack.admin_token();
    let (worker, _) = stack.employee(&admin, "worker");
    let (_, manager) = stack.employee(&admin, "manager");
    // A week of its own, far in the past: no other test approves an order in it.
    let monday = chrono::NaiveDate::from_isoywd_opt(
        2001 + (Uuid::now_v7().as_u128() % 90) as i32,
        1 + (Uuid::now_v7().as_u128() % 50) as u32,
        chrono::Weekday::Mon,
    )
    .unwrap();
    let started = monday.and_hms_opt(0, 0, 0).unwrap().and_utc();
    let order_id = Uuid::now_v7();
    decide(stack, order_id, &worker, true, started + Duration::days(2));
    stack.eventually(60, "reports knows the approval", || {
        let copy = stack.items("ReportsTable", &format!("ORDER#{order_id}"));
        copy.first()?.get("approved_at")?.get("S")?;
        Some(())
    });
    let iso = monday.iso_week();
    let week = format!("{}-W{:02}", iso.year(), iso.week());
    stack.publish(
        "clock",
        "Clock.WeekEnded",
        json!({"week": week, "time_zone": "UTC", "started_at": time(started), "ended_at": time(started + Duration::days(7))}),
    );
    // The only approved order of its week: at least one is sampled, so it is.
    let case = stack.eventually(60, "the sampled order's case", || {
        cases_of(stack, &manager, order_id).into_iter().next()
    });
    assert_eq!(case["cause"], "random");
    let sample = stack.items("ReportsTable", &format!("SAMPLE#{week}"));
    assert_eq!(sample.len(), 1);
    assert!(
        sample[0]["seed"]["N"].is_string(),
        "the seed is kept: {}",
        sample[0]
    );
}
