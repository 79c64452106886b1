//! The acquirer's adapters. Until a real acquirer is chosen the only one is the simulated
//! acquirer, selected by `ACQUIRER=simulated` (the default): it answers as Stripe's test tokens
//! do, and its answer is a pure function of the token (and the charge id of the idempotency
//! key), so the same key always gets the same answer, as a real acquirer's idempotency keys
//! promise. A real acquirer is another adapter of `ports::Acquirer`, chosen here by the same
//! variable.

use uuid::Uuid;

use crate::collection::Charge;
use crate::ports::{Acquirer, CardDetails, Unreachable, Verification};

/// The acquirer the configuration names: `ACQUIRER`, `simulated` if unset.
pub fn from_env() -> Result<SimulatedAcquirer, String> {
    match std::env::var("ACQUIRER").as_deref() {
        Err(_) | Ok("simulated") => Ok(SimulatedAcquirer),
        Ok(other) => Err(format!(
            "ACQUIRER {other:?} is not an acquirer payments knows (only \"simulated\")"
        )),
    }
}

/// Stripe's test tokens: a Visa and a Mastercard that pay, and a card that is taken on file but
/// whose every charge is declined.
const TEST_CARDS: [(&str, &str, &str, bool); 3] = [
    ("tok_visa", "4242", "visa", true),
    ("tok_mastercard", "4444", "mastercard", true),
    ("tok_chargeDeclined", "0341", "visa", false),
];

/// The charge ids' namespace: a charge id is derived from its idempotency key.
const CHARGES: Uuid = Uuid::from_u128(0x5a1e_0c4a_7e57_4ca7_9d0c_2b1f_0e5a_11ed);

#[derive(Debug, Clone, Copy, Default)]
pub struct SimulatedAcquirer;

impl SimulatedAcquirer {
    fn card(token: &str) -> Option<(&'static str, &'static str, bool)> {
        TEST_CARDS
            .iter()
            .find(|(t, ..)| *t == token)
            .map(|(_, last4, brand, pays)| (*last4, *brand, *pays))
    }

    /// What the simulated acquirer says of `token` (the fake of the tests says the same).
    pub fn verification(token: &str) -> Verification {
        match Self::card(token) {
            Some((last4, brand, _)) => Verification::Accepted(CardDetails {
                last4: last4.into(),
                brand: brand.into(),
            }),
            None => Verification::Refused("no such card token".into()),
        }
    }

    /// The simulated acquirer's answer to a charge of `token` under `idempotency_key`.
    pub fn answer(token: &str, idempotency_key: &str) -> Charge {
        match Self::card(token) {
            Some((_, _, true)) => Charge::Approved {
                charge_id: format!(
                    "ch_sim_{}",
                    Uuid::new_v5(&CHARGES, idempotency_key.as_bytes()).simple()
                ),
            },
            Some((_, _, false)) => Charge::Declined {
                reason: "card_declined".into(),
            },
            None => Charge::Declined {
                reason: "no such card token".into(),
            },
        }
    }
}

impl Acquirer for SimulatedAcquirer {
    async fn verify(&self, token: &str) -> Result<Verification, Unreachable> {
        Ok(Self::verification(token))
    }

    async fn charge(
        &self,
        token: &str,
        _amount_cents: i64,
        idempotency_key: &str,
    ) -> Result<Charge, Unreachable> {
        Ok(Self::answer(token, idempotency_key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_test_tokens_are_taken_on_file_and_any_other_is_refused() {
        let details = |token| match SimulatedAcquirer::verification(token) {
            Verification::Accepted(d) => Some((d.last4, d.brand)),
            Verification::Refused(_) => None,
        };
        assert_eq!(details("tok_visa"), Some(("4242".into(), "visa".into())));
        assert_eq!(
            details("tok_mastercard"),
            Some(("4444".into(), "mastercard".into()))
        );
        assert_eq!(
            details("tok_chargeDeclined"),
            Some(("0341".into(), "visa".into()))
        );
        assert_eq!(details("tok_unknown"), None);
    }

    #[test]
    fn visa_and_mastercard_pay_and_the_declining_card_never_does() {
        let key = "invoice:1:1";
        for token in ["tok_visa", "tok_mastercard"] {
            assert!(matches!(
                SimulatedAcquirer::answer(token, key),
                Charge::Approved { .. }
            ));
        }
        assert_eq!(
            SimulatedAcquirer::answer("tok_chargeDeclined", key),
            Charge::Declined {
                reason: "card_declined".into()
            }
        );
    }

    #[test]
    fn the_same_key_gets_the_same_charge_and_another_key_another() {
        let first = SimulatedAcquirer::answer("tok_visa", "invoice:1:1");
        assert_eq!(SimulatedAcquirer::answer("tok_visa", "invoice:1:1"), first);
        assert_ne!(SimulatedAcquirer::answer("tok_visa", "invoice:1:2"), first);
    }
}
