//! Low-carbon trips of the personal carbon account: logging (single and
//! batch), the rules that credit, reject or send them to review, and the
//! caller's own history.

pub mod copies;
pub mod credit;
mod deps;
pub mod entity;
pub mod fingerprint;
pub mod history;
pub mod leaderboard;
pub mod partner;
pub mod retention;
pub mod review;
pub mod routes;
pub mod rules;
pub mod service;
pub mod summary;

pub use deps::TripDeps;

/// A stored trip's reasons, to be added to and written back. Unreadable
/// reasons are corrupt data, an internal error: never silently emptied and
/// stored so.
pub(crate) fn stored_reasons(
    t: &entity::trip::Model,
) -> Result<Vec<rules::Reason>, sea_orm::DbErr> {
    serde_json::from_str(&t.reasons)
        .map_err(|e| sea_orm::DbErr::Custom(format!("trip {} reasons: {e}", t.id)))
}
