//! Rewards bought with points.

pub mod entity;
pub mod routes;
pub mod service;
