//! Accounting's events (SPEC B2–B6): what the payroll publishes. Notifications mails the
//! statements; analytics builds its projections from these alone, so they carry the business
//! date and the balance after each movement. Money is integer cents, in USD.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::event::{DomainEvent, Envelope, EventError};

/// The only currency aTES pays in.
pub const CURRENCY: &str = "USD";

/// A task's prices, set once, the first time accounting saw the task (B3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskPriced {
    pub task_id: Uuid,
    /// Debited from the assignee at every assignment: whole dollars in [10, 20].
    pub fee_cents: i64,
    /// Credited to whoever completes the task: whole dollars in [20, 40].
    pub reward_cents: i64,
    pub currency: String,
    pub priced_at: DateTime<Utc>,
}

impl DomainEvent for TaskPriced {
    const NAME: &'static str = "Task.Priced";
    const VERSION: u32 = 1;
}

/// What a ledger transaction is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    /// The assignment fee, debited from the assignee (one per `Task.Assigned`).
    Fee,
    /// The completion reward, credited to whoever completed the task (one per task).
    Reward,
    /// The day's positive balance paid out (one per account and business day).
    Payout,
}

/// One leg of a ledger transaction: an account and what it moved (negative = debit). The legs
/// of a transaction sum to zero.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Leg {
    /// `employee:<account id>`, `company:revenue` or `company:payouts`.
    pub account: String,
    pub amount_cents: i64,
}

/// A money movement was posted to an employee's ledger account (B2, B4, B5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionPosted {
    /// Unique per movement: `fee:<Task.Assigned event id>`, `reward:<task id>`,
    /// `payout:<account id>:<business date>`.
    pub transaction_id: String,
    pub kind: EntryKind,
    pub account_id: Uuid,
    /// The employee's leg (negative = debit).
    pub amount_cents: i64,
    /// The employee's balance once this was posted.
    pub balance_after_cents: i64,
    /// The employee's ledger sequence after this posting: orders `balance_after_cents`.
    pub sequence: u64,
    /// The business day the movement counts in (a late one: the account's next open day).
    pub business_date: NaiveDate,
    /// When what caused it happened (the assignment, the completion, the close).
    pub occurred_at: DateTime<Utc>,
    pub posted_at: DateTime<Utc>,
    pub task_id: Option<Uuid>,
    pub legs: Vec<Leg>,
}

impl DomainEvent for TransactionPosted {
    const NAME: &'static str = "Ledger.TransactionPosted";
    const VERSION: u32 = 1;
}

/// An employee's positive balance at a day's close was paid out (B5). The payment port sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutMade {
    /// `payout:<account id>:<business date>`.
    pub payout_id: String,
    pub account_id: Uuid,
    pub business_date: NaiveDate,
    pub amount_cents: i64,
    pub currency: String,
    pub paid_at: DateTime<Utc>,
}

impl DomainEvent for PayoutMade {
    const NAME: &'static str = "Payout.Made";
    const VERSION: u32 = 1;
}

/// An employee's bank details, handed over to payments, which keeps them from now on (SPEC M7:
/// payout details moved from accounting). Published once per account by the one-off
/// `accounting-hand-over-payouts`; payments keeps the newer of what it has and this.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutDetailsHandedOver {
    pub account_id: Uuid,
    /// The IBAN as accounting kept it: checked, upper case, no spaces.
    pub iban: String,
    pub updated_at: DateTime<Utc>,
}

impl DomainEvent for PayoutDetailsHandedOver {
    const NAME: &'static str = "PayoutDetails.HandedOver";
    const VERSION: u32 = 1;
}

/// An employee's statement of a closed day, to be mailed to them (B5). Sent for every account
/// whose day ended with a non-zero balance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementRequested {
    /// `statement:<account id>:<business date>`: one mail per account and day.
    pub statement_id: String,
    pub account_id: Uuid,
    pub business_date: NaiveDate,
    pub opening_balance_cents: i64,
    /// The day's fees, as a negative sum.
    pub fees_cents: i64,
    /// The day's rewards, as a positive sum.
    pub rewards_cents: i64,
    pub closing_balance_cents: i64,
    /// What was paid out (0 if nothing).
    pub paid_cents: i64,
    /// The debt carried into the next day (0 or negative).
    pub carried_cents: i64,
    pub currency: String,
}

impl DomainEvent for StatementRequested {
    const NAME: &'static str = "Statement.Requested";
    const VERSION: u32 = 1;
}

/// Every account's close of a business day finished (B5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayClosed {
    pub business_date: NaiveDate,
    pub accounts_closed: u64,
    pub paid_cents: i64,
    pub payouts: u64,
    pub debts: u64,
    pub closed_at: DateTime<Utc>,
}

impl DomainEvent for DayClosed {
    const NAME: &'static str = "Day.Closed";
    const VERSION: u32 = 1;
}

/// `Statement.Requested`, for notifications.
pub fn decode_statement_requested(envelope: &Envelope) -> Result<StatementRequested, EventError> {
    match envelope.version {
        1 => envelope.decode(),
        _ => Err(EventError::Invalid {
            name: envelope.name.clone(),
            version: envelope.version,
            reason: "this consumer knows version 1".into(),
        }),
    }
}
