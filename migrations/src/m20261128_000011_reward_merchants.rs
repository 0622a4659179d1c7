//! Partner merchants (approved enterprises) keep their own rewards in the
//! catalogue; administrators keep the platform's (no merchant).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Rewards {
    Table,
    MerchantId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Rewards::Table)
                    .add_column(string_len_null(Rewards::MerchantId, 36))
                    .to_owned(),
            )
            .await
    }
}
