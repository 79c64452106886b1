//! A fresh RS256 signing key for the local issuer, generated with the openssl command line.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::Rng;
use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Stdio};

/// One RS256 key of the issuer.
#[derive(Debug, Clone)]
pub struct SigningKey {
    pub kid: String,
    pub private_key_pem: String,
    /// base64url (no padding) of the modulus bytes.
    pub n: String,
    pub e: String,
}

impl SigningKey {
    pub fn generate() -> Result<SigningKey, String> {
        let private_key_pem = openssl(
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
            ],
            None,
        )?;
        let modulus = openssl(&["rsa", "-noout", "-modulus"], Some(&private_key_pem))?;
        let hex_modulus = modulus
            .trim()
            .strip_prefix("Modulus=")
            .ok_or_else(|| format!("unexpected openssl modulus output: {modulus}"))?;
        let modulus_bytes =
            hex::decode(hex_modulus).map_err(|e| format!("bad modulus hex: {e}"))?;
        let kid: String = rand::thread_rng()
            .sample_iter(rand::distributions::Alphanumeric)
            .take(16)
            .map(char::from)
            .collect();
        Ok(SigningKey {
            kid: format!("local-{kid}"),
            private_key_pem,
            n: URL_SAFE_NO_PAD.encode(modulus_bytes),
            // 65537, the exponent openssl always uses.
            e: "AQAB".into(),
        })
    }

    /// The signing-key secret holding this key alone, as `infra/signing-key.py` writes the
    /// ring in the cloud (signing from the start).
    pub fn secret_json(&self) -> Value {
        json!({"keys": [{"kid": self.kid, "private_key_pem": self.private_key_pem, "n": self.n, "e": self.e, "not_before": 0}]})
    }

    /// The JWKS document the issuer publishes for this key (the public-keys secret).
    pub fn jwks(&self) -> Value {
        json!({"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid, "n": self.n, "e": self.e}]})
    }

    #[cfg(test)]
    pub fn public_key_pem(&self) -> Result<String, String> {
        openssl(&["pkey", "-pubout"], Some(&self.private_key_pem))
    }
}

fn openssl(args: &[&str], stdin: Option<&str>) -> Result<String, String> {
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run openssl: {e}"))?;
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(input.as_bytes())
            .map_err(|e| format!("cannot write to openssl: {e}"))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("openssl failed: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "openssl {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| format!("openssl output is not UTF-8: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_a_pkcs8_key_with_its_modulus() {
        let key = SigningKey::generate().unwrap();
        assert!(key
            .private_key_pem
            .starts_with("-----BEGIN PRIVATE KEY-----"));
        assert_eq!(URL_SAFE_NO_PAD.decode(&key.n).unwrap().len(), 256);
        assert!(jsonwebtoken::DecodingKey::from_rsa_components(&key.n, &key.e).is_ok());
    }
}
