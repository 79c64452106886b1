//! Money that leaves the company (SPEC M7, plain Rust): where an employee's money goes (their
//! payout details, an IBAN checked by its checksum) and a payout to them: phase 1's daily payout
//! (`Payout.Made`, keyed `payout:<account>:<business date>`) or phase 2's monthly salary
//! (`Billing.StatementIssued` with a salary, keyed `salary:<worker>:<month>`).
//!
//! Two-phase, as a collection is: a payout is `held` while there is no IBAN to send it to,
//! `pending` from the moment it is handed to the bank until the bank answers, then `posted`
//! (the money left; a salary's `Payment.SalaryPaid`). A bank that refuses (a closed account)
//! sends it back to `held` with the bank's words, to go again with the next details: the money
//! is still owed, and nothing says it was paid. Each hand-over to the bank has its own key
//! (`<payout id>#<attempt>`), the bank's idempotency key: a redelivery asks again under the
//! same key and is paid once.

use ates_kernel::contracts::clock::Month;
use ates_kernel::contracts::payments::SalaryPaid;
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

impl PayoutDetails {
    /// Details handed over (accounting's, at the move) replace these only if they are newer.
    pub fn newer_than(&self, kept: Option<&PayoutDetails>) -> bool {
        kept.is_none_or(|kept| self.updated_at > kept.updated_at)
    }
}

/// What a payout pays for: its key, and what its confirmation says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Purpose {
    /// Phase 1: a day's positive balance (`payout:<account>:<business date>`).
    DailyPayout { business_date: NaiveDate },
    /// Phase 2: a month's salary (`salary:<worker>:<month>`).
    Salary { month: Month },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// No IBAN to send it to (none given, or the bank refused the last one).
    Held,
    /// Handed to the bank (or about to be); its answer not yet recorded.
    Pending,
    /// The bank took it: the money left.
    Posted,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Held => "held",
            Status::Pending => "pending",
            Status::Posted => "posted",
        }
    }
}

/// The bank's answer to a transfer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Transfer {
    Sent { reference: String },
    Refused { reason: String },
}

/// A payout asked for: by accounting's `Payout.Made` or billing's `Billing.StatementIssued`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub payout_id: String,
    pub account_id: Uuid,
    pub amount_cents: i64,
    pub purpose: Purpose,
}

impl Request {
    /// Only money there is to pay.
    pub fn validate(self) -> Result<Request, String> {
        if self.amount_cents < 1 {
            return Err(format!(
                "payout {} of {} cents is nothing to pay",
                self.payout_id, self.amount_cents
            ));
        }
        Ok(self)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payout {
    /// `payout:<account>:<business date>` or `salary:<worker>:<month>`.
    pub payout_id: String,
    pub account_id: Uuid,
    pub amount_cents: i64,
    pub purpose: Purpose,
    pub status: Status,
    /// Hand-overs to the bank so far; the pending one's key ends with it.
    pub attempt: u32,
    /// The IBAN of the pending or posted hand-over.
    pub iban: Option<Iban>,
    /// The bank's reference, once posted.
    pub reference: Option<String>,
    /// The bank's words for its last refusal.
    pub refused: Option<String>,
    pub requested_at: DateTime<Utc>,
    pub settled_at: Option<DateTime<Utc>>,
    pub version: u64,
}

/// What the owner reads of a payout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PayoutView {
    pub payout_id: String,
    pub amount_cents: i64,
    pub status: &'static str,
    pub sent_to: Option<String>,
    pub refused: Option<String>,
    pub requested_at: DateTime<Utc>,
    pub settled_at: Option<DateTime<Utc>>,
}

/// The ids' namespace: a salary's transfer id is derived from its key.
const TRANSFERS: Uuid = Uuid::from_u128(0x7a1a_5e4d_0b1e_4a6c_8f0e_3c2d_1b0a_9f8e);

impl Payout {
    /// The payout recorded: pending to `details` if the employee gave some, held if not.
    pub fn open(request: Request, details: Option<&PayoutDetails>, now: DateTime<Utc>) -> Payout {
        let held = Payout {
            payout_id: request.payout_id,
            account_id: request.account_id,
            amount_cents: request.amount_cents,
            purpose: request.purpose,
            status: Status::Held,
            attempt: 0,
            iban: None,
            reference: None,
            refused: None,
            requested_at: now,
            settled_at: None,
            version: 1,
        };
        match details {
            Some(details) => Payout { version: 0, ..held }.send_to(&details.iban),
            None => held,
        }
    }

    /// A held payout handed to the bank at `iban`: pending under a new attempt's key. None if
    /// it is not held.
    /// Whether it waits for the bank: held for an IBAN, or handed over and not yet answered.
    pub fn waits(&self) -> bool {
        matches!(self.status, Status::Held | Status::Pending)
    }

    pub fn release(&self, iban: &Iban) -> Option<Payout> {
        (self.status == Status::Held).then(|| self.send_to(iban))
    }

    fn send_to(&self, iban: &Iban) -> Payout {
        Payout {
            status: Status::Pending,
            attempt: self.attempt + 1,
            iban: Some(iban.clone()),
            version: self.version + 1,
            ..self.clone()
        }
    }

    /// What the bank is asked while the payout is pending: the IBAN, the amount, and the
    /// hand-over's key. None otherwise.
    pub fn to_send(&self) -> Option<(&Iban, i64, String)> {
        match (self.status, &self.iban) {
            (Status::Pending, Some(iban)) => Some((
                iban,
                self.amount_cents,
                format!("{}#{}", self.payout_id, self.attempt),
            )),
            _ => None,
        }
    }

    /// The bank's answer recorded: posted (with a salary's confirmation), or held again with
    /// its words. None if the payout is not pending any more (another delivery recorded it).
    pub fn settle(
        &self,
        answer: &Transfer,
        now: DateTime<Utc>,
    ) -> Option<(Payout, Option<SalaryPaid>)> {
        self.to_send()?;
        let next = Payout {
            version: self.version + 1,
            ..self.clone()
        };
        Some(match answer {
            Transfer::Sent { reference } => {
                let posted = Payout {
                    status: Status::Posted,
                    reference: Some(reference.clone()),
                    settled_at: Some(now),
                    ..next
                };
                let paid = posted.salary_paid();
                (posted, paid)
            }
            Transfer::Refused { reason } => (
                Payout {
                    status: Status::Held,
                    iban: None,
                    refused: Some(reason.clone()),
                    ..next
                },
                None,
            ),
        })
    }

    /// A posted salary's confirmation, for billing.
    fn salary_paid(&self) -> Option<SalaryPaid> {
        let Purpose::Salary { month } = self.purpose else {
            return None;
        };
        Some(SalaryPaid {
            worker_id: self.account_id,
            month,
            amount_cents: self.amount_cents,
            transfer_id: Uuid::new_v5(&TRANSFERS, self.payout_id.as_bytes()),
            paid_at: self.settled_at?,
        })
    }

    pub fn view(&self) -> PayoutView {
        PayoutView {
            payout_id: self.payout_id.clone(),
            amount_cents: self.amount_cents,
            status: self.status.as_str(),
            sent_to: self.iban.as_ref().map(Iban::masked),
            refused: self.refused.clone(),
            requested_at: self.requested_at,
            settled_at: self.settled_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn salary(cents: i64) -> Request {
        Request {
            payout_id: "salary:w:2026-12".into(),
            account_id: Uuid::nil(),
            amount_cents: cents,
            purpose: Purpose::Salary {
                month: Month::parse("2026-12").unwrap(),
            },
        }
    }

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

    #[test]
    fn nothing_to_pay_is_no_payout() {
        assert!(salary(0).validate().is_err());
        assert!(salary(-5).validate().is_err());
        assert!(salary(1).validate().is_ok());
    }

    #[test]
    fn a_payout_is_held_without_details_and_pending_with_them() {
        let now = at("2026-12-31T23:05:00Z");
        let held = Payout::open(salary(4_600), None, now);
        assert_eq!(
            (held.status, held.attempt, held.version),
            (Status::Held, 0, 1)
        );
        assert!(held.to_send().is_none(), "nothing to send without an IBAN");
        let details = PayoutDetails {
            account_id: Uuid::nil(),
            iban: Iban::parse("DE89370400440532013000").unwrap(),
            updated_at: now,
        };
        let pending = Payout::open(salary(4_600), Some(&details), now);
        assert_eq!(
            (pending.status, pending.attempt, pending.version),
            (Status::Pending, 1, 1)
        );
        let (iban, cents, key) = pending.to_send().unwrap();
        assert_eq!(
            (iban.as_str(), cents, key.as_str()),
            ("DE89370400440532013000", 4_600, "salary:w:2026-12#1")
        );
        assert_eq!(
            held.release(&details.iban).unwrap().to_send().unwrap().2,
            "salary:w:2026-12#1"
        );
        assert!(
            pending.release(&details.iban).is_none(),
            "only a held payout is released"
        );
    }

    #[test]
    fn the_banks_answer_posts_it_once_or_holds_it_again_under_a_new_key_next_time() {
        let now = at("2026-12-31T23:05:00Z");
        let iban = Iban::parse("DE89370400440532013000").unwrap();
        let pending = Payout::open(salary(4_600), None, now)
            .release(&iban)
            .unwrap();
        let sent = Transfer::Sent {
            reference: "ref-1".into(),
        };
        let (posted, paid) = pending.settle(&sent, now).unwrap();
        assert_eq!(posted.status, Status::Posted);
        let paid = paid.expect("a salary's confirmation");
        assert_eq!(
            (paid.amount_cents, paid.month.to_string().as_str()),
            (4_600, "2026-12")
        );
        assert!(posted.settle(&sent, now).is_none(), "recorded once");

        let refused = Transfer::Refused {
            reason: "account closed".into(),
        };
        let (held, paid) = pending.settle(&refused, now).unwrap();
        assert_eq!((held.status, paid), (Status::Held, None));
        assert_eq!(held.refused.as_deref(), Some("account closed"));
        let again = held.release(&iban).unwrap();
        assert_eq!(
            again.to_send().unwrap().2,
            "salary:w:2026-12#2",
            "a new key for a new hand-over"
        );
    }

    #[test]
    fn a_daily_payout_posts_with_no_salary_event() {
        let now = at("2026-11-21T00:00:05Z");
        let request = Request {
            payout_id: "payout:a:2026-11-20".into(),
            account_id: Uuid::nil(),
            amount_cents: 2_000,
            purpose: Purpose::DailyPayout {
                business_date: "2026-11-20".parse().unwrap(),
            },
        };
        let iban = Iban::parse("GB82WEST12345698765432").unwrap();
        let pending = Payout::open(request, None, now).release(&iban).unwrap();
        let (posted, paid) = pending
            .settle(
                &Transfer::Sent {
                    reference: "r".into(),
                },
                now,
            )
            .unwrap();
        assert_eq!((posted.status, paid), (Status::Posted, None));
    }
}
