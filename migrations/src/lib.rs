//! The schema of Tanpuhui, as an ordered list of migrations. Tables arrive
//! with the features that use them.

pub use sea_orm_migration::prelude::*;

mod m20261127_000001_users;
mod m20261127_000002_refresh_tokens;
mod m20261128_000003_organizations;
mod m20261128_000004_ledger;
mod m20261128_000005_idempotency_keys;
mod m20261128_000006_trips;
mod m20261128_000007_trip_reviews;
mod m20261128_000008_rewards;
mod m20261128_000009_leaderboard_opt_out;
mod m20261128_000010_partner_feeds;
mod m20261128_000011_reward_merchants;
mod m20261128_000012_audit_log;
mod m20261128_000013_registry;
mod m20261128_000014_neutrality_claims;
mod m20261128_000015_registry_counters;
mod m20261129_000016_refresh_grace;
mod m20261129_000017_trip_fingerprints;
mod m20261130_000018_methodology_documents;
mod m20261130_000019_market_foundation;
mod m20261130_000020_orders_and_trades;
mod m20261201_000021_blocks_and_auctions;
mod m20261201_000022_instrument_rules;
mod m20261207_000023_trips_by_day;
mod m20261207_000024_guidance_prices;
mod m20261207_000025_guidance_reviews;
mod m20261207_000026_stabilisation_actions;
mod m20261207_000027_reserve_operations;
mod m20261207_000028_pledges;
mod m20261207_000029_insurance;
mod m20261207_000030_pledge_auctions;
mod m20261207_000031_bureaus;
mod m20261207_000032_right_allocations;
mod m20261207_000033_right_compliance;
mod m20261207_000034_right_instalments;
mod m20261208_000035_land_lots;
mod m20261208_000036_notifications;

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_users::Migration),
            Box::new(m20261127_000002_refresh_tokens::Migration),
            Box::new(m20261128_000003_organizations::Migration),
            Box::new(m20261128_000004_ledger::Migration),
            Box::new(m20261128_000005_idempotency_keys::Migration),
            Box::new(m20261128_000006_trips::Migration),
            Box::new(m20261128_000007_trip_reviews::Migration),
            Box::new(m20261128_000008_rewards::Migration),
            Box::new(m20261128_000009_leaderboard_opt_out::Migration),
            Box::new(m20261128_000010_partner_feeds::Migration),
            Box::new(m20261128_000011_reward_merchants::Migration),
            Box::new(m20261128_000012_audit_log::Migration),
            Box::new(m20261128_000013_registry::Migration),
            Box::new(m20261128_000014_neutrality_claims::Migration),
            Box::new(m20261128_000015_registry_counters::Migration),
            Box::new(m20261129_000016_refresh_grace::Migration),
            Box::new(m20261129_000017_trip_fingerprints::Migration),
            Box::new(m20261130_000018_methodology_documents::Migration),
            Box::new(m20261130_000019_market_foundation::Migration),
            Box::new(m20261130_000020_orders_and_trades::Migration),
            Box::new(m20261201_000021_blocks_and_auctions::Migration),
            Box::new(m20261201_000022_instrument_rules::Migration),
            Box::new(m20261207_000023_trips_by_day::Migration),
            Box::new(m20261207_000024_guidance_prices::Migration),
            Box::new(m20261207_000025_guidance_reviews::Migration),
            Box::new(m20261207_000026_stabilisation_actions::Migration),
            Box::new(m20261207_000027_reserve_operations::Migration),
            Box::new(m20261207_000028_pledges::Migration),
            Box::new(m20261207_000029_insurance::Migration),
            Box::new(m20261207_000030_pledge_auctions::Migration),
            Box::new(m20261207_000031_bureaus::Migration),
            Box::new(m20261207_000032_right_allocations::Migration),
            Box::new(m20261207_000033_right_compliance::Migration),
            Box::new(m20261207_000034_right_instalments::Migration),
            Box::new(m20261208_000035_land_lots::Migration),
            Box::new(m20261208_000036_notifications::Migration),
        ]
    }
}
