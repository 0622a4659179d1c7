//! Compliance with environmental rights: per class, compliance year and
//! holder, the verified use a bureau recorded and what the holder
//! surrendered against it by the deadline; the gap is what is left after
//! the deadline.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RightCompliance {
    Table,
    Id,
    Class,
    Year,
    OrganizationId,
    BureauOrganizationId,
    VerifiedG,
    SurrenderedG,
    Deadline,
    ReportSha256,
    RecordedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RightAllocations {
    Table,
    ConvertedG,
    ExpiredG,
    Origin,
    QuantityG,
    UnconvertedG,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use RightCompliance as C;
        manager
            .create_table(
                Table::create()
                    .table(C::Table)
                    .if_not_exists()
                    .col(string_len(C::Id, 36).primary_key())
                    .col(string_len(C::Class, 32))
                    .col(integer(C::Year))
                    .col(string_len(C::OrganizationId, 36))
                    .col(string_len(C::BureauOrganizationId, 36))
                    .col(big_integer(C::VerifiedG))
                    .col(big_integer(C::SurrenderedG))
                    .col(string_len(C::Deadline, 10))
                    .col(string_len_null(C::ReportSha256, 64))
                    .col(string_len(C::RecordedBy, 36))
                    .col(timestamp_with_time_zone(C::CreatedAt))
                    .col(timestamp_with_time_zone(C::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("right_compliance_holder_year")
                    .table(C::Table)
                    .col(C::Class)
                    .col(C::Year)
                    .col(C::OrganizationId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("right_compliance_deadline")
                    .table(C::Table)
                    .col(C::Deadline)
                    .to_owned(),
            )
            .await?;
        // What conversion freed and expiry cancelled of an allocation's
        // batch (one column an ALTER, as SQLite wants).
        use RightAllocations as A;
        for column in [A::ConvertedG, A::ExpiredG] {
            manager
                .alter_table(
                    Table::alter()
                        .table(A::Table)
                        .add_column(big_integer(column).default(0))
                        .to_owned(),
                )
                .await?;
        }
        // Before this, what a free allocation no longer held unconverted
        // had been converted or clawed back; claw-backs are in the audit
        // log, and counted as converted here.
        manager
            .exec_stmt(
                Query::update()
                    .table(A::Table)
                    .value(
                        A::ConvertedG,
                        Expr::col(A::QuantityG).sub(Expr::col(A::UnconvertedG)),
                    )
                    .and_where(Expr::col(A::Origin).eq("free"))
                    .to_owned(),
            )
            .await
    }
}
