//! Low-carbon trips as logged (with the server's own computation and
//! decision) and the personal reduction records that credited trips leave
//! in their owner's account: immutable, carrying the methodology used, and
//! aggregated into at most one issued batch (`batch_id`, set by the
//! registry).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Trips {
    Table,
    Id,
    UserId,
    ClientTripId,
    RequestHash,
    StartedAt,
    EndedAt,
    LocalDay,
    Legs,
    DistanceKm,
    MeasuredKm,
    Trace,
    Source,
    Preset,
    PresetVersion,
    ReductionG,
    CreditedG,
    Points,
    Status,
    Reasons,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PersonalReductions {
    Table,
    Id,
    TripId,
    UserId,
    AccountId,
    Grams,
    Preset,
    PresetVersion,
    LocalDay,
    BatchId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Trips::Table)
                    .if_not_exists()
                    // UUIDv7: ordering by id is ordering by creation.
                    .col(string_len(Trips::Id, 36).primary_key())
                    .col(string_len(Trips::UserId, 36))
                    .col(string_len(Trips::ClientTripId, 36))
                    .col(string_len(Trips::RequestHash, 64))
                    .col(timestamp_with_time_zone(Trips::StartedAt))
                    .col(timestamp_with_time_zone(Trips::EndedAt))
                    // The calendar day (China Standard Time) daily caps count in.
                    .col(string_len(Trips::LocalDay, 10))
                    .col(text(Trips::Legs))
                    .col(string_len(Trips::DistanceKm, 40))
                    .col(string_len_null(Trips::MeasuredKm, 40))
                    .col(text_null(Trips::Trace))
                    .col(string_len(Trips::Source, 16))
                    .col(string_len(Trips::Preset, 64))
                    .col(integer(Trips::PresetVersion))
                    // Exact decimal grams as carbon-calc computed them.
                    .col(string_len(Trips::ReductionG, 40))
                    .col(big_integer(Trips::CreditedG))
                    .col(big_integer(Trips::Points))
                    .col(string_len(Trips::Status, 16))
                    .col(text(Trips::Reasons))
                    .col(timestamp_with_time_zone(Trips::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Trips::Table, Trips::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            ("trips_client_id", vec![Trips::UserId, Trips::ClientTripId]),
            ("trips_user_day", vec![Trips::UserId, Trips::LocalDay]),
            ("trips_user_started", vec![Trips::UserId, Trips::StartedAt]),
            ("trips_user_id", vec![Trips::UserId, Trips::Id]),
        ] {
            let mut index = Index::create();
            index.name(name).table(Trips::Table);
            for c in cols {
                index.col(c);
            }
            if name == "trips_client_id" {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(PersonalReductions::Table)
                    .if_not_exists()
                    .col(string_len(PersonalReductions::Id, 36).primary_key())
                    .col(string_len(PersonalReductions::TripId, 36).unique_key())
                    .col(string_len(PersonalReductions::UserId, 36))
                    .col(string_len(PersonalReductions::AccountId, 36))
                    .col(big_integer(PersonalReductions::Grams))
                    .col(string_len(PersonalReductions::Preset, 64))
                    .col(integer(PersonalReductions::PresetVersion))
                    .col(string_len(PersonalReductions::LocalDay, 10))
                    .col(string_len_null(PersonalReductions::BatchId, 64))
                    .col(timestamp_with_time_zone(PersonalReductions::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PersonalReductions::Table, PersonalReductions::TripId)
                            .to(Trips::Table, Trips::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(PersonalReductions::Table, PersonalReductions::AccountId)
                            .to(Accounts::Table, Accounts::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("personal_reductions_unbatched")
                    .table(PersonalReductions::Table)
                    .col(PersonalReductions::BatchId)
                    .col(PersonalReductions::LocalDay)
                    .to_owned(),
            )
            .await
    }
}
