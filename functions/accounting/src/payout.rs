//! What accounting kept of payouts before payments took them over (SPEC M7: payout details
//! move to payments, which sends phase 1's daily payouts through its bank port). Accounting
//! still pays a day's positive balance out in its ledger and publishes `Payout.Made`; payments
//! holds the payout until the bank confirms it.
//!
//! Before the move, accounting kept each employee's IBAN (`ACCOUNT#<id>` / `PAYOUT_DETAILS`) and
//! the transfers it held for want of one (`ACCOUNT#<id>` / `TRANSFER#<payout id>`, status
//! `held`). The one-off hand-over (`app::hand_over_payouts`, the `accounting-hand-over-payouts`
//! function) publishes each as an event payments takes: the details as
//! `PayoutDetails.HandedOver`, a held transfer as its `Payout.Made` again (payments keys a payout
//! by its id, so one it has already is not paid twice). Nothing here is read by anything else.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use uuid::Uuid;

/// An employee's IBAN as accounting kept it (checked when it was given).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct KeptDetails {
    pub account_id: Uuid,
    pub iban: String,
    pub updated_at: DateTime<Utc>,
}

/// A payout accounting held for want of an IBAN, never sent.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct HeldTransfer {
    pub payout_id: String,
    pub account_id: Uuid,
    pub business_date: NaiveDate,
    pub amount_cents: i64,
}

/// One thing the hand-over passes on. A transfer's item names its payout; details do not.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Leftover {
    Transfer(HeldTransfer),
    Details(KeptDetails),
}
