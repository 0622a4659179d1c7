//! Insurance policies of forest sinks (index insurance on a project's
//! yearly loss) and of prices (a strike on an instrument's average close),
//! issued by insurers to holders, and their claims: a sink policy's claim
//! is made when the year's reversals cross its trigger and paid on the
//! insurer's approval; a price policy settles at its expiry's close. A
//! policy in force holds its maximum payout from the insurer's cash.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum InsurancePolicies {
    Table,
    Id,
    Kind,
    Status,
    InsurerOrganizationId,
    HolderOrganizationId,
    ClientId,
    RequestHash,
    ProjectId,
    PolicyYear,
    InsuredStockG,
    ThresholdG,
    PricePerT,
    Instrument,
    Quantity,
    Strike,
    StartsOn,
    EndsOn,
    AveragingDays,
    Maximum,
    Premium,
    Paid,
    Reason,
    OfferedBy,
    AnsweredBy,
    CreatedAt,
    AnsweredAt,
    EndedAt,
}

#[derive(DeriveIden)]
enum InsuranceClaims {
    Table,
    Id,
    PolicyId,
    Basis,
    Status,
    Computation,
    Payout,
    CreatedAt,
    UpdatedAt,
    DecidedBy,
    DecidedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use InsurancePolicies as P;
        manager
            .create_table(
                Table::create()
                    .table(P::Table)
                    .if_not_exists()
                    .col(string_len(P::Id, 36).primary_key())
                    .col(string_len(P::Kind, 16))
                    .col(string_len(P::Status, 16))
                    .col(string_len(P::InsurerOrganizationId, 36))
                    .col(string_len(P::HolderOrganizationId, 36))
                    .col(string_len(P::ClientId, 64))
                    .col(string_len(P::RequestHash, 64))
                    .col(string_len_null(P::ProjectId, 36))
                    .col(integer_null(P::PolicyYear))
                    .col(big_integer_null(P::InsuredStockG))
                    .col(big_integer_null(P::ThresholdG))
                    .col(big_integer_null(P::PricePerT))
                    .col(string_len_null(P::Instrument, 32))
                    .col(big_integer_null(P::Quantity))
                    .col(big_integer_null(P::Strike))
                    .col(string_len(P::StartsOn, 10))
                    .col(string_len(P::EndsOn, 10))
                    .col(integer_null(P::AveragingDays))
                    .col(big_integer(P::Maximum))
                    .col(big_integer(P::Premium))
                    .col(big_integer(P::Paid))
                    .col(text_null(P::Reason))
                    .col(string_len(P::OfferedBy, 36))
                    .col(string_len_null(P::AnsweredBy, 36))
                    .col(timestamp_with_time_zone(P::CreatedAt))
                    .col(timestamp_with_time_zone_null(P::AnsweredAt))
                    .col(timestamp_with_time_zone_null(P::EndedAt))
                    .to_owned(),
            )
            .await?;
        for (name, cols, unique) in [
            (
                "insurance_policies_client_id",
                vec![P::InsurerOrganizationId, P::ClientId],
                true,
            ),
            (
                "insurance_policies_holder",
                vec![P::HolderOrganizationId, P::Id],
                false,
            ),
            (
                "insurance_policies_project",
                vec![P::ProjectId, P::Status],
                false,
            ),
            (
                "insurance_policies_instrument",
                vec![P::Instrument, P::Status],
                false,
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(P::Table);
            for c in cols {
                index.col(c);
            }
            if unique {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }
        use InsuranceClaims as C;
        manager
            .create_table(
                Table::create()
                    .table(C::Table)
                    .if_not_exists()
                    .col(string_len(C::Id, 36).primary_key())
                    .col(string_len(C::PolicyId, 36))
                    .col(string_len(C::Basis, 64))
                    .col(string_len(C::Status, 16))
                    .col(text(C::Computation))
                    .col(big_integer(C::Payout))
                    .col(timestamp_with_time_zone(C::CreatedAt))
                    .col(timestamp_with_time_zone(C::UpdatedAt))
                    .col(string_len_null(C::DecidedBy, 36))
                    .col(timestamp_with_time_zone_null(C::DecidedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("insurance_claims_basis")
                    .table(C::Table)
                    .col(C::PolicyId)
                    .col(C::Basis)
                    .unique()
                    .to_owned(),
            )
            .await
    }
}
