//! Notifications' use cases: one function per event handler and query. Each reads through the
//! small ports it names (`ports`), decides with the domain (`message`, `statement`,
//! `applicant`), and writes; the mail leaves through the [`Courier`]. No HTTP, no AWS.
//!
//! A statement is mailed. Accounting's close publishes one `Statement.Requested` per account and
//! closed day, `statement_id` = `statement:<account>:<date>`; its rule sends it to
//! `NotificationsStatementsQueue` (`maxReceiveCount` 5, then `NotificationsStatementsDeadLetters`;
//! a retry backs off 1, 2, 4 and 8 minutes, the kernel's `inbox::retry_after`), and `notifications-send-statement`
//! (`lambda::serve_event_deliveries`, which tells the handler its `Delivery`) runs
//! [`send_statement`]:
//! 1. An unreadable request, or one in another currency, is poison: parked at once.
//! 2. The message `MESSAGE#<statement_id>` is read. `sent`: nothing to do (`Duplicate`), whether
//!    it is a redelivery or the same statement under another event id.
//! 3. The account's copy (fed by `notifications-sync-account`) gives the address and name. Not
//!    there yet (`Account.Created` still on its way): `Retry`, not poison; still not there on the
//!    last delivery, the request waits in the dead-letter queue with no message in the history.
//!    A deactivated account is mailed all the same: a payout or a debt concerns them still.
//! 4. The attempt is claimed (`sending`, attempts + 1, `attempted_at`), written under the version
//!    read. A `sending` claim younger than `SENDING_LEASE` (60 s) belongs to a delivery that may
//!    still be sending (`Retry` later, no second copy); an older one is a dead sender's: taken
//!    over.
//! 5. The courier sends (SESv2 `SendEmail`, text with an HTML alternative; the SDK retries
//!    throttling first). Accepted: `sent`. Not taken: `retrying` and `Retry`, or `failed` on the
//!    last delivery (`Delivery::is_last`), after which SQS moves the request to the dead-letter
//!    queue; a redrive tries again. Rejected by SES (a bad address, an unverified sender): `failed`
//!    and parked at once, since sending the same mail again cannot help.
//!
//! At least once, never at most once. SES has no idempotency key for `SendEmail`, so "sent by
//! SES" and "recorded here" cannot be one atomic step; here the claim is recorded first and the
//! send second. A process that dies after SES took the mail but before the `sent` mark leaves
//! `sending`; the redelivery (after the visibility timeout, longer than the lease) takes the dead
//! claim over and sends again: the employee may get the statement twice, and the history shows
//! `attempts: 2`. The other order (mark, then send) would turn the same crash into a statement
//! never mailed while the history says `sent`. For a payout, a visible, harmless duplicate is the
//! safer failure. The window is one SES call wide; the conditional writes on the message's
//! `version` let only one delivery claim an attempt.
//!
//! An applicant is mailed each step of their application. Hiring's `Application.Submitted`,
//! `.TestAssigned`, `.Accepted` and `.Declined` go by one rule to `NotificationsApplicantsQueue`
//! (the same timeout, receive count and dead-letter queue of its own), and
//! `notifications-mail-applicant` runs [`mail_applicant`]: steps 1, 2, 4 and 5 above, with the
//! address and the name from the event itself (an applicant has no account, so there is no copy
//! to wait for), the message keyed `application:<id>:<step>`. Each step has its own key, so the
//! events may arrive in any order and each is mailed once. The steps' texts: `applicant.rs`.
//!
//! The history: `GET /notifications/mine` reads `gsi1` (`TO#<account>`, newest first);
//! `GET /notifications` (admins, scope `notifications:read-all`; [`all_messages`] takes a
//! `Capability<Admins>`) scans the message items, in no order, rather than index every message
//! under one hot key; `?status=failed` reads the sparse `gsi2` of the messages given up, the
//! latest attempt first: what waits for an admin to redrive it or fix an address.

use ates_kernel::contracts::accounting::decode_statement_requested;
use ates_kernel::contracts::hiring::{
    decode_application_accepted, decode_application_declined, decode_application_submitted,
    decode_application_test_assigned, ApplicationAccepted, ApplicationDeclined,
    ApplicationSubmitted, ApplicationTestAssigned,
};
use ates_kernel::copies::AccountCopies;
use ates_kernel::event::{DomainEvent, Envelope, EventError};
use ates_kernel::identity::{Capability, Claims, Rights, Role};
use ates_kernel::inbox::{ConsumeError, Delivery, Outcome};
use chrono::{DateTime, Utc};

use ates_kernel::contracts::billing::{
    decode_invoice_declined, decode_invoice_issued, decode_invoice_paid, decode_statement_issued,
    InvoiceDeclined, InvoiceIssued, InvoicePaid, StatementIssued,
};
use ates_kernel::contracts::orders::{
    decode_order_created, decode_order_executor_assigned, decode_order_pending,
    decode_order_reported, OrderCreated, OrderExecutorAssigned, OrderPending, OrderReported,
};
use ates_kernel::contracts::supplies::{decode_kit_received, KitReceived};
use ates_kernel::idempotency::IdempotencyKey;
use ates_kernel::usecase::Failure;
use serde::Deserialize;
use uuid::Uuid;

use crate::error::NotificationError;
use crate::marketplace::{self, About, To};
use crate::message::{Addressed, Claim, Content, Kind, Message, Status};
pub use crate::ports::{
    Courier, Listing, MessageHistory, Messages, NotificationStore, OrderClients, Undelivered,
};
use crate::{applicant, statement};

/// Who reads everyone's messages: admins only.
#[derive(Debug)]
pub struct Admins;

impl Rights for Admins {
    const ROLES: &'static [Role] = &[Role::Admin];
}

/// B5: the employee is mailed their statement of a closed day, once per account and day
/// however often the request is delivered. An account whose address is not known yet waits
/// (retry); the channel's failures are retried by redelivery and, on the last delivery, the
/// message is `failed` and the request goes to the dead-letter queue; a request that can never
/// be mailed is poison.
pub async fn send_statement(
    store: &(impl AccountCopies + Messages),
    courier: &impl Courier,
    event: &Envelope,
    delivery: Delivery,
    now: DateTime<Utc>,
) -> Result<Outcome, ConsumeError> {
    let statement =
        decode_statement_requested(event).map_err(|e| ConsumeError::Poison(e.to_string()))?;
    statement::check(&statement).map_err(|e| ConsumeError::Poison(e.to_string()))?;
    let id = statement.statement_id.as_str();
    let seen = store.message(id).await?;
    if seen.as_ref().is_some_and(|m| m.status == Status::Sent) {
        return Ok(Outcome::Duplicate);
    }
    let Some(recipient) = store.account_copy(statement.account_id).await? else {
        return Err(ConsumeError::Retry(format!(
            "no address known yet for account {}",
            statement.account_id
        )));
    };
    let content = statement::render(&statement, &recipient.full_name);
    let addressed = Addressed {
        message_id: id,
        account_id: Some(statement.account_id),
        to: &recipient.email,
        subject: &content.subject,
        kind: Kind::DailyStatement,
        business_date: Some(statement.business_date),
    };
    send_once(store, courier, seen, &addressed, &content, delivery, now).await
}

/// M1, M9: the applicant is mailed each step of their application (received, test assigned,
/// accepted, declined), once per step however often hiring's event is delivered, each step on
/// its own (a decline that overtakes the receipt is mailed, and so is the receipt). The address
/// and the name come with the event; `site` is the web app's address the welcome points to.
pub async fn mail_applicant(
    store: &impl Messages,
    courier: &impl Courier,
    site: &str,
    event: &Envelope,
    delivery: Delivery,
    now: DateTime<Utc>,
) -> Result<Outcome, ConsumeError> {
    let poison = |e: EventError| ConsumeError::Poison(e.to_string());
    let mail = match event.name.as_str() {
        ApplicationSubmitted::NAME => {
            applicant::received(&decode_application_submitted(event).map_err(poison)?)
        }
        ApplicationTestAssigned::NAME => {
            applicant::test_assigned(&decode_application_test_assigned(event).map_err(poison)?)
        }
        ApplicationAccepted::NAME => {
            applicant::accepted(&decode_application_accepted(event).map_err(poison)?, site)
        }
        ApplicationDeclined::NAME => {
            applicant::declined(&decode_application_declined(event).map_err(poison)?)
        }
        other => {
            return Err(ConsumeError::Poison(format!(
                "{other} is not a step an applicant is mailed about"
            )))
        }
    };
    let seen = store.message(&mail.message_id).await?;
    let addressed = Addressed {
        message_id: &mail.message_id,
        account_id: mail.account_id,
        to: &mail.to,
        subject: &mail.content.subject,
        kind: mail.kind,
        business_date: None,
    };
    send_once(
        store,
        courier,
        seen,
        &addressed,
        &mail.content,
        delivery,
        now,
    )
    .await
}

/// Where the marketplace's mails point and go besides an account's address.
#[derive(Debug, Clone, Copy)]
pub struct Mailing<'a> {
    /// The web app's address, no trailing slash: every mail links to its page.
    pub site: &'a str,
    /// The supply desk's shared mailbox: kits to hand out.
    pub supply_desk: &'a str,
}

/// M9: the marketplace's mails (`marketplace`), each once per cause however often, and in
/// whatever order, its event is delivered. `Order.Created` mails nobody: it tells whose order
/// it is, so the order's later steps reach its client; a step that arrives before it waits
/// (retry), as a mail to an account whose address is not known yet does.
pub async fn mail_marketplace(
    store: &(impl AccountCopies + Messages + OrderClients),
    courier: &impl Courier,
    mailing: &Mailing<'_>,
    event: &Envelope,
    delivery: Delivery,
    now: DateTime<Utc>,
) -> Result<Outcome, ConsumeError> {
    let poison = |e: EventError| ConsumeError::Poison(e.to_string());
    let step = match event.name.as_str() {
        OrderCreated::NAME => {
            let created = decode_order_created(event).map_err(poison)?;
            store
                .save_order_client(created.order_id, created.client_id)
                .await?;
            return Ok(Outcome::Applied);
        }
        OrderExecutorAssigned::NAME => {
            About::OrderMatched(decode_order_executor_assigned(event).map_err(poison)?.0)
        }
        OrderPending::NAME => About::OrderPending(decode_order_pending(event).map_err(poison)?.0),
        OrderReported::NAME => {
            About::OrderReported(decode_order_reported(event).map_err(poison)?.0)
        }
        KitReceived::NAME => About::KitToHandOut(decode_kit_received(event).map_err(poison)?),
        InvoiceIssued::NAME => About::InvoiceIssued(decode_invoice_issued(event).map_err(poison)?),
        InvoicePaid::NAME => About::InvoicePaid(decode_invoice_paid(event).map_err(poison)?),
        InvoiceDeclined::NAME => {
            About::InvoiceDeclined(decode_invoice_declined(event).map_err(poison)?)
        }
        StatementIssued::NAME => {
            About::MonthlyStatement(decode_statement_issued(event).map_err(poison)?)
        }
        other => {
            return Err(ConsumeError::Poison(format!(
                "{other} is not a marketplace mail"
            )))
        }
    };
    let cause = match &step {
        About::OrderMatched(s) | About::OrderPending(s) | About::OrderReported(s) => {
            let Some(client) = store.order_client(s.order_id).await? else {
                return Err(ConsumeError::Retry(format!(
                    "order {} is not known yet (Order.Created is on its way)",
                    s.order_id
                )));
            };
            marketplace::order_step(step, client)
        }
        _ => marketplace::cause(step),
    };
    let seen = store.message(&cause.message_id).await?;
    if seen.as_ref().is_some_and(|m| m.status == Status::Sent) {
        return Ok(Outcome::Duplicate);
    }
    let (account_id, to, name) = match cause.to {
        To::Account(id) => {
            let Some(recipient) = store.account_copy(id).await? else {
                return Err(ConsumeError::Retry(format!(
                    "no address known yet for account {id}"
                )));
            };
            (Some(id), recipient.email, recipient.full_name)
        }
        To::SupplyDesk => (
            None,
            mailing.supply_desk.to_owned(),
            "supply desk".to_owned(),
        ),
    };
    let content = marketplace::write(&cause.about, &name, mailing.site);
    let addressed = Addressed {
        message_id: &cause.message_id,
        account_id,
        to: &to,
        subject: &content.subject,
        kind: cause.kind,
        business_date: None,
    };
    send_once(store, courier, seen, &addressed, &content, delivery, now).await
}

/// Who may write to someone through aTES: managers and admins (M9).
#[derive(Debug)]
pub struct Senders;

impl Rights for Senders {
    const ROLES: &'static [Role] = &[Role::Manager, Role::Admin];
}

/// `POST /notifications/messages`: what a manager or an admin writes to an account.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    pub account_id: Uuid,
    pub subject: String,
    pub text: String,
}

/// The longest subject and text a direct message may have.
pub const SUBJECT_MAX: usize = 200;
pub const TEXT_MAX: usize = 10_000;

/// M9, seed 000's synchronous sending: the message is sent now and answered with what became
/// of it (`sent`, or `failed` with the reason: it shows on the admins' page, and the same
/// request under the same `Idempotency-Key` tries again). Under a key, a request answered
/// before is answered again with its message, not sent twice; without one, each request is a
/// new message. `true` when this request sent (or tried) it, `false` for an answer again.
pub async fn send_message(
    store: &(impl AccountCopies + Messages),
    courier: &impl Courier,
    caller: &Claims,
    key: Option<&IdempotencyKey>,
    new: &NewMessage,
    now: DateTime<Utc>,
) -> Result<(Message, bool), NotificationError> {
    // The caller check alongside the read of the recipient: one round trip, not two in a row.
    let recipient = async { Ok::<_, NotificationError>(store.account_copy(new.account_id).await?) };
    let (sender, recipient) = caller.may_and::<Senders, _, _>(store, recipient).await?;
    let sender = sender.account_id();
    let subject = new.subject.trim();
    if subject.is_empty() || subject.chars().count() > SUBJECT_MAX || subject.contains(['\r', '\n'])
    {
        return Err(NotificationError::Invalid(format!(
            "subject must be 1 to {SUBJECT_MAX} characters on one line"
        )));
    }
    if new.text.trim().is_empty() || new.text.chars().count() > TEXT_MAX {
        return Err(NotificationError::Invalid(format!(
            "text must be 1 to {TEXT_MAX} characters"
        )));
    }
    let recipient = recipient.ok_or(NotificationError::UnknownAccount(new.account_id))?;
    // A key is the caller's own (`<account>#<key>`), so two senders' keys never meet.
    let message_id = match key {
        Some(key) => format!("direct:{}", key.key),
        None => format!("direct:{}", Uuid::now_v7()),
    };
    let seen = store.message(&message_id).await?;
    if let Some(seen) = &seen {
        if seen.account_id != Some(new.account_id) || seen.subject != subject {
            return Err(Failure::KeyReused.into());
        }
        if seen.status == Status::Sent {
            return Ok((seen.clone(), false));
        }
    }
    let content = Content::from_text(subject.to_owned(), new.text.clone());
    let addressed = Addressed {
        message_id: &message_id,
        account_id: Some(new.account_id),
        to: &recipient.email,
        subject,
        kind: Kind::Direct,
        business_date: None,
    };
    let attempt = match &seen {
        None => Message {
            sent_by: Some(sender),
            ..Message::first(&addressed, now)
        },
        Some(message) => match message.claim(&addressed, now) {
            Claim::Send(attempt) => attempt,
            Claim::AlreadySent => return Ok((message.clone(), false)),
            Claim::Busy => return Err(Failure::ChangedMeanwhile.into()),
        },
    };
    if !store.save_message(&attempt, seen.as_ref()).await? {
        return Err(Failure::ChangedMeanwhile.into());
    }
    let after = match courier.deliver(&attempt, &content).await {
        Ok(()) => attempt.sent(Utc::now().max(now)),
        // No queue stands behind a synchronous send: the caller is told now, the admins' page
        // keeps it, and the same request again (same key) is the retry.
        Err(Undelivered::Rejected(reason) | Undelivered::Failed(reason)) => {
            attempt.failed(&reason, true)
        }
    };
    store.save_message(&after, Some(&attempt)).await?;
    tracing::info!(message_id = %message_id, status = ?after.status, "direct message");
    Ok((after, true))
}

/// Steps 4 and 5 above, for any message: claims an attempt of the message `seen` as read (none
/// yet: its first), sends it, and keeps what became of it.
async fn send_once(
    store: &impl Messages,
    courier: &impl Courier,
    seen: Option<Message>,
    addressed: &Addressed<'_>,
    content: &Content,
    delivery: Delivery,
    now: DateTime<Utc>,
) -> Result<Outcome, ConsumeError> {
    let id = addressed.message_id;
    let attempt = match &seen {
        None => Message::first(addressed, now),
        Some(message) => match message.claim(addressed, now) {
            Claim::Send(attempt) => attempt,
            Claim::AlreadySent => return Ok(Outcome::Duplicate),
            Claim::Busy => {
                return Err(ConsumeError::Retry(format!(
                    "{id} is being sent by another delivery"
                )))
            }
        },
    };
    if !store.save_message(&attempt, seen.as_ref()).await? {
        return Err(ConsumeError::Retry(format!(
            "{id} was claimed by another delivery meanwhile"
        )));
    }
    match courier.deliver(&attempt, content).await {
        Ok(()) => {
            let sent = attempt.sent(Utc::now().max(now));
            if !store.save_message(&sent, Some(&attempt)).await? {
                // Our claim outlived its lease and another delivery took over: it may send a
                // second copy; this one is out already.
                tracing::warn!(message_id = %id, "sent, but the message was claimed again meanwhile");
            }
            tracing::info!(message_id = %id, kind = ?attempt.kind, attempts = attempt.attempts, "message sent");
            Ok(Outcome::Applied)
        }
        Err(Undelivered::Rejected(reason)) => {
            store
                .save_message(&attempt.failed(&reason, true), Some(&attempt))
                .await?;
            Err(ConsumeError::Poison(format!("{id}: {reason}")))
        }
        Err(Undelivered::Failed(reason)) => {
            let last = delivery.is_last();
            store
                .save_message(&attempt.failed(&reason, last), Some(&attempt))
                .await?;
            Err(ConsumeError::Retry(format!(
                "{id}, attempt {}{}: {reason}",
                attempt.attempts,
                if last { " (the last)" } else { "" }
            )))
        }
    }
}

/// The copy of accounts (`Account.*` events): once per event, and only forward in revision.
pub use ates_kernel::copies::sync_account;

/// The caller's own messages, newest first.
pub async fn my_messages(
    store: &(impl AccountCopies + MessageHistory),
    me: &Claims,
    limit: usize,
    cursor: Option<&str>,
) -> Result<Listing, NotificationError> {
    let mine = store.messages_to(me.account_id, limit, cursor);
    let (_, mine) = me.caller_and(store, mine).await?;
    Ok(mine)
}

/// Everyone's messages (admins); `parked`: only those given up, the latest attempt first.
pub async fn all_messages(
    store: &(impl AccountCopies + MessageHistory),
    caller: &Claims,
    parked: bool,
    limit: usize,
    cursor: Option<&str>,
) -> Result<Listing, NotificationError> {
    let listing = async {
        if parked {
            store.parked_messages(limit, cursor).await
        } else {
            store.all_messages(limit, cursor).await
        }
    };
    let (_admins, listing): (Capability<Admins>, _) = caller.may_and(store, listing).await?;
    Ok(listing)
}
