//! Paid allocations: the price per unit an enterprise pays for new or
//! additional rights, and the instalments it pays them by. Each row is
//! one instalment: the units it frees from the allocation's hold, what it
//! costs and by when, and when it was paid.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RightInstalments {
    Table,
    AllocationId,
    Number,
    DueOn,
    QuantityG,
    Amount,
    PaidAt,
    PaidBy,
}

#[derive(DeriveIden)]
enum RightAllocations {
    Table,
    Price,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use RightInstalments as I;
        manager
            .create_table(
                Table::create()
                    .table(I::Table)
                    .if_not_exists()
                    .col(string_len(I::AllocationId, 36))
                    .col(integer(I::Number))
                    .col(string_len(I::DueOn, 10))
                    .col(big_integer(I::QuantityG))
                    .col(big_integer(I::Amount))
                    .col(timestamp_with_time_zone_null(I::PaidAt))
                    .col(string_len_null(I::PaidBy, 36))
                    .primary_key(Index::create().col(I::AllocationId).col(I::Number))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("right_instalments_due")
                    .table(I::Table)
                    .col(I::DueOn)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(RightAllocations::Table)
                    .add_column(big_integer_null(RightAllocations::Price))
                    .to_owned(),
            )
            .await
    }
}
