//! The registry: projects (draft → public notice → approved / rejected),
//! their identities (what another registration of the same reductions
//! would share), objections, monitoring reports and their verification,
//! credit batches with serial ranges, retirements and forest reversals.
//! Holdings are ledger balances of the asset `credit:<batch id>`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Projects {
    Table,
    Id,
    Number,
    OrganizationId,
    Name,
    Kind,
    Methodology,
    MethodologyVersion,
    MethodologyName,
    RegionCode,
    Location,
    CreditingStart,
    CreditingEnd,
    Documents,
    Identities,
    Status,
    NoticeClosesAt,
    DecidedBy,
    DecidedAt,
    DecisionReason,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ProjectIdentities {
    Table,
    Identity,
    ProjectId,
}

#[derive(DeriveIden)]
enum ProjectObjections {
    Table,
    Id,
    ProjectId,
    UserId,
    Text,
    CreatedAt,
}

#[derive(DeriveIden)]
enum MonitoringReports {
    Table,
    Id,
    ProjectId,
    PeriodStart,
    PeriodEnd,
    Activity,
    Estimate,
    ClaimedG,
    Status,
    VerifiedG,
    DecisionReason,
    DecidedBy,
    DecidedAt,
    BatchId,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CreditBatches {
    Table,
    Id,
    Kind,
    ProjectId,
    ReportId,
    Vintage,
    Methodology,
    MethodologyVersion,
    QuantityG,
    BufferG,
    HolderAccountId,
    NextSerial,
    RetiredG,
    CancelledG,
    Records,
    Persons,
    IssuedBy,
    IssuedAt,
    AuditEventId,
}

#[derive(DeriveIden)]
enum Retirements {
    Table,
    Id,
    BatchId,
    AccountId,
    QuantityG,
    SerialFirst,
    SerialLast,
    Beneficiary,
    Purpose,
    RetiredBy,
    CreatedAt,
    AuditEventId,
}

#[derive(DeriveIden)]
enum Reversals {
    Table,
    Id,
    ProjectId,
    LossG,
    CancelledG,
    Cause,
    OccurredOn,
    RecordedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
}

fn fk(
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Projects::Table)
                    .if_not_exists()
                    .col(string_len(Projects::Id, 36).primary_key())
                    // Given at approval; serial prefixes use it.
                    .col(integer_null(Projects::Number).unique_key())
                    .col(string_len(Projects::OrganizationId, 36))
                    .col(string_len(Projects::Name, 200))
                    .col(string_len(Projects::Kind, 24))
                    .col(string_len(Projects::Methodology, 64))
                    .col(integer(Projects::MethodologyVersion))
                    .col(string_len_null(Projects::MethodologyName, 200))
                    .col(string_len(Projects::RegionCode, 12))
                    .col(text(Projects::Location))
                    .col(string_len(Projects::CreditingStart, 10))
                    .col(string_len(Projects::CreditingEnd, 10))
                    .col(text(Projects::Documents))
                    .col(text(Projects::Identities))
                    .col(string_len(Projects::Status, 16))
                    .col(timestamp_with_time_zone_null(Projects::NoticeClosesAt))
                    .col(string_len_null(Projects::DecidedBy, 36))
                    .col(timestamp_with_time_zone_null(Projects::DecidedAt))
                    .col(text_null(Projects::DecisionReason))
                    .col(string_len(Projects::CreatedBy, 36))
                    .col(timestamp_with_time_zone(Projects::CreatedAt))
                    .col(timestamp_with_time_zone(Projects::UpdatedAt))
                    .foreign_key(&mut fk(
                        (Projects::Table, Projects::OrganizationId),
                        (Organizations::Table, Organizations::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("projects_status")
                    .table(Projects::Table)
                    .col(Projects::Status)
                    .col(Projects::Id)
                    .to_owned(),
            )
            .await?;
        // One live project per identity (a meter, a parcel, another
        // registry's id): the same reductions cannot be registered twice.
        manager
            .create_table(
                Table::create()
                    .table(ProjectIdentities::Table)
                    .if_not_exists()
                    .col(string_len(ProjectIdentities::Identity, 200).primary_key())
                    .col(string_len(ProjectIdentities::ProjectId, 36))
                    .foreign_key(&mut fk(
                        (ProjectIdentities::Table, ProjectIdentities::ProjectId),
                        (Projects::Table, Projects::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ProjectObjections::Table)
                    .if_not_exists()
                    .col(string_len(ProjectObjections::Id, 36).primary_key())
                    .col(string_len(ProjectObjections::ProjectId, 36))
                    .col(string_len(ProjectObjections::UserId, 36))
                    .col(text(ProjectObjections::Text))
                    .col(timestamp_with_time_zone(ProjectObjections::CreatedAt))
                    .foreign_key(&mut fk(
                        (ProjectObjections::Table, ProjectObjections::ProjectId),
                        (Projects::Table, Projects::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("project_objections_project")
                    .table(ProjectObjections::Table)
                    .col(ProjectObjections::ProjectId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MonitoringReports::Table)
                    .if_not_exists()
                    .col(string_len(MonitoringReports::Id, 36).primary_key())
                    .col(string_len(MonitoringReports::ProjectId, 36))
                    .col(string_len(MonitoringReports::PeriodStart, 10))
                    .col(string_len(MonitoringReports::PeriodEnd, 10))
                    .col(text(MonitoringReports::Activity))
                    .col(text(MonitoringReports::Estimate))
                    .col(big_integer(MonitoringReports::ClaimedG))
                    .col(string_len(MonitoringReports::Status, 16))
                    .col(big_integer_null(MonitoringReports::VerifiedG))
                    .col(text_null(MonitoringReports::DecisionReason))
                    .col(string_len_null(MonitoringReports::DecidedBy, 36))
                    .col(timestamp_with_time_zone_null(MonitoringReports::DecidedAt))
                    .col(string_len_null(MonitoringReports::BatchId, 50))
                    .col(string_len(MonitoringReports::CreatedBy, 36))
                    .col(timestamp_with_time_zone(MonitoringReports::CreatedAt))
                    .foreign_key(&mut fk(
                        (MonitoringReports::Table, MonitoringReports::ProjectId),
                        (Projects::Table, Projects::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("monitoring_reports_project")
                    .table(MonitoringReports::Table)
                    .col(MonitoringReports::ProjectId)
                    .col(MonitoringReports::PeriodStart)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CreditBatches::Table)
                    .if_not_exists()
                    // The serial prefix, e.g. TPH-0001-2026-001.
                    .col(string_len(CreditBatches::Id, 50).primary_key())
                    .col(string_len(CreditBatches::Kind, 16))
                    .col(string_len_null(CreditBatches::ProjectId, 36))
                    .col(string_len_null(CreditBatches::ReportId, 36).unique_key())
                    .col(integer(CreditBatches::Vintage))
                    .col(string_len(CreditBatches::Methodology, 64))
                    .col(integer(CreditBatches::MethodologyVersion))
                    // Units are grams: serials 1..=quantity_g.
                    .col(big_integer(CreditBatches::QuantityG))
                    .col(big_integer(CreditBatches::BufferG))
                    .col(string_len(CreditBatches::HolderAccountId, 36))
                    .col(big_integer(CreditBatches::NextSerial))
                    .col(big_integer(CreditBatches::RetiredG))
                    .col(big_integer(CreditBatches::CancelledG))
                    .col(big_integer_null(CreditBatches::Records))
                    .col(big_integer_null(CreditBatches::Persons))
                    .col(string_len(CreditBatches::IssuedBy, 36))
                    .col(timestamp_with_time_zone(CreditBatches::IssuedAt))
                    .col(big_integer(CreditBatches::AuditEventId))
                    .foreign_key(&mut fk(
                        (CreditBatches::Table, CreditBatches::ProjectId),
                        (Projects::Table, Projects::Id),
                    ))
                    .foreign_key(&mut fk(
                        (CreditBatches::Table, CreditBatches::HolderAccountId),
                        (Accounts::Table, Accounts::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Retirements::Table)
                    .if_not_exists()
                    .col(string_len(Retirements::Id, 36).primary_key())
                    .col(string_len(Retirements::BatchId, 50))
                    .col(string_len(Retirements::AccountId, 36))
                    .col(big_integer(Retirements::QuantityG))
                    .col(big_integer(Retirements::SerialFirst))
                    .col(big_integer(Retirements::SerialLast))
                    .col(string_len(Retirements::Beneficiary, 200))
                    .col(string_len(Retirements::Purpose, 500))
                    .col(string_len(Retirements::RetiredBy, 36))
                    .col(timestamp_with_time_zone(Retirements::CreatedAt))
                    .col(big_integer(Retirements::AuditEventId))
                    .foreign_key(&mut fk(
                        (Retirements::Table, Retirements::BatchId),
                        (CreditBatches::Table, CreditBatches::Id),
                    ))
                    .foreign_key(&mut fk(
                        (Retirements::Table, Retirements::AccountId),
                        (Accounts::Table, Accounts::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("retirements_batch_serial")
                    .table(Retirements::Table)
                    .col(Retirements::BatchId)
                    .col(Retirements::SerialFirst)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Reversals::Table)
                    .if_not_exists()
                    .col(string_len(Reversals::Id, 36).primary_key())
                    .col(string_len(Reversals::ProjectId, 36))
                    .col(big_integer(Reversals::LossG))
                    .col(big_integer(Reversals::CancelledG))
                    .col(string_len(Reversals::Cause, 500))
                    .col(string_len(Reversals::OccurredOn, 10))
                    .col(string_len(Reversals::RecordedBy, 36))
                    .col(timestamp_with_time_zone(Reversals::CreatedAt))
                    .foreign_key(&mut fk(
                        (Reversals::Table, Reversals::ProjectId),
                        (Projects::Table, Projects::Id),
                    ))
                    .to_owned(),
            )
            .await
    }
}
