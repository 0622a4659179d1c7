//! Pledges of units (and of a project's future issuance) to banks: one row
//! per pledge, its collateral's ledger holds (`pledge_lots`, on the first-
//! ranked pledge of a chain), its events (repayments, top-ups, releases,
//! calls: the parties' history, idempotent by reference) and one
//! valuation per pledge and trading day. A reserve take-over of pledged
//! units is a reserve operation naming the pledge.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Pledges {
    Table,
    Id,
    Status,
    PledgorOrganizationId,
    PledgeeOrganizationId,
    ClientId,
    RequestHash,
    Instrument,
    Quantity,
    ProjectId,
    Share,
    CapturedG,
    SeniorPledgeId,
    Rank,
    ConsentedBy,
    ConsentedAt,
    Ltv,
    LoanAmount,
    Outstanding,
    MaturesOn,
    ReleasedUnits,
    LastPrice,
    LastValuedOn,
    CallDeadline,
    GuarantorOrganizationId,
    GuaranteeShare,
    GuaranteeStatus,
    GuaranteeHeld,
    GuarantorPaid,
    EnforcementMethod,
    EnforcementId,
    Proceeds,
    Shortfall,
    TermsSalt,
    Version,
    Reason,
    RequestedBy,
    DecidedBy,
    CreatedAt,
    DecidedAt,
    EndedAt,
}

#[derive(DeriveIden)]
enum PledgeLots {
    Table,
    HoldId,
    PledgeId,
    BatchId,
    Grams,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PledgeEvents {
    Table,
    Id,
    PledgeId,
    Kind,
    Reference,
    Amount,
    Units,
    Detail,
    RecordedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PledgeValuations {
    Table,
    PledgeId,
    Day,
    Price,
    CollateralUnits,
    Value,
    Outstanding,
    Senior,
    Called,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ReserveOperations {
    Table,
    PledgeId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Pledges as P;
        manager
            .create_table(
                Table::create()
                    .table(P::Table)
                    .if_not_exists()
                    .col(string_len(P::Id, 36).primary_key())
                    .col(string_len(P::Status, 16))
                    .col(string_len(P::PledgorOrganizationId, 36))
                    .col(string_len(P::PledgeeOrganizationId, 36))
                    .col(string_len(P::ClientId, 64))
                    .col(string_len(P::RequestHash, 64))
                    .col(string_len(P::Instrument, 32))
                    .col(big_integer(P::Quantity))
                    .col(string_len_null(P::ProjectId, 36))
                    .col(string_len_null(P::Share, 16))
                    .col(big_integer(P::CapturedG))
                    .col(string_len_null(P::SeniorPledgeId, 36))
                    .col(integer(P::Rank))
                    .col(string_len_null(P::ConsentedBy, 36))
                    .col(timestamp_with_time_zone_null(P::ConsentedAt))
                    .col(string_len_null(P::Ltv, 16))
                    .col(big_integer_null(P::LoanAmount))
                    .col(big_integer(P::Outstanding))
                    .col(string_len_null(P::MaturesOn, 10))
                    .col(big_integer(P::ReleasedUnits))
                    .col(big_integer_null(P::LastPrice))
                    .col(string_len_null(P::LastValuedOn, 10))
                    .col(string_len_null(P::CallDeadline, 10))
                    .col(string_len_null(P::GuarantorOrganizationId, 36))
                    .col(string_len_null(P::GuaranteeShare, 16))
                    .col(string_len_null(P::GuaranteeStatus, 16))
                    .col(big_integer(P::GuaranteeHeld))
                    .col(big_integer(P::GuarantorPaid))
                    .col(string_len_null(P::EnforcementMethod, 16))
                    .col(string_len_null(P::EnforcementId, 36))
                    .col(big_integer_null(P::Proceeds))
                    .col(big_integer_null(P::Shortfall))
                    .col(string_len(P::TermsSalt, 32))
                    .col(big_integer(P::Version))
                    .col(text_null(P::Reason))
                    .col(string_len(P::RequestedBy, 36))
                    .col(string_len_null(P::DecidedBy, 36))
                    .col(timestamp_with_time_zone(P::CreatedAt))
                    .col(timestamp_with_time_zone_null(P::DecidedAt))
                    .col(timestamp_with_time_zone_null(P::EndedAt))
                    .to_owned(),
            )
            .await?;
        for (name, cols, unique) in [
            (
                "pledges_client_id",
                vec![P::PledgorOrganizationId, P::ClientId],
                true,
            ),
            (
                "pledges_pledgee",
                vec![P::PledgeeOrganizationId, P::Id],
                false,
            ),
            ("pledges_instrument", vec![P::Instrument, P::Status], false),
            ("pledges_project", vec![P::ProjectId, P::Status], false),
            ("pledges_senior", vec![P::SeniorPledgeId], false),
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
        use PledgeLots as L;
        manager
            .create_table(
                Table::create()
                    .table(L::Table)
                    .if_not_exists()
                    .col(string_len(L::HoldId, 100).primary_key())
                    .col(string_len(L::PledgeId, 36))
                    .col(string_len(L::BatchId, 64))
                    .col(big_integer(L::Grams))
                    .col(timestamp_with_time_zone(L::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("pledge_lots_pledge")
                    .table(L::Table)
                    .col(L::PledgeId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("pledge_lots_batch")
                    .table(L::Table)
                    .col(L::BatchId)
                    .to_owned(),
            )
            .await?;
        use PledgeEvents as E;
        manager
            .create_table(
                Table::create()
                    .table(E::Table)
                    .if_not_exists()
                    .col(string_len(E::Id, 36).primary_key())
                    .col(string_len(E::PledgeId, 36))
                    .col(string_len(E::Kind, 24))
                    .col(string_len_null(E::Reference, 64))
                    .col(big_integer_null(E::Amount))
                    .col(big_integer_null(E::Units))
                    .col(text_null(E::Detail))
                    .col(string_len_null(E::RecordedBy, 36))
                    .col(timestamp_with_time_zone(E::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("pledge_events_reference")
                    .table(E::Table)
                    .col(E::PledgeId)
                    .col(E::Kind)
                    .col(E::Reference)
                    .unique()
                    .to_owned(),
            )
            .await?;
        use PledgeValuations as V;
        manager
            .create_table(
                Table::create()
                    .table(V::Table)
                    .if_not_exists()
                    .col(string_len(V::PledgeId, 36))
                    .col(string_len(V::Day, 10))
                    .col(big_integer(V::Price))
                    .col(big_integer(V::CollateralUnits))
                    .col(big_integer(V::Value))
                    .col(big_integer(V::Outstanding))
                    .col(big_integer(V::Senior))
                    .col(boolean(V::Called))
                    .col(timestamp_with_time_zone(V::CreatedAt))
                    .primary_key(Index::create().col(V::PledgeId).col(V::Day))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ReserveOperations::Table)
                    .add_column(string_len_null(ReserveOperations::PledgeId, 36))
                    .to_owned(),
            )
            .await
    }
}
