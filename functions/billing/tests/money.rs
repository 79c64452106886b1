//! The money property (SPEC M7): generated marketplace histories — orders approved, declined and
//! cancelled once valued, QA fines and waivers, bonuses, week and month ends, collections that
//! succeed or fail, salaries paid — with every event delivered one to three times, in any order,
//! to the use cases on the in-memory store. Whatever the order: each invoice equals its orders'
//! values; each statement equals its lines; every balance is right to the cent; all balances sum
//! to zero; no movement exists twice; no order is settled without its collection. Histories are
//! kept in the business calendar of their seed (UTC; New York; Moscow with days ending at
//! 18:00): each fact counts on its business day, in that day's week or month or a later one.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use ates_billing::app::Statements;
use ates_billing::app::{self, NewBonus, Request};
use ates_billing::invoice::InvoiceStatus;
use ates_billing::ledger::{Kind, LedgerAccount, Period};
use ates_billing::memory::MemoryStore;
use ates_billing::statement::SalaryStatus;
use ates_kernel::calendar::Calendar;
use ates_kernel::contracts::billing::{
    decode_collection_requested, decode_order_settled, decode_statement_issued,
};
use ates_kernel::contracts::clock::{Month, MonthEnded, Week, WeekEnded};
use ates_kernel::contracts::orders::{
    OrderCancelled, OrderFailedInvoiced, OrderInvoiced, OrderSuccessInvoiced, Place,
};
use ates_kernel::contracts::payments::{
    CollectionFailed, CollectionFailure, CollectionSucceeded, SalaryPaid,
};
use ates_kernel::contracts::reports::{Fine, FineWaived, Verdict};
use ates_kernel::event::{Cause, Envelope};
use ates_kernel::idempotency::IdempotencyKey;
use ates_kernel::identity::Role;
use ates_kernel::testing::{account, account_event, at, claims, event};
use ates_kernel::usecase::Answer;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

/// What the history says must be true, written down as it is generated (never read back from
/// the store).
#[derive(Default)]
struct Expected {
    /// Every posted movement's key and amount.
    amounts: BTreeMap<String, i64>,
    /// Each charged order's client and value.
    charges: HashMap<Uuid, (Uuid, i64)>,
    /// Each worker's earnings (shares − fines + waivers + bonuses).
    earnings: HashMap<Uuid, i64>,
    /// Orders that are settled when their invoice is paid (approved, declined).
    settles: HashSet<Uuid>,
}

struct World {
    rng: StdRng,
    /// The business calendar the clock and billing keep days in.
    calendar: Calendar,
    store: MemoryStore,
    expected: Expected,
    /// Events waiting for delivery, with how many more times each is delivered.
    pending: Vec<(Envelope, u32)>,
    /// Billing's events already answered by payments (the simulated partner).
    answered: HashSet<Uuid>,
    /// The invoices payments collected, and the statements' salaries it paid.
    collected: BTreeMap<Uuid, i64>,
    salaries: HashMap<Uuid, i64>,
    declines: HashMap<Uuid, u32>,
    workers: Vec<Uuid>,
    clients: Vec<Uuid>,
    manager: Uuid,
}

/// The course's rules, written here again so the test does not trust the code it checks.
fn share_of(list: i64) -> i64 {
    list * 6 / 10
}

fn fine_of(list: i64) -> i64 {
    list * 4 / 10
}

const START: &str = "2026-11-23"; // a Monday (2026-W48)
const DAYS: i64 = 49;

fn day(n: i64) -> NaiveDate {
    START.parse::<NaiveDate>().unwrap() + Duration::days(n)
}

/// A moment of the business day `date`, to the minute.
fn instant(calendar: &Calendar, date: NaiveDate, rng: &mut StdRng) -> DateTime<Utc> {
    let day = calendar.day(date).unwrap();
    day.start + Duration::minutes(rng.gen_range(0..(day.end - day.start).num_minutes()))
}

/// The seed's business calendar: UTC, New York (behind UTC), Moscow with the day ending at
/// 18:00 (ahead of UTC, and not at midnight).
fn calendar_of(seed: u64) -> Calendar {
    match seed % 3 {
        0 => Calendar::new("UTC", "0"),
        1 => Calendar::new("America/New_York", "0"),
        _ => Calendar::new("Europe/Moscow", "18"),
    }
    .unwrap()
}

fn invoiced(
    order: Uuid,
    client: Uuid,
    worker: Uuid,
    list: i64,
    value: i64,
    place: Place,
    when: DateTime<Utc>,
) -> OrderInvoiced {
    OrderInvoiced {
        order_id: order,
        version: 9,
        places: vec![Place::Rated, place],
        client_id: client,
        executor_id: worker,
        list_price_cents: list,
        value_cents: value,
        decided_by: Some(client),
        reason: (place == Place::FailedInvoiced).then(|| "not done".to_owned()),
        at: when,
    }
}

impl World {
    fn new(seed: u64) -> World {
        let mut rng = StdRng::seed_from_u64(seed);
        let clients = (0..rng.gen_range(1..=3)).map(|_| Uuid::now_v7()).collect();
        World {
            rng,
            calendar: calendar_of(seed),
            store: MemoryStore::default(),
            expected: Expected::default(),
            pending: vec![],
            answered: HashSet::new(),
            collected: BTreeMap::new(),
            salaries: HashMap::new(),
            declines: HashMap::new(),
            workers: vec![],
            clients,
            manager: Uuid::nil(),
        }
    }

    fn times(&mut self) -> u32 {
        self.rng.gen_range(1..=3)
    }

    fn send(&mut self, envelope: Envelope) {
        let times = self.times();
        self.pending.push((envelope, times));
    }

    fn expect(&mut self, key: String, amount: i64) {
        assert!(
            self.expected.amounts.insert(key, amount).is_none(),
            "generated twice"
        );
    }

    fn earn(&mut self, worker: Uuid, cents: i64) {
        *self.expected.earnings.entry(worker).or_default() += cents;
    }

    /// The marketplace's history: orders, QA, the clock.
    fn generate(&mut self) {
        for d in 0..DAYS {
            let date = day(d);
            for _ in 0..self.rng.gen_range(0..3) {
                let order = Uuid::now_v7();
                let client = *self.clients.choose(&mut self.rng).unwrap();
                let worker = *self.workers.choose(&mut self.rng).unwrap();
                let list = self.rng.gen_range(1..50_000);
                let value = list - list * self.rng.gen_range(0..=12) / 100;
                let when = instant(&self.calendar, date, &mut self.rng);
                match self.rng.gen_range(0..10) {
                    0..=4 => {
                        let o = invoiced(
                            order,
                            client,
                            worker,
                            list,
                            value,
                            Place::SuccessInvoiced,
                            when,
                        );
                        self.send(event("orders", &OrderSuccessInvoiced(o), when));
                        self.expect(format!("charge:{order}"), value);
                        self.expect(format!("share:{order}"), share_of(list));
                        self.earn(worker, share_of(list));
                        self.expected.settles.insert(order);
                        if self.rng.gen_bool(0.2) {
                            let case = Uuid::now_v7();
                            let fined = when + Duration::hours(self.rng.gen_range(1..200));
                            let fine = Fine {
                                case_id: case,
                                order_id: order,
                                executor_id: worker,
                                list_price_cents: list,
                                fined_at: fined,
                            };
                            self.send(event("reports", &fine, fined));
                            self.expect(format!("qa-fine:{case}"), fine_of(list));
                            self.earn(worker, -fine_of(list));
                        }
                    }
                    5..=7 => {
                        let o = invoiced(
                            order,
                            client,
                            worker,
                            list,
                            value,
                            Place::FailedInvoiced,
                            when,
                        );
                        self.send(event("orders", &OrderFailedInvoiced(o), when));
                        self.expect(format!("charge:{order}"), value);
                        self.expect(format!("fine:{order}"), fine_of(list));
                        self.earn(worker, -fine_of(list));
                        self.expected.settles.insert(order);
                        if self.rng.gen_bool(0.3) {
                            let case = Uuid::now_v7();
                            let waived = when + Duration::hours(self.rng.gen_range(1..200));
                            let waiver = FineWaived {
                                case_id: case,
                                order_id: order,
                                executor_id: worker,
                                verdict: Verdict::ClientAtFault,
                                list_price_cents: list,
                                waived_at: waived,
                            };
                            self.send(event("reports", &waiver, waived));
                            self.expect(format!("waiver:{case}"), fine_of(list));
                            self.earn(worker, fine_of(list));
                        }
                    }
                    8 => {
                        let c = OrderCancelled {
                            order_id: order,
                            version: 4,
                            places: vec![Place::Cancelled],
                            client_id: client,
                            executor_id: Some(worker),
                            value_cents: Some(value),
                            cancelled_by: client,
                            at: when,
                        };
                        self.send(event("orders", &c, when));
                        self.expect(format!("charge:{order}"), value);
                    }
                    _ => {
                        // Cancelled before it was valued: free.
                        let c = OrderCancelled {
                            order_id: order,
                            version: 2,
                            places: vec![Place::Cancelled],
                            client_id: client,
                            executor_id: None,
                            value_cents: None,
                            cancelled_by: client,
                            at: when,
                        };
                        self.send(event("orders", &c, when));
                    }
                }
            }
            self.end_of(date);
        }
    }

    /// The clock's events of a business day's end, as the clock says them in the calendar.
    fn end_of(&mut self, date: NaiveDate) {
        let end = self.calendar.day(date).unwrap().end;
        let calendar = self.calendar.clone();
        let start_of = |d: NaiveDate| calendar.day(d).unwrap().start;
        let time_zone = self.calendar.zone_name().to_owned();
        let week = Week::of(date);
        if week.sunday() == date {
            let ended = WeekEnded {
                week,
                time_zone: time_zone.clone(),
                started_at: start_of(week.monday()),
                ended_at: end,
            };
            let e = event("clock", &ended, end).once_for(&week.to_string());
            self.send(e);
        }
        let month = Month::of(date);
        if month.last_day() == date {
            let ended = MonthEnded {
                month,
                time_zone,
                started_at: start_of(month.first_day()),
                ended_at: end,
            };
            let e = event("clock", &ended, end).once_for(&month.to_string());
            self.send(e);
        }
    }

    async fn grant_bonus(&mut self) {
        let worker = *self.workers.choose(&mut self.rng).unwrap();
        let amount = self.rng.gen_range(1..=100_000);
        let new = NewBonus {
            worker_id: worker,
            amount_cents: amount,
            reason: "kept the kit tidy".into(),
        };
        let key =
            IdempotencyKey::new(&self.manager.to_string(), &Uuid::now_v7().to_string()).unwrap();
        let request = Request {
            cause: Cause::request("test"),
            idempotency: Some(key),
            now: instant(
                &self.calendar,
                day(self.rng.gen_range(0..DAYS)),
                &mut self.rng,
            ),
        };
        let claims = claims(self.manager, Role::Manager);
        let mut first = None;
        for _ in 0..self.times() {
            match app::grant_bonus(&self.store, &self.calendar, &claims, &new, &request)
                .await
                .unwrap()
            {
                Answer::Fresh(bonus) => {
                    assert!(first.is_none(), "a repeated key grants nothing more");
                    first = Some(bonus.bonus_id);
                }
                Answer::Replayed(replay) => {
                    let bonus: serde_json::Value = serde_json::from_str(&replay.body).unwrap();
                    assert_eq!(
                        bonus["bonus_id"].as_str(),
                        first.map(|id| id.to_string()).as_deref()
                    );
                }
            }
        }
        self.expect(format!("bonus:{}", first.unwrap()), amount);
        self.earn(worker, amount);
    }

    /// One delivery of a pending event to its handler.
    async fn deliver(&mut self) {
        let i = self.rng.gen_range(0..self.pending.len());
        let (envelope, left) = self.pending[i].clone();
        if left <= 1 {
            self.pending.swap_remove(i);
        } else {
            self.pending[i].1 -= 1;
        }
        let now = envelope.occurred_at + Duration::minutes(1);
        let store = &self.store;
        let handled = match envelope.name.as_str() {
            "Order.SuccessInvoiced" | "Order.FailedInvoiced" | "Order.Cancelled" => {
                app::book_order(store, &self.calendar, &envelope, false).await
            }
            "Report.Fine" | "Report.FineWaived" => {
                app::book_quality(store, &self.calendar, &envelope, false).await
            }
            "Clock.WeekEnded" => app::issue_invoices(store, &envelope, now).await,
            "Clock.MonthEnded" => app::issue_statements(store, &envelope, now).await,
            "Payment.CollectionSucceeded" | "Payment.CollectionFailed" => {
                app::record_collection(store, &self.calendar, &envelope).await
            }
            "Payment.SalaryPaid" => app::record_salary(store, &self.calendar, &envelope).await,
            other => panic!("no handler for {other}"),
        };
        // Payments answers only what billing asked, after it was committed, and nothing runs
        // concurrently here: no handler has a reason to ask for a redelivery.
        if let Err(e) = handled {
            panic!("{} failed: {e}", envelope.name);
        }
    }

    /// Payments answers what billing asked of it: collections succeed or fail, salaries are paid.
    fn payments_answer(&mut self) {
        for e in self.store.published() {
            if self.answered.contains(&e.id) {
                continue;
            }
            self.answered.insert(e.id);
            match e.name.as_str() {
                "Billing.CollectionRequested" => {
                    let r = decode_collection_requested(&e).unwrap();
                    let when = r.requested_at + Duration::hours(1);
                    if self.rng.gen_bool(0.6) {
                        assert!(
                            self.collected
                                .insert(r.invoice_id, r.amount_cents)
                                .is_none(),
                            "collected twice"
                        );
                        let s = CollectionSucceeded {
                            invoice_id: r.invoice_id,
                            client_id: r.client_id,
                            attempt: r.attempt,
                            amount_cents: r.amount_cents,
                            card_last4: "4242".into(),
                            collected_at: when,
                        };
                        self.send(event("payments", &s, when));
                    } else {
                        *self.declines.entry(r.invoice_id).or_default() += 1;
                        let f = CollectionFailed {
                            invoice_id: r.invoice_id,
                            client_id: r.client_id,
                            attempt: r.attempt,
                            amount_cents: r.amount_cents,
                            reason: CollectionFailure::CardDeclined,
                            failed_at: when,
                        };
                        self.send(event("payments", &f, when));
                    }
                }
                "Billing.StatementIssued" => {
                    let s = decode_statement_issued(&e).unwrap();
                    if s.salary_cents > 0 {
                        let when = s.issued_at + Duration::hours(2);
                        let paid = SalaryPaid {
                            worker_id: s.worker_id,
                            month: s.month,
                            amount_cents: s.salary_cents,
                            transfer_id: Uuid::now_v7(),
                            paid_at: when,
                        };
                        *self.salaries.entry(s.worker_id).or_default() += s.salary_cents;
                        self.send(event("payments", &paid, when));
                    }
                }
                _ => {}
            }
        }
    }

    /// Delivers everything, bonuses granted on the way, payments answering and the dunning
    /// running now and then, until nothing is left.
    async fn run(&mut self) {
        let mut bonuses = self.rng.gen_range(0..4);
        let far = at("2027-12-31T00:00:00Z");
        let mut deliveries = 0;
        loop {
            while !self.pending.is_empty() {
                deliveries += 1;
                assert!(
                    deliveries < 20_000,
                    "the deliveries never end: {:?}",
                    self.pending.first()
                );
                self.deliver().await;
                if bonuses > 0 && self.rng.gen_bool(0.05) {
                    bonuses -= 1;
                    self.grant_bonus().await;
                }
                self.payments_answer();
                if self.rng.gen_bool(0.1) {
                    app::dun(&self.store, far).await.unwrap();
                    self.payments_answer();
                }
            }
            for _ in 0..bonuses {
                self.grant_bonus().await;
            }
            bonuses = 0;
            app::dun(&self.store, far).await.unwrap();
            self.payments_answer();
            // Late facts went to periods after the last one the clock ended: end those too.
            self.end_open_periods();
            if self.pending.is_empty() {
                break;
            }
        }
    }

    fn end_open_periods(&mut self) {
        let invoiced: HashSet<(Uuid, Week)> = self
            .store
            .invoices()
            .iter()
            .map(|i| (i.client_id, i.week))
            .collect();
        let stated: HashSet<(Uuid, Month)> = self
            .store
            .statements()
            .iter()
            .map(|s| (s.worker_id, s.month))
            .collect();
        let mut to_end = BTreeSet::new();
        for m in self.store.movements() {
            match (m.kind, m.period) {
                (Kind::Charge, Period::Week(w)) if !invoiced.contains(&(m.party, w)) => {
                    to_end.insert(w.sunday());
                }
                (Kind::Collection | Kind::Salary, _) | (Kind::Charge, _) => {}
                (_, Period::Month(mo)) if !stated.contains(&(m.party, mo)) => {
                    to_end.insert(mo.last_day());
                }
                _ => {}
            }
        }
        for date in to_end {
            self.end_of(date);
        }
    }

    /// Every property of the books, from what the history said.
    fn check(&self, seed: u64) {
        let movements = self.store.movements();
        let by_key: HashMap<&str, _> = movements.iter().map(|m| (m.key.as_str(), m)).collect();
        assert_eq!(
            by_key.len(),
            movements.len(),
            "seed {seed}: a movement twice"
        );

        // Each movement balances; the facts are posted once, each with its amount.
        for m in &movements {
            assert_eq!(
                m.legs.iter().map(|l| l.amount_cents).sum::<i64>(),
                0,
                "seed {seed}: {}",
                m.key
            );
        }

        // Each movement is dated by the business calendar; a fact counts in its business
        // day's week (a charge) or month (a worker's line), or, late, in a later one.
        for m in &movements {
            let on = self.calendar.business_date(m.at).unwrap();
            assert_eq!(m.date, on, "seed {seed}: {} at {}", m.key, m.at);
            let natural = match m.kind {
                Kind::Charge => Period::Week(Week::of(on)),
                Kind::Collection | Kind::Salary => continue,
                _ => Period::Month(Month::of(on)),
            };
            assert!(
                m.period >= natural,
                "seed {seed}: {} at {} ({on}) posted to {:?}",
                m.key,
                m.at,
                m.period
            );
        }
        let facts: BTreeMap<String, i64> = movements
            .iter()
            .filter(|m| !matches!(m.kind, Kind::Collection | Kind::Salary))
            .map(|m| (m.key.clone(), m.amount_cents))
            .collect();
        assert_eq!(
            facts, self.expected.amounts,
            "seed {seed}: the facts posted"
        );

        // Each invoice equals its orders' values; every charge is on exactly one invoice.
        let mut on_invoices = HashSet::new();
        for invoice in self.store.invoices() {
            let total: i64 = invoice.lines.iter().map(|l| l.amount_cents).sum();
            assert_eq!(invoice.total_cents, total, "seed {seed}");
            for line in &invoice.lines {
                let (client, value) = self.expected.charges_of(line.order_id);
                assert_eq!(
                    (invoice.client_id, line.amount_cents),
                    (client, value),
                    "seed {seed}"
                );
                assert!(
                    on_invoices.insert(line.order_id),
                    "seed {seed}: a charge on two invoices"
                );
                let charge = by_key[format!("charge:{}", line.order_id).as_str()];
                assert_eq!(charge.period, Period::Week(invoice.week), "seed {seed}");
            }
            // Paid exactly when payments collected it; its money posted once.
            let collected = self.collected.get(&invoice.invoice_id);
            assert_eq!(
                invoice.status == InvoiceStatus::Paid,
                collected.is_some(),
                "seed {seed}"
            );
            if let Some(amount) = collected {
                assert_eq!(*amount, invoice.total_cents);
                assert_eq!(
                    by_key[format!("collection:{}", invoice.invoice_id).as_str()].amount_cents,
                    *amount
                );
            } else {
                assert!(
                    !by_key.contains_key(format!("collection:{}", invoice.invoice_id).as_str()),
                    "seed {seed}: money that did not move"
                );
                let declines = self.declines.get(&invoice.invoice_id).copied().unwrap_or(0);
                assert_eq!(
                    declines, 4,
                    "seed {seed}: an unpaid invoice was tried four times"
                );
                assert_eq!(invoice.status, InvoiceStatus::Uncollectible, "seed {seed}");
            }
        }
        let charged: HashSet<Uuid> = self.expected.charges_keys();
        assert_eq!(
            on_invoices, charged,
            "seed {seed}: every charge invoiced, none in no period"
        );

        // No order settled without its collection, none twice, every collected one settled.
        let published = self.store.published();
        let ids: HashSet<Uuid> = published.iter().map(|e| e.id).collect();
        assert_eq!(
            ids.len(),
            published.len(),
            "seed {seed}: an event published twice"
        );
        let invoices: HashMap<Uuid, _> = self
            .store
            .invoices()
            .into_iter()
            .map(|i| (i.invoice_id, i))
            .collect();
        let mut settled = HashSet::new();
        for e in published
            .iter()
            .filter(|e| e.name == "Billing.OrderSettled")
        {
            let s = decode_order_settled(e).unwrap();
            let invoice = &invoices[&s.invoice_id];
            assert_eq!(
                invoice.status,
                InvoiceStatus::Paid,
                "seed {seed}: settled without collection"
            );
            assert!(invoice.lines.iter().any(|l| l.order_id == s.order_id));
            assert!(settled.insert(s.order_id), "seed {seed}: settled twice");
        }
        let should_settle: HashSet<Uuid> = invoices
            .values()
            .filter(|i| i.status == InvoiceStatus::Paid)
            .flat_map(|i| i.lines.iter().map(|l| l.order_id))
            .filter(|o| self.expected.settles.contains(o))
            .collect();
        assert_eq!(settled, should_settle, "seed {seed}");

        // Each statement carries in what the one before it carried out.
        let mut carried: HashMap<Uuid, i64> = HashMap::new();
        for e in published
            .iter()
            .filter(|e| e.name == "Billing.StatementIssued")
        {
            let s = decode_statement_issued(e).unwrap();
            let before = carried
                .insert(s.worker_id, s.carried_out_cents)
                .unwrap_or(0);
            assert_eq!(s.carried_in_cents, before, "seed {seed}: the debt carried");
        }

        // Each statement equals its lines; every worker line is on exactly one statement.
        let mut stated = HashSet::new();
        let mut salaries: HashMap<Uuid, i64> = HashMap::new();
        let mut lines_total: HashMap<Uuid, i64> = HashMap::new();
        for s in self.store.statements() {
            let sum = |kinds: &[Kind]| -> i64 {
                s.lines
                    .iter()
                    .map(|k| by_key[k.as_str()])
                    .filter(|m| kinds.contains(&m.kind))
                    .map(|m| m.amount_cents)
                    .sum()
            };
            assert_eq!(s.shares_cents, sum(&[Kind::Share]), "seed {seed}");
            assert_eq!(
                s.fines_cents,
                sum(&[Kind::Fine, Kind::QaFine]),
                "seed {seed}"
            );
            assert_eq!(s.waivers_cents, sum(&[Kind::Waiver]), "seed {seed}");
            assert_eq!(s.bonuses_cents, sum(&[Kind::Bonus]), "seed {seed}");
            assert_eq!(
                s.total_cents,
                s.carried_in_cents + s.shares_cents - s.fines_cents
                    + s.waivers_cents
                    + s.bonuses_cents
            );
            assert_eq!(s.salary_cents + s.carried_out_cents, s.total_cents);
            assert!(s.salary_cents >= 0 && s.carried_out_cents <= 0);
            for k in &s.lines {
                let m = by_key[k.as_str()];
                assert_eq!(
                    (m.party, m.period),
                    (s.worker_id, Period::Month(s.month)),
                    "seed {seed}"
                );
                assert!(
                    stated.insert(k.clone()),
                    "seed {seed}: a line on two statements"
                );
            }
            *lines_total.entry(s.worker_id).or_default() +=
                s.shares_cents - s.fines_cents + s.waivers_cents + s.bonuses_cents;
            if s.salary_cents > 0 {
                assert_eq!(
                    s.salary,
                    SalaryStatus::Paid,
                    "seed {seed}: the bank paid it"
                );
                *salaries.entry(s.worker_id).or_default() += s.salary_cents;
            }
        }
        let worker_lines: HashSet<String> = movements
            .iter()
            .filter(|m| m.earning_cents() != 0)
            .map(|m| m.key.clone())
            .collect();
        assert_eq!(
            stated, worker_lines,
            "seed {seed}: every line on one statement"
        );
        assert_eq!(salaries, self.salaries, "seed {seed}");

        // Every balance to the cent, from the history alone; together they are zero.
        let mut balances: BTreeMap<LedgerAccount, i64> = BTreeMap::new();
        for m in &movements {
            for leg in &m.legs {
                *balances.entry(leg.account).or_default() += leg.amount_cents;
            }
        }
        assert_eq!(
            balances.values().sum::<i64>(),
            0,
            "seed {seed}: the books balance"
        );
        let balance = |a: LedgerAccount| balances.get(&a).copied().unwrap_or(0);
        for &worker in &self.workers {
            let earned = self.expected.earnings.get(&worker).copied().unwrap_or(0);
            let paid = self.salaries.get(&worker).copied().unwrap_or(0);
            assert_eq!(
                balance(LedgerAccount::Worker(worker)),
                paid - earned,
                "seed {seed}: worker {worker}"
            );
            // What was earned and not paid is the debt carried.
            assert_eq!(
                lines_total.get(&worker).copied().unwrap_or(0),
                earned,
                "seed {seed}"
            );
        }
        let collected_total: i64 = self.collected.values().sum();
        let paid_total: i64 = self.salaries.values().sum();
        assert_eq!(
            balance(LedgerAccount::Cash),
            collected_total - paid_total,
            "seed {seed}"
        );
        for &client in &self.clients {
            let charged: i64 = self
                .expected
                .charges
                .values()
                .filter(|(c, _)| *c == client)
                .map(|(_, v)| v)
                .sum();
            let collected: i64 = invoices
                .values()
                .filter(|i| i.client_id == client && i.status == InvoiceStatus::Paid)
                .map(|i| i.total_cents)
                .sum();
            assert_eq!(
                balance(LedgerAccount::Client(client)),
                charged - collected,
                "seed {seed}"
            );
        }
        let charged_total: i64 = self.expected.charges.values().map(|(_, v)| v).sum();
        assert_eq!(
            balance(LedgerAccount::Revenue),
            -charged_total,
            "seed {seed}"
        );
    }
}

impl Expected {
    fn charges_of(&self, order: Uuid) -> (Uuid, i64) {
        self.charges[&order]
    }

    fn charges_keys(&self) -> HashSet<Uuid> {
        self.charges.keys().copied().collect()
    }
}

async fn history(seed: u64) -> World {
    let mut world = World::new(seed);
    let manager = account("Boss", Role::Manager);
    world.manager = manager.account_id;
    ates_kernel::copies::sync_account(&world.store, &account_event(&manager))
        .await
        .unwrap();
    for i in 0..world.rng.gen_range(1..=3) {
        let worker = account(&format!("Worker{i}"), Role::Worker);
        world.workers.push(worker.account_id);
        ates_kernel::copies::sync_account(&world.store, &account_event(&worker))
            .await
            .unwrap();
    }
    world.generate();
    // The charges the history made, from the keys it expects.
    let charges: Vec<(Uuid, i64)> = world
        .expected
        .amounts
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("charge:").map(|o| (o.parse().unwrap(), *v)))
        .collect();
    for (order, value) in charges {
        let client = world.client_of(order);
        world.expected.charges.insert(order, (client, value));
    }
    world.run().await;
    world
}

/// After everything, one more month ends: every worker in debt gets a statement carrying it
/// in, and the debt is what was earned and not paid.
async fn debts_carry(world: &mut World, seed: u64) {
    let last = world.store.statements().iter().map(|s| s.month).max();
    let Some(last) = last else { return };
    let mut carried = HashMap::new();
    for &worker in &world.workers {
        let debt = world
            .store
            .worker(worker)
            .await
            .unwrap()
            .map(|w| w.carried_cents)
            .unwrap_or(0);
        let earned = world.expected.earnings.get(&worker).copied().unwrap_or(0);
        let paid = world.salaries.get(&worker).copied().unwrap_or(0);
        assert_eq!(earned, paid + debt, "seed {seed}: earned = paid + carried");
        assert!(debt <= 0);
        carried.insert(worker, debt);
    }
    let month = last.next().next();
    let ended = MonthEnded {
        month,
        time_zone: world.calendar.zone_name().to_owned(),
        started_at: world.calendar.day(month.first_day()).unwrap().start,
        ended_at: world.calendar.day(month.last_day()).unwrap().end,
    };
    let e = event("clock", &ended, ended.ended_at);
    app::issue_statements(&world.store, &e, ended.ended_at)
        .await
        .unwrap();
    for (worker, debt) in carried {
        let statement = world
            .store
            .statements()
            .into_iter()
            .find(|s| s.worker_id == worker && s.month == month);
        match statement {
            Some(s) => {
                assert_eq!(
                    (s.carried_in_cents, s.total_cents, s.lines.len()),
                    (debt, debt, 0),
                    "seed {seed}"
                );
                assert!(
                    debt < 0,
                    "seed {seed}: a statement with neither lines nor debt"
                );
            }
            None => assert_eq!(debt, 0, "seed {seed}: debt carried without a statement"),
        }
    }
}

impl World {
    fn client_of(&self, order: Uuid) -> Uuid {
        self.pending
            .iter()
            .find_map(|(e, _)| {
                (e.data["order_id"].as_str() == Some(order.to_string().as_str())
                    && e.name.starts_with("Order."))
                .then(|| e.data["client_id"].as_str().unwrap().parse().unwrap())
            })
            .expect("the order's event")
    }
}

#[tokio::test]
async fn the_books_are_right_to_the_cent_whatever_the_order_and_the_repeats() {
    let cases: u64 = std::env::var("BILLING_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let mut invoices = 0;
    let mut statements = 0;
    let mut uncollectible = 0;
    for seed in 0..cases {
        let mut world = history(seed).await;
        world.check(seed);
        debts_carry(&mut world, seed).await;
        invoices += world.store.invoices().len();
        statements += world.store.statements().len();
        uncollectible += world
            .store
            .invoices()
            .iter()
            .filter(|i| i.status == InvoiceStatus::Uncollectible)
            .count();
    }
    // The histories reach every corner: invoices, statements, and dunning to its end.
    assert!(invoices > cases as usize, "{invoices} invoices");
    assert!(statements > cases as usize, "{statements} statements");
    assert!(uncollectible > 0, "no invoice went uncollectible");
}
