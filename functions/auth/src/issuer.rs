//! The token issuer (SPEC A2, A4): short-lived RS256 access tokens that API Gateway's JWT
//! authorizer verifies with the JWKS published here, and opaque rotating refresh tokens.

use ates_kernel::identity::Role;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::account::Account;
use crate::error::AuthError;

pub const AUDIENCE: &str = "ates";
pub const ACCESS_TOKEN_SECONDS: i64 = 15 * 60;
pub const REFRESH_TOKEN_SECONDS: i64 = 30 * 24 * 3600;

/// The signing key as kept in Secrets Manager.
#[derive(Debug, Deserialize)]
pub struct SigningKey {
    pub kid: String,
    pub private_key_pem: String,
    /// RSA modulus and exponent, base64url: what the JWKS publishes.
    pub n: String,
    pub e: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    pub role: Role,
    /// Space-separated, as API Gateway's authorizer reads it.
    pub scope: String,
    pub email: String,
}

pub struct Issuer {
    issuer: String,
    kid: String,
    n: String,
    e: String,
    key: EncodingKey,
}

impl Issuer {
    pub fn new(issuer: String, key: SigningKey) -> Result<Issuer, AuthError> {
        let encoding = EncodingKey::from_rsa_pem(key.private_key_pem.as_bytes())
            .map_err(|e| AuthError::Internal(format!("signing key unreadable: {e}")))?;
        Ok(Issuer {
            issuer: issuer.trim_end_matches('/').to_owned(),
            kid: key.kid,
            n: key.n,
            e: key.e,
            key: encoding,
        })
    }

    pub fn access_token(&self, account: &Account, now: i64) -> Result<String, AuthError> {
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            sub: account.account_id.to_string(),
            aud: AUDIENCE.to_owned(),
            iat: now,
            exp: now + ACCESS_TOKEN_SECONDS,
            jti: Uuid::new_v4().to_string(),
            role: account.role,
            scope: account.role.scopes().join(" "),
            email: account.email.clone(),
        };
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.key)
            .map_err(|e| AuthError::Internal(format!("signing failed: {e}")))
    }

    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({ "keys": [{
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid, "n": self.n, "e": self.e
        }]})
    }

    pub fn discovery(&self) -> serde_json::Value {
        serde_json::json!({
            "issuer": self.issuer,
            "jwks_uri": format!("{}/.well-known/jwks.json", self.issuer),
            "token_endpoint": format!("{}/auth/sign-in", self.issuer),
            "response_types_supported": ["token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "grant_types_supported": ["password", "refresh_token", "urn:ates:one-time-code"],
            "scopes_supported": Role::Admin.scopes(),
            "claims_supported": ["iss", "sub", "aud", "iat", "exp", "jti", "role", "scope", "email"]
        })
    }
}

/// A refresh token: `<account id>.<session id>.<256 random bits>`. Only its hash is stored.
/// Every token of one sign-in belongs to its session (the token family): each refresh uses a
/// token up and mints the next one in the same session, and a used token presented again ends
/// the session, so a stolen token and its thief's successors die together.
pub struct RefreshToken {
    pub token: String,
    pub hash: String,
    pub account_id: Uuid,
    pub session_id: Uuid,
}

impl RefreshToken {
    /// The first token of a new session (a sign-in).
    pub fn start_session(account_id: Uuid) -> RefreshToken {
        Self::mint(account_id, Uuid::new_v4())
    }

    /// The token that follows this one in its session.
    pub fn next(&self) -> RefreshToken {
        Self::mint(self.account_id, self.session_id)
    }

    fn mint(account_id: Uuid, session_id: Uuid) -> RefreshToken {
        let mut secret = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut secret);
        let token = format!(
            "{account_id}.{}.{}",
            session_id.simple(),
            URL_SAFE_NO_PAD.encode(secret)
        );
        RefreshToken {
            hash: hash_refresh_token(&token),
            token,
            account_id,
            session_id,
        }
    }

    /// Reads a token a client presents; `None` if it cannot be one of ours.
    pub fn parse(token: &str) -> Option<RefreshToken> {
        let mut parts = token.split('.');
        let account_id = Uuid::parse_str(parts.next()?).ok()?;
        let session_id = Uuid::try_parse(parts.next()?).ok()?;
        let secret = parts.next()?;
        (secret.len() == 43 && parts.next().is_none()).then(|| RefreshToken {
            token: token.to_owned(),
            hash: hash_refresh_token(token),
            account_id,
            session_id,
        })
    }
}

fn hash_refresh_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The answer to every successful sign-in or refresh.
#[derive(Debug, Serialize)]
pub struct TokenPair {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub refresh_token: String,
    pub account_id: Uuid,
    pub role: Role,
}

impl TokenPair {
    pub fn new(access_token: String, refresh: &RefreshToken, account: &Account) -> TokenPair {
        TokenPair {
            access_token,
            token_type: "Bearer",
            expires_in: ACCESS_TOKEN_SECONDS,
            refresh_token: refresh.token.clone(),
            account_id: account.account_id,
            role: account.role,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_parse_back_and_strangers_do_not() {
        let id = Uuid::now_v7();
        let minted = RefreshToken::start_session(id);
        let parsed = RefreshToken::parse(&minted.token).unwrap();
        assert_eq!(
            (parsed.account_id, parsed.session_id, &parsed.hash),
            (id, minted.session_id, &minted.hash)
        );
        assert!(RefreshToken::parse("nope").is_none());
        assert!(RefreshToken::parse(&format!("{id}.short")).is_none());
        let session = minted.session_id.simple();
        assert!(RefreshToken::parse(&format!("{id}.{session}.short")).is_none());
        assert!(RefreshToken::parse(&format!("{}.x", minted.token)).is_none());
        assert_ne!(
            RefreshToken::start_session(id).session_id,
            minted.session_id
        );
    }

    #[test]
    fn a_refresh_stays_in_its_session_with_a_new_secret() {
        let first = RefreshToken::start_session(Uuid::now_v7());
        let second = first.next();
        assert_eq!(
            (second.account_id, second.session_id),
            (first.account_id, first.session_id)
        );
        assert_ne!(second.token, first.token);
        assert_ne!(second.hash, first.hash);
    }
}
