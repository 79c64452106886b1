//! Notifications' use cases: one function per event handler and query. Each reads through
//! [`NotificationStore`], decides with the domain (`message`, `statement`), and writes; the
//! mail leaves through the [`Courier`]. No HTTP, no AWS.
//!
//! A statement's mail is at least once, never at most once: its attempt is recorded
//! (`sending`, attempts + 1) before the courier is asked and marked `sent` after. A process that
//! dies between SES accepting the mail and that mark leaves `sending`; the request's redelivery
//! (after the claim's lease) sends it again. A second copy of a statement is the better failure
//! than a payout nobody was told about (ARCHITECTURE.md, "A statement is mailed").

use ates_kernel::contracts::accounting::decode_statement_requested;
use ates_kernel::event::Envelope;
use ates_kernel::inbox::{ConsumeError, Delivery, Outcome};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::NotificationError;
use crate::message::{Addressed, Claim, Kind, Message, Status};
pub use crate::ports::{Courier, Listing, NotificationStore, Undelivered};
use crate::statement;

/// B5: the employee is mailed their statement of a closed day, once per account and day
/// however often the request is delivered. An account whose address is not known yet waits
/// (retry); the channel's failures are retried by redelivery and, on the last delivery, the
/// message is `failed` and the request goes to the dead-letter queue; a request that can never
/// be mailed is poison.
pub async fn send_statement(
    store: &impl NotificationStore,
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
        account_id: statement.account_id,
        to: &recipient.email,
        subject: &content.subject,
        kind: Kind::DailyStatement,
        business_date: statement.business_date,
    };
    let attempt = match &seen {
        None => Message::first(&addressed, now),
        Some(message) => match message.claim(&addressed, now) {
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
    match courier.deliver(&attempt, &content).await {
        Ok(()) => {
            let sent = attempt.sent(Utc::now().max(now));
            if !store.save_message(&sent, Some(&attempt)).await? {
                // Our claim outlived its lease and another delivery took over: it may send a
                // second copy; this one is out already.
                tracing::warn!(message_id = %id, "sent, but the message was claimed again meanwhile");
            }
            tracing::info!(message_id = %id, attempts = attempt.attempts, "statement mailed");
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
    store: &impl NotificationStore,
    me: Uuid,
    limit: usize,
    cursor: Option<&str>,
) -> Result<Listing, NotificationError> {
    store.messages_to(me, limit, cursor).await
}

/// Everyone's messages (admins; the caller's role is checked at the edge).
pub async fn all_messages(
    store: &impl NotificationStore,
    limit: usize,
    cursor: Option<&str>,
) -> Result<Listing, NotificationError> {
    store.all_messages(limit, cursor).await
}
