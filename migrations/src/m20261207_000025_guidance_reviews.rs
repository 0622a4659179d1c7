//! The monthly reviews of guidance prices: one per instrument and month
//! (the unique key is what keeps several replicas to one), with the
//! market data it read, the price it proposes and what government staff
//! (or configuration) decided.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum GuidanceReviews {
    Table,
    Id,
    Instrument,
    Period,
    WindowFrom,
    WindowTo,
    CurrentGuidanceId,
    CurrentPrice,
    Volume,
    Turnover,
    Vwap,
    ProposedPrice,
    Basis,
    Status,
    Decision,
    DecidedBy,
    DecidedAt,
    DecisionReason,
    GuidanceId,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(GuidanceReviews::Table)
                    .if_not_exists()
                    .col(string_len(GuidanceReviews::Id, 36).primary_key())
                    .col(string_len(GuidanceReviews::Instrument, 32))
                    .col(string_len(GuidanceReviews::Period, 7))
                    .col(string_len(GuidanceReviews::WindowFrom, 10))
                    .col(string_len(GuidanceReviews::WindowTo, 10))
                    .col(string_len(GuidanceReviews::CurrentGuidanceId, 36))
                    .col(big_integer(GuidanceReviews::CurrentPrice))
                    .col(big_integer(GuidanceReviews::Volume))
                    .col(big_integer(GuidanceReviews::Turnover))
                    .col(big_integer_null(GuidanceReviews::Vwap))
                    .col(big_integer(GuidanceReviews::ProposedPrice))
                    .col(string_len(GuidanceReviews::Basis, 16))
                    .col(string_len(GuidanceReviews::Status, 16))
                    .col(string_len_null(GuidanceReviews::Decision, 16))
                    .col(string_len_null(GuidanceReviews::DecidedBy, 36))
                    .col(timestamp_with_time_zone_null(GuidanceReviews::DecidedAt))
                    .col(text_null(GuidanceReviews::DecisionReason))
                    .col(string_len_null(GuidanceReviews::GuidanceId, 36))
                    .col(timestamp_with_time_zone(GuidanceReviews::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("guidance_reviews_once")
                    .table(GuidanceReviews::Table)
                    .col(GuidanceReviews::Instrument)
                    .col(GuidanceReviews::Period)
                    .unique()
                    .to_owned(),
            )
            .await
    }
}
