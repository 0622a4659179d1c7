//! The audit log's answers as the API and certificates show them: signed
//! tree heads and inclusion proofs, hex-encoded.

use serde::Serialize;
use utoipa::ToSchema;

use super::entity::tree_head;
use super::proofs::{Inclusion, Receipt};

/// A signed tree head (RFC 9162 `TreeHeadDataV2` signed with Ed25519):
/// check it with carbon-calc's `verifyTreeHead`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TreeHeadView {
    pub tree_size: u64,
    /// Hex SHA-256.
    pub root_hash: String,
    /// Milliseconds since the Unix epoch, as signed.
    pub timestamp: u64,
    /// Hex Ed25519 signature over the RFC 9162 tree head bytes.
    pub signature: String,
    /// Hex Ed25519 public key of the log.
    pub public_key: String,
}

impl From<tree_head::Model> for TreeHeadView {
    fn from(h: tree_head::Model) -> Self {
        TreeHeadView {
            tree_size: h.tree_size as u64,
            root_hash: h.root_hash,
            timestamp: h.timestamp as u64,
            signature: h.signature,
            public_key: h.public_key,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InclusionView {
    pub leaf_index: u64,
    pub tree_size: u64,
    /// Hex `SHA-256(0x00 ‖ leaf)`.
    pub leaf_hash: String,
    /// Hex hashes, the leaf's sibling first (RFC 9162 §2.1.3).
    pub proof: Vec<String>,
}

impl From<Inclusion> for InclusionView {
    fn from(p: Inclusion) -> Self {
        InclusionView {
            leaf_index: p.leaf_index,
            tree_size: p.tree_size,
            leaf_hash: hex::encode(p.leaf_hash),
            proof: p.proof.iter().map(hex::encode).collect(),
        }
    }
}

/// A record's place in the audit log, as certificates and attestations
/// carry it: check the head with `verifyTreeHead`, then the leaf with
/// `verifyInclusion`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditReceipt {
    pub leaf_index: u64,
    /// The canonical leaf bytes (UTF-8 JSON) whose hash the proof covers.
    pub leaf: String,
    pub inclusion: InclusionView,
    pub tree_head: TreeHeadView,
}

impl From<Receipt> for AuditReceipt {
    fn from(r: Receipt) -> Self {
        AuditReceipt {
            leaf_index: r.inclusion.leaf_index,
            leaf: r.leaf,
            inclusion: r.inclusion.into(),
            tree_head: r.head.into(),
        }
    }
}
