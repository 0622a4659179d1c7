//! Black-box tests: the real application on a random port, a fresh database
//! per test, HTTP from outside. Every test runs on SQLite, and on PostgreSQL
//! too when `TEST_DATABASE_URL` is set.

mod accounts;
mod audit;
mod auth;
mod cache;
mod cli;
mod double_counting;
mod estimates;
mod finance;
mod health;
mod helpers;
mod idempotency;
mod input;
mod journey;
mod land_steps;
mod ledger;
mod market;
mod market_methods;
mod market_simulation;
mod methodologies;
mod migrations;
mod notifications;
mod openapi;
mod orgs;
mod outages;
mod partners;
mod points;
mod pricing;
mod registry;
mod registry_simulation;
mod reserve;
mod rewards;
mod rights;
mod rights_allocation;
mod rights_compliance;
mod rights_scenario;
mod robustness;
mod trips;
