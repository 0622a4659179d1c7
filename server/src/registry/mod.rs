//! The registry: enterprise projects and forest sinks, their public notice
//! and approval, monitoring reports and verification, issuance of credit
//! batches with serial numbers, transfers, retirements and certificates.

pub mod aggregation;
pub mod certificate;
pub mod claims;
pub mod counters;
pub mod disclosure;
pub mod entity;
pub mod error;
pub mod holdings;
pub mod identities;
pub mod issuance;
pub mod projects;
pub mod reports;
pub mod routes;
pub mod rules;
pub mod views;
