//! `/api/v1/audit/*`: the signed tree head, proofs and entries. Public (no
//! sign-in): anyone may check the log.

use actix_web::{get, web, HttpResponse};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::entity::event;
use super::proofs::{self, ProofError};
use super::views::{InclusionView, TreeHeadView};
use crate::error::ApiError;

impl From<ProofError> for ApiError {
    fn from(e: ProofError) -> Self {
        match e {
            ProofError::NotSealed => ApiError::Unavailable(e.to_string()),
            ProofError::Invalid { param, .. } => ApiError::Invalid {
                param: param.into(),
                detail: e.to_string(),
            },
            ProofError::Database(e) => e.into(),
        }
    }
}

/// The log's signing key, which verifiers pin.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicKeyView {
    /// Always `Ed25519`.
    pub algorithm: &'static str,
    /// Hex, 32 bytes: pin this, and check every tree head against it.
    pub public_key: String,
    /// What the signature covers: RFC 9162 §4.10 `TreeHeadDataV2`, 51
    /// bytes (see docs/registry.md).
    pub signed_bytes: &'static str,
}

/// The key this server signs tree heads with.
#[derive(Debug, Clone)]
pub struct LogKey(pub String);

/// The audit log's public key, to pin: every tree head, and so every
/// certificate's proof, is signed with it. Published here and in the
/// deployment's documentation; a head signed with another key is not this
/// log's.
#[utoipa::path(
    tag = "audit",
    responses((status = 200, description = "The log's Ed25519 public key", body = PublicKeyView))
)]
#[get("/api/v1/audit/public-key")]
pub async fn public_key(key: web::Data<LogKey>) -> HttpResponse {
    HttpResponse::Ok().json(PublicKeyView {
        algorithm: "Ed25519",
        public_key: key.0.clone(),
        signed_bytes: "RFC 9162 TreeHeadDataV2: timestamp u64 BE (ms) | tree_size u64 BE | 0x20 | root_hash (32) | 0x0000",
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HeadQuery {
    /// A past head of exactly this size; the latest when absent.
    pub tree_size: Option<u64>,
}

/// The latest signed tree head (or the one of a given size).
#[utoipa::path(
    tag = "audit",
    params(HeadQuery),
    responses(
        (status = 200, description = "The signed head", body = TreeHeadView),
        (status = 422, description = "No signed head of that size (`invalid_field`)", content_type = "application/problem+json"),
        (status = 503, description = "Nothing sealed yet (`unavailable`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/audit/tree-head")]
pub async fn get_tree_head(
    db: web::Data<DatabaseConnection>,
    q: web::Query<HeadQuery>,
) -> Result<HttpResponse, ApiError> {
    let head = match q.tree_size {
        Some(size) => proofs::head_at(db.get_ref(), size, "tree_size").await?,
        None => proofs::latest_head(db.get_ref()).await?,
    };
    Ok(HttpResponse::Ok().json(TreeHeadView::from(head)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InclusionQuery {
    pub leaf_index: u64,
    /// The size of a signed tree head.
    pub tree_size: u64,
}

/// Inclusion proof of a leaf in the tree of a signed head.
#[utoipa::path(
    tag = "audit",
    params(InclusionQuery),
    responses(
        (status = 200, description = "The proof", body = InclusionView),
        (status = 422, description = "`tree_size` has no signed head, or `leaf_index` is outside it (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/audit/proofs/inclusion")]
pub async fn inclusion_proof(
    db: web::Data<DatabaseConnection>,
    q: web::Query<InclusionQuery>,
) -> Result<HttpResponse, ApiError> {
    let p = proofs::inclusion(db.get_ref(), q.leaf_index, q.tree_size).await?;
    Ok(HttpResponse::Ok().json(InclusionView::from(p)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConsistencyQuery {
    /// The size of the earlier signed head.
    pub first: u64,
    /// The size of the later signed head.
    pub second: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsistencyView {
    pub first: u64,
    pub second: u64,
    /// Hex hashes (RFC 9162 §2.1.4).
    pub proof: Vec<String>,
}

/// Consistency proof between two signed heads: the later tree extends the
/// earlier one.
#[utoipa::path(
    tag = "audit",
    params(ConsistencyQuery),
    responses(
        (status = 200, description = "The proof", body = ConsistencyView),
        (status = 422, description = "A size without a signed head, or `first` > `second` (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/audit/proofs/consistency")]
pub async fn consistency_proof(
    db: web::Data<DatabaseConnection>,
    q: web::Query<ConsistencyQuery>,
) -> Result<HttpResponse, ApiError> {
    let proof = proofs::consistency(db.get_ref(), q.first, q.second).await?;
    Ok(HttpResponse::Ok().json(ConsistencyView {
        first: q.first,
        second: q.second,
        proof: proof.iter().map(hex::encode).collect(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EntriesQuery {
    /// First leaf index.
    pub start: u64,
    /// One past the last leaf index (at most 1,000 entries).
    pub end: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryView {
    pub leaf_index: u64,
    pub kind: String,
    /// The canonical leaf bytes (UTF-8 JSON): hash exactly this text.
    pub leaf: String,
}

impl From<event::Model> for AuditEntryView {
    fn from(e: event::Model) -> Self {
        AuditEntryView {
            leaf_index: e.leaf_index.unwrap_or_default() as u64,
            kind: e.kind,
            leaf: e.leaf,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EntriesView {
    pub entries: Vec<AuditEntryView>,
}

/// Sealed entries by leaf index.
#[utoipa::path(
    tag = "audit",
    params(EntriesQuery),
    responses(
        (status = 200, description = "The entries that exist in the range, in leaf order", body = EntriesView),
        (status = 422, description = "An empty or too long range (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/audit/entries")]
pub async fn entries(
    db: web::Data<DatabaseConnection>,
    q: web::Query<EntriesQuery>,
) -> Result<HttpResponse, ApiError> {
    let rows = proofs::entries(db.get_ref(), q.start, q.end).await?;
    Ok(HttpResponse::Ok().json(EntriesView {
        entries: rows.into_iter().map(AuditEntryView::from).collect(),
    }))
}
