//! Everything that can go wrong in reports, each by name: what the caller can fix is refused
//! before anything is written.

use ates_kernel::contracts::orders::Place;
use ates_kernel::http::Problem;
use ates_kernel::usecase::Failure;
use chrono::{DateTime, SecondsFormat, Utc};
use uuid::Uuid;

use crate::report::Kind;

#[derive(Debug, thiserror::Error)]
pub enum ReportsError {
    #[error("{0}")]
    Invalid(String),
    /// The order is unknown, or not the caller's to see.
    #[error("no such order")]
    UnknownOrder,
    #[error("no such QA case")]
    UnknownCase,
    #[error("the {kind} is filed at {needs}; the order is at {marked}")]
    WrongPlace {
        kind: Kind,
        needs: Place,
        marked: String,
    },
    #[error("the order has nothing left to report: it is at {marked}")]
    NothingToReport { marked: String },
    #[error("the pre-report may be filed from {}, 30 minutes before the slot", .earliest.to_rfc3339_opts(SecondsFormat::Secs, true))]
    TooEarly { earliest: DateTime<Utc> },
    #[error("the order's slot is not known yet; try again shortly")]
    SlotUnknown,
    #[error("the {0} of this order was already filed")]
    AlreadyFiled(Kind),
    #[error("attachment {id} {why}")]
    BadAttachment { id: Uuid, why: String },
    #[error("the order already has an open QA case ({0})")]
    CaseAlreadyOpen(Uuid),
    #[error("the QA case is closed")]
    CaseClosed,
    #[error("status {0:?} is not open or closed")]
    BadStatus(String),
    #[error("the attachments' bucket failed: {0}")]
    Bucket(String),
    #[error(transparent)]
    Failed(#[from] Failure),
}

ates_kernel::context_error!(ReportsError::Failed);

impl From<ReportsError> for Problem {
    fn from(e: ReportsError) -> Problem {
        use ReportsError::*;
        let detail = e.to_string();
        match e {
            Invalid(_) | BadStatus(_) | BadAttachment { .. } => Problem::invalid(detail),
            UnknownOrder | UnknownCase => Problem::not_found(detail),
            WrongPlace { .. }
            | NothingToReport { .. }
            | TooEarly { .. }
            | SlotUnknown
            | AlreadyFiled(_)
            | CaseAlreadyOpen(_)
            | CaseClosed => Problem::conflict(detail),
            Bucket(_) => Problem::internal(detail),
            Failed(failure) => failure.into(),
        }
    }
}
