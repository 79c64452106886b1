//! A message and its attempts. A message is keyed by what it answers (a statement's id, an
//! application's step, a marketplace cause: `marketplace`), so a request delivered again finds it: once `sent`, it is never sent again. An attempt is claimed
//! (`sending`, attempts + 1) before the channel is asked and settled after (`sent`, `retrying`,
//! `failed`); a claim younger than [`SENDING_LEASE`] belongs to a delivery that may still be
//! sending, so another delivery waits rather than sends a second copy.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How long a claimed attempt is presumed alive. Longer than the sending function's timeout
/// (30 s, template.yaml), so a live sender has finished or died by then; shorter than its
/// queue's visibility timeout (180 s), so the redelivery after a crash finds the claim expired.
pub const SENDING_LEASE: Duration = Duration::seconds(60);

/// How a message leaves: email today; SMS and push are later channels of the same port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
}

/// What a message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// An employee's closed day (B5).
    DailyStatement,
    /// An applicant's steps (M1, M9): the application received, a test to take, the decision.
    ApplicationReceived,
    TestAssigned,
    ApplicationAccepted,
    ApplicationDeclined,
    /// An order's progress for its client (M9): an executor matched, the work pending for its
    /// slot, the work reported (approve or decline).
    OrderMatched,
    OrderPending,
    OrderReported,
    /// A kit the supplier delivered, for the supply desk to hand out (M5, M9).
    KitToHandOut,
    /// A client's weekly invoice (M7, M9): issued, paid, a collection declined.
    InvoiceIssued,
    InvoicePaid,
    InvoiceDeclined,
    /// A worker's monthly statement (M7, M9).
    MonthlyStatement,
    /// What a manager or an admin wrote to someone (`POST /notifications/messages`).
    Direct,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// An attempt is under way (or died under way: see [`SENDING_LEASE`]).
    Sending,
    /// The channel accepted it. Final.
    Sent,
    /// The last attempt failed; the request will be delivered again.
    Retrying,
    /// Given up: the request waits in the dead-letter queue (a redrive tries again).
    Failed,
}

/// A message as its history keeps it.
///
/// What only some kinds know stays in plain optional fields rather than in a kind-specific
/// part: the history is one flat list (an item, an API object), the one fact only one kind
/// has is a statement's day, and a message stored before hiring's mails reads unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// The request's own key: a statement's `statement_id`, `application:<id>:<step>`.
    pub message_id: String,
    /// Whose history shows it. None for an applicant, who has no account; an acceptance names
    /// the account it creates, so the welcome shows in that person's history once they sign in.
    pub account_id: Option<Uuid>,
    pub channel: Channel,
    pub to: String,
    pub subject: String,
    pub kind: Kind,
    /// The closed day a statement is about; None for every other kind.
    pub business_date: Option<NaiveDate>,
    pub status: Status,
    /// Attempts claimed so far, this one included.
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// When the latest attempt was claimed.
    pub attempted_at: DateTime<Utc>,
    /// Why the latest attempt failed.
    pub last_error: Option<String>,
    /// Who wrote a `direct` message; None for every other kind (the system's mails).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_by: Option<Uuid>,
    /// Grows with every write: each write is conditional on the version it read.
    pub version: u64,
}

/// Whether a delivery of the request may send the message now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Yes: this attempt is recorded first, then sent.
    Send(Message),
    /// It was sent before: nothing to do.
    AlreadySent,
    /// Another delivery claimed it moments ago and may be sending it: come back later.
    Busy,
}

/// Who a message goes to, and what it says in its history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addressed<'a> {
    pub message_id: &'a str,
    pub account_id: Option<Uuid>,
    pub to: &'a str,
    pub subject: &'a str,
    pub kind: Kind,
    pub business_date: Option<NaiveDate>,
}

/// What a message says, in both forms a mail client may show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl Content {
    /// A message written as plain text, its HTML the same paragraphs (blank-line separated), so
    /// a client that prefers HTML shows the same words.
    pub fn from_text(subject: String, text: String) -> Content {
        let paragraphs: String = text
            .split("\n\n")
            .filter(|p| !p.trim().is_empty())
            .map(|p| format!("<p>{}</p>", escape(p.trim_end()).replace('\n', "<br>")))
            .collect();
        let html = format!("<!DOCTYPE html><html><body>{paragraphs}</body></html>");
        Content {
            subject,
            text,
            html,
        }
    }
}

/// Text (a name, a reason) as it may stand in HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

impl Message {
    /// The first attempt of a new message.
    pub fn first(what: &Addressed<'_>, now: DateTime<Utc>) -> Message {
        Message {
            message_id: what.message_id.to_owned(),
            account_id: what.account_id,
            channel: Channel::Email,
            to: what.to.to_owned(),
            subject: what.subject.to_owned(),
            kind: what.kind,
            business_date: what.business_date,
            status: Status::Sending,
            attempts: 1,
            created_at: now,
            sent_at: None,
            attempted_at: now,
            last_error: None,
            sent_by: None,
            version: 1,
        }
    }

    /// The next attempt of a message seen before, to the address known now.
    pub fn claim(&self, what: &Addressed<'_>, now: DateTime<Utc>) -> Claim {
        match self.status {
            Status::Sent => return Claim::AlreadySent,
            Status::Sending if now < self.attempted_at + SENDING_LEASE => return Claim::Busy,
            // Retrying, failed (a redrive), or a sending attempt whose sender died.
            _ => {}
        }
        Claim::Send(Message {
            to: what.to.to_owned(),
            subject: what.subject.to_owned(),
            status: Status::Sending,
            attempts: self.attempts + 1,
            attempted_at: now,
            version: self.version + 1,
            ..self.clone()
        })
    }

    /// The channel accepted this attempt.
    pub fn sent(&self, at: DateTime<Utc>) -> Message {
        Message {
            status: Status::Sent,
            sent_at: Some(at),
            last_error: None,
            version: self.version + 1,
            ..self.clone()
        }
    }

    /// This attempt failed: retried later, or (`last`) given up.
    pub fn failed(&self, reason: &str, last: bool) -> Message {
        Message {
            status: if last {
                Status::Failed
            } else {
                Status::Retrying
            },
            last_error: Some(reason.chars().take(500).collect()),
            version: self.version + 1,
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addressed() -> Addressed<'static> {
        Addressed {
            message_id: "statement:a:2026-11-20",
            account_id: Some(Uuid::nil()),
            to: "kiwi@popug.test",
            subject: "statement",
            kind: Kind::DailyStatement,
            business_date: NaiveDate::from_ymd_opt(2026, 11, 20),
        }
    }

    #[test]
    fn a_name_cannot_inject_markup() {
        assert_eq!(
            escape("<b>Kiwi</b> & \"co\""),
            "&lt;b&gt;Kiwi&lt;/b&gt; &amp; &quot;co&quot;"
        );
    }

    #[test]
    fn a_text_message_is_the_same_paragraphs_in_html() {
        let content =
            Content::from_text("Hi".into(), "Hello <Kiwi>,\n\nline one\nline two\n".into());
        assert_eq!(
            content.html,
            "<!DOCTYPE html><html><body><p>Hello &lt;Kiwi&gt;,</p>\
             <p>line one<br>line two</p></body></html>"
        );
    }

    #[test]
    fn a_claim_waits_for_a_live_sender_and_takes_over_from_a_dead_one() {
        let now = Utc::now();
        let first = Message::first(&addressed(), now);
        assert_eq!(
            first.claim(&addressed(), now + Duration::seconds(5)),
            Claim::Busy
        );
        let Claim::Send(second) = first.claim(&addressed(), now + SENDING_LEASE) else {
            panic!("a claim older than the lease is taken over");
        };
        assert_eq!((second.attempts, second.version), (2, 2));
        assert_eq!(second.created_at, now, "the message keeps its first time");
        assert_eq!(
            second.sent(now).claim(&addressed(), now),
            Claim::AlreadySent
        );
    }

    #[test]
    fn a_failed_attempt_is_retried_at_once_and_the_last_one_is_failed() {
        let now = Utc::now();
        let first = Message::first(&addressed(), now);
        let retrying = first.failed("throttled", false);
        assert_eq!(retrying.status, Status::Retrying);
        assert!(matches!(retrying.claim(&addressed(), now), Claim::Send(_)));
        let failed = first.failed("throttled", true);
        assert_eq!(failed.status, Status::Failed);
        assert!(
            matches!(failed.claim(&addressed(), now), Claim::Send(_)),
            "a redriven request tries again"
        );
    }
}
