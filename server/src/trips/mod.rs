//! Low-carbon trips of the personal carbon account: logging (single and
//! batch), the rules that credit, reject or send them to review, and the
//! caller's own history.

pub mod entity;
pub mod fingerprint;
pub mod leaderboard;
pub mod partner;
pub mod review;
pub mod routes;
pub mod rules;
pub mod service;
pub mod summary;
