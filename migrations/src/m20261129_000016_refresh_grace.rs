//! A refresh whose answer was lost may be retried for a short while and
//! gets the same successor: the used token keeps that successor, sealed
//! under a key derived from the used token itself (only its holder can
//! open it; nothing usable is stored in clear).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    SuccessorSealed,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(RefreshTokens::Table)
                    .add_column(text_null(RefreshTokens::SuccessorSealed))
                    .to_owned(),
            )
            .await
    }
}
