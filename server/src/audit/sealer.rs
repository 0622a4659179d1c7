//! The sealer: gives committed, unsealed events the next leaf indices (in
//! event id order among those visible), stores the subtrees they complete
//! and signs the new head — all in one transaction that first updates the
//! single `audit_state` row. That update is the lock: on PostgreSQL a row
//! lock, on SQLite the database's write lock, so of several replicas
//! sealing at once one extends the tree and the others wait, then see the
//! events sealed. Events whose transactions commit later (ids commit out
//! of order) are simply sealed in a later round.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, Statement,
};

use carbon_calc::merkle::{leaf_hash, Hash, TreeHead};

use super::entity::{event, node, tree_head};
use super::signer::TreeSigner;
use super::tree::{self, Node};

/// Most events sealed in one round (one transaction).
pub const MAX_BATCH: u64 = 5_000;

/// Rows per multi-row statement (well under SQLite's variable limit).
const CHUNK: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub tree_size: u64,
    pub added: u64,
}

/// One sealing round. `None` when there was nothing to seal and a head
/// already exists.
pub async fn seal_once(
    db: &DatabaseConnection,
    signer: &TreeSigner,
    now: DateTime<FixedOffset>,
) -> Result<Option<Sealed>, DbErr> {
    // Look before taking the lock: an idle log costs one indexed read, not
    // a write transaction every interval.
    let anything = event::Entity::find()
        .filter(event::Column::LeafIndex.is_null())
        .one(db)
        .await?
        .is_some();
    if !anything && tree_head::Entity::find().one(db).await?.is_some() {
        return Ok(None);
    }
    let txn = crate::db::begin_write(db).await?;
    let backend = txn.get_database_backend();
    let row = txn
        .query_one_raw(Statement::from_string(
            backend,
            "UPDATE audit_state SET tree_size = tree_size WHERE id = 1 RETURNING tree_size",
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("audit_state".into()))?;
    let size = row.try_get::<i64>("", "tree_size")? as u64;
    let pending = event::Entity::find()
        .filter(event::Column::LeafIndex.is_null())
        .order_by_asc(event::Column::Id)
        .limit(MAX_BATCH)
        .all(&txn)
        .await?;
    let has_head = size > 0
        || tree_head::Entity::find_by_id(0i64)
            .one(&txn)
            .await?
            .is_some();
    if pending.is_empty() && has_head {
        txn.commit().await?;
        return Ok(None);
    }
    let edge = load_nodes(&txn, &tree::decompose((0, size))).await?;
    let leaves: Vec<Hash> = pending
        .iter()
        .map(|e| leaf_hash(e.leaf.as_bytes()))
        .collect();
    let (new_nodes, root) = tree::extend(size, &edge, &leaves)
        .ok_or_else(|| DbErr::Custom("audit tree: a stored node is missing".into()))?;
    for chunk in new_nodes.chunks(CHUNK) {
        node::Entity::insert_many(chunk.iter().map(|(n, h)| node::ActiveModel {
            level: Set(n.level as i32),
            position: Set(n.position as i64),
            hash: Set(h.to_vec()),
        }))
        .exec_without_returning(&txn)
        .await?;
    }
    // Leaf indices in one statement per chunk; ids and indices are integers
    // the server made, so the text is safe.
    for (c, chunk) in pending.chunks(CHUNK).enumerate() {
        let mut sql = String::from("UPDATE audit_events SET leaf_index = CASE id");
        for (i, e) in chunk.iter().enumerate() {
            let index = size + (c * CHUNK + i) as u64;
            sql.push_str(&format!(" WHEN {} THEN {index}", e.id));
        }
        let ids: Vec<String> = chunk.iter().map(|e| e.id.to_string()).collect();
        sql.push_str(&format!(" END WHERE id IN ({})", ids.join(",")));
        txn.execute_raw(Statement::from_string(backend, sql))
            .await?;
    }
    let new_size = size + pending.len() as u64;
    let head = TreeHead {
        tree_size: new_size,
        timestamp: now.timestamp_millis().max(0) as u64,
        root_hash: root,
    };
    tree_head::Entity::insert(tree_head::ActiveModel {
        tree_size: Set(new_size as i64),
        root_hash: Set(hex::encode(root)),
        timestamp: Set(head.timestamp as i64),
        signature: Set(hex::encode(signer.sign(&head))),
        public_key: Set(signer.public_key_hex()),
        created_at: Set(now),
    })
    .exec_without_returning(&txn)
    .await?;
    txn.execute_raw(Statement::from_sql_and_values(
        backend,
        match backend {
            sea_orm::DbBackend::Postgres => "UPDATE audit_state SET tree_size = $1 WHERE id = 1",
            _ => "UPDATE audit_state SET tree_size = ? WHERE id = 1",
        },
        [(new_size as i64).into()],
    ))
    .await?;
    txn.commit().await?;
    Ok(Some(Sealed {
        tree_size: new_size,
        added: pending.len() as u64,
    }))
}

/// Seals until nothing is left (tests and the CLI call this; the server's
/// loop calls `seal_once` on a timer).
pub async fn seal_all(
    db: &DatabaseConnection,
    signer: &TreeSigner,
    now: DateTime<FixedOffset>,
) -> Result<u64, DbErr> {
    let mut size = 0;
    while let Some(s) = seal_once(db, signer, now).await? {
        size = s.tree_size;
        if s.added < MAX_BATCH {
            break;
        }
    }
    Ok(size)
}

/// Stored nodes by id; absent ones are left out.
pub async fn load_nodes(
    db: &impl ConnectionTrait,
    wanted: &[Node],
) -> Result<HashMap<Node, Hash>, DbErr> {
    let mut out = HashMap::new();
    for chunk in wanted.chunks(CHUNK / 2) {
        let mut cond = sea_orm::Condition::any();
        for n in chunk {
            cond = cond.add(
                sea_orm::Condition::all()
                    .add(node::Column::Level.eq(n.level as i32))
                    .add(node::Column::Position.eq(n.position as i64)),
            );
        }
        for row in node::Entity::find().filter(cond).all(db).await? {
            let hash: Hash = row
                .hash
                .as_slice()
                .try_into()
                .map_err(|_| DbErr::Custom("audit node hash is not 32 bytes".into()))?;
            out.insert(
                Node {
                    level: row.level as u32,
                    position: row.position as u64,
                },
                hash,
            );
        }
    }
    Ok(out)
}

/// Seals every `interval` until the process ends. Failures are logged and
/// retried; several replicas running this is safe (see the module docs).
pub fn spawn(
    db: DatabaseConnection,
    signer: TreeSigner,
    interval: std::time::Duration,
    clock: crate::clock::Clock,
) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            loop {
                match seal_once(&db, &signer, clock.now()).await {
                    Ok(Some(s)) if s.added == MAX_BATCH => continue,
                    Ok(Some(s)) => {
                        tracing::debug!(
                            tree_size = s.tree_size,
                            added = s.added,
                            "audit log sealed"
                        )
                    }
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, "audit sealing failed; retrying"),
                }
                break;
            }
        }
    });
}
