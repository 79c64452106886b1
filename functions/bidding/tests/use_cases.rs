//! Bidding's use cases on the in-memory store: the requirements (SPEC M8), without HTTP or AWS.
//! Orders' events are built as orders publishes them, duplicated and out of order as the bus may
//! deliver them.

use ates_bidding::app::{self, Request};
use ates_bidding::bet::{Bet, BetError, NewBet, Outcome, Status};
use ates_bidding::error::BiddingError;
use ates_bidding::memory::MemoryStore;
use ates_bidding::standings::Transfer;
use ates_kernel::calendar::Calendar;
use ates_kernel::contracts::orders::{
    OrderCancelled, OrderCreated, OrderFailedInvoiced, OrderInWork, OrderInvoiced, OrderStep,
    OrderSuccessInvoiced, Place,
};
use ates_kernel::event::{Cause, Envelope};
use ates_kernel::idempotency::IdempotencyKey;
use ates_kernel::identity::{Refused, Role};
use ates_kernel::inbox::Outcome as Handled;
use ates_kernel::testing::{account, account_event, at, claims, date, event};
use ates_kernel::usecase::{Answer, Failure};
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

fn utc() -> Calendar {
    Calendar::new("UTC", "0").unwrap()
}

fn created(order_id: Uuid, when: DateTime<Utc>) -> Envelope {
    let created = OrderCreated {
        order_id,
        version: 1,
        places: vec![Place::New],
        client_id: Uuid::from_u128(0xc1),
        service_type_id: Uuid::from_u128(0x5e),
        service_type_revision: 1,
        base_price_cents: 10_000,
        required_skill: "carpets".into(),
        slot_start: when + Duration::days(1),
        slot_end: when + Duration::days(1) + Duration::minutes(90),
        supplies: vec![],
        at: when,
    };
    event("orders", &created, when)
}

fn in_work(order_id: Uuid, when: DateTime<Utc>) -> Envelope {
    let step = OrderStep {
        order_id,
        version: 8,
        places: vec![Place::InWork],
        executor_id: Uuid::from_u128(0xe1),
        at: when,
    };
    event("orders", &OrderInWork(step), when)
}

fn invoiced(order_id: Uuid, outcome: Outcome, when: DateTime<Utc>) -> Envelope {
    let o = OrderInvoiced {
        order_id,
        version: 10,
        places: vec![match outcome {
            Outcome::Success => Place::SuccessInvoiced,
            Outcome::Failed => Place::FailedInvoiced,
        }],
        client_id: Uuid::from_u128(0xc1),
        executor_id: Uuid::from_u128(0xe1),
        list_price_cents: 10_000,
        value_cents: 10_000,
        decided_by: None,
        reason: None,
        at: when,
    };
    match outcome {
        Outcome::Success => event("orders", &OrderSuccessInvoiced(o), when),
        Outcome::Failed => event("orders", &OrderFailedInvoiced(o), when),
    }
}

fn cancelled(order_id: Uuid, when: DateTime<Utc>) -> Envelope {
    let o = OrderCancelled {
        order_id,
        version: 3,
        places: vec![Place::Cancelled],
        client_id: Uuid::from_u128(0xc1),
        executor_id: None,
        value_cents: None,
        cancelled_by: Uuid::from_u128(0xc1),
        at: when,
    };
    event("orders", &o, when)
}

struct Office {
    store: MemoryStore,
    managers: Vec<Uuid>,
    admin: Uuid,
    others: Vec<(Uuid, Role)>,
}

async fn office() -> Office {
    let store = MemoryStore::default();
    let managers: Vec<_> = ["Ann", "Bob", "Cid"]
        .into_iter()
        .map(|n| account(n, Role::Manager))
        .collect();
    let admin = account("Root", Role::Admin);
    let others = [
        account("Ledger", Role::Accountant),
        account("Kiwi", Role::Worker),
        account("Client", Role::Client),
    ];
    for a in managers.iter().chain([&admin]).chain(others.iter()) {
        app::sync_account(&store, &account_event(a)).await.unwrap();
    }
    Office {
        store,
        managers: managers.iter().map(|m| m.account_id).collect(),
        admin: admin.account_id,
        others: others.iter().map(|a| (a.account_id, a.role)).collect(),
    }
}

fn request(key: Option<&str>, caller: Uuid, now: DateTime<Utc>) -> Request {
    Request {
        cause: Cause::request("test"),
        idempotency: key.map(|k| IdempotencyKey::new(&caller.to_string(), k).unwrap()),
        now,
    }
}

fn new_bet(order_id: Uuid, outcome: Outcome, stake_cents: i64) -> NewBet {
    NewBet {
        order_id,
        outcome,
        stake_cents,
    }
}

/// `manager` bets at minute `minute` of the day.
async fn bet(
    o: &Office,
    manager: Uuid,
    new: &NewBet,
    minute: i64,
) -> Result<Answer<Bet>, BiddingError> {
    app::place_bet(
        &o.store,
        &claims(manager, Role::Manager),
        new,
        &request(None, manager, minute_of(minute)),
    )
    .await
}

fn minute_of(n: i64) -> DateTime<Utc> {
    at("2026-12-07T10:00:00Z") + Duration::minutes(n)
}

fn fresh(answer: Result<Answer<Bet>, BiddingError>) -> Bet {
    match answer {
        Ok(Answer::Fresh(bet)) => bet,
        other => panic!("a fresh bet, not {other:?}"),
    }
}

async fn learn(o: &Office, e: &Envelope) -> Handled {
    app::on_order_event(&o.store, &utc(), e, false)
        .await
        .unwrap()
}

/// `e` as a replay of the archive delivers it again (`bidding-replay`, N4).
async fn replayed(o: &Office, e: &Envelope) -> Handled {
    app::on_order_event(&o.store, &utc(), e, true)
        .await
        .unwrap()
}

#[tokio::test]
async fn managers_bet_once_per_order_on_an_order_bidding_knows_until_its_work_begins() {
    let o = office().await;
    let order = Uuid::now_v7();
    let (ann, bob, cid) = (o.managers[0], o.managers[1], o.managers[2]);
    // Not known yet: refused, and nothing is written.
    let unknown = bet(&o, ann, &new_bet(order, Outcome::Success, 500), 0).await;
    assert!(matches!(unknown, Err(BiddingError::Bet(BetError::Unknown))));
    assert_eq!(
        learn(&o, &created(order, minute_of(0))).await,
        Handled::Applied
    );
    let placed = fresh(bet(&o, ann, &new_bet(order, Outcome::Success, 500), 1).await);
    assert_eq!((placed.manager_id, placed.stake_cents), (ann, 500));
    let second = bet(&o, ann, &new_bet(order, Outcome::Failed, 700), 2).await;
    assert!(matches!(
        second,
        Err(BiddingError::Bet(BetError::AlreadyBet))
    ));
    fresh(bet(&o, bob, &new_bet(order, Outcome::Failed, 300), 3).await);
    assert_eq!(
        learn(&o, &in_work(order, minute_of(5))).await,
        Handled::Applied
    );
    let late = bet(&o, cid, &new_bet(order, Outcome::Failed, 300), 6).await;
    assert!(matches!(late, Err(BiddingError::Bet(BetError::Closed))));
    let book = app::order_book(&o.store, &claims(cid, Role::Manager), order)
        .await
        .unwrap();
    assert_eq!((book.status, book.pool_cents), (Status::Open, 800));
    assert_eq!(book.bets.len(), 2);
    assert!(book.bets.iter().all(|b| b.payout_cents.is_none()));
}

#[tokio::test]
async fn a_stake_out_of_bounds_is_refused_before_anything_is_read() {
    let o = office().await;
    let order = Uuid::now_v7();
    learn(&o, &created(order, minute_of(0))).await;
    for cents in [99, 100_001, 0, -500] {
        let refused = bet(
            &o,
            o.managers[0],
            &new_bet(order, Outcome::Success, cents),
            1,
        )
        .await;
        assert!(
            matches!(refused, Err(BiddingError::Bet(BetError::Stake(c))) if c == cents),
            "{cents}"
        );
    }
    for cents in [100, 100_000] {
        let manager = if cents == 100 {
            o.managers[0]
        } else {
            o.managers[1]
        };
        fresh(bet(&o, manager, &new_bet(order, Outcome::Success, cents), 1).await);
    }
}

#[tokio::test]
async fn a_repeated_key_answers_the_first_bet_and_another_bet_under_it_is_refused() {
    let o = office().await;
    let order = Uuid::now_v7();
    let ann = o.managers[0];
    learn(&o, &created(order, minute_of(0))).await;
    let new = new_bet(order, Outcome::Success, 500);
    let boss = claims(ann, Role::Manager);
    let first = fresh(
        app::place_bet(
            &o.store,
            &boss,
            &new,
            &request(Some("k1"), ann, minute_of(1)),
        )
        .await,
    );
    let again = app::place_bet(
        &o.store,
        &boss,
        &new,
        &request(Some("k1"), ann, minute_of(2)),
    )
    .await
    .unwrap();
    let Answer::Replayed(replay) = again else {
        panic!("the first answer again")
    };
    assert!(replay.body.contains(&first.bet_id.to_string()));
    let other = new_bet(order, Outcome::Failed, 500);
    let reused = app::place_bet(
        &o.store,
        &boss,
        &other,
        &request(Some("k1"), ann, minute_of(3)),
    )
    .await;
    assert!(matches!(
        reused,
        Err(BiddingError::Failed(Failure::KeyReused))
    ));
    let book = app::order_book(&o.store, &boss, order).await.unwrap();
    assert_eq!(book.bets.len(), 1);
}

#[tokio::test]
async fn nobody_but_managers_bets_or_reads_the_bets_not_even_admins() {
    let o = office().await;
    let order = Uuid::now_v7();
    learn(&o, &created(order, minute_of(0))).await;
    let callers = o.others.iter().copied().chain([(o.admin, Role::Admin)]);
    for (id, role) in callers {
        let who = claims(id, role);
        let new = new_bet(order, Outcome::Success, 500);
        let placed = app::place_bet(&o.store, &who, &new, &request(None, id, minute_of(1))).await;
        assert!(
            matches!(
                placed,
                Err(BiddingError::Failed(Failure::Refused(Refused::NotAllowed(
                    _
                ))))
            ),
            "{role}"
        );
        let read = app::order_book(&o.store, &who, order).await;
        assert!(
            matches!(read, Err(BiddingError::Failed(Failure::Refused(_)))),
            "{role}"
        );
        let mine = app::my_bets(&o.store, &who).await;
        assert!(
            matches!(mine, Err(BiddingError::Failed(Failure::Refused(_)))),
            "{role}"
        );
        let standings =
            app::standings(&o.store, &who, date("2026-12-01"), date("2026-12-31")).await;
        assert!(
            matches!(standings, Err(BiddingError::Failed(Failure::Refused(_)))),
            "{role}"
        );
    }
    let book = app::order_book(&o.store, &claims(o.managers[0], Role::Manager), order)
        .await
        .unwrap();
    assert!(book.bets.is_empty());
}

#[tokio::test]
async fn an_invoiced_order_settles_pari_mutuel_whatever_order_its_facts_arrive_in() {
    let o = office().await;
    let order = Uuid::now_v7();
    let (ann, bob, cid) = (o.managers[0], o.managers[1], o.managers[2]);
    learn(&o, &created(order, minute_of(0))).await;
    let a = fresh(bet(&o, ann, &new_bet(order, Outcome::Success, 100), 1).await);
    let b = fresh(bet(&o, bob, &new_bet(order, Outcome::Success, 200), 2).await);
    // Cid's bet reaches bidding after the work began (minute 5), before bidding hears of it.
    let c = fresh(bet(&o, cid, &new_bet(order, Outcome::Failed, 900), 6).await);
    let settled = invoiced(order, Outcome::Success, at("2026-12-08T12:00:00Z"));
    let began = in_work(order, minute_of(5));
    assert_eq!(learn(&o, &settled).await, Handled::Applied);
    assert_eq!(learn(&o, &settled).await, Handled::Duplicate);
    assert_eq!(learn(&o, &began).await, Handled::Applied);
    assert_eq!(learn(&o, &began).await, Handled::Duplicate);
    // A cancellation after the invoice changes nothing: an order ends once.
    assert_eq!(
        learn(&o, &cancelled(order, at("2026-12-09T12:00:00Z"))).await,
        Handled::Duplicate
    );
    let book = app::order_book(&o.store, &claims(ann, Role::Manager), order)
        .await
        .unwrap();
    assert_eq!((book.status, book.pool_cents), (Status::Settled, 300));
    let payout = |id: Uuid| book.bets.iter().find(|v| v.bet_id == id).unwrap();
    // Only Ann and Bob's stakes count, both won: each gets their stake back.
    assert_eq!(payout(a.bet_id).payout_cents, Some(100));
    assert_eq!(payout(b.bet_id).payout_cents, Some(200));
    assert!(payout(c.bet_id).void && payout(c.bet_id).payout_cents.is_none());
    let mine = app::my_bets(&o.store, &claims(cid, Role::Manager))
        .await
        .unwrap();
    assert_eq!(mine.len(), 1);
    assert!(mine[0].void && mine[0].status == Status::Settled);
}

#[tokio::test]
async fn a_cancelled_order_returns_every_stake_and_counts_in_no_standings() {
    let o = office().await;
    let order = Uuid::now_v7();
    learn(&o, &created(order, minute_of(0))).await;
    fresh(bet(&o, o.managers[0], &new_bet(order, Outcome::Success, 400), 1).await);
    fresh(bet(&o, o.managers[1], &new_bet(order, Outcome::Failed, 600), 1).await);
    learn(&o, &cancelled(order, at("2026-12-08T12:00:00Z"))).await;
    let boss = claims(o.managers[0], Role::Manager);
    let book = app::order_book(&o.store, &boss, order).await.unwrap();
    assert_eq!(book.status, Status::Void);
    let paid: Vec<_> = book.bets.iter().map(|b| b.payout_cents).collect();
    assert_eq!(paid, [Some(400), Some(600)]);
    let standings = app::standings(&o.store, &boss, date("2026-12-01"), date("2026-12-31"))
        .await
        .unwrap();
    assert!(standings.managers.is_empty() && standings.transfers.is_empty());
}

#[tokio::test]
async fn standings_net_each_manager_over_the_books_settled_in_the_range_with_the_fewest_transfers()
{
    let o = office().await;
    let (ann, bob, cid) = (o.managers[0], o.managers[1], o.managers[2]);
    // Order 1, settled on Dec 8: Ann 100 and Bob 200 on success, Cid 300 on failure. Success:
    // Ann 200 (+100), Bob 400 (+200), Cid 0 (−300).
    let one = Uuid::now_v7();
    learn(&o, &created(one, minute_of(0))).await;
    fresh(bet(&o, ann, &new_bet(one, Outcome::Success, 100), 1).await);
    fresh(bet(&o, bob, &new_bet(one, Outcome::Success, 200), 1).await);
    fresh(bet(&o, cid, &new_bet(one, Outcome::Failed, 300), 1).await);
    learn(
        &o,
        &invoiced(one, Outcome::Success, at("2026-12-08T12:00:00Z")),
    )
    .await;
    // Order 2, settled on Dec 20: Ann 500 on failure, Bob 500 on success. Failed: Ann +500,
    // Bob −500.
    let two = Uuid::now_v7();
    learn(&o, &created(two, minute_of(0))).await;
    fresh(bet(&o, ann, &new_bet(two, Outcome::Failed, 500), 1).await);
    fresh(bet(&o, bob, &new_bet(two, Outcome::Success, 500), 1).await);
    learn(
        &o,
        &invoiced(two, Outcome::Failed, at("2026-12-20T12:00:00Z")),
    )
    .await;
    // Order 3, open: counts nowhere.
    let three = Uuid::now_v7();
    learn(&o, &created(three, minute_of(0))).await;
    fresh(bet(&o, cid, &new_bet(three, Outcome::Failed, 900), 1).await);

    let boss = claims(ann, Role::Manager);
    let first = app::standings(&o.store, &boss, date("2026-12-01"), date("2026-12-10"))
        .await
        .unwrap();
    let net = |s: &app::StandingsView, m: Uuid| {
        s.managers
            .iter()
            .find(|n| n.manager_id == m)
            .map(|n| n.net_cents)
    };
    assert_eq!(
        (net(&first, ann), net(&first, bob), net(&first, cid)),
        (Some(100), Some(200), Some(-300))
    );
    assert_eq!(first.transfers.len(), 2);
    let both = app::standings(&o.store, &boss, date("2026-12-01"), date("2026-12-31"))
        .await
        .unwrap();
    // Ann +600, Bob −300, Cid −300: two transfers, to Ann.
    assert_eq!(
        (net(&both, ann), net(&both, bob), net(&both, cid)),
        (Some(600), Some(-300), Some(-300))
    );
    let mut transfers = both.transfers.clone();
    transfers.sort_by_key(|t| t.from);
    let mut expected = vec![
        Transfer {
            from: bob,
            to: ann,
            amount_cents: 300,
        },
        Transfer {
            from: cid,
            to: ann,
            amount_cents: 300,
        },
    ];
    expected.sort_by_key(|t| t.from);
    assert_eq!(transfers, expected);
    let outside = app::standings(&o.store, &boss, date("2026-11-01"), date("2026-11-30"))
        .await
        .unwrap();
    assert!(outside.managers.is_empty());
    let backwards = app::standings(&o.store, &boss, date("2026-12-31"), date("2026-12-01")).await;
    assert!(matches!(backwards, Err(BiddingError::Invalid(_))));
    let mine = app::my_bets(&o.store, &claims(ann, Role::Manager))
        .await
        .unwrap();
    assert_eq!(mine.len(), 2);
}

#[tokio::test]
async fn other_events_are_none_of_biddings_business_and_a_fact_before_the_order_is_kept() {
    let o = office().await;
    let order = Uuid::now_v7();
    // The work began before bidding heard the order was created: the book is closed already.
    assert_eq!(
        learn(&o, &in_work(order, minute_of(5))).await,
        Handled::Applied
    );
    assert_eq!(
        learn(&o, &created(order, minute_of(0))).await,
        Handled::Applied
    );
    let late = bet(&o, o.managers[0], &new_bet(order, Outcome::Success, 500), 6).await;
    assert!(matches!(late, Err(BiddingError::Bet(BetError::Closed))));
    let stranger = account_event(&account("Zed", Role::Worker));
    assert_eq!(learn(&o, &stranger).await, Handled::NotConcerned);
    let unknown = app::order_book(
        &o.store,
        &claims(o.managers[0], Role::Manager),
        Uuid::now_v7(),
    )
    .await;
    assert!(matches!(unknown, Err(BiddingError::UnknownOrder)));
}

#[tokio::test]
async fn a_settled_book_whose_facts_and_listing_are_lost_is_rebuilt_by_a_replay_with_its_bets_untouched(
) {
    let o = office().await;
    let (ann, bob, cid) = (o.managers[0], o.managers[1], o.managers[2]);
    let order = Uuid::now_v7();
    let archive = [
        created(order, minute_of(0)),
        in_work(order, minute_of(5)),
        invoiced(order, Outcome::Success, at("2026-12-08T12:00:00Z")),
    ];
    learn(&o, &archive[0]).await;
    fresh(bet(&o, ann, &new_bet(order, Outcome::Success, 100), 1).await);
    fresh(bet(&o, bob, &new_bet(order, Outcome::Success, 300), 2).await);
    fresh(bet(&o, cid, &new_bet(order, Outcome::Failed, 200), 3).await);
    learn(&o, &archive[1]).await;
    learn(&o, &archive[2]).await;
    // Another order, cancelled: a replay lists it nowhere.
    let void = Uuid::now_v7();
    let void_archive = [
        created(void, minute_of(0)),
        cancelled(void, at("2026-12-08T13:00:00Z")),
    ];
    learn(&o, &void_archive[0]).await;
    fresh(bet(&o, ann, &new_bet(void, Outcome::Failed, 700), 1).await);
    learn(&o, &void_archive[1]).await;

    let boss = claims(ann, Role::Manager);
    let days = (date("2026-12-01"), date("2026-12-31"));
    let standings = || app::standings(&o.store, &boss, days.0, days.1);
    let before = standings().await.unwrap();
    assert_eq!(before.managers.len(), 3, "{before:?}");
    let book_before = app::order_book(&o.store, &boss, order).await.unwrap();
    assert_eq!(book_before.status, Status::Settled);

    // Lost: the book's facts and its listing; the bets stay. The standings no longer count it.
    o.store.lose_facts(order);
    o.store.lose_facts(void);
    assert!(standings().await.unwrap().managers.is_empty());
    assert_eq!(
        app::order_book(&o.store, &boss, order)
            .await
            .unwrap()
            .status,
        Status::Open
    );
    // Live, the events are duplicates: the inbox has them, and nothing comes back.
    assert_eq!(learn(&o, &archive[2]).await, Handled::Duplicate);
    assert!(standings().await.unwrap().managers.is_empty());

    // The replay: every event again, as the archive holds them.
    for e in archive.iter().chain(&void_archive) {
        assert_eq!(replayed(&o, e).await, Handled::Applied, "{}", e.name);
    }
    assert_eq!(standings().await.unwrap(), before);
    assert_eq!(
        app::order_book(&o.store, &boss, order).await.unwrap(),
        book_before
    );
    assert_eq!(
        app::order_book(&o.store, &boss, void).await.unwrap().status,
        Status::Void
    );

    // A second replay finds every fact known: only the listing is written again, as it was.
    assert_eq!(replayed(&o, &archive[0]).await, Handled::Duplicate);
    assert_eq!(replayed(&o, &archive[1]).await, Handled::Duplicate);
    assert_eq!(replayed(&o, &archive[2]).await, Handled::Applied);
    assert_eq!(replayed(&o, &void_archive[1]).await, Handled::Duplicate);
    assert_eq!(standings().await.unwrap(), before);
    assert_eq!(
        app::order_book(&o.store, &boss, order).await.unwrap(),
        book_before
    );
}
