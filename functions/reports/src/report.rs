//! The executor's pre-report and report (SPEC M6): the text and the images of the work, each
//! filed once per order, by the order's executor, at the right place of the order's net (M2's
//! `begin` and `finish`). The images are uploaded straight to the context's bucket; a report
//! cites them by id, and each is checked where it lies (`Attachments`), never on the client's
//! word.

use ates_kernel::contracts::orders::Place;
use ates_kernel::contracts::reports::{PreReportSubmitted, ReportSubmitted};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::ReportsError;
use crate::order::OrderCopy;

/// The longest report text.
pub const MAX_TEXT: usize = 4000;
/// The most images a report cites.
pub const MAX_ATTACHMENTS: usize = 10;
/// The largest image: 10 MiB.
pub const MAX_IMAGE_BYTES: u64 = 10 * 1024 * 1024;
/// How early before the slot the executor may file the pre-report (M2's `begin`).
pub const EARLIEST_BEFORE_SLOT: Duration = Duration::minutes(30);

/// Which of the two reports of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Before the work: moves the order from `pending` into the work.
    PreReport,
    /// After the work: moves the order from `in_work` to `report`.
    Report,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::PreReport => "pre_report",
            Kind::Report => "report",
        }
    }

    /// The place of the order's net the report is filed at.
    pub fn place(self) -> Place {
        match self {
            Kind::PreReport => Place::Pending,
            Kind::Report => Place::InWork,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::PreReport => "pre-report",
            Kind::Report => "report",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The image types a report may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ImageType {
    #[serde(rename = "image/jpeg")]
    Jpeg,
    #[serde(rename = "image/png")]
    Png,
}

impl ImageType {
    pub fn as_str(self) -> &'static str {
        match self {
            ImageType::Jpeg => "image/jpeg",
            ImageType::Png => "image/png",
        }
    }

    pub fn parse(s: &str) -> Option<ImageType> {
        [ImageType::Jpeg, ImageType::Png]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

/// An image as the report keeps it: what was found in the bucket when the report was filed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub attachment_id: Uuid,
    pub content_type: ImageType,
    pub size_bytes: u64,
}

/// Where an order's image lies in the bucket: under its order, so an id cited for another
/// order finds nothing.
pub fn object_key(order_id: Uuid, attachment_id: Uuid) -> String {
    format!("orders/{order_id}/{attachment_id}")
}

/// An upload asked for: `{content_type, size_bytes}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAttachment {
    pub content_type: String,
    pub size_bytes: u64,
}

/// An upload as it may be signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValidAttachment {
    pub content_type: ImageType,
    pub size_bytes: u64,
}

impl NewAttachment {
    pub fn validate(&self) -> Result<ValidAttachment, ReportsError> {
        let content_type = ImageType::parse(&self.content_type).ok_or_else(|| {
            ReportsError::Invalid(format!(
                "content_type {:?} is not image/jpeg or image/png",
                self.content_type
            ))
        })?;
        if !(1..=MAX_IMAGE_BYTES).contains(&self.size_bytes) {
            return Err(ReportsError::Invalid(format!(
                "size_bytes must be 1 to {MAX_IMAGE_BYTES} (10 MiB)"
            )));
        }
        Ok(ValidAttachment {
            content_type,
            size_bytes: self.size_bytes,
        })
    }
}

/// A report as the executor sends it: `{text, attachments?}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewReport {
    pub text: String,
    #[serde(default)]
    pub attachments: Option<Vec<Uuid>>,
}

/// A report's input once checked: text of 1 to 4000 characters, at most 10 distinct images.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidReport {
    pub text: String,
    pub attachments: Vec<Uuid>,
}

impl NewReport {
    pub fn validate(&self) -> Result<ValidReport, ReportsError> {
        let text = self.text.trim();
        let length = text.chars().count();
        if !(1..=MAX_TEXT).contains(&length) {
            return Err(ReportsError::Invalid(format!(
                "text must be 1 to {MAX_TEXT} characters"
            )));
        }
        let attachments = self.attachments.clone().unwrap_or_default();
        if attachments.len() > MAX_ATTACHMENTS {
            return Err(ReportsError::Invalid(format!(
                "a report carries at most {MAX_ATTACHMENTS} attachments"
            )));
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(twice) = attachments.iter().find(|id| !seen.insert(**id)) {
            return Err(ReportsError::Invalid(format!(
                "attachment {twice} is cited twice"
            )));
        }
        Ok(ValidReport {
            text: text.to_owned(),
            attachments,
        })
    }
}

/// A filed pre-report or report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub report_id: Uuid,
    pub order_id: Uuid,
    pub kind: Kind,
    pub executor_id: Uuid,
    pub text: String,
    pub attachments: Vec<Attachment>,
    pub submitted_at: DateTime<Utc>,
}

/// The one id an order's report of a kind has: a second filing finds it taken.
pub fn report_id(order_id: Uuid, kind: Kind) -> Uuid {
    Uuid::new_v5(&order_id, kind.as_str().as_bytes())
}

/// Whether `executor_id` may file `kind` for the order now: the executor is the order's, the
/// order is at the kind's place, and (a pre-report) its slot starts within 30 minutes or has
/// started. Someone else's order is unknown to them (`UnknownOrder`).
pub fn check_filing(
    order: &OrderCopy,
    kind: Kind,
    executor_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), ReportsError> {
    if order.executor_id != Some(executor_id) {
        return Err(ReportsError::UnknownOrder);
    }
    if !order.is_marked(kind.place()) {
        return Err(ReportsError::WrongPlace {
            kind,
            needs: kind.place(),
            marked: order.marking(),
        });
    }
    if kind == Kind::PreReport {
        let slot = order.slot_start.ok_or(ReportsError::SlotUnknown)?;
        let earliest = slot - EARLIEST_BEFORE_SLOT;
        if now < earliest {
            return Err(ReportsError::TooEarly { earliest });
        }
    }
    Ok(())
}

/// What a filed report publishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filed {
    PreReport(PreReportSubmitted),
    Report(ReportSubmitted),
}

/// The report, filed by the order's executor, and its event.
pub fn file(
    order: &OrderCopy,
    kind: Kind,
    executor_id: Uuid,
    text: String,
    attachments: Vec<Attachment>,
    now: DateTime<Utc>,
) -> Result<(Report, Filed), ReportsError> {
    check_filing(order, kind, executor_id, now)?;
    let report = Report {
        report_id: report_id(order.order_id, kind),
        order_id: order.order_id,
        kind,
        executor_id,
        text,
        attachments,
        submitted_at: now,
    };
    let attachment_ids = report.attachments.iter().map(|a| a.attachment_id).collect();
    let filed = match kind {
        Kind::PreReport => Filed::PreReport(PreReportSubmitted {
            report_id: report.report_id,
            order_id: report.order_id,
            executor_id,
            attachment_ids,
            submitted_at: now,
        }),
        Kind::Report => Filed::Report(ReportSubmitted {
            report_id: report.report_id,
            order_id: report.order_id,
            executor_id,
            attachment_ids,
            submitted_at: now,
        }),
    };
    Ok((report, filed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::{ExecutorFact, OrderFact};

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn pending_order(executor: Uuid) -> OrderCopy {
        let id = Uuid::new_v4();
        OrderCopy::new(id)
            .apply(&OrderFact {
                executor: Some(ExecutorFact::Is(executor)),
                slot_start: Some(at("2026-12-10T10:00:00Z")),
                ..OrderFact::step(id, 6, vec![Place::Pending])
            })
            .unwrap()
    }

    #[test]
    fn a_pre_report_is_filed_from_thirty_minutes_before_the_slot() {
        let worker = Uuid::new_v4();
        let order = pending_order(worker);
        let early = check_filing(&order, Kind::PreReport, worker, at("2026-12-10T09:29:59Z"));
        assert!(
            matches!(early, Err(ReportsError::TooEarly { earliest }) if earliest == at("2026-12-10T09:30:00Z"))
        );
        let (report, filed) = file(
            &order,
            Kind::PreReport,
            worker,
            "arrived".into(),
            vec![],
            at("2026-12-10T09:30:00Z"),
        )
        .unwrap();
        assert_eq!(report.report_id, report_id(order.order_id, Kind::PreReport));
        assert!(
            matches!(filed, Filed::PreReport(e) if e.executor_id == worker && e.order_id == order.order_id)
        );
        // After the slot started, too.
        assert!(check_filing(&order, Kind::PreReport, worker, at("2026-12-10T12:00:00Z")).is_ok());
    }

    #[test]
    fn only_the_executor_files_and_only_at_the_right_place() {
        let worker = Uuid::new_v4();
        let order = pending_order(worker);
        let later = at("2026-12-10T10:00:00Z");
        assert!(matches!(
            check_filing(&order, Kind::PreReport, Uuid::new_v4(), later),
            Err(ReportsError::UnknownOrder)
        ));
        let wrong = check_filing(&order, Kind::Report, worker, later).unwrap_err();
        assert_eq!(
            wrong.to_string(),
            "the report is filed at in_work; the order is at pending"
        );
    }

    #[test]
    fn the_input_is_checked_once() {
        let ok = NewReport {
            text: "  done  ".into(),
            attachments: None,
        };
        assert_eq!(ok.validate().unwrap().text, "done");
        let blank = NewReport {
            text: "   ".into(),
            attachments: None,
        };
        assert!(blank.validate().is_err());
        let long = NewReport {
            text: "x".repeat(MAX_TEXT + 1),
            attachments: None,
        };
        assert!(long.validate().is_err());
        let many = NewReport {
            text: "x".into(),
            attachments: Some((0..11).map(|_| Uuid::new_v4()).collect()),
        };
        assert!(many.validate().is_err());
        let id = Uuid::new_v4();
        let twice = NewReport {
            text: "x".into(),
            attachments: Some(vec![id, id]),
        };
        assert!(twice.validate().is_err());
    }

    #[test]
    fn an_upload_is_a_jpeg_or_png_of_at_most_ten_mebibytes() {
        let upload = |t: &str, size| NewAttachment {
            content_type: t.into(),
            size_bytes: size,
        };
        assert_eq!(
            upload("image/png", MAX_IMAGE_BYTES).validate().unwrap(),
            ValidAttachment {
                content_type: ImageType::Png,
                size_bytes: MAX_IMAGE_BYTES
            }
        );
        assert!(upload("image/gif", 10).validate().is_err());
        assert!(upload("image/jpeg", 0).validate().is_err());
        assert!(upload("image/jpeg", MAX_IMAGE_BYTES + 1)
            .validate()
            .is_err());
    }
}
