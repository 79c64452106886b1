//! The accounting table (DynamoDB). Items, keyed by `pk`/`sk`:
//! - `ACCOUNT#<id>` / `ACCOUNT`: a ledger account (balance, sequence, open days, last
//!   statement, the person's copy). The sparse `gsi1` (`ACCOUNTS#<partition>`, account id)
//!   holds accounts only: what a close walks and the accounts listing scans;
//! - `ACCOUNT#<id>` / `ENTRY#<sequence>`: a line of its audit log;
//! - `ACCOUNT#<id>` / `STATEMENT#<date>`: a closed day's statement;
//! - `TXN#<transaction id>` / `TXN`: a posted movement and its legs: its key makes it once;
//! - `TASK#<id>` / `TASK`: a task's prices, title and jira id;
//! - `EARNINGS#<shard>` / `<date>`: the company's fees, rewards and payouts of a business day,
//!   folded from the audit lines' inserts on the table's stream ([`additions`],
//!   `accounting-fold-earnings`), a batch at a time into one of [`EARNINGS_SHARDS`] (B6);
//! - `FOLD#<stream record id>` / `FOLD`: how far a fold got (the kernel's `fold`);
//! - `ACCOUNT#<id>` / `PAYOUT_DETAILS`, `ACCOUNT#<id>` / `TRANSFER#<payout id>`, `BANK#<payout
//!   id>` / `TRANSFER`: what accounting kept of payouts before payments took them over; read
//!   once by the hand-over (`payout`), written no more;
//! - `COUNTER` / `ACCOUNTS`: how many ledger accounts exist (a close's total);
//! - `JOB#<id>` / `JOB`: a day's close (the kernel's paged job, `kind` = close); its totals are
//!   kept per partition (`PROGRESS#<n>`, added up when read), its partitions' ends `PARTITION#<n>`;
//! - `INBOX#<consumer>#<event id>` / `INBOX`: events consumed (by the account copy and the close's
//!   start; a movement's key and a task copy's condition make those once by themselves);
//!   `OUTBOX#…`: events and work.

use std::collections::{BTreeMap, HashMap};

use ates_kernel::contracts::accounts::AccountSnapshot;
use ates_kernel::dynamo::{
    from_item, get_n, key, n, s, to_item, update, Item, Listed, StoreError, Table, Transaction,
};
use ates_kernel::event::Envelope;
use ates_kernel::fold::{self, Addition};
use ates_kernel::identity::AccountCopies;
use ates_kernel::inbox;
use ates_kernel::job::{self, Cursor, Page, PageCommit};
use ates_kernel::outbox::{self, DynamoDbRecord};
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use uuid::Uuid;

use crate::close::{Close, CloseTotals};
use crate::error::AccountingError;
use crate::ledger::{Closing, Entry, LedgerAccount, Task};
use crate::payout::Leftover;
use crate::ports::{
    AccountPage, AccountProfiles, AuditLogs, BalanceListings, Booked, ClosePages, CloseReports,
    CloseStarts, CompanyEarnings, DayEarnings, EntryPage, LedgerAccounts, LedgerStore,
    PayoutHandover, Posting, Postings, PricedTasks,
};

/// Accounts a close page handles: one BatchGetItem reads them all (its limit is 100), then each
/// is its own transaction of up to 8 items. Large pages, because every page waits once on the
/// relay for the next (BENCHMARKS.md, the daily close of a million accounts).
pub const PAGE_SIZE: usize = 100;
/// The company's daily figures are spread over this many keys (see BENCHMARKS.md).
pub const EARNINGS_SHARDS: u32 = 32;

/// The names of a transaction's items whose failed conditions mean something: the account's
/// write (it changed since it was read) and a movement's key (it exists already).
const ACCOUNT: &str = "account";
const MOVEMENT: &str = "movement";

fn account_key(id: Uuid) -> Item {
    key(format!("ACCOUNT#{id}"), "ACCOUNT")
}

fn task_key(id: Uuid) -> Item {
    key(format!("TASK#{id}"), "TASK")
}

fn counter_key() -> Item {
    key("COUNTER", "ACCOUNTS")
}

/// The attribute that sends an audit line to the earnings fold. Lines written before the fold
/// (session 20) were added to the company's day in their own transaction and carry none: the
/// fold's mapping, which starts at the stream's oldest record, must not add them twice.
const FOLD: &str = "fold";

/// Whether a stream record is the insert of an audit line for the fold: what the earnings fold
/// reads (its mapping's filter says the same).
pub fn is_audit_line(record: &DynamoDbRecord) -> bool {
    use serde_dynamo::AttributeValue;
    record.event_name == "INSERT"
        && matches!(record.change.keys.get("sk"), Some(AttributeValue::S(sk)) if sk.starts_with("ENTRY#"))
        && matches!(
            record.change.new_image.get(FOLD),
            Some(AttributeValue::Bool(true))
        )
}

/// What an audit line (the stream's insert of an `ENTRY#` item) adds to the company's day, in
/// the shard its fold commits to: a day's figures are written once a batch, not in every
/// movement's transaction (BENCHMARKS.md, cost). Every movement has its line, once.
pub fn additions(record: &DynamoDbRecord, shard: u32) -> Result<Vec<Addition>, String> {
    if !is_audit_line(record) {
        return Ok(Vec::new());
    }
    let entry: Entry = fold::image(record)?;
    let figures = DayEarnings::of(&entry);
    let pk = format!("EARNINGS#{shard}");
    let sk = entry.business_date.to_string();
    Ok([
        ("fees_cents", figures.fees_cents),
        ("rewards_cents", figures.rewards_cents),
        ("paid_cents", figures.paid_cents),
    ]
    .into_iter()
    .map(|(attribute, amount)| Addition {
        pk: pk.clone(),
        sk: sk.clone(),
        attribute,
        amount,
    })
    .collect())
}

fn account_item(account: &LedgerAccount) -> Item {
    let mut item = to_item(account);
    item.extend(account_key(account.account_id));
    item.insert(
        "gsi1pk".into(),
        s(format!("ACCOUNTS#{}", account.partition())),
    );
    item.insert("gsi1sk".into(), s(account.account_id.to_string()));
    item
}

/// A ledger account as its partition of the `gsi1` index lists it.
#[derive(Deserialize)]
struct Member {
    gsi1sk: Uuid,
}

pub struct Store {
    table: Table,
}

impl Store {
    pub fn new(table: Table) -> Store {
        Store { table }
    }

    /// The table, for tests that fold its stream as the fold function would.
    pub fn table(&self) -> &Table {
        &self.table
    }

    fn name(&self) -> &str {
        self.table.name()
    }

    /// Writes an account's money (everything but the person's copy), if it is still at the
    /// sequence read; a new account is created, and counted, if it is still absent.
    fn write_money(&self, before: Option<&LedgerAccount>, after: &LedgerAccount) -> Transaction {
        let Some(before) = before else {
            return Transaction::new()
                .with(
                    ACCOUNT,
                    self.table
                        .put(account_item(after), "attribute_not_exists(pk)"),
                )
                .with(
                    "account-counter",
                    update(
                        self.table
                            .update(counter_key())
                            .update_expression("ADD accounts :one")
                            .expression_attribute_values(":one", n(1)),
                    ),
                );
        };
        let mut item = account_item(after);
        item.retain(|name, _| !["pk", "sk", "profile", "account_id"].contains(&name.as_str()));
        let mut builder = self.table.update(account_key(after.account_id));
        let mut sets = Vec::new();
        for (i, (name, value)) in item.into_iter().enumerate() {
            sets.push(format!("#a{i} = :a{i}"));
            builder = builder
                .expression_attribute_names(format!("#a{i}"), name)
                .expression_attribute_values(format!(":a{i}"), value);
        }
        Transaction::new().with(
            ACCOUNT,
            update(
                builder
                    .update_expression(format!("SET {}", sets.join(", ")))
                    .condition_expression("#seq = :seq")
                    .expression_attribute_names("#seq", "sequence")
                    .expression_attribute_values(":seq", n(before.sequence)),
            ),
        )
    }

    /// A movement's key and its audit line (which the earnings fold adds to the company's day).
    fn write_entry(&self, entry: &Entry) -> Transaction {
        let mut guard = HashMap::from([
            ("account_id".to_owned(), s(entry.account_id.to_string())),
            ("amount_cents".to_owned(), n(entry.amount_cents)),
            (
                "business_date".to_owned(),
                s(entry.business_date.to_string()),
            ),
            (
                "legs".to_owned(),
                s(serde_json::to_string(&entry.legs()).expect("legs serialise")),
            ),
        ]);
        guard.extend(key(format!("TXN#{}", entry.transaction_id), "TXN"));
        let mut line = to_item(entry);
        line.insert(FOLD.into(), AttributeValue::Bool(true));
        line.extend(key(
            format!("ACCOUNT#{}", entry.account_id),
            format!("ENTRY#{:020}", entry.sequence),
        ));
        Transaction::new()
            .with(MOVEMENT, self.table.put(guard, "attribute_not_exists(pk)"))
            .with(
                "audit-line",
                self.table.put(line, "attribute_not_exists(pk)"),
            )
    }

    fn outbox(&self, transaction: &mut Transaction, events: &[Envelope]) {
        transaction.add_all(outbox::OUTBOX, outbox::records(self.name(), events));
    }

    /// Commits a consumer's transaction with its inbox record (a profile, a close's start:
    /// nothing else in them makes them once); a failed condition means the state changed since
    /// it was read.
    async fn commit(
        &self,
        consumer: &str,
        event: &Envelope,
        transaction: Transaction,
    ) -> Result<Booked, StoreError> {
        Ok(
            match inbox::commit(&self.table, consumer, event, transaction).await? {
                inbox::Committed::Applied => Booked::Applied,
                inbox::Committed::Duplicate => Booked::Duplicate,
                inbox::Committed::Refused(_) => Booked::Stale,
            },
        )
    }

    /// Commits a transaction that one of its own items makes once (a movement's key, a task
    /// copy's condition), with no inbox record: a failed `MOVEMENT` means the movement exists
    /// already, any other failed condition that the state changed since it was read.
    async fn commit_once(&self, transaction: Transaction) -> Result<Booked, StoreError> {
        Ok(match self.table.transact(transaction).await? {
            Ok(()) => Booked::Applied,
            Err(c) if c.failed(MOVEMENT) => Booked::AlreadyPosted,
            Err(c) if c.any_failed() => Booked::Stale,
            Err(c) => return Err(c.into()),
        })
    }
}

fn read_close(item: &Item) -> Result<Close, StoreError> {
    let date: NaiveDate = ates_kernel::dynamo::get_s(item, "business_date")?
        .parse()
        .map_err(|e| StoreError::Malformed(format!("business_date: {e}")))?;
    let time = |name: &str| -> Result<Option<DateTime<Utc>>, StoreError> {
        ates_kernel::dynamo::opt_s(item, name)
            .map(|t| {
                t.parse()
                    .map_err(|e| StoreError::Malformed(format!("{name}: {e}")))
            })
            .transpose()
    };
    let count = |name: &str| get_n::<i64>(item, name).unwrap_or(0);
    Ok(Close {
        business_date: date,
        job_id: Close::job_id_of(date),
        progress: job::read(item)?,
        totals: CloseTotals {
            accounts_closed: count("accounts_closed") as u64,
            paid_cents: count("paid_cents"),
            payouts: count("payouts") as u64,
            debts: count("debts") as u64,
        },
        started_at: time("started_at")?.unwrap_or_default(),
        closed_at: time("closed_at")?,
    })
}

impl LedgerStore for Store {}

impl AccountCopies for Store {
    async fn account_copy(&self, id: Uuid) -> Result<Option<AccountSnapshot>, StoreError> {
        Ok(self.account(id).await?.and_then(|account| account.profile))
    }
}

impl LedgerAccounts for Store {
    async fn account(&self, id: Uuid) -> Result<Option<LedgerAccount>, StoreError> {
        self.table.get_as(account_key(id)).await
    }
}

impl AccountProfiles for Store {
    async fn save_profile(
        &self,
        before: Option<&LedgerAccount>,
        after: &LedgerAccount,
        consumer: &str,
        event: &Envelope,
    ) -> Result<Booked, StoreError> {
        let transaction = match before {
            None => self.write_money(None, after),
            Some(before) => {
                let profile = to_item(&after.profile);
                let profile = AttributeValue::M(profile);
                let write = self
                    .table
                    .update(account_key(after.account_id))
                    .update_expression("SET profile = :profile")
                    .expression_attribute_values(":profile", profile);
                let write = match &before.profile {
                    None => write.condition_expression(
                        "attribute_exists(pk) AND attribute_not_exists(profile)",
                    ),
                    Some(p) => write
                        .condition_expression("profile.revision = :revision")
                        .expression_attribute_values(":revision", n(p.revision)),
                };
                Transaction::new().with(ACCOUNT, update(write))
            }
        };
        self.commit(consumer, event, transaction).await
    }
}

impl PricedTasks for Store {
    async fn task(&self, id: Uuid) -> Result<Option<Task>, StoreError> {
        self.table.get_as(task_key(id)).await
    }

    async fn tasks(&self, ids: &[Uuid]) -> Result<Vec<Task>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let items = self
            .table
            .batch_get(ids.iter().map(|id| task_key(*id)).collect())
            .await?;
        items.iter().map(from_item).collect()
    }

    async fn save_task(
        &self,
        before: Option<&Task>,
        after: &Task,
        events: &[Envelope],
    ) -> Result<Booked, StoreError> {
        let mut item = to_item(after);
        item.extend(task_key(after.task_id));
        let condition = match before {
            None => "attribute_not_exists(pk)",
            Some(_) => "attribute_exists(pk) AND attribute_not_exists(title)",
        };
        let mut transaction = Transaction::new().with("task", self.table.put(item, condition));
        self.outbox(&mut transaction, events);
        self.commit_once(transaction).await
    }
}

impl Postings for Store {
    async fn post(&self, posting: &Posting<'_>) -> Result<Booked, StoreError> {
        let mut transaction = self.write_entry(posting.entry);
        transaction.append(self.write_money(posting.before, posting.after));
        if let Some(task) = posting.priced {
            let mut item = to_item(task);
            item.extend(task_key(task.task_id));
            transaction.add("price", self.table.put(item, "attribute_not_exists(pk)"));
        }
        self.outbox(&mut transaction, posting.events);
        self.commit_once(transaction).await
    }
}

impl AuditLogs for Store {
    async fn entries(
        &self,
        account: Uuid,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<EntryPage, AccountingError> {
        let account = format!("ACCOUNT#{account}");
        self.table
            .newest_first(None, &account, Some("ENTRY#"), limit, cursor)
            .await
    }
}

impl BalanceListings for Store {
    async fn list_accounts(
        &self,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<AccountPage, AccountingError> {
        let scan = self.table.scan().index_name("gsi1");
        let page: Listed<Member> = self
            .table
            .scan_page::<_, AccountingError>(scan, limit, cursor)
            .await?;
        let ids: Vec<Uuid> = page.items.iter().map(|m| m.gsi1sk).collect();
        let mut accounts = self.accounts(&ids).await?;
        accounts.sort_by_key(|a| ids.iter().position(|id| *id == a.account_id));
        Ok(AccountPage {
            items: accounts,
            next_cursor: page.next_cursor,
        })
    }
}

impl CompanyEarnings for Store {
    async fn earnings(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<BTreeMap<NaiveDate, DayEarnings>, StoreError> {
        let mut days: BTreeMap<NaiveDate, DayEarnings> = BTreeMap::new();
        for shard in 0..EARNINGS_SHARDS {
            let (pk, from, to) = (
                format!("EARNINGS#{shard}"),
                from.to_string(),
                to.to_string(),
            );
            for item in self.table.query_between(&pk, &from, &to).await? {
                let Ok(date) = ates_kernel::dynamo::get_s(&item, "sk")?.parse::<NaiveDate>() else {
                    continue;
                };
                days.entry(date).or_default().add(DayEarnings {
                    fees_cents: get_n(&item, "fees_cents").unwrap_or(0),
                    rewards_cents: get_n(&item, "rewards_cents").unwrap_or(0),
                    paid_cents: get_n(&item, "paid_cents").unwrap_or(0),
                });
            }
        }
        Ok(days)
    }
}

impl CloseReports for Store {
    async fn close(&self, job_id: Uuid) -> Result<Option<Close>, StoreError> {
        job::get(&self.table, job_id)
            .await?
            .map(|item| read_close(&item))
            .transpose()
    }

    async fn account_count(&self) -> Result<u64, StoreError> {
        Ok(self
            .table
            .get(counter_key())
            .await?
            .map_or(0, |item| get_n(&item, "accounts").unwrap_or(0)))
    }
}

impl CloseStarts for Store {
    async fn start_close(
        &self,
        close: &Close,
        consumer: &str,
        event: &Envelope,
    ) -> Result<Booked, StoreError> {
        let extra = HashMap::from([
            ("kind".to_owned(), s("close")),
            (
                "business_date".to_owned(),
                s(close.business_date.to_string()),
            ),
            ("started_at".to_owned(), s(close.started_at.to_rfc3339())),
        ]);
        let transaction = job::start(
            self.name(),
            close.job_id,
            &close.progress,
            extra,
            &Page::first_pages(
                close.job_id,
                close.progress.partitions,
                &event.correlation_id,
            ),
            close.started_at,
        );
        self.commit(consumer, event, transaction).await
    }
}

impl ClosePages for Store {
    async fn accounts(&self, ids: &[Uuid]) -> Result<Vec<LedgerAccount>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let items = self
            .table
            .batch_get(ids.iter().map(|id| account_key(*id)).collect())
            .await?;
        items.iter().map(from_item).collect()
    }

    async fn accounts_page(
        &self,
        partition: u32,
        cursor: Option<&Cursor>,
    ) -> Result<(Vec<Uuid>, Option<Cursor>), StoreError> {
        let partition = format!("ACCOUNTS#{partition}");
        let (members, next) =
            job::partition_page::<Member>(&self.table, "gsi1", &partition, PAGE_SIZE, cursor)
                .await?;
        Ok((members.into_iter().map(|m| m.gsi1sk).collect(), next))
    }

    async fn save_closing(
        &self,
        before: &LedgerAccount,
        closing: &Closing,
        events: &[Envelope],
    ) -> Result<Booked, StoreError> {
        let mut transaction = self.write_money(Some(before), &closing.account);
        let statement = &closing.statement;
        let mut item = to_item(statement);
        item.extend(key(
            format!("ACCOUNT#{}", statement.account_id),
            format!("STATEMENT#{}", statement.business_date),
        ));
        transaction.add(
            "statement",
            self.table.put(item, "attribute_not_exists(pk)"),
        );
        if let Some(payout) = &closing.payout {
            transaction.append(self.write_entry(payout));
        }
        self.outbox(&mut transaction, events);
        Ok(match self.table.transact(transaction).await? {
            Ok(()) => Booked::Applied,
            Err(c) if c.only_conflicts() => return Err(c.into()),
            Err(_) => Booked::Stale,
        })
    }

    async fn finish_page(
        &self,
        page: &Page,
        accounts: usize,
        totals: &CloseTotals,
        next: Option<&Page>,
    ) -> Result<PageCommit, StoreError> {
        let counters = [
            ("accounts_closed", totals.accounts_closed as i64),
            ("paid_cents", totals.paid_cents),
            ("payouts", totals.payouts as i64),
            ("debts", totals.debts as i64),
        ];
        let transaction = job::page_done(self.name(), page, accounts, &counters, next, Utc::now());
        Ok(PageCommit::of(self.table.transact(transaction).await?))
    }

    async fn finish_close(&self, close: &Close, event: &Envelope) -> Result<bool, StoreError> {
        let mark = self
            .table
            .update(key(format!("JOB#{}", close.job_id), "JOB"))
            .update_expression("SET closed_at = :at")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(closed_at)")
            .expression_attribute_values(":at", s(event.occurred_at.to_rfc3339()));
        let transaction = Transaction::new()
            .with("close", update(mark))
            .with(outbox::OUTBOX, outbox::record(self.name(), event));
        Ok(self.table.transact(transaction).await?.is_ok())
    }
}

impl PayoutHandover for Store {
    async fn payout_leftovers(
        &self,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listed<Leftover>, AccountingError> {
        let scan = self
            .table
            .scan()
            .filter_expression("sk = :details OR (begins_with(sk, :transfer) AND #status = :held)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":details", s("PAYOUT_DETAILS"))
            .expression_attribute_values(":transfer", s("TRANSFER#"))
            .expression_attribute_values(":held", s("held"));
        self.table.scan_page(scan, limit, cursor).await
    }

    async fn hand_over(&self, events: &[Envelope]) -> Result<(), StoreError> {
        for event in events {
            // One record per event id: a second run finds it there and writes nothing.
            let record = outbox::record(self.name(), event);
            let put = record.put().expect("an outbox record is a put");
            self.table
                .put_if(put.item().clone(), "attribute_not_exists(pk)", None)
                .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inserted(sk: &str, fold: Option<bool>) -> DynamoDbRecord {
        let mut image = serde_json::json!({"pk": {"S": "ACCOUNT#1"}, "sk": {"S": sk}});
        if let Some(fold) = fold {
            image["fold"] = serde_json::json!({ "BOOL": fold });
        }
        serde_json::from_value(serde_json::json!({
            "eventID": "1", "eventName": "INSERT", "eventVersion": "1.1",
            "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
            "dynamodb": {"SequenceNumber": "1", "SizeBytes": 1, "StreamViewType": "NEW_IMAGE",
                         "Keys": {"pk": image["pk"].clone(), "sk": image["sk"].clone()},
                         "NewImage": image}
        }))
        .unwrap()
    }

    #[test]
    fn only_the_lines_written_for_the_fold_are_folded() {
        assert!(is_audit_line(&inserted(
            "ENTRY#00000000000000000001",
            Some(true)
        )));
        // Written before the fold: its transaction added it to the day already.
        assert!(!is_audit_line(&inserted(
            "ENTRY#00000000000000000001",
            None
        )));
        assert!(!is_audit_line(&inserted("ACCOUNT", Some(true))));
        let before = inserted("ENTRY#00000000000000000001", None);
        assert_eq!(additions(&before, 3), Ok(Vec::new()));
    }
}
