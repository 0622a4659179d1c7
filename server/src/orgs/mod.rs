//! Organisations, the roles users hold in them, and memberships.

pub mod entity;
pub mod routes;
pub mod service;
pub mod uscc;
