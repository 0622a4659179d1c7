//! Decisions of reviewers (the service centre's verifiers) on trips sent to
//! review: who decided, what, and why. Append-only.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TripReviews {
    Table,
    Id,
    TripId,
    ReviewerId,
    Decision,
    Reason,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Trips {
    Table,
    Id,
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
                    .table(TripReviews::Table)
                    .if_not_exists()
                    .col(string_len(TripReviews::Id, 36).primary_key())
                    // One decision per trip: the unique key settles races.
                    .col(string_len(TripReviews::TripId, 36).unique_key())
                    .col(string_len(TripReviews::ReviewerId, 36))
                    .col(string_len(TripReviews::Decision, 16))
                    .col(string_len(TripReviews::Reason, 500))
                    .col(timestamp_with_time_zone(TripReviews::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(TripReviews::Table, TripReviews::TripId)
                            .to(Trips::Table, Trips::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(TripReviews::Table, TripReviews::ReviewerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await
    }
}
