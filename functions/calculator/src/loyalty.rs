//! What a client has paid on invoices, which their loyalty discount follows (SPEC M3). Billing
//! (M7) is where invoices are paid; until it publishes paid invoices, nothing calls
//! [`crate::app::record_payment`] but the tests, and every client's total is zero.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::price::loyalty_discount_pct;

/// A client's paid invoices, summed. `version` counts the payments recorded (0: none yet, and
/// no item stored), so two payments recorded at once cannot both add to the same total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaidTotal {
    pub client_id: Uuid,
    pub paid_cents: i64,
    pub version: u64,
}

impl PaidTotal {
    /// A client who has paid nothing yet.
    pub fn none(client_id: Uuid) -> PaidTotal {
        PaidTotal {
            client_id,
            paid_cents: 0,
            version: 0,
        }
    }

    pub fn discount_pct(&self) -> u32 {
        loyalty_discount_pct(self.paid_cents)
    }

    /// The total with `payment` added.
    pub fn with(&self, payment: &Payment) -> PaidTotal {
        PaidTotal {
            client_id: self.client_id,
            paid_cents: self.paid_cents.saturating_add(payment.amount_cents),
            version: self.version + 1,
        }
    }
}

/// One paid invoice: counted once, by its id, however often it is reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    pub invoice_id: Uuid,
    pub client_id: Uuid,
    pub amount_cents: i64,
    pub paid_at: DateTime<Utc>,
}

/// A payment that cannot count toward a discount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a paid invoice of {0} cents adds nothing: an amount is at least one cent")]
pub struct NotAPayment(pub i64);

impl Payment {
    /// A paid invoice is a positive amount.
    pub fn check(&self) -> Result<(), NotAPayment> {
        if self.amount_cents > 0 {
            Ok(())
        } else {
            Err(NotAPayment(self.amount_cents))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payment(amount_cents: i64) -> Payment {
        Payment {
            invoice_id: Uuid::now_v7(),
            client_id: Uuid::now_v7(),
            amount_cents,
            paid_at: "2026-12-06T10:00:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn payments_add_up_to_the_next_bracket() {
        let client = Uuid::now_v7();
        let total = PaidTotal::none(client)
            .with(&payment(99_999))
            .with(&payment(1));
        assert_eq!(total.paid_cents, 100_000);
        assert_eq!(total.version, 2);
        assert_eq!(total.discount_pct(), 5);
        assert_eq!(PaidTotal::none(client).discount_pct(), 0);
    }

    #[test]
    fn only_a_positive_amount_is_a_payment() {
        assert!(payment(1).check().is_ok());
        assert_eq!(payment(0).check(), Err(NotAPayment(0)));
        assert_eq!(payment(-5).check(), Err(NotAPayment(-5)));
    }
}
