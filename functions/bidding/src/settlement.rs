//! Pari-mutuel settlement (SPEC M8): the whole pool goes to the bets on the outcome that
//! happened, each in proportion to its stake. Shares are whole cents: each winner first gets
//! its exact share rounded down, then the cents left over go one each to the winners whose
//! shares lost the most in rounding (largest remainder), ties to the smaller bet id, so the
//! payouts add up to the pool exactly and the split is the same however often it is computed.
//! With no bet on the outcome that happened (or no outcome: a cancelled order) every stake is
//! returned.

use uuid::Uuid;

use crate::bet::Outcome;

/// A bet as the settlement sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stake {
    pub bet_id: Uuid,
    pub outcome: Outcome,
    pub stake_cents: i64,
}

/// Each stake's payout, in the order given. `happened` is the order's outcome, `None` when the
/// order was cancelled.
pub fn settle(stakes: &[Stake], happened: Option<Outcome>) -> Vec<i64> {
    let won = |s: &Stake| Some(s.outcome) == happened;
    let winning: i128 = stakes
        .iter()
        .filter(|s| won(s))
        .map(|s| i128::from(s.stake_cents))
        .sum();
    if winning == 0 {
        return stakes.iter().map(|s| s.stake_cents).collect();
    }
    let pool: i128 = stakes.iter().map(|s| i128::from(s.stake_cents)).sum();
    // pool × stake / winning, as a whole part and what rounding down left of it.
    let mut payouts: Vec<i128> = Vec::with_capacity(stakes.len());
    let mut remainders: Vec<(i128, Uuid, usize)> = Vec::new();
    for (i, s) in stakes.iter().enumerate() {
        if won(s) {
            let exact = pool * i128::from(s.stake_cents);
            payouts.push(exact / winning);
            remainders.push((exact % winning, s.bet_id, i));
        } else {
            payouts.push(0);
        }
    }
    let left = pool - payouts.iter().sum::<i128>();
    // Fewer cents are left than there are winners (each lost less than one in rounding).
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for &(_, _, i) in remainders.iter().take(left as usize) {
        payouts[i] += 1;
    }
    payouts
        .into_iter()
        .map(|p| i64::try_from(p).expect("a payout is at most the pool, a sum of i64 stakes"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bet::Outcome::{Failed, Success};

    fn stake(n: u128, outcome: Outcome, cents: i64) -> Stake {
        Stake {
            bet_id: Uuid::from_u128(n),
            outcome,
            stake_cents: cents,
        }
    }

    #[test]
    fn the_winners_share_the_pool_in_proportion_to_their_stakes() {
        // Pool 600: the winners staked 100 and 200 of it, so they get a third and two thirds.
        let stakes = [
            stake(1, Success, 100),
            stake(2, Success, 200),
            stake(3, Failed, 300),
        ];
        assert_eq!(settle(&stakes, Some(Success)), [200, 400, 0]);
        assert_eq!(settle(&stakes, Some(Failed)), [0, 0, 600]);
    }

    #[test]
    fn the_cents_left_by_rounding_go_to_the_largest_remainders_ties_by_bet_id() {
        // Pool 1000 among three equal winners: 333 each, one cent left, to the smallest id.
        let stakes = [
            stake(3, Success, 100),
            stake(1, Success, 100),
            stake(2, Success, 100),
            stake(9, Failed, 700),
        ];
        assert_eq!(settle(&stakes, Some(Success)), [333, 334, 333, 0]);
        // Pool 1001 among stakes 100 and 200: exact shares 333.67 and 667.33, the cent goes
        // to the larger remainder (the first), not to the smaller id.
        let stakes = [
            stake(2, Success, 100),
            stake(1, Success, 200),
            stake(3, Failed, 701),
        ];
        assert_eq!(settle(&stakes, Some(Success)), [334, 667, 0]);
    }

    #[test]
    fn with_no_winner_or_no_outcome_every_stake_is_returned() {
        let stakes = [stake(1, Failed, 150), stake(2, Failed, 250)];
        assert_eq!(settle(&stakes, Some(Success)), [150, 250]);
        let stakes = [stake(1, Success, 150), stake(2, Failed, 250)];
        assert_eq!(settle(&stakes, None), [150, 250]);
        assert_eq!(settle(&[], Some(Success)), Vec::<i64>::new());
    }
}
