//! The calculator's arithmetic (SPEC M3), plain integers: every amount is in cents, every
//! percentage whole, and every division rounds down to the cent, so a client is never charged a
//! fraction of a cent more than the rule says.
//!
//! - The loyalty discount follows what the client has paid on invoices so far: 0 % below
//!   $1,000, 5 % from $1,000, 8 % from $5,000, 12 % from $20,000.
//! - The estimate (seed 000 `rate_for_example`): the base price less the discount.
//! - The exact price (seed 000 `rate`): the base price × the executor's level (junior 90 %,
//!   middle 100 %, senior 120 %) is the list price, rounded down; less the discount, rounded
//!   down, is the value the client pays.

use ates_kernel::contracts::hiring::Level;
use serde::{Deserialize, Serialize};

/// The discount brackets, highest first: from this many cents paid, this percentage off.
const BRACKETS: [(i64, u32); 3] = [(2_000_000, 12), (500_000, 8), (100_000, 5)];

/// An amount the arithmetic cannot take: a price below zero, or one so large its products
/// leave an `i64` (no real service type is either; an event that carries one is refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0} cents is not a price the calculator can take")]
pub struct OutOfRange(pub i64);

/// The client's loyalty discount, in whole percent, for `paid_cents` of paid invoices.
pub fn loyalty_discount_pct(paid_cents: i64) -> u32 {
    BRACKETS
        .iter()
        .find(|(from, _)| paid_cents >= *from)
        .map_or(0, |(_, pct)| *pct)
}

/// What the executor's level makes of the base price, in whole percent.
pub fn level_pct(level: Level) -> u32 {
    match level {
        Level::Junior => 90,
        Level::Middle => 100,
        Level::Senior => 120,
    }
}

/// `amount × pct / 100`, rounded down (amounts are never negative, so integer division
/// rounds down). Computed wide, so no product overflows on the way.
fn percent_of(amount: i64, pct: u32) -> Result<i64, OutOfRange> {
    if amount < 0 {
        return Err(OutOfRange(amount));
    }
    let product = i128::from(amount) * i128::from(pct) / 100;
    i64::try_from(product).map_err(|_| OutOfRange(amount))
}

/// `amount` less `discount_pct` percent, rounded down.
fn less_discount(amount: i64, discount_pct: u32) -> Result<i64, OutOfRange> {
    percent_of(amount, 100 - discount_pct.min(100))
}

/// The preliminary estimate of an order (`Calculator.EstimateGiven`, `GET /calculator/quote`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Estimate {
    pub base_price_cents: i64,
    pub discount_pct: u32,
    pub estimate_cents: i64,
}

impl Estimate {
    /// The base price less the discount of a client who has paid `paid_cents`.
    pub fn of(base_price_cents: i64, paid_cents: i64) -> Result<Estimate, OutOfRange> {
        let discount_pct = loyalty_discount_pct(paid_cents);
        Ok(Estimate {
            base_price_cents,
            discount_pct,
            estimate_cents: less_discount(base_price_cents, discount_pct)?,
        })
    }
}

/// The exact price of an order done by an executor of `level` (`Calculator.PriceSet`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Price {
    pub level: Level,
    pub list_price_cents: i64,
    pub discount_pct: u32,
    pub value_cents: i64,
}

impl Price {
    /// The base price at the executor's level (the list price), less the discount of a client
    /// who has paid `paid_cents`.
    pub fn of(base_price_cents: i64, level: Level, paid_cents: i64) -> Result<Price, OutOfRange> {
        let list_price_cents = percent_of(base_price_cents, level_pct(level))?;
        let discount_pct = loyalty_discount_pct(paid_cents);
        Ok(Price {
            level,
            list_price_cents,
            discount_pct,
            value_cents: less_discount(list_price_cents, discount_pct)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn the_discount_starts_at_each_brackets_first_cent() {
        for (paid, pct) in [
            (0, 0),
            (99_999, 0),
            (100_000, 5),
            (499_999, 5),
            (500_000, 8),
            (1_999_999, 8),
            (2_000_000, 12),
            (i64::MAX, 12),
        ] {
            assert_eq!(loyalty_discount_pct(paid), pct, "after {paid} cents paid");
        }
    }

    #[test]
    fn a_client_below_a_thousand_dollars_pays_the_base_price() {
        let estimate = Estimate::of(12_345, 99_999).unwrap();
        assert_eq!(
            estimate,
            Estimate {
                base_price_cents: 12_345,
                discount_pct: 0,
                estimate_cents: 12_345
            }
        );
    }

    #[test]
    fn the_estimate_is_the_base_price_less_the_discount_rounded_down() {
        // 5 % off $123.45 is $117.2775: the client pays $117.27.
        assert_eq!(
            Estimate::of(12_345, 100_000).unwrap().estimate_cents,
            11_727
        );
        // 8 % off: $113.574 → $113.57; 12 % off: $108.636 → $108.63.
        assert_eq!(
            Estimate::of(12_345, 500_000).unwrap().estimate_cents,
            11_357
        );
        assert_eq!(
            Estimate::of(12_345, 2_000_000).unwrap().estimate_cents,
            10_863
        );
    }

    #[test]
    fn the_list_price_follows_the_executors_level_rounded_down() {
        let base = 10_001;
        let at = |level| Price::of(base, level, 0).unwrap().list_price_cents;
        assert_eq!(at(Level::Junior), 9_000, "90 % of 10001 is 9000.9");
        assert_eq!(at(Level::Middle), 10_001);
        assert_eq!(at(Level::Senior), 12_001, "120 % of 10001 is 12001.2");
    }

    #[test]
    fn the_value_is_the_list_price_less_the_discount_rounded_down() {
        // A senior's $100.01 order is listed at $120.01; 12 % off is $105.6088 → $105.60.
        let price = Price::of(10_001, Level::Senior, 2_000_000).unwrap();
        assert_eq!(
            price,
            Price {
                level: Level::Senior,
                list_price_cents: 12_001,
                discount_pct: 12,
                value_cents: 10_560
            }
        );
    }

    #[test]
    fn a_negative_or_overflowing_amount_is_refused() {
        assert_eq!(Estimate::of(-1, 0), Err(OutOfRange(-1)));
        assert_eq!(
            Price::of(i64::MAX, Level::Senior, 0),
            Err(OutOfRange(i64::MAX))
        );
        assert!(Price::of(i64::MAX, Level::Middle, 0).is_ok());
    }

    /// Many generated amounts (a fixed seed: a failure repeats): whatever the base, level and
    /// paid total, every amount is whole cents, never negative, never above what it was reduced
    /// from, and exactly the rounded-down rule.
    #[test]
    fn every_price_is_never_negative_never_above_its_list_and_always_rounded_down() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(0x0000_a7e5_ca1c);
        for _ in 0..20_000 {
            let base = rng.gen_range(0..=2_000_000_i64);
            let paid = rng.gen_range(0..=3_000_000_i64);
            let level = Level::ALL[rng.gen_range(0..Level::ALL.len())];
            let price = Price::of(base, level, paid).unwrap();
            let estimate = Estimate::of(base, paid).unwrap();
            let pct = i64::from(price.discount_pct);
            assert!(price.value_cents >= 0 && estimate.estimate_cents >= 0);
            assert!(price.value_cents <= price.list_price_cents, "{price:?}");
            assert!(estimate.estimate_cents <= base, "{estimate:?}");
            assert_eq!(price.discount_pct, estimate.discount_pct);
            // Rounded down: the exact amount is at most one cent short of the next cent, never
            // above the amount kept (compared × 100, in whole numbers).
            let list_exact = base * i64::from(level_pct(level));
            assert!(price.list_price_cents * 100 <= list_exact);
            assert!(list_exact < (price.list_price_cents + 1) * 100);
            let value_exact = price.list_price_cents * (100 - pct);
            assert!(price.value_cents * 100 <= value_exact);
            assert!(value_exact < (price.value_cents + 1) * 100);
            let estimate_exact = base * (100 - pct);
            assert!(estimate.estimate_cents * 100 <= estimate_exact);
            assert!(estimate_exact < (estimate.estimate_cents + 1) * 100);
        }
    }
}
