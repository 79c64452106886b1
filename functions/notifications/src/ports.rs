//! The ports the use cases drive: where notifications keeps its state, one small trait per need
//! ([`NotificationStore`] is all of them), and how a message leaves ([`Courier`]). The DynamoDB table (`store`) and SES (`mail`) are the
//! adapters in a Lambda; `memory` has in-memory ones for tests.

use std::future::Future;

use ates_kernel::copies::KeepsAccountCopies;
use ates_kernel::dynamo::{Listed, StoreError};
use uuid::Uuid;

use crate::error::NotificationError;
use crate::message::Content;
use crate::message::Message;

/// A page of the history and where the next one starts.
pub type Listing = Listed<Message>;

/// Messages by their key (a statement's, an application step's): claimed, their attempts and
/// their outcome kept.
pub trait Messages {
    fn message(&self, id: &str)
        -> impl Future<Output = Result<Option<Message>, StoreError>> + Send;
    /// Writes `message` if the stored one is still `previous` (by version; absent for `None`);
    /// `false` when it is not (nothing written).
    fn save_message(
        &self,
        message: &Message,
        previous: Option<&Message>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// The message history, one account's (newest first) or everyone's.
pub trait MessageHistory {
    /// An account's messages, newest first.
    fn messages_to(
        &self,
        account: Uuid,
        limit: usize,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<Listing, NotificationError>> + Send;
    /// Everyone's messages, newest first.
    fn all_messages(
        &self,
        limit: usize,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<Listing, NotificationError>> + Send;
    /// The messages given up (`failed`: their request waits in a dead-letter queue), the
    /// latest attempt first.
    fn parked_messages(
        &self,
        limit: usize,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<Listing, NotificationError>> + Send;
}

/// Which client an order is for (`Order.Created`): the order's later steps name only its
/// executor, and their mails go to the client.
pub trait OrderClients {
    fn order_client(
        &self,
        order: Uuid,
    ) -> impl Future<Output = Result<Option<Uuid>, StoreError>> + Send;
    /// Keeps the order's client; the same again changes nothing (an order's client never changes).
    fn save_order_client(
        &self,
        order: Uuid,
        client: Uuid,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// The notifications table, as the use cases need it: every port above and the kernel's copy of
/// accounts. A use case asks only for the ports it uses; the handlers and the binaries hold a
/// whole store.
///
/// Each store says it is one, so a store that lacks a port fails where it is defined.
pub trait NotificationStore: KeepsAccountCopies + Messages + MessageHistory + OrderClients {}

/// Why a channel did not take a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Undelivered {
    /// The channel refused this message itself (an address it cannot send to): sending it again
    /// will not help.
    #[error("rejected: {0}")]
    Rejected(String),
    /// Not now (throttling, an outage): sending it again later may.
    #[error("not delivered now: {0}")]
    Failed(String),
}

/// Takes a message out on its channel: email through SES today; SMS or push are further
/// couriers behind this port.
pub trait Courier: Sync {
    fn deliver(
        &self,
        message: &Message,
        content: &Content,
    ) -> impl Future<Output = Result<(), Undelivered>> + Send;
}
