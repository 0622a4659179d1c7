//! `Idempotency-Key` records: the first response to a creating POST, kept so
//! a retry with the same key and body gets it again instead of a second
//! effect.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    Scope,
    Key,
    RequestHash,
    Status,
    ResponseStatus,
    ResponseBody,
    ContentType,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .if_not_exists()
                    // `user:<id>` or `ip:<address>`: keys are per caller.
                    .col(string_len(IdempotencyKeys::Scope, 80))
                    .col(string_len(IdempotencyKeys::Key, 255))
                    .col(string_len(IdempotencyKeys::RequestHash, 64))
                    // `in_flight` while the first request runs, then `done`.
                    .col(string_len(IdempotencyKeys::Status, 16))
                    .col(integer_null(IdempotencyKeys::ResponseStatus))
                    .col(binary_null(IdempotencyKeys::ResponseBody))
                    .col(string_len_null(IdempotencyKeys::ContentType, 100))
                    .col(timestamp_with_time_zone(IdempotencyKeys::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(IdempotencyKeys::Scope)
                            .col(IdempotencyKeys::Key),
                    )
                    .to_owned(),
            )
            .await
    }
}
