//! Passwords: a strength rule and argon2id hashes (PHC strings with their own salt and params).

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;

use crate::error::AuthError;

pub const MIN_LENGTH: usize = 12;
/// Wrong passwords an account may take before it has to wait.
pub const FREE_FAILURES: u32 = 5;
/// The longest wait, however many wrong passwords: a stranger can slow a person down, never
/// lock them out for good.
pub const MAX_WAIT_SECONDS: i64 = 15 * 60;

/// Wrong passwords given for one account since its last sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Failures {
    pub count: u32,
    /// When the last one was given (seconds).
    pub last_at: i64,
}

impl Failures {
    /// Until when the account takes no password at all: after the free failures, a wait that
    /// doubles with each one (2 s, 4 s, ...), at most [`MAX_WAIT_SECONDS`].
    pub fn waits_until(&self) -> i64 {
        if self.count < FREE_FAILURES {
            return self.last_at;
        }
        let doublings = (self.count - FREE_FAILURES + 1).min(20);
        self.last_at + (1_i64 << doublings).min(MAX_WAIT_SECONDS)
    }
}
pub const MAX_LENGTH: usize = 128;

/// Long enough, not trivially repetitive, and not the email itself.
pub fn check_strength(password: &str, email: &str) -> Result<(), AuthError> {
    let length = password.chars().count();
    let distinct = {
        let mut chars: Vec<char> = password.chars().collect();
        chars.sort_unstable();
        chars.dedup();
        chars.len()
    };
    if !(MIN_LENGTH..=MAX_LENGTH).contains(&length) {
        return Err(AuthError::Invalid(format!(
            "password must be {MIN_LENGTH} to {MAX_LENGTH} characters"
        )));
    }
    if distinct < 5 || password.eq_ignore_ascii_case(email) {
        return Err(AuthError::Invalid("password is too easy to guess".into()));
    }
    Ok(())
}

pub fn hash(password: &str) -> Result<String, AuthError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Internal(format!("password hashing failed: {e}")))
}

pub fn verify(password: &str, stored_hash: &str) -> bool {
    PasswordHash::new(stored_hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Spends the time of a real verification, so an unknown email answers as slowly as a known one.
pub fn verify_nothing(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash("no account has this password").unwrap_or_default());
    let _ = verify(password, dummy);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_passwords_are_refused() {
        assert!(check_strength("short", "a@b.io").is_err());
        assert!(check_strength("aaaaaaaaaaaaaaaa", "a@b.io").is_err());
        assert!(check_strength("kiwi@popug.example", "kiwi@popug.example").is_err());
        assert!(check_strength(&"abcdef".repeat(30), "a@b.io").is_err());
        assert!(check_strength("correct horse battery", "a@b.io").is_ok());
    }

    #[test]
    fn a_hash_verifies_its_password_only() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", &h));
        assert!(!verify("correct horse batterY", &h));
        assert!(!verify("anything", "not a hash"));
    }
}

#[cfg(test)]
mod backoff_tests {
    use super::*;

    #[test]
    fn wrong_passwords_cost_a_wait_that_doubles_up_to_a_quarter_hour() {
        let after = |count| {
            Failures {
                count,
                last_at: 1000,
            }
            .waits_until()
                - 1000
        };
        assert_eq!((after(0), after(4)), (0, 0), "the first five are free");
        assert_eq!((after(5), after(6), after(7)), (2, 4, 8));
        assert_eq!(after(40), MAX_WAIT_SECONDS);
    }
}
