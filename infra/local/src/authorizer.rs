//! API Gateway's JWT authorizer: RS256 bearer tokens checked against the issuer's JWKS.

use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::future::Future;
use std::time::{Duration, Instant};
use tokio::sync::RwLock;

/// Clock skew tolerated on exp/nbf; API Gateway allows hardly any.
const LEEWAY_SECS: u64 = 5;

/// How long fetched keys are trusted: API Gateway's JWT authorizer caches the JWKS for up to
/// two hours, so a key the issuer retires stops verifying tokens within that time.
pub const JWKS_MAX_AGE: Duration = Duration::from_secs(2 * 60 * 60);

#[derive(Debug, Clone)]
pub struct JwtConfig {
    pub issuer: String,
    pub audiences: Vec<String>,
}

#[derive(Debug, PartialEq)]
pub enum Denial {
    /// 401 {"message":"Unauthorized"}: no token, or one that does not verify.
    Unauthorized(String),
    /// 403 {"message":"Forbidden"}: a valid token without any of the route's scopes.
    Forbidden(String),
}

/// What the function sees in `requestContext.authorizer.jwt`.
#[derive(Debug, Clone, PartialEq)]
pub struct Authorized {
    pub claims: Map<String, Value>,
    pub scopes: Vec<String>,
}

/// The issuer's public keys by kid.
#[derive(Default, Clone)]
pub struct Jwks {
    keys: HashMap<String, DecodingKey>,
}

impl Jwks {
    /// Reads a JWKS document, keeping the RSA keys usable for RS256. Each key is read on its
    /// own: one the library cannot read (another kind, an unknown `alg`) is skipped, not the set.
    pub fn from_document(doc: &Value) -> Jwks {
        let mut keys = HashMap::new();
        for key in doc
            .get("keys")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let jwk = match Jwk::deserialize(key) {
                Ok(jwk) => jwk,
                Err(err) => {
                    tracing::debug!("JWKS key skipped: {err}");
                    continue;
                }
            };
            let rs256 = matches!(jwk.algorithm, AlgorithmParameters::RSA(_))
                && jwk
                    .common
                    .key_algorithm
                    .is_none_or(|alg| alg == KeyAlgorithm::RS256);
            let Some(kid) = jwk.common.key_id.as_deref().filter(|_| rs256) else {
                continue;
            };
            match DecodingKey::from_jwk(&jwk) {
                Ok(decoding) => {
                    keys.insert(kid.to_string(), decoding);
                }
                Err(err) => tracing::warn!("JWKS key {kid} is unusable: {err}"),
            }
        }
        Jwks { keys }
    }

    pub fn contains(&self, kid: &str) -> bool {
        self.keys.contains_key(kid)
    }
}

/// One authorizer of an HTTP API, with its JWKS cache.
pub struct JwtAuthorizer {
    pub config: JwtConfig,
    max_age: Duration,
    /// The keys and when they were fetched (`None`: never).
    jwks: RwLock<(Jwks, Option<Instant>)>,
}

impl JwtAuthorizer {
    pub fn new(config: JwtConfig) -> JwtAuthorizer {
        JwtAuthorizer::keeping_keys_for(config, JWKS_MAX_AGE)
    }

    pub fn keeping_keys_for(config: JwtConfig, max_age: Duration) -> JwtAuthorizer {
        JwtAuthorizer {
            config,
            max_age,
            jwks: RwLock::new((Jwks::default(), None)),
        }
    }

    /// Authorizes a request from its Authorization header. The JWKS is fetched on first use,
    /// again once when a token names a kid the cache does not know (keys rotate), and again when
    /// the cached keys are older than the authorizer's max age (a retired key stops working).
    pub async fn authorize<F, Fut>(
        &self,
        authorization: Option<&str>,
        required_scopes: &[String],
        fetch_jwks: F,
    ) -> Result<Authorized, Denial>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Value, String>>,
    {
        let token = bearer_token(authorization)?;
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| Denial::Unauthorized(format!("malformed token: {e}")))?;
        let kid = header
            .kid
            .ok_or_else(|| Denial::Unauthorized("token has no kid".into()))?;
        let stale = {
            let (jwks, fetched) = &*self.jwks.read().await;
            !jwks.contains(&kid) || fetched.is_none_or(|at| at.elapsed() >= self.max_age)
        };
        if stale {
            match fetch_jwks().await {
                Ok(doc) => {
                    *self.jwks.write().await = (Jwks::from_document(&doc), Some(Instant::now()))
                }
                Err(e) => tracing::warn!("cannot fetch the JWKS: {e}"),
            }
        }
        let (jwks, _) = &*self.jwks.read().await;
        verify(token, jwks, &self.config, required_scopes)
    }
}

fn bearer_token(authorization: Option<&str>) -> Result<&str, Denial> {
    let value = authorization
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Denial::Unauthorized("no Authorization header".into()))?;
    let token = match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        Some(_) => return Err(Denial::Unauthorized("not a bearer token".into())),
        None => value,
    };
    Ok(token)
}

/// Verifies a token the way API Gateway's JWT authorizer does.
pub fn verify(
    token: &str,
    jwks: &Jwks,
    config: &JwtConfig,
    required_scopes: &[String],
) -> Result<Authorized, Denial> {
    let unauthorized = |reason: String| Denial::Unauthorized(reason);
    let header = jsonwebtoken::decode_header(token)
        .map_err(|e| unauthorized(format!("malformed token: {e}")))?;
    // Only RS256: anything else (HS256 keyed with the public key, say) is an attack, not a token.
    if header.alg != Algorithm::RS256 {
        return Err(unauthorized(format!(
            "algorithm {:?} is not accepted",
            header.alg
        )));
    }
    let kid = header
        .kid
        .ok_or_else(|| unauthorized("token has no kid".into()))?;
    let key = jwks
        .keys
        .get(&kid)
        .ok_or_else(|| unauthorized(format!("unknown kid {kid}")))?;

    let mut validation = Validation::new(Algorithm::RS256);
    validation.leeway = LEEWAY_SECS;
    validation.validate_nbf = true;
    validation.set_issuer(&[config.issuer.as_str()]);
    validation.set_required_spec_claims(&["exp", "iss"]);
    // Checked below: API Gateway also accepts client_id in place of aud.
    validation.validate_aud = false;
    let data = jsonwebtoken::decode::<Map<String, Value>>(token, key, &validation)
        .map_err(|e| unauthorized(format!("invalid token: {e}")))?;
    let claims = data.claims;

    let audience_ok = match claims.get("aud") {
        Some(Value::String(aud)) => config.audiences.contains(aud),
        Some(Value::Array(auds)) => auds
            .iter()
            .filter_map(Value::as_str)
            .any(|a| config.audiences.iter().any(|c| c == a)),
        _ => claims
            .get("client_id")
            .and_then(Value::as_str)
            .is_some_and(|c| config.audiences.iter().any(|a| a == c)),
    };
    if !audience_ok {
        return Err(unauthorized("audience does not match".into()));
    }

    let scopes = token_scopes(&claims);
    if !required_scopes.is_empty() && !required_scopes.iter().any(|s| scopes.contains(s)) {
        return Err(Denial::Forbidden(format!(
            "token scopes {scopes:?} include none of {required_scopes:?}"
        )));
    }
    Ok(Authorized {
        claims: claims
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(claim_text(v))))
            .collect(),
        scopes,
    })
}

/// Scopes from `scope` (space-separated) or `scp` (list or string), as API Gateway reads them.
fn token_scopes(claims: &Map<String, Value>) -> Vec<String> {
    let words = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    match claims.get("scope").or_else(|| claims.get("scp")) {
        Some(Value::String(s)) => words(s),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// API Gateway hands every claim over as a string; lists become `[a b]`.
fn claim_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(claim_text).collect::<Vec<_>>().join(" ")
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing_key::SigningKey;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;
    use std::sync::OnceLock;

    const ISSUER: &str = "http://127.0.0.1:3000";

    fn key() -> &'static SigningKey {
        static KEY: OnceLock<SigningKey> = OnceLock::new();
        KEY.get_or_init(|| SigningKey::generate().expect("openssl generates a key"))
    }

    fn jwks() -> Jwks {
        Jwks::from_document(&key().jwks())
    }

    fn config() -> JwtConfig {
        JwtConfig {
            issuer: ISSUER.into(),
            audiences: vec!["ates".into()],
        }
    }

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    fn claims() -> Value {
        json!({
            "iss": ISSUER, "aud": "ates", "sub": "acc-1", "exp": now() + 300, "iat": now(),
            "scope": "ates accounts:manage", "roles": ["admin", "worker"], "active": true,
        })
    }

    fn sign(claims: &Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(key().kid.clone());
        let encoding = EncodingKey::from_rsa_pem(key().private_key_pem.as_bytes()).unwrap();
        jsonwebtoken::encode(&header, claims, &encoding).unwrap()
    }

    fn check(token: &str, scopes: &[&str]) -> Result<Authorized, Denial> {
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        verify(token, &jwks(), &config(), &scopes)
    }

    fn is_unauthorized(r: Result<Authorized, Denial>) -> bool {
        matches!(r, Err(Denial::Unauthorized(_)))
    }

    #[test]
    fn accepts_a_good_token_and_stringifies_claims() {
        let ok = check(&sign(&claims()), &["ates"]).unwrap();
        assert_eq!(ok.claims["sub"], json!("acc-1"));
        assert_eq!(ok.claims["roles"], json!("[admin worker]"));
        assert_eq!(ok.claims["active"], json!("true"));
        assert!(ok.claims["exp"].is_string());
        assert_eq!(ok.scopes, vec!["ates", "accounts:manage"]);
    }

    #[test]
    fn rejects_alg_none() {
        let key = key();
        let header = URL_SAFE_NO_PAD
            .encode(json!({"alg": "none", "typ": "JWT", "kid": key.kid}).to_string());
        let body = URL_SAFE_NO_PAD.encode(claims().to_string());
        assert!(is_unauthorized(check(&format!("{header}.{body}."), &[])));
    }

    #[test]
    fn rejects_hs256_keyed_with_the_public_key() {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(key().kid.clone());
        let public = key().public_key_pem().unwrap();
        let token = jsonwebtoken::encode(
            &header,
            &claims(),
            &EncodingKey::from_secret(public.as_bytes()),
        )
        .unwrap();
        assert!(is_unauthorized(check(&token, &[])));
        let n_keyed = jsonwebtoken::encode(
            &header,
            &claims(),
            &EncodingKey::from_secret(key().n.as_bytes()),
        )
        .unwrap();
        assert!(is_unauthorized(check(&n_keyed, &[])));
    }

    #[test]
    fn rejects_expired_and_not_yet_valid() {
        let mut c = claims();
        c["exp"] = json!(now() - 60);
        assert!(is_unauthorized(check(&sign(&c), &[])));
        let mut c = claims();
        c["nbf"] = json!(now() + 120);
        assert!(is_unauthorized(check(&sign(&c), &[])));
        let mut c = claims();
        c.as_object_mut().unwrap().remove("exp");
        assert!(is_unauthorized(check(&sign(&c), &[])), "exp is required");
    }

    #[test]
    fn rejects_wrong_issuer_and_audience() {
        let mut c = claims();
        c["iss"] = json!("https://evil.example");
        assert!(is_unauthorized(check(&sign(&c), &[])));
        let mut c = claims();
        c["aud"] = json!("other");
        assert!(is_unauthorized(check(&sign(&c), &[])));
        let mut c = claims();
        c["aud"] = json!(["other", "ates"]);
        assert!(
            check(&sign(&c), &[]).is_ok(),
            "one matching audience is enough"
        );
    }

    #[test]
    fn rejects_a_tampered_token() {
        let token = sign(&claims());
        let (signed, signature) = token.rsplit_once('.').unwrap();
        let mut sig = URL_SAFE_NO_PAD.decode(signature).unwrap();
        sig[10] ^= 0x01;
        assert!(is_unauthorized(check(
            &format!("{signed}.{}", URL_SAFE_NO_PAD.encode(sig)),
            &[]
        )));

        let mut c = claims();
        c["sub"] = json!("someone-else");
        let forged_body = URL_SAFE_NO_PAD.encode(c.to_string());
        let parts: Vec<&str> = token.split('.').collect();
        assert!(is_unauthorized(check(
            &format!("{}.{forged_body}.{}", parts[0], parts[2]),
            &[]
        )));
    }

    #[test]
    fn keeps_only_the_rsa_keys_for_rs256_from_the_jwks() {
        let mut doc = key().jwks();
        let real = doc["keys"][0].clone();
        let with = |kid: &str, alg: Option<&str>| {
            let mut k = real.clone();
            k["kid"] = json!(kid);
            match alg {
                Some(alg) => k["alg"] = json!(alg),
                None => {
                    k.as_object_mut().unwrap().remove("alg");
                }
            }
            k
        };
        let mut no_kid = real.clone();
        no_kid.as_object_mut().unwrap().remove("kid");
        doc["keys"] = json!([
            "not a key",
            {"kty": "oct", "kid": "oct", "alg": "HS256", "k": URL_SAFE_NO_PAD.encode("secret")},
            {"kty": "EC", "kid": "ec", "crv": "P-256", "x": URL_SAFE_NO_PAD.encode([1; 32]),
             "y": URL_SAFE_NO_PAD.encode([2; 32])},
            {"kty": "RSA", "kid": "no-n", "e": "AQAB"},
            with("rs512", Some("RS512")),
            with("unknown-alg", Some("RSA-OAEP-512")),
            no_kid,
            with("no-alg", None),
            real,
        ]);
        let jwks = Jwks::from_document(&doc);
        let mut kids: Vec<&str> = jwks.keys.keys().map(String::as_str).collect();
        kids.sort();
        let mut expected = vec![key().kid.as_str(), "no-alg"];
        expected.sort();
        assert_eq!(kids, expected);
        assert!(verify(&sign(&claims()), &jwks, &config(), &[]).is_ok());
    }

    #[test]
    fn a_symmetric_key_in_the_jwks_signs_nothing() {
        let doc = json!({"keys": [
            {"kty": "oct", "kid": "oct", "k": URL_SAFE_NO_PAD.encode("secret")},
        ]});
        let jwks = Jwks::from_document(&doc);
        assert!(!jwks.contains("oct"));
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("oct".into());
        let token =
            jsonwebtoken::encode(&header, &claims(), &EncodingKey::from_secret(b"secret")).unwrap();
        assert!(is_unauthorized(verify(&token, &jwks, &config(), &[])));
    }

    #[test]
    fn unknown_kid_is_unauthorized() {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("not-the-kid".into());
        let encoding = EncodingKey::from_rsa_pem(key().private_key_pem.as_bytes()).unwrap();
        let token = jsonwebtoken::encode(&header, &claims(), &encoding).unwrap();
        assert!(is_unauthorized(check(&token, &[])));
    }

    #[test]
    fn missing_scope_is_forbidden() {
        let mut c = claims();
        c["scope"] = json!("ates");
        assert!(matches!(
            check(&sign(&c), &["accounts:manage"]),
            Err(Denial::Forbidden(_))
        ));
        c.as_object_mut().unwrap().remove("scope");
        c["scp"] = json!(["accounts:manage"]);
        assert!(
            check(&sign(&c), &["accounts:manage"]).is_ok(),
            "scp works too"
        );
    }

    #[tokio::test]
    async fn authorizer_fetches_jwks_and_reads_bearer_header() {
        let authorizer = JwtAuthorizer::new(config());
        let token = sign(&claims());
        let doc = key().jwks();
        let ok = authorizer
            .authorize(Some(&format!("Bearer {token}")), &[], || async { Ok(doc) })
            .await;
        assert!(ok.is_ok());
        let missing = authorizer
            .authorize(None, &[], || async { Ok(Value::Null) })
            .await;
        assert!(matches!(missing, Err(Denial::Unauthorized(_))));
        let basic = authorizer
            .authorize(Some("Basic dXNlcjpwYXNz"), &[], || async {
                Ok(Value::Null)
            })
            .await;
        assert!(matches!(basic, Err(Denial::Unauthorized(_))));
    }

    #[tokio::test]
    async fn a_key_the_issuer_retired_stops_verifying_once_the_cache_is_old() {
        let bearer = format!("Bearer {}", sign(&claims()));
        let published = key().jwks();
        let retired = json!({"keys": []});

        let fresh = JwtAuthorizer::new(config());
        let first = fresh.authorize(Some(&bearer), &[], || async { Ok(published.clone()) });
        assert!(first.await.is_ok());
        let cached = fresh.authorize(Some(&bearer), &[], || async { Ok(retired.clone()) });
        assert!(
            cached.await.is_ok(),
            "within the max age the cached key stands"
        );

        let aged = JwtAuthorizer::keeping_keys_for(config(), Duration::ZERO);
        let first = aged.authorize(Some(&bearer), &[], || async { Ok(published.clone()) });
        assert!(first.await.is_ok());
        let refetched = aged.authorize(Some(&bearer), &[], || async { Ok(retired.clone()) });
        assert!(
            is_unauthorized(refetched.await),
            "the old cache is fetched again"
        );
    }
}
