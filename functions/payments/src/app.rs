//! Payments' use cases: one function per command, query and event. Each is a try of the
//! kernel's executor (`usecase::execute`): it reads through the ports, decides with the domain
//! (`card`, `collection`), and commits the state and its events in one store call.
//!
//! A collection is two-phase, because the acquirer is outside the table: first the pending
//! collection is recorded (or found: the request is a duplicate, or a redelivery after a crash);
//! then the acquirer is asked under the collection's key; then its answer is committed with the
//! event. A crash between the charge and the commit leaves the collection pending, and the
//! redelivered request asks again under the same key: the acquirer answers as it did the first
//! time and moves no money again, and the event is written once, with the answer.

use ates_kernel::contracts::billing::{decode_collection_requested, CollectionRequested};
use ates_kernel::event::{Cause, Envelope};
use ates_kernel::identity::{AccountCopies, Claims, Rights, Role};
use ates_kernel::inbox::{ConsumeError, Outcome};
use ates_kernel::usecase::{execute, Attempt};
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::card::{Card, CardDetails, CardToken};
use crate::collection::{Collection, CollectionView, Opened, Settled, ValidRequest};
use crate::error::PaymentsError;
pub use crate::ports::{Acquirer, Cards, Collections, Saved, Verification};
use crate::PRODUCER;

/// Who keeps a card on file: clients, who pay for their orders (SPEC M7).
#[derive(Debug)]
pub struct Clients;

impl Rights for Clients {
    const ROLES: &'static [Role] = &[Role::Client];
}

/// Who reads every collection: accountants, and admins (SPEC M7's staff reads).
#[derive(Debug)]
pub struct Bookkeepers;

impl Rights for Bookkeepers {
    const ROLES: &'static [Role] = &[Role::Accountant, Role::Admin];
}

/// A use case's failure as the queue reads it: what can work later is retried (redelivered),
/// what never can is parked.
fn consumed(e: PaymentsError) -> ConsumeError {
    match e {
        PaymentsError::Store(_) | PaymentsError::Acquirer(_) | PaymentsError::ChangedMeanwhile => {
            ConsumeError::Retry(e.to_string())
        }
        other => ConsumeError::Poison(other.to_string()),
    }
}

// ------------------------------------------------------------------------------ the card

/// What `GET /payments/me` shows: the card on file, masked, and the payout details (moved here
/// from accounting later; null until then).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MyPayments {
    pub card: Option<CardDetails>,
    pub payout_details: Option<serde_json::Value>,
}

/// M7: one's own payment means, as the account copy says who is calling (any role: an
/// employee has no card, and sees none).
pub async fn my_payments(
    store: &(impl Cards + AccountCopies),
    claims: &Claims,
) -> Result<MyPayments, PaymentsError> {
    let caller = claims.caller(store).await?;
    let card = store.card(caller.account_id()).await?;
    Ok(MyPayments {
        card: card.as_ref().map(Card::masked),
        payout_details: None,
    })
}

/// M7, `PUT /payments/me/card`: the acquirer checks the token first; a token it refuses is
/// refused by name and nothing is written. Only the token and the card's last four digits (and
/// brand) are kept; a new card replaces the last.
pub async fn keep_card(
    store: &(impl Cards + AccountCopies),
    acquirer: &impl Acquirer,
    claims: &Claims,
    token: &str,
    now: DateTime<Utc>,
) -> Result<CardDetails, PaymentsError> {
    let client = claims.may::<Clients>(store).await?;
    let token = CardToken::validate(token).map_err(PaymentsError::Invalid)?;
    let details = match acquirer.verify(token.as_str()).await? {
        Verification::Accepted(details) => details,
        Verification::Refused(reason) => {
            return Err(PaymentsError::CardRefused {
                token: token.as_str().to_owned(),
                reason,
            })
        }
    };
    let card = Card::on_file(client.account_id(), &token, details, now);
    store.keep_card(&card).await?;
    tracing::info!(client_id = %card.client_id, last4 = %card.last4, "card kept on file");
    Ok(card.masked())
}

/// M7, `DELETE /payments/me/card`: the client's card is forgotten (a collection already
/// pending still charges the card it recorded). Answers whether there was one.
pub async fn forget_card(
    store: &(impl Cards + AccountCopies),
    claims: &Claims,
) -> Result<bool, PaymentsError> {
    let client = claims.may::<Clients>(store).await?;
    Ok(store.forget_card(client.account_id()).await?)
}

// ------------------------------------------------------------------------- collections

/// The consumer of billing's events: `Billing.CollectionRequested`; any other event is none of
/// its business. A payload that does not decode, or asks for nothing to collect, is poison.
pub async fn on_billing_event(
    store: &(impl Cards + Collections),
    acquirer: &impl Acquirer,
    event: &Envelope,
    now: DateTime<Utc>,
) -> Result<Outcome, ConsumeError> {
    match event.name.as_str() {
        "Billing.CollectionRequested" => {
            let requested = decode_collection_requested(event)
                .map_err(|e| ConsumeError::Poison(e.to_string()))?;
            collect(store, acquirer, &requested, &Cause::event(event), now)
                .await
                .map_err(consumed)
        }
        _ => Ok(Outcome::NotConcerned),
    }
}

/// The one event of a collection's settling: its id derived from the collection's key, so a
/// repeat of the same decision is the same event.
fn settled_event(
    collection: &Collection,
    settled: &Settled,
    cause: &Cause,
    now: DateTime<Utc>,
) -> Result<Envelope, PaymentsError> {
    let event = match settled {
        Settled::Succeeded(e) => Envelope::wrap(PRODUCER, e, cause, now)?,
        Settled::Failed(e) => Envelope::wrap(PRODUCER, e, cause, now)?,
    };
    Ok(event.once_for(&collection.collection_id))
}

/// M7: billing asks for an invoice's amount (one attempt). Duplicates and redeliveries charge
/// once: see the module's head.
pub async fn collect(
    store: &(impl Cards + Collections),
    acquirer: &impl Acquirer,
    requested: &CollectionRequested,
    cause: &Cause,
    now: DateTime<Utc>,
) -> Result<Outcome, PaymentsError> {
    let request = ValidRequest::validate(requested).map_err(PaymentsError::Invalid)?;
    let (invoice_id, attempt_no) = (request.invoice_id(), request.attempt());

    // Phase one: the collection recorded, pending (or voided at once: no card on file).
    let (recorded, fresh) = execute(|| async {
        if let Some(found) = store.collection(invoice_id, attempt_no).await? {
            return Ok(Attempt::Done((found, false)));
        }
        let card = store.card(request.client_id()).await?;
        let (collection, events) = match Collection::open(&request, card.as_ref(), now) {
            Opened::Pending(collection) => (collection, Vec::new()),
            Opened::Voided(collection, failed) => {
                let settled = Settled::Failed(failed);
                let event = settled_event(&collection, &settled, cause, now)?;
                (collection, vec![event])
            }
        };
        let saved = store.add_collection(&collection, &events).await?;
        Ok::<_, PaymentsError>(saved.attempt((collection, true)))
    })
    .await?;
    if fresh {
        tracing::info!(collection = %recorded.collection_id, status = %recorded.status, "collection recorded");
    }
    let Some((token, amount_cents, key)) = recorded.to_charge() else {
        return Ok(if fresh {
            Outcome::Applied
        } else {
            Outcome::Duplicate
        });
    };

    // Phase two: the acquirer asked under the collection's key, and its answer committed.
    let charge = acquirer.charge(token, amount_cents, key).await?;
    execute(|| async {
        let Some(before) = store.collection(invoice_id, attempt_no).await? else {
            return Err(PaymentsError::Invalid(format!(
                "collection {key} vanished after it was recorded"
            )));
        };
        let Some((after, settled)) = before.settle(&charge, now) else {
            // Another delivery of the request committed the same answer meanwhile.
            return Ok(Attempt::Done(Outcome::Duplicate));
        };
        let event = settled_event(&after, &settled, cause, now)?;
        let saved = store.change_collection(&before, &after, &[event]).await?;
        if saved == Saved::Done {
            tracing::info!(collection = %after.collection_id, status = %after.status, "collection settled");
        }
        Ok(saved.attempt(Outcome::Applied))
    })
    .await
}

/// M7's staff read: an invoice's collections, by attempt (accountants, admins).
pub async fn collections_of(
    store: &(impl Collections + AccountCopies),
    claims: &Claims,
    invoice_id: Uuid,
) -> Result<Vec<CollectionView>, PaymentsError> {
    claims.may::<Bookkeepers>(store).await?;
    let found = store.collections_of(invoice_id).await?;
    Ok(found.iter().map(Collection::view).collect())
}

/// The copy of accounts (`Account.*` events): once per event, and only forward in revision.
pub use ates_kernel::copies::sync_account;
