//! Tanpuhui API server: actix-web over sea-orm (SQLite embedded by default,
//! PostgreSQL in production). Domain rules that clients also need live in
//! `carbon-calc`.

pub mod accounts;
pub mod admin;
pub mod amount;
pub mod api_doc;
pub mod audit;
pub mod auth;
pub mod cache;
pub mod clock;
pub mod config;
pub mod console;
pub mod crypto;
pub mod db;
pub mod demo;
pub mod error;
pub mod estimates;
pub mod finance;
pub mod health;
pub mod idempotency;
pub mod ids;
pub mod input_guard;
pub mod instruments;
pub mod ledger;
pub mod market;
pub mod me;
pub mod methodologies;
pub mod notifications;
pub mod orgs;
pub mod pagination;
pub mod partners;
pub mod points;
pub mod pricing;
pub mod printable;
pub mod problem;
pub mod rate_limit;
pub mod registry;
pub mod reserve;
pub mod rewards;
pub mod rights;
pub mod startup;
pub mod telemetry;
pub mod text;
pub mod trips;
