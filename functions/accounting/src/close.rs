//! The daily close (B5) as a whole (plain Rust): one close per business day, walked as a paged
//! job over every ledger account; what it has paid so far; whether it may start.
//!
//! The close of day D (`Clock.DayEnded` → `app::start_close`) starts only when the close of D-1 is
//! absent or finished ([`may_start`]; otherwise the event is retried, every minute for an hour by
//! its queue, then parked). Its job id is a UUID v5 of the date ([`Close::job_id_of`]). It is a
//! kernel paged job over the sparse index `gsi1` (`ACCOUNTS#<partition>`, 16 partitions), 100
//! accounts a page (`app::close_page`), 25 of them closing at once. Each account closes in its
//! own transaction
//! (`Store::save_closing`): the account (its open days up to D folded into a statement; a positive
//! closing balance paid and the balance reset, a negative one carried), the statement item, the
//! payout's key, line and company figure, and the events (`Ledger.TransactionPosted` and
//! `Payout.Made` for a payout, `Statement.Requested` if the closing balance is not zero). An
//! account already closed for D (a page redelivered after a crash) is counted from its last
//! statement and not touched, so nobody is paid twice. The page's totals, progress and next page
//! commit together (`job::page_done` with counters); the last page publishes `Day.Closed` once
//! (`closed_at` set under a condition). `GET /accounting/closes/{date}` reads the job.

use ates_kernel::contracts::accounting::DayClosed;
use ates_kernel::job::{Progress, Status};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ledger::{Statement, PARTITIONS};

/// What the accounts closed so far add up to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloseTotals {
    pub accounts_closed: u64,
    pub paid_cents: i64,
    pub payouts: u64,
    pub debts: u64,
}

impl CloseTotals {
    pub fn add(&mut self, statement: &Statement) {
        self.accounts_closed += 1;
        self.paid_cents += statement.paid_cents;
        self.payouts += u64::from(statement.paid_cents > 0);
        self.debts += u64::from(statement.carried_cents < 0);
    }
}

/// The close of one business day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Close {
    pub business_date: NaiveDate,
    pub job_id: Uuid,
    pub progress: Progress,
    pub totals: CloseTotals,
    pub started_at: DateTime<Utc>,
    /// Set once, when the last partition finished and `Day.Closed` was published.
    pub closed_at: Option<DateTime<Utc>>,
}

/// `pending` (not started), `running`, `stalled` (a page waits in the dead-letter queue) or
/// `completed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CloseStatus {
    Pending,
    Running,
    Stalled,
    Completed,
}

impl Close {
    /// The job id of a day's close: derived from the date, so a day has one close.
    pub fn job_id_of(date: NaiveDate) -> Uuid {
        Uuid::new_v5(
            &Uuid::NAMESPACE_OID,
            format!("ates.accounting.close:{date}").as_bytes(),
        )
    }

    /// A close of `date` starting now, over about `accounts` ledger accounts.
    pub fn start(date: NaiveDate, accounts: u64, now: DateTime<Utc>) -> Close {
        Close {
            business_date: date,
            job_id: Close::job_id_of(date),
            progress: Progress::new(accounts, PARTITIONS),
            totals: CloseTotals::default(),
            started_at: now,
            closed_at: None,
        }
    }

    pub fn status(&self) -> CloseStatus {
        match self.progress.status() {
            Status::Running => CloseStatus::Running,
            Status::Stalled => CloseStatus::Stalled,
            Status::Completed => CloseStatus::Completed,
        }
    }

    pub fn is_finished(&self) -> bool {
        self.status() == CloseStatus::Completed
    }

    pub fn event(&self, now: DateTime<Utc>) -> DayClosed {
        DayClosed {
            business_date: self.business_date,
            accounts_closed: self.totals.accounts_closed,
            paid_cents: self.totals.paid_cents,
            payouts: self.totals.payouts,
            debts: self.totals.debts,
            closed_at: now,
        }
    }
}

/// B5: the close of `date` waits while the close of the day before is there but unfinished.
pub fn may_start(previous: Option<&Close>) -> bool {
    previous.is_none_or(Close::is_finished)
}
