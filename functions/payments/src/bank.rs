//! The bank's adapters. Until a real bank is chosen the only one is the simulated bank, selected
//! by `BANK=simulated` (the default): its answer is a pure function of the IBAN and the
//! idempotency key (the reference is derived from the key), so the same key always gets the
//! same answer, as a real bank's idempotency keys promise. One test IBAN stands for a closed
//! account: every transfer to it is refused. A real bank is another adapter of `ports::Bank`,
//! chosen here by the same variable.

use uuid::Uuid;

use crate::payout::{Iban, Transfer};
use crate::ports::{Bank, Unreachable};

/// The bank the configuration names: `BANK`, `simulated` if unset.
pub fn from_env() -> Result<SimulatedBank, String> {
    match std::env::var("BANK").as_deref() {
        Err(_) | Ok("simulated") => Ok(SimulatedBank),
        Ok(other) => Err(format!(
            "BANK {other:?} is not a bank payments knows (only \"simulated\")"
        )),
    }
}

/// The simulated bank's closed account (a well-formed IBAN, its checksum right): transfers to
/// it are refused.
pub const CLOSED_ACCOUNT: &str = "NL91ABNA0417164300";

/// The references' namespace: a transfer's reference is derived from its idempotency key.
const REFERENCES: Uuid = Uuid::from_u128(0xba4c_0e57_1d1e_4f0a_8b5e_6c3d_2a1f_0e9d);

#[derive(Debug, Clone, Copy, Default)]
pub struct SimulatedBank;

impl SimulatedBank {
    /// The simulated bank's answer to a transfer to `to` under `idempotency_key`.
    pub fn answer(to: &Iban, idempotency_key: &str) -> Transfer {
        if to.as_str() == CLOSED_ACCOUNT {
            return Transfer::Refused {
                reason: "account_closed".into(),
            };
        }
        Transfer::Sent {
            reference: format!(
                "tr_sim_{}",
                Uuid::new_v5(&REFERENCES, idempotency_key.as_bytes()).simple()
            ),
        }
    }
}

impl Bank for SimulatedBank {
    async fn transfer(
        &self,
        to: &Iban,
        _amount_cents: i64,
        idempotency_key: &str,
    ) -> Result<Transfer, Unreachable> {
        Ok(Self::answer(to, idempotency_key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_closed_account_is_an_iban_and_every_transfer_to_it_is_refused() {
        let closed = Iban::parse(CLOSED_ACCOUNT).expect("its checksum holds");
        assert!(matches!(
            SimulatedBank::answer(&closed, "payout:a:2026-11-20#1"),
            Transfer::Refused { .. }
        ));
    }

    #[test]
    fn the_same_key_gets_the_same_reference_and_another_key_another() {
        let iban = Iban::parse("DE89370400440532013000").unwrap();
        let first = SimulatedBank::answer(&iban, "salary:w:2026-12#1");
        assert!(matches!(first, Transfer::Sent { .. }));
        assert_eq!(SimulatedBank::answer(&iban, "salary:w:2026-12#1"), first);
        assert_ne!(SimulatedBank::answer(&iban, "salary:w:2026-12#2"), first);
    }
}
