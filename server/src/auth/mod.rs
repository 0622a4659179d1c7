//! Identity: registration, sign-in and bearer access tokens.

pub mod entity;
pub mod password;
pub mod refresh;
pub mod refresh_entity;
pub mod revocation;
pub mod routes;
pub mod service;
pub mod token;
