//! Guidance prices: immutable versions per instrument (a base price, tiers
//! by district and kind of organisation, whether it is a floor), never
//! edited, only superseded by a later version. The instrument carries the
//! version in force (its base price and floor) so that order entry reads
//! no other row; the daily close and a publication keep it current.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum GuidancePrices {
    Table,
    Id,
    Instrument,
    Version,
    Price,
    EffectiveFrom,
    Tiers,
    Floor,
    Reason,
    PublishedBy,
    ReviewId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Instruments {
    Table,
    GuidancePrice,
    FloorPrice,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(GuidancePrices::Table)
                    .if_not_exists()
                    .col(string_len(GuidancePrices::Id, 36).primary_key())
                    // Not a foreign key: a price may be published before
                    // its instrument is listed (it becomes the first
                    // reference price).
                    .col(string_len(GuidancePrices::Instrument, 32))
                    .col(integer(GuidancePrices::Version))
                    .col(big_integer(GuidancePrices::Price))
                    .col(string_len(GuidancePrices::EffectiveFrom, 10))
                    .col(text(GuidancePrices::Tiers))
                    .col(boolean(GuidancePrices::Floor))
                    .col(text(GuidancePrices::Reason))
                    .col(string_len(GuidancePrices::PublishedBy, 36))
                    .col(string_len_null(GuidancePrices::ReviewId, 36))
                    .col(timestamp_with_time_zone(GuidancePrices::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("guidance_prices_version")
                    .table(GuidancePrices::Table)
                    .col(GuidancePrices::Instrument)
                    .col(GuidancePrices::Version)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("guidance_prices_in_force")
                    .table(GuidancePrices::Table)
                    .col(GuidancePrices::Instrument)
                    .col(GuidancePrices::EffectiveFrom)
                    .to_owned(),
            )
            .await?;
        // One column per statement: SQLite adds one at a time.
        for column in [Instruments::GuidancePrice, Instruments::FloorPrice] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Instruments::Table)
                        .add_column(big_integer_null(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
