//! The business calendar's one event. The daily schedule ends each business day with a
//! `Clock.DayEnded`; accounting closes the day on it (SPEC B5), and because it is an event, the
//! day boundaries are part of the history every projection can replay (SPEC N4).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::event::{DomainEvent, Envelope, EventError};

/// A business day ended: every effect between `started_at` (inclusive) and `ended_at`
/// (exclusive) belongs to `business_date`. Announced once per day, under an id derived from the
/// date, so a day that is ended twice arrives as the same event twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayEnded {
    pub business_date: NaiveDate,
    /// The IANA time zone the business day is kept in, such as `UTC` or `Europe/Moscow`.
    pub time_zone: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
}

impl DomainEvent for DayEnded {
    const NAME: &'static str = "Clock.DayEnded";
    const VERSION: u32 = 1;
}

/// Reads a `Clock.DayEnded` of any live version.
pub fn decode_day_ended(envelope: &Envelope) -> Result<DayEnded, EventError> {
    envelope.decode()
}
