//! Price stabilisation actions: one per instrument, trigger and trading
//! day (the unique key keeps replicas closing at once to one), with the
//! closes and prices that fired it and, once the reserve platform executed
//! it, the auction or the bid it made.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum StabilisationActions {
    Table,
    Id,
    Instrument,
    Trigger,
    Day,
    Close,
    TriggerPrice,
    GuidanceId,
    GuidancePrice,
    RunDays,
    Status,
    OrganizationId,
    Quantity,
    AuctionId,
    OrderId,
    ExecutedBy,
    ExecutedAt,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use StabilisationActions as A;
        manager
            .create_table(
                Table::create()
                    .table(A::Table)
                    .if_not_exists()
                    .col(string_len(A::Id, 36).primary_key())
                    .col(string_len(A::Instrument, 32))
                    .col(string_len(A::Trigger, 8))
                    .col(string_len(A::Day, 10))
                    .col(big_integer(A::Close))
                    .col(big_integer(A::TriggerPrice))
                    .col(string_len(A::GuidanceId, 36))
                    .col(big_integer(A::GuidancePrice))
                    .col(integer(A::RunDays))
                    .col(string_len(A::Status, 16))
                    .col(string_len_null(A::OrganizationId, 36))
                    .col(big_integer_null(A::Quantity))
                    .col(string_len_null(A::AuctionId, 36))
                    .col(string_len_null(A::OrderId, 36))
                    .col(string_len_null(A::ExecutedBy, 36))
                    .col(timestamp_with_time_zone_null(A::ExecutedAt))
                    .col(timestamp_with_time_zone(A::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("stabilisation_actions_once")
                    .table(A::Table)
                    .col(A::Instrument)
                    .col(A::Trigger)
                    .col(A::Day)
                    .unique()
                    .to_owned(),
            )
            .await
    }
}
