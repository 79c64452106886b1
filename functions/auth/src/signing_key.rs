//! The issuer's keys from Secrets Manager, the adapters an [`Issuer`] and the published JWKS
//! are built from. Each container re-reads its secret once its copy is older than
//! `KEYS_CACHE_SECONDS` (60 by default), so a rotated key is picked up without a redeploy:
//! signers by `SIGNING_KEY_SECRET_ID` (the private ring), the JWKS by `PUBLIC_KEYS_SECRET_ID`
//! (public keys only; the well-known function cannot read a private key).
//!
//! The ring (`KeyRing`, secret `ates/auth/signing-key`) holds the key signing now (the newest whose
//! `not_before` has come), the one before it while tokens it signed may live, and the next one,
//! published ahead. Its public halves are a JWKS in a secret of their own, `ates/auth/public-keys`.
//! `infra/signing-key.py rotate` writes both (public first), and the new key's lead (10 minutes)
//! is longer than every cache between the secret and a verifier, so API Gateway knows a key before
//! the first token it signs. The local stack's authorizer keeps the JWKS as API Gateway does:
//! fetched again for an unknown kid and once older than two hours (`JWKS_MAX_AGE` in
//! `infra/local`), so a retired key stops verifying there too.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::RwLock;

use crate::issuer::{public_only, Issuer, KeyRing};

type Load<T> =
    Box<dyn Fn() -> Pin<Box<dyn Future<Output = Result<T, String>> + Send>> + Send + Sync>;

/// A value read from somewhere, kept for a while, then read again. A failed re-read keeps the
/// copy it has (and says so in the log), so a hiccup of Secrets Manager is not an outage.
pub struct Refreshed<T> {
    load: Option<Load<T>>,
    ttl: Duration,
    current: RwLock<(Instant, Arc<T>)>,
}

impl<T: Send + Sync + 'static> Refreshed<T> {
    /// Reads the value now (an error here fails the cold start), and again whenever the copy
    /// is older than `ttl`.
    pub async fn load(
        ttl: Duration,
        load: impl Fn() -> Pin<Box<dyn Future<Output = Result<T, String>> + Send>>
            + Send
            + Sync
            + 'static,
    ) -> Result<Refreshed<T>, String> {
        let first = load().await?;
        Ok(Refreshed {
            load: Some(Box::new(load)),
            ttl,
            current: RwLock::new((Instant::now(), Arc::new(first))),
        })
    }

    /// A value that never changes (tests).
    pub fn fixed(value: T) -> Refreshed<T> {
        Refreshed {
            load: None,
            ttl: Duration::MAX,
            current: RwLock::new((Instant::now(), Arc::new(value))),
        }
    }

    /// The value, read again first if the copy is too old.
    pub async fn get(&self) -> Arc<T> {
        {
            let current = self.current.read().await;
            if current.0.elapsed() < self.ttl {
                return current.1.clone();
            }
        }
        let Some(load) = &self.load else {
            return self.current.read().await.1.clone();
        };
        let mut current = self.current.write().await;
        if current.0.elapsed() < self.ttl {
            return current.1.clone(); // another request read it meanwhile
        }
        match load().await {
            Ok(value) => *current = (Instant::now(), Arc::new(value)),
            Err(e) => {
                tracing::warn!("keeping the keys read before: {e}");
                current.0 = Instant::now();
            }
        }
        current.1.clone()
    }
}

/// The issuer, with the keys of the signing-key secret.
pub type SigningKeys = Refreshed<Issuer>;

/// The JWKS to publish, from the public-keys secret.
pub type PublicKeys = Refreshed<serde_json::Value>;

fn cache_ttl() -> Duration {
    let seconds = ates_kernel::config::optional("KEYS_CACHE_SECONDS", "60");
    Duration::from_secs(seconds.parse().unwrap_or(60))
}

async fn read_secret(
    client: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
) -> Result<String, String> {
    let secret = client
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|e| {
            format!(
                "secret {secret_id}: {}",
                aws_sdk_secretsmanager::error::DisplayErrorContext(e)
            )
        })?;
    Ok(secret.secret_string().unwrap_or_default().to_owned())
}

/// The issuer `ATES_ISSUER` with the ring of `SIGNING_KEY_SECRET_ID`.
pub async fn load_issuer(
    config: &aws_config::SdkConfig,
) -> Result<SigningKeys, lambda_runtime::Error> {
    let issuer = ates_kernel::config::required("ATES_ISSUER")?;
    let secret_id = ates_kernel::config::required("SIGNING_KEY_SECRET_ID")?;
    let client = aws_sdk_secretsmanager::Client::new(config);
    let keys = Refreshed::load(cache_ttl(), move || {
        let (client, secret_id, issuer) = (client.clone(), secret_id.clone(), issuer.clone());
        Box::pin(async move {
            let json = read_secret(&client, &secret_id).await?;
            let ring = KeyRing::parse(&json).map_err(|e| {
                format!("signing key {secret_id} is not {{\"keys\": [{{kid, private_key_pem, n, e, not_before}}]}} (see README): {e}")
            })?;
            Issuer::with_keys(issuer, ring).map_err(|e| e.to_string())
        })
    })
    .await?;
    Ok(keys)
}

/// The JWKS of `PUBLIC_KEYS_SECRET_ID`, public members only.
pub async fn load_public_keys(
    config: &aws_config::SdkConfig,
) -> Result<PublicKeys, lambda_runtime::Error> {
    let secret_id = ates_kernel::config::required("PUBLIC_KEYS_SECRET_ID")?;
    let client = aws_sdk_secretsmanager::Client::new(config);
    let keys = Refreshed::load(cache_ttl(), move || {
        let (client, secret_id) = (client.clone(), secret_id.clone());
        Box::pin(async move {
            let json = read_secret(&client, &secret_id).await?;
            let jwks: serde_json::Value = serde_json::from_str(&json)
                .map_err(|e| format!("public keys {secret_id} are not a JWKS: {e}"))?;
            Ok(public_only(&jwks))
        })
    })
    .await?;
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn a_copy_is_read_again_once_it_is_too_old_and_kept_when_that_fails() {
        let reads = Arc::new(AtomicU32::new(0));
        let counter = reads.clone();
        let value = Refreshed::load(Duration::from_millis(50), move || {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move {
                if n == 2 {
                    Err("down".to_string())
                } else {
                    Ok(n)
                }
            })
        })
        .await
        .unwrap();
        assert_eq!(*value.get().await, 0);
        assert_eq!(*value.get().await, 0, "fresh enough: not read again");
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(*value.get().await, 1, "read again");
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(*value.get().await, 1, "a failed read keeps the copy");
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(*value.get().await, 3);
        assert_eq!(reads.load(Ordering::SeqCst), 4);
    }
}
