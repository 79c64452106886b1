//! Payouts leaving through the payment port (plain Rust): the employee's bank details (an IBAN,
//! checked by its checksum) and the transfer of a payout, held until details are given (SPEC
//! "The money rules", Payout).
//!
//! `app::send_payout` (on `Payout.Made`) hands the payout to the `Bank` port: to the IBAN the
//! employee registered, or held (`TRANSFER#<payout id>`, status held) until `PUT
//! /accounting/me/payout-details` gives one. The adapter (`RecordingBank`) records each transfer
//! once per payout id; a real bank goes behind the same port with the payout id as its
//! idempotency key. If the process dies after the bank took a transfer but before it was
//! recorded, the redelivery hands it over again and the bank's key keeps it to one payment.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An IBAN whose checksum holds: `DE89 3704 0044 0532 0130 00`, kept without spaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Iban(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("not an IBAN: {0}")]
pub struct BadIban(&'static str);

impl Iban {
    /// Spaces anywhere (as IBANs are printed) and either case; nothing else but letters and
    /// digits. The API document's pattern says the same of its shape; the checksum it cannot.
    pub fn parse(text: &str) -> Result<Iban, BadIban> {
        let iban: String = text
            .chars()
            .filter(|c| *c != ' ')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if !(15..=34).contains(&iban.len()) {
            return Err(BadIban("an IBAN has 15 to 34 characters"));
        }
        if !iban.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(BadIban("an IBAN has letters and digits only"));
        }
        let (country, check) = (&iban[..2], &iban[2..4]);
        if !country.chars().all(|c| c.is_ascii_uppercase())
            || !check.chars().all(|c| c.is_ascii_digit())
        {
            return Err(BadIban(
                "an IBAN starts with a country code and two check digits",
            ));
        }
        // ISO 13616: move the first four characters to the end, letters become 10..35, and the
        // number must leave 1 divided by 97.
        let remainder = iban[4..]
            .chars()
            .chain(iban[..4].chars())
            .fold(0u32, |r, c| {
                let value = c.to_digit(36).expect("alphanumeric");
                let r = if value >= 10 {
                    r * 100 + value
                } else {
                    r * 10 + value
                };
                r % 97
            });
        if remainder != 1 {
            return Err(BadIban("its check digits do not match"));
        }
        Ok(Iban(iban))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Shown masked: the last four characters only.
    pub fn masked(&self) -> String {
        format!("••••{}", &self.0[self.0.len() - 4..])
    }
}

/// Where an employee's payouts go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutDetails {
    pub account_id: Uuid,
    pub iban: Iban,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransferStatus {
    /// Paid in the ledger; waits for the employee's bank details.
    Held,
    /// Handed to the bank.
    Sent,
}

/// A payout on its way to the bank.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    pub payout_id: String,
    pub account_id: Uuid,
    pub business_date: NaiveDate,
    pub amount_cents: i64,
    pub status: TransferStatus,
    /// The masked IBAN it was sent to.
    pub sent_to: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl Transfer {
    pub fn sent(&self, iban: &Iban, now: DateTime<Utc>) -> Transfer {
        Transfer {
            status: TransferStatus::Sent,
            sent_to: Some(iban.masked()),
            sent_at: Some(now),
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ibans_are_checked_by_their_checksum_and_shown_masked() {
        let iban = Iban::parse("de89 3704 0044 0532 0130 00").unwrap();
        assert_eq!(iban.as_str(), "DE89370400440532013000");
        assert_eq!(iban.masked(), "••••3000");
        assert!(Iban::parse("GB82WEST12345698765432").is_ok());
        assert!(
            Iban::parse("DE88370400440532013000").is_err(),
            "one check digit off"
        );
        assert!(
            Iban::parse("DE89370400440532013001").is_err(),
            "one digit off"
        );
        for bad in [
            "",
            "DE89",
            "DE89-3704-0044-0532-0130-00",
            "1289370400440532013000",
            "DE89\t3704 0044 0532 0130 00",
            "DE89\u{a0}3704 0044 0532 0130 00",
        ] {
            assert!(Iban::parse(bad).is_err(), "{bad}");
        }
    }
}
