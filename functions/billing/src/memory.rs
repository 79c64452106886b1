//! An in-memory [`BillingStore`] for testing the use cases without AWS: every write is atomic
//! under one lock and checks the conditions a table's transaction would (a movement's key
//! absent, its period not issued, the version read, the idempotency key), so a use case that is
//! right here is right there.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use ates_kernel::contracts::clock::{Month, Week};
use ates_kernel::dynamo::{Listed, StoreError};
use ates_kernel::event::Envelope;
use ates_kernel::idempotency::AnswersInMemory;
use ates_kernel::usecase::Saved;
use chrono::NaiveDate;
use uuid::Uuid;

use crate::error::BillingError;
use crate::invoice::{Invoice, InvoiceStatus};
use crate::ledger::{Kind, Movement, Period, RevenueLine};
use crate::ports::{
    BillingStore, Bonus, Booked, Invoices, Invoicing, Listings, Periods, Posting, Postings,
    RevenueLines, Statements,
};
use crate::statement::{Statement, Worker};

#[derive(Default)]
struct State {
    ledger: Ledger,
    issued: BTreeSet<Period>,
    invoices: BTreeMap<Uuid, Invoice>,
    workers: HashMap<Uuid, Worker>,
    statements: BTreeMap<Uuid, Statement>,
    bonuses: BTreeMap<Uuid, Bonus>,
    answers: AnswersInMemory,
    published: Vec<Envelope>,
}

ates_kernel::memory_store!(MemoryStore(State) + published + replays);

impl BillingStore for MemoryStore {}

/// The ledger: every movement by key, and revenue's line of each (its projection).
#[derive(Default)]
struct Ledger {
    movements: BTreeMap<String, Movement>,
    lines: BTreeMap<String, RevenueLine>,
}

impl Ledger {
    /// A movement and its revenue line, as one write.
    fn add(&mut self, m: &Movement) {
        if let Some(line) = m.revenue_line() {
            self.lines.insert(line.key.clone(), line);
        }
        self.movements.insert(m.key.clone(), m.clone());
    }
}

impl MemoryStore {
    /// Revenue's projection lost (what a replay rebuilds): the ledger stays.
    pub fn lose_revenue_lines(&self) {
        self.state.lock().ledger.lines.clear();
    }

    /// Every movement posted, by key.
    pub fn movements(&self) -> Vec<Movement> {
        self.state
            .lock()
            .ledger
            .movements
            .values()
            .cloned()
            .collect()
    }

    pub fn invoices(&self) -> Vec<Invoice> {
        self.state.lock().invoices.values().cloned().collect()
    }

    pub fn statements(&self) -> Vec<Statement> {
        self.state.lock().statements.values().cloned().collect()
    }

    pub fn bonuses(&self) -> Vec<Bonus> {
        self.state.lock().bonuses.values().cloned().collect()
    }
}

fn same_kind(a: Period, b: Period) -> bool {
    matches!(
        (a, b),
        (Period::Week(_), Period::Week(_)) | (Period::Month(_), Period::Month(_))
    )
}

impl Periods for MemoryStore {
    async fn issued_from(&self, from: Period) -> Result<Vec<Period>, StoreError> {
        let state = self.state.lock();
        Ok(state
            .issued
            .iter()
            .filter(|p| same_kind(**p, from) && **p >= from)
            .copied()
            .collect())
    }

    async fn issue_period(&self, period: Period) -> Result<(), StoreError> {
        self.state.lock().issued.insert(period);
        Ok(())
    }
}

impl Postings for MemoryStore {
    async fn post(&self, posting: &Posting<'_>) -> Result<Booked, StoreError> {
        let mut guard = self.state.lock();
        let state = &mut *guard;
        if posting
            .movements
            .iter()
            .any(|m| state.ledger.movements.contains_key(&m.key))
        {
            return Ok(if state.answers.used(posting.keyed) {
                Booked::KeyUsed
            } else {
                Booked::AlreadyDone
            });
        }
        let open = !posting
            .movements
            .iter()
            .any(|m| state.issued.contains(&m.period));
        let saved = state.answers.commit(posting.keyed, open, || {
            for m in posting.movements {
                state.ledger.add(m);
            }
            if let Some(bonus) = posting.bonus {
                state.bonuses.insert(bonus.bonus_id, bonus.clone());
            }
            state.published.extend(posting.events.iter().cloned());
        });
        Ok(match saved {
            Saved::Done => Booked::Applied,
            Saved::KeyUsed => Booked::KeyUsed,
            Saved::Stale => Booked::Stale,
        })
    }

    async fn movements_of(&self, party: Uuid, period: Period) -> Result<Vec<Movement>, StoreError> {
        let state = self.state.lock();
        Ok(state
            .ledger
            .movements
            .values()
            .filter(|m| m.party == party && m.period == period)
            .filter(|m| !matches!(m.kind, Kind::Collection | Kind::Salary))
            .cloned()
            .collect())
    }
}

impl Invoicing for MemoryStore {
    async fn charged_clients(&self, week: Week) -> Result<Vec<Uuid>, StoreError> {
        let state = self.state.lock();
        let clients: BTreeSet<Uuid> = state
            .ledger
            .movements
            .values()
            .filter(|m| m.kind == Kind::Charge && m.period == Period::Week(week))
            .map(|m| m.party)
            .collect();
        Ok(clients.into_iter().collect())
    }

    async fn issue_invoice(
        &self,
        invoice: &Invoice,
        events: &[Envelope],
    ) -> Result<Booked, StoreError> {
        let mut state = self.state.lock();
        if state.invoices.contains_key(&invoice.invoice_id) {
            return Ok(Booked::AlreadyDone);
        }
        state.invoices.insert(invoice.invoice_id, invoice.clone());
        state.published.extend(events.iter().cloned());
        Ok(Booked::Applied)
    }
}

impl Invoices for MemoryStore {
    async fn invoice(&self, id: Uuid) -> Result<Option<Invoice>, StoreError> {
        Ok(self.state.lock().invoices.get(&id).cloned())
    }

    async fn save_invoice(
        &self,
        before: &Invoice,
        after: &Invoice,
        movement: Option<&Movement>,
        events: &[Envelope],
    ) -> Result<Booked, StoreError> {
        let mut state = self.state.lock();
        if movement.is_some_and(|m| state.ledger.movements.contains_key(&m.key)) {
            return Ok(Booked::AlreadyDone);
        }
        if state.invoices.get(&before.invoice_id).map(|i| i.version) != Some(before.version) {
            return Ok(Booked::Stale);
        }
        state.invoices.insert(after.invoice_id, after.clone());
        if let Some(m) = movement {
            state.ledger.add(m);
        }
        state.published.extend(events.iter().cloned());
        Ok(Booked::Applied)
    }

    async fn invoices_in(&self, status: InvoiceStatus) -> Result<Vec<Invoice>, StoreError> {
        let state = self.state.lock();
        Ok(state
            .invoices
            .values()
            .filter(|i| i.status == status)
            .cloned()
            .collect())
    }
}

impl Statements for MemoryStore {
    async fn workers_to_state(&self, month: Month) -> Result<Vec<Uuid>, StoreError> {
        let state = self.state.lock();
        let mut workers: BTreeSet<Uuid> = state
            .ledger
            .movements
            .values()
            .filter(|m| m.period == Period::Month(month) && m.earning_cents() != 0)
            .map(|m| m.party)
            .collect();
        workers.extend(
            state
                .workers
                .values()
                .filter(|w| w.carried_cents < 0)
                .map(|w| w.worker_id),
        );
        Ok(workers.into_iter().collect())
    }

    async fn worker(&self, id: Uuid) -> Result<Option<Worker>, StoreError> {
        Ok(self.state.lock().workers.get(&id).cloned())
    }

    async fn statement(&self, id: Uuid) -> Result<Option<Statement>, StoreError> {
        Ok(self.state.lock().statements.get(&id).cloned())
    }

    async fn issue_statement(
        &self,
        before: Option<&Worker>,
        after: &Worker,
        statement: &Statement,
        events: &[Envelope],
    ) -> Result<Booked, StoreError> {
        let mut state = self.state.lock();
        if state.statements.contains_key(&statement.statement_id) {
            return Ok(Booked::AlreadyDone);
        }
        if state.workers.get(&after.worker_id).map(|w| w.version) != before.map(|w| w.version) {
            return Ok(Booked::Stale);
        }
        state.workers.insert(after.worker_id, after.clone());
        state
            .statements
            .insert(statement.statement_id, statement.clone());
        state.published.extend(events.iter().cloned());
        Ok(Booked::Applied)
    }

    async fn save_statement(
        &self,
        before: &Statement,
        after: &Statement,
        movement: &Movement,
    ) -> Result<Booked, StoreError> {
        let mut state = self.state.lock();
        if state.ledger.movements.contains_key(&movement.key) {
            return Ok(Booked::AlreadyDone);
        }
        if state
            .statements
            .get(&before.statement_id)
            .map(|s| s.version)
            != Some(before.version)
        {
            return Ok(Booked::Stale);
        }
        state.statements.insert(after.statement_id, after.clone());
        state.ledger.add(movement);
        Ok(Booked::Applied)
    }
}

impl Listings for MemoryStore {
    async fn invoices_of_client(
        &self,
        client: Uuid,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listed<Invoice>, BillingError> {
        let mut items: Vec<Invoice> = self
            .invoices()
            .into_iter()
            .filter(|i| i.client_id == client)
            .collect();
        items.sort_by_key(|i| std::cmp::Reverse(i.week));
        Ok(Listed::page_of(items, limit, cursor)?)
    }

    async fn invoices_where(
        &self,
        week: Option<Week>,
        status: Option<InvoiceStatus>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listed<Invoice>, BillingError> {
        let mut items: Vec<Invoice> = self
            .invoices()
            .into_iter()
            .filter(|i| week.is_none_or(|w| i.week == w) && status.is_none_or(|s| i.status == s))
            .collect();
        items.sort_by(|a, b| (b.week, a.client_id).cmp(&(a.week, b.client_id)));
        Ok(Listed::page_of(items, limit, cursor)?)
    }

    async fn statements_of_worker(
        &self,
        worker: Uuid,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listed<Statement>, BillingError> {
        let mut items: Vec<Statement> = self
            .statements()
            .into_iter()
            .filter(|s| s.worker_id == worker)
            .collect();
        items.sort_by_key(|s| std::cmp::Reverse(s.month));
        Ok(Listed::page_of(items, limit, cursor)?)
    }

    async fn statements_of_month(
        &self,
        month: Month,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listed<Statement>, BillingError> {
        let items: Vec<Statement> = self
            .statements()
            .into_iter()
            .filter(|s| s.month == month)
            .collect();
        Ok(Listed::page_of(items, limit, cursor)?)
    }

    async fn bonuses(
        &self,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listed<Bonus>, BillingError> {
        let mut items = MemoryStore::bonuses(self);
        items.sort_by_key(|b| std::cmp::Reverse(b.granted_at));
        Ok(Listed::page_of(items, limit, cursor)?)
    }

    async fn revenue_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<RevenueLine>, StoreError> {
        let state = self.state.lock();
        Ok(state
            .ledger
            .lines
            .values()
            .filter(|l| (from..=to).contains(&l.date))
            .cloned()
            .collect())
    }
}

impl RevenueLines for MemoryStore {
    async fn project_replayed(&self, lines: &[RevenueLine]) -> Result<usize, StoreError> {
        let mut state = self.state.lock();
        let mut written = 0;
        for line in lines {
            if state.ledger.movements.contains_key(&line.key) {
                state.ledger.lines.insert(line.key.clone(), line.clone());
                written += 1;
            }
        }
        Ok(written)
    }
}
