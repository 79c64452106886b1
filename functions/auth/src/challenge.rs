//! Passwordless sign-in (SPEC A3): a six-digit one-time code, mailed, expiring, single-use,
//! with both the codes sent and the guesses made rate-limited.

use rand::Rng;
use sha2::{Digest, Sha256};

use crate::error::AuthError;

pub const CODE_LIFETIME_SECONDS: i64 = 10 * 60;
pub const MAX_GUESSES: u32 = 5;
pub const MAX_CODES_PER_WINDOW: u32 = 3;
pub const WINDOW_SECONDS: i64 = 15 * 60;

/// The pending code of one email address, as stored (the code itself only as a hash).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Challenge {
    pub code_hash: String,
    pub expires_at: i64,
    pub guesses: u32,
    pub window_started_at: i64,
    pub codes_in_window: u32,
    /// Optimistic concurrency: every write expects the version it read.
    pub version: u64,
}

/// The outcome of a guess.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Guess {
    Right,
    /// Wrong.
    Wrong,
    /// Expired or out of guesses: a new code is needed.
    Spent,
}

pub fn hash_code(email: &str, code: &str) -> String {
    hex::encode(Sha256::digest(format!("{email}:{code}").as_bytes()))
}

/// A fresh code for `email`, unless too many were sent recently.
pub fn issue(
    email: &str,
    previous: Option<&Challenge>,
    now: i64,
    rng: &mut impl Rng,
) -> Result<(Challenge, String), AuthError> {
    let (window_started_at, codes_in_window) = match previous {
        Some(p) if now - p.window_started_at < WINDOW_SECONDS => {
            if p.codes_in_window >= MAX_CODES_PER_WINDOW {
                return Err(AuthError::TooMany(format!(
                    "at most {MAX_CODES_PER_WINDOW} codes per {} minutes; try again later",
                    WINDOW_SECONDS / 60
                )));
            }
            (p.window_started_at, p.codes_in_window + 1)
        }
        _ => (now, 1),
    };
    let code = format!("{:06}", rng.gen_range(0..1_000_000));
    let challenge = Challenge {
        code_hash: hash_code(email, &code),
        expires_at: now + CODE_LIFETIME_SECONDS,
        guesses: 0,
        window_started_at,
        codes_in_window,
        version: previous.map_or(1, |p| p.version + 1),
    };
    Ok((challenge, code))
}

/// Judges a guess. Comparison is over hashes, in constant time.
pub fn guess(challenge: &Challenge, email: &str, code: &str, now: i64) -> Guess {
    if now >= challenge.expires_at || challenge.guesses >= MAX_GUESSES {
        return Guess::Spent;
    }
    let given = hash_code(email, code.trim());
    let same = given.len() == challenge.code_hash.len()
        && given
            .bytes()
            .zip(challenge.code_hash.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if same {
        Guess::Right
    } else {
        Guess::Wrong
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    const EMAIL: &str = "kiwi@uberpopug.example";

    fn rng() -> rand::rngs::StdRng {
        rand::rngs::StdRng::seed_from_u64(7)
    }

    #[test]
    fn the_right_code_signs_in_before_it_expires() {
        let (challenge, code) = issue(EMAIL, None, 1000, &mut rng()).unwrap();
        assert_eq!(code.len(), 6);
        assert_eq!(guess(&challenge, EMAIL, &code, 1001), Guess::Right);
        assert_eq!(
            guess(&challenge, EMAIL, &code, 1000 + CODE_LIFETIME_SECONDS),
            Guess::Spent
        );
    }

    #[test]
    fn a_code_is_bound_to_its_email() {
        let (challenge, code) = issue(EMAIL, None, 1000, &mut rng()).unwrap();
        assert_eq!(
            guess(&challenge, "other@uberpopug.example", &code, 1001),
            Guess::Wrong
        );
    }

    #[test]
    fn guesses_are_limited() {
        let (mut challenge, code) = issue(EMAIL, None, 1000, &mut rng()).unwrap();
        for _ in 0..MAX_GUESSES {
            assert_eq!(guess(&challenge, EMAIL, "not-it", 1001), Guess::Wrong);
            challenge.guesses += 1; // as the store counts it
        }
        assert_eq!(
            guess(&challenge, EMAIL, &code, 1002),
            Guess::Spent,
            "even the right code is refused now"
        );
    }

    #[test]
    fn codes_sent_are_limited_per_window() {
        let mut rng = rng();
        let (mut challenge, _) = issue(EMAIL, None, 1000, &mut rng).unwrap();
        for _ in 1..MAX_CODES_PER_WINDOW {
            challenge = issue(EMAIL, Some(&challenge), 1010, &mut rng).unwrap().0;
        }
        assert!(matches!(
            issue(EMAIL, Some(&challenge), 1020, &mut rng),
            Err(AuthError::TooMany(_))
        ));
        let later = issue(EMAIL, Some(&challenge), 1000 + WINDOW_SECONDS, &mut rng)
            .unwrap()
            .0;
        assert_eq!(later.codes_in_window, 1);
    }
}
