//! The mails of an applicant's way through hiring (SPEC M1, M9), one per step and application:
//! received, test assigned, accepted, declined. Each is written from hiring's event alone, which
//! carries the address and the name (an applicant has no account to look them up by). No event
//! carries the application token, so no mail here does: the applicant follows the application
//! with the link of the token's own mail, which hiring sends itself.

use ates_kernel::contracts::hiring::{
    ApplicationAccepted, ApplicationDeclined, ApplicationSubmitted, ApplicationTestAssigned,
    Kind as Applying,
};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::message::{Content, Kind};

/// A mail to an applicant, and what its history keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicantMail {
    /// `application:<application id>:<step>`: one mail per step of an application, however
    /// often (and in whatever order) hiring's events arrive.
    pub message_id: String,
    pub kind: Kind,
    /// The account an acceptance creates: the welcome is in that person's own history.
    pub account_id: Option<Uuid>,
    pub to: String,
    pub content: Content,
}

const SIGNATURE: &str = "UberPopug Inc, through aTES";

fn key(application: Uuid, step: &str) -> String {
    format!("application:{application}:{step}")
}

/// The one place the link to the application is found.
const FOLLOW_IT: &str = "You can follow your application with the link in the mail that \
carried your private application token.";

/// `2026-12-08T10:00:00Z` → `Tuesday 8 December 2026, 10:00 UTC`: the day spelled out, so no
/// reader takes 12/08 for August; in UTC, the one zone that means the same to every applicant.
pub fn deadline(at: DateTime<Utc>) -> String {
    at.format("%A %-d %B %Y, %H:%M UTC").to_string()
}

/// `Application.Submitted`: the application is in, and what happens next for its kind.
pub fn received(submitted: &ApplicationSubmitted) -> ApplicantMail {
    let kind = submitted.kind;
    let next = match kind {
        Applying::Worker => {
            "What happens next: a manager gives you a short test. We mail you when it is ready, \
             with the time to submit it by; you answer it on your application's page."
        }
        Applying::Client => {
            "What happens next: a manager reviews your application and decides. We mail you \
             the decision."
        }
        Applying::Manager => {
            "What happens next: an admin reviews your application and decides. We mail you \
             the decision."
        }
    };
    let text = format!(
        "Hello {name},\n\n\
         we received your application to join UberPopug as a {kind}.\n\n\
         {next}\n\n\
         {FOLLOW_IT}\n\n\
         {SIGNATURE}\n",
        name = submitted.full_name,
    );
    ApplicantMail {
        message_id: key(submitted.application_id, "received"),
        kind: Kind::ApplicationReceived,
        account_id: None,
        to: submitted.email.clone(),
        content: Content::from_text(
            format!("UberPopug received your application as a {kind}"),
            text,
        ),
    }
}

/// `Application.TestAssigned`: a test waits, due by its deadline.
pub fn test_assigned(assigned: &ApplicationTestAssigned) -> ApplicantMail {
    let due = deadline(assigned.deadline);
    let text = format!(
        "Hello {name},\n\n\
         your test is ready. Submit your answers by {due}; once that time has passed, the \
         application is declined.\n\n\
         Open it on your application's page: follow the link in the mail that carried your \
         private application token (it is not repeated here).\n\n\
         {SIGNATURE}\n",
        name = assigned.full_name,
    );
    ApplicantMail {
        message_id: key(assigned.application_id, "test_assigned"),
        kind: Kind::TestAssigned,
        account_id: None,
        to: assigned.email.clone(),
        content: Content::from_text(format!("Your UberPopug test: due {due}"), text),
    }
}

/// `Application.Accepted`: welcome, and how to sign in (a code mailed to this address, A3).
/// `site` is the web app's address (`https://…`, no trailing slash).
pub fn accepted(accepted: &ApplicationAccepted, site: &str) -> ApplicantMail {
    let text = format!(
        "Hello {name},\n\n\
         welcome to UberPopug: your application was accepted, and you join as a {role}.\n\n\
         To sign in, open {site}/#/sign-in, enter this address ({email}) and ask for a \
         code: we mail it to this address. No password is needed.\n\n\
         {SIGNATURE}\n",
        name = accepted.full_name,
        role = accepted.role,
        email = accepted.email,
    );
    ApplicantMail {
        message_id: key(accepted.application_id, "accepted"),
        kind: Kind::ApplicationAccepted,
        account_id: Some(accepted.account_id),
        to: accepted.email.clone(),
        content: Content::from_text(
            format!("Welcome to UberPopug, {}", accepted.full_name),
            text,
        ),
    }
}

/// `Application.Declined`: the reason, as the person (or the deadline) gave it.
pub fn declined(declined: &ApplicationDeclined) -> ApplicantMail {
    let text = format!(
        "Hello {name},\n\n\
         we are sorry: your application to join UberPopug as a {kind} was declined.\n\n\
         The reason given:\n{reason}\n\n\
         {SIGNATURE}\n",
        name = declined.full_name,
        kind = declined.kind,
        reason = declined.reason,
    );
    ApplicantMail {
        message_id: key(declined.application_id, "declined"),
        kind: Kind::ApplicationDeclined,
        account_id: None,
        to: declined.email.clone(),
        content: Content::from_text(
            "Your application to UberPopug was declined".to_owned(),
            text,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn submitted(kind: Applying) -> ApplicationSubmitted {
        ApplicationSubmitted {
            application_id: Uuid::nil(),
            kind,
            email: "kiwi@popug.test".into(),
            full_name: "Kiwi <Popug>".into(),
            submitted_at: at("2026-12-01T10:00:00Z"),
        }
    }

    #[test]
    fn the_received_mail_says_what_happens_next_for_each_kind() {
        let worker = received(&submitted(Applying::Worker));
        assert_eq!(
            worker.message_id,
            "application:00000000-0000-0000-0000-000000000000:received"
        );
        assert_eq!(
            (worker.kind, worker.account_id),
            (Kind::ApplicationReceived, None)
        );
        assert_eq!(worker.to, "kiwi@popug.test");
        let text = &worker.content.text;
        assert!(text.starts_with("Hello Kiwi <Popug>,"), "{text}");
        assert!(
            text.contains("as a worker") && text.contains("a short test"),
            "{text}"
        );
        assert!(text.contains("the link in the mail"), "{text}");
        let client = received(&submitted(Applying::Client)).content.text;
        assert!(client.contains("a manager reviews"), "{client}");
        let manager = received(&submitted(Applying::Manager)).content.text;
        assert!(manager.contains("an admin reviews"), "{manager}");
        assert!(
            worker.content.html.contains("Kiwi &lt;Popug&gt;"),
            "a name cannot inject markup: {}",
            worker.content.html
        );
    }

    #[test]
    fn the_test_mail_gives_the_deadline_in_utc_and_no_token() {
        let assigned = ApplicationTestAssigned {
            application_id: Uuid::nil(),
            email: "kiwi@popug.test".into(),
            full_name: "Kiwi".into(),
            profile_id: Uuid::nil(),
            profile_revision: 1,
            deadline: at("2026-12-08T10:30:00Z"),
            assigned_by: Uuid::nil(),
            assigned_at: at("2026-12-01T10:30:00Z"),
        };
        let mail = test_assigned(&assigned);
        assert!(mail.message_id.ends_with(":test_assigned"));
        assert_eq!(mail.kind, Kind::TestAssigned);
        let due = "Tuesday 8 December 2026, 10:30 UTC";
        assert!(
            mail.content.subject.contains(due),
            "{}",
            mail.content.subject
        );
        assert!(mail.content.text.contains(due), "{}", mail.content.text);
        assert!(mail
            .content
            .text
            .contains("the link in the mail that carried your"));
    }

    #[test]
    fn the_welcome_says_how_to_sign_in_and_names_the_new_account() {
        let account = Uuid::now_v7();
        let mail = accepted(
            &ApplicationAccepted {
                application_id: Uuid::nil(),
                account_id: account,
                email: "kiwi@popug.test".into(),
                full_name: "Kiwi".into(),
                role: Applying::Client,
                accepted_by: Uuid::nil(),
                accepted_at: at("2026-12-02T10:00:00Z"),
            },
            "https://ates.test",
        );
        assert_eq!(
            (mail.kind, mail.account_id),
            (Kind::ApplicationAccepted, Some(account))
        );
        assert!(mail.message_id.ends_with(":accepted"));
        assert_eq!(mail.content.subject, "Welcome to UberPopug, Kiwi");
        let text = &mail.content.text;
        assert!(text.contains("you join as a client"), "{text}");
        assert!(text.contains("open https://ates.test/#/sign-in"), "{text}");
        assert!(
            text.contains("(kiwi@popug.test) and ask for a code"),
            "{text}"
        );
    }

    #[test]
    fn the_decline_carries_the_reason_as_written() {
        let reason = "We need people who can fly.\nThank you for your time.";
        let mail = declined(&ApplicationDeclined {
            application_id: Uuid::nil(),
            kind: Applying::Worker,
            email: "kiwi@popug.test".into(),
            full_name: "Kiwi".into(),
            reason: reason.into(),
            declined_by: None,
            declined_at: at("2026-12-02T10:00:00Z"),
        });
        assert_eq!(mail.kind, Kind::ApplicationDeclined);
        assert!(mail.message_id.ends_with(":declined"));
        assert!(mail.content.text.contains(reason), "{}", mail.content.text);
        assert!(mail.content.text.contains("as a worker was declined"));
    }
}
