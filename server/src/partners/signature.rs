//! How a partner signs a request, and how it is checked. The string signed
//! is the method, the path, the timestamp, the nonce and the SHA-256 of the
//! body, one per line:
//!
//! ```text
//! POST\n/api/v1/partner/trips\n1764288000\n5f0c…\n<hex sha256 of body>
//! ```
//!
//! and the signature is the lowercase hex HMAC-SHA256 of it under the
//! partner's secret (its text as handed out). The nonce is signed too, so a
//! captured request cannot be replayed under a fresh nonce.

use sha2::{Digest, Sha256};

pub const KEY_HEADER: &str = "X-Tanpuhui-Key";
pub const TIMESTAMP_HEADER: &str = "X-Tanpuhui-Timestamp";
pub const NONCE_HEADER: &str = "X-Tanpuhui-Nonce";
pub const SIGNATURE_HEADER: &str = "X-Tanpuhui-Signature";

/// A request's timestamp may differ from the server's clock by this much;
/// nonces are remembered at least twice as long.
pub const WINDOW_SECS: i64 = 300;

pub fn canonical(method: &str, path: &str, timestamp: &str, nonce: &str, body: &[u8]) -> String {
    format!(
        "{method}\n{path}\n{timestamp}\n{nonce}\n{}",
        hex::encode(Sha256::digest(body))
    )
}

/// What a partner sends in `X-Tanpuhui-Signature`.
pub fn sign(secret: &[u8], canonical: &str) -> String {
    hex::encode(crate::crypto::hmac(secret, &[canonical.as_bytes()]))
}

/// Compares in constant time.
pub fn verify(secret: &[u8], canonical: &str, signature_hex: &str) -> bool {
    match hex::decode(signature_hex) {
        Ok(given) => crate::crypto::hmac_matches(secret, &[canonical.as_bytes()], &given),
        Err(_) => false,
    }
}

/// Nonces: 16 to 64 characters of `[A-Za-z0-9_-]` (a UUID will do).
pub fn nonce_ok(nonce: &str) -> bool {
    (16..=64).contains(&nonce.len())
        && nonce
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_change_to_a_signed_part_breaks_the_signature() {
        let parts = [
            "POST",
            "/api/v1/partner/trips",
            "1764288000",
            "nonce-0123456789ab",
        ];
        let body = br#"{"records":[]}"#;
        let secret = b"tphs_secret";
        let sig = sign(
            secret,
            &canonical(parts[0], parts[1], parts[2], parts[3], body),
        );
        assert!(verify(
            secret,
            &canonical(parts[0], parts[1], parts[2], parts[3], body),
            &sig
        ));
        for i in 0..parts.len() {
            let mut changed = parts;
            let altered = format!("{}x", parts[i]);
            changed[i] = &altered;
            let c = canonical(changed[0], changed[1], changed[2], changed[3], body);
            assert!(!verify(secret, &c, &sig), "part {i}");
        }
        let c = canonical(parts[0], parts[1], parts[2], parts[3], b"{\"records\":[1]}");
        assert!(!verify(secret, &c, &sig));
        let c = canonical(parts[0], parts[1], parts[2], parts[3], body);
        assert!(!verify(b"tphs_other", &c, &sig));
        assert!(!verify(secret, &c, "not hex"));
        assert!(!verify(secret, &c, &sig[..62]));
    }

    #[test]
    fn a_known_vector() {
        // Checked with: printf '%s' "$canonical" | openssl dgst -sha256 -hmac key
        let c = canonical("POST", "/p", "1", "n", b"");
        assert_eq!(
            c,
            "POST\n/p\n1\nn\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sign(b"key", &c),
            "27a9e42897bed2734142d3adc7e0f5ca2e9016274eb340abdb509eb30fcc48fb"
        );
    }

    #[test]
    fn nonces_are_long_and_plain() {
        assert!(nonce_ok("0f8fad5b-d9cb-469f-a165-70867728950e"));
        assert!(!nonce_ok("short"));
        assert!(!nonce_ok(&"n".repeat(65)));
        assert!(!nonce_ok("has space in the nonce"));
    }
}
