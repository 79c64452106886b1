//! An in-memory [`LedgerStore`] for testing the use cases without AWS: every write is atomic
//! under one lock and checks the same conditions the DynamoDB store's transaction does (the
//! inbox, the movement's key, the account's sequence, absent keys), so a use case that is right
//! here is right there.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use ates_kernel::contracts::accounts::AccountSnapshot;
use ates_kernel::copies::{AccountCopies, Locked};
use ates_kernel::dynamo::{Listed, StoreError};
use ates_kernel::event::Envelope;
use ates_kernel::job::{Cursor, Page, PageCommit};
use chrono::NaiveDate;
use uuid::Uuid;

use crate::close::{Close, CloseTotals};
use crate::error::AccountingError;
use crate::ledger::{Closing, Entry, LedgerAccount, Statement, Task};
use crate::payout::Leftover;
use crate::ports::{
    AccountPage, AccountProfiles, AuditLogs, BalanceListings, Booked, ClosePages, CloseReports,
    CloseStarts, CompanyEarnings, DayEarnings, EntryPage, LedgerAccounts, LedgerStore,
    PayoutHandover, Posting, Postings, PricedTasks,
};
use crate::store::PAGE_SIZE;

#[derive(Default)]
struct State {
    accounts: BTreeMap<Uuid, LedgerAccount>,
    tasks: HashMap<Uuid, Task>,
    inbox: HashSet<(String, Uuid)>,
    transactions: HashSet<String>,
    entries: HashMap<Uuid, Vec<Entry>>,
    statements: Vec<Statement>,
    earnings: BTreeMap<NaiveDate, DayEarnings>,
    closes: HashMap<Uuid, Close>,
    pages: HashSet<String>,
    work: VecDeque<Page>,
    published: Vec<Envelope>,
    /// What accounting kept of payouts before the move, for the hand-over to read.
    leftovers: Vec<Leftover>,
    /// Closings left before the store starts failing (a crash mid-page), if set.
    closings_until_failure: Option<usize>,
}

#[derive(Default)]
pub struct MemoryStore {
    state: Locked<State>,
}

impl MemoryStore {
    /// Every event committed so far, in order.
    pub fn published(&self) -> Vec<Envelope> {
        self.state.lock().published.clone()
    }

    /// The next page of work, as the work queue would deliver it.
    pub fn next_work(&self) -> Option<Page> {
        self.state.lock().work.pop_front()
    }

    /// Every ledger account.
    pub fn all_accounts(&self) -> Vec<LedgerAccount> {
        self.state.lock().accounts.values().cloned().collect()
    }

    /// Every audit line of every account.
    pub fn all_entries(&self) -> Vec<Entry> {
        self.state
            .lock()
            .entries
            .values()
            .flatten()
            .cloned()
            .collect()
    }

    pub fn statements(&self) -> Vec<Statement> {
        self.state.lock().statements.clone()
    }

    pub fn all_tasks(&self) -> Vec<Task> {
        self.state.lock().tasks.values().cloned().collect()
    }

    /// From now on, the store fails after `n` more account closings (a process dying mid-page).
    pub fn fail_after_closings(&self, n: Option<usize>) {
        self.state.lock().closings_until_failure = n;
    }
}

fn seen(state: &State, consumer: &str, event: &Envelope) -> bool {
    state.inbox.contains(&(consumer.to_owned(), event.id))
}

fn money_of(mut current: LedgerAccount, after: &LedgerAccount) -> LedgerAccount {
    let profile = current.profile.take();
    LedgerAccount {
        profile,
        ..after.clone()
    }
}

fn same_account(current: Option<&LedgerAccount>, before: Option<&LedgerAccount>) -> bool {
    match (current, before) {
        (None, None) => true,
        (Some(c), Some(b)) => c.sequence == b.sequence,
        _ => false,
    }
}

fn write_entry(state: &mut State, entry: &Entry) {
    state
        .entries
        .entry(entry.account_id)
        .or_default()
        .push(entry.clone());
    state.transactions.insert(entry.transaction_id.clone());
    state
        .earnings
        .entry(entry.business_date)
        .or_default()
        .add(DayEarnings::of(entry));
}

impl LedgerStore for MemoryStore {}

impl AccountCopies for MemoryStore {
    async fn account_copy(&self, id: Uuid) -> Result<Option<AccountSnapshot>, StoreError> {
        Ok(self.account(id).await?.and_then(|account| account.profile))
    }
}

impl LedgerAccounts for MemoryStore {
    async fn account(&self, id: Uuid) -> Result<Option<LedgerAccount>, StoreError> {
        Ok(self.state.lock().accounts.get(&id).cloned())
    }
}

impl AccountProfiles for MemoryStore {
    async fn save_profile(
        &self,
        before: Option<&LedgerAccount>,
        after: &LedgerAccount,
        consumer: &str,
        event: &Envelope,
    ) -> Result<Booked, StoreError> {
        let mut state = self.state.lock();
        if seen(&state, consumer, event) {
            return Ok(Booked::Duplicate);
        }
        let current = state.accounts.get(&after.account_id);
        let revision =
            |a: Option<&LedgerAccount>| a.and_then(|a| a.profile.as_ref()).map(|p| p.revision);
        if current.is_some() != before.is_some() || revision(current) != revision(before) {
            return Ok(Booked::Stale);
        }
        let updated = match current {
            Some(current) => LedgerAccount {
                profile: after.profile.clone(),
                ..current.clone()
            },
            None => after.clone(),
        };
        state.accounts.insert(after.account_id, updated);
        state.inbox.insert((consumer.to_owned(), event.id));
        Ok(Booked::Applied)
    }
}

impl PricedTasks for MemoryStore {
    async fn task(&self, id: Uuid) -> Result<Option<Task>, StoreError> {
        Ok(self.state.lock().tasks.get(&id).cloned())
    }

    async fn tasks(&self, ids: &[Uuid]) -> Result<Vec<Task>, StoreError> {
        let state = self.state.lock();
        Ok(ids
            .iter()
            .filter_map(|id| state.tasks.get(id).cloned())
            .collect())
    }

    async fn save_task(
        &self,
        before: Option<&Task>,
        after: &Task,
        events: &[Envelope],
    ) -> Result<Booked, StoreError> {
        let mut state = self.state.lock();
        // As the table's condition: as read, and a title is written once.
        if state.tasks.get(&after.task_id) != before || before.is_some_and(|t| t.title.is_some()) {
            return Ok(Booked::Stale);
        }
        state.tasks.insert(after.task_id, after.clone());
        state.published.extend_from_slice(events);
        Ok(Booked::Applied)
    }
}

impl Postings for MemoryStore {
    async fn post(&self, posting: &Posting<'_>) -> Result<Booked, StoreError> {
        let mut state = self.state.lock();
        let id = posting.after.account_id;
        if state.transactions.contains(&posting.entry.transaction_id) {
            return Ok(Booked::AlreadyPosted);
        }
        if !same_account(state.accounts.get(&id), posting.before)
            || posting
                .priced
                .is_some_and(|t| state.tasks.contains_key(&t.task_id))
        {
            return Ok(Booked::Stale);
        }
        let updated = match state.accounts.get(&id) {
            Some(current) => money_of(current.clone(), posting.after),
            None => posting.after.clone(),
        };
        state.accounts.insert(id, updated);
        if let Some(task) = posting.priced {
            state.tasks.insert(task.task_id, task.clone());
        }
        write_entry(&mut state, posting.entry);
        state.published.extend_from_slice(posting.events);
        Ok(Booked::Applied)
    }
}

impl AuditLogs for MemoryStore {
    async fn entries(
        &self,
        account: Uuid,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<EntryPage, AccountingError> {
        let mut entries: Vec<Entry> = self
            .state
            .lock()
            .entries
            .get(&account)
            .cloned()
            .unwrap_or_default();
        entries.sort_by_key(|e| std::cmp::Reverse(e.sequence));
        Ok(EntryPage::page_of(entries, limit, cursor)?)
    }
}

impl BalanceListings for MemoryStore {
    async fn list_accounts(
        &self,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<AccountPage, AccountingError> {
        let accounts = self.state.lock().accounts.values().cloned().collect();
        Ok(AccountPage::page_of(accounts, limit, cursor)?)
    }
}

impl CompanyEarnings for MemoryStore {
    async fn earnings(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<BTreeMap<NaiveDate, DayEarnings>, StoreError> {
        Ok(self
            .state
            .lock()
            .earnings
            .range(from..=to)
            .map(|(d, e)| (*d, *e))
            .collect())
    }
}

impl CloseReports for MemoryStore {
    async fn close(&self, job_id: Uuid) -> Result<Option<Close>, StoreError> {
        Ok(self.state.lock().closes.get(&job_id).cloned())
    }

    async fn account_count(&self) -> Result<u64, StoreError> {
        Ok(self.state.lock().accounts.len() as u64)
    }
}

impl CloseStarts for MemoryStore {
    async fn start_close(
        &self,
        close: &Close,
        consumer: &str,
        event: &Envelope,
    ) -> Result<Booked, StoreError> {
        let mut state = self.state.lock();
        if seen(&state, consumer, event) {
            return Ok(Booked::Duplicate);
        }
        if state.closes.contains_key(&close.job_id) {
            return Ok(Booked::Stale);
        }
        state.closes.insert(close.job_id, close.clone());
        let pages = Page::first_pages(
            close.job_id,
            close.progress.partitions,
            &event.correlation_id,
        );
        state.work.extend(pages);
        state.inbox.insert((consumer.to_owned(), event.id));
        Ok(Booked::Applied)
    }
}

impl ClosePages for MemoryStore {
    async fn accounts(&self, ids: &[Uuid]) -> Result<Vec<LedgerAccount>, StoreError> {
        let state = self.state.lock();
        Ok(ids
            .iter()
            .filter_map(|id| state.accounts.get(id).cloned())
            .collect())
    }

    async fn accounts_page(
        &self,
        partition: u32,
        cursor: Option<&Cursor>,
    ) -> Result<(Vec<Uuid>, Option<Cursor>), StoreError> {
        let after = cursor
            .and_then(|c| c.get("account_id"))
            .and_then(|id| id.parse::<Uuid>().ok());
        let state = self.state.lock();
        let mut ids: Vec<Uuid> = state
            .accounts
            .values()
            .filter(|a| a.partition() == partition)
            .map(|a| a.account_id)
            .filter(|id| after.is_none_or(|after| *id > after))
            .take(PAGE_SIZE + 1)
            .collect();
        let more = ids.len() > PAGE_SIZE;
        ids.truncate(PAGE_SIZE);
        let cursor = more
            .then(|| {
                ids.last()
                    .map(|id| Cursor::from([("account_id".to_owned(), id.to_string())]))
            })
            .flatten();
        Ok((ids, cursor))
    }

    async fn save_closing(
        &self,
        before: &LedgerAccount,
        closing: &Closing,
        events: &[Envelope],
    ) -> Result<Booked, StoreError> {
        let mut state = self.state.lock();
        match state.closings_until_failure {
            Some(0) => return Err(StoreError::Aws("the process died".into())),
            Some(n) => state.closings_until_failure = Some(n - 1),
            None => {}
        }
        // As the table's conditions: the account at the sequence read, and the day's statement
        // and payout not there yet (a closing without a payout leaves the sequence as it was).
        let closed_before = state.statements.iter().any(|s| {
            s.account_id == before.account_id && s.business_date == closing.statement.business_date
        });
        let paid_before = closing
            .payout
            .as_ref()
            .is_some_and(|p| state.transactions.contains(&p.transaction_id));
        if !same_account(state.accounts.get(&before.account_id), Some(before))
            || closed_before
            || paid_before
        {
            return Ok(Booked::Stale);
        }
        let current = state.accounts[&before.account_id].clone();
        state
            .accounts
            .insert(before.account_id, money_of(current, &closing.account));
        if let Some(payout) = &closing.payout {
            write_entry(&mut state, payout);
        }
        state.statements.push(closing.statement.clone());
        state.published.extend_from_slice(events);
        Ok(Booked::Applied)
    }

    async fn finish_page(
        &self,
        page: &Page,
        accounts: usize,
        totals: &CloseTotals,
        next: Option<&Page>,
    ) -> Result<PageCommit, StoreError> {
        let mut state = self.state.lock();
        let key = match next {
            Some(next) => next.work_key(),
            None => format!("end#{}#{}", page.job_id, page.partition),
        };
        if state.pages.contains(&key) {
            return Ok(PageCommit::Duplicate);
        }
        let Some(close) = state.closes.get_mut(&page.job_id) else {
            return Ok(PageCommit::UnknownJob);
        };
        close.progress.done += accounts as u64;
        close.totals.accounts_closed += totals.accounts_closed;
        close.totals.paid_cents += totals.paid_cents;
        close.totals.payouts += totals.payouts;
        close.totals.debts += totals.debts;
        if next.is_none() {
            close.progress.partitions_done += 1;
        }
        state.pages.insert(key);
        if let Some(next) = next {
            state.work.push_back(next.clone());
        }
        Ok(PageCommit::Done)
    }

    async fn finish_close(&self, close: &Close, event: &Envelope) -> Result<bool, StoreError> {
        let mut state = self.state.lock();
        let Some(stored) = state.closes.get_mut(&close.job_id) else {
            return Ok(false);
        };
        if stored.closed_at.is_some() {
            return Ok(false);
        }
        stored.closed_at = Some(event.occurred_at);
        state.published.push(event.clone());
        Ok(true)
    }
}

impl MemoryStore {
    /// What accounting kept of payouts before the move (a test's history).
    pub fn kept_before_the_move(&self, leftovers: Vec<Leftover>) {
        self.state.lock().leftovers = leftovers;
    }
}

impl PayoutHandover for MemoryStore {
    async fn payout_leftovers(
        &self,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listed<Leftover>, AccountingError> {
        let leftovers = self.state.lock().leftovers.clone();
        Ok(Listed::page_of(leftovers, limit, cursor)?)
    }

    async fn hand_over(&self, events: &[Envelope]) -> Result<(), StoreError> {
        let state = &mut *self.state.lock();
        for event in events {
            if !state.published.iter().any(|e| e.id == event.id) {
                state.published.push(event.clone());
            }
        }
        Ok(())
    }
}
