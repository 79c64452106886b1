//! The ledger (plain Rust): a task's prices, an employee's ledger account, the postings that
//! move money, and the close of a business day. Money is integer cents; every movement is a
//! double-entry transaction whose legs sum to zero (SPEC "The money rules").
//!
//! Accounting keeps its own copies: a ledger account per person (`ACCOUNT#<id>`, from `Account.*`
//! or from the first money event, whichever comes first) and a task's prices (`TASK#<id>`, set by
//! whichever of the task's events arrives first; `Task.Priced` published once). Each movement is
//! one DynamoDB transaction (`Store::post`): the movement's key (`TXN#fee:<Task.Assigned event
//! id>`, `TXN#reward:<task id>`, `TXN#payout:<account>:<date>`, written only if absent), the
//! account at the `sequence` read (retried by `app::post_movement` when it lost), the audit line
//! (`ENTRY#<sequence>`, which the earnings fold adds to the company's day from the stream), the
//! task's prices if this movement priced it, the outbox (`Ledger.TransactionPosted` with the balance after
//! and the business date) and the consumer's inbox record. Duplicates stop at the inbox; the same
//! movement under another event stops at its key; a completion before its creation is rewarded at
//! the price it sets, and the title joins the audit log when `Task.Created` arrives (titles are
//! joined at read time, `app::audit_log`). An entry counts in the business day its cause happened
//! (`Calendar::business_date`), or, if that day is closed for the account, in its next open day
//! ([`LedgerAccount::posting_date`]: the line shows both dates).

use std::collections::BTreeMap;

use ates_kernel::contracts::accounting::{
    EntryKind, Leg, StatementRequested, TransactionPosted, CURRENCY,
};
use ates_kernel::contracts::accounts::AccountSnapshot;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The company's side of fees and rewards.
pub const COMPANY_REVENUE: &str = "company:revenue";
/// Where payouts go on their way to the bank.
pub const COMPANY_PAYOUTS: &str = "company:payouts";

/// Ledger accounts are spread over this many partitions, which a close walks in parallel.
pub const PARTITIONS: u32 = 16;

/// Accounting's copy of a task: its prices, set once (B3), and what the audit log shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub task_id: Uuid,
    pub fee_cents: i64,
    pub reward_cents: i64,
    pub priced_at: DateTime<Utc>,
    /// Known once the task's `Task.Created` has arrived.
    pub title: Option<String>,
    pub jira_id: Option<String>,
}

impl Task {
    /// B3: the fee is a random whole number of dollars in [10, 20], the reward in [20, 40],
    /// independent of who holds the task.
    pub fn priced(task_id: Uuid, now: DateTime<Utc>, rng: &mut impl rand::Rng) -> Task {
        Task {
            task_id,
            fee_cents: rng.gen_range(10..=20) * 100,
            reward_cents: rng.gen_range(20..=40) * 100,
            priced_at: now,
            title: None,
            jira_id: None,
        }
    }
}

/// What one business day put on an account: fees (a negative sum) and rewards.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayTotals {
    pub fees_cents: i64,
    pub rewards_cents: i64,
}

impl DayTotals {
    pub fn net_cents(&self) -> i64 {
        self.fees_cents + self.rewards_cents
    }
}

/// The statement of one account's closed day (B5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    pub account_id: Uuid,
    pub business_date: NaiveDate,
    pub opening_balance_cents: i64,
    pub fees_cents: i64,
    pub rewards_cents: i64,
    pub closing_balance_cents: i64,
    pub paid_cents: i64,
    pub carried_cents: i64,
}

impl Statement {
    /// Only a non-zero day is mailed (B5).
    pub fn is_mailed(&self) -> bool {
        self.closing_balance_cents != 0
    }

    pub fn event(&self) -> StatementRequested {
        StatementRequested {
            statement_id: format!("statement:{}:{}", self.account_id, self.business_date),
            account_id: self.account_id,
            business_date: self.business_date,
            opening_balance_cents: self.opening_balance_cents,
            fees_cents: self.fees_cents,
            rewards_cents: self.rewards_cents,
            closing_balance_cents: self.closing_balance_cents,
            paid_cents: self.paid_cents,
            carried_cents: self.carried_cents,
            currency: CURRENCY.to_owned(),
        }
    }
}

/// An employee's ledger account (B2): the balance, the business days not closed yet, and the
/// copy of the person it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerAccount {
    pub account_id: Uuid,
    pub balance_cents: i64,
    /// How many postings the account has had: every posting raises it by one.
    pub sequence: u64,
    /// The last business day closed for this account.
    pub closed_through: Option<NaiveDate>,
    /// The balance the first open day started with: the debt carried from the last close, or 0.
    pub opening_cents: i64,
    /// What each open business day put on the account.
    pub open_days: BTreeMap<NaiveDate, DayTotals>,
    /// The statement of the last close.
    pub last_statement: Option<Statement>,
    /// The person, from `Account.*` events (unknown until the first arrives).
    pub profile: Option<AccountSnapshot>,
}

/// A movement to post: what, for how much, and when its cause happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Movement {
    pub transaction_id: String,
    pub kind: EntryKind,
    /// The employee's leg: negative = debit.
    pub amount_cents: i64,
    pub task_id: Option<Uuid>,
    pub occurred_at: DateTime<Utc>,
    /// The business day the cause happened on.
    pub occurred_on: NaiveDate,
}

impl Movement {
    /// B4: the fee of one assignment, keyed by the `Task.Assigned` event.
    pub fn fee(event_id: Uuid, task: &Task, at: DateTime<Utc>, on: NaiveDate) -> Movement {
        Movement {
            transaction_id: format!("fee:{event_id}"),
            kind: EntryKind::Fee,
            amount_cents: -task.fee_cents,
            task_id: Some(task.task_id),
            occurred_at: at,
            occurred_on: on,
        }
    }

    /// B4: the reward of a completed task, keyed by the task: once, whoever completed it.
    pub fn reward(task: &Task, at: DateTime<Utc>, on: NaiveDate) -> Movement {
        Movement {
            transaction_id: format!("reward:{}", task.task_id),
            kind: EntryKind::Reward,
            amount_cents: task.reward_cents,
            task_id: Some(task.task_id),
            occurred_at: at,
            occurred_on: on,
        }
    }
}

/// One line of an account's audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub transaction_id: String,
    pub account_id: Uuid,
    pub kind: EntryKind,
    pub amount_cents: i64,
    pub balance_after_cents: i64,
    pub sequence: u64,
    /// The business day it counts in.
    pub business_date: NaiveDate,
    /// The business day its cause happened on: earlier than `business_date` for a late posting.
    pub occurred_on: NaiveDate,
    pub occurred_at: DateTime<Utc>,
    pub posted_at: DateTime<Utc>,
    pub task_id: Option<Uuid>,
}

impl Entry {
    /// The double-entry legs: the employee's and the company's, summing to zero.
    pub fn legs(&self) -> Vec<Leg> {
        let company = match self.kind {
            EntryKind::Fee | EntryKind::Reward => COMPANY_REVENUE,
            EntryKind::Payout => COMPANY_PAYOUTS,
        };
        vec![
            Leg {
                account: format!("employee:{}", self.account_id),
                amount_cents: self.amount_cents,
            },
            Leg {
                account: company.to_owned(),
                amount_cents: -self.amount_cents,
            },
        ]
    }

    pub fn event(&self) -> TransactionPosted {
        TransactionPosted {
            transaction_id: self.transaction_id.clone(),
            kind: self.kind,
            account_id: self.account_id,
            amount_cents: self.amount_cents,
            balance_after_cents: self.balance_after_cents,
            sequence: self.sequence,
            business_date: self.business_date,
            occurred_at: self.occurred_at,
            posted_at: self.posted_at,
            task_id: self.task_id,
            legs: self.legs(),
        }
    }
}

/// What closing a day did to one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closing {
    pub account: LedgerAccount,
    pub statement: Statement,
    /// The payout line, if the closing balance was positive.
    pub payout: Option<Entry>,
}

impl LedgerAccount {
    pub fn open(account_id: Uuid) -> LedgerAccount {
        LedgerAccount {
            account_id,
            balance_cents: 0,
            sequence: 0,
            closed_through: None,
            opening_cents: 0,
            open_days: BTreeMap::new(),
            last_statement: None,
            profile: None,
        }
    }

    /// The partition a close finds this account in.
    pub fn partition(&self) -> u32 {
        u32::from(self.account_id.as_bytes()[15]) % PARTITIONS
    }

    /// The business day a movement of `occurred_on` counts in: its own day, or, if that day is
    /// closed for this account already, the first open one (a late posting).
    pub fn posting_date(&self, occurred_on: NaiveDate) -> NaiveDate {
        match self.closed_through.and_then(|d| d.succ_opt()) {
            Some(first_open) if first_open > occurred_on => first_open,
            _ => occurred_on,
        }
    }

    /// Posts a movement: the account after it, and the audit log's line.
    pub fn post(&self, movement: &Movement, now: DateTime<Utc>) -> (LedgerAccount, Entry) {
        let date = self.posting_date(movement.occurred_on);
        let mut after = self.clone();
        after.balance_cents += movement.amount_cents;
        after.sequence += 1;
        let day = after.open_days.entry(date).or_default();
        match movement.kind {
            EntryKind::Fee => day.fees_cents += movement.amount_cents,
            EntryKind::Reward => day.rewards_cents += movement.amount_cents,
            EntryKind::Payout => unreachable!("payouts are posted by the close"),
        }
        let entry = Entry {
            transaction_id: movement.transaction_id.clone(),
            account_id: self.account_id,
            kind: movement.kind,
            amount_cents: movement.amount_cents,
            balance_after_cents: after.balance_cents,
            sequence: after.sequence,
            business_date: date,
            occurred_on: movement.occurred_on,
            occurred_at: movement.occurred_at,
            posted_at: now,
            task_id: movement.task_id,
        };
        (after, entry)
    }

    /// What the employee earned on `date` so far (fees and rewards of that day).
    pub fn earned_on(&self, date: NaiveDate) -> i64 {
        self.open_days.get(&date).map_or(0, DayTotals::net_cents)
    }

    /// B5: closes every open day up to `date` for this account, in one step: the statement,
    /// and the payout of a positive closing balance (the balance is reset by it) or the debt
    /// carried into the next day. `None` if `date` is closed for this account already.
    pub fn close(&self, date: NaiveDate, now: DateTime<Utc>) -> Option<Closing> {
        if self.closed_through.is_some_and(|closed| closed >= date) {
            return None;
        }
        let mut after = self.clone();
        let later = after
            .open_days
            .split_off(&date.succ_opt().expect("a date within the calendar"));
        let closed = std::mem::replace(&mut after.open_days, later);
        let (fees_cents, rewards_cents) = closed
            .values()
            .fold((0, 0), |(f, r), d| (f + d.fees_cents, r + d.rewards_cents));
        let closing = self.opening_cents + fees_cents + rewards_cents;
        let paid_cents = closing.max(0);
        let statement = Statement {
            account_id: self.account_id,
            business_date: date,
            opening_balance_cents: self.opening_cents,
            fees_cents,
            rewards_cents,
            closing_balance_cents: closing,
            paid_cents,
            carried_cents: closing.min(0),
        };
        let payout = (paid_cents > 0).then(|| {
            after.balance_cents -= paid_cents;
            after.sequence += 1;
            Entry {
                transaction_id: format!("payout:{}:{date}", self.account_id),
                account_id: self.account_id,
                kind: EntryKind::Payout,
                amount_cents: -paid_cents,
                balance_after_cents: after.balance_cents,
                sequence: after.sequence,
                business_date: date,
                occurred_on: date,
                occurred_at: now,
                posted_at: now,
                task_id: None,
            }
        });
        after.closed_through = Some(date);
        after.opening_cents = statement.carried_cents;
        after.last_statement = Some(statement.clone());
        Some(Closing {
            account: after,
            statement,
            payout,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn task(fee: i64, reward: i64) -> Task {
        Task {
            task_id: Uuid::now_v7(),
            fee_cents: fee,
            reward_cents: reward,
            priced_at: Utc::now(),
            title: None,
            jira_id: None,
        }
    }

    #[test]
    fn prices_are_whole_dollars_in_their_ranges() {
        let mut rng = rand::thread_rng();
        for _ in 0..1000 {
            let t = Task::priced(Uuid::now_v7(), Utc::now(), &mut rng);
            assert!((1000..=2000).contains(&t.fee_cents) && t.fee_cents % 100 == 0);
            assert!((2000..=4000).contains(&t.reward_cents) && t.reward_cents % 100 == 0);
        }
    }

    #[test]
    fn a_fee_debits_and_a_reward_credits_with_legs_summing_to_zero() {
        let t = task(1400, 3300);
        let now = Utc::now();
        let d = date("2026-11-20");
        let (a, fee) = LedgerAccount::open(Uuid::now_v7())
            .post(&Movement::fee(Uuid::now_v7(), &t, now, d), now);
        let (a, reward) = a.post(&Movement::reward(&t, now, d), now);
        assert_eq!(
            (fee.balance_after_cents, reward.balance_after_cents),
            (-1400, 1900)
        );
        assert_eq!(a.sequence, 2);
        assert_eq!(a.earned_on(d), 1900);
        for e in [fee, reward] {
            assert_eq!(e.legs().iter().map(|l| l.amount_cents).sum::<i64>(), 0);
        }
    }

    #[test]
    fn a_positive_day_is_paid_out_and_a_negative_one_carried() {
        let now = Utc::now();
        let d = date("2026-11-20");
        let t = task(1000, 3000);
        let (a, _) = LedgerAccount::open(Uuid::now_v7()).post(&Movement::reward(&t, now, d), now);
        let closing = a.close(d, now).unwrap();
        assert_eq!(closing.statement.paid_cents, 3000);
        assert_eq!(closing.account.balance_cents, 0);
        assert_eq!(closing.payout.unwrap().amount_cents, -3000);
        assert!(closing.account.close(d, now).is_none(), "a day closes once");

        let (a, _) = LedgerAccount::open(Uuid::now_v7())
            .post(&Movement::fee(Uuid::now_v7(), &t, now, d), now);
        let closing = a.close(d, now).unwrap();
        assert_eq!(
            (
                closing.statement.carried_cents,
                closing.statement.paid_cents
            ),
            (-1000, 0)
        );
        assert!(closing.payout.is_none());
        assert_eq!(closing.account.balance_cents, -1000);
        let next = closing.account.close(date("2026-11-21"), now).unwrap();
        assert_eq!(next.statement.opening_balance_cents, -1000);
        assert_eq!(next.statement.carried_cents, -1000);
    }

    #[test]
    fn a_movement_of_a_closed_day_is_posted_to_the_next_open_day_and_later_days_stay_open() {
        let now = Utc::now();
        let (d, next) = (date("2026-11-20"), date("2026-11-21"));
        let t = task(1000, 3000);
        let a = LedgerAccount::open(Uuid::now_v7());
        let (a, _) = a.post(&Movement::fee(Uuid::now_v7(), &t, now, next), now);
        let closed = a.close(d, now).unwrap();
        assert_eq!(
            closed.statement.closing_balance_cents, 0,
            "the next day's fee is not in it"
        );
        assert_eq!(closed.account.balance_cents, -1000);
        let (a, late) = closed.account.post(&Movement::reward(&t, now, d), now);
        assert_eq!((late.business_date, late.occurred_on), (next, d));
        let closing = a.close(next, now).unwrap();
        assert_eq!(closing.statement.closing_balance_cents, 2000);
        assert_eq!(closing.account.balance_cents, 0);
    }
}
