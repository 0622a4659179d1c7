//! `tanpuhui audit verify`: recompute the whole tree from the events and
//! check every stored node and every signed head against it. Anything
//! edited in the database after sealing — an event's leaf, a node, a head —
//! shows up here.

use std::collections::HashMap;

use carbon_calc::merkle::{leaf_hash, Hash, TreeHead};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::entity::{event, node, tree_head};
use super::tree::{self, Node};

/// Events read per query.
const PAGE: u64 = 10_000;

#[derive(Debug, Default)]
pub struct Report {
    pub leaves: u64,
    pub heads: u64,
    pub problems: Vec<String>,
}

pub async fn verify(db: &impl ConnectionTrait) -> Result<Report, DbErr> {
    let mut report = Report::default();
    let heads = tree_head::Entity::find()
        .order_by_asc(tree_head::Column::TreeSize)
        .all(db)
        .await?;
    let mut heads = heads.into_iter().peekable();
    // The right edge of the tree built so far, as in sealing.
    let mut edge: HashMap<Node, Hash> = HashMap::new();
    let mut size = 0u64;
    loop {
        check_heads(&mut heads, size, &edge, &mut report);
        let page = event::Entity::find()
            .filter(event::Column::LeafIndex.gte(size as i64))
            .order_by_asc(event::Column::LeafIndex)
            .limit(PAGE)
            .all(db)
            .await?;
        if page.is_empty() {
            break;
        }
        let mut made: Vec<(Node, Hash, i64)> = Vec::new();
        for e in &page {
            if e.leaf_index != Some(size as i64) {
                report.problems.push(format!(
                    "leaf index {size} is missing (next event {} has index {:?})",
                    e.id, e.leaf_index
                ));
                return Ok(report);
            }
            let (new, _) = tree::extend(size, &edge, &[leaf_hash(e.leaf.as_bytes())])
                .expect("the edge holds every node extend needs");
            made.extend(new.iter().map(|(n, h)| (*n, *h, e.id)));
            edge.extend(new);
            size += 1;
            let keep: std::collections::HashSet<Node> =
                tree::decompose((0, size)).into_iter().collect();
            edge.retain(|n, _| keep.contains(n));
            report.leaves = size;
            check_heads(&mut heads, size, &edge, &mut report);
        }
        let stored = stored_nodes(db, &made).await?;
        for (n, h, event_id) in &made {
            if stored.get(n) != Some(h) {
                report.problems.push(format!(
                    "stored node (level {}, position {}) differs from the events (event {event_id})",
                    n.level, n.position
                ));
            }
        }
    }
    for h in heads {
        report.problems.push(format!(
            "tree head of size {} is beyond the {size} sealed events",
            h.tree_size
        ));
    }
    Ok(report)
}

fn check_heads(
    heads: &mut std::iter::Peekable<impl Iterator<Item = tree_head::Model>>,
    size: u64,
    edge: &HashMap<Node, Hash>,
    report: &mut Report,
) {
    while let Some(h) = heads.next_if(|h| h.tree_size as u64 == size) {
        report.heads += 1;
        let root = tree::hash_of((0, size), edge).expect("edge complete");
        if h.root_hash != hex::encode(root) {
            report.problems.push(format!(
                "tree head of size {size}: root {} but the events give {}",
                h.root_hash,
                hex::encode(root)
            ));
            continue;
        }
        let head = TreeHead {
            tree_size: size,
            timestamp: h.timestamp as u64,
            root_hash: root,
        };
        let sig: Option<[u8; 64]> = hex::decode(&h.signature)
            .ok()
            .and_then(|b| b.try_into().ok());
        let key: Option<[u8; 32]> = hex::decode(&h.public_key)
            .ok()
            .and_then(|b| b.try_into().ok());
        if !matches!((sig, key), (Some(s), Some(k)) if head.verify(&s, &k)) {
            report.problems.push(format!(
                "tree head of size {size}: the signature does not verify"
            ));
        }
    }
}

/// The stored nodes among `made`: one range query per level.
async fn stored_nodes(
    db: &impl ConnectionTrait,
    made: &[(Node, Hash, i64)],
) -> Result<HashMap<Node, Hash>, DbErr> {
    let mut bounds: std::collections::BTreeMap<u32, (u64, u64)> = Default::default();
    for (n, _, _) in made {
        let b = bounds.entry(n.level).or_insert((n.position, n.position));
        b.0 = b.0.min(n.position);
        b.1 = b.1.max(n.position);
    }
    let mut out = HashMap::new();
    for (level, (lo, hi)) in bounds {
        let rows = node::Entity::find()
            .filter(node::Column::Level.eq(level as i32))
            .filter(node::Column::Position.between(lo as i64, hi as i64))
            .all(db)
            .await?;
        for r in rows {
            if let Ok(hash) = <Hash>::try_from(r.hash.as_slice()) {
                out.insert(
                    Node {
                        level,
                        position: r.position as u64,
                    },
                    hash,
                );
            }
        }
    }
    Ok(out)
}
