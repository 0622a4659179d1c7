//! What identifies one journey whoever sends it: a person who copies
//! another's request body (legs, times, GPS trace) to a second account
//! must not be credited twice for one journey.
//!
//! With a trace, the fingerprint is its fixes rounded to about ten metres
//! (four decimal places of a degree) and whole seconds: an exact or lightly
//! edited copy matches, while two phones on the same bus do not (they fix
//! at different seconds and metres; and if they ever did, a reviewer sees
//! both). Without a trace it is the legs and the exact start and end.

use chrono::DateTime;
use sha2::{Digest, Sha256};

use super::service::TripRequest;

/// The journey's fingerprint: `trace:` or `legs:` and a hex SHA-256.
pub fn of(req: &TripRequest) -> String {
    let mut h = Sha256::new();
    let kind = match req.trace.as_deref() {
        Some(points) if !points.is_empty() => {
            for p in points {
                let t = DateTime::parse_from_rfc3339(&p.t)
                    .map(|t| t.timestamp().to_string())
                    .unwrap_or_else(|_| p.t.clone());
                h.update(format!("{:.4},{:.4},{t};", p.lat.0, p.lon.0).as_bytes());
            }
            "trace"
        }
        _ => {
            for leg in &req.legs {
                let km = leg.distance_km.map(|d| d.0.normalize().to_string());
                h.update(format!("{}:{};", leg.mode, km.unwrap_or_default()).as_bytes());
            }
            h.update(
                format!(
                    "{}-{}",
                    req.started_at.timestamp(),
                    req.ended_at.timestamp()
                )
                .as_bytes(),
            );
            "legs"
        }
    };
    format!("{kind}:{}", hex::encode(h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trip(body: serde_json::Value) -> TripRequest {
        serde_json::from_value(body).unwrap()
    }

    fn base() -> serde_json::Value {
        serde_json::json!({
            "client_trip_id": "0b7c3f0e-1b2a-4c1d-9e8f-7a6b5c4d3e2f",
            "legs": [{"mode": "metro", "distance_km": "7.35"}],
            "started_at": "2026-11-20T08:00:00+08:00",
            "ended_at": "2026-11-20T08:30:00+08:00",
            "trace": [
                {"lat": "36.5012345", "lon": "103.6812345", "t": "2026-11-20T08:00:00+08:00"},
                {"lat": "36.5512345", "lon": "103.6812345", "t": "2026-11-20T08:15:00.4+08:00"}
            ]
        })
    }

    #[test]
    fn a_copy_matches_whoever_sends_it() {
        let original = of(&trip(base()));
        assert!(original.starts_with("trace:"));
        // Another client id, the same times written in UTC, a few
        // centimetres of edit: the same journey.
        let mut copy = base();
        copy["client_trip_id"] = serde_json::json!("5f0e8a4c-2d7b-4e1a-8c3f-1a2b3c4d5e6f");
        copy["trace"][0]["t"] = serde_json::json!("2026-11-20T00:00:00Z");
        copy["trace"][1]["lat"] = serde_json::json!("36.5512349");
        assert_eq!(of(&trip(copy)), original);
        // Another fix a few dozen metres away: another journey.
        let mut other = base();
        other["trace"][1]["lat"] = serde_json::json!("36.5519");
        assert_ne!(of(&trip(other)), original);
    }

    #[test]
    fn without_a_trace_the_legs_and_times_decide() {
        let mut a = base();
        a.as_object_mut().unwrap().remove("trace");
        let fa = of(&trip(a.clone()));
        assert!(fa.starts_with("legs:"));
        let mut later = a.clone();
        later["started_at"] = serde_json::json!("2026-11-20T08:01:00+08:00");
        assert_ne!(of(&trip(later)), fa);
        let mut same = a;
        same["legs"][0]["distance_km"] = serde_json::json!("7.350");
        assert_eq!(of(&trip(same)), fa);
    }
}
