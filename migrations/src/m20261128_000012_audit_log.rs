//! The Merkle audit log (DESIGN.md): events appended in the transaction of
//! the business change they record; the sealer gives committed events
//! consecutive leaf indices, stores the tree's complete subtrees (so proofs
//! need O(log² n) rows, not the whole log) and a signed head per sealing.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    Kind,
    /// The canonical leaf bytes (UTF-8 JSON), public.
    Leaf,
    /// The salt of the commitments in the leaf (personal accounts and
    /// references); never public.
    Salt,
    LeafIndex,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AuditNodes {
    Table,
    Level,
    Position,
    Hash,
}

#[derive(DeriveIden)]
enum AuditTreeHeads {
    Table,
    TreeSize,
    RootHash,
    Timestamp,
    Signature,
    PublicKey,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AuditState {
    Table,
    Id,
    TreeSize,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .if_not_exists()
                    .col(big_pk_auto(AuditEvents::Id))
                    .col(string_len(AuditEvents::Kind, 40))
                    .col(text(AuditEvents::Leaf))
                    .col(string_len_null(AuditEvents::Salt, 32))
                    .col(big_integer_null(AuditEvents::LeafIndex).unique_key())
                    .col(timestamp_with_time_zone(AuditEvents::CreatedAt))
                    .to_owned(),
            )
            .await?;
        // The sealer's queue: only events still without a leaf index.
        manager
            .create_index(
                Index::create()
                    .name("audit_events_unsealed")
                    .table(AuditEvents::Table)
                    .col(AuditEvents::Id)
                    .and_where(Expr::col(AuditEvents::LeafIndex).is_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditNodes::Table)
                    .if_not_exists()
                    .col(integer(AuditNodes::Level))
                    .col(big_integer(AuditNodes::Position))
                    .col(blob(AuditNodes::Hash))
                    .primary_key(
                        Index::create()
                            .col(AuditNodes::Level)
                            .col(AuditNodes::Position),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditTreeHeads::Table)
                    .if_not_exists()
                    .col(big_integer(AuditTreeHeads::TreeSize).primary_key())
                    .col(string_len(AuditTreeHeads::RootHash, 64))
                    .col(big_integer(AuditTreeHeads::Timestamp))
                    .col(string_len(AuditTreeHeads::Signature, 128))
                    .col(string_len(AuditTreeHeads::PublicKey, 64))
                    .col(timestamp_with_time_zone(AuditTreeHeads::CreatedAt))
                    .to_owned(),
            )
            .await?;
        // One row: the sealer's lock (every sealing updates it first) and
        // the size of the sealed tree.
        manager
            .create_table(
                Table::create()
                    .table(AuditState::Table)
                    .if_not_exists()
                    .col(integer(AuditState::Id).primary_key())
                    .col(big_integer(AuditState::TreeSize))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(AuditState::Table)
                    .columns([AuditState::Id, AuditState::TreeSize])
                    .values_panic([1.into(), 0.into()])
                    .to_owned(),
            )
            .await
    }
}
