//! Carbon-neutral claims: an organisation's or event's footprint and the
//! retirements that cover it. A retirement covers one claim only.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum NeutralityClaims {
    Table,
    Id,
    OrganizationId,
    Subject,
    PeriodStart,
    PeriodEnd,
    FootprintG,
    Basis,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ClaimRetirements {
    Table,
    RetirementId,
    ClaimId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Retirements {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(NeutralityClaims::Table)
                    .if_not_exists()
                    .col(string_len(NeutralityClaims::Id, 36).primary_key())
                    .col(string_len(NeutralityClaims::OrganizationId, 36))
                    .col(string_len(NeutralityClaims::Subject, 200))
                    .col(string_len(NeutralityClaims::PeriodStart, 10))
                    .col(string_len(NeutralityClaims::PeriodEnd, 10))
                    .col(big_integer(NeutralityClaims::FootprintG))
                    .col(text(NeutralityClaims::Basis))
                    .col(string_len(NeutralityClaims::CreatedBy, 36))
                    .col(timestamp_with_time_zone(NeutralityClaims::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(NeutralityClaims::Table, NeutralityClaims::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ClaimRetirements::Table)
                    .if_not_exists()
                    // One claim per retirement: retired units count once.
                    .col(string_len(ClaimRetirements::RetirementId, 36).primary_key())
                    .col(string_len(ClaimRetirements::ClaimId, 36))
                    .col(timestamp_with_time_zone(ClaimRetirements::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ClaimRetirements::Table, ClaimRetirements::RetirementId)
                            .to(Retirements::Table, Retirements::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ClaimRetirements::Table, ClaimRetirements::ClaimId)
                            .to(NeutralityClaims::Table, NeutralityClaims::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("claim_retirements_claim")
                    .table(ClaimRetirements::Table)
                    .col(ClaimRetirements::ClaimId)
                    .to_owned(),
            )
            .await
    }
}
