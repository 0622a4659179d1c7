//! Reading the sealed log: heads, proofs and entries, all against tree
//! sizes that have a signed head (a proof for a size nobody signed would
//! prove nothing).

use carbon_calc::merkle::{leaf_hash, Hash};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

use super::entity::{event, tree_head};
use super::sealer::load_nodes;
use super::tree;

/// Most entries one request returns.
pub const MAX_ENTRIES: u64 = 1_000;

#[derive(Debug, thiserror::Error)]
pub enum ProofError {
    #[error("the log has no signed head yet; try again in a few seconds")]
    NotSealed,
    #[error("{param}: {detail}")]
    Invalid { param: &'static str, detail: String },
    #[error("database: {0}")]
    Database(#[from] DbErr),
}

pub async fn latest_head(db: &impl ConnectionTrait) -> Result<tree_head::Model, ProofError> {
    tree_head::Entity::find()
        .order_by_desc(tree_head::Column::TreeSize)
        .one(db)
        .await?
        .ok_or(ProofError::NotSealed)
}

/// The signed head of exactly `size` leaves.
pub async fn head_at(
    db: &impl ConnectionTrait,
    size: u64,
    param: &'static str,
) -> Result<tree_head::Model, ProofError> {
    tree_head::Entity::find_by_id(size as i64)
        .one(db)
        .await?
        .ok_or_else(|| ProofError::Invalid {
            param,
            detail: format!("no signed tree head of size {size}"),
        })
}

async fn hashes(
    db: &impl ConnectionTrait,
    ranges: &[tree::Range],
) -> Result<Vec<Hash>, ProofError> {
    let nodes = load_nodes(db, &tree::nodes_of(ranges)).await?;
    ranges
        .iter()
        .map(|r| {
            tree::hash_of(*r, &nodes)
                .ok_or_else(|| DbErr::Custom(format!("audit tree: node of {r:?} missing")).into())
        })
        .collect()
}

#[derive(Debug, Clone)]
pub struct Inclusion {
    pub leaf_index: u64,
    pub tree_size: u64,
    pub leaf_hash: Hash,
    pub proof: Vec<Hash>,
}

pub async fn inclusion(
    db: &impl ConnectionTrait,
    leaf_index: u64,
    tree_size: u64,
) -> Result<Inclusion, ProofError> {
    head_at(db, tree_size, "tree_size").await?;
    if leaf_index >= tree_size {
        return Err(ProofError::Invalid {
            param: "leaf_index",
            detail: format!("must be below tree_size {tree_size}"),
        });
    }
    let leaf = hashes(db, &[(leaf_index, leaf_index + 1)]).await?[0];
    let proof = hashes(db, &tree::inclusion_ranges(leaf_index, tree_size)).await?;
    Ok(Inclusion {
        leaf_index,
        tree_size,
        leaf_hash: leaf,
        proof,
    })
}

pub async fn consistency(
    db: &impl ConnectionTrait,
    first: u64,
    second: u64,
) -> Result<Vec<Hash>, ProofError> {
    if first > second {
        return Err(ProofError::Invalid {
            param: "first",
            detail: "must not exceed second".into(),
        });
    }
    head_at(db, first, "first").await?;
    head_at(db, second, "second").await?;
    hashes(db, &tree::consistency_ranges(first, second)).await
}

/// Sealed entries `[start, end)` in leaf order.
pub async fn entries(
    db: &impl ConnectionTrait,
    start: u64,
    end: u64,
) -> Result<Vec<event::Model>, ProofError> {
    if end <= start || end - start > MAX_ENTRIES {
        return Err(ProofError::Invalid {
            param: "end",
            detail: format!("must be above start and at most {MAX_ENTRIES} past it"),
        });
    }
    Ok(event::Entity::find()
        .filter(event::Column::LeafIndex.gte(start as i64))
        .filter(event::Column::LeafIndex.lt(end as i64))
        .order_by_asc(event::Column::LeafIndex)
        .all(db)
        .await?)
}

/// An event's place in the log, once sealed: its leaf, and its inclusion
/// proof in the latest signed tree.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub leaf: String,
    pub inclusion: Inclusion,
    pub head: tree_head::Model,
}

pub async fn receipt(
    db: &impl ConnectionTrait,
    event_id: i64,
) -> Result<Option<Receipt>, ProofError> {
    let Some(e) = event::Entity::find_by_id(event_id).one(db).await? else {
        return Ok(None);
    };
    let Some(index) = e.leaf_index else {
        return Ok(None);
    };
    let head = latest_head(db).await?;
    let inclusion = inclusion(db, index as u64, head.tree_size as u64).await?;
    debug_assert_eq!(inclusion.leaf_hash, leaf_hash(e.leaf.as_bytes()));
    Ok(Some(Receipt {
        leaf: e.leaf,
        inclusion,
        head,
    }))
}
