//! RFC 9162 (Certificate Transparency v2) Merkle tree hashing and proof
//! verification, and the signed tree head the server publishes. Phones use
//! this to check a retirement certificate offline.
//!
//! Leaf hash `SHA-256(0x00 ‖ data)`, node hash `SHA-256(0x01 ‖ left ‖ right)`,
//! the empty tree's root `SHA-256("")`.
//!
//! Proofs authenticate against a (tree size, root) *pair*: by the RFC's
//! algorithm the same path can verify for another size with the same root
//! (leaf 1 of 5 leaves and of 7 leaves have identically shaped paths). The
//! signed tree head is what binds size to root, so a client checks
//! [`TreeHead::verify`] first and then the proof against that head.

use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];

/// No tree of ours reaches 2^64 leaves, so no proof has more hashes.
pub const MAX_PROOF_HASHES: usize = 64;

pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(data);
    h.finalize().into()
}

pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The root an inclusion proof leads to (RFC 9162 §2.1.3.2), or `None` when
/// the proof has the wrong shape for `index` in a tree of `size`.
pub fn root_from_inclusion(leaf: &Hash, index: u64, size: u64, proof: &[Hash]) -> Option<Hash> {
    if index >= size {
        return None;
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if snode == 0 {
            return None;
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    (snode == 0).then_some(r)
}

pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash) -> bool {
    root_from_inclusion(leaf, index, size, proof).is_some_and(|r| r == *root)
}

/// RFC 9162 §2.1.4.2: is the tree of `second` leaves with `second_root` an
/// append-only extension of the tree of `first` leaves with `first_root`?
pub fn verify_consistency(
    first: u64,
    second: u64,
    first_root: &Hash,
    second_root: &Hash,
    proof: &[Hash],
) -> bool {
    if first > second {
        return false;
    }
    if first == second {
        return proof.is_empty() && first_root == second_root;
    }
    if first == 0 {
        // The empty tree is a prefix of every tree; nothing to prove.
        return proof.is_empty();
    }
    if proof.is_empty() {
        return false;
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if first.is_power_of_two() {
        path.push(*first_root);
    }
    path.extend_from_slice(proof);
    let (mut fnode, mut snode) = (first - 1, second - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if snode == 0 {
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    fr == *first_root && sr == *second_root && snode == 0
}

/// A signed tree head's content. The signed bytes are RFC 9162 §4.10
/// `TreeHeadDataV2`: `timestamp` (u64, ms since the Unix epoch, big-endian),
/// `tree_size` (u64 big-endian), `root_hash` (1-byte length 32, then the
/// hash), `sth_extensions` (2-byte length 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeHead {
    pub tree_size: u64,
    pub timestamp: u64,
    pub root_hash: Hash,
}

pub const TREE_HEAD_BYTES: usize = 8 + 8 + 1 + 32 + 2;

impl TreeHead {
    /// The exact bytes the server signs with its Ed25519 key.
    pub fn signing_bytes(&self) -> [u8; TREE_HEAD_BYTES] {
        let mut out = [0u8; TREE_HEAD_BYTES];
        out[0..8].copy_from_slice(&self.timestamp.to_be_bytes());
        out[8..16].copy_from_slice(&self.tree_size.to_be_bytes());
        out[16] = 32;
        out[17..49].copy_from_slice(&self.root_hash);
        // out[49..51]: zero-length extensions.
        out
    }

    /// Strict Ed25519 verification (rejects small-order keys and
    /// non-canonical signatures). A key that is not a curve point verifies
    /// nothing, so it is `false`, not an error.
    pub fn verify(&self, signature: &[u8; 64], public_key: &[u8; 32]) -> bool {
        let Ok(key) = VerifyingKey::from_bytes(public_key) else {
            return false;
        };
        let sig = Signature::from_bytes(signature);
        key.verify_strict(&self.signing_bytes(), &sig).is_ok()
    }
}

/// In-memory tree construction by the RFC's recursive definitions: the
/// reference the verifiers are tested against, and a helper for callers that
/// hold all leaves.
pub mod reference {
    use super::{empty_root, node_hash, Hash};

    /// Largest power of two smaller than `n` (n ≥ 2).
    fn split(n: usize) -> usize {
        let mut k = 1;
        while k << 1 < n {
            k <<= 1;
        }
        k
    }

    /// MTH over leaf hashes.
    pub fn root(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split(n);
                node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
            }
        }
    }

    /// PATH(m, D[n]) of RFC 9162 §2.1.3.1.
    pub fn inclusion_proof(leaves: &[Hash], index: usize) -> Vec<Hash> {
        let n = leaves.len();
        assert!(index < n, "index {index} outside a tree of {n}");
        if n == 1 {
            return Vec::new();
        }
        let k = split(n);
        if index < k {
            let mut p = inclusion_proof(&leaves[..k], index);
            p.push(root(&leaves[k..]));
            p
        } else {
            let mut p = inclusion_proof(&leaves[k..], index - k);
            p.push(root(&leaves[..k]));
            p
        }
    }

    /// PROOF(m, D[n]) of RFC 9162 §2.1.4.1.
    pub fn consistency_proof(leaves: &[Hash], first: usize) -> Vec<Hash> {
        assert!(first <= leaves.len());
        if first == 0 || first == leaves.len() {
            return Vec::new();
        }
        subproof(first, leaves, true)
    }

    fn subproof(m: usize, leaves: &[Hash], complete: bool) -> Vec<Hash> {
        let n = leaves.len();
        if m == n {
            return if complete {
                Vec::new()
            } else {
                vec![root(leaves)]
            };
        }
        let k = split(n);
        if m <= k {
            let mut p = subproof(m, &leaves[..k], complete);
            p.push(root(&leaves[k..]));
            p
        } else {
            let mut p = subproof(m - k, &leaves[k..], false);
            p.push(root(&leaves[..k]));
            p
        }
    }
}

/// The JSON requests of the proof functions (hashes as hex).
pub mod api {
    use serde::{Deserialize, Serialize};

    use super::{Hash, TreeHead, MAX_PROOF_HASHES};
    use crate::error::{CalcError, CalcResult, ErrorCode};

    /// Largest leaf accepted, in bytes; audit-log leaves are small records.
    pub const MAX_LEAF_BYTES: usize = 64 * 1024;

    fn bytes(text: &str, field: &str) -> CalcResult<Vec<u8>> {
        hex::decode(text)
            .map_err(|e| CalcError::invalid_value(field, format!("is not hexadecimal bytes ({e})")))
    }

    /// Decodes exactly `N` bytes. `field` is built only on error: proofs are
    /// checked on phones, and formatting 20 paths per call showed in profiles.
    fn fixed<const N: usize>(text: &str, field: impl Fn() -> String) -> CalcResult<[u8; N]> {
        let mut out = [0u8; N];
        if text.len() == N * 2 && hex::decode_to_slice(text, &mut out).is_ok() {
            return Ok(out);
        }
        // Say whether the text is not hex at all or just the wrong length.
        let raw = bytes(text, &field())?;
        Err(CalcError::invalid_value(
            field(),
            format!(
                "must be {N} bytes ({} hex characters), got {} bytes",
                N * 2,
                raw.len()
            ),
        ))
    }

    fn proof(items: &[String], field: &str) -> CalcResult<Vec<Hash>> {
        if items.len() > MAX_PROOF_HASHES {
            return Err(CalcError::new(
                ErrorCode::TooManyItems,
                field,
                format!("at most {MAX_PROOF_HASHES} hashes"),
            ));
        }
        items
            .iter()
            .enumerate()
            .map(|(i, h)| fixed::<32>(h, || format!("{field}[{i}]")))
            .collect()
    }

    pub fn leaf_hash_hex(data_hex: &str) -> CalcResult<String> {
        if data_hex.len() > MAX_LEAF_BYTES * 2 {
            return Err(CalcError::new(
                ErrorCode::TooManyItems,
                "data",
                format!("leaf data larger than {MAX_LEAF_BYTES} bytes"),
            ));
        }
        Ok(hex::encode(super::leaf_hash(&bytes(data_hex, "data")?)))
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct InclusionRequest {
        pub leaf_hash: String,
        pub leaf_index: u64,
        pub tree_size: u64,
        pub proof: Vec<String>,
        pub root_hash: String,
    }

    pub fn verify_inclusion(req: &InclusionRequest) -> CalcResult<bool> {
        let leaf = fixed::<32>(&req.leaf_hash, || "leaf_hash".into())?;
        let root = fixed::<32>(&req.root_hash, || "root_hash".into())?;
        let proof = proof(&req.proof, "proof")?;
        Ok(super::verify_inclusion(
            &leaf,
            req.leaf_index,
            req.tree_size,
            &proof,
            &root,
        ))
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct ConsistencyRequest {
        pub first_size: u64,
        pub second_size: u64,
        pub first_root: String,
        pub second_root: String,
        pub proof: Vec<String>,
    }

    pub fn verify_consistency(req: &ConsistencyRequest) -> CalcResult<bool> {
        let first = fixed::<32>(&req.first_root, || "first_root".into())?;
        let second = fixed::<32>(&req.second_root, || "second_root".into())?;
        let proof = proof(&req.proof, "proof")?;
        Ok(super::verify_consistency(
            req.first_size,
            req.second_size,
            &first,
            &second,
            &proof,
        ))
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct TreeHeadRequest {
        pub tree_size: u64,
        pub root_hash: String,
        /// Milliseconds since the Unix epoch.
        pub timestamp: u64,
        pub signature: String,
        pub public_key: String,
    }

    pub fn verify_tree_head(req: &TreeHeadRequest) -> CalcResult<bool> {
        let head = TreeHead {
            tree_size: req.tree_size,
            timestamp: req.timestamp,
            root_hash: fixed::<32>(&req.root_hash, || "root_hash".into())?,
        };
        let signature = fixed::<64>(&req.signature, || "signature".into())?;
        let key = fixed::<32>(&req.public_key, || "public_key".into())?;
        Ok(head.verify(&signature, &key))
    }
}
