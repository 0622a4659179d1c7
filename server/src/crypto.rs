//! The server's cryptography in one place: random bytes (the operating
//! system's generator, for every token, salt, nonce and key), HMAC-SHA256
//! with a constant-time check, and secrets sealed at rest.
//!
//! Partners' signing secrets at rest: the server must know a secret to
//! check an HMAC (a password-style hash will not do), so it is sealed with
//! ChaCha20-Poly1305 under the server's key (`TANPUHUI_PARTNER_SECRETS_KEY`):
//! a copy of the database alone does not let anyone sign as a partner. The
//! key id is the associated data, so a sealed secret cannot be moved to
//! another key's row. Transit card numbers are kept only as a hash keyed by
//! a subkey of the same key (card numbers are short enough to guess).

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Sealed values start with their format version, so the scheme can change.
const VERSION: &str = "v1:";
const NONCE_BYTES: usize = 12;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("the partner secrets key must be 64 hexadecimal characters (32 bytes)")]
    BadKey,
    #[error("the sealed secret is damaged or was sealed under another server key")]
    Unreadable,
}

/// The server's partner secrets key.
pub struct SecretBox {
    cipher: ChaCha20Poly1305,
    card_key: [u8; 32],
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(***)")
    }
}

/// `n` bytes from the operating system's generator.
pub fn random<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).expect("the operating system's random generator works");
    out
}

/// A number below `n` (not for secrets' sake: spreading and sampling, from
/// the same generator as everything else).
pub fn random_below(n: u64) -> u64 {
    u64::from_le_bytes(random::<8>()) % n.max(1)
}

fn mac(key: &[u8], parts: &[&[u8]]) -> Hmac<Sha256> {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    for p in parts {
        mac.update(p);
    }
    mac
}

/// HMAC-SHA256 of the concatenated `parts` under `key`.
pub fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    mac(key, parts).finalize().into_bytes().into()
}

/// Whether `given` is the HMAC-SHA256 of `parts` under `key`, compared in
/// constant time (a byte-by-byte comparison would leak how much matched).
pub fn hmac_matches(key: &[u8], parts: &[&[u8]], given: &[u8]) -> bool {
    mac(key, parts).verify_slice(given).is_ok()
}

impl SecretBox {
    pub fn from_hex(text: &str) -> Result<SecretBox, SealError> {
        let bytes = hex::decode(text.trim()).map_err(|_| SealError::BadKey)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| SealError::BadKey)?;
        Ok(SecretBox::from_key(key))
    }

    pub fn from_key(key: [u8; 32]) -> SecretBox {
        SecretBox {
            cipher: ChaCha20Poly1305::new(Key::from_slice(&key)),
            // A separate key for card hashes, so neither use weakens the other.
            card_key: hmac(&key, &[b"tanpuhui transit card hash"]),
        }
    }

    /// `v1:` + hex(nonce ‖ ciphertext ‖ tag).
    pub fn seal(&self, key_id: &str, secret: &[u8]) -> String {
        let nonce = random::<NONCE_BYTES>();
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: secret,
                    aad: key_id.as_bytes(),
                },
            )
            .expect("ChaCha20-Poly1305 seals any message of this size");
        format!("{VERSION}{}{}", hex::encode(nonce), hex::encode(sealed))
    }

    pub fn open(&self, key_id: &str, sealed: &str) -> Result<Vec<u8>, SealError> {
        let bytes = sealed
            .strip_prefix(VERSION)
            .and_then(|h| hex::decode(h).ok())
            .filter(|b| b.len() > NONCE_BYTES)
            .ok_or(SealError::Unreadable)?;
        let (nonce, body) = bytes.split_at(NONCE_BYTES);
        self.cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: key_id.as_bytes(),
                },
            )
            .map_err(|_| SealError::Unreadable)
    }

    /// The stored form of a card number of one partner organisation.
    pub fn card_hash(&self, org_id: &str, card: &str) -> String {
        hex::encode(hmac(
            &self.card_key,
            &[org_id.as_bytes(), b"\n", card.as_bytes()],
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn sealed_secrets_open_only_under_their_key_and_row() {
        let b = SecretBox::from_hex(KEY).unwrap();
        let sealed = b.seal("pk_1", b"the secret");
        assert!(!sealed.contains(&hex::encode(b"the secret")));
        assert_eq!(b.open("pk_1", &sealed).unwrap(), b"the secret");
        // Two seals of one secret differ (fresh nonces).
        assert_ne!(sealed, b.seal("pk_1", b"the secret"));
        assert_eq!(b.open("pk_2", &sealed), Err(SealError::Unreadable));
        let other = SecretBox::from_hex(&KEY.replace("00", "ff")).unwrap();
        assert_eq!(other.open("pk_1", &sealed), Err(SealError::Unreadable));
        let mut flipped = sealed.clone().into_bytes();
        let last = flipped.len() - 1;
        flipped[last] = if flipped[last] == b'0' { b'1' } else { b'0' };
        let flipped = String::from_utf8(flipped).unwrap();
        assert_eq!(b.open("pk_1", &flipped), Err(SealError::Unreadable));
        assert_eq!(b.open("pk_1", "v0:00"), Err(SealError::Unreadable));
    }

    #[test]
    fn hmacs_are_checked_whole() {
        let tag = hmac(b"key", &[b"a", b"b"]);
        assert!(
            hmac_matches(b"key", &[b"ab"], &tag),
            "parts are concatenated"
        );
        assert!(!hmac_matches(b"other", &[b"ab"], &tag));
        assert!(
            !hmac_matches(b"key", &[b"ab"], &tag[..31]),
            "a prefix is not the tag"
        );
        assert_ne!(random::<32>(), random::<32>());
    }

    #[test]
    fn keys_are_32_bytes_of_hex() {
        assert!(SecretBox::from_hex("abcd").is_err());
        assert!(SecretBox::from_hex(&"z".repeat(64)).is_err());
        assert!(SecretBox::from_hex(&format!("{KEY}00")).is_err());
    }

    #[test]
    fn card_hashes_depend_on_key_partner_and_card() {
        let b = SecretBox::from_hex(KEY).unwrap();
        let h = b.card_hash("org-1", "1234");
        assert_eq!(h, b.card_hash("org-1", "1234"));
        assert_ne!(h, b.card_hash("org-2", "1234"));
        assert_ne!(h, b.card_hash("org-1", "1235"));
        let other = SecretBox::from_hex(&KEY.replace("00", "ff")).unwrap();
        assert_ne!(h, other.card_hash("org-1", "1234"));
    }
}
