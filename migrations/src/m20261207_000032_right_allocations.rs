//! Allocations of environmental rights (确权) and indicators confirmed from
//! verified activity: one row per batch a bureau creates, with the permit
//! or project identifier it is tied to (unique per instrument), its origin,
//! its validity and, for free allocations, how much is still unconverted
//! (held in the ledger until the holder pays the conversion).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RightAllocations {
    Table,
    Id,
    BatchId,
    Instrument,
    Class,
    Vintage,
    Origin,
    HolderOrganizationId,
    BureauOrganizationId,
    Identifier,
    ReserveOrganizationId,
    QuantityG,
    UnconvertedG,
    ValidUntil,
    Status,
    AllocatedBy,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use RightAllocations as R;
        manager
            .create_table(
                Table::create()
                    .table(R::Table)
                    .if_not_exists()
                    .col(string_len(R::Id, 36).primary_key())
                    .col(string_len(R::BatchId, 50).unique_key())
                    .col(string_len(R::Instrument, 32))
                    .col(string_len(R::Class, 32))
                    .col(integer(R::Vintage))
                    .col(string_len(R::Origin, 16))
                    .col(string_len(R::HolderOrganizationId, 36))
                    .col(string_len(R::BureauOrganizationId, 36))
                    .col(string_len(R::Identifier, 64))
                    .col(string_len_null(R::ReserveOrganizationId, 36))
                    .col(big_integer(R::QuantityG))
                    .col(big_integer(R::UnconvertedG))
                    .col(string_len_null(R::ValidUntil, 10))
                    .col(string_len(R::Status, 16))
                    .col(string_len(R::AllocatedBy, 36))
                    .col(timestamp_with_time_zone(R::CreatedAt))
                    .col(timestamp_with_time_zone(R::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("right_allocations_identifier")
                    .table(R::Table)
                    .col(R::Instrument)
                    .col(R::Identifier)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("right_allocations_holder")
                    .table(R::Table)
                    .col(R::HolderOrganizationId)
                    .col(R::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("right_allocations_validity")
                    .table(R::Table)
                    .col(R::Status)
                    .col(R::ValidUntil)
                    .to_owned(),
            )
            .await
    }
}
