//! A government department may be the bureau responsible for a class of
//! environmental rights (ecology, water, economic development, natural
//! resources): its staff allocate them and confirm verified use.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Bureau,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Organizations::Table)
                    .add_column(string_len_null(Organizations::Bureau, 24))
                    .to_owned(),
            )
            .await
    }
}
