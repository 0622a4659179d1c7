//! The schema of Tanpuhui, as an ordered list of migrations. Tables arrive
//! with the features that use them.

pub use sea_orm_migration::prelude::*;

mod m20261127_000001_users;
mod m20261127_000002_refresh_tokens;

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_users::Migration),
            Box::new(m20261127_000002_refresh_tokens::Migration),
        ]
    }
}
