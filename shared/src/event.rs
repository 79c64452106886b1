//! The envelope every domain event travels in.
//!
//! On the bus an event is an EventBridge entry: `source` = `ates.<producer>`, `detail-type` =
//! the event name, `detail` = this envelope. Consumers see the envelope and nothing else.

use chrono::{DateTime, Utc};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// The namespace of the name-based ids of [`Envelope::once_for`]; never change it.
const ONCE_NAMESPACE: Uuid = Uuid::from_u128(0x0d68b4ea_244e_43d2_818c_33b0a5c3d5ca);

/// A fact a bounded context publishes. Its payload is described by
/// `events/<NAME>/v<VERSION>.schema.json`.
pub trait DomainEvent: Serialize {
    const NAME: &'static str;
    const VERSION: u32;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub id: Uuid,
    pub name: String,
    pub version: u32,
    pub occurred_at: DateTime<Utc>,
    pub producer: String,
    pub correlation_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<String>,
    pub data: Value,
}

/// Why something happens: the request or the event that caused it.
#[derive(Debug, Clone, PartialEq)]
pub struct Cause {
    pub correlation_id: String,
    pub causation_id: Option<String>,
}

impl Cause {
    /// A command arriving over HTTP starts (or continues) a correlation.
    pub fn request(correlation_id: impl Into<String>) -> Self {
        Self {
            correlation_id: correlation_id.into(),
            causation_id: None,
        }
    }

    /// An event handled by a consumer causes what the consumer does next.
    pub fn event(envelope: &Envelope) -> Self {
        Self {
            correlation_id: envelope.correlation_id.clone(),
            causation_id: Some(envelope.id.to_string()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("event {name} v{version} does not match its schema: {reason}")]
    Invalid {
        name: String,
        version: u32,
        reason: String,
    },
    #[error("event payload cannot be read: {0}")]
    Payload(#[from] serde_json::Error),
}

impl Envelope {
    /// Wraps a domain event, checking its payload against the schema registry first (in debug
    /// builds: every test, the local stack): an event that does not match its schema fails the
    /// run that produced it.
    pub fn wrap<E: DomainEvent>(
        producer: &str,
        event: &E,
        cause: &Cause,
        now: DateTime<Utc>,
    ) -> Result<Self, EventError> {
        let data = serde_json::to_value(event)?;
        // Every build the tests run checks each produced event against its schema; release
        // bootstraps leave the validator out (a third of a producer's size, with its regex
        // engines) and trust the payload types those runs checked.
        #[cfg(debug_assertions)]
        crate::schema::check(E::NAME, E::VERSION, &data)?;
        Ok(Self {
            id: Uuid::now_v7(),
            name: E::NAME.to_owned(),
            version: E::VERSION,
            occurred_at: now,
            producer: producer.to_owned(),
            correlation_id: cause.correlation_id.clone(),
            causation_id: cause.causation_id.clone(),
            data,
        })
    }

    /// Makes this the one event for `key`: its id is derived from the name and the key, so every
    /// attempt to produce it (a schedule that fires twice, a retry) yields the same id, and
    /// consumers' inboxes drop the repeats.
    pub fn once_for(mut self, key: &str) -> Self {
        self.id = Uuid::new_v5(&ONCE_NAMESPACE, format!("{}/{key}", self.name).as_bytes());
        self
    }

    /// The payload as a typed event.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, EventError> {
        Ok(T::deserialize(&self.data)?)
    }

    /// The EventBridge `source` of this event.
    pub fn source(&self) -> String {
        format!("ates.{}", self.producer)
    }
}
