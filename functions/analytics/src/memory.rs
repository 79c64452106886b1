//! An in-memory [`AnalyticsStore`] for testing the use cases without AWS: each write is atomic
//! under one lock and checks what the DynamoDB store's conditions check.

use std::collections::{BTreeMap, HashMap, HashSet};

use ates_kernel::dynamo::StoreError;
use ates_kernel::event::Envelope;
use chrono::NaiveDate;
use uuid::Uuid;

use crate::ports::{
    AnalyticsStore, BestCompletions, DailyFigures, LiveGenerations, Movement, MovementProjection,
    Projected, Rebuilds, Title, Titles,
};
use crate::projection::{Completion, DayFigures, Generations, KnownBalance};
use crate::rebuild::Rebuild;

#[derive(Default)]
struct State {
    generations: Generations,
    balances: HashMap<(u32, Uuid), KnownBalance>,
    in_debt: HashMap<u32, i64>,
    figures: BTreeMap<(u32, NaiveDate), DayFigures>,
    best_days: HashMap<(u32, NaiveDate), Completion>,
    best_months: HashMap<(u32, String), Completion>,
    titles: HashMap<(u32, Uuid), Title>,
    inbox: HashSet<(String, Uuid)>,
    rebuilds: HashMap<Uuid, Rebuild>,
}

ates_kernel::memory_store!(MemoryStore(State));

impl MemoryStore {
    pub fn set_generations(&self, generations: Generations) {
        self.state.lock().generations = generations;
    }
}

fn keep_best<K: std::hash::Hash + Eq>(map: &mut HashMap<K, Completion>, key: K, c: &Completion) {
    match map.get(&key) {
        Some(kept) if !c.beats(kept) => {}
        _ => {
            map.insert(key, c.clone());
        }
    }
}

impl AnalyticsStore for MemoryStore {}

impl LiveGenerations for MemoryStore {
    async fn generations(&self) -> Result<Generations, StoreError> {
        Ok(self.state.lock().generations)
    }
}

impl Rebuilds for MemoryStore {
    async fn begin_rebuild(
        &self,
        rebuild: &Rebuild,
        after: &Generations,
    ) -> Result<bool, StoreError> {
        let mut state = self.state.lock();
        // As the table's conditions: no rebuild under way, and this one's record not there.
        if state.generations.rebuild_id.is_some()
            || state.rebuilds.contains_key(&rebuild.rebuild_id)
        {
            return Ok(false);
        }
        state.generations = *after;
        state.rebuilds.insert(rebuild.rebuild_id, rebuild.clone());
        Ok(true)
    }

    async fn settle_rebuild(
        &self,
        rebuild: &Rebuild,
        after: &Generations,
    ) -> Result<bool, StoreError> {
        let mut state = self.state.lock();
        if state.generations.rebuild_id != Some(rebuild.rebuild_id) {
            return Ok(false);
        }
        state.generations = *after;
        state.rebuilds.insert(rebuild.rebuild_id, rebuild.clone());
        Ok(true)
    }

    async fn rebuild(&self, id: Uuid) -> Result<Option<Rebuild>, StoreError> {
        Ok(self.state.lock().rebuilds.get(&id).cloned())
    }
}

impl MovementProjection for MemoryStore {
    async fn balance(
        &self,
        generation: u32,
        account: Uuid,
    ) -> Result<Option<KnownBalance>, StoreError> {
        Ok(self
            .state
            .lock()
            .balances
            .get(&(generation, account))
            .copied())
    }

    async fn keep_balance(
        &self,
        generation: u32,
        before: Option<&KnownBalance>,
        now: &KnownBalance,
    ) -> Result<bool, StoreError> {
        let mut state = self.state.lock();
        // The balance read is known by its sequence, as the table's condition checks it.
        let stored = state.balances.get(&(generation, now.account_id));
        if stored.map(|b| b.sequence) != before.map(|b| b.sequence) {
            return Ok(false);
        }
        state.balances.insert((generation, now.account_id), *now);
        *state.in_debt.entry(generation).or_default() += now.debt_change(before);
        Ok(true)
    }

    async fn add_movement(
        &self,
        generation: u32,
        movement: &Movement,
        event: &Envelope,
    ) -> Result<Projected, StoreError> {
        let mut state = self.state.lock();
        let consumer = format!("movement@g{generation}");
        if state.inbox.contains(&(consumer.clone(), event.id)) {
            return Ok(Projected::Duplicate);
        }
        state
            .figures
            .entry((generation, movement.business_date))
            .or_default()
            .add(movement.figures);
        state.inbox.insert((consumer, event.id));
        Ok(Projected::Applied)
    }

    async fn offer_completion(&self, generation: u32, c: &Completion) -> Result<(), StoreError> {
        let mut state = self.state.lock();
        keep_best(&mut state.best_days, (generation, c.business_date), c);
        keep_best(&mut state.best_months, (generation, c.month()), c);
        Ok(())
    }
}

impl Titles for MemoryStore {
    async fn record_title(
        &self,
        generation: u32,
        task: Uuid,
        title: &Title,
    ) -> Result<(), StoreError> {
        self.state
            .lock()
            .titles
            .insert((generation, task), title.clone());
        Ok(())
    }

    async fn title(&self, generation: u32, task: Uuid) -> Result<Option<Title>, StoreError> {
        Ok(self.state.lock().titles.get(&(generation, task)).cloned())
    }
}

impl DailyFigures for MemoryStore {
    async fn day_figures(
        &self,
        generation: u32,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<BTreeMap<NaiveDate, DayFigures>, StoreError> {
        Ok(self
            .state
            .lock()
            .figures
            .range((generation, from)..=(generation, to))
            .map(|((_, d), f)| (*d, *f))
            .collect())
    }

    async fn in_debt(&self, generation: u32) -> Result<i64, StoreError> {
        Ok(self
            .state
            .lock()
            .in_debt
            .get(&generation)
            .copied()
            .unwrap_or(0))
    }
}

impl BestCompletions for MemoryStore {
    async fn best_completions(
        &self,
        generation: u32,
        days: &[NaiveDate],
        months: &[String],
    ) -> Result<Vec<Completion>, StoreError> {
        let state = self.state.lock();
        let by_day = days
            .iter()
            .filter_map(|d| state.best_days.get(&(generation, *d)));
        let by_month = months
            .iter()
            .filter_map(|m| state.best_months.get(&(generation, m.clone())));
        Ok(by_day.chain(by_month).cloned().collect())
    }
}
