//! The analytics table (DynamoDB). Every projection item is under its generation `G<g>`:
//! - `META` / `GENERATIONS`: which generation answers, and which a rebuild is filling;
//! - `REBUILD#<id>` / `REBUILD`: a rebuild (N4) and how it ended;
//! - `G<g>#MOVE#<event id>` / `MOVE`: a movement kept once (its key), with what it adds to its
//!   day; the table's stream hands it to `analytics-fold-figures` ([`additions`]);
//! - `G<g>#EARNINGS#<shard>` / `<date>`: the company's fees and rewards of a day, folded from
//!   the kept movements a stream batch at a time, into one of 32 shards a batch;
//! - `FOLD#<stream record id>` / `FOLD`: how far a fold got (the kernel's `fold`);
//! - `G<g>#BALANCE#<account>` / `BALANCE`: an employee's latest known balance and its sequence;
//! - `G<g>#DEBT#<shard>` / `DEBT`: how many employees (of the shard) are in debt;
//! - `G<g>#BEST#<date>` / `DAY` and `G<g>#BEST#<yyyy-mm>` / `MONTH`: the best completion of a
//!   day and of a month (N3), written only when beaten;
//! - `G<g>#TITLE#<task>` / `TITLE`: a task's title and jira id;
//! - `INBOX#<consumer>#<event id>` / `INBOX`: account events applied (and, until session 20,
//!   movements applied to a generation: `analytics.record-movement@g<g>`);
//! - `ACCOUNT#<id>` / `ACCOUNT`: the copy of an account the caller check reads (in no
//!   generation).

use std::collections::{BTreeMap, HashMap};

use ates_kernel::dynamo::{
    from_item, get_n, key, n, put, s, to_item, update, Item, StoreError, Transaction,
};
use ates_kernel::event::Envelope;
use ates_kernel::fold::{self, Addition, DynamoDbRecord};
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use chrono::{NaiveDate, SecondsFormat};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ports::{
    AnalyticsStore, BestCompletions, DailyFigures, LiveGenerations, Movement, MovementProjection,
    Projected, Rebuilds, Title, Titles,
};
use crate::projection::{shard, Completion, DayFigures, Generations, KnownBalance, SHARDS};
use crate::rebuild::Rebuild;

ates_kernel::table_store!(Store + copies(SYNC_ACCOUNT));

fn balance_key(generation: u32, account: Uuid) -> Item {
    key(format!("G{generation}#BALANCE#{account}"), "BALANCE")
}

fn debt_key(generation: u32, shard: u32) -> Item {
    key(format!("G{generation}#DEBT#{shard}"), "DEBT")
}

fn best_day_key(generation: u32, date: NaiveDate) -> Item {
    key(format!("G{generation}#BEST#{date}"), "DAY")
}

fn best_month_key(generation: u32, month: &str) -> Item {
    key(format!("G{generation}#BEST#{month}"), "MONTH")
}

fn title_key(generation: u32, task: Uuid) -> Item {
    key(format!("G{generation}#TITLE#{task}"), "TITLE")
}

impl Store {
    /// Writes `c` under `key` if nothing better is there. A read first (most rewards do not
    /// beat the day's best), so the day's item is written rarely, not at every reward.
    async fn keep_best(&self, key: Item, c: &Completion) -> Result<(), StoreError> {
        if let Some(kept) = self.table.get_as::<Completion>(key.clone()).await? {
            if !c.beats(&kept) {
                return Ok(());
            }
        }
        let mut item = to_item(c);
        item.extend(key);
        let at = c.completed_at.to_rfc3339_opts(SecondsFormat::Nanos, true);
        item.insert("completed_key".into(), s(&at));
        let values = HashMap::from([
            (":r".to_owned(), n(c.reward_cents)),
            (":c".to_owned(), s(at)),
            (":t".to_owned(), s(c.task_id.to_string())),
        ]);
        // Lost to a better one meanwhile: nothing to do.
        self.table
            .put_if(
                item,
                "attribute_not_exists(pk) OR reward_cents < :r \
                 OR (reward_cents = :r AND completed_key > :c) \
                 OR (reward_cents = :r AND completed_key = :c AND task_id > :t)",
                Some(values),
            )
            .await
            .map(|_| ())
    }
}

fn generations_key() -> Item {
    key("META", "GENERATIONS")
}

fn rebuild_key(id: Uuid) -> Item {
    key(format!("REBUILD#{id}"), "REBUILD")
}

/// The generations item and the rebuild's record, as a rebuild's start or end writes them.
fn rebuild_items(rebuild: &Rebuild, after: &Generations) -> (Item, Item) {
    let mut generations = to_item(after);
    generations.extend(generations_key());
    let mut record = to_item(rebuild);
    record.extend(rebuild_key(rebuild.rebuild_id));
    (generations, record)
}

impl Store {
    /// The table, for tests that fold its stream as the fold function would.
    pub fn table(&self) -> &ates_kernel::dynamo::Table {
        &self.table
    }
}

/// Whether a stream record is a kept movement's insert: the fold function's filter.
pub fn is_kept_movement(record: &DynamoDbRecord) -> bool {
    record.event_name == "INSERT"
        && matches!(record.change.keys.get("sk"), Some(serde_dynamo::AttributeValue::S(sk)) if sk == MOVE)
}

/// The sort key of a movement kept for the fold ([`additions`]).
const MOVE: &str = "MOVE";
/// A movement is kept as long as an inbox record would be: its key makes it once for as long.
const FACT_SECONDS: i64 = 30 * 24 * 3600;

/// A movement as analytics keeps it, `G<g>#MOVE#<event id>` / `MOVE`: what it adds to its day.
#[derive(Debug, Serialize, Deserialize)]
struct MovementFact {
    generation: u32,
    business_date: NaiveDate,
    fees_cents: i64,
    rewards_cents: i64,
    ttl: i64,
}

/// What a kept movement (the stream's insert of a `MOVE` item) adds to its day's figures, in
/// the shard its fold commits to (`analytics-fold-figures`).
pub fn additions(record: &DynamoDbRecord, shard: u32) -> Result<Vec<Addition>, String> {
    if !is_kept_movement(record) {
        return Ok(Vec::new());
    }
    let fact: MovementFact = fold::image(record)?;
    let pk = format!("G{}#EARNINGS#{shard}", fact.generation);
    let sk = fact.business_date.to_string();
    Ok(vec![
        Addition {
            pk: pk.clone(),
            sk: sk.clone(),
            attribute: "fees_cents",
            amount: fact.fees_cents,
        },
        Addition {
            pk,
            sk,
            attribute: "rewards_cents",
            amount: fact.rewards_cents,
        },
    ])
}

/// The inbox name of the account-copy consumer; the copy belongs to no generation (a rebuild
/// leaves it alone).
const SYNC_ACCOUNT: &str = "analytics.sync-account";

impl AnalyticsStore for Store {}

impl LiveGenerations for Store {
    async fn generations(&self) -> Result<Generations, StoreError> {
        Ok(self
            .table
            .get_as(generations_key())
            .await?
            .unwrap_or_default())
    }
}

impl Rebuilds for Store {
    async fn begin_rebuild(
        &self,
        rebuild: &Rebuild,
        after: &Generations,
    ) -> Result<bool, StoreError> {
        let (generations, record) = rebuild_items(rebuild, after);
        let transaction = Transaction::new()
            .with(
                "generations",
                put(
                    self.table.name(),
                    generations,
                    "attribute_not_exists(rebuild_id)",
                ),
            )
            .with(
                "rebuild",
                put(self.table.name(), record, "attribute_not_exists(pk)"),
            );
        Ok(self.table.transact(transaction).await?.is_ok())
    }

    async fn settle_rebuild(
        &self,
        rebuild: &Rebuild,
        after: &Generations,
    ) -> Result<bool, StoreError> {
        let (generations, record) = rebuild_items(rebuild, after);
        let switch = Put::builder()
            .table_name(self.table.name())
            .set_item(Some(generations))
            .condition_expression("rebuild_id = :id")
            .expression_attribute_values(":id", s(rebuild.rebuild_id.to_string()))
            .build()
            .expect("table, item and condition are set");
        let transaction = Transaction::new()
            .with(
                "generations",
                TransactWriteItem::builder().put(switch).build(),
            )
            .with(
                "rebuild",
                put(self.table.name(), record, "attribute_exists(pk)"),
            );
        Ok(self.table.transact(transaction).await?.is_ok())
    }

    async fn rebuild(&self, id: Uuid) -> Result<Option<Rebuild>, StoreError> {
        self.table.get_as(rebuild_key(id)).await
    }
}

impl MovementProjection for Store {
    async fn balance(
        &self,
        generation: u32,
        account: Uuid,
    ) -> Result<Option<KnownBalance>, StoreError> {
        self.table.get_as(balance_key(generation, account)).await
    }

    async fn keep_balance(
        &self,
        generation: u32,
        before: Option<&KnownBalance>,
        now: &KnownBalance,
    ) -> Result<bool, StoreError> {
        let mut item = to_item(now);
        item.extend(balance_key(generation, now.account_id));
        // Only over the balance read: a newer one written meanwhile makes this stale.
        let mut put = Put::builder()
            .table_name(self.table.name())
            .set_item(Some(item));
        put = match before {
            None => put.condition_expression("attribute_not_exists(pk)"),
            Some(b) => put
                .condition_expression("#seq = :seq")
                .expression_attribute_names("#seq", "sequence")
                .expression_attribute_values(":seq", n(b.sequence)),
        };
        let put = put.build().expect("table, item and condition are set");
        let change = now.debt_change(before);
        if change == 0 {
            // Most movements leave the debt count alone: one single-item write, not a
            // transaction (which bills every item twice).
            return self.table.put_alone(put).await;
        }
        let debt = self
            .table
            .update(debt_key(generation, shard(&now.account_id.to_string())))
            .update_expression("ADD accounts :d")
            .expression_attribute_values(":d", n(change));
        let transaction = Transaction::new()
            .with("balance", TransactWriteItem::builder().put(put).build())
            .with("debts", update(debt));
        Ok(match self.table.transact(transaction).await? {
            Ok(()) => true,
            Err(c) if c.failed("balance") => false,
            Err(c) => return Err(c.into()),
        })
    }

    async fn add_movement(
        &self,
        generation: u32,
        movement: &Movement,
        event: &Envelope,
    ) -> Result<Projected, StoreError> {
        let fact = MovementFact {
            generation,
            business_date: movement.business_date,
            fees_cents: movement.figures.fees_cents,
            rewards_cents: movement.figures.rewards_cents,
            ttl: chrono::Utc::now().timestamp() + FACT_SECONDS,
        };
        // Before session 20 an inbox record made a movement once. Until the last of those
        // expires (30 days after this version is deployed), an event one of them names stays
        // applied: a redelivery must not count it again.
        let legacy = key(
            format!("INBOX#analytics.record-movement@g{generation}#{}", event.id),
            "INBOX",
        );
        if self.table.get(legacy).await?.is_some() {
            return Ok(Projected::Duplicate);
        }
        let mut item = to_item(&fact);
        item.extend(key(format!("G{generation}#MOVE#{}", event.id), MOVE));
        Ok(
            match self
                .table
                .put_if(item, "attribute_not_exists(pk)", None)
                .await?
            {
                true => Projected::Applied,
                false => Projected::Duplicate,
            },
        )
    }

    async fn offer_completion(&self, generation: u32, c: &Completion) -> Result<(), StoreError> {
        self.keep_best(best_day_key(generation, c.business_date), c)
            .await?;
        self.keep_best(best_month_key(generation, &c.month()), c)
            .await
    }
}

impl Titles for Store {
    async fn record_title(
        &self,
        generation: u32,
        task: Uuid,
        title: &Title,
    ) -> Result<(), StoreError> {
        let mut item = title_key(generation, task);
        item.insert("title".into(), s(&title.title));
        if let Some(jira) = &title.jira_id {
            item.insert("jira_id".into(), s(jira));
        }
        self.table.overwrite(item).await
    }

    async fn title(&self, generation: u32, task: Uuid) -> Result<Option<Title>, StoreError> {
        Ok(self
            .table
            .get(title_key(generation, task))
            .await?
            .map(|item| Title {
                title: ates_kernel::dynamo::opt_s(&item, "title")
                    .unwrap_or_default()
                    .to_owned(),
                jira_id: ates_kernel::dynamo::opt_s(&item, "jira_id").map(str::to_owned),
            }))
    }
}

impl DailyFigures for Store {
    async fn day_figures(
        &self,
        generation: u32,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<BTreeMap<NaiveDate, DayFigures>, StoreError> {
        let mut days: BTreeMap<NaiveDate, DayFigures> = BTreeMap::new();
        for shard in 0..SHARDS {
            let pk = format!("G{generation}#EARNINGS#{shard}");
            let (from, to) = (from.to_string(), to.to_string());
            for item in self.table.query_between(&pk, &from, &to).await? {
                let Ok(date) = ates_kernel::dynamo::get_s(&item, "sk")?.parse::<NaiveDate>() else {
                    continue;
                };
                days.entry(date).or_default().add(DayFigures {
                    fees_cents: get_n(&item, "fees_cents").unwrap_or(0),
                    rewards_cents: get_n(&item, "rewards_cents").unwrap_or(0),
                });
            }
        }
        Ok(days)
    }

    async fn in_debt(&self, generation: u32) -> Result<i64, StoreError> {
        let keys = (0..SHARDS).map(|s| debt_key(generation, s)).collect();
        let shards = self.table.batch_get(keys).await?;
        Ok(shards
            .iter()
            .map(|i| get_n::<i64>(i, "accounts").unwrap_or(0))
            .sum())
    }
}

impl BestCompletions for Store {
    async fn best_completions(
        &self,
        generation: u32,
        days: &[NaiveDate],
        months: &[String],
    ) -> Result<Vec<Completion>, StoreError> {
        let keys: Vec<Item> = days
            .iter()
            .map(|d| best_day_key(generation, *d))
            .chain(months.iter().map(|m| best_month_key(generation, m)))
            .collect();
        let mut found = Vec::new();
        for chunk in keys.chunks(100) {
            found.extend(self.table.batch_get(chunk.to_vec()).await?);
        }
        found.iter().map(from_item).collect()
    }
}
