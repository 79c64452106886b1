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

use ates_kernel::contracts::accounting::{PayoutDetailsHandedOver, PayoutMade};
use ates_kernel::contracts::billing::{
    decode_collection_requested, decode_statement_issued, CollectionRequested,
};
use ates_kernel::event::{Cause, Envelope};
use ates_kernel::identity::{AccountCopies, Claims, Rights, Role};
use ates_kernel::inbox::{ConsumeError, Outcome};
use ates_kernel::usecase::Failure;
use ates_kernel::usecase::{execute, Attempt};
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::card::{Card, CardDetails, CardToken};
use crate::collection::{Collection, CollectionView, Opened, Settled, ValidRequest};
use crate::error::PaymentsError;
use crate::payout::{Iban, Payout, PayoutDetails, PayoutView, Purpose, Request, Status};
pub use crate::ports::{
    Acquirer, Bank, Cards, Collections, PayoutDetailsBook, Payouts, Saved, Verification,
};
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
        PaymentsError::Failed(Failure::Store(_) | Failure::ChangedMeanwhile)
        | PaymentsError::Partner(_) => ConsumeError::Retry(e.to_string()),
        other => ConsumeError::Poison(other.to_string()),
    }
}

// ------------------------------------------------------------------------------ the card

/// What `GET /payments/me` shows: the card on file, masked, the payout details, and the
/// payouts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MyPayments {
    pub card: Option<CardDetails>,
    pub payout_details: PayoutDetailsView,
    /// Newest first.
    pub payouts: Vec<PayoutView>,
}

/// M7: one's own payment means, as the account copy says who is calling (any role: an
/// employee has no card, and sees none; a client is paid nothing, and sees no payouts).
pub async fn my_payments(
    store: &(impl Cards + PayoutDetailsBook + Payouts + AccountCopies),
    claims: &Claims,
) -> Result<MyPayments, PaymentsError> {
    let me = claims.caller(store).await?.account_id();
    let card = store.card(me).await?;
    let mut payouts = store.payouts_of(me).await?;
    payouts.sort_by_key(|p| std::cmp::Reverse(p.requested_at));
    Ok(MyPayments {
        card: card.as_ref().map(Card::masked),
        payout_details: details_view(store.payout_details(me).await?, &payouts),
        payouts: payouts.iter().map(Payout::view).collect(),
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

// ----------------------------------------------------------------------------- payouts

/// `GET /accounting/me/payout-details` (the contract accounting had; payments answers it now):
/// the IBAN masked, and what waits for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PayoutDetailsView {
    pub iban: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
    /// Payouts held for want of an IBAN (none given, or the bank refused the last).
    pub held_transfers: usize,
    pub held_cents: i64,
}

/// `payouts`: the account's waiting payouts (or more): the held among them are counted.
fn details_view(details: Option<PayoutDetails>, payouts: &[Payout]) -> PayoutDetailsView {
    let held: Vec<&Payout> = payouts
        .iter()
        .filter(|p| p.status == Status::Held)
        .collect();
    PayoutDetailsView {
        iban: details.as_ref().map(|d| d.iban.masked()),
        updated_at: details.map(|d| d.updated_at),
        held_transfers: held.len(),
        held_cents: held.iter().map(|p| p.amount_cents).sum(),
    }
}

/// M7 (phase 1's B5, moved here): one's own payout details (any signed-in account).
pub async fn payout_details(
    store: &(impl PayoutDetailsBook + Payouts + AccountCopies),
    claims: &Claims,
) -> Result<PayoutDetailsView, PaymentsError> {
    let me = claims.caller(store).await?.account_id();
    Ok(details_view(
        store.payout_details(me).await?,
        &store.waiting_payouts_of(me).await?,
    ))
}

/// M7, `PUT /accounting/me/payout-details`: the caller's IBAN (checked by its checksum; a bad
/// one is refused and nothing written). Payouts held for want of it go to the bank now.
pub async fn register_payout_details(
    store: &(impl PayoutDetailsBook + Payouts + AccountCopies),
    bank: &impl Bank,
    claims: &Claims,
    iban: &str,
    cause: &Cause,
    now: DateTime<Utc>,
) -> Result<PayoutDetailsView, PaymentsError> {
    let me = claims.caller(store).await?.account_id();
    let iban = Iban::parse(iban).map_err(|e| PaymentsError::Invalid(e.to_string()))?;
    let details = PayoutDetails {
        account_id: me,
        iban,
        updated_at: now,
    };
    store.keep_payout_details(&details).await?;
    // The details are kept whatever the bank says: a payout it could not take now stays
    // pending under its key and goes again with the next details or delivery.
    if let Err(e) = send_waiting(store, bank, &details, cause, now).await {
        tracing::warn!(error = %e, "waiting payouts not sent now");
    }
    payout_details(store, claims).await
}

/// The one-off move of accounting's details (`PayoutDetails.HandedOver`): kept unless payments
/// has newer ones (the employee gave new details here after the move began); payouts held for
/// want of them go now.
pub async fn take_payout_details(
    store: &(impl PayoutDetailsBook + Payouts),
    bank: &impl Bank,
    event: &Envelope,
    now: DateTime<Utc>,
) -> Result<Outcome, ConsumeError> {
    let handed: PayoutDetailsHandedOver = event
        .decode()
        .map_err(|e| ConsumeError::Poison(e.to_string()))?;
    let iban = Iban::parse(&handed.iban).map_err(|e| ConsumeError::Poison(e.to_string()))?;
    let details = PayoutDetails {
        account_id: handed.account_id,
        iban,
        updated_at: handed.updated_at,
    };
    let kept = store
        .payout_details(details.account_id)
        .await
        .map_err(|e| consumed(e.into()))?;
    if !details.newer_than(kept.as_ref()) {
        return Ok(Outcome::Superseded);
    }
    store
        .keep_payout_details(&details)
        .await
        .map_err(|e| consumed(e.into()))?;
    send_waiting(store, bank, &details, &Cause::event(event), now)
        .await
        .map_err(consumed)?;
    Ok(Outcome::Applied)
}

/// The consumer of payout requests: accounting's `Payout.Made` (phase 1's day) and billing's
/// `Billing.StatementIssued` with a salary (phase 2's month); a statement with no salary, or
/// any other event, is none of its business.
pub async fn on_payout_request(
    store: &(impl PayoutDetailsBook + Payouts),
    bank: &impl Bank,
    event: &Envelope,
    now: DateTime<Utc>,
) -> Result<Outcome, ConsumeError> {
    let poison = |e: ates_kernel::event::EventError| ConsumeError::Poison(e.to_string());
    let request = match event.name.as_str() {
        "Payout.Made" => {
            let made: PayoutMade = event.decode().map_err(poison)?;
            Request {
                payout_id: made.payout_id,
                account_id: made.account_id,
                amount_cents: made.amount_cents,
                purpose: Purpose::DailyPayout {
                    business_date: made.business_date,
                },
            }
        }
        "Billing.StatementIssued" => {
            let statement = decode_statement_issued(event).map_err(poison)?;
            if statement.salary_cents == 0 {
                return Ok(Outcome::NotConcerned);
            }
            Request {
                payout_id: format!("salary:{}:{}", statement.worker_id, statement.month),
                account_id: statement.worker_id,
                amount_cents: statement.salary_cents,
                purpose: Purpose::Salary {
                    month: statement.month,
                },
            }
        }
        _ => return Ok(Outcome::NotConcerned),
    };
    pay_out(store, bank, request, &Cause::event(event), now)
        .await
        .map_err(consumed)
}

/// M7: a payout recorded (held without details, pending with them), then handed to the bank.
/// Duplicates and redeliveries pay once: the payout's id is its key, and a pending payout goes
/// again under its hand-over's key, which the bank answers as it did the first time.
pub async fn pay_out(
    store: &(impl PayoutDetailsBook + Payouts),
    bank: &impl Bank,
    request: Request,
    cause: &Cause,
    now: DateTime<Utc>,
) -> Result<Outcome, PaymentsError> {
    let request = request.validate().map_err(PaymentsError::Invalid)?;
    let (recorded, fresh) = execute(|| async {
        if let Some(found) = store.payout(request.account_id, &request.payout_id).await? {
            return Ok(Attempt::Done((found, false)));
        }
        let details = store.payout_details(request.account_id).await?;
        let payout = Payout::open(request.clone(), details.as_ref(), now);
        let saved = store.add_payout(&payout, &[]).await?;
        Ok::<_, PaymentsError>(saved.attempt((payout, true)))
    })
    .await?;
    if fresh {
        tracing::info!(payout = %recorded.payout_id, status = recorded.status.as_str(), "payout recorded");
    }
    let recorded = released_if_details_came(store, recorded).await?;
    send(store, bank, &recorded, cause, now).await?;
    Ok(if fresh {
        Outcome::Applied
    } else {
        Outcome::Duplicate
    })
}

/// A payout recorded held is released if details arrived meanwhile: their registration lists the
/// account's payouts after it keeps the details, and this reads the details after the payout is
/// written, so one of the two always sees the other and nothing stays held beside an IBAN.
async fn released_if_details_came(
    store: &(impl PayoutDetailsBook + Payouts),
    payout: Payout,
) -> Result<Payout, PaymentsError> {
    if payout.status != Status::Held {
        return Ok(payout);
    }
    let Some(details) = store.payout_details(payout.account_id).await? else {
        return Ok(payout);
    };
    let Some(pending) = payout.release(&details.iban) else {
        return Ok(payout);
    };
    Ok(match store.change_payout(&payout, &pending, &[]).await? {
        Saved::Done => pending,
        // The registration released it: it sends it.
        _ => payout,
    })
}

/// Every payout of the account that waits (held, or pending from a hand-over whose answer was
/// lost) goes to the bank at `details`.
async fn send_waiting(
    store: &(impl PayoutDetailsBook + Payouts),
    bank: &impl Bank,
    details: &PayoutDetails,
    cause: &Cause,
    now: DateTime<Utc>,
) -> Result<(), PaymentsError> {
    for waiting in store.waiting_payouts_of(details.account_id).await? {
        let pending = match waiting.release(&details.iban) {
            Some(pending) => match store.change_payout(&waiting, &pending, &[]).await? {
                Saved::Done => pending,
                // Another request released it meanwhile: that one sends it.
                _ => continue,
            },
            None => waiting,
        };
        send(store, bank, &pending, cause, now).await?;
    }
    Ok(())
}

/// Phase two: the bank asked under the hand-over's key, and its answer committed with a
/// salary's confirmation. Nothing to do for a payout that is not pending.
async fn send(
    store: &impl Payouts,
    bank: &impl Bank,
    payout: &Payout,
    cause: &Cause,
    now: DateTime<Utc>,
) -> Result<(), PaymentsError> {
    let Some((iban, amount_cents, key)) = payout.to_send() else {
        return Ok(());
    };
    let answer = bank.transfer(iban, amount_cents, &key).await?;
    execute(|| async {
        let Some(before) = store.payout(payout.account_id, &payout.payout_id).await? else {
            return Err(PaymentsError::Invalid(format!(
                "payout {key} vanished after it was recorded"
            )));
        };
        if before.attempt != payout.attempt {
            // A later hand-over is the one that counts now.
            return Ok(Attempt::Done(()));
        }
        let Some((after, paid)) = before.settle(&answer, now) else {
            // Another delivery committed the same answer meanwhile.
            return Ok(Attempt::Done(()));
        };
        let events = match &paid {
            Some(paid) => vec![Envelope::wrap(PRODUCER, paid, cause, now)?.once_for(&after.payout_id)],
            None => Vec::new(),
        };
        let saved = store.change_payout(&before, &after, &events).await?;
        if saved == Saved::Done {
            tracing::info!(payout = %after.payout_id, status = after.status.as_str(), refused = ?after.refused, "payout settled");
        }
        Ok(saved.attempt(()))
    })
    .await
}

/// The copy of accounts (`Account.*` events): once per event, and only forward in revision.
pub use ates_kernel::copies::sync_account;
