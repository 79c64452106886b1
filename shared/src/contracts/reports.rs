//! Reports' events (SPEC M6): the executor's pre-report and report, which move the order into
//! and out of the work, and the quality verdicts that change what the worker earns. No event
//! carries a report's text or its images (they stay in reports, for the people who may read them).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::only_v1;
use crate::event::{DomainEvent, Envelope, EventError};

/// The executor filed the pre-report: orders' `begin` (`pending` → `pre_report` → `in_work`).
/// Reports checked the caller and the slot; orders checks its own net again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreReportSubmitted {
    pub report_id: Uuid,
    pub order_id: Uuid,
    pub executor_id: Uuid,
    pub attachment_ids: Vec<Uuid>,
    pub submitted_at: DateTime<Utc>,
}

impl DomainEvent for PreReportSubmitted {
    const NAME: &'static str = "Report.PreReportSubmitted";
    const VERSION: u32 = 1;
}

pub fn decode_pre_report_submitted(e: &Envelope) -> Result<PreReportSubmitted, EventError> {
    only_v1(e)
}

/// The executor filed the report: orders' `finish` (`in_work` → `report`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportSubmitted {
    pub report_id: Uuid,
    pub order_id: Uuid,
    pub executor_id: Uuid,
    pub attachment_ids: Vec<Uuid>,
    pub submitted_at: DateTime<Utc>,
}

impl DomainEvent for ReportSubmitted {
    const NAME: &'static str = "Report.ReportSubmitted";
    const VERSION: u32 = 1;
}

pub fn decode_report_submitted(e: &Envelope) -> Result<ReportSubmitted, EventError> {
    only_v1(e)
}

/// A QA report's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Ok,
    WorkerAtFault,
    ClientAtFault,
}

/// `worker_at_fault` on an approved order (seed 000 `report.fine`): billing fines the executor
/// 40 % of the order's list price, keyed `qa-fine:<case_id>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fine {
    pub case_id: Uuid,
    pub order_id: Uuid,
    pub executor_id: Uuid,
    pub list_price_cents: i64,
    pub fined_at: DateTime<Utc>,
}

impl DomainEvent for Fine {
    const NAME: &'static str = "Report.Fine";
    const VERSION: u32 = 1;
}

pub fn decode_fine(e: &Envelope) -> Result<Fine, EventError> {
    only_v1(e)
}

/// `ok` or `client_at_fault` on a declined order: billing reverses the decline's fine (40 % of
/// the list price), keyed `waiver:<case_id>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FineWaived {
    pub case_id: Uuid,
    pub order_id: Uuid,
    pub executor_id: Uuid,
    pub verdict: Verdict,
    pub list_price_cents: i64,
    pub waived_at: DateTime<Utc>,
}

impl DomainEvent for FineWaived {
    const NAME: &'static str = "Report.FineWaived";
    const VERSION: u32 = 1;
}

pub fn decode_fine_waived(e: &Envelope) -> Result<FineWaived, EventError> {
    only_v1(e)
}
