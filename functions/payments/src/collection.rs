//! A collection (SPEC M7): one attempt at taking an invoice's amount from the client's card,
//! keyed `invoice:<invoice id>:<attempt>` and sent to the acquirer under that key, so it is
//! charged once however often billing's request arrives. Two-phase: it is `pending` from the
//! moment it is recorded until the acquirer answers, then `posted` (the money moved:
//! `Payment.CollectionSucceeded`) or `voided` (it did not: `Payment.CollectionFailed`). No card
//! on file voids it at once: there is nothing to charge.

use ates_kernel::contracts::billing::CollectionRequested;
use ates_kernel::contracts::payments::{CollectionFailed, CollectionFailure, CollectionSucceeded};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::card::Card;

/// How many attempts billing makes at one invoice (the first and three retries).
pub const MAX_ATTEMPTS: u32 = 4;

/// The key of an invoice's attempt: the collection's id, and the acquirer's idempotency key.
pub fn collection_key(invoice_id: Uuid, attempt: u32) -> String {
    format!("invoice:{invoice_id}:{attempt}")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Sent to the acquirer (or about to be); its answer not yet recorded.
    Pending,
    /// The acquirer took the money.
    Posted,
    /// Nothing was taken: the card was declined, or there was none.
    Voided,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Posted => "posted",
            Status::Voided => "voided",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The acquirer's answer to a charge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Charge {
    Approved { charge_id: String },
    Declined { reason: String },
}

/// Billing's request, checked: an attempt billing makes, for an amount there is to take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidRequest(CollectionRequested);

impl ValidRequest {
    pub fn validate(request: &CollectionRequested) -> Result<ValidRequest, String> {
        if request.amount_cents < 1 {
            return Err(format!(
                "amount_cents {} is nothing to collect",
                request.amount_cents
            ));
        }
        if !(1..=MAX_ATTEMPTS).contains(&request.attempt) {
            return Err(format!(
                "attempt {} is not 1 to {MAX_ATTEMPTS}",
                request.attempt
            ));
        }
        Ok(ValidRequest(request.clone()))
    }

    pub fn invoice_id(&self) -> Uuid {
        self.0.invoice_id
    }

    pub fn attempt(&self) -> u32 {
        self.0.attempt
    }

    pub fn client_id(&self) -> Uuid {
        self.0.client_id
    }
}

/// The card a collection charges, as it was on file when the collection was recorded: a
/// redelivered request charges that card under the same key, whatever the client did since.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargedCard {
    pub token: String,
    pub last4: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collection {
    /// `invoice:<invoice id>:<attempt>`.
    pub collection_id: String,
    pub invoice_id: Uuid,
    pub client_id: Uuid,
    pub attempt: u32,
    pub amount_cents: i64,
    pub status: Status,
    /// None only when there was no card on file.
    pub card: Option<ChargedCard>,
    /// The acquirer's id of the charge, once posted.
    pub charge_id: Option<String>,
    /// Why nothing was taken, once voided.
    pub failure: Option<CollectionFailure>,
    /// The acquirer's words for a decline.
    pub decline_reason: Option<String>,
    pub requested_at: DateTime<Utc>,
    pub settled_at: Option<DateTime<Utc>>,
    pub version: u64,
}

/// What recording a request came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opened {
    /// A card to charge: the collection waits for the acquirer.
    Pending(Collection),
    /// No card on file: voided at once, and billing told.
    Voided(Collection, CollectionFailed),
}

/// What the acquirer's answer settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    Succeeded(CollectionSucceeded),
    Failed(CollectionFailed),
}

impl Collection {
    /// Records billing's request with the client's card on file, if any.
    pub fn open(request: &ValidRequest, card: Option<&Card>, now: DateTime<Utc>) -> Opened {
        let r = &request.0;
        let collection = Collection {
            collection_id: collection_key(r.invoice_id, r.attempt),
            invoice_id: r.invoice_id,
            client_id: r.client_id,
            attempt: r.attempt,
            amount_cents: r.amount_cents,
            status: Status::Pending,
            card: card.map(|c| ChargedCard {
                token: c.token.clone(),
                last4: c.last4.clone(),
            }),
            charge_id: None,
            failure: None,
            decline_reason: None,
            requested_at: now,
            settled_at: None,
            version: 1,
        };
        if collection.card.is_some() {
            return Opened::Pending(collection);
        }
        let voided = Collection {
            status: Status::Voided,
            failure: Some(CollectionFailure::NoCard),
            settled_at: Some(now),
            ..collection
        };
        let failed = voided.failed(CollectionFailure::NoCard, now);
        Opened::Voided(voided, failed)
    }

    /// What the acquirer is asked while the collection is pending: the card's token, the
    /// amount, and the collection's key as the idempotency key. None once settled.
    pub fn to_charge(&self) -> Option<(&str, i64, &str)> {
        match (&self.status, &self.card) {
            (Status::Pending, Some(card)) => Some((
                card.token.as_str(),
                self.amount_cents,
                self.collection_id.as_str(),
            )),
            _ => None,
        }
    }

    /// The acquirer's answer recorded: posted or voided, with its event. None when the
    /// collection is settled already (a redelivery that charged again under the same key got
    /// the same answer, and there is nothing more to say).
    pub fn settle(&self, charge: &Charge, now: DateTime<Utc>) -> Option<(Collection, Settled)> {
        let card = self.to_charge().and(self.card.as_ref())?;
        let settled = Collection {
            settled_at: Some(now),
            version: self.version + 1,
            ..self.clone()
        };
        Some(match charge {
            Charge::Approved { charge_id } => {
                let posted = Collection {
                    status: Status::Posted,
                    charge_id: Some(charge_id.clone()),
                    ..settled
                };
                let event = CollectionSucceeded {
                    invoice_id: self.invoice_id,
                    client_id: self.client_id,
                    attempt: self.attempt,
                    amount_cents: self.amount_cents,
                    card_last4: card.last4.clone(),
                    collected_at: now,
                };
                (posted, Settled::Succeeded(event))
            }
            Charge::Declined { reason } => {
                let voided = Collection {
                    status: Status::Voided,
                    failure: Some(CollectionFailure::CardDeclined),
                    decline_reason: Some(reason.clone()),
                    ..settled
                };
                let event = voided.failed(CollectionFailure::CardDeclined, now);
                (voided, Settled::Failed(event))
            }
        })
    }

    fn failed(&self, reason: CollectionFailure, now: DateTime<Utc>) -> CollectionFailed {
        CollectionFailed {
            invoice_id: self.invoice_id,
            client_id: self.client_id,
            attempt: self.attempt,
            amount_cents: self.amount_cents,
            reason,
            failed_at: now,
        }
    }

    /// The collection as staff read it: everything but the card's token.
    pub fn view(&self) -> CollectionView {
        CollectionView {
            collection_id: self.collection_id.clone(),
            invoice_id: self.invoice_id,
            client_id: self.client_id,
            attempt: self.attempt,
            amount_cents: self.amount_cents,
            status: self.status,
            card_last4: self.card.as_ref().map(|c| c.last4.clone()),
            charge_id: self.charge_id.clone(),
            failure: self.failure,
            decline_reason: self.decline_reason.clone(),
            requested_at: self.requested_at,
            settled_at: self.settled_at,
        }
    }
}

/// A collection as accountants read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CollectionView {
    pub collection_id: String,
    pub invoice_id: Uuid,
    pub client_id: Uuid,
    pub attempt: u32,
    pub amount_cents: i64,
    pub status: Status,
    pub card_last4: Option<String>,
    pub charge_id: Option<String>,
    pub failure: Option<CollectionFailure>,
    pub decline_reason: Option<String>,
    pub requested_at: DateTime<Utc>,
    pub settled_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::{CardDetails, CardToken};

    fn now() -> DateTime<Utc> {
        "2026-12-06T18:00:00Z".parse().unwrap()
    }

    fn request(amount_cents: i64, attempt: u32) -> CollectionRequested {
        CollectionRequested {
            invoice_id: Uuid::now_v7(),
            client_id: Uuid::now_v7(),
            amount_cents,
            attempt,
            requested_at: now(),
        }
    }

    fn card(client_id: Uuid) -> Card {
        let details = CardDetails {
            last4: "4242".into(),
            brand: "visa".into(),
        };
        Card::on_file(
            client_id,
            &CardToken::validate("tok_visa").unwrap(),
            details,
            now(),
        )
    }

    fn pending() -> Collection {
        let valid = ValidRequest::validate(&request(12_000, 2)).unwrap();
        match Collection::open(&valid, Some(&card(valid.client_id())), now()) {
            Opened::Pending(c) => c,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn only_an_amount_to_take_and_an_attempt_billing_makes_are_collected() {
        assert!(ValidRequest::validate(&request(0, 1)).is_err());
        assert!(ValidRequest::validate(&request(-5, 1)).is_err());
        assert!(ValidRequest::validate(&request(1, 0)).is_err());
        assert!(ValidRequest::validate(&request(1, MAX_ATTEMPTS + 1)).is_err());
        assert!(ValidRequest::validate(&request(1, MAX_ATTEMPTS)).is_ok());
    }

    #[test]
    fn a_request_with_a_card_on_file_is_pending_under_the_invoice_and_attempt_key() {
        let c = pending();
        assert_eq!(c.status, Status::Pending);
        assert_eq!(c.collection_id, format!("invoice:{}:2", c.invoice_id));
        assert_eq!(
            c.to_charge(),
            Some(("tok_visa", 12_000, c.collection_id.as_str()))
        );
        assert_eq!((c.charge_id.as_ref(), c.failure), (None, None));
    }

    #[test]
    fn no_card_on_file_voids_the_collection_at_once() {
        let valid = ValidRequest::validate(&request(500, 1)).unwrap();
        let Opened::Voided(c, failed) = Collection::open(&valid, None, now()) else {
            panic!("voided");
        };
        assert_eq!(c.status, Status::Voided);
        assert_eq!(c.failure, Some(CollectionFailure::NoCard));
        assert_eq!(c.to_charge(), None, "nothing to charge");
        assert_eq!(failed.reason, CollectionFailure::NoCard);
        assert_eq!(
            (failed.invoice_id, failed.attempt, failed.amount_cents),
            (c.invoice_id, 1, 500)
        );
    }

    #[test]
    fn an_approved_charge_posts_the_collection_and_says_which_card_paid() {
        let c = pending();
        let approved = Charge::Approved {
            charge_id: "ch_1".into(),
        };
        let (posted, settled) = c.settle(&approved, now()).unwrap();
        assert_eq!(posted.status, Status::Posted);
        assert_eq!(posted.charge_id.as_deref(), Some("ch_1"));
        assert_eq!(posted.version, c.version + 1);
        let Settled::Succeeded(event) = settled else {
            panic!("succeeded")
        };
        assert_eq!(event.card_last4, "4242");
        assert_eq!((event.amount_cents, event.attempt), (12_000, 2));
        assert_eq!(posted.settle(&approved, now()), None, "settled once");
    }

    #[test]
    fn a_declined_charge_voids_the_collection_as_card_declined() {
        let c = pending();
        let declined = Charge::Declined {
            reason: "card_declined".into(),
        };
        let (voided, settled) = c.settle(&declined, now()).unwrap();
        assert_eq!(voided.status, Status::Voided);
        assert_eq!(voided.failure, Some(CollectionFailure::CardDeclined));
        assert_eq!(voided.charge_id, None);
        let Settled::Failed(event) = settled else {
            panic!("failed")
        };
        assert_eq!(event.reason, CollectionFailure::CardDeclined);
        assert_eq!(voided.settle(&declined, now()), None);
    }

    #[test]
    fn staff_see_a_collection_without_its_cards_token() {
        let view = serde_json::to_string(&pending().view()).unwrap();
        assert!(view.contains("4242"));
        assert!(!view.contains("tok_visa"));
    }
}
