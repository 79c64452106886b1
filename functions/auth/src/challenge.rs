//! Passwordless sign-in (SPEC A3): a six-digit one-time code, mailed, expiring, single-use,
//! with the codes sent, the guesses at each code and the wrong guesses at an address's codes
//! all limited.
//!
//! Guessing is bounded three ways. A code takes at most `MAX_GUESSES` (5) guesses, each counted
//! atomically by the store before it is judged (`AuthStore::take_guess`: an `ADD` conditioned on
//! the code's hash), so concurrent guesses each use one up. An address is sent at most
//! `MAX_CODES_PER_WINDOW` (3) codes per 15 minutes. And an address's wrong guesses are counted over
//! all its codes, in its code item, where a new code (an update of the code's own attributes)
//! leaves them: after `FREE_WRONG_GUESSES` (10) a guess waits 1 minute, doubling with each further
//! wrong one, at most an hour after the last; a right code clears them and a quiet day forgets them
//! (`WrongGuesses`). So a stranger gets about one judged guess an hour at an address, and holds its
//! owner back at most an hour after they stop. Unknown addresses get codes (never mailed) and
//! budgets like any other, and `POST /auth/sign-in/code/request` answers `CODE_REQUEST_TIME` (1 s)
//! after it was asked (`app::request_code_paced`), whatever happened, a mail failure included:
//! neither its answer nor its timing tells who has an account.

use rand::Rng;
use sha2::{Digest, Sha256};

use crate::error::AuthError;

pub const CODE_LIFETIME_SECONDS: i64 = 10 * 60;
pub const MAX_GUESSES: u32 = 5;
pub const MAX_CODES_PER_WINDOW: u32 = 3;
pub const WINDOW_SECONDS: i64 = 15 * 60;

/// Wrong guesses an address may make, over all the codes it is sent, before it has to wait.
/// A new code does not give them back: only a right code, or a quiet day, does.
pub const FREE_WRONG_GUESSES: u32 = 10;
/// The wait after the free wrong guesses are used up; it doubles with each further one...
pub const FIRST_WAIT_SECONDS: i64 = 60;
/// ...up to this: a stranger can slow a person down, never shut them out for longer than this
/// after their last wrong guess.
pub const MAX_WAIT_SECONDS: i64 = 60 * 60;
/// Wrong guesses are forgotten after this long without one: the budget refills.
pub const FORGET_AFTER_SECONDS: i64 = 24 * 3600;

/// The wrong guesses at an address's codes, kept across codes (a new code does not reset them).
/// Stored with the address's pending code; written only by counting a wrong guess (atomically)
/// and by a right code, which clears them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WrongGuesses {
    #[serde(default)]
    pub failures: u32,
    /// When the last one was made (seconds).
    #[serde(default)]
    pub failed_at: i64,
}

impl WrongGuesses {
    /// How many still count at `now`: none once a whole quiet day has passed.
    pub fn counted(&self, now: i64) -> u32 {
        if now - self.failed_at >= FORGET_AFTER_SECONDS {
            0
        } else {
            self.failures
        }
    }

    /// Until when the address takes no guess at all, if it has to wait at `now`: after the free
    /// wrong guesses, [`FIRST_WAIT_SECONDS`] doubling with each further one, at most
    /// [`MAX_WAIT_SECONDS`], counted from the last.
    pub fn waits_until(&self, now: i64) -> Option<i64> {
        let counted = self.counted(now);
        if counted < FREE_WRONG_GUESSES {
            return None;
        }
        let doublings = (counted - FREE_WRONG_GUESSES).min(20);
        let until = self.failed_at + (FIRST_WAIT_SECONDS << doublings).min(MAX_WAIT_SECONDS);
        (until > now).then_some(until)
    }
}

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
    /// The address's wrong guesses, over every code: not part of the code, and never written
    /// with it.
    #[serde(flatten, default)]
    pub wrong: WrongGuesses,
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
        wrong: previous.map(|p| p.wrong).unwrap_or_default(),
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

    #[test]
    fn a_new_code_keeps_the_wrong_guesses_of_the_previous_ones() {
        let mut rng = rng();
        let (mut challenge, _) = issue(EMAIL, None, 1000, &mut rng).unwrap();
        challenge.wrong = WrongGuesses {
            failures: 7,
            failed_at: 1005,
        };
        let next = issue(EMAIL, Some(&challenge), 1010, &mut rng).unwrap().0;
        assert_eq!(next.wrong, challenge.wrong);
        assert_eq!(next.guesses, 0, "the new code has its own guesses");
    }

    #[test]
    fn wrong_guesses_cost_a_wait_that_doubles_up_to_an_hour_and_a_quiet_day_forgets_them() {
        let wait = |failures| {
            WrongGuesses {
                failures,
                failed_at: 10_000,
            }
            .waits_until(10_000)
            .map_or(0, |until| until - 10_000)
        };
        assert_eq!(wait(0), 0);
        assert_eq!(wait(FREE_WRONG_GUESSES - 1), 0, "the first ones are free");
        assert_eq!(wait(FREE_WRONG_GUESSES), FIRST_WAIT_SECONDS);
        assert_eq!(wait(FREE_WRONG_GUESSES + 1), 2 * FIRST_WAIT_SECONDS);
        assert_eq!(wait(FREE_WRONG_GUESSES + 3), 8 * FIRST_WAIT_SECONDS);
        assert_eq!(wait(FREE_WRONG_GUESSES + 40), MAX_WAIT_SECONDS, "bounded");
        let many = WrongGuesses {
            failures: 1000,
            failed_at: 10_000,
        };
        assert_eq!(many.waits_until(10_000 + MAX_WAIT_SECONDS), None);
        assert_eq!(many.counted(10_000 + FORGET_AFTER_SECONDS - 1), 1000);
        assert_eq!(many.counted(10_000 + FORGET_AFTER_SECONDS), 0);
    }
}
