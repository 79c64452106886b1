//! Reports' use cases on the in-memory store, with a bucket the tests fill: filing the
//! pre-report and report (who, where in the net, when, once), the images checked in the
//! bucket, the reads, and quality control: manual, declined and sampled cases, verdicts and
//! what they publish; order events duplicated and out of order.

use ates_kernel::contracts::clock::{Week, WeekEnded};
use ates_kernel::contracts::orders::{
    OrderCreated, OrderExecutorAssigned, OrderExecutorReleased, OrderFailedInvoiced, OrderInWork,
    OrderInvoiced, OrderPending, OrderStep, OrderSuccessInvoiced, OrderValued, Place,
};
use ates_kernel::contracts::reports::{
    decode_fine, decode_fine_waived, decode_pre_report_submitted, decode_report_submitted, Verdict,
};
use ates_kernel::event::{Cause, Envelope};
use ates_kernel::identity::{Claims, Refused, Role};
use ates_kernel::inbox::Outcome;
use ates_kernel::testing::{at, claims, event};
use ates_kernel::usecase::Failure;
use ates_reports::app;
use ates_reports::error::ReportsError;
use ates_reports::memory::{FakeBucket, MemoryStore};
use ates_reports::ports::{Cases, Orders, Samples};
use ates_reports::qa::{Cause as QaCause, NewQaReport, Status};
use ates_reports::report::{object_key, Kind, NewAttachment, NewReport, MAX_IMAGE_BYTES};
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

fn slot() -> DateTime<Utc> {
    at("2026-12-10T10:00:00Z")
}

fn cause() -> Cause {
    Cause::request("test")
}

struct Order {
    id: Uuid,
    client: Uuid,
    worker: Uuid,
}

impl Order {
    fn new() -> Order {
        Order {
            id: Uuid::now_v7(),
            client: Uuid::now_v7(),
            worker: Uuid::now_v7(),
        }
    }

    fn created(&self) -> Envelope {
        let payload = OrderCreated {
            order_id: self.id,
            version: 1,
            places: vec![Place::New],
            client_id: self.client,
            service_type_id: Uuid::now_v7(),
            service_type_revision: 1,
            base_price_cents: 10_000,
            required_skill: "carpets".into(),
            slot_start: slot(),
            slot_end: slot() + Duration::hours(2),
            supplies: vec![],
            at: slot() - Duration::days(2),
        };
        event("orders", &payload, slot() - Duration::days(2))
    }

    fn step(&self, version: u64, places: Vec<Place>) -> OrderStep {
        OrderStep {
            order_id: self.id,
            version,
            places,
            executor_id: self.worker,
            at: slot() - Duration::days(1),
        }
    }

    fn assigned(&self) -> Envelope {
        let payload = OrderExecutorAssigned(self.step(3, vec![Place::Executor, Place::ToSupply]));
        event("orders", &payload, slot() - Duration::days(1))
    }

    fn valued(&self) -> Envelope {
        let payload = OrderValued {
            order_id: self.id,
            version: 4,
            places: vec![Place::Valued, Place::ToSupply],
            executor_id: self.worker,
            list_price_cents: 12_000,
            value_cents: 12_000,
            at: slot() - Duration::days(1),
        };
        event("orders", &payload, slot() - Duration::days(1))
    }

    fn pending(&self) -> Envelope {
        let payload = OrderPending(self.step(5, vec![Place::Pending]));
        event("orders", &payload, slot() - Duration::days(1))
    }

    fn in_work(&self) -> Envelope {
        let payload = OrderInWork(self.step(7, vec![Place::InWork]));
        event("orders", &payload, slot())
    }

    fn released(&self) -> Envelope {
        let payload = OrderExecutorReleased {
            order_id: self.id,
            version: 6,
            places: vec![Place::ToMatch, Place::ToSupply],
            executor_id: self.worker,
            reason: "deactivated".into(),
            at: slot() - Duration::hours(5),
        };
        event("orders", &payload, slot() - Duration::hours(5))
    }

    fn invoiced(&self, approved: bool, when: DateTime<Utc>) -> Envelope {
        let invoiced = OrderInvoiced {
            order_id: self.id,
            version: 9,
            places: vec![if approved {
                Place::SuccessInvoiced
            } else {
                Place::FailedInvoiced
            }],
            client_id: self.client,
            executor_id: self.worker,
            list_price_cents: 12_000,
            value_cents: 11_000,
            decided_by: Some(self.client),
            reason: (!approved).then(|| "the carpet is still dirty".into()),
            at: when,
        };
        if approved {
            event("orders", &OrderSuccessInvoiced(invoiced), when)
        } else {
            event("orders", &OrderFailedInvoiced(invoiced), when)
        }
    }

    fn worker(&self) -> Claims {
        claims(self.worker, Role::Worker)
    }
}

async fn deliver(store: &MemoryStore, events: &[Envelope]) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    for e in events {
        outcomes.push(app::on_order_event(store, e, slot()).await.unwrap());
    }
    outcomes
}

/// An order at `pending`, its executor assigned.
async fn pending(store: &MemoryStore) -> Order {
    let order = Order::new();
    deliver(
        store,
        &[
            order.created(),
            order.assigned(),
            order.valued(),
            order.pending(),
        ],
    )
    .await;
    order
}

fn text(t: &str) -> ates_reports::report::ValidReport {
    NewReport {
        text: t.into(),
        attachments: None,
    }
    .validate()
    .unwrap()
}

fn with_images(t: &str, ids: &[Uuid]) -> ates_reports::report::ValidReport {
    NewReport {
        text: t.into(),
        attachments: Some(ids.to_vec()),
    }
    .validate()
    .unwrap()
}

async fn file(
    store: &MemoryStore,
    bucket: &FakeBucket,
    who: &Claims,
    order_id: Uuid,
    kind: Kind,
    input: &ates_reports::report::ValidReport,
    now: DateTime<Utc>,
) -> Result<ates_reports::report::Report, ReportsError> {
    app::file_report(store, bucket, who, order_id, kind, input, &cause(), now).await
}

// ------------------------------------------------------------------------ the order copy

#[tokio::test]
async fn the_copy_is_the_same_whatever_the_order_of_arrival_and_duplicates() {
    let store = MemoryStore::default();
    let order = Order::new();
    let events = [
        order.created(),
        order.assigned(),
        order.valued(),
        order.pending(),
    ];
    let outcomes = deliver(&store, &events).await;
    assert!(outcomes.iter().all(|o| *o == Outcome::Applied));
    assert!(deliver(&store, &events)
        .await
        .iter()
        .all(|o| *o == Outcome::Duplicate));
    let in_order = store.order(order.id).await.unwrap().unwrap();

    let shuffled = MemoryStore::default();
    let mut reversed = events.to_vec();
    reversed.reverse();
    deliver(&shuffled, &reversed).await;
    let out_of_order = shuffled.order(order.id).await.unwrap().unwrap();
    assert_eq!(
        (
            in_order.places.clone(),
            in_order.client_id,
            in_order.executor_id
        ),
        (
            out_of_order.places.clone(),
            out_of_order.client_id,
            out_of_order.executor_id
        )
    );
    assert_eq!(in_order.places, vec![Place::Pending]);
    assert_eq!(in_order.slot_start, Some(slot()));
    assert_eq!(out_of_order.list_price_cents, Some(12_000));
    assert_eq!(in_order.client_id, Some(order.client));
}

#[tokio::test]
async fn an_event_reports_does_not_follow_is_none_of_its_business() {
    let store = MemoryStore::default();
    let other = event(
        "clock",
        &WeekEnded {
            week: Week::parse("2026-W49").unwrap(),
            time_zone: "UTC".into(),
            started_at: at("2026-11-30T00:00:00Z"),
            ended_at: at("2026-12-07T00:00:00Z"),
        },
        slot(),
    );
    assert_eq!(
        app::on_order_event(&store, &other, slot()).await.unwrap(),
        Outcome::NotConcerned
    );
}

// --------------------------------------------------------------------- the pre-report

#[tokio::test]
async fn the_executor_files_the_pre_report_from_thirty_minutes_before_the_slot_once() {
    let (store, bucket) = (MemoryStore::default(), FakeBucket::default());
    let order = pending(&store).await;
    let early = file(
        &store,
        &bucket,
        &order.worker(),
        order.id,
        Kind::PreReport,
        &text("on my way"),
        slot() - Duration::minutes(31),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(early, ReportsError::TooEarly { earliest } if earliest == slot() - Duration::minutes(30))
    );
    assert!(store.published().is_empty(), "a refusal writes nothing");

    let filed = file(
        &store,
        &bucket,
        &order.worker(),
        order.id,
        Kind::PreReport,
        &text("arrived, starting"),
        slot() - Duration::minutes(30),
    )
    .await
    .unwrap();
    assert_eq!(filed.text, "arrived, starting");
    let published = store.published();
    assert_eq!(published.len(), 1);
    let event = decode_pre_report_submitted(&published[0]).unwrap();
    assert_eq!(
        (event.order_id, event.executor_id, event.report_id),
        (order.id, order.worker, filed.report_id)
    );

    let again = file(
        &store,
        &bucket,
        &order.worker(),
        order.id,
        Kind::PreReport,
        &text("again"),
        slot(),
    )
    .await
    .unwrap_err();
    assert!(matches!(again, ReportsError::AlreadyFiled(Kind::PreReport)));
    assert_eq!(
        store.published().len(),
        1,
        "a second filing publishes nothing"
    );
}

#[tokio::test]
async fn nobody_but_the_executor_files_and_other_roles_never_do() {
    let (store, bucket) = (MemoryStore::default(), FakeBucket::default());
    let order = pending(&store).await;
    let stranger = claims(Uuid::now_v7(), Role::Worker);
    let unknown = file(
        &store,
        &bucket,
        &stranger,
        order.id,
        Kind::PreReport,
        &text("x"),
        slot(),
    )
    .await
    .unwrap_err();
    assert!(matches!(unknown, ReportsError::UnknownOrder));
    for role in [Role::Client, Role::Manager, Role::Admin, Role::Accountant] {
        let who = claims(order.client, role);
        let refused = file(
            &store,
            &bucket,
            &who,
            order.id,
            Kind::PreReport,
            &text("x"),
            slot(),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(
                refused,
                ReportsError::Failed(Failure::Refused(Refused::NotAllowed(_)))
            ),
            "{role}: {refused:?}"
        );
    }
    let nowhere = file(
        &store,
        &bucket,
        &order.worker(),
        Uuid::now_v7(),
        Kind::PreReport,
        &text("x"),
        slot(),
    )
    .await
    .unwrap_err();
    assert!(matches!(nowhere, ReportsError::UnknownOrder));
    assert!(store.published().is_empty());
}

#[tokio::test]
async fn a_released_executor_may_no_longer_file() {
    let (store, bucket) = (MemoryStore::default(), FakeBucket::default());
    let order = pending(&store).await;
    deliver(&store, &[order.released()]).await;
    // The assignment arrives again late: the release stands.
    deliver(&store, &[order.assigned()]).await;
    let refused = file(
        &store,
        &bucket,
        &order.worker(),
        order.id,
        Kind::PreReport,
        &text("x"),
        slot(),
    )
    .await
    .unwrap_err();
    assert!(matches!(refused, ReportsError::UnknownOrder));
}

#[tokio::test]
async fn the_wrong_place_is_a_conflict_naming_the_marked_places() {
    let (store, bucket) = (MemoryStore::default(), FakeBucket::default());
    let order = Order::new();
    deliver(&store, &[order.created(), order.assigned()]).await;
    let wrong = file(
        &store,
        &bucket,
        &order.worker(),
        order.id,
        Kind::PreReport,
        &text("x"),
        slot(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        wrong.to_string(),
        "the pre-report is filed at pending; the order is at to_supply, executor"
    );
    let report = file(
        &store,
        &bucket,
        &order.worker(),
        order.id,
        Kind::Report,
        &text("x"),
        slot(),
    )
    .await
    .unwrap_err();
    assert!(matches!(
        report,
        ReportsError::WrongPlace {
            needs: Place::InWork,
            ..
        }
    ));
}

// ------------------------------------------------------------------------- the report

#[tokio::test]
async fn the_report_is_filed_in_work_with_its_images_checked_in_the_bucket() {
    let (store, bucket) = (MemoryStore::default(), FakeBucket::default());
    let order = pending(&store).await;
    deliver(&store, &[order.in_work()]).await;
    let now = slot() + Duration::hours(2);
    let good = Uuid::now_v7();
    bucket.put(&object_key(order.id, good), "image/png", 2048);

    let missing = Uuid::now_v7();
    let refused = file(
        &store,
        &bucket,
        &order.worker(),
        order.id,
        Kind::Report,
        &with_images("done", &[good, missing]),
        now,
    )
    .await
    .unwrap_err();
    assert!(matches!(refused, ReportsError::BadAttachment { id, .. } if id == missing));

    // Uploaded for another order: not this order's image.
    let elsewhere = Uuid::now_v7();
    bucket.put(&object_key(Uuid::now_v7(), elsewhere), "image/png", 10);
    let refused = file(
        &store,
        &bucket,
        &order.worker(),
        order.id,
        Kind::Report,
        &with_images("done", &[elsewhere]),
        now,
    )
    .await
    .unwrap_err();
    assert!(matches!(refused, ReportsError::BadAttachment { id, .. } if id == elsewhere));

    let gif = Uuid::now_v7();
    bucket.put(&object_key(order.id, gif), "image/gif", 10);
    let huge = Uuid::now_v7();
    bucket.put(
        &object_key(order.id, huge),
        "image/jpeg",
        MAX_IMAGE_BYTES + 1,
    );
    for bad in [gif, huge] {
        let refused = file(
            &store,
            &bucket,
            &order.worker(),
            order.id,
            Kind::Report,
            &with_images("done", &[bad]),
            now,
        )
        .await
        .unwrap_err();
        assert!(matches!(refused, ReportsError::BadAttachment { id, .. } if id == bad));
    }
    assert!(
        store.published().is_empty(),
        "nothing filed while an image is wrong"
    );

    let filed = file(
        &store,
        &bucket,
        &order.worker(),
        order.id,
        Kind::Report,
        &with_images("all clean", &[good]),
        now,
    )
    .await
    .unwrap();
    assert_eq!(filed.attachments.len(), 1);
    assert_eq!(filed.attachments[0].size_bytes, 2048);
    let event = decode_report_submitted(&store.published()[0]).unwrap();
    assert_eq!(event.attachment_ids, vec![good]);
    assert_eq!(event.submitted_at, now);
    assert_eq!(
        bucket.kept(),
        vec![object_key(order.id, good)],
        "the cited image no longer expires; the refused ones still do"
    );
}

#[tokio::test]
async fn an_upload_is_granted_to_the_executor_only() {
    let (store, bucket) = (MemoryStore::default(), FakeBucket::default());
    let order = pending(&store).await;
    let upload = NewAttachment {
        content_type: "image/jpeg".into(),
        size_bytes: 1000,
    }
    .validate()
    .unwrap();
    let granted = app::request_upload(&store, &bucket, &order.worker(), order.id, upload, slot())
        .await
        .unwrap();
    assert!(granted
        .upload_url
        .contains(&object_key(order.id, granted.attachment_id)));
    assert!(granted.upload_url.contains("content-length=1000"));
    assert_eq!(granted.expires_at, slot() + Duration::minutes(15));
    let stranger = claims(Uuid::now_v7(), Role::Worker);
    assert!(matches!(
        app::request_upload(&store, &bucket, &stranger, order.id, upload, slot()).await,
        Err(ReportsError::UnknownOrder)
    ));
    assert!(matches!(
        app::request_upload(
            &store,
            &bucket,
            &claims(order.client, Role::Client),
            order.id,
            upload,
            slot()
        )
        .await,
        Err(ReportsError::Failed(Failure::Refused(Refused::NotAllowed(
            _
        ))))
    ));
}

// ---------------------------------------------------------------------------- reads

#[tokio::test]
async fn the_reports_are_read_by_the_client_executor_and_staff_only() {
    let (store, bucket) = (MemoryStore::default(), FakeBucket::default());
    let order = pending(&store).await;
    let image = Uuid::now_v7();
    bucket.put(&object_key(order.id, image), "image/jpeg", 500);
    file(
        &store,
        &bucket,
        &order.worker(),
        order.id,
        Kind::PreReport,
        &with_images("here", &[image]),
        slot(),
    )
    .await
    .unwrap();
    for who in [
        claims(order.client, Role::Client),
        order.worker(),
        claims(Uuid::now_v7(), Role::Manager),
        claims(Uuid::now_v7(), Role::Admin),
    ] {
        let read = app::order_reports(&store, &bucket, &who, order.id, slot())
            .await
            .unwrap();
        let pre = read.pre_report.expect("the pre-report");
        assert_eq!(pre.text, "here");
        assert_eq!(
            pre.attachments[0].url,
            format!("https://bucket.test/{}", object_key(order.id, image))
        );
        assert_eq!(read.report, None);
    }
    for who in [
        claims(Uuid::now_v7(), Role::Client),
        claims(Uuid::now_v7(), Role::Worker),
        claims(Uuid::now_v7(), Role::Accountant),
    ] {
        assert!(matches!(
            app::order_reports(&store, &bucket, &who, order.id, slot()).await,
            Err(ReportsError::UnknownOrder)
        ));
    }
}

// ------------------------------------------------------------------------ quality control

fn qa_report(verdict: Verdict) -> ates_reports::qa::ValidQaReport {
    NewQaReport {
        verdict,
        notes: "checked on site".into(),
    }
    .validate()
    .unwrap()
}

#[tokio::test]
async fn a_manager_opens_one_case_per_order_and_closes_it() {
    let store = MemoryStore::default();
    let order = pending(&store).await;
    let manager = claims(Uuid::now_v7(), Role::Manager);
    let case = app::open_case(&store, &manager, order.id, slot())
        .await
        .unwrap();
    assert_eq!((case.cause, case.status), (QaCause::Manual, Status::Open));
    let second = app::open_case(&store, &manager, order.id, slot())
        .await
        .unwrap_err();
    assert!(matches!(second, ReportsError::CaseAlreadyOpen(id) if id == case.case_id));
    assert!(matches!(
        app::open_case(&store, &manager, Uuid::now_v7(), slot()).await,
        Err(ReportsError::UnknownOrder)
    ));
    assert!(matches!(
        app::open_case(&store, &order.worker(), order.id, slot()).await,
        Err(ReportsError::Failed(Failure::Refused(Refused::NotAllowed(
            _
        ))))
    ));

    let closed = app::close_case(
        &store,
        &manager,
        case.case_id,
        &qa_report(Verdict::Ok),
        &cause(),
        slot(),
    )
    .await
    .unwrap();
    assert_eq!(
        (closed.status, closed.verdict),
        (Status::Closed, Some(Verdict::Ok))
    );
    assert!(
        store.published().is_empty(),
        "ok on an order not yet decided changes nothing"
    );
    let again = app::close_case(
        &store,
        &manager,
        case.case_id,
        &qa_report(Verdict::Ok),
        &cause(),
        slot(),
    )
    .await
    .unwrap_err();
    assert!(matches!(again, ReportsError::CaseClosed));
    // Closed: the order may be looked at again.
    let next = app::open_case(&store, &manager, order.id, slot())
        .await
        .unwrap();
    assert_ne!(next.case_id, case.case_id);
}

#[tokio::test]
async fn bad_work_on_an_approved_order_fines_the_worker() {
    let store = MemoryStore::default();
    let order = pending(&store).await;
    deliver(&store, &[order.invoiced(true, slot() + Duration::days(1))]).await;
    let manager = claims(Uuid::now_v7(), Role::Manager);
    let case = app::open_case(&store, &manager, order.id, slot())
        .await
        .unwrap();
    app::close_case(
        &store,
        &manager,
        case.case_id,
        &qa_report(Verdict::WorkerAtFault),
        &cause(),
        slot(),
    )
    .await
    .unwrap();
    let published = store.published();
    assert_eq!(published.len(), 1);
    let fine = decode_fine(&published[0]).unwrap();
    assert_eq!(
        (
            fine.case_id,
            fine.order_id,
            fine.executor_id,
            fine.list_price_cents
        ),
        (case.case_id, order.id, order.worker, 12_000)
    );
}

#[tokio::test]
async fn every_declined_order_opens_one_case_and_a_good_verdict_waives_the_fine() {
    let store = MemoryStore::default();
    let order = pending(&store).await;
    let declined = order.invoiced(false, slot() + Duration::days(1));
    assert_eq!(
        deliver(&store, std::slice::from_ref(&declined)).await,
        vec![Outcome::Applied]
    );
    assert_eq!(deliver(&store, &[declined]).await, vec![Outcome::Duplicate]);
    let listed = store.cases(None, 10, None).await.unwrap();
    assert_eq!(
        listed.items.len(),
        1,
        "once per order however often it arrives"
    );
    let case = &listed.items[0];
    assert_eq!((case.cause, case.order_id), (QaCause::Declined, order.id));

    let manager = claims(Uuid::now_v7(), Role::Admin);
    app::close_case(
        &store,
        &manager,
        case.case_id,
        &qa_report(Verdict::ClientAtFault),
        &cause(),
        slot(),
    )
    .await
    .unwrap();
    let waived = decode_fine_waived(&store.published()[0]).unwrap();
    assert_eq!(
        (waived.verdict, waived.list_price_cents, waived.executor_id),
        (Verdict::ClientAtFault, 12_000, order.worker)
    );
}

#[tokio::test]
async fn the_cases_are_listed_newest_first_by_status() {
    let store = MemoryStore::default();
    let manager = claims(Uuid::now_v7(), Role::Manager);
    let mut opened = Vec::new();
    for hour in 0..3 {
        let order = pending(&store).await;
        opened.push(
            app::open_case(&store, &manager, order.id, slot() + Duration::hours(hour))
                .await
                .unwrap(),
        );
    }
    app::close_case(
        &store,
        &manager,
        opened[0].case_id,
        &qa_report(Verdict::Ok),
        &cause(),
        slot(),
    )
    .await
    .unwrap();
    let open = app::cases(&store, &manager, Some(Status::Open), 10, None)
        .await
        .unwrap();
    let ids: Vec<_> = open.items.iter().map(|c| c.case_id).collect();
    assert_eq!(ids, vec![opened[2].case_id, opened[1].case_id]);
    let first = app::cases(&store, &manager, None, 2, None).await.unwrap();
    assert_eq!(first.items.len(), 2);
    let rest = app::cases(&store, &manager, None, 2, first.next_cursor.as_deref())
        .await
        .unwrap();
    assert_eq!(rest.items[0].case_id, opened[0].case_id);
    assert!(matches!(
        app::cases(
            &store,
            &claims(Uuid::now_v7(), Role::Worker),
            None,
            10,
            None
        )
        .await,
        Err(ReportsError::Failed(Failure::Refused(Refused::NotAllowed(
            _
        ))))
    ));
}

// ------------------------------------------------------------------------ the weekly sample

fn week_ended() -> WeekEnded {
    WeekEnded {
        week: Week::parse("2026-W50").unwrap(),
        time_zone: "UTC".into(),
        started_at: at("2026-12-07T00:00:00Z"),
        ended_at: at("2026-12-14T00:00:00Z"),
    }
}

/// `n` orders approved within the week (and one just before, one just after it).
async fn approved_orders(store: &MemoryStore, n: usize) -> Vec<Uuid> {
    let week = week_ended();
    let mut ids = Vec::new();
    for i in 0..n {
        let order = Order::new();
        let when = week.started_at + Duration::minutes(i as i64 * 7);
        deliver(store, &[order.invoiced(true, when)]).await;
        ids.push(order.id);
    }
    for outside in [week.started_at - Duration::seconds(1), week.ended_at] {
        deliver(store, &[Order::new().invoiced(true, outside)]).await;
    }
    ids
}

#[tokio::test]
async fn the_week_samples_five_percent_of_its_approved_orders_once() {
    let store = MemoryStore::default();
    let approved = approved_orders(&store, 60).await;
    let (sample, outcome) = app::sample_week(&store, &week_ended(), 7, slot())
        .await
        .unwrap();
    assert_eq!(outcome, Outcome::Applied);
    assert_eq!(
        (sample.population, sample.chosen.len(), sample.seed),
        (60, 3, 7)
    );
    assert!(sample.chosen.iter().all(|id| approved.contains(id)));
    let cases = store
        .cases(Some(Status::Open), 10, None)
        .await
        .unwrap()
        .items;
    assert_eq!(cases.len(), 3);
    assert!(cases
        .iter()
        .all(|c| c.cause == QaCause::Random && sample.chosen.contains(&c.order_id)));

    // The week ends again (a redelivery), with another seed: the kept sample stands.
    let (again, outcome) = app::sample_week(&store, &week_ended(), 8, slot())
        .await
        .unwrap();
    assert_eq!(again, sample);
    assert_eq!(outcome, Outcome::Duplicate);
    assert_eq!(store.cases(None, 10, None).await.unwrap().items.len(), 3);
    assert_eq!(store.sample(week_ended().week).await.unwrap(), Some(sample));
}

#[tokio::test]
async fn the_same_seed_and_orders_choose_the_same_sample() {
    let (one, two) = (MemoryStore::default(), MemoryStore::default());
    let orders = approved_orders(&one, 45).await;
    // The same orders, approved in the reverse order.
    let week = week_ended();
    for (i, id) in orders.iter().rev().enumerate() {
        let order = Order {
            id: *id,
            client: Uuid::now_v7(),
            worker: Uuid::now_v7(),
        };
        deliver(
            &two,
            &[order.invoiced(true, week.started_at + Duration::minutes(i as i64))],
        )
        .await;
    }
    let (first, _) = app::sample_week(&one, &week, 1234, slot()).await.unwrap();
    let (second, _) = app::sample_week(&two, &week, 1234, slot()).await.unwrap();
    assert_eq!(first.chosen.len(), 2);
    assert_eq!(first.chosen, second.chosen);
}

#[tokio::test]
async fn a_week_with_few_approved_orders_samples_at_least_one_and_an_empty_week_none() {
    let store = MemoryStore::default();
    let approved = approved_orders(&store, 3).await;
    let (sample, _) = app::sample_week(&store, &week_ended(), 99, slot())
        .await
        .unwrap();
    assert_eq!(sample.chosen.len(), 1);
    assert!(approved.contains(&sample.chosen[0]));

    let empty = MemoryStore::default();
    let (none, _) = app::sample_week(&empty, &week_ended(), 99, slot())
        .await
        .unwrap();
    assert!(none.chosen.is_empty());
    assert_eq!(none.population, 0);
}

#[tokio::test]
async fn the_week_ended_event_draws_the_sample() {
    let store = MemoryStore::default();
    approved_orders(&store, 20).await;
    let ended = event("clock", &week_ended(), slot());
    assert_eq!(
        app::on_clock_event(&store, &ended, 5, slot())
            .await
            .unwrap(),
        Outcome::Applied
    );
    assert_eq!(
        app::on_clock_event(&store, &ended, 6, slot())
            .await
            .unwrap(),
        Outcome::Duplicate
    );
    let kept = store.sample(week_ended().week).await.unwrap().unwrap();
    assert_eq!((kept.seed, kept.chosen.len()), (5, 1));
}
