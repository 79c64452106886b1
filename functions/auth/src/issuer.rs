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

/// A signing key as kept in Secrets Manager.
#[derive(Debug, Clone, Deserialize)]
pub struct SigningKey {
    pub kid: String,
    pub private_key_pem: String,
    /// RSA modulus and exponent, base64url: what the JWKS publishes.
    pub n: String,
    pub e: String,
    /// When it starts signing (seconds). Until then it is only published, so every verifier
    /// can know it before the first token it signs arrives.
    #[serde(default)]
    pub not_before: i64,
}

impl SigningKey {
    /// The key's public half as a JWK: what the JWKS publishes.
    pub fn public_jwk(&self) -> serde_json::Value {
        serde_json::json!({
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid, "n": self.n, "e": self.e
        })
    }
}

/// The issuer's keys, as the signing-key secret holds them: `{"keys": [...]}` (the key that
/// signs now, the one before it while tokens it signed may live, and a next one published
/// ahead; see `infra/signing-key.py`), or one bare key as first deployments wrote it.
#[derive(Debug, Clone)]
pub struct KeyRing {
    /// Oldest first (by `not_before`).
    pub keys: Vec<SigningKey>,
}

impl KeyRing {
    pub fn parse(json: &str) -> Result<KeyRing, String> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Stored {
            Ring { keys: Vec<SigningKey> },
            One(SigningKey),
        }
        let mut keys = match serde_json::from_str::<Stored>(json).map_err(|e| e.to_string())? {
            Stored::Ring { keys } => keys,
            Stored::One(key) => vec![key],
        };
        if keys.is_empty() {
            return Err("it holds no key".into());
        }
        keys.sort_by_key(|k| k.not_before);
        Ok(KeyRing { keys })
    }

    /// The JWKS of every key in the ring: what verifiers must know.
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({ "keys": self.keys.iter().map(SigningKey::public_jwk).collect::<Vec<_>>() })
    }
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

struct Signer {
    kid: String,
    not_before: i64,
    key: EncodingKey,
}

pub struct Issuer {
    issuer: String,
    /// Oldest first.
    signers: Vec<Signer>,
}

impl Issuer {
    /// An issuer that signs with one key.
    pub fn new(issuer: String, key: SigningKey) -> Result<Issuer, AuthError> {
        Issuer::with_keys(issuer, KeyRing { keys: vec![key] })
    }

    /// An issuer that signs, at any moment, with the newest key of the ring whose
    /// `not_before` has come (the oldest, if none has).
    pub fn with_keys(issuer: String, ring: KeyRing) -> Result<Issuer, AuthError> {
        let mut signers = ring
            .keys
            .into_iter()
            .map(|k| {
                let key = EncodingKey::from_rsa_pem(k.private_key_pem.as_bytes()).map_err(|e| {
                    AuthError::Internal(format!("signing key {} unreadable: {e}", k.kid))
                })?;
                Ok(Signer {
                    kid: k.kid,
                    not_before: k.not_before,
                    key,
                })
            })
            .collect::<Result<Vec<_>, AuthError>>()?;
        signers.sort_by_key(|s| s.not_before);
        if signers.is_empty() {
            return Err(AuthError::Internal("no signing key".into()));
        }
        Ok(Issuer {
            issuer: issuer.trim_end_matches('/').to_owned(),
            signers,
        })
    }

    /// The kid of the key that signs at `now`.
    pub fn signing_kid(&self, now: i64) -> &str {
        &self.signer(now).kid
    }

    fn signer(&self, now: i64) -> &Signer {
        self.signers
            .iter()
            .rev()
            .find(|s| s.not_before <= now)
            .unwrap_or(&self.signers[0])
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
        let signer = self.signer(now);
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(signer.kid.clone());
        jsonwebtoken::encode(&header, &claims, &signer.key)
            .map_err(|e| AuthError::Internal(format!("signing failed: {e}")))
    }
}

/// The OpenID discovery document of the issuer at `issuer` (its public base URL).
pub fn discovery(issuer: &str) -> serde_json::Value {
    let issuer = issuer.trim_end_matches('/');
    serde_json::json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "token_endpoint": format!("{issuer}/auth/sign-in"),
        "response_types_supported": ["token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["none"],
        "grant_types_supported": ["password", "refresh_token", "urn:ates:one-time-code"],
        "scopes_supported": Role::Admin.scopes(),
        "claims_supported": ["iss", "sub", "aud", "iat", "exp", "jti", "role", "scope", "email"]
    })
}

/// A JWKS document reduced to what may be published: RSA keys' public members only, so a
/// private member put there by mistake (`d`, `p`, ...) is never served.
pub fn public_only(jwks: &serde_json::Value) -> serde_json::Value {
    const PUBLIC: [&str; 6] = ["kty", "use", "alg", "kid", "n", "e"];
    let keys = jwks["keys"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(serde_json::Value::as_object)
        .map(|key| {
            key.iter()
                .filter(|(name, _)| PUBLIC.contains(&name.as_str()))
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect::<serde_json::Map<_, _>>()
        })
        .collect::<Vec<_>>();
    serde_json::json!({ "keys": keys })
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

    fn ring_of(keys: &[(&str, i64)]) -> KeyRing {
        let pem =
            serde_json::from_str::<SigningKey>(&ates_kernel::testing::signing_key_json()).unwrap();
        KeyRing {
            keys: keys
                .iter()
                .map(|(kid, not_before)| SigningKey {
                    kid: (*kid).into(),
                    not_before: *not_before,
                    ..pem.clone()
                })
                .collect(),
        }
    }

    #[test]
    fn the_newest_key_whose_time_has_come_signs() {
        let issuer = Issuer::with_keys(
            "https://a.test".into(),
            ring_of(&[("old", 0), ("new", 1000)]),
        )
        .unwrap();
        assert_eq!(issuer.signing_kid(999), "old");
        assert_eq!(issuer.signing_kid(1000), "new");
        let early = Issuer::with_keys("https://a.test".into(), ring_of(&[("next", 50)])).unwrap();
        assert_eq!(
            early.signing_kid(0),
            "next",
            "a ring of future keys still signs"
        );
        let account = crate::account::Account::open(
            &crate::account::NewAccount {
                email: "kiwi@popug.test".into(),
                full_name: "Kiwi".into(),
                role: Role::Worker,
                password: None,
            },
            chrono::Utc::now(),
        )
        .unwrap();
        let token = issuer.access_token(&account, 1000).unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.kid.as_deref(), Some("new"));
    }

    #[test]
    fn a_ring_or_one_bare_key_is_read_and_its_jwks_has_every_key_public_only() {
        let one = ates_kernel::testing::signing_key_json();
        assert_eq!(KeyRing::parse(&one).unwrap().keys.len(), 1);
        let ring = ring_of(&[("b", 20), ("a", 10)]);
        let json = serde_json::json!({"keys": ring.keys.iter().map(|k| serde_json::json!({
            "kid": k.kid, "private_key_pem": k.private_key_pem, "n": k.n, "e": k.e, "not_before": k.not_before
        })).collect::<Vec<_>>()});
        let parsed = KeyRing::parse(&json.to_string()).unwrap();
        let kids: Vec<&str> = parsed.keys.iter().map(|k| k.kid.as_str()).collect();
        assert_eq!(kids, ["a", "b"], "oldest first");
        let jwks = parsed.jwks();
        assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
        assert!(!jwks.to_string().contains("PRIVATE"));
        assert!(KeyRing::parse(r#"{"keys": []}"#).is_err());
        let leaky = serde_json::json!({"keys": [{"kty": "RSA", "kid": "a", "n": "x", "e": "AQAB", "d": "secret"}]});
        assert_eq!(
            public_only(&leaky),
            serde_json::json!({"keys": [{"kty": "RSA", "kid": "a", "n": "x", "e": "AQAB"}]})
        );
    }

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
