//! An auction that sells pledged units names the pledge: its lot holds are
//! the pledge's own, and its close pays the proceeds to the pledgees.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Auctions {
    Table,
    PledgeId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Auctions::Table)
                    .add_column(string_len_null(Auctions::PledgeId, 36))
                    .to_owned(),
            )
            .await
    }
}
