//! In-memory stores for testing the use cases without AWS: every write is atomic under one lock
//! and checks the same conditions the DynamoDB store's transaction does (a collection that must
//! not exist yet, the version read), so a use case that is right here is right there. An
//! acquirer the tests steer answers as the simulated one does, keeps every charge by its
//! idempotency key, and can lose its answer once after charging (a crash between the charge and
//! the commit). A bank the tests steer does the same for transfers.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use ates_kernel::dynamo::StoreError;
use ates_kernel::event::Envelope;
use uuid::Uuid;

use crate::acquirer::SimulatedAcquirer;
use crate::bank::SimulatedBank;
use crate::card::Card;
use crate::collection::{Charge, Collection};
use crate::payout::{Iban, Payout, PayoutDetails, Transfer};
use crate::ports::{
    Acquirer, Bank, Cards, Collections, PaymentsStore, PayoutDetailsBook, Payouts, Saved,
    Unreachable, Verification,
};

#[derive(Default)]
struct State {
    cards: HashMap<Uuid, Card>,
    collections: BTreeMap<(Uuid, u32), Collection>,
    details: HashMap<Uuid, PayoutDetails>,
    payouts: BTreeMap<(Uuid, String), Payout>,
    published: Vec<Envelope>,
}

ates_kernel::memory_store!(MemoryStore(State) + published);

impl PaymentsStore for MemoryStore {}

impl Cards for MemoryStore {
    async fn card(&self, client_id: Uuid) -> Result<Option<Card>, StoreError> {
        Ok(self.state.lock().cards.get(&client_id).cloned())
    }

    async fn keep_card(&self, card: &Card) -> Result<(), StoreError> {
        self.state.lock().cards.insert(card.client_id, card.clone());
        Ok(())
    }

    async fn forget_card(&self, client_id: Uuid) -> Result<bool, StoreError> {
        Ok(self.state.lock().cards.remove(&client_id).is_some())
    }
}

impl Collections for MemoryStore {
    async fn collection(
        &self,
        invoice_id: Uuid,
        attempt: u32,
    ) -> Result<Option<Collection>, StoreError> {
        Ok(self
            .state
            .lock()
            .collections
            .get(&(invoice_id, attempt))
            .cloned())
    }

    async fn collections_of(&self, invoice_id: Uuid) -> Result<Vec<Collection>, StoreError> {
        Ok(self
            .state
            .lock()
            .collections
            .range((invoice_id, 0)..=(invoice_id, u32::MAX))
            .map(|(_, c)| c.clone())
            .collect())
    }

    async fn add_collection(
        &self,
        collection: &Collection,
        events: &[Envelope],
    ) -> Result<Saved, StoreError> {
        let state = &mut *self.state.lock();
        let key = (collection.invoice_id, collection.attempt);
        if state.collections.contains_key(&key) {
            return Ok(Saved::Stale);
        }
        state.collections.insert(key, collection.clone());
        state.published.extend(events.iter().cloned());
        Ok(Saved::Done)
    }

    async fn change_collection(
        &self,
        before: &Collection,
        after: &Collection,
        events: &[Envelope],
    ) -> Result<Saved, StoreError> {
        let state = &mut *self.state.lock();
        let key = (before.invoice_id, before.attempt);
        if state.collections.get(&key).map(|c| c.version) != Some(before.version) {
            return Ok(Saved::Stale);
        }
        state.collections.insert(key, after.clone());
        state.published.extend(events.iter().cloned());
        Ok(Saved::Done)
    }
}

impl PayoutDetailsBook for MemoryStore {
    async fn payout_details(&self, account_id: Uuid) -> Result<Option<PayoutDetails>, StoreError> {
        Ok(self.state.lock().details.get(&account_id).cloned())
    }

    async fn keep_payout_details(&self, details: &PayoutDetails) -> Result<(), StoreError> {
        self.state
            .lock()
            .details
            .insert(details.account_id, details.clone());
        Ok(())
    }
}

impl Payouts for MemoryStore {
    async fn payout(
        &self,
        account_id: Uuid,
        payout_id: &str,
    ) -> Result<Option<Payout>, StoreError> {
        Ok(self
            .state
            .lock()
            .payouts
            .get(&(account_id, payout_id.to_owned()))
            .cloned())
    }

    async fn payouts_of(&self, account_id: Uuid) -> Result<Vec<Payout>, StoreError> {
        Ok(self
            .state
            .lock()
            .payouts
            .iter()
            .filter(|((account, _), _)| *account == account_id)
            .map(|(_, p)| p.clone())
            .collect())
    }

    async fn waiting_payouts_of(&self, account_id: Uuid) -> Result<Vec<Payout>, StoreError> {
        let mut payouts = self.payouts_of(account_id).await?;
        payouts.retain(Payout::waits);
        Ok(payouts)
    }

    async fn add_payout(&self, payout: &Payout, events: &[Envelope]) -> Result<Saved, StoreError> {
        let state = &mut *self.state.lock();
        let key = (payout.account_id, payout.payout_id.clone());
        if state.payouts.contains_key(&key) {
            return Ok(Saved::Stale);
        }
        state.payouts.insert(key, payout.clone());
        state.published.extend(events.iter().cloned());
        Ok(Saved::Done)
    }

    async fn change_payout(
        &self,
        before: &Payout,
        after: &Payout,
        events: &[Envelope],
    ) -> Result<Saved, StoreError> {
        let state = &mut *self.state.lock();
        let key = (before.account_id, before.payout_id.clone());
        if state.payouts.get(&key).map(|p| p.version) != Some(before.version) {
            return Ok(Saved::Stale);
        }
        state.payouts.insert(key, after.clone());
        state.published.extend(events.iter().cloned());
        Ok(Saved::Done)
    }
}

/// One charge the acquirer made: what it was asked and what it answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charged {
    pub token: String,
    pub amount_cents: i64,
    pub answer: Charge,
}

/// An acquirer the tests steer: the simulated acquirer's answers, each charge kept by its
/// idempotency key (a key seen before answers the first charge again and charges nothing).
#[derive(Default)]
pub struct FakeAcquirer {
    charges: Mutex<BTreeMap<String, Charged>>,
    asked: AtomicUsize,
    lose_next_answer: AtomicBool,
    unreachable: AtomicBool,
}

impl FakeAcquirer {
    /// Every charge made, by idempotency key: money moved once per key.
    pub fn charges(&self) -> BTreeMap<String, Charged> {
        self.charges
            .lock()
            .expect("no test panicked holding the lock")
            .clone()
    }

    /// How often it was asked to charge, repeats included.
    pub fn asked(&self) -> usize {
        self.asked.load(Ordering::SeqCst)
    }

    /// The next charge is made, but its answer never reaches payments (the function stops
    /// between the charge and the commit).
    pub fn lose_the_next_answer(&self) {
        self.lose_next_answer.store(true, Ordering::SeqCst);
    }

    /// From now on the acquirer cannot be reached (`true`), or can (`false`).
    pub fn unreachable(&self, down: bool) {
        self.unreachable.store(down, Ordering::SeqCst);
    }
}

impl Acquirer for FakeAcquirer {
    async fn verify(&self, token: &str) -> Result<Verification, Unreachable> {
        if self.unreachable.load(Ordering::SeqCst) {
            return Err(Unreachable("the acquirer is down".into()));
        }
        Ok(SimulatedAcquirer::verification(token))
    }

    async fn charge(
        &self,
        token: &str,
        amount_cents: i64,
        idempotency_key: &str,
    ) -> Result<Charge, Unreachable> {
        if self.unreachable.load(Ordering::SeqCst) {
            return Err(Unreachable("the acquirer is down".into()));
        }
        self.asked.fetch_add(1, Ordering::SeqCst);
        let answer = {
            let mut charges = self
                .charges
                .lock()
                .expect("no test panicked holding the lock");
            let charged = charges
                .entry(idempotency_key.to_owned())
                .or_insert_with(|| Charged {
                    token: token.to_owned(),
                    amount_cents,
                    answer: SimulatedAcquirer::answer(token, idempotency_key),
                });
            charged.answer.clone()
        };
        if self.lose_next_answer.swap(false, Ordering::SeqCst) {
            return Err(Unreachable("the answer was lost after the charge".into()));
        }
        Ok(answer)
    }
}

/// One transfer the bank made (or refused): where to, how much, and its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub iban: String,
    pub amount_cents: i64,
    pub answer: Transfer,
}

/// A bank the tests steer: the simulated bank's answers, each transfer kept by its idempotency
/// key (a key seen before answers the first transfer again and sends nothing).
#[derive(Default)]
pub struct FakeBank {
    transfers: Mutex<BTreeMap<String, Sent>>,
    lose_next_answer: AtomicBool,
    unreachable: AtomicBool,
}

impl FakeBank {
    /// Every transfer, by idempotency key: money sent once per key.
    pub fn transfers(&self) -> BTreeMap<String, Sent> {
        self.transfers
            .lock()
            .expect("no test panicked holding the lock")
            .clone()
    }

    /// What the bank sent (refusals left out), in cents.
    pub fn sent_cents(&self) -> i64 {
        self.transfers()
            .values()
            .filter(|t| matches!(t.answer, Transfer::Sent { .. }))
            .map(|t| t.amount_cents)
            .sum()
    }

    /// The next transfer is made, but its answer never reaches payments.
    pub fn lose_the_next_answer(&self) {
        self.lose_next_answer.store(true, Ordering::SeqCst);
    }

    /// From now on the bank cannot be reached (`true`), or can (`false`).
    pub fn unreachable(&self, down: bool) {
        self.unreachable.store(down, Ordering::SeqCst);
    }
}

impl Bank for FakeBank {
    async fn transfer(
        &self,
        to: &Iban,
        amount_cents: i64,
        idempotency_key: &str,
    ) -> Result<Transfer, Unreachable> {
        if self.unreachable.load(Ordering::SeqCst) {
            return Err(Unreachable("the bank is down".into()));
        }
        let answer = {
            let mut transfers = self
                .transfers
                .lock()
                .expect("no test panicked holding the lock");
            let sent = transfers
                .entry(idempotency_key.to_owned())
                .or_insert_with(|| Sent {
                    iban: to.as_str().to_owned(),
                    amount_cents,
                    answer: SimulatedBank::answer(to, idempotency_key),
                });
            sent.answer.clone()
        };
        if self.lose_next_answer.swap(false, Ordering::SeqCst) {
            return Err(Unreachable("the answer was lost after the transfer".into()));
        }
        Ok(answer)
    }
}
