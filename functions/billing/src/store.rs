//! The DynamoDB store: billing's one table. Every write of a use case is one transaction, its
//! events in the same transaction (`outbox`). Entities are kept as JSON (`json`) beside their
//! keys; the indexes list them:
//!
//! | item | pk | sk | indexes |
//! |---|---|---|---|
//! | movement | `MOVE#<key>` | `MOVE` | gsi1 `PARTY#<party>#<period>` / key |
//! | revenue's line of a movement (N4) | `LINE#<key>` | `LINE` | gsi2 `REVENUE#<business date>` / key |
//! | issued period | `PERIODS#week` or `PERIODS#month` | the period | |
//! | clients charged in a week | `CHARGED#<week>` | client id | |
//! | workers with lines in a month | `LINES#<month>` | worker id | |
//! | invoice | `INVOICE#<id>` | `INVOICE` | gsi1 `CLIENT#<client>` / week; gsi2 `WEEK#<week>` / client; gsi3 `STATUS#<status>` / `<week>#<id>` |
//! | worker | `WORKER#<id>` | `WORKER` | |
//! | workers in debt | `DEBTORS` | worker id | |
//! | statement | `STATEMENT#<id>` | `STATEMENT` | gsi1 `STATEMENTS#<worker>` / month; gsi2 `MONTH#<month>` / worker |
//! | bonus | `BONUS#<id>` | `BONUS` | gsi4 `BONUSES` / `<granted_at>#<id>` |
//! | account copy, idempotency, outbox | the kernel's | | |

use ates_kernel::contracts::clock::{Month, Week};
use ates_kernel::dynamo::{get_s, key, s, BadCursor, Item, Listed, StoreError, Transaction};
use ates_kernel::event::Envelope;
use ates_kernel::idempotency;
use ates_kernel::outbox;
use ates_kernel::usecase::Saved;
use aws_sdk_dynamodb::types::{ConditionCheck, Delete, Put, TransactWriteItem};
use chrono::{NaiveDate, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;
use uuid::Uuid;

use crate::app::consumer;
use crate::error::BillingError;
use crate::invoice::{Invoice, InvoiceStatus};
use crate::ledger::{Kind, Movement, Period, RevenueLine};
use crate::ports::{
    BillingStore, Bonus, Booked, Invoices, Invoicing, Listings, Periods, Posting, Postings,
    RevenueLines, Statements,
};
use crate::statement::{Statement, Worker};

ates_kernel::table_store!(Store + copies(consumer::SYNC_ACCOUNT) + replays);

impl BillingStore for Store {}

fn period_text(p: Period) -> (String, String) {
    match p {
        Period::Week(w) => ("PERIODS#week".into(), w.to_string()),
        Period::Month(m) => ("PERIODS#month".into(), m.to_string()),
    }
}

fn period_name(p: Period) -> String {
    let (kind, name) = period_text(p);
    format!("{kind}#{name}")
}

fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("a stored type serialises")
}

fn parse<T: DeserializeOwned>(item: &Item) -> Result<T, StoreError> {
    serde_json::from_str(get_s(item, "json")?).map_err(|e| StoreError::Malformed(e.to_string()))
}

/// An entity's item: its key, its JSON, its version and index attributes.
fn entity<T: Serialize>(
    pk: String,
    sk: &str,
    value: &T,
    version: Option<u64>,
    more: &[(&str, String)],
) -> Item {
    let mut item = key(pk, sk);
    item.insert("json".into(), s(json(value)));
    if let Some(v) = version {
        item.insert("version".into(), ates_kernel::dynamo::n(v));
    }
    for (name, value) in more {
        item.insert((*name).into(), s(value.clone()));
    }
    item
}

fn put_plain(table: &str, item: Item) -> TransactWriteItem {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .build()
        .expect("table and item are set");
    TransactWriteItem::builder().put(put).build()
}

fn put_at_version(table: &str, item: Item, version: Option<u64>) -> TransactWriteItem {
    let mut put = Put::builder().table_name(table).set_item(Some(item));
    put = match version {
        None => put.condition_expression("attribute_not_exists(pk)"),
        Some(v) => put
            .condition_expression("version = :v")
            .expression_attribute_values(":v", ates_kernel::dynamo::n(v)),
    };
    TransactWriteItem::builder()
        .put(put.build().expect("table and item are set"))
        .build()
}

/// A transaction's check that `key`'s item is there (`attribute_exists`) or not.
fn check(table: &str, key: Item, condition: &str) -> TransactWriteItem {
    let check = ConditionCheck::builder()
        .table_name(table)
        .set_key(Some(key))
        .condition_expression(condition)
        .build()
        .expect("table, key and condition are set");
    TransactWriteItem::builder().condition_check(check).build()
}

fn absent(table: &str, key: Item) -> TransactWriteItem {
    check(table, key, "attribute_not_exists(pk)")
}

fn movement_item(m: &Movement) -> Item {
    entity(
        format!("MOVE#{}", m.key),
        "MOVE",
        m,
        None,
        &[
            (
                "gsi1pk",
                format!("PARTY#{}#{}", m.party, period_name(m.period)),
            ),
            ("gsi1sk", m.key.clone()),
        ],
    )
}

fn line_item(l: &RevenueLine) -> Item {
    entity(
        format!("LINE#{}", l.key),
        "LINE",
        l,
        None,
        &[
            // The business day (SPEC M7's periods), not the UTC date: revenue reads by it.
            ("gsi2pk", format!("REVENUE#{}", l.date)),
            ("gsi2sk", l.key.clone()),
        ],
    )
}

/// A movement's item, once, and its revenue line (the projection's, written again by a
/// replay: a plain put).
fn add_movement(t: &mut Transaction, table: &str, m: &Movement, name: String) {
    if let Some(line) = m.revenue_line() {
        t.add(
            format!("line-of-{name}"),
            put_plain(table, line_item(&line)),
        );
    }
    t.add(name, put_at_version(table, movement_item(m), None));
}

fn invoice_item(i: &Invoice) -> Item {
    entity(
        format!("INVOICE#{}", i.invoice_id),
        "INVOICE",
        i,
        Some(i.version),
        &[
            ("gsi1pk", format!("CLIENT#{}", i.client_id)),
            ("gsi1sk", i.week.to_string()),
            ("gsi2pk", format!("WEEK#{}", i.week)),
            ("gsi2sk", i.client_id.to_string()),
            ("gsi3pk", format!("STATUS#{}", i.status.as_str())),
            ("gsi3sk", format!("{}#{}", i.week, i.invoice_id)),
        ],
    )
}

fn statement_item(st: &Statement) -> Item {
    entity(
        format!("STATEMENT#{}", st.statement_id),
        "STATEMENT",
        st,
        Some(st.version),
        &[
            ("gsi1pk", format!("STATEMENTS#{}", st.worker_id)),
            ("gsi1sk", st.month.to_string()),
            ("gsi2pk", format!("MONTH#{}", st.month)),
            ("gsi2sk", st.worker_id.to_string()),
        ],
    )
}

/// A movement's writes: itself (once), its period still open, and the marker that lists its
/// party for the period's close.
fn movement_writes(t: &mut Transaction, table: &str, m: &Movement, i: usize) {
    add_movement(t, table, m, format!("move{i}"));
    let (pk, sk) = period_text(m.period);
    t.add(format!("open{i}"), absent(table, key(pk, sk)));
    let marker = match (m.kind, m.period) {
        (Kind::Charge, Period::Week(w)) => Some(key(format!("CHARGED#{w}"), m.party.to_string())),
        (_, Period::Month(mo)) if m.earning_cents() != 0 => {
            Some(key(format!("LINES#{mo}"), m.party.to_string()))
        }
        _ => None,
    };
    if let Some(marker) = marker {
        t.add(format!("marker{i}"), put_plain(table, marker));
    }
}

fn events(t: &mut Transaction, table: &str, events: &[Envelope]) {
    for (i, record) in outbox::records(table, events).into_iter().enumerate() {
        t.add(format!("{}{i}", outbox::OUTBOX), record);
    }
}

impl Store {
    async fn get<T: DeserializeOwned>(
        &self,
        pk: String,
        sk: &str,
    ) -> Result<Option<T>, StoreError> {
        match self.table.get(key(pk, sk)).await? {
            Some(item) => Ok(Some(parse(&item)?)),
            None => Ok(None),
        }
    }

    /// Every item of a partition of the table or an index, all pages.
    async fn all(&self, index: Option<&str>, pk: &str) -> Result<Vec<Item>, StoreError> {
        let key_name = index.map_or("pk".to_owned(), |i| format!("{i}pk"));
        self.table
            .query_all(
                self.table
                    .client()
                    .query()
                    .table_name(self.table.name())
                    .set_index_name(index.map(str::to_owned))
                    .key_condition_expression("#pk = :pk")
                    .expression_attribute_names("#pk", key_name)
                    .expression_attribute_values(":pk", s(pk)),
            )
            .await
    }

    async fn page<T: DeserializeOwned>(
        &self,
        index: &str,
        pk: &str,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listed<T>, BillingError> {
        #[derive(serde::Deserialize)]
        struct Stored {
            json: String,
        }
        let page: Listed<Stored> = self
            .table
            .newest_first::<_, BillingError>(Some(index), pk, None, limit, cursor)
            .await?;
        let items = page
            .items
            .iter()
            .map(|st| {
                serde_json::from_str(&st.json).map_err(|e| StoreError::Malformed(e.to_string()))
            })
            .collect::<Result<_, _>>()?;
        Ok(Listed {
            items,
            next_cursor: page.next_cursor,
        })
    }

    async fn commit(
        &self,
        t: Transaction,
        stale: &[&str],
        already: &[&str],
    ) -> Result<Booked, StoreError> {
        Ok(match self.table.transact(t).await? {
            Ok(()) => Booked::Applied,
            Err(c) if already.iter().any(|n| c.failed(n)) => Booked::AlreadyDone,
            Err(c) if stale.iter().any(|n| c.failed(n)) => Booked::Stale,
            Err(c) if c.failed_names().any(|n| n.starts_with(outbox::OUTBOX)) => {
                Booked::AlreadyDone
            }
            Err(c) => return Err(c.into()),
        })
    }
}

impl Periods for Store {
    async fn issued_from(&self, from: Period) -> Result<Vec<Period>, StoreError> {
        let (pk, low) = period_text(from);
        let items = self.table.query_between(&pk, &low, "~").await?;
        items
            .iter()
            .map(|item| {
                let name = get_s(item, "sk")?;
                match from {
                    Period::Week(_) => Week::parse(name).map(Period::Week),
                    Period::Month(_) => Month::parse(name).map(Period::Month),
                }
                .ok_or_else(|| StoreError::Malformed(format!("{name} is no period")))
            })
            .collect()
    }

    async fn issue_period(&self, period: Period) -> Result<(), StoreError> {
        let (pk, sk) = period_text(period);
        self.table
            .put_if(
                key(pk, sk),
                "attribute_not_exists(pk) OR attribute_exists(pk)",
                None,
            )
            .await?;
        Ok(())
    }
}

impl Postings for Store {
    async fn post(&self, posting: &Posting<'_>) -> Result<Booked, StoreError> {
        let name = self.table.name();
        let mut t = Transaction::new();
        for (i, m) in posting.movements.iter().enumerate() {
            movement_writes(&mut t, name, m, i);
        }
        if let Some(b) = posting.bonus {
            let item = entity(
                format!("BONUS#{}", b.bonus_id),
                "BONUS",
                b,
                None,
                &[
                    ("gsi4pk", "BONUSES".into()),
                    (
                        "gsi4sk",
                        format!("{}#{}", b.granted_at.to_rfc3339(), b.bonus_id),
                    ),
                ],
            );
            t.add("bonus", put_at_version(name, item, None));
        }
        events(&mut t, name, posting.events);
        let moves: Vec<String> = (0..posting.movements.len())
            .map(|i| format!("move{i}"))
            .collect();
        let opens: Vec<String> = (0..posting.movements.len())
            .map(|i| format!("open{i}"))
            .collect();
        let stale: Vec<&str> = opens.iter().map(String::as_str).collect();
        let already: Vec<&str> = moves.iter().map(String::as_str).collect();
        if posting.keyed.is_some() {
            let mut names = stale.clone();
            names.extend(already.iter().copied());
            return Ok(
                match idempotency::commit(
                    &self.table,
                    t,
                    posting.keyed,
                    Utc::now().timestamp(),
                    &names,
                )
                .await?
                {
                    Saved::Done => Booked::Applied,
                    Saved::KeyUsed => Booked::KeyUsed,
                    Saved::Stale => Booked::Stale,
                },
            );
        }
        self.commit(t, &stale, &already).await
    }

    async fn movements_of(&self, party: Uuid, period: Period) -> Result<Vec<Movement>, StoreError> {
        let items = self
            .all(
                Some("gsi1"),
                &format!("PARTY#{party}#{}", period_name(period)),
            )
            .await?;
        let all: Vec<Movement> = items.iter().map(parse).collect::<Result<_, _>>()?;
        Ok(all
            .into_iter()
            .filter(|m| !matches!(m.kind, Kind::Collection | Kind::Salary))
            .collect())
    }
}

fn ids(items: &[Item]) -> Result<Vec<Uuid>, StoreError> {
    items
        .iter()
        .map(|i| {
            get_s(i, "sk")?
                .parse()
                .map_err(|_| StoreError::Malformed("an id".into()))
        })
        .collect()
}

impl Invoicing for Store {
    async fn charged_clients(&self, week: Week) -> Result<Vec<Uuid>, StoreError> {
        ids(&self.all(None, &format!("CHARGED#{week}")).await?)
    }

    async fn issue_invoice(
        &self,
        invoice: &Invoice,
        evs: &[Envelope],
    ) -> Result<Booked, StoreError> {
        let name = self.table.name();
        let mut t = Transaction::new();
        t.add("invoice", put_at_version(name, invoice_item(invoice), None));
        events(&mut t, name, evs);
        self.commit(t, &[], &["invoice"]).await
    }
}

impl Invoices for Store {
    async fn invoice(&self, id: Uuid) -> Result<Option<Invoice>, StoreError> {
        self.get(format!("INVOICE#{id}"), "INVOICE").await
    }

    async fn save_invoice(
        &self,
        before: &Invoice,
        after: &Invoice,
        movement: Option<&Movement>,
        evs: &[Envelope],
    ) -> Result<Booked, StoreError> {
        let name = self.table.name();
        let mut t = Transaction::new();
        t.add(
            "invoice",
            put_at_version(name, invoice_item(after), Some(before.version)),
        );
        if let Some(m) = movement {
            add_movement(&mut t, name, m, "move".into());
        }
        events(&mut t, name, evs);
        self.commit(t, &["invoice"], &["move"]).await
    }

    async fn invoices_in(&self, status: InvoiceStatus) -> Result<Vec<Invoice>, StoreError> {
        let items = self
            .all(Some("gsi3"), &format!("STATUS#{}", status.as_str()))
            .await?;
        items.iter().map(parse).collect()
    }
}

impl Statements for Store {
    async fn workers_to_state(&self, month: Month) -> Result<Vec<Uuid>, StoreError> {
        let mut workers = ids(&self.all(None, &format!("LINES#{month}")).await?)?;
        workers.extend(ids(&self.all(None, "DEBTORS").await?)?);
        workers.sort();
        workers.dedup();
        Ok(workers)
    }

    async fn worker(&self, id: Uuid) -> Result<Option<Worker>, StoreError> {
        self.get(format!("WORKER#{id}"), "WORKER").await
    }

    async fn statement(&self, id: Uuid) -> Result<Option<Statement>, StoreError> {
        self.get(format!("STATEMENT#{id}"), "STATEMENT").await
    }

    async fn issue_statement(
        &self,
        before: Option<&Worker>,
        after: &Worker,
        statement: &Statement,
        evs: &[Envelope],
    ) -> Result<Booked, StoreError> {
        let name = self.table.name();
        let mut t = Transaction::new();
        t.add(
            "statement",
            put_at_version(name, statement_item(statement), None),
        );
        let worker = entity(
            format!("WORKER#{}", after.worker_id),
            "WORKER",
            after,
            Some(after.version),
            &[],
        );
        t.add(
            "worker",
            put_at_version(name, worker, before.map(|w| w.version)),
        );
        let debtor = key("DEBTORS", after.worker_id.to_string());
        if after.carried_cents < 0 {
            t.add("debtor", put_plain(name, debtor));
        } else {
            let delete = Delete::builder()
                .table_name(name)
                .set_key(Some(debtor))
                .build()
                .expect("table and key are set");
            t.add(
                "debtor",
                TransactWriteItem::builder().delete(delete).build(),
            );
        }
        events(&mut t, name, evs);
        self.commit(t, &["worker"], &["statement"]).await
    }

    async fn save_statement(
        &self,
        before: &Statement,
        after: &Statement,
        movement: &Movement,
    ) -> Result<Booked, StoreError> {
        let name = self.table.name();
        let mut t = Transaction::new();
        t.add(
            "statement",
            put_at_version(name, statement_item(after), Some(before.version)),
        );
        add_movement(&mut t, name, movement, "move".into());
        self.commit(t, &["statement"], &["move"]).await
    }
}

impl Listings for Store {
    async fn invoices_of_client(
        &self,
        client: Uuid,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listed<Invoice>, BillingError> {
        self.page("gsi1", &format!("CLIENT#{client}"), limit, cursor)
            .await
    }

    async fn invoices_where(
        &self,
        week: Option<Week>,
        status: Option<InvoiceStatus>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listed<Invoice>, BillingError> {
        match (week, status) {
            (Some(w), None) => self.page("gsi2", &format!("WEEK#{w}"), limit, cursor).await,
            (_, Some(st)) => {
                let page: Listed<Invoice> = match week {
                    None => {
                        self.page("gsi3", &format!("STATUS#{}", st.as_str()), limit, cursor)
                            .await?
                    }
                    Some(w) => {
                        let prefix = format!("{w}#");
                        #[derive(serde::Deserialize)]
                        struct Stored {
                            json: String,
                        }
                        let page: Listed<Stored> = self
                            .table
                            .newest_first::<_, BillingError>(
                                Some("gsi3"),
                                &format!("STATUS#{}", st.as_str()),
                                Some(&prefix),
                                limit,
                                cursor,
                            )
                            .await?;
                        Listed {
                            items: page
                                .items
                                .iter()
                                .map(|x| {
                                    serde_json::from_str(&x.json)
                                        .map_err(|e| StoreError::Malformed(e.to_string()))
                                })
                                .collect::<Result<_, _>>()?,
                            next_cursor: page.next_cursor,
                        }
                    }
                };
                Ok(page)
            }
            (None, None) => Err(BillingError::from(BadCursor)),
        }
    }

    async fn statements_of_worker(
        &self,
        worker: Uuid,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listed<Statement>, BillingError> {
        self.page("gsi1", &format!("STATEMENTS#{worker}"), limit, cursor)
            .await
    }

    async fn statements_of_month(
        &self,
        month: Month,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listed<Statement>, BillingError> {
        self.page("gsi2", &format!("MONTH#{month}"), limit, cursor)
            .await
    }

    async fn bonuses(
        &self,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Listed<Bonus>, BillingError> {
        self.page("gsi4", "BONUSES", limit, cursor).await
    }

    async fn revenue_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<RevenueLine>, StoreError> {
        let mut found = Vec::new();
        let mut day = from;
        while day <= to {
            let items = self.all(Some("gsi2"), &format!("REVENUE#{day}")).await?;
            for item in &items {
                found.push(parse(item)?);
            }
            day = day.succ_opt().expect("a next day");
        }
        Ok(found)
    }
}

impl RevenueLines for Store {
    async fn project_replayed(&self, lines: &[RevenueLine]) -> Result<usize, StoreError> {
        let name = self.table.name();
        let mut written = 0;
        for line in lines {
            let mut t = Transaction::new();
            let movement = key(format!("MOVE#{}", line.key), "MOVE");
            t.add("ledger", check(name, movement, "attribute_exists(pk)"));
            t.add("line", put_plain(name, line_item(line)));
            match self.table.transact(t).await? {
                Ok(()) => written += 1,
                Err(c) if c.failed("ledger") => {}
                Err(c) => return Err(c.into()),
            }
        }
        Ok(written)
    }
}
