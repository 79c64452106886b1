//! Standings over a period (SPEC M8): each manager's net (what their settled bets paid less what
//! they staked) and the fewest transfers that would settle who owes whom. Nothing is paid: the
//! transfers are advice, as the results are.
//!
//! The nets add up to zero (every pool is paid out whole). Settling them takes at most one
//! transfer fewer than there are managers with a nonzero net; it takes fewer still when the
//! managers fall into groups whose nets add up to zero, each group settling apart. The fewest
//! transfers are the managers with a nonzero net less the most such groups; finding those is a
//! search over subsets, done exactly for up to [`EXACT_UP_TO`] managers; past that the managers
//! are settled as one group (at most one transfer fewer than managers, not always the fewest).

use std::collections::BTreeMap;

use serde::Serialize;
use uuid::Uuid;

/// The most managers with a nonzero net for which the fewest transfers are searched for
/// exactly (2^16 subsets).
pub const EXACT_UP_TO: usize = 16;

/// One settled bet's result for its manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettledBet {
    pub manager_id: Uuid,
    pub stake_cents: i64,
    pub payout_cents: i64,
}

/// `from` would pay `to` `amount_cents`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Transfer {
    pub from: Uuid,
    pub to: Uuid,
    pub amount_cents: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Standings {
    /// Each manager with a settled bet in the period, and their net (won − staked).
    pub nets: BTreeMap<Uuid, i64>,
    pub transfers: Vec<Transfer>,
}

/// The standings of these results.
pub fn standings(results: &[SettledBet]) -> Standings {
    let mut nets: BTreeMap<Uuid, i64> = BTreeMap::new();
    for r in results {
        *nets.entry(r.manager_id).or_default() += r.payout_cents - r.stake_cents;
    }
    let owed: Vec<(Uuid, i64)> = nets
        .iter()
        .filter(|(_, net)| **net != 0)
        .map(|(m, net)| (*m, *net))
        .collect();
    let transfers = zero_sum_groups(&owed)
        .iter()
        .flat_map(|g| settle_group(g))
        .collect();
    Standings { nets, transfers }
}

/// The managers in as many groups with nets adding up to zero as there can be (exactly up to
/// [`EXACT_UP_TO`] managers; one group past that).
fn zero_sum_groups(owed: &[(Uuid, i64)]) -> Vec<Vec<(Uuid, i64)>> {
    let n = owed.len();
    if n == 0 {
        return Vec::new();
    }
    if n > EXACT_UP_TO {
        return vec![owed.to_vec()];
    }
    let full = (1usize << n) - 1;
    let sum_of = |mask: usize| -> i64 {
        (0..n)
            .filter(|i| mask & (1 << i) != 0)
            .map(|i| owed[i].1)
            .sum()
    };
    // groups[mask]: the most zero-sum groups the managers in `mask` can be put in one after
    // another, adding one manager at a time (a set that sums to zero closes a group).
    let mut groups = vec![0u32; full + 1];
    for mask in 1..=full {
        let best = (0..n)
            .filter(|i| mask & (1 << i) != 0)
            .map(|i| groups[mask ^ (1 << i)])
            .max()
            .unwrap_or(0);
        groups[mask] = best + u32::from(sum_of(mask) == 0);
    }
    // Walk back from everyone, taking off a manager that keeps the count, to get the order in
    // which they were added; a group closes wherever the running sum comes back to zero.
    let mut order = Vec::with_capacity(n);
    let mut mask = full;
    while mask != 0 {
        let closes = u32::from(sum_of(mask) == 0);
        let i = (0..n)
            .find(|i| mask & (1 << i) != 0 && groups[mask ^ (1 << i)] + closes == groups[mask])
            .expect("some manager's removal gives the count");
        order.push(i);
        mask ^= 1 << i;
    }
    order.reverse();
    let mut found = Vec::new();
    let mut group = Vec::new();
    let mut running = 0;
    for i in order {
        group.push(owed[i]);
        running += owed[i].1;
        if running == 0 {
            found.push(std::mem::take(&mut group));
        }
    }
    found
}

/// One group's transfers: the one who owes most pays the one owed most, as much as settles one
/// of them, until all are even. Each transfer evens at least one of them and the last evens two,
/// so a group of m takes at most m − 1.
fn settle_group(group: &[(Uuid, i64)]) -> Vec<Transfer> {
    let mut left: Vec<(Uuid, i64)> = group.to_vec();
    let mut transfers = Vec::new();
    loop {
        // Ties by manager id, so the same nets give the same advice.
        let debtor = left
            .iter()
            .enumerate()
            .filter(|(_, (_, net))| *net < 0)
            .min_by(|a, b| a.1 .1.cmp(&b.1 .1).then(a.1 .0.cmp(&b.1 .0)))
            .map(|(i, _)| i);
        let creditor = left
            .iter()
            .enumerate()
            .filter(|(_, (_, net))| *net > 0)
            .max_by(|a, b| a.1 .1.cmp(&b.1 .1).then(b.1 .0.cmp(&a.1 .0)))
            .map(|(i, _)| i);
        let (Some(d), Some(c)) = (debtor, creditor) else {
            return transfers;
        };
        let amount = (-left[d].1).min(left[c].1);
        transfers.push(Transfer {
            from: left[d].0,
            to: left[c].0,
            amount_cents: amount,
        });
        left[d].1 += amount;
        left[c].1 -= amount;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn result(manager: u128, stake: i64, payout: i64) -> SettledBet {
        SettledBet {
            manager_id: id(manager),
            stake_cents: stake,
            payout_cents: payout,
        }
    }

    #[test]
    fn nets_are_won_less_staked_and_add_up_to_zero() {
        // One order: managers 1 and 2 won 300 and 600 of a pool of 900; 3 lost 400.
        let found = standings(&[result(1, 200, 300), result(2, 300, 600), result(3, 400, 0)]);
        assert_eq!(
            found.nets,
            BTreeMap::from([(id(1), 100), (id(2), 300), (id(3), -400)])
        );
        assert_eq!(
            found.transfers,
            [
                Transfer {
                    from: id(3),
                    to: id(2),
                    amount_cents: 300
                },
                Transfer {
                    from: id(3),
                    to: id(1),
                    amount_cents: 100
                },
            ]
        );
    }

    #[test]
    fn groups_that_settle_among_themselves_save_transfers() {
        // Nets +5, −5, +7, −3, −4 as one group, the largest debtor paying the largest creditor:
        // four transfers. As {+5, −5} and {+7, −3, −4}: three.
        let nets = [(1, 500), (2, -500), (3, 700), (4, -300), (5, -400)];
        let results: Vec<SettledBet> = nets
            .iter()
            .map(|&(m, net)| {
                if net > 0 {
                    result(m, 0, net)
                } else {
                    result(m, -net, 0)
                }
            })
            .collect();
        let found = standings(&results);
        // {1, 2} and {3, 4, 5}: 1 + 2 transfers, not 4.
        assert_eq!(found.transfers.len(), 3, "{:?}", found.transfers);
        let mut moved = BTreeMap::<Uuid, i64>::new();
        for t in &found.transfers {
            *moved.entry(t.from).or_default() -= t.amount_cents;
            *moved.entry(t.to).or_default() += t.amount_cents;
        }
        for (m, net) in nets {
            assert_eq!(moved.get(&id(m)), Some(&net), "manager {m} is settled");
        }
    }

    #[test]
    fn no_settled_bets_no_transfers() {
        assert_eq!(standings(&[]).transfers, []);
        // Even: a manager who got their stake back owes nothing.
        let even = standings(&[result(1, 500, 500)]);
        assert_eq!(even.nets, BTreeMap::from([(id(1), 0)]));
        assert_eq!(even.transfers, []);
    }
}
