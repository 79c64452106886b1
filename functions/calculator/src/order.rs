//! An order as the calculator prices it (SPEC M3): its estimate, given once when the order is
//! created, and the exact price of each executor matched to it, set once per (order, executor)
//! and never changed.

use ates_kernel::contracts::calculator::{EstimateGiven, PriceSet};
use ates_kernel::contracts::hiring::Level;
use ates_kernel::contracts::matching::ExecutorMatched;
use ates_kernel::contracts::orders::OrderCreated;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::loyalty::PaidTotal;
use crate::price::{Estimate, OutOfRange, Price};

/// An order the calculator has estimated: what `Order.Created` said of it (the base price as
/// it was when ordered, whatever the service type became since) and the estimate given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricedOrder {
    pub order_id: Uuid,
    pub client_id: Uuid,
    pub service_type_id: Uuid,
    pub base_price_cents: i64,
    pub discount_pct: u32,
    pub estimate_cents: i64,
    pub given_at: DateTime<Utc>,
}

impl PricedOrder {
    /// The estimate of a new order for a client who has paid `paid` so far.
    pub fn estimate(
        created: &OrderCreated,
        paid: &PaidTotal,
        now: DateTime<Utc>,
    ) -> Result<PricedOrder, OutOfRange> {
        let estimate = Estimate::of(created.base_price_cents, paid.paid_cents)?;
        Ok(PricedOrder {
            order_id: created.order_id,
            client_id: created.client_id,
            service_type_id: created.service_type_id,
            base_price_cents: created.base_price_cents,
            discount_pct: estimate.discount_pct,
            estimate_cents: estimate.estimate_cents,
            given_at: now,
        })
    }

    /// `Calculator.EstimateGiven`.
    pub fn given(&self) -> EstimateGiven {
        EstimateGiven {
            order_id: self.order_id,
            client_id: self.client_id,
            base_price_cents: self.base_price_cents,
            discount_pct: self.discount_pct,
            estimate_cents: self.estimate_cents,
            given_at: self.given_at,
        }
    }
}

/// The price set for an order done by one executor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutorPrice {
    pub order_id: Uuid,
    pub executor_id: Uuid,
    pub level: Level,
    pub list_price_cents: i64,
    pub discount_pct: u32,
    pub value_cents: i64,
    /// The order's version of the match this price was computed for (`order_version` of
    /// `Matching.ExecutorMatched`).
    pub priced_version: u64,
    /// The order's version of the latest match of this executor answered: a later one is a new
    /// match of the same executor (after a release), an equal one a repeat.
    pub match_version: u64,
    pub set_at: DateTime<Utc>,
}

impl ExecutorPrice {
    pub fn price(&self) -> Price {
        Price {
            level: self.level,
            list_price_cents: self.list_price_cents,
            discount_pct: self.discount_pct,
            value_cents: self.value_cents,
        }
    }

    /// `Calculator.PriceSet`.
    pub fn set(&self) -> PriceSet {
        PriceSet {
            order_id: self.order_id,
            executor_id: self.executor_id,
            level: self.level,
            list_price_cents: self.list_price_cents,
            discount_pct: self.discount_pct,
            value_cents: self.value_cents,
            set_at: self.set_at,
        }
    }
}

/// What a match of an executor to a priced order comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pricing {
    /// The executor's first price for this order: kept and published.
    New(ExecutorPrice),
    /// The same match again, priced the same: nothing to do.
    Duplicate,
    /// An older match of this executor, already answered by a later one: nothing to do.
    Superseded,
    /// A later match of the same executor (the order was released and matched to them again):
    /// the first price stands and is published again, so the order can be valued again.
    Again(ExecutorPrice),
    /// The same match, priced again, comes to another price (the level or the client's
    /// discount changed meanwhile): the first price stands and nothing is published; the
    /// difference is for a person to look at.
    Refused { stored: Price, recomputed: Price },
}

/// Prices `matched` for `order`, its executor at `level`, its client having paid `paid`, given
/// the executor's price `stored` for this order if one was set before.
pub fn price_match(
    order: &PricedOrder,
    matched: &ExecutorMatched,
    level: Level,
    paid: &PaidTotal,
    stored: Option<&ExecutorPrice>,
    now: DateTime<Utc>,
) -> Result<Pricing, OutOfRange> {
    let recomputed = Price::of(order.base_price_cents, level, paid.paid_cents)?;
    let Some(stored) = stored else {
        return Ok(Pricing::New(ExecutorPrice {
            order_id: order.order_id,
            executor_id: matched.executor_id,
            level: recomputed.level,
            list_price_cents: recomputed.list_price_cents,
            discount_pct: recomputed.discount_pct,
            value_cents: recomputed.value_cents,
            priced_version: matched.order_version,
            match_version: matched.order_version,
            set_at: now,
        }));
    };
    Ok(match matched.order_version.cmp(&stored.match_version) {
        std::cmp::Ordering::Less => Pricing::Superseded,
        std::cmp::Ordering::Greater => Pricing::Again(ExecutorPrice {
            match_version: matched.order_version,
            ..stored.clone()
        }),
        // A repeat of a later match: its answer was the first price, whatever it would be now.
        std::cmp::Ordering::Equal if stored.match_version != stored.priced_version => {
            Pricing::Duplicate
        }
        std::cmp::Ordering::Equal if stored.price() == recomputed => Pricing::Duplicate,
        std::cmp::Ordering::Equal => Pricing::Refused {
            stored: stored.price(),
            recomputed,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn order() -> PricedOrder {
        PricedOrder {
            order_id: Uuid::from_u128(1),
            client_id: Uuid::from_u128(2),
            service_type_id: Uuid::from_u128(3),
            base_price_cents: 10_000,
            discount_pct: 0,
            estimate_cents: 10_000,
            given_at: at("2026-12-06T10:00:00Z"),
        }
    }

    fn matched(order_version: u64) -> ExecutorMatched {
        ExecutorMatched {
            order_id: Uuid::from_u128(1),
            order_version,
            executor_id: Uuid::from_u128(4),
            candidates: 3,
            matched_at: at("2026-12-06T10:01:00Z"),
        }
    }

    fn paid(paid_cents: i64) -> PaidTotal {
        PaidTotal {
            paid_cents,
            ..PaidTotal::none(Uuid::from_u128(2))
        }
    }

    fn first(level: Level) -> ExecutorPrice {
        let now = at("2026-12-06T10:02:00Z");
        match price_match(&order(), &matched(2), level, &paid(0), None, now).unwrap() {
            Pricing::New(price) => price,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_first_match_sets_the_executors_price() {
        let price = first(Level::Senior);
        assert_eq!(
            (
                price.list_price_cents,
                price.discount_pct,
                price.value_cents
            ),
            (12_000, 0, 12_000)
        );
        assert_eq!(price.match_version, 2);
        assert_eq!(price.set().value_cents, 12_000);
    }

    #[test]
    fn the_same_match_priced_the_same_is_a_duplicate_and_priced_otherwise_is_refused() {
        let stored = first(Level::Junior);
        let now = at("2026-12-06T11:00:00Z");
        let again = |level, paid| {
            price_match(&order(), &matched(2), level, &paid, Some(&stored), now).unwrap()
        };
        assert_eq!(again(Level::Junior, paid(0)), Pricing::Duplicate);
        let refused = again(Level::Middle, paid(0));
        assert_eq!(
            refused,
            Pricing::Refused {
                stored: stored.price(),
                recomputed: Price::of(10_000, Level::Middle, 0).unwrap()
            }
        );
        assert!(matches!(
            again(Level::Junior, paid(100_000)),
            Pricing::Refused { .. }
        ));
    }

    #[test]
    fn a_later_match_of_the_same_executor_keeps_the_first_price_and_an_older_one_is_superseded() {
        let stored = first(Level::Junior);
        let now = at("2026-12-06T11:00:00Z");
        let later = price_match(
            &order(),
            &matched(5),
            Level::Senior,
            &paid(2_000_000),
            Some(&stored),
            now,
        );
        assert_eq!(
            later.unwrap(),
            Pricing::Again(ExecutorPrice {
                match_version: 5,
                ..stored.clone()
            })
        );
        let older = price_match(
            &order(),
            &matched(1),
            Level::Junior,
            &paid(0),
            Some(&stored),
            now,
        );
        assert_eq!(older.unwrap(), Pricing::Superseded);
        // The later match delivered again, the level changed meanwhile: its answer stands too.
        let republished = ExecutorPrice {
            match_version: 5,
            ..stored.clone()
        };
        let repeat = price_match(
            &order(),
            &matched(5),
            Level::Senior,
            &paid(0),
            Some(&republished),
            now,
        );
        assert_eq!(repeat.unwrap(), Pricing::Duplicate);
    }
}
