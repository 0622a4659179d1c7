//! Partner trip feeds (transit operators, bike-share): partners' API keys
//! (the HMAC secret encrypted with the server's key, never stored in
//! clear), the nonces of signed requests seen within the replay window,
//! persons' linked transit cards (only a keyed hash of the card number and
//! its last four characters), and on each trip the partner record that
//! created or confirmed it.
//!
//! A confirmed self-declared trip is topped up to its full reduction by a
//! second personal reduction record, so `personal_reductions` is keyed by
//! (trip, part) instead of by trip. SQLite cannot drop a column's UNIQUE,
//! so the table is rebuilt (it has no dependants yet).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PartnerKeys {
    Table,
    Id,
    OrganizationId,
    SecretSealed,
    CreatedBy,
    CreatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum PartnerNonces {
    Table,
    KeyId,
    Nonce,
    CreatedAt,
}

#[derive(DeriveIden)]
enum TransitCards {
    Table,
    Id,
    UserId,
    OrganizationId,
    CardHash,
    CardLast4,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Trips {
    Table,
    Id,
    PartnerOrgId,
    PartnerRecordId,
    ConfirmedAt,
}

#[derive(DeriveIden)]
enum PersonalReductions {
    Table,
    Id,
    TripId,
    Part,
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
enum PersonalReductionsV2 {
    Table,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
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
    /// In one transaction on SQLite too: the table rebuild must be seen
    /// whole (on one connection) or not at all.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PartnerKeys::Table)
                    .if_not_exists()
                    .col(string_len(PartnerKeys::Id, 64).primary_key())
                    .col(string_len(PartnerKeys::OrganizationId, 36))
                    .col(text(PartnerKeys::SecretSealed))
                    .col(string_len(PartnerKeys::CreatedBy, 36))
                    .col(timestamp_with_time_zone(PartnerKeys::CreatedAt))
                    .col(timestamp_with_time_zone_null(PartnerKeys::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PartnerKeys::Table, PartnerKeys::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("partner_keys_org")
                    .table(PartnerKeys::Table)
                    .col(PartnerKeys::OrganizationId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PartnerNonces::Table)
                    .if_not_exists()
                    .col(string_len(PartnerNonces::KeyId, 64))
                    .col(string_len(PartnerNonces::Nonce, 64))
                    .col(timestamp_with_time_zone(PartnerNonces::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(PartnerNonces::KeyId)
                            .col(PartnerNonces::Nonce),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("partner_nonces_created")
                    .table(PartnerNonces::Table)
                    .col(PartnerNonces::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TransitCards::Table)
                    .if_not_exists()
                    .col(string_len(TransitCards::Id, 36).primary_key())
                    .col(string_len(TransitCards::UserId, 36))
                    .col(string_len(TransitCards::OrganizationId, 36))
                    .col(string_len(TransitCards::CardHash, 64))
                    .col(string_len(TransitCards::CardLast4, 4))
                    .col(timestamp_with_time_zone(TransitCards::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(TransitCards::Table, TransitCards::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(TransitCards::Table, TransitCards::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, cols, unique) in [
            (
                "transit_cards_card",
                vec![TransitCards::OrganizationId, TransitCards::CardHash],
                true,
            ),
            ("transit_cards_user", vec![TransitCards::UserId], false),
        ] {
            let mut index = Index::create();
            index.name(name).table(TransitCards::Table);
            for c in cols {
                index.col(c);
            }
            if unique {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }
        for col in [
            string_len_null(Trips::PartnerOrgId, 36),
            string_len_null(Trips::PartnerRecordId, 128),
            timestamp_with_time_zone_null(Trips::ConfirmedAt),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Trips::Table)
                        .add_column(col)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("trips_partner_record")
                    .table(Trips::Table)
                    .col(Trips::PartnerOrgId)
                    .col(Trips::PartnerRecordId)
                    .unique()
                    // Partial: the trips people log themselves (nearly all)
                    // cost this index nothing.
                    .and_where(Expr::col(Trips::PartnerOrgId).is_not_null())
                    .to_owned(),
            )
            .await?;
        rebuild_personal_reductions(manager).await
    }
}

async fn rebuild_personal_reductions(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use PersonalReductions as R;
    manager
        .create_table(
            Table::create()
                .table(PersonalReductionsV2::Table)
                .col(string_len(R::Id, 36).primary_key())
                .col(string_len(R::TripId, 36))
                // 0: the trip's credit; 1: a partner's confirmation topping
                // up a reduced self-declared credit.
                .col(small_integer(R::Part).default(0))
                .col(string_len(R::UserId, 36))
                .col(string_len(R::AccountId, 36))
                .col(big_integer(R::Grams))
                .col(string_len(R::Preset, 64))
                .col(integer(R::PresetVersion))
                .col(string_len(R::LocalDay, 10))
                .col(string_len_null(R::BatchId, 64))
                .col(timestamp_with_time_zone(R::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(PersonalReductionsV2::Table, R::TripId)
                        .to(Trips::Table, Trips::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(PersonalReductionsV2::Table, R::AccountId)
                        .to(Accounts::Table, Accounts::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
    let columns = [
        R::Id,
        R::TripId,
        R::UserId,
        R::AccountId,
        R::Grams,
        R::Preset,
        R::PresetVersion,
        R::LocalDay,
        R::BatchId,
        R::CreatedAt,
    ];
    let copy = Query::insert()
        .into_table(PersonalReductionsV2::Table)
        .columns(columns.iter().map(|c| Alias::new(c.to_string())))
        .select_from(
            Query::select()
                .columns(columns.iter().map(|c| Alias::new(c.to_string())))
                .from(R::Table)
                .to_owned(),
        )
        .map_err(|e| DbErr::Migration(e.to_string()))?
        .to_owned();
    manager.exec_stmt(copy).await?;
    manager
        .drop_table(Table::drop().table(R::Table).to_owned())
        .await?;
    manager
        .rename_table(
            Table::rename()
                .table(PersonalReductionsV2::Table, R::Table)
                .to_owned(),
        )
        .await?;
    manager
        .create_index(
            Index::create()
                .name("personal_reductions_trip_part")
                .table(R::Table)
                .col(R::TripId)
                .col(R::Part)
                .unique()
                .to_owned(),
        )
        .await?;
    manager
        .create_index(
            Index::create()
                .name("personal_reductions_unbatched")
                .table(R::Table)
                .col(R::BatchId)
                .col(R::LocalDay)
                .to_owned(),
        )
        .await
}
