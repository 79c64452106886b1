//! Bidding's use cases: a bet placed (`POST /bets`), the order's facts learned from its events,
//! and the reads. Each write is a try of the kernel's executor (`usecase::execute`,
//! `execute_keyed`): it reads the order's book, asks the domain (`Book`) and commits the book as
//! read, so a bet and a fact that race are decided again on the book as it is.
//!
//! Bidding publishes nothing and moves no money: the payouts are results to read, and the
//! standings' transfers are advice. Only managers may run any of this (`Managers`; the routes
//! also need the `bets` scope, which only managers' tokens carry). A bet's details are logged at
//! debug level only.

use ates_kernel::calendar::{check_range, Calendar};
use ates_kernel::contracts::orders::{
    decode_order_cancelled, decode_order_created, decode_order_failed_invoiced,
    decode_order_in_work, decode_order_success_invoiced,
};
use ates_kernel::copies::AccountCopies;
use ates_kernel::event::{Envelope, EventError};
use ates_kernel::identity::{Capability, Claims, Rights, Role};
use ates_kernel::inbox::{ConsumeError, Outcome};
use ates_kernel::usecase::{execute, execute_keyed, kept, Answer, Attempt, Replays};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::bet::{Bet, BetError, Book, Ending, NewBet, Outcome as BetOutcome, Status};
use crate::error::BiddingError;
pub use crate::ports::{BiddingStore, Books, Learned, OrderFacts, Readings, Saved, StoredBook};
use crate::standings::{standings as settle_standings, SettledBet, Transfer};

pub use ates_kernel::usecase::Request;

/// Who bets and reads the bets (SPEC M8, seed 002): managers, and not even admins.
#[derive(Debug)]
pub struct Managers;

impl Rights for Managers {
    const ROLES: &'static [Role] = &[Role::Manager];
}

/// Inbox names: one per handler (the consumers' queues).
pub mod consumer {
    pub const ORDER_EVENTS: &str = "bidding.order-events";
    pub const SYNC_ACCOUNT: &str = "bidding.sync-account";
}

/// The copy of accounts (`Account.*` events): once per event, and only forward in revision.
pub use ates_kernel::copies::sync_account;

/// SPEC M8, `POST /bets`: the calling manager bets on an order bidding knows, once per order,
/// until its work begins. With an `Idempotency-Key`, a repeat answers the first bet.
pub async fn place_bet(
    store: &(impl Books + AccountCopies + Replays),
    claims: &Claims,
    new: &NewBet,
    request: &Request,
) -> Result<Answer<Bet>, BiddingError> {
    let manager: Capability<Managers> = claims.may(store).await?;
    let valid = new.validate()?;
    let keyed = request.keyed("place-bet", new)?;
    let bet_id = Uuid::now_v7();
    execute_keyed(store, keyed.as_ref(), || async {
        let read = store
            .book(valid.order_id())
            .await?
            .unwrap_or_else(|| StoredBook::none(valid.order_id()));
        let (after, bet) = match read
            .book
            .place(manager.account_id(), bet_id, valid, request.now)
        {
            Ok(placed) => placed,
            // What an earlier request under this key may have done: its first answer decides.
            Err(refused @ (BetError::AlreadyBet | BetError::Closed)) => {
                return Ok(Attempt::KeyUsed(refused.into()))
            }
            Err(refused) => return Err(refused.into()),
        };
        let answer = kept(&bet)?;
        let saved = store
            .place_bet(&read, &after, &bet, keyed.as_ref().map(|k| (k, answer.as_str())))
            .await?;
        if saved == Saved::Done {
            tracing::debug!(bet_id = %bet.bet_id, order_id = %bet.order_id, outcome = ?bet.outcome, stake_cents = bet.stake_cents, "bet placed");
        }
        Ok(saved.keyed_attempt(bet))
    })
    .await
}

fn poison(e: EventError) -> ConsumeError {
    ConsumeError::Poison(e.to_string())
}

/// A fact of an order, as its book learns it.
enum Fact {
    Created(DateTime<Utc>),
    WorkBegan(DateTime<Utc>),
    Ended(Ending, DateTime<Utc>),
}

/// `Order.Created` (the book exists), `Order.InWork` (its work began: bets close, and any bet
/// placed from then on is void), `Order.SuccessInvoiced` / `Order.FailedInvoiced` (settled) and
/// `Order.Cancelled` (void: every stake back). In any order and any number of times: the book
/// keeps facts, and a fact it knows changes nothing. A settled book is listed under the business
/// day it was invoiced on, for the standings.
///
/// N4: a `replayed` event (the archive replayed into bidding's rule by `bidding-replay`) is
/// learned again although the inbox has it: the book keeps each fact once by itself, so that is
/// safe, and a book the event settled is listed again under its day (a lost listing comes back;
/// one still there is written as it was). Bets are commands, never replayed and never touched.
pub async fn on_order_event(
    store: &(impl Books + OrderFacts),
    calendar: &Calendar,
    event: &Envelope,
    replayed: bool,
) -> Result<Outcome, ConsumeError> {
    let (order_id, fact) = match event.name.as_str() {
        "Order.Created" => {
            let created = decode_order_created(event).map_err(poison)?;
            (created.order_id, Fact::Created(created.at))
        }
        "Order.InWork" => {
            let step = decode_order_in_work(event).map_err(poison)?.0;
            (step.order_id, Fact::WorkBegan(step.at))
        }
        "Order.SuccessInvoiced" => {
            let o = decode_order_success_invoiced(event).map_err(poison)?.0;
            let ending = Ending::Invoiced(BetOutcome::Success);
            (o.order_id, Fact::Ended(ending, o.at))
        }
        "Order.FailedInvoiced" => {
            let o = decode_order_failed_invoiced(event).map_err(poison)?.0;
            let ending = Ending::Invoiced(BetOutcome::Failed);
            (o.order_id, Fact::Ended(ending, o.at))
        }
        "Order.Cancelled" => {
            let o = decode_order_cancelled(event).map_err(poison)?;
            (o.order_id, Fact::Ended(Ending::Cancelled, o.at))
        }
        _ => return Ok(Outcome::NotConcerned),
    };
    let settled_on = match &fact {
        Fact::Ended(Ending::Invoiced(_), at) => Some(
            calendar
                .business_date(*at)
                .map_err(|e| ConsumeError::Poison(e.to_string()))?,
        ),
        _ => None,
    };
    execute(|| async {
        let read = store
            .book(order_id)
            .await?
            .unwrap_or_else(|| StoredBook::none(order_id));
        let after = match &fact {
            Fact::Created(at) => read.book.created(*at),
            Fact::WorkBegan(at) => read.book.work_began(*at),
            Fact::Ended(ending, _) => read.book.ended(*ending),
        };
        // Listed as settled only by the ending that settled it (an order ends once): live, when
        // this event ends the book; replayed, when the book's ending is this event's.
        let listed = match &fact {
            Fact::Ended(ending, _) if replayed => {
                settled_on.filter(|_| after.ending == Some(*ending))
            }
            _ => settled_on.filter(|_| read.book.ending.is_none()),
        };
        if after == read.book && read.version > 0 && listed.is_none() {
            return Ok(Attempt::Done(Outcome::Duplicate));
        }
        Ok(
            match store
                .learn(
                    consumer::ORDER_EVENTS,
                    event,
                    &read,
                    &after,
                    listed,
                    replayed,
                )
                .await?
            {
                Learned::Applied => Attempt::Done(Outcome::Applied),
                Learned::Duplicate => Attempt::Done(Outcome::Duplicate),
                Learned::Stale => Attempt::Lost,
            },
        )
    })
    .await
}

/// One bet of a book, as `GET /bets/orders/{order_id}` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BetView {
    pub bet_id: Uuid,
    pub manager_id: Uuid,
    pub outcome: BetOutcome,
    pub stake_cents: i64,
    pub placed_at: DateTime<Utc>,
    /// Placed after the work began (bidding learned it later): it never counted.
    pub void: bool,
    /// `null` while the book is open, and for a void bet.
    pub payout_cents: Option<i64>,
}

/// `GET /bets/orders/{order_id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BookView {
    pub order_id: Uuid,
    pub status: Status,
    pub pool_cents: i64,
    pub bets: Vec<BetView>,
}

impl BookView {
    fn of(order_id: Uuid, book: &Book) -> BookView {
        BookView {
            order_id,
            status: book.status(),
            pool_cents: book.pool_cents(),
            bets: book
                .results()
                .into_iter()
                .map(|r| BetView {
                    bet_id: r.bet.bet_id,
                    manager_id: r.bet.manager_id,
                    outcome: r.bet.outcome,
                    stake_cents: r.bet.stake_cents,
                    placed_at: r.bet.placed_at,
                    void: r.void,
                    payout_cents: r.payout_cents,
                })
                .collect(),
        }
    }
}

/// SPEC M8: an order's book, every manager's bet in it and what each came to.
pub async fn order_book(
    store: &(impl Books + AccountCopies),
    claims: &Claims,
    order_id: Uuid,
) -> Result<BookView, BiddingError> {
    let _: Capability<Managers> = claims.may(store).await?;
    let stored = store
        .book(order_id)
        .await?
        .ok_or(BiddingError::UnknownOrder)?;
    Ok(BookView::of(order_id, &stored.book))
}

/// One of the caller's bets, as `GET /bets/mine` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MyBet {
    pub bet_id: Uuid,
    pub order_id: Uuid,
    pub outcome: BetOutcome,
    pub stake_cents: i64,
    pub placed_at: DateTime<Utc>,
    /// The order's book: open, settled or void.
    pub status: Status,
    pub void: bool,
    pub payout_cents: Option<i64>,
}

/// SPEC M8: the caller's bets, newest first, each with what it came to.
pub async fn my_bets(
    store: &(impl Books + Readings + AccountCopies),
    claims: &Claims,
) -> Result<Vec<MyBet>, BiddingError> {
    let manager: Capability<Managers> = claims.may(store).await?;
    let me = manager.account_id();
    let orders = store.orders_bet_by(me).await?;
    let mut mine: Vec<MyBet> = store
        .books(&orders)
        .await?
        .iter()
        .flat_map(|stored| {
            let status = stored.book.status();
            stored
                .book
                .results()
                .into_iter()
                .filter(|r| r.bet.manager_id == me)
                .map(move |r| MyBet {
                    bet_id: r.bet.bet_id,
                    order_id: r.bet.order_id,
                    outcome: r.bet.outcome,
                    stake_cents: r.bet.stake_cents,
                    placed_at: r.bet.placed_at,
                    status,
                    void: r.void,
                    payout_cents: r.payout_cents,
                })
        })
        .collect();
    mine.sort_by(|a, b| b.placed_at.cmp(&a.placed_at).then(b.bet_id.cmp(&a.bet_id)));
    Ok(mine)
}

/// One manager's net over the period: what their settled bets paid less what they staked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Net {
    pub manager_id: Uuid,
    pub net_cents: i64,
}

/// `GET /bets/standings?from&to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StandingsView {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Each manager with a bet that counted in a book settled in the period, by manager id.
    pub managers: Vec<Net>,
    /// The fewest transfers that would settle who owes whom (advice: nothing is paid).
    pub transfers: Vec<Transfer>,
}

/// SPEC M8: the standings over the books settled (invoiced) on the business days `from` to `to`.
/// A cancelled book returns every stake, so it changes no one's net and is left out.
pub async fn standings(
    store: &(impl Books + Readings + AccountCopies),
    claims: &Claims,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<StandingsView, BiddingError> {
    let _: Capability<Managers> = claims.may(store).await?;
    check_range(from, to).map_err(BiddingError::Invalid)?;
    let orders = store.settled_between(from, to).await?;
    let settled: Vec<SettledBet> = store
        .books(&orders)
        .await?
        .iter()
        .filter(|stored| stored.book.status() == Status::Settled)
        .flat_map(|stored| stored.book.results())
        .filter(|r| !r.void)
        .filter_map(|r| {
            r.payout_cents.map(|payout_cents| SettledBet {
                manager_id: r.bet.manager_id,
                stake_cents: r.bet.stake_cents,
                payout_cents,
            })
        })
        .collect();
    let found = settle_standings(&settled);
    Ok(StandingsView {
        from,
        to,
        managers: found
            .nets
            .into_iter()
            .map(|(manager_id, net_cents)| Net {
                manager_id,
                net_cents,
            })
            .collect(),
        transfers: found.transfers,
    })
}
