//! The settlement's properties over generated books (issue #24's done-when), from fixed seeds so
//! a failure is reproduced by its seed: the pool is conserved to the cent, every winner's payout
//! is its proportional share within one cent, stakes come back on a cancel or when no one won;
//! the facts learned in any order and any number of times give the same results; the standings'
//! nets add up to zero and their transfers settle every one of them.

use std::collections::BTreeMap;

use ates_bidding::bet::{Book, Ending, NewBet, Outcome, Status};
use ates_bidding::settlement::{settle, Stake};
use ates_bidding::standings::{standings, SettledBet};
use chrono::{DateTime, Utc};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

const SEEDS: u64 = 2_000;

fn outcome(rng: &mut StdRng) -> Outcome {
    if rng.gen_bool(0.5) {
        Outcome::Success
    } else {
        Outcome::Failed
    }
}

fn stakes(rng: &mut StdRng) -> Vec<Stake> {
    (0..rng.gen_range(0..12))
        .map(|_| Stake {
            bet_id: Uuid::from_u128(rng.gen()),
            outcome: outcome(rng),
            // Mostly small stakes, so that shares often round.
            stake_cents: if rng.gen_bool(0.7) {
                rng.gen_range(100..=1_000)
            } else {
                rng.gen_range(100..=100_000)
            },
        })
        .collect()
}

#[test]
fn the_pool_is_shared_whole_in_proportion_within_a_cent() {
    for seed in 0..SEEDS {
        let mut rng = StdRng::seed_from_u64(seed);
        let stakes = stakes(&mut rng);
        let happened = outcome(&mut rng);
        let payouts = settle(&stakes, Some(happened));
        let pool: i64 = stakes.iter().map(|s| s.stake_cents).sum();
        let winning: i64 = stakes
            .iter()
            .filter(|s| s.outcome == happened)
            .map(|s| s.stake_cents)
            .sum();
        assert_eq!(
            payouts.iter().sum::<i64>(),
            pool,
            "seed {seed}: the pool, to the cent"
        );
        for (s, paid) in stakes.iter().zip(&payouts) {
            if winning == 0 {
                assert_eq!(
                    *paid, s.stake_cents,
                    "seed {seed}: no winner, the stake back"
                );
            } else if s.outcome == happened {
                // |paid − pool × stake / winning| < 1 cent.
                let off = i128::from(*paid) * i128::from(winning)
                    - i128::from(pool) * i128::from(s.stake_cents);
                assert!(
                    off.abs() < i128::from(winning),
                    "seed {seed}: {s:?} paid {paid}"
                );
            } else {
                assert_eq!(*paid, 0, "seed {seed}: a losing bet");
            }
        }
        // The split does not depend on the order the bets are given in.
        let mut shuffled: Vec<(Stake, i64)> = stakes.iter().copied().zip(payouts.clone()).collect();
        shuffled.shuffle(&mut rng);
        let again = settle(
            &shuffled.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
            Some(happened),
        );
        for ((s, before), after) in shuffled.iter().zip(again) {
            assert_eq!(
                *before, after,
                "seed {seed}: {s:?} paid the same in any order"
            );
        }
        // Cancelled: every stake back.
        let returned = settle(&stakes, None);
        assert_eq!(
            returned,
            stakes.iter().map(|s| s.stake_cents).collect::<Vec<_>>(),
            "seed {seed}"
        );
    }
}

fn minute(n: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_796_000_000 + n * 60, 0).unwrap()
}

/// A fact bidding learns about an order.
#[derive(Debug, Clone, Copy)]
enum Fact {
    Began(i64),
    Ended(Ending),
}

#[test]
fn facts_in_any_order_and_repeated_give_the_same_book() {
    for seed in 0..SEEDS {
        let mut rng = StdRng::seed_from_u64(seed);
        let order = Uuid::from_u128(rng.gen());
        // Bets placed at minutes 0..20 (each accepted: bidding had not heard the work began).
        let mut book = Book::default().created(minute(-1));
        for n in 0..rng.gen_range(0..8) {
            let bet = NewBet {
                order_id: order,
                outcome: outcome(&mut rng),
                stake_cents: rng.gen_range(100..=5_000),
            };
            let manager = Uuid::from_u128(n + 1);
            let (after, _) = book
                .place(
                    manager,
                    Uuid::from_u128(rng.gen()),
                    bet.validate().unwrap(),
                    minute(rng.gen_range(0..20)),
                )
                .unwrap();
            book = after;
        }
        let began = rng.gen_range(0..25);
        let ending = match rng.gen_range(0..3) {
            0 => Ending::Cancelled,
            _ => Ending::Invoiced(outcome(&mut rng)),
        };
        let expected = book.work_began(minute(began)).ended(ending);
        // Each fact delivered 1 to 3 times, shuffled.
        let mut facts = Vec::new();
        for fact in [Fact::Began(began), Fact::Ended(ending)] {
            for _ in 0..rng.gen_range(1..=3) {
                facts.push(fact);
            }
        }
        facts.shuffle(&mut rng);
        let mut learned = book.clone();
        for fact in &facts {
            learned = match *fact {
                Fact::Began(at) => learned.work_began(minute(at)),
                Fact::Ended(e) => learned.ended(e),
            };
        }
        assert_eq!(learned, expected, "seed {seed}: {facts:?}");
        let results = learned.results();
        let pool = learned.pool_cents();
        let counted: i64 = results
            .iter()
            .filter(|r| !r.void)
            .map(|r| r.bet.stake_cents)
            .sum();
        assert_eq!(pool, counted, "seed {seed}");
        let paid: i64 = results.iter().filter_map(|r| r.payout_cents).sum();
        assert_eq!(
            paid, pool,
            "seed {seed}: every counted stake paid out, no more"
        );
        for r in &results {
            assert_eq!(
                r.void,
                r.bet.placed_at >= minute(began),
                "seed {seed}: {r:?}"
            );
            if learned.status() == Status::Void && !r.void {
                assert_eq!(
                    r.payout_cents,
                    Some(r.bet.stake_cents),
                    "seed {seed}: cancelled"
                );
            }
        }
    }
}

#[test]
fn the_standings_settle_every_net_in_at_most_one_transfer_fewer_than_managers() {
    for seed in 0..SEEDS {
        let mut rng = StdRng::seed_from_u64(seed);
        let managers: Vec<Uuid> = (1..=rng.gen_range(1..=20)).map(Uuid::from_u128).collect();
        // Settled books: each bet by a different manager of the period's.
        let mut results = Vec::new();
        for _ in 0..rng.gen_range(0..6) {
            let mut bettors = managers.clone();
            bettors.shuffle(&mut rng);
            bettors.truncate(rng.gen_range(1..=managers.len().min(6)));
            let stakes: Vec<Stake> = bettors
                .iter()
                .map(|_| Stake {
                    bet_id: Uuid::from_u128(rng.gen()),
                    outcome: outcome(&mut rng),
                    stake_cents: rng.gen_range(100..=2_000),
                })
                .collect();
            let payouts = settle(&stakes, Some(outcome(&mut rng)));
            for ((m, s), p) in bettors.iter().zip(&stakes).zip(payouts) {
                results.push(SettledBet {
                    manager_id: *m,
                    stake_cents: s.stake_cents,
                    payout_cents: p,
                });
            }
        }
        let found = standings(&results);
        assert_eq!(
            found.nets.values().sum::<i64>(),
            0,
            "seed {seed}: the nets add up to zero"
        );
        let mut moved = BTreeMap::<Uuid, i64>::new();
        for t in &found.transfers {
            assert!(t.amount_cents > 0 && t.from != t.to, "seed {seed}: {t:?}");
            *moved.entry(t.from).or_default() -= t.amount_cents;
            *moved.entry(t.to).or_default() += t.amount_cents;
        }
        for (m, net) in &found.nets {
            assert_eq!(
                moved.get(m).copied().unwrap_or(0),
                *net,
                "seed {seed}: {m} settled"
            );
        }
        let owing = found.nets.values().filter(|n| **n != 0).count();
        assert!(
            found.transfers.len() < owing.max(1),
            "seed {seed}: {} transfers for {owing}",
            found.transfers.len()
        );
    }
}

#[test]
fn pairs_that_cancel_out_settle_in_one_transfer_each() {
    // Nets planted as pairs (+x, −x) among up to 16 managers: the fewest transfers is one a pair,
    // which paying the largest debtor to the largest creditor across everyone would often miss.
    for seed in 0..200 {
        let mut rng = StdRng::seed_from_u64(seed);
        let pairs = rng.gen_range(1..=8u128);
        let mut results = Vec::new();
        for p in 0..pairs {
            let x = rng.gen_range(1..=3_000);
            results.push(SettledBet {
                manager_id: Uuid::from_u128(2 * p + 1),
                stake_cents: 0,
                payout_cents: x,
            });
            results.push(SettledBet {
                manager_id: Uuid::from_u128(2 * p + 2),
                stake_cents: x,
                payout_cents: 0,
            });
        }
        results.shuffle(&mut rng);
        let found = standings(&results);
        assert_eq!(
            found.transfers.len() as u128,
            pairs,
            "seed {seed}: {:?}",
            found.transfers
        );
    }
}
