//! The pool of assignable accounts (T2, T3) as a dense array: the `size` assignable accounts fill
//! slots `0..size`, one small item each, and each member knows its slot. Picking a uniformly
//! random account is a uniformly random slot: two small reads (the size, then the slot) however
//! many accounts there are. Joining appends at slot `size`; leaving moves the last member into
//! the leaver's slot. Every change is conditional on the size it read, so changes are serialized,
//! and no item grows with the number of accounts. A single set of every id (the first design)
//! stops at DynamoDB's 400 KB item, about 11,000 accounts, and costs a read of all of it per pick.

use rand::Rng;
use uuid::Uuid;

/// Where an account stands, as read before a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// The account's slot, if it is a member.
    pub slot: Option<u64>,
    /// How many members the pool has.
    pub size: u64,
    /// The member in the last slot (`size - 1`); `None` only when the pool is empty.
    pub last: Option<Uuid>,
}

/// A change of the pool, applied only if the pool is still as read and the account's copy is
/// still at `revision`, the one the change was decided on: otherwise a consumer that read an
/// older copy could join an account a newer event has just taken out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PoolChange {
    /// `account` takes slot `size`; the pool grows by one.
    Join {
        account: Uuid,
        revision: u64,
        size: u64,
    },
    /// `account` leaves `slot`; `last`, the member in slot `size - 1`, moves into it (unless
    /// it is the account itself); the pool shrinks by one.
    Leave {
        account: Uuid,
        revision: u64,
        slot: u64,
        size: u64,
        last: Uuid,
    },
}

/// What brings the pool in step with `account`'s copy at `revision`, which takes tasks or not
/// (`assignable`): nothing when it already is.
pub fn change(account: Uuid, revision: u64, assignable: bool, place: &Place) -> Option<PoolChange> {
    match (assignable, place.slot, place.last) {
        (true, None, _) => Some(PoolChange::Join {
            account,
            revision,
            size: place.size,
        }),
        (false, Some(slot), Some(last)) => Some(PoolChange::Leave {
            account,
            revision,
            slot,
            size: place.size,
            last,
        }),
        _ => None,
    }
}

impl PoolChange {
    /// The account the change is about.
    pub fn account(&self) -> Uuid {
        match *self {
            PoolChange::Join { account, .. } | PoolChange::Leave { account, .. } => account,
        }
    }

    /// The revision of the account's copy the change was decided on.
    pub fn revision(&self) -> u64 {
        match *self {
            PoolChange::Join { revision, .. } | PoolChange::Leave { revision, .. } => revision,
        }
    }

    /// The change applied to the pool as a list of slots, if the pool is still as it was read
    /// (the size, the leaver's slot, the last member): what a store's conditions check.
    /// `false`: nothing changed.
    pub fn apply(&self, slots: &mut Vec<Uuid>) -> bool {
        let as_read = |size: u64| slots.len() as u64 == size;
        match *self {
            PoolChange::Join { account, size, .. } => {
                let fresh = as_read(size) && !slots.contains(&account);
                if fresh {
                    slots.push(account);
                }
                fresh
            }
            PoolChange::Leave {
                account,
                slot,
                size,
                last,
                ..
            } => {
                let fresh = as_read(size)
                    && slots.get(slot as usize) == Some(&account)
                    && slots.last() == Some(&last);
                if fresh {
                    slots.swap_remove(slot as usize);
                }
                fresh
            }
        }
    }
}

/// `n` slots drawn uniformly and independently from a pool of `size` (none from an empty pool).
pub fn pick_slots(size: u64, n: usize, rng: &mut impl Rng) -> Vec<u64> {
    if size == 0 {
        return Vec::new();
    }
    (0..n).map(|_| rng.gen_range(0..size)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn place(slots: &[Uuid], account: Uuid) -> Place {
        Place {
            slot: slots.iter().position(|a| *a == account).map(|s| s as u64),
            size: slots.len() as u64,
            last: slots.last().copied(),
        }
    }

    #[test]
    fn joins_and_leaves_keep_every_member_in_one_slot_with_no_gap() {
        let accounts: Vec<Uuid> = (0..6).map(|_| Uuid::now_v7()).collect();
        let mut slots = Vec::new();
        let mut rng = rand::rngs::StdRng::seed_from_u64(20261207);
        let mut assignable = std::collections::BTreeSet::new();
        for _ in 0..500 {
            let account = accounts[rng.gen_range(0..accounts.len())];
            let takes = rng.gen_bool(0.5);
            if let Some(c) = change(account, 1, takes, &place(&slots, account)) {
                assert!(c.apply(&mut slots), "{c:?} decided on the pool as it is");
            }
            if takes {
                assignable.insert(account);
            } else {
                assignable.remove(&account);
            }
            let members: std::collections::BTreeSet<Uuid> = slots.iter().copied().collect();
            assert_eq!(members.len(), slots.len(), "no account in two slots");
            assert_eq!(members, assignable);
        }
    }

    #[test]
    fn an_account_already_in_step_changes_nothing() {
        let (kiwi, mango) = (Uuid::now_v7(), Uuid::now_v7());
        let slots = vec![kiwi];
        assert_eq!(change(kiwi, 1, true, &place(&slots, kiwi)), None);
        assert_eq!(change(mango, 1, false, &place(&slots, mango)), None);
        assert_eq!(
            change(kiwi, 2, false, &place(&slots, kiwi)),
            Some(PoolChange::Leave {
                account: kiwi,
                revision: 2,
                slot: 0,
                size: 1,
                last: kiwi
            })
        );
    }

    #[test]
    fn slots_are_drawn_from_the_whole_pool_and_none_from_an_empty_one() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        assert!(pick_slots(0, 25, &mut rng).is_empty());
        let drawn = pick_slots(3, 300, &mut rng);
        assert!(drawn.iter().all(|s| *s < 3));
        assert!((0..3).all(|s| drawn.contains(&s)));
    }

    /// Pearson's chi-square statistic of observed counts against a uniform expectation.
    fn chi_square(counts: &[u64]) -> f64 {
        let total: u64 = counts.iter().sum();
        let expected = total as f64 / counts.len() as f64;
        counts
            .iter()
            .map(|&c| (c as f64 - expected).powi(2) / expected)
            .sum()
    }

    /// The 0.999 quantile of chi-square with 9 degrees of freedom.
    const CRITICAL_9_DOF: f64 = 27.877;

    #[test]
    fn a_draw_is_uniform_over_the_slots() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(20261121);
        let mut counts = [0u64; 10];
        for slot in pick_slots(10, 100_000, &mut rng) {
            counts[slot as usize] += 1;
        }
        let statistic = chi_square(&counts);
        assert!(
            statistic < CRITICAL_9_DOF,
            "chi-square {statistic:.2} over {counts:?}"
        );
    }

    #[test]
    fn the_uniformity_check_does_catch_a_biased_pick() {
        // The first account gets 12% instead of 10%: the check must see it.
        let counts = [
            12_000, 9_778, 9_778, 9_778, 9_778, 9_778, 9_778, 9_778, 9_778, 9_776,
        ];
        assert!(chi_square(&counts) > CRITICAL_9_DOF);
    }
}
