//! The Ed25519 key that signs tree heads: from configuration
//! (`TANPUHUI_AUDIT_SIGNING_KEY`, the 32-byte seed as hex), or in
//! development from a key file made on first start. Every replica must use
//! the same key: whichever replica seals signs.

use std::path::Path;

use ed25519_dalek::{Signer as _, SigningKey};

use carbon_calc::merkle::TreeHead;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the audit signing key must be 64 hexadecimal characters (a 32-byte Ed25519 seed)")]
    Malformed,
    #[error("audit key file {path}: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
}

#[derive(Clone)]
pub struct TreeSigner(SigningKey);

impl std::fmt::Debug for TreeSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TreeSigner({})", self.public_key_hex())
    }
}

impl TreeSigner {
    pub fn from_hex(text: &str) -> Result<TreeSigner, KeyError> {
        let mut seed = [0u8; 32];
        hex::decode_to_slice(text.trim(), &mut seed).map_err(|_| KeyError::Malformed)?;
        Ok(TreeSigner(SigningKey::from_bytes(&seed)))
    }

    /// The key in `path`, or a fresh one written there (owner-only) when the
    /// file does not exist. `true` when it was made now.
    pub fn from_file(path: &Path) -> Result<(TreeSigner, bool), KeyError> {
        let err = |source| KeyError::File {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read_to_string(path) {
            Ok(text) => Ok((TreeSigner::from_hex(&text)?, false)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(err)?;
                }
                let seed = crate::crypto::random::<32>();
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = options.open(path).map_err(err)?;
                std::io::Write::write_all(&mut file, format!("{}\n", hex::encode(seed)).as_bytes())
                    .map_err(err)?;
                Ok((TreeSigner(SigningKey::from_bytes(&seed)), true))
            }
            Err(e) => Err(err(e)),
        }
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.0.verifying_key().to_bytes()
    }

    pub fn public_key_hex(&self) -> String {
        hex::encode(self.public_key())
    }

    pub fn sign(&self, head: &TreeHead) -> [u8; 64] {
        self.0.sign(&head.signing_bytes()).to_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_with_carbon_calc() {
        let signer = TreeSigner::from_hex(&"11".repeat(32)).unwrap();
        let head = TreeHead {
            tree_size: 5,
            timestamp: 1_800_000_000_000,
            root_hash: [7; 32],
        };
        let sig = signer.sign(&head);
        assert!(head.verify(&sig, &signer.public_key()));
        let other = TreeHead {
            tree_size: 6,
            ..head
        };
        assert!(!other.verify(&sig, &signer.public_key()));
    }

    #[test]
    fn key_files_are_made_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/audit.key");
        let (a, made) = TreeSigner::from_file(&path).unwrap();
        assert!(made);
        let (b, made) = TreeSigner::from_file(&path).unwrap();
        assert!(!made);
        assert_eq!(a.public_key(), b.public_key());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "key file readable by others: {mode:o}");
        }
        assert!(TreeSigner::from_hex("abc").is_err());
    }
}
