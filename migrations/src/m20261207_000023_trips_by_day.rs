//! Trips by China day across everyone: the region's monthly statistics
//! read one month of trips (a range of `local_day`), which the per-person
//! indexes cannot serve.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Trips {
    Table,
    LocalDay,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("trips_day_id")
                    .table(Trips::Table)
                    .col(Trips::LocalDay)
                    .col(Trips::Id)
                    .to_owned(),
            )
            .await
    }
}
