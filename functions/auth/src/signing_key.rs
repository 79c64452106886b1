//! The issuer's signing key from Secrets Manager: the adapter an [`Issuer`] is built from.

use crate::issuer::{Issuer, SigningKey};

/// Reads the key named by `SIGNING_KEY_SECRET_ID` and builds the issuer `ATES_ISSUER`; once
/// per cold start.
pub async fn load_issuer(config: &aws_config::SdkConfig) -> Result<Issuer, lambda_runtime::Error> {
    let issuer = ates_kernel::config::required("ATES_ISSUER")?;
    let secret_id = ates_kernel::config::required("SIGNING_KEY_SECRET_ID")?;
    let secret = aws_sdk_secretsmanager::Client::new(config)
        .get_secret_value()
        .secret_id(&secret_id)
        .send()
        .await
        .map_err(|e| {
            format!(
                "signing key {secret_id}: {}",
                aws_sdk_secretsmanager::error::DisplayErrorContext(e)
            )
        })?;
    let key: SigningKey = serde_json::from_str(secret.secret_string().unwrap_or_default())
        .map_err(|e| {
            format!(
                "signing key {secret_id} is not {{kid, private_key_pem, n, e}} (see README): {e}"
            )
        })?;
    Ok(Issuer::new(issuer, key)?)
}
