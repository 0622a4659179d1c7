//! The methodology tables the server serves, as the documents they were
//! loaded from (built into a release, or loaded by an administrator), in
//! order: replaying them through the catalogue's version rules rebuilds
//! the catalogue at every start, so a new table version needs no rebuild.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MethodologyDocuments {
    Table,
    Id,
    Sha256,
    Source,
    LoadedBy,
    Content,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MethodologyDocuments::Table)
                    .if_not_exists()
                    .col(big_pk_auto(MethodologyDocuments::Id))
                    .col(string_len(MethodologyDocuments::Sha256, 64).unique_key())
                    .col(string_len(MethodologyDocuments::Source, 16))
                    .col(string_len_null(MethodologyDocuments::LoadedBy, 36))
                    .col(text(MethodologyDocuments::Content))
                    .col(timestamp_with_time_zone(MethodologyDocuments::CreatedAt))
                    .to_owned(),
            )
            .await
    }
}
