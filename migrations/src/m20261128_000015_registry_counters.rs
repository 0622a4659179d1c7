//! Counters the registry hands numbers out of (project registry numbers,
//! personal batches per vintage): one row per counter, incremented by an
//! upsert that locks it, so two approvals at once get consecutive numbers
//! instead of one failing on the unique index.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RegistryCounters {
    Table,
    Name,
    Value,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RegistryCounters::Table)
                    .if_not_exists()
                    .col(string_len(RegistryCounters::Name, 64).primary_key())
                    .col(big_integer(RegistryCounters::Value))
                    .to_owned(),
            )
            .await?;
        // Continue from what was handed out before the counters existed.
        let db = manager.get_connection();
        db.execute_unprepared(
            "INSERT INTO registry_counters (name, value) \
             SELECT 'project', COALESCE(MAX(number), 0) FROM projects",
        )
        .await?;
        db.execute_unprepared(
            "INSERT INTO registry_counters (name, value) \
             SELECT 'personal:' || CAST(vintage AS TEXT), COUNT(*) FROM credit_batches \
             WHERE kind = 'personal' GROUP BY vintage",
        )
        .await?;
        Ok(())
    }
}
