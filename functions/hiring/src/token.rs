//! The application token (SPEC M1): the applicant's only key to their application, mailed to
//! them and never kept: the table holds its SHA-256 and when it expires.

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::HiringError;

/// How long a mailed token opens its application.
pub const LIFETIME_DAYS: i64 = 14;

/// What the table keeps of a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenHash {
    pub hash: String,
    pub expires_at: DateTime<Utc>,
}

/// A token as it is mailed, once; only its [`TokenHash`] is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub secret: String,
    pub kept: TokenHash,
}

fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

impl Token {
    /// 256 random bits: guessing one is hopeless, so the hash needs no salt or slowness.
    pub fn issue(rng: &mut impl RngCore, now: DateTime<Utc>) -> Token {
        let mut bytes = [0u8; 32];
        rng.fill_bytes(&mut bytes);
        let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        Token {
            kept: TokenHash {
                hash: hash(&secret),
                expires_at: now + Duration::days(LIFETIME_DAYS),
            },
            secret,
        }
    }
}

impl TokenHash {
    /// Whether `presented` opens what this guards at `now`. A wrong token is
    /// [`HiringError::UnknownApplication`], as if there were no application: a guess learns
    /// nothing. Comparing hashes leaks no timing worth having: the guesser controls the input,
    /// not its hash.
    pub fn admits(&self, presented: &str, now: DateTime<Utc>) -> Result<(), HiringError> {
        if hash(presented) != self.hash {
            return Err(HiringError::UnknownApplication);
        }
        if now >= self.expires_at {
            return Err(HiringError::TokenExpired);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn now() -> DateTime<Utc> {
        "2026-12-01T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_token_is_random_kept_only_hashed_and_opens_for_fourteen_days() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let token = Token::issue(&mut rng, now());
        let other = Token::issue(&mut rng, now());
        assert_ne!(token.secret, other.secret);
        assert_eq!(token.secret.len(), 43);
        assert!(!token.kept.hash.contains(&token.secret));
        assert!(token.kept.admits(&token.secret, now()).is_ok());
        let last = now() + Duration::days(LIFETIME_DAYS) - Duration::seconds(1);
        assert!(token.kept.admits(&token.secret, last).is_ok());
        assert!(matches!(
            token
                .kept
                .admits(&token.secret, now() + Duration::days(LIFETIME_DAYS)),
            Err(HiringError::TokenExpired)
        ));
    }

    #[test]
    fn a_wrong_token_looks_like_no_application() {
        let token = Token::issue(&mut rand::rngs::StdRng::seed_from_u64(2), now());
        assert!(matches!(
            token.kept.admits("guess", now()),
            Err(HiringError::UnknownApplication)
        ));
        let later = now() + Duration::days(30);
        assert!(
            matches!(
                token.kept.admits("guess", later),
                Err(HiringError::UnknownApplication)
            ),
            "an expired application is not revealed to a wrong token either"
        );
    }
}
