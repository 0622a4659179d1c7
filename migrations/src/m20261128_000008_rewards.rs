//! The rewards catalogue and redemptions: points spent through the ledger in
//! the same transaction as the stock decrement.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Rewards {
    Table,
    Id,
    Name,
    PointsCost,
    Stock,
    Active,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Redemptions {
    Table,
    Id,
    UserId,
    RewardId,
    Quantity,
    Points,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Rewards::Table)
                    .if_not_exists()
                    .col(string_len(Rewards::Id, 36).primary_key())
                    .col(string_len(Rewards::Name, 200))
                    .col(big_integer(Rewards::PointsCost))
                    .col(big_integer(Rewards::Stock))
                    .col(boolean(Rewards::Active))
                    .col(string_len(Rewards::CreatedBy, 36))
                    .col(timestamp_with_time_zone(Rewards::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Redemptions::Table)
                    .if_not_exists()
                    .col(string_len(Redemptions::Id, 36).primary_key())
                    .col(string_len(Redemptions::UserId, 36))
                    .col(string_len(Redemptions::RewardId, 36))
                    .col(big_integer(Redemptions::Quantity))
                    .col(big_integer(Redemptions::Points))
                    .col(timestamp_with_time_zone(Redemptions::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Redemptions::Table, Redemptions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Redemptions::Table, Redemptions::RewardId)
                            .to(Rewards::Table, Rewards::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("redemptions_user_id")
                    .table(Redemptions::Table)
                    .col(Redemptions::UserId)
                    .col(Redemptions::Id)
                    .to_owned(),
            )
            .await
    }
}
