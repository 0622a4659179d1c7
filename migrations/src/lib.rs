//! The schema of Tanpuhui, as an ordered list of migrations. Tables arrive
//! with the features that use them (identity, ledger, trips, registry, …).

pub use sea_orm_migration::prelude::*;

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        Vec::new()
    }
}
