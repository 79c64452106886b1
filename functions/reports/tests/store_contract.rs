//! The contract of reports' store ports: what the use cases rely on, asserted through the ports
//! alone. Every contract runs on the in-memory store the use-case tests use (`memory::…`) and on
//! the DynamoDB store over a fresh table of one emulator shared by this binary (`dynamo::…`).

use ates_kernel::contracts::clock::Week;
use ates_kernel::contracts::orders::Place;
use ates_kernel::contracts::reports::{PreReportSubmitted, Verdict};
use ates_kernel::testing::{account_copies_move_only_forward, at, event, every_page};
use ates_reports::order::{ExecutorFact, OrderCopy, OrderFact};
use ates_reports::ports::{Cases, OrderChanges, Orders, Reports, Samples, Saved};
use ates_reports::qa::{draw, NewQaReport, QaCase, Status};
use ates_reports::report::{report_id, Attachment, ImageType, Kind, Report};
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

ates_kernel::store_contracts!(
    ates_reports::memory::MemoryStore::default(),
    ates_reports::store::Store::new,
    "Reports";
    the_order_copy_changes_only_from_the_revision_read,
    approved_orders_are_found_by_the_time_of_approval,
    a_report_of_each_kind_is_added_once,
    an_order_has_one_open_case_until_it_is_closed,
    cases_are_listed_newest_first_by_status_and_paged,
    a_week_has_one_sample,
    account_copies_move_only_forward,
);

fn now() -> DateTime<Utc> {
    at("2026-12-01T10:00:00.123456Z")
}

async fn stored_copy<S: Orders + OrderChanges>(store: &S, fact: &OrderFact) -> OrderCopy {
    let before = store.order(fact.order_id).await.unwrap();
    let after = before
        .clone()
        .unwrap_or_else(|| OrderCopy::new(fact.order_id))
        .apply(fact)
        .unwrap();
    assert_eq!(
        store.change_order(before.as_ref(), &after).await.unwrap(),
        Saved::Done
    );
    after
}

async fn the_order_copy_changes_only_from_the_revision_read<S: Orders + OrderChanges>(store: &S) {
    let id = Uuid::now_v7();
    let worker = Uuid::now_v7();
    let first = stored_copy(
        store,
        &OrderFact {
            executor: Some(ExecutorFact::Is(worker)),
            slot_start: Some(now()),
            ..OrderFact::step(id, 3, vec![Place::Executor, Place::ToSupply])
        },
    )
    .await;
    assert_eq!(store.order(id).await.unwrap(), Some(first.clone()));
    // A second first write (another reader also found no copy) is stale.
    assert_eq!(
        store.change_order(None, &first).await.unwrap(),
        Saved::Stale
    );
    let next = first
        .apply(&OrderFact::step(id, 5, vec![Place::Pending]))
        .unwrap();
    assert_eq!(
        store.change_order(Some(&first), &next).await.unwrap(),
        Saved::Done
    );
    assert_eq!(
        store.change_order(Some(&first), &next).await.unwrap(),
        Saved::Stale,
        "over the revision read only"
    );
    assert_eq!(store.order(id).await.unwrap(), Some(next));
    assert_eq!(store.order(Uuid::now_v7()).await.unwrap(), None);
}

async fn approved_orders_are_found_by_the_time_of_approval<S: Orders + OrderChanges>(store: &S) {
    // A span of its own (far from other contracts' orders on a shared table).
    let start = at("2031-03-03T00:00:00Z");
    let mut inside = Vec::new();
    for (i, when) in [
        start - Duration::microseconds(1),
        start,
        start + Duration::days(3),
        start + Duration::days(7) - Duration::microseconds(1),
        start + Duration::days(7),
    ]
    .into_iter()
    .enumerate()
    {
        let id = Uuid::now_v7();
        stored_copy(
            store,
            &OrderFact {
                approved_at: Some(when),
                ..OrderFact::step(id, 9, vec![Place::SuccessInvoiced])
            },
        )
        .await;
        if (1..=3).contains(&i) {
            inside.push(id);
        }
    }
    // A declined order is no approved one.
    stored_copy(
        store,
        &OrderFact {
            declined_at: Some(start + Duration::days(1)),
            ..OrderFact::step(Uuid::now_v7(), 9, vec![Place::FailedInvoiced])
        },
    )
    .await;
    let mut found = store
        .approved_between(start, start + Duration::days(7))
        .await
        .unwrap();
    found.sort();
    inside.sort();
    assert_eq!(found, inside);
}

fn report(order_id: Uuid, kind: Kind) -> Report {
    Report {
        report_id: report_id(order_id, kind),
        order_id,
        kind,
        executor_id: Uuid::now_v7(),
        text: "done".into(),
        attachments: vec![Attachment {
            attachment_id: Uuid::now_v7(),
            content_type: ImageType::Png,
            size_bytes: 1234,
        }],
        submitted_at: now(),
    }
}

fn submitted(r: &Report) -> ates_kernel::event::Envelope {
    let payload = PreReportSubmitted {
        report_id: r.report_id,
        order_id: r.order_id,
        executor_id: r.executor_id,
        attachment_ids: vec![],
        submitted_at: r.submitted_at,
    };
    event("reports", &payload, now())
}

async fn a_report_of_each_kind_is_added_once<S: Reports>(store: &S) {
    let order_id = Uuid::now_v7();
    let pre = report(order_id, Kind::PreReport);
    assert_eq!(store.report(order_id, Kind::PreReport).await.unwrap(), None);
    assert_eq!(
        store.add_report(&pre, &submitted(&pre)).await.unwrap(),
        Saved::Done
    );
    let again = Report {
        text: "another".into(),
        ..pre.clone()
    };
    assert_eq!(
        store.add_report(&again, &submitted(&again)).await.unwrap(),
        Saved::Stale
    );
    assert_eq!(
        store.report(order_id, Kind::PreReport).await.unwrap(),
        Some(pre)
    );
    assert_eq!(store.report(order_id, Kind::Report).await.unwrap(), None);
    let done = report(order_id, Kind::Report);
    assert_eq!(
        store.add_report(&done, &submitted(&done)).await.unwrap(),
        Saved::Done
    );
    assert_eq!(
        store.report(order_id, Kind::Report).await.unwrap(),
        Some(done)
    );
}

async fn an_order_has_one_open_case_until_it_is_closed<S: Cases>(store: &S) {
    let order_id = Uuid::now_v7();
    let first = QaCase::manual(order_id, Uuid::now_v7(), now());
    assert_eq!(store.open_case(&first).await.unwrap(), Saved::Done);
    assert_eq!(
        store.open_case_of(order_id).await.unwrap(),
        Some(first.case_id)
    );
    assert_eq!(
        store.case(first.case_id).await.unwrap(),
        Some(first.clone())
    );
    let second = QaCase::declined(order_id, now());
    assert_eq!(store.open_case(&second).await.unwrap(), Saved::Stale);
    assert_eq!(store.open_case(&first).await.unwrap(), Saved::Stale);

    let verdict = NewQaReport {
        verdict: Verdict::Ok,
        notes: "fine".into(),
    }
    .validate()
    .unwrap();
    let (closed, _) = first
        .close(&OrderCopy::new(order_id), &verdict, Uuid::now_v7(), now())
        .unwrap();
    assert_eq!(
        store.close_case(&first, &closed, &[]).await.unwrap(),
        Saved::Done
    );
    assert_eq!(
        store.close_case(&first, &closed, &[]).await.unwrap(),
        Saved::Stale,
        "over the version read only"
    );
    assert_eq!(store.open_case_of(order_id).await.unwrap(), None);
    assert_eq!(store.case(first.case_id).await.unwrap(), Some(closed));
    assert_eq!(store.open_case(&second).await.unwrap(), Saved::Done);
}

async fn cases_are_listed_newest_first_by_status_and_paged<S: Cases>(store: &S) {
    // Far in the future: newer than every other contract's cases on a shared table.
    let base = at("2040-01-01T00:00:00.000001Z");
    let mut opened = Vec::new();
    for i in 0..5 {
        let case = QaCase::manual(Uuid::now_v7(), Uuid::now_v7(), base + Duration::minutes(i));
        assert_eq!(store.open_case(&case).await.unwrap(), Saved::Done);
        opened.push(case);
    }
    let verdict = NewQaReport {
        verdict: Verdict::WorkerAtFault,
        notes: "bad".into(),
    }
    .validate()
    .unwrap();
    let (closed, _) = opened[4]
        .close(
            &OrderCopy::new(opened[4].order_id),
            &verdict,
            Uuid::now_v7(),
            base,
        )
        .unwrap();
    assert_eq!(
        store.close_case(&opened[4], &closed, &[]).await.unwrap(),
        Saved::Done
    );
    let open: Vec<QaCase> = every_page(2, |cursor| async move {
        store.cases(Some(Status::Open), 2, cursor.as_deref()).await
    })
    .await;
    let ids: Vec<Uuid> = open.iter().take(4).map(|c| c.case_id).collect();
    let expected: Vec<Uuid> = opened[..4].iter().rev().map(|c| c.case_id).collect();
    assert_eq!(ids, expected);
    let all = store.cases(None, 1, None).await.unwrap();
    assert_eq!(all.items, vec![closed.clone()]);
    assert!(all.next_cursor.is_some());
    let closed_ones = store.cases(Some(Status::Closed), 10, None).await.unwrap();
    assert!(closed_ones.items.contains(&closed));
    assert!(closed_ones.items.iter().all(|c| c.status == Status::Closed));
}

async fn a_week_has_one_sample<S: Samples>(store: &S) {
    let week = Week::parse("2030-W07").unwrap();
    let orders: Vec<Uuid> = (0..30).map(|_| Uuid::now_v7()).collect();
    let sample = draw(week, &orders, 17, now());
    assert_eq!(store.sample(week).await.unwrap(), None);
    assert_eq!(store.add_sample(&sample).await.unwrap(), Saved::Done);
    let other = draw(week, &orders, 18, now());
    assert_eq!(store.add_sample(&other).await.unwrap(), Saved::Stale);
    assert_eq!(store.sample(week).await.unwrap(), Some(sample));
}
