//! The HTTP edge of notifications: the message history, one function per route. Everyone's
//! messages are for admins: the handler turns its caller into the `Capability<Admins>` the use
//! case takes (`Caller::may`). Errors map to problems once, in `error.rs`.

use ates_kernel::http::{self, HttpResult};
use chrono::{DateTime, NaiveDate, Utc};
use lambda_http::http::StatusCode;
use lambda_http::Request;
use serde::Serialize;
use uuid::Uuid;

use crate::app::{self, Admins, Listing, NotificationStore};
use crate::message::{Channel, Kind, Message, Status};

/// A message as its history shows it (attempt bookkeeping stays inside).
#[derive(Serialize)]
struct Shown<'a> {
    message_id: &'a str,
    account_id: Uuid,
    channel: Channel,
    to: &'a str,
    subject: &'a str,
    kind: Kind,
    business_date: NaiveDate,
    status: Status,
    attempts: u32,
    created_at: DateTime<Utc>,
    sent_at: Option<DateTime<Utc>>,
}

impl<'a> From<&'a Message> for Shown<'a> {
    fn from(m: &'a Message) -> Self {
        Shown {
            message_id: &m.message_id,
            account_id: m.account_id,
            channel: m.channel,
            to: &m.to,
            subject: &m.subject,
            kind: m.kind,
            business_date: m.business_date,
            status: m.status,
            attempts: m.attempts,
            created_at: m.created_at,
            sent_at: m.sent_at,
        }
    }
}

#[derive(Serialize)]
struct History<'a> {
    messages: Vec<Shown<'a>>,
    next_cursor: Option<&'a str>,
}

fn history(listing: &Listing) -> HttpResult {
    http::json(
        StatusCode::OK,
        &History {
            messages: listing.items.iter().map(Shown::from).collect(),
            next_cursor: listing.next_cursor.as_deref(),
        },
    )
}

/// `GET /notifications/mine?limit=&cursor=`: the caller's messages, newest first.
pub async fn list_my_messages(store: &impl NotificationStore, req: Request) -> HttpResult {
    let me = http::caller(&req, store).await?.account_id;
    let cursor = http::query_param(&req, "cursor");
    history(&app::my_messages(store, me, http::limit(&req)?, cursor.as_deref()).await?)
}

/// `GET /notifications?limit=&cursor=` (admins): everyone's messages.
pub async fn list_messages(store: &impl NotificationStore, req: Request) -> HttpResult {
    let admins = http::caller(&req, store).await?.may::<Admins>()?;
    let cursor = http::query_param(&req, "cursor");
    history(&app::all_messages(store, &admins, http::limit(&req)?, cursor.as_deref()).await?)
}
