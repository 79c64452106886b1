//! Reports' use cases: one function per command, query and event. Each is a try of the
//! kernel's executor (`usecase::execute`): it reads through the ports, decides with the domain
//! (`order`, `report`, `qa`), and commits the state and its events in one store call.
//!
//! Order events arrive duplicated and in any order. Each is applied by what it writes, not by
//! an inbox record: the order copy moves forward only (`OrderCopy::apply`), and a declined
//! order's case has an id derived from the order, so it is opened once. The weekly sample is
//! kept under its week, seed and all: a second `Clock.WeekEnded` opens the same cases.

use ates_kernel::contracts::clock::{decode_week_ended, WeekEnded};
use ates_kernel::contracts::orders::{self as orders, Place};
use ates_kernel::dynamo::Listed;
use ates_kernel::event::{Cause, Envelope, EventError};
use ates_kernel::identity::{AccountCopies, Claims, Rights, Role};
use ates_kernel::inbox::{ConsumeError, Outcome};
use ates_kernel::usecase::Failure;
use ates_kernel::usecase::{execute, Attempt};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::error::ReportsError;
use crate::order::{ExecutorFact, OrderCopy, OrderFact};
pub use crate::ports::{Attachments, Cases, OrderChanges, Orders, Reports, Samples, Saved};
use crate::qa::{self, Consequence, QaCase, Status, ValidQaReport};
use crate::report::{self, object_key, Attachment, Filed, Kind, ValidAttachment, ValidReport};
use crate::PRODUCER;

/// Who files reports and uploads their images: workers (an order's executor is one).
#[derive(Debug)]
pub struct Executors;

impl Rights for Executors {
    const ROLES: &'static [Role] = &[Role::Worker];
}

/// Who runs quality control: managers, and admins, who hold every manager's right.
#[derive(Debug)]
pub struct QualityStaff;

impl Rights for QualityStaff {
    const ROLES: &'static [Role] = &[Role::Manager, Role::Admin];
}

/// How long a presigned URL (upload or download) lasts.
pub const URL_LIFETIME: Duration = Duration::minutes(15);

/// A use case's failure as the queue reads it: what can work later is retried, what never can
/// is parked.
fn consumed(e: ReportsError) -> ConsumeError {
    match e {
        ReportsError::Failed(Failure::Store(_) | Failure::ChangedMeanwhile) => {
            ConsumeError::Retry(e.to_string())
        }
        other => ConsumeError::Poison(other.to_string()),
    }
}

// ---------------------------------------------------------------------------- order events

/// What an `Order.*` event says of the order, or `None` for an event reports does not follow.
pub fn order_fact(event: &Envelope) -> Result<Option<OrderFact>, EventError> {
    let step = |s: orders::OrderStep| OrderFact {
        executor: Some(ExecutorFact::Is(s.executor_id)),
        ..OrderFact::step(s.order_id, s.version, s.places)
    };
    let invoiced = |i: orders::OrderInvoiced, approved: bool| OrderFact {
        client_id: Some(i.client_id),
        executor: Some(ExecutorFact::Is(i.executor_id)),
        list_price_cents: Some(i.list_price_cents),
        approved_at: approved.then_some(i.at),
        declined_at: (!approved).then_some(i.at),
        ..OrderFact::step(i.order_id, i.version, i.places)
    };
    Ok(Some(match event.name.as_str() {
        "Order.Created" => {
            let c = orders::decode_order_created(event)?;
            OrderFact {
                client_id: Some(c.client_id),
                slot_start: Some(c.slot_start),
                ..OrderFact::step(c.order_id, c.version, c.places)
            }
        }
        "Order.Rated" => {
            let r = orders::decode_order_rated(event)?;
            OrderFact {
                client_id: Some(r.client_id),
                slot_start: Some(r.slot_start),
                ..OrderFact::step(r.order_id, r.version, r.places)
            }
        }
        "Order.ExecutorAssigned" => step(orders::decode_order_executor_assigned(event)?.0),
        "Order.Pending" => step(orders::decode_order_pending(event)?.0),
        "Order.PreReported" => step(orders::decode_order_pre_reported(event)?.0),
        "Order.InWork" => step(orders::decode_order_in_work(event)?.0),
        "Order.Reported" => step(orders::decode_order_reported(event)?.0),
        "Order.Valued" => {
            let v = orders::decode_order_valued(event)?;
            OrderFact {
                executor: Some(ExecutorFact::Is(v.executor_id)),
                list_price_cents: Some(v.list_price_cents),
                ..OrderFact::step(v.order_id, v.version, v.places)
            }
        }
        "Order.Supplied" => {
            let s = orders::decode_order_supplied(event)?;
            OrderFact {
                executor: Some(ExecutorFact::Is(s.executor_id)),
                ..OrderFact::step(s.order_id, s.version, s.places)
            }
        }
        "Order.ExecutorReleased" => {
            let r = orders::decode_order_executor_released(event)?;
            OrderFact {
                executor: Some(ExecutorFact::Released),
                ..OrderFact::step(r.order_id, r.version, r.places)
            }
        }
        "Order.SuccessInvoiced" => invoiced(orders::decode_order_success_invoiced(event)?.0, true),
        "Order.FailedInvoiced" => invoiced(orders::decode_order_failed_invoiced(event)?.0, false),
        "Order.Paid" => {
            let p = orders::decode_order_paid(event)?;
            OrderFact::step(p.order_id, p.version, p.places)
        }
        "Order.Cancelled" => {
            let c = orders::decode_order_cancelled(event)?;
            OrderFact {
                client_id: Some(c.client_id),
                ..OrderFact::step(c.order_id, c.version, c.places)
            }
        }
        _ => return Ok(None),
    }))
}

/// The consumer of the `Order.*` events: the copy follows every one; a declined order
/// (`Order.FailedInvoiced`) also opens its QA case. A payload that does not decode is poison.
pub async fn on_order_event(
    store: &(impl Orders + OrderChanges + Cases),
    event: &Envelope,
    now: DateTime<Utc>,
) -> Result<Outcome, ConsumeError> {
    let fact = order_fact(event).map_err(|e| ConsumeError::Poison(e.to_string()))?;
    let Some(fact) = fact else {
        return Ok(Outcome::NotConcerned);
    };
    let followed = follow_order(store, &fact).await.map_err(consumed)?;
    if fact.declined_at.is_none() {
        return Ok(followed);
    }
    let opened = open_automatic(store, QaCase::declined(fact.order_id, now))
        .await
        .map_err(consumed)?;
    Ok(match (followed, opened) {
        (Outcome::Applied, _) | (_, Outcome::Applied) => Outcome::Applied,
        _ => Outcome::Duplicate,
    })
}

/// M2's facts into the copy: applied once, forward only.
pub async fn follow_order(
    store: &(impl Orders + OrderChanges),
    fact: &OrderFact,
) -> Result<Outcome, ReportsError> {
    execute(|| async {
        let before = store.order(fact.order_id).await?;
        let known = before
            .clone()
            .unwrap_or_else(|| OrderCopy::new(fact.order_id));
        let Some(after) = known.apply(fact) else {
            return Ok(Attempt::Done(Outcome::Duplicate));
        };
        let saved = store.change_order(before.as_ref(), &after).await?;
        Ok(saved.attempt(Outcome::Applied))
    })
    .await
}

/// An automatic case (a declined order's, a sampled one's): opened once by its derived id.
/// An order already under review (another case open) is left to that case.
async fn open_automatic(store: &impl Cases, case: QaCase) -> Result<Outcome, ReportsError> {
    execute(|| async {
        if store.case(case.case_id).await?.is_some() {
            return Ok(Attempt::Done(Outcome::Duplicate));
        }
        if let Some(open) = store.open_case_of(case.order_id).await? {
            tracing::info!(order_id = %case.order_id, open_case = %open, cause = ?case.cause, "the order is already under review: no second case");
            return Ok(Attempt::Done(Outcome::Superseded));
        }
        let saved = store.open_case(&case).await?;
        if saved == Saved::Done {
            tracing::info!(order_id = %case.order_id, case_id = %case.case_id, cause = ?case.cause, "QA case opened");
        }
        Ok(saved.attempt(Outcome::Applied))
    })
    .await
}

// ------------------------------------------------------------------------ the weekly sample

/// The consumer of `Clock.WeekEnded`: the week's random sample. `seed` is used only if the
/// week has no sample yet (the binary draws it at random; the sample keeps it).
pub async fn on_clock_event(
    store: &(impl Orders + Cases + Samples),
    event: &Envelope,
    seed: u64,
    now: DateTime<Utc>,
) -> Result<Outcome, ConsumeError> {
    if event.name != "Clock.WeekEnded" {
        return Ok(Outcome::NotConcerned);
    }
    let week = decode_week_ended(event).map_err(|e| ConsumeError::Poison(e.to_string()))?;
    let (_, outcome) = sample_week(store, &week, seed, now)
        .await
        .map_err(consumed)?;
    Ok(outcome)
}

/// M6, the weekly random sample: 5 % of the orders approved within the week, at least one if
/// there is any, drawn with `seed` and kept with it; each chosen order gets a `random` case.
/// Run again for the same week, it opens the cases of the sample it kept, whatever the seed.
pub async fn sample_week(
    store: &(impl Orders + Cases + Samples),
    week: &WeekEnded,
    seed: u64,
    now: DateTime<Utc>,
) -> Result<(qa::Sample, Outcome), ReportsError> {
    let (sample, drawn) = execute(|| async {
        if let Some(kept) = store.sample(week.week).await? {
            return Ok(Attempt::Done((kept, false)));
        }
        let approved = store
            .approved_between(week.started_at, week.ended_at)
            .await?;
        let sample = qa::draw(week.week, &approved, seed, now);
        let saved = store.add_sample(&sample).await?;
        Ok::<_, ReportsError>(saved.attempt((sample, true)))
    })
    .await?;
    if drawn {
        tracing::info!(week = %sample.week, seed = sample.seed, population = sample.population, chosen = sample.chosen.len(), "weekly QA sample drawn");
    }
    let mut opened = false;
    for order_id in &sample.chosen {
        let case = QaCase::sampled(*order_id, sample.week, now);
        opened |= open_automatic(store, case).await? == Outcome::Applied;
    }
    let outcome = if drawn || opened {
        Outcome::Applied
    } else {
        Outcome::Duplicate
    };
    Ok((sample, outcome))
}

// ------------------------------------------------------------------------- the executor

/// What an executor may file or upload for: the order as the copy says, if the caller is its
/// executor; anyone else's order does not exist for them.
async fn executors_order(
    store: &impl Orders,
    order_id: Uuid,
    executor: Uuid,
) -> Result<OrderCopy, ReportsError> {
    store
        .order(order_id)
        .await?
        .filter(|o| o.executor_id == Some(executor))
        .ok_or(ReportsError::UnknownOrder)
}

/// M6: the executor's pre-report (`Report.PreReportSubmitted`: orders' `begin`) or report
/// (`Report.ReportSubmitted`: orders' `finish`), once per order each. Every image cited is
/// checked in the bucket: there, under this order, an image of ours, at most 10 MiB.
#[allow(clippy::too_many_arguments)]
pub async fn file_report(
    store: &(impl Orders + Reports + AccountCopies),
    bucket: &impl Attachments,
    claims: &Claims,
    order_id: Uuid,
    kind: Kind,
    input: &ValidReport,
    cause: &Cause,
    now: DateTime<Utc>,
) -> Result<report::Report, ReportsError> {
    let executor = claims.may::<Executors>(store).await?;
    let order = executors_order(store, order_id, executor.account_id()).await?;
    if store.report(order_id, kind).await?.is_some() {
        return Err(ReportsError::AlreadyFiled(kind));
    }
    report::check_filing(&order, kind, executor.account_id(), now)?;
    let attachments = checked_attachments(bucket, order_id, &input.attachments).await?;
    // Kept before the report is written: a report never cites an image that may still expire
    // (a filing that fails after this leaves kept images no report cites, which cost little).
    for a in &attachments {
        bucket.keep(&object_key(order_id, a.attachment_id)).await?;
    }
    execute(|| async {
        let order = executors_order(store, order_id, executor.account_id()).await?;
        if store.report(order_id, kind).await?.is_some() {
            return Err(ReportsError::AlreadyFiled(kind));
        }
        let (report, filed) = report::file(
            &order,
            kind,
            executor.account_id(),
            input.text.clone(),
            attachments.clone(),
            now,
        )?;
        let event = match &filed {
            Filed::PreReport(e) => Envelope::wrap(PRODUCER, e, cause, now)?,
            Filed::Report(e) => Envelope::wrap(PRODUCER, e, cause, now)?,
        };
        let saved = store.add_report(&report, &event).await?;
        Ok(saved.attempt(report))
    })
    .await
    .inspect(|r| tracing::info!(order_id = %r.order_id, kind = %r.kind, report_id = %r.report_id, "report filed"))
}

/// Each cited image as the bucket holds it; the first that is missing, of another type or too
/// large is named.
async fn checked_attachments(
    bucket: &impl Attachments,
    order_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<Attachment>, ReportsError> {
    let mut found = Vec::with_capacity(ids.len());
    for id in ids {
        let bad = |why: &str| ReportsError::BadAttachment {
            id: *id,
            why: why.to_owned(),
        };
        let stored = bucket
            .stored(&object_key(order_id, *id))
            .await?
            .ok_or_else(|| bad("was not uploaded for this order"))?;
        let content_type = stored
            .content_type
            .ok_or_else(|| bad("is not an image/jpeg or image/png"))?;
        if stored.size_bytes > report::MAX_IMAGE_BYTES {
            return Err(bad("is larger than 10 MiB"));
        }
        found.push(Attachment {
            attachment_id: *id,
            content_type,
            size_bytes: stored.size_bytes,
        });
    }
    Ok(found)
}

/// An upload the executor may make: `{attachment_id, upload_url, expires_at}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UploadGranted {
    pub attachment_id: Uuid,
    pub upload_url: String,
    pub expires_at: DateTime<Utc>,
}

/// M6: a presigned PUT for one image of the order, by its executor, while a report is still
/// to be filed. The URL signs the type and the length: the bucket refuses anything else.
pub async fn request_upload(
    store: &(impl Orders + AccountCopies),
    bucket: &impl Attachments,
    claims: &Claims,
    order_id: Uuid,
    upload: ValidAttachment,
    now: DateTime<Utc>,
) -> Result<UploadGranted, ReportsError> {
    let executor = claims.may::<Executors>(store).await?;
    let order = executors_order(store, order_id, executor.account_id()).await?;
    let open = [Place::Pending, Place::PreReport, Place::InWork];
    if !open.iter().any(|p| order.is_marked(*p)) {
        return Err(ReportsError::NothingToReport {
            marked: order.marking(),
        });
    }
    let attachment_id = Uuid::now_v7();
    let signed = bucket
        .upload_url(
            &object_key(order_id, attachment_id),
            upload.content_type,
            upload.size_bytes,
            now,
        )
        .await?;
    Ok(UploadGranted {
        attachment_id,
        upload_url: signed.url,
        expires_at: signed.expires_at,
    })
}

// ------------------------------------------------------------------------------- reads

/// An image as a reader gets it: with a presigned GET.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttachmentView {
    pub attachment_id: Uuid,
    pub content_type: String,
    pub size_bytes: u64,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportView {
    pub report_id: Uuid,
    pub text: String,
    pub attachments: Vec<AttachmentView>,
    pub submitted_at: DateTime<Utc>,
}

/// `GET /reports/{order_id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderReports {
    pub order_id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pre_report: Option<ReportView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<ReportView>,
}

/// M6: the order's reports, for its client, its executor, managers and admins; the order does
/// not exist for anyone else.
pub async fn order_reports(
    store: &(impl Orders + Reports + AccountCopies),
    bucket: &impl Attachments,
    claims: &Claims,
    order_id: Uuid,
    now: DateTime<Utc>,
) -> Result<OrderReports, ReportsError> {
    let caller = claims.caller(store).await?;
    let order = store
        .order(order_id)
        .await?
        .ok_or(ReportsError::UnknownOrder)?;
    let me = Some(caller.account_id());
    let sees = match caller.role() {
        Role::Manager | Role::Admin => true,
        _ => order.client_id == me || order.executor_id == me,
    };
    if !sees {
        return Err(ReportsError::UnknownOrder);
    }
    let mut views = Vec::with_capacity(2);
    for kind in [Kind::PreReport, Kind::Report] {
        let view = match store.report(order_id, kind).await? {
            None => None,
            Some(r) => Some(view(bucket, &r, now).await?),
        };
        views.push(view);
    }
    let report = views.pop().flatten();
    let pre_report = views.pop().flatten();
    Ok(OrderReports {
        order_id,
        pre_report,
        report,
    })
}

async fn view(
    bucket: &impl Attachments,
    r: &report::Report,
    now: DateTime<Utc>,
) -> Result<ReportView, ReportsError> {
    let mut attachments = Vec::with_capacity(r.attachments.len());
    for a in &r.attachments {
        attachments.push(AttachmentView {
            attachment_id: a.attachment_id,
            content_type: a.content_type.as_str().to_owned(),
            size_bytes: a.size_bytes,
            url: bucket
                .download_url(&object_key(r.order_id, a.attachment_id), now)
                .await?,
        });
    }
    Ok(ReportView {
        report_id: r.report_id,
        text: r.text.clone(),
        attachments,
        submitted_at: r.submitted_at,
    })
}

// ----------------------------------------------------------------------- quality control

/// M6: a manager opens a QA case for an order (`manual`); an order has one open case at most.
pub async fn open_case(
    store: &(impl Orders + Cases + AccountCopies),
    claims: &Claims,
    order_id: Uuid,
    now: DateTime<Utc>,
) -> Result<QaCase, ReportsError> {
    let staff = claims.may::<QualityStaff>(store).await?;
    if store.order(order_id).await?.is_none() {
        return Err(ReportsError::UnknownOrder);
    }
    let case = QaCase::manual(order_id, staff.account_id(), now);
    execute(|| async {
        if let Some(open) = store.open_case_of(order_id).await? {
            return Err(ReportsError::CaseAlreadyOpen(open));
        }
        let saved = store.open_case(&case).await?;
        Ok(saved.attempt(case.clone()))
    })
    .await
    .inspect(|c| tracing::info!(order_id = %c.order_id, case_id = %c.case_id, "QA case opened by a manager"))
}

/// M6: a manager closes a case with the QA report; its verdict may fine the worker or waive
/// the decline's fine, published in the same write.
pub async fn close_case(
    store: &(impl Orders + Cases + AccountCopies),
    claims: &Claims,
    case_id: Uuid,
    report: &ValidQaReport,
    cause: &Cause,
    now: DateTime<Utc>,
) -> Result<QaCase, ReportsError> {
    let staff = claims.may::<QualityStaff>(store).await?;
    execute(|| async {
        let case = store
            .case(case_id)
            .await?
            .ok_or(ReportsError::UnknownCase)?;
        let order = store
            .order(case.order_id)
            .await?
            .unwrap_or_else(|| OrderCopy::new(case.order_id));
        let (closed, consequence) = case.close(&order, report, staff.account_id(), now)?;
        let events =
            match &consequence {
                None => Vec::new(),
                Some(Consequence::Fine(fine)) => vec![Envelope::wrap(PRODUCER, fine, cause, now)?
                    .once_for(&format!("qa-fine:{case_id}"))],
                Some(Consequence::Waived(waived)) => {
                    vec![Envelope::wrap(PRODUCER, waived, cause, now)?
                        .once_for(&format!("waiver:{case_id}"))]
                }
            };
        let saved = store.close_case(&case, &closed, &events).await?;
        Ok(saved.attempt(closed))
    })
    .await
    .inspect(|c| tracing::info!(case_id = %c.case_id, verdict = ?c.verdict, "QA case closed"))
}

/// M6: QA cases, newest first: one status's, or all (managers, admins).
pub async fn cases(
    store: &(impl Cases + AccountCopies),
    claims: &Claims,
    status: Option<Status>,
    limit: usize,
    cursor: Option<&str>,
) -> Result<Listed<QaCase>, ReportsError> {
    claims.may::<QualityStaff>(store).await?;
    store.cases(status, limit, cursor).await
}

/// The copy of accounts (`Account.*` events): once per event, and only forward in revision.
pub use ates_kernel::copies::sync_account;
