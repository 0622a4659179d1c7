//! Per-instrument rules: a block-trade minimum and a fee rate that, when
//! set, replace the market-wide settings for one instrument; and the fee
//! rate each order was entered under, so that its holds and its fees stay
//! what they were when a rate later changes (orders entered before this
//! migration have none and use the market-wide rate).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Instruments {
    Table,
    BlockMinUnits,
    FeeRate,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    FeeRate,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(Instruments::Table)
                    .add_column(big_integer_null(Instruments::BlockMinUnits))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Instruments::Table)
                    .add_column(string_len_null(Instruments::FeeRate, 32))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Orders::Table)
                    .add_column(string_len_null(Orders::FeeRate, 32))
                    .to_owned(),
            )
            .await
    }
}
