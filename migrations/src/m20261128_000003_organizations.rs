//! Organisations (government departments, enterprises, the service centre,
//! the reserve platform, banks), the roles users hold in them, and the
//! memberships of individuals (civil servants in their department, staff in
//! their enterprise).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
    Kind,
    Name,
    Uscc,
    Status,
    AppliedBy,
    DecidedBy,
    DecidedAt,
    DecisionReason,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RoleGrants {
    Table,
    Id,
    UserId,
    Role,
    OrganizationId,
    GrantedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Memberships {
    Table,
    Id,
    OrganizationId,
    UserId,
    Status,
    RequestedAt,
    DecidedBy,
    DecidedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

fn to_users(table: impl IntoIden, col: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, col)
        .to(Users::Table, Users::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Organizations::Table)
                    .if_not_exists()
                    .col(string_len(Organizations::Id, 36).primary_key())
                    .col(string_len(Organizations::Kind, 32))
                    .col(string_len(Organizations::Name, 200))
                    .col(string_len(Organizations::Uscc, 18).unique_key())
                    .col(string_len(Organizations::Status, 16))
                    .col(string_len_null(Organizations::AppliedBy, 36))
                    .col(string_len_null(Organizations::DecidedBy, 36))
                    .col(timestamp_with_time_zone_null(Organizations::DecidedAt))
                    .col(string_len_null(Organizations::DecisionReason, 500))
                    .col(timestamp_with_time_zone(Organizations::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Organizations::Table, Organizations::AppliedBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("organizations_status_created")
                    .table(Organizations::Table)
                    .col(Organizations::Status)
                    .col(Organizations::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RoleGrants::Table)
                    .if_not_exists()
                    .col(string_len(RoleGrants::Id, 36).primary_key())
                    .col(string_len(RoleGrants::UserId, 36))
                    .col(string_len(RoleGrants::Role, 32))
                    // NULL only for `admin`: the whole platform.
                    .col(string_len_null(RoleGrants::OrganizationId, 36))
                    .col(string_len_null(RoleGrants::GrantedBy, 36))
                    .col(timestamp_with_time_zone(RoleGrants::CreatedAt))
                    .foreign_key(&mut to_users(RoleGrants::Table, RoleGrants::UserId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(RoleGrants::Table, RoleGrants::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("role_grants_unique")
                    .table(RoleGrants::Table)
                    .col(RoleGrants::UserId)
                    .col(RoleGrants::Role)
                    .col(RoleGrants::OrganizationId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Memberships::Table)
                    .if_not_exists()
                    .col(string_len(Memberships::Id, 36).primary_key())
                    .col(string_len(Memberships::OrganizationId, 36))
                    .col(string_len(Memberships::UserId, 36))
                    .col(string_len(Memberships::Status, 16))
                    .col(timestamp_with_time_zone(Memberships::RequestedAt))
                    .col(string_len_null(Memberships::DecidedBy, 36))
                    .col(timestamp_with_time_zone_null(Memberships::DecidedAt))
                    .foreign_key(&mut to_users(Memberships::Table, Memberships::UserId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Memberships::Table, Memberships::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("memberships_unique")
                    .table(Memberships::Table)
                    .col(Memberships::OrganizationId)
                    .col(Memberships::UserId)
                    .unique()
                    .to_owned(),
            )
            .await
    }
}
