//! `/api/v1/trips*`, `/api/v1/reviews/trips*`, summaries, leaderboards and
//! privacy, one module per concern. Thin: parse, call the service, map.

mod boards;
mod logging;
mod privacy;
mod reviews;
mod summaries;

pub use boards::*;
pub use logging::*;
pub use privacy::*;
pub use reviews::*;
pub use summaries::*;

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::deps::TripDeps;
use super::entity::trip;
use super::rules::{Reason, TripStatus};
use super::service::TripError;
use crate::error::ApiError;
use crate::ledger::LedgerError;
use crate::problem::ProblemCode;

/// A single trip's body may carry a long GPS trace.
pub const TRIP_BODY_BYTES: usize = 2 * 1024 * 1024;
/// Most trips in one batch, and the batch's body limit.
pub const MAX_BATCH: usize = 100;
pub const BATCH_BODY_BYTES: usize = crate::error::MAX_BODY_BYTES;

impl From<TripError> for ApiError {
    fn from(e: TripError) -> Self {
        match e {
            TripError::Calc(c) => ApiError::Calc(c),
            TripError::Invalid { param, .. } => ApiError::Invalid {
                param: param.into(),
                detail: e.to_string(),
            },
            TripError::ClientIdReused => ApiError::Conflict {
                code: ProblemCode::ClientTripIdReused,
                detail: e.to_string(),
            },
            TripError::Database(e) | TripError::Ledger(LedgerError::Database(e)) => e.into(),
            TripError::NoAccount | TripError::Ledger(_) => ApiError::internal(e),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TripView {
    pub id: String,
    pub client_trip_id: String,
    #[schema(value_type = TripStatus)]
    pub status: String,
    /// Why it was rejected or sent to review, or credited less.
    pub reasons: Vec<Reason>,
    /// `gps`, `self_declared`, or `partner` (made from a partner's record).
    pub source: String,
    /// When a partner's record (transit operator, bike-share) confirmed or
    /// created the trip.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmed_at: Option<String>,
    /// The methodology the server computed with.
    pub preset: String,
    pub preset_version: i32,
    /// The exact reduction, grams CO2e (decimal string).
    pub reduction_g: String,
    /// Grams credited to the personal account (integer string).
    pub credited_g: String,
    /// Points credited (integer string).
    pub points: String,
    /// Sum of the declared leg distances.
    pub distance_km: String,
    /// What the GPS trace measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub measured_km: Option<String>,
    #[schema(value_type = Vec<Object>)]
    pub legs: Value,
    pub started_at: String,
    pub ended_at: String,
    pub created_at: String,
    /// Credited, but held for review: the same journey came from another
    /// account. The points stay until a reviewer decides.
    pub held_for_review: bool,
}

impl From<trip::Model> for TripView {
    fn from(t: trip::Model) -> Self {
        TripView {
            reasons: serde_json::from_str(&t.reasons).unwrap_or_default(),
            legs: serde_json::from_str(&t.legs).unwrap_or(Value::Null),
            id: t.id,
            client_trip_id: t.client_trip_id,
            status: t.status.as_str().to_string(),
            source: t.source.as_str().to_string(),
            confirmed_at: t.confirmed_at.map(|c| c.to_rfc3339()),
            preset: t.preset,
            preset_version: t.preset_version,
            reduction_g: t.reduction_g,
            credited_g: t.credited_g.to_string(),
            points: t.points.to_string(),
            distance_km: t.distance_km,
            measured_km: t.measured_km,
            started_at: t.started_at.to_rfc3339(),
            ended_at: t.ended_at.to_rfc3339(),
            created_at: t.created_at.to_rfc3339(),
            held_for_review: t.held_for_review,
        }
    }
}
