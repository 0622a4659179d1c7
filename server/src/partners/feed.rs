//! What a partner pushes: trip records of its cards. Each record is applied
//! on its own and answered on its own (one bad record does not sink the
//! others); a record of a card nobody linked is answered `unknown_card`
//! and forgotten, so the partner may send it again once the card is linked.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use carbon_calc::commute::Leg;
use carbon_calc::Dec;

use super::cards;
use super::keys::{PartnerError, PartnerSecrets};
use crate::error::{ApiError, Problem};
use crate::ids::UserId;
use crate::problem::ProblemCode;
use crate::trips::partner::{apply_record, Outcome};
use crate::trips::service::{PartnerRecord, TripError, TripRequest, Trips};

/// Records in one request.
pub const MAX_RECORDS: usize = 500;

/// A journey on the partner's network.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartnerTrip {
    /// The partner's own id of the record (1 to 128 visible characters);
    /// sending it again is safe.
    pub record_id: String,
    /// The card used, as the person links it.
    pub card_id: String,
    /// A carbon-calc mode, e.g. `metro`, `bus`, `bike`.
    pub mode: String,
    /// Decimal string; omitted for per-trip modes.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub distance_km: Option<Dec>,
    #[schema(value_type = String, format = DateTime)]
    pub started_at: DateTime<FixedOffset>,
    #[schema(value_type = String, format = DateTime)]
    pub ended_at: DateTime<FixedOffset>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedRequest {
    /// 1 to 500 records.
    pub records: Vec<PartnerTrip>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordOutcome {
    /// It confirmed a trip the card's holder logged.
    Confirmed,
    /// It became a trip of the card's holder (credited, rejected or sent to
    /// review by the usual rules).
    Created,
    /// No one linked this card: nothing was kept.
    UnknownCard,
    /// The record was refused; see `problem`.
    Invalid,
}

/// The answer to one record. Partners learn what happened to their record,
/// not the person's account.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordResult {
    pub index: usize,
    pub record_id: String,
    pub outcome: RecordOutcome,
    /// The record had been applied before: this is what it did then.
    pub replayed: bool,
    /// `credited`, `rejected` or `pending_review`, for confirmed and created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trip_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<Problem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeedResponse {
    pub results: Vec<RecordResult>,
}

/// The `client_trip_id` of the trip a partner's record becomes: a UUID
/// (version 8) from a hash of partner and record id, so the same record
/// always names the same trip.
fn record_trip_id(org_id: &str, record_id: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("partner record\n{org_id}\n{record_id}"));
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes)
        .into_uuid()
        .to_string()
}

fn to_trip(org_id: &str, r: &PartnerTrip) -> Result<TripRequest, ApiError> {
    if r.record_id.is_empty()
        || r.record_id.len() > 128
        || !r.record_id.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(ApiError::Invalid {
            param: "record_id".into(),
            detail: "record_id: 1 to 128 visible ASCII characters".into(),
        });
    }
    Ok(TripRequest {
        // The same record always names the same trip: resending is safe.
        client_trip_id: record_trip_id(org_id, &r.record_id),
        preset: None,
        legs: vec![Leg {
            mode: r.mode.clone(),
            distance_km: r.distance_km,
        }],
        started_at: r.started_at,
        ended_at: r.ended_at,
        trace: None,
        coordinate_system: None,
    })
}

fn record_error(e: TripError) -> ApiError {
    match e {
        TripError::ClientIdReused => ApiError::Conflict {
            code: ProblemCode::RecordIdReused,
            detail: "this record_id was already sent with a different journey or card".into(),
        },
        other => other.into(),
    }
}

pub struct Feed<'a> {
    pub trips: Trips<'a>,
    pub secrets: &'a PartnerSecrets,
}

impl Feed<'_> {
    /// Applies each record of partner `org_id`.
    pub async fn ingest(
        &self,
        org_id: &str,
        records: &[PartnerTrip],
        now: DateTime<FixedOffset>,
    ) -> Result<Vec<RecordResult>, PartnerError> {
        let sealer = self.secrets.enabled()?;
        let mut results = Vec::with_capacity(records.len());
        for (index, r) in records.iter().enumerate() {
            let mut result = RecordResult {
                index,
                record_id: r.record_id.clone(),
                outcome: RecordOutcome::Invalid,
                replayed: false,
                trip_status: None,
                problem: None,
            };
            match self.apply(sealer, org_id, r, now).await {
                Ok(None) => result.outcome = RecordOutcome::UnknownCard,
                Ok(Some(Outcome::Confirmed { trip, replayed, .. })) => {
                    result.outcome = RecordOutcome::Confirmed;
                    result.replayed = replayed;
                    result.trip_status = Some(trip.status.as_str().to_string());
                }
                Ok(Some(Outcome::Created(logged))) => {
                    result.outcome = RecordOutcome::Created;
                    result.replayed = logged.replayed;
                    result.trip_status = Some(logged.trip.status.as_str().to_string());
                }
                Err(e) => result.problem = Some(e.problem()),
            }
            results.push(result);
        }
        Ok(results)
    }

    async fn apply(
        &self,
        sealer: &crate::crypto::SecretBox,
        org_id: &str,
        r: &PartnerTrip,
        now: DateTime<FixedOffset>,
    ) -> Result<Option<Outcome>, ApiError> {
        let req = to_trip(org_id, r)?;
        let Some(user_id) = cards::holder(self.trips.db, sealer, org_id, &r.card_id).await? else {
            return Ok(None);
        };
        let record = PartnerRecord {
            org_id: org_id.to_string(),
            record_id: r.record_id.clone(),
        };
        apply_record(self.trips, &UserId::new(user_id), &record, &req, now)
            .await
            .map(Some)
            .map_err(record_error)
    }
}
