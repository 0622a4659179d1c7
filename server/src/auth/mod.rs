//! Identity and who may do what: registration, sign-in, bearer access
//! tokens, roles and their grants, and the extractors that tell handlers
//! who is asking.

pub mod entity;
pub mod extract;
pub mod password;
pub mod refresh;
pub mod refresh_entity;
pub mod revocation;
pub mod roles;
pub mod routes;
pub mod service;
pub mod token;
