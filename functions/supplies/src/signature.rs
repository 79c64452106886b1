//! The supplier's delivery callback carries no token: it is signed. The supplier and supplies
//! share a secret (the stack's `SuppliesSupplierSecret`); the callback's header
//! `X-Supplier-Signature: sha256=<hex>` is HMAC-SHA256 (RFC 2104) of the exact body under it,
//! and it is compared in constant time, so a wrong signature says nothing of the right one.

use sha2::{Digest, Sha256};

use crate::error::SuppliesError;

/// The header the signature travels in.
pub const HEADER: &str = "x-supplier-signature";

const BLOCK: usize = 64;

/// HMAC-SHA256 of `message` under `key`.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    // A key longer than a block is hashed first; a shorter one is padded with zeros.
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|k| k ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// The header's value for `body` under `secret`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    format!("sha256={}", hex::encode(hmac_sha256(secret, body)))
}

/// Whether `header` is the signature of `body` under `secret`; the comparison takes the same
/// time wherever the two differ.
pub fn verify(secret: &[u8], body: &[u8], header: Option<&str>) -> Result<(), SuppliesError> {
    let given = header
        .and_then(|h| h.strip_prefix("sha256="))
        .and_then(|h| hex::decode(h).ok())
        .ok_or(SuppliesError::BadSignature)?;
    let expected = hmac_sha256(secret, body);
    let differ = given.len() != expected.len()
        || given
            .iter()
            .zip(expected.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            != 0;
    if differ {
        Err(SuppliesError::BadSignature)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231, test cases 2 and 6 (a short key; a key longer than a block).
    #[test]
    fn hmac_sha256_is_rfc_4231s() {
        assert_eq!(
            hex::encode(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let long_key = [0xaa; 131];
        assert_eq!(
            hex::encode(hmac_sha256(
                &long_key,
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn only_the_signature_of_this_body_under_this_secret_passes() {
        let (secret, body) = (
            b"shared-secret".as_slice(),
            br#"{"kit_id":"k","attempt":1}"#,
        );
        let signed = sign(secret, body);
        assert!(verify(secret, body, Some(&signed)).is_ok());
        let tampered = br#"{"kit_id":"k","attempt":2}"#;
        assert!(
            verify(secret, tampered, Some(&signed)).is_err(),
            "another body"
        );
        assert!(
            verify(b"other", body, Some(&signed)).is_err(),
            "another secret"
        );
        let short = &signed[..signed.len() - 2];
        for bad in [
            None,
            Some(""),
            Some("sha256=zz"),
            Some(short),
            Some(&signed[7..]),
        ] {
            assert!(verify(secret, body, bad).is_err(), "{bad:?}");
        }
    }
}
