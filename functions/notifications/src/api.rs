//! The HTTP edge of notifications: the message history, one function per route. Everyone's
//! messages are for admins: the use case checks the account's role (`Capability<Admins>`) from
//! the token's claims the handler reads. Errors map to problems once, in `error.rs`.

use ates_kernel::http::{self, HttpResult};
use chrono::{DateTime, NaiveDate, Utc};
use lambda_http::http::StatusCode;
use lambda_http::Request;
use serde::Serialize;
use uuid::Uuid;

use crate::app::{self, Courier, Listing, NotificationStore};
use crate::message::{Channel, Kind, Message, Status};

/// A message as its history shows it (attempt bookkeeping stays inside).
#[derive(Serialize)]
struct Shown<'a> {
    message_id: &'a str,
    account_id: Option<Uuid>,
    channel: Channel,
    to: &'a str,
    subject: &'a str,
    kind: Kind,
    business_date: Option<NaiveDate>,
    status: Status,
    attempts: u32,
    created_at: DateTime<Utc>,
    sent_at: Option<DateTime<Utc>>,
    /// Why the latest attempt failed: what an admin reads of a parked message.
    last_error: Option<&'a str>,
    sent_by: Option<Uuid>,
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
            last_error: m.last_error.as_deref(),
            sent_by: m.sent_by,
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
    let me = http::claims(&req)?;
    let cursor = http::query_param(&req, "cursor");
    let limit = http::limit(&req)?;
    let mine = app::my_messages(store, &me, limit, cursor.as_deref()).await?;
    history(&mine)
}

/// `GET /notifications?status=&limit=&cursor=` (admins): everyone's messages, or (`status=failed`,
/// the one status indexed) those given up.
pub async fn list_messages(store: &impl NotificationStore, req: Request) -> HttpResult {
    let caller = http::claims(&req)?;
    let parked = match http::query_param(&req, "status").as_deref() {
        None => false,
        Some("failed") => true,
        Some(_) => {
            return Err(http::Problem::invalid(
                "status may only be `failed` (the messages given up)",
            ))
        }
    };
    let cursor = http::query_param(&req, "cursor");
    let limit = http::limit(&req)?;
    let all = app::all_messages(store, &caller, parked, limit, cursor.as_deref()).await?;
    history(&all)
}

/// `POST /notifications/messages` (managers, admins; `Idempotency-Key` optional):
/// `{account_id, subject, text}` → 201 the message as sent now, with its status (`sent`, or
/// `failed` and why); the same keyed request again → 200 the same message.
pub async fn send_message(
    store: &impl NotificationStore,
    courier: &impl Courier,
    req: Request,
) -> HttpResult {
    let caller = http::claims(&req)?;
    let key = http::idempotency_key(&req, &caller.account_id.to_string())?;
    let new: app::NewMessage = http::body(&req)?;
    let (message, fresh) =
        app::send_message(store, courier, &caller, key.as_ref(), &new, Utc::now()).await?;
    let status = if fresh {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    http::json(status, &Shown::from(&message))
}
