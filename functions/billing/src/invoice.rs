//! A client's weekly invoice (SPEC M7): issued at the week's end with a line per charged order,
//! collected through payments. Until payments confirms the collection the money is pending: no
//! movement says it arrived. Declined: tried again 1, 3 and 7 days after the first decline, then
//! `uncollectible` (accountants take it from there; no order is settled).

use std::collections::{BTreeMap, BTreeSet};

use ates_kernel::contracts::billing::{
    CollectionRequested, Dunning, InvoiceDeclined, InvoiceIssued, InvoiceLine, InvoicePaid,
    OrderSettled, Outcome,
};
use ates_kernel::contracts::clock::Week;
use ates_kernel::contracts::payments::{CollectionFailed, CollectionFailure, CollectionSucceeded};
use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ledger::{Fact, Kind, Movement, Period};

/// The namespace of billing's name-based ids (invoices, statements); never change it.
pub const ID_NAMESPACE: Uuid = Uuid::from_u128(0x5b1e_0c9a_7f43_4d2e_9a61_2c8f_0e4b_b170);

/// The days after the first decline at which attempts 2, 3 and 4 are made.
pub const RETRY_DAYS: [u64; 3] = [1, 3, 7];

/// The last attempt: its decline makes the invoice uncollectible.
pub const LAST_ATTEMPT: u32 = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStatus {
    /// Issued; its first collection is under way.
    Open,
    Paid,
    Retrying,
    Uncollectible,
}

impl InvoiceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            InvoiceStatus::Open => "open",
            InvoiceStatus::Paid => "paid",
            InvoiceStatus::Retrying => "retrying",
            InvoiceStatus::Uncollectible => "uncollectible",
        }
    }

    pub fn parse(text: &str) -> Option<InvoiceStatus> {
        [
            InvoiceStatus::Open,
            InvoiceStatus::Paid,
            InvoiceStatus::Retrying,
            InvoiceStatus::Uncollectible,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invoice {
    pub invoice_id: Uuid,
    pub client_id: Uuid,
    pub week: Week,
    pub lines: Vec<InvoiceLine>,
    pub total_cents: i64,
    pub status: InvoiceStatus,
    pub issued_at: DateTime<Utc>,
    /// The attempts requested from payments so far (1 at issue; the dunning adds the others).
    pub requested: BTreeSet<u32>,
    /// The attempts payments declined, and when.
    pub declined: BTreeMap<u32, DateTime<Utc>>,
    pub retry_at: Option<DateTime<Utc>>,
    pub paid_at: Option<DateTime<Utc>>,
    /// Counts the invoice's writes: each is conditional on the one read.
    pub version: u64,
}

/// `invoice:<client>:<week>`: the key, and the id derived from it.
pub fn invoice_key(client: Uuid, week: Week) -> String {
    format!("invoice:{client}:{week}")
}

pub fn invoice_id(client: Uuid, week: Week) -> Uuid {
    Uuid::new_v5(&ID_NAMESPACE, invoice_key(client, week).as_bytes())
}

/// What a collection's answer changed.
#[derive(Debug)]
pub struct Collected {
    pub invoice: Invoice,
    pub movement: Movement,
    pub paid: InvoicePaid,
    pub settled: Vec<OrderSettled>,
}

impl Invoice {
    /// The invoice of `week` for a client's charges in it, and its first collection.
    pub fn issue(
        client: Uuid,
        week: Week,
        charges: &[Movement],
        now: DateTime<Utc>,
    ) -> (Invoice, InvoiceIssued, CollectionRequested) {
        let mut lines: Vec<InvoiceLine> = charges
            .iter()
            .filter(|m| m.kind == Kind::Charge)
            .map(|m| InvoiceLine {
                order_id: m.order_id.unwrap_or_default(),
                outcome: m.outcome.unwrap_or(Outcome::Approved),
                amount_cents: m.amount_cents,
            })
            .collect();
        lines.sort_by_key(|l| l.order_id);
        let total_cents = lines.iter().map(|l| l.amount_cents).sum();
        let invoice = Invoice {
            invoice_id: invoice_id(client, week),
            client_id: client,
            week,
            lines: lines.clone(),
            total_cents,
            status: InvoiceStatus::Open,
            issued_at: now,
            requested: BTreeSet::from([1]),
            declined: BTreeMap::new(),
            retry_at: None,
            paid_at: None,
            version: 1,
        };
        let issued = InvoiceIssued {
            invoice_id: invoice.invoice_id,
            client_id: client,
            week,
            total_cents,
            lines,
            issued_at: now,
        };
        let requested = invoice.request(1, now);
        (invoice, issued, requested)
    }

    fn request(&self, attempt: u32, now: DateTime<Utc>) -> CollectionRequested {
        CollectionRequested {
            invoice_id: self.invoice_id,
            client_id: self.client_id,
            amount_cents: self.total_cents,
            attempt,
            requested_at: now,
        }
    }

    /// Payments collected the invoice: paid, the money posted (`collection:<invoice>`, on the
    /// business day `on` it arrived), and every approved or declined order on it settled.
    /// `None` when it was paid before. Money that arrived is posted whatever the dunning said
    /// meanwhile.
    pub fn collected(&self, success: &CollectionSucceeded, on: NaiveDate) -> Option<Collected> {
        if self.status == InvoiceStatus::Paid {
            return None;
        }
        let at = success.collected_at;
        let mut invoice = self.clone();
        invoice.status = InvoiceStatus::Paid;
        invoice.paid_at = Some(at);
        invoice.retry_at = None;
        invoice.version += 1;
        let fact = Fact::collection(self.invoice_id, self.client_id, self.total_cents, at, on);
        let movement = fact.post(Period::Week(self.week));
        let paid = InvoicePaid {
            invoice_id: self.invoice_id,
            client_id: self.client_id,
            week: self.week,
            total_cents: self.total_cents,
            paid_at: at,
        };
        let settled = self
            .lines
            .iter()
            .filter(|l| l.outcome != Outcome::Cancelled)
            .map(|l| OrderSettled {
                order_id: l.order_id,
                invoice_id: self.invoice_id,
                outcome: l.outcome,
                settled_at: at,
            })
            .collect();
        Some(Collected {
            invoice,
            movement,
            paid,
            settled,
        })
    }

    /// Payments could not collect an attempt: retrying at the first decline + 1, 3, 7 days, or
    /// uncollectible after the last attempt. `None` when paid, or when this attempt's decline
    /// was heard before.
    pub fn declined(&self, failure: &CollectionFailed) -> Option<(Invoice, InvoiceDeclined)> {
        if self.status == InvoiceStatus::Paid || self.declined.contains_key(&failure.attempt) {
            return None;
        }
        let mut invoice = self.clone();
        invoice.declined.insert(failure.attempt, failure.failed_at);
        invoice.version += 1;
        let first = invoice
            .declined
            .values()
            .min()
            .copied()
            .unwrap_or(failure.failed_at);
        let last = invoice
            .declined
            .keys()
            .max()
            .copied()
            .unwrap_or(failure.attempt);
        if last >= LAST_ATTEMPT {
            invoice.status = InvoiceStatus::Uncollectible;
            invoice.retry_at = None;
        } else {
            let days = RETRY_DAYS[(last.max(1) - 1) as usize];
            invoice.status = InvoiceStatus::Retrying;
            invoice.retry_at = Some(first + Days::new(days));
        }
        let declined = InvoiceDeclined {
            invoice_id: self.invoice_id,
            client_id: self.client_id,
            week: self.week,
            total_cents: self.total_cents,
            attempt: failure.attempt,
            status: match invoice.status {
                InvoiceStatus::Uncollectible => Dunning::Uncollectible,
                _ => Dunning::Retrying,
            },
            retry_at: invoice.retry_at,
            reason: reason(failure.reason).to_owned(),
            declined_at: failure.failed_at,
        };
        Some((invoice, declined))
    }

    /// The next attempt, when it is due and not requested yet.
    pub fn due_retry(&self, now: DateTime<Utc>) -> Option<(Invoice, CollectionRequested)> {
        if self.status != InvoiceStatus::Retrying || self.retry_at.is_none_or(|at| at > now) {
            return None;
        }
        let attempt = self.declined.keys().max().copied().unwrap_or(0) + 1;
        if attempt > LAST_ATTEMPT || self.requested.contains(&attempt) {
            return None;
        }
        let mut invoice = self.clone();
        invoice.requested.insert(attempt);
        invoice.version += 1;
        let requested = invoice.request(attempt, now);
        Some((invoice, requested))
    }
}

fn reason(failure: CollectionFailure) -> &'static str {
    match failure {
        CollectionFailure::CardDeclined => "card_declined",
        CollectionFailure::NoCard => "no_card",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ates_kernel::testing::{at, date};

    fn invoice() -> Invoice {
        let client = Uuid::from_u128(9);
        let charges: Vec<Movement> = [
            (1, Outcome::Approved, 1_000),
            (2, Outcome::Declined, 500),
            (3, Outcome::Cancelled, 250),
        ]
        .into_iter()
        .map(|(o, outcome, v)| {
            let fact = Fact::charge(
                Uuid::from_u128(o),
                client,
                outcome,
                v,
                at("2026-12-02T10:00:00Z"),
                date("2026-12-02"),
            );
            fact.post(fact.natural_period())
        })
        .collect();
        let week = Week::parse("2026-W49").unwrap();
        Invoice::issue(client, week, &charges, at("2026-12-07T00:00:00Z")).0
    }

    fn failed(invoice: &Invoice, attempt: u32, when: &str) -> CollectionFailed {
        CollectionFailed {
            invoice_id: invoice.invoice_id,
            client_id: invoice.client_id,
            attempt,
            amount_cents: invoice.total_cents,
            reason: CollectionFailure::CardDeclined,
            failed_at: at(when),
        }
    }

    #[test]
    fn an_invoice_totals_its_lines_and_settles_only_what_was_not_cancelled() {
        let invoice = invoice();
        assert_eq!(invoice.total_cents, 1_750);
        let success = CollectionSucceeded {
            invoice_id: invoice.invoice_id,
            client_id: invoice.client_id,
            attempt: 1,
            amount_cents: 1_750,
            card_last4: "4242".into(),
            collected_at: at("2026-12-07T01:00:00Z"),
        };
        let collected = invoice.collected(&success, date("2026-12-07")).unwrap();
        assert_eq!(collected.invoice.status, InvoiceStatus::Paid);
        assert_eq!(collected.settled.len(), 2);
        assert_eq!(
            collected.movement.key,
            format!("collection:{}", invoice.invoice_id)
        );
        assert_eq!(
            (collected.movement.period, collected.movement.date),
            (Period::Week(invoice.week), date("2026-12-07"))
        );
        assert!(collected
            .invoice
            .collected(&success, date("2026-12-07"))
            .is_none());
    }

    #[test]
    fn declines_are_retried_after_one_three_and_seven_days_then_uncollectible() {
        let mut invoice = invoice();
        let first = "2026-12-07T01:00:00Z";
        let expected = [
            "2026-12-08T01:00:00Z",
            "2026-12-10T01:00:00Z",
            "2026-12-14T01:00:00Z",
        ];
        for (attempt, retry) in (1..=3).zip(expected) {
            let (next, declined) = invoice.declined(&failed(&invoice, attempt, first)).unwrap();
            assert_eq!(declined.status, Dunning::Retrying);
            assert_eq!(next.retry_at, Some(at(retry)));
            assert!(next
                .due_retry(at(retry) - Days::new(0) - chrono::Duration::seconds(1))
                .is_none());
            let (requested, request) = next.due_retry(at(retry)).unwrap();
            assert_eq!(request.attempt, attempt + 1);
            assert!(requested.due_retry(at(retry)).is_none(), "once per attempt");
            invoice = requested;
        }
        let (last, declined) = invoice
            .declined(&failed(&invoice, 4, "2026-12-14T02:00:00Z"))
            .unwrap();
        assert_eq!(declined.status, Dunning::Uncollectible);
        assert_eq!(last.status, InvoiceStatus::Uncollectible);
        assert!(last
            .declined(&failed(&last, 4, "2026-12-14T02:00:00Z"))
            .is_none());
    }
}
