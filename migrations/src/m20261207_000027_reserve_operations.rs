//! The reserve platform's operations with holders: buy-backs, swaps and
//! leases. One row per operation, offered by the holder and answered by
//! the reserve's staff; a holder's id for it is unique per organisation
//! (a repeated offer answers the first). A lease's obligation (due day,
//! deposit, how it ended) is on its row; the overdue sweep finds it by
//! status and due day.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ReserveOperations {
    Table,
    Id,
    Kind,
    Status,
    ReserveOrganizationId,
    OrganizationId,
    ClientId,
    RequestHash,
    Instrument,
    Quantity,
    Price,
    Value,
    WantedInstrument,
    WantedPrice,
    WantedQuantity,
    Cash,
    TermDays,
    DueOn,
    FeeRate,
    Fee,
    Deposit,
    SettledPrice,
    Shortfall,
    Lots,
    Reason,
    RequestedBy,
    DecidedBy,
    CreatedAt,
    DecidedAt,
    EndedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ReserveOperations as R;
        manager
            .create_table(
                Table::create()
                    .table(R::Table)
                    .if_not_exists()
                    .col(string_len(R::Id, 36).primary_key())
                    .col(string_len(R::Kind, 16))
                    .col(string_len(R::Status, 16))
                    .col(string_len(R::ReserveOrganizationId, 36))
                    .col(string_len(R::OrganizationId, 36))
                    .col(string_len(R::ClientId, 64))
                    .col(string_len(R::RequestHash, 64))
                    .col(string_len(R::Instrument, 32))
                    .col(big_integer(R::Quantity))
                    .col(big_integer(R::Price))
                    .col(big_integer(R::Value))
                    .col(string_len_null(R::WantedInstrument, 32))
                    .col(big_integer_null(R::WantedPrice))
                    .col(big_integer_null(R::WantedQuantity))
                    .col(big_integer_null(R::Cash))
                    .col(integer_null(R::TermDays))
                    .col(string_len_null(R::DueOn, 10))
                    .col(string_len_null(R::FeeRate, 16))
                    .col(big_integer_null(R::Fee))
                    .col(big_integer_null(R::Deposit))
                    .col(big_integer_null(R::SettledPrice))
                    .col(big_integer_null(R::Shortfall))
                    .col(text(R::Lots))
                    .col(text_null(R::Reason))
                    .col(string_len(R::RequestedBy, 36))
                    .col(string_len_null(R::DecidedBy, 36))
                    .col(timestamp_with_time_zone(R::CreatedAt))
                    .col(timestamp_with_time_zone_null(R::DecidedAt))
                    .col(timestamp_with_time_zone_null(R::EndedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("reserve_operations_client_id")
                    .table(R::Table)
                    .col(R::OrganizationId)
                    .col(R::ClientId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("reserve_operations_due")
                    .table(R::Table)
                    .col(R::Status)
                    .col(R::DueOn)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("reserve_operations_reserve")
                    .table(R::Table)
                    .col(R::ReserveOrganizationId)
                    .col(R::Id)
                    .to_owned(),
            )
            .await
    }
}
