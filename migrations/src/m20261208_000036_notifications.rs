//! A person's notification inbox, and which kinds reach them. A
//! notification is written in the transaction of what it tells of, so a
//! rolled-back change tells nothing.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    UserId,
    Kind,
    Body,
    CreatedAt,
    ReadAt,
}

#[derive(DeriveIden)]
enum NotificationSettings {
    Table,
    UserId,
    Kind,
    Enabled,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Notifications as N;
        manager
            .create_table(
                Table::create()
                    .table(N::Table)
                    .if_not_exists()
                    .col(string_len(N::Id, 36).primary_key())
                    .col(string_len(N::UserId, 36))
                    .col(string_len(N::Kind, 32))
                    .col(text(N::Body))
                    .col(timestamp_with_time_zone(N::CreatedAt))
                    .col(timestamp_with_time_zone_null(N::ReadAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("notifications_by_user")
                    .table(N::Table)
                    .col(N::UserId)
                    .col(N::Id)
                    .to_owned(),
            )
            .await?;
        use NotificationSettings as S;
        manager
            .create_table(
                Table::create()
                    .table(S::Table)
                    .if_not_exists()
                    .col(string_len(S::UserId, 36))
                    .col(string_len(S::Kind, 32))
                    .col(boolean(S::Enabled))
                    .col(timestamp_with_time_zone(S::UpdatedAt))
                    .primary_key(Index::create().col(S::UserId).col(S::Kind))
                    .to_owned(),
            )
            .await
    }
}
