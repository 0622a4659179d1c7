//! One journey, one account: a trip's fingerprint (its GPS trace, or its
//! legs and times) finds the same journey sent from another account; both
//! then go to review. A credited trip so found is held: still credited,
//! but its reductions stay out of tradeable batches until a reviewer
//! decides.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Trips {
    Table,
    Fingerprint,
    HeldForReview,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Two statements: SQLite adds one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table(Trips::Table)
                    .add_column(string_len_null(Trips::Fingerprint, 80))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Trips::Table)
                    .add_column(boolean(Trips::HeldForReview).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("trips_fingerprint")
                    .table(Trips::Table)
                    .col(Trips::Fingerprint)
                    .to_owned(),
            )
            .await
    }
}
