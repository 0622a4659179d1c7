//! Carbon accounts: one per person and per organisation, plus the
//! platform's system accounts (issuers, pools).

pub mod entity;
pub mod routes;
pub mod service;
