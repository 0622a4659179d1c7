//! Trip plausibility, shared by phone and server: is a declared trip's
//! average speed within its mode's bounds, and what does a GPS trace really
//! show. The crate never reads a clock; callers pass every time.

use chrono::{DateTime, FixedOffset};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::decimal::{ensure_range, mul, Dec};
use crate::error::{CalcError, CalcResult, ErrorCode};
use crate::methodology::{Catalog, CommutePreset, TripBounds};

/// Mean Earth radius (IUGG), metres.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;
/// A trace longer than this is refused (over five hours at one fix a second).
pub const MAX_TRACE_POINTS: usize = 20_000;

const MS_PER_HOUR: Decimal = Decimal::from_parts(3_600_000, 0, 0, false, 0);
const MS_PER_S: Decimal = Decimal::from_parts(1_000, 0, 0, false, 0);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TripCheckRequest {
    /// Preset whose bounds table applies; the default preset when absent.
    #[serde(default)]
    pub preset: Option<String>,
    pub mode: String,
    pub distance_km: Dec,
    pub started_at: String,
    pub ended_at: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TripProblem {
    TooSlow,
    TooFast,
    TooFar,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TripCheck {
    pub preset: String,
    pub preset_version: u32,
    pub bounds: String,
    pub bounds_version: u32,
    pub mode: String,
    pub distance_km: Dec,
    pub duration_s: Dec,
    /// Rounded to 0.01 km/h for display; the check uses the exact value.
    pub avg_speed_kmh: Dec,
    pub min_speed_kmh: Dec,
    pub max_speed_kmh: Dec,
    pub max_distance_km: Dec,
    pub within_bounds: bool,
    pub problems: Vec<TripProblem>,
}

fn bounds_for<'a>(
    catalog: &'a Catalog,
    preset: Option<&str>,
) -> CalcResult<(&'a CommutePreset, &'a TripBounds)> {
    let preset = catalog.preset(preset, "preset")?;
    Ok((preset, catalog.bounds(&preset.trip_bounds, "preset")?))
}

fn parse_time(text: &str, field: impl FnOnce() -> String) -> CalcResult<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(text).map_err(|e| {
        CalcError::invalid_value(
            field(),
            format!("\"{text}\" is not an RFC 3339 time such as 2024-05-01T08:30:00+08:00 ({e})"),
        )
    })
}

fn millis_between(start: &DateTime<FixedOffset>, end: &DateTime<FixedOffset>) -> i64 {
    (*end - *start).num_milliseconds()
}

fn round2(v: Decimal) -> Dec {
    Dec(v.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero))
}

pub fn check_trip(catalog: &Catalog, req: &TripCheckRequest) -> CalcResult<TripCheck> {
    let (preset, bounds) = bounds_for(catalog, req.preset.as_deref())?;
    let limits = bounds.mode(&req.mode).ok_or_else(|| {
        CalcError::new(
            ErrorCode::UnknownMode,
            "mode",
            format!(
                "mode \"{}\" has no bounds in {} (defined: {})",
                req.mode,
                bounds.id,
                bounds.mode_names().join(", ")
            ),
        )
    })?;
    ensure_range(
        req.distance_km.0,
        Some((Decimal::ZERO, true)),
        None,
        "distance_km",
    )?;
    let started = parse_time(&req.started_at, || "started_at".into())?;
    let ended = parse_time(&req.ended_at, || "ended_at".into())?;
    let ms = millis_between(&started, &ended);
    if ms <= 0 {
        return Err(CalcError::out_of_range(
            "ended_at",
            "must be later than started_at",
        ));
    }
    let ms = Decimal::from(ms);
    let speed = mul(req.distance_km.0, MS_PER_HOUR, "distance_km")? / ms;
    let mut problems = Vec::new();
    if speed < limits.min_speed_kmh.0 {
        problems.push(TripProblem::TooSlow);
    }
    if speed > limits.max_speed_kmh.0 {
        problems.push(TripProblem::TooFast);
    }
    if req.distance_km.0 > limits.max_distance_km.0 {
        problems.push(TripProblem::TooFar);
    }
    Ok(TripCheck {
        preset: preset.id.clone(),
        preset_version: preset.version,
        bounds: bounds.id.clone(),
        bounds_version: bounds.version,
        mode: req.mode.clone(),
        distance_km: req.distance_km,
        duration_s: Dec(ms / MS_PER_S),
        avg_speed_kmh: round2(speed),
        min_speed_kmh: limits.min_speed_kmh,
        max_speed_kmh: limits.max_speed_kmh,
        max_distance_km: limits.max_distance_km,
        within_bounds: problems.is_empty(),
        problems,
    })
}

/// A whole commute's legs, checked together as the server checks a logged
/// trip (so an app can warn before it uploads).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommuteCheckRequest {
    /// Preset whose bounds table applies; the default preset when absent.
    #[serde(default)]
    pub preset: Option<String>,
    pub legs: Vec<crate::commute::Leg>,
    pub started_at: String,
    pub ended_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommuteCheck {
    pub problems: Vec<TripProblem>,
}

/// A commute of one leg with a distance is checked as [`check_trip`]
/// checks it. With several legs the time of each is unknown, so: each
/// leg's distance against its mode's maximum (`too_far`), and the whole
/// distance over the whole time against the fastest leg's mode
/// (`too_fast`: no commute is faster than its fastest mode all the way).
/// Too slow is not judged (a walk to the metro is slow). Legs without a
/// distance (per-trip modes) are not judged.
pub fn check_commute(catalog: &Catalog, req: &CommuteCheckRequest) -> CalcResult<CommuteCheck> {
    let legs: Vec<(&str, Dec)> = req
        .legs
        .iter()
        .filter_map(|l| Some((l.mode.as_str(), l.distance_km?)))
        .collect();
    let check = |mode: &str, km: Dec| {
        check_trip(
            catalog,
            &TripCheckRequest {
                preset: req.preset.clone(),
                mode: mode.to_string(),
                distance_km: km,
                started_at: req.started_at.clone(),
                ended_at: req.ended_at.clone(),
            },
        )
    };
    if let ([(mode, km)], 1) = (legs.as_slice(), req.legs.len()) {
        return Ok(CommuteCheck {
            problems: check(mode, *km)?.problems,
        });
    }
    let mut problems = Vec::new();
    let mut fastest: Option<(&str, Decimal)> = None;
    for (mode, km) in &legs {
        let c = check(mode, *km)?;
        if c.problems.contains(&TripProblem::TooFar) && !problems.contains(&TripProblem::TooFar) {
            problems.push(TripProblem::TooFar);
        }
        if fastest.is_none_or(|(_, max)| c.max_speed_kmh.0 > max) {
            fastest = Some((mode, c.max_speed_kmh.0));
        }
    }
    if let Some((mode, _)) = fastest {
        let total = Dec(legs.iter().map(|(_, km)| km.0).sum());
        if check(mode, total)?.problems.contains(&TripProblem::TooFast) {
            problems.push(TripProblem::TooFast);
        }
    }
    Ok(CommuteCheck { problems })
}

/// A coordinate in degrees, given as a JSON number or a decimal string
/// (geometry needs floating point; positions are not money).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Degrees(pub f64);

impl<'de> Deserialize<'de> for Degrees {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Degrees;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("degrees as a number or decimal string")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Degrees, E> {
                Ok(Degrees(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Degrees, E> {
                Ok(Degrees(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Degrees, E> {
                Ok(Degrees(v as f64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Degrees, E> {
                use rust_decimal::prelude::ToPrimitive;
                let d = crate::decimal::parse_decimal(v).map_err(E::custom)?;
                d.to_f64()
                    .map(Degrees)
                    .ok_or_else(|| E::custom("not a finite number of degrees"))
            }
        }
        deserializer.deserialize_any(V)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TracePoint {
    /// Latitude in decimal degrees (a number, or a decimal string).
    #[cfg_attr(feature = "openapi", schema(value_type = f64, minimum = -90, maximum = 90))]
    pub lat: Degrees,
    /// Longitude in decimal degrees.
    #[cfg_attr(feature = "openapi", schema(value_type = f64, minimum = -180, maximum = 180))]
    pub lon: Degrees,
    /// RFC 3339 time of the fix.
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub t: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceRequest {
    #[serde(default)]
    pub preset: Option<String>,
    pub trace: Vec<TracePoint>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Teleport {
    /// The jump goes from point `from` to point `from + 1`.
    pub from: usize,
    pub distance_m: Dec,
    pub duration_s: Dec,
    /// Absent when both fixes carry the same time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub speed_kmh: Option<Dec>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TraceMeasure {
    pub bounds: String,
    pub bounds_version: u32,
    pub points: usize,
    /// Haversine length of the trace, teleport segments left out, to the
    /// metre.
    pub distance_km: Dec,
    pub duration_s: Dec,
    /// Fastest segment that is not a teleport, to 0.01 km/h; absent when no
    /// segment has a positive duration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_segment_speed_kmh: Option<Dec>,
    pub teleport_speed_kmh: Dec,
    pub teleport_min_jump_m: Dec,
    pub teleports: Vec<Teleport>,
}

/// Great-circle distance in metres. `libm` keeps the result bit-identical
/// between native code and WebAssembly.
pub fn haversine_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let s1 = libm::sin(dp / 2.0);
    let s2 = libm::sin(dl / 2.0);
    let a = s1 * s1 + libm::cos(p1) * libm::cos(p2) * s2 * s2;
    2.0 * EARTH_RADIUS_M * libm::asin(libm::sqrt(a.min(1.0)))
}

/// A finite float as a decimal rounded half away from zero to `dp` places.
/// Integer arithmetic on IEEE results, so both targets give the same digits
/// (and no float-formatting code ships in the WebAssembly module).
fn float_dec(v: f64, dp: u32) -> Dec {
    let scaled = libm::round(v * 10f64.powi(dp as i32));
    // Distances and speeds here are far below 2^53; saturate rather than wrap.
    Dec(Decimal::new(scaled as i64, dp))
}

pub fn measure_trace(catalog: &Catalog, req: &TraceRequest) -> CalcResult<TraceMeasure> {
    let (_, bounds) = bounds_for(catalog, req.preset.as_deref())?;
    let n = req.trace.len();
    if n < 2 {
        return Err(CalcError::new(
            ErrorCode::TooFewItems,
            "trace",
            "at least two points are needed",
        ));
    }
    if n > MAX_TRACE_POINTS {
        return Err(CalcError::new(
            ErrorCode::TooManyItems,
            "trace",
            format!("at most {MAX_TRACE_POINTS} points, got {n}"),
        ));
    }
    let mut times = Vec::with_capacity(n);
    for (i, p) in req.trace.iter().enumerate() {
        if !(-90.0..=90.0).contains(&p.lat.0) {
            return Err(CalcError::out_of_range(
                format!("trace[{i}].lat"),
                "must be within [-90, 90]",
            ));
        }
        if !(-180.0..=180.0).contains(&p.lon.0) {
            return Err(CalcError::out_of_range(
                format!("trace[{i}].lon"),
                "must be within [-180, 180]",
            ));
        }
        let t = parse_time(&p.t, || format!("trace[{i}].t"))?;
        if let Some(prev) = times.last() {
            if t < *prev {
                return Err(CalcError::out_of_range(
                    format!("trace[{i}].t"),
                    format!(
                        "is earlier than trace[{}].t; points must be in time order",
                        i - 1
                    ),
                ));
            }
        }
        times.push(t);
    }
    use rust_decimal::prelude::ToPrimitive;
    let teleport_kmh = bounds.teleport_speed_kmh.0.to_f64().unwrap_or(f64::MAX);
    let min_jump_m = bounds.teleport_min_jump_m.0.to_f64().unwrap_or(0.0);
    let mut distance_m = 0.0_f64;
    let mut max_kmh: Option<f64> = None;
    let mut teleports = Vec::new();
    for i in 0..n - 1 {
        let (a, b) = (&req.trace[i], &req.trace[i + 1]);
        let meters = haversine_m(a.lat.0, a.lon.0, b.lat.0, b.lon.0);
        let ms = millis_between(&times[i], &times[i + 1]);
        let kmh = (ms > 0).then(|| meters / (ms as f64) * 3_600.0);
        let too_fast = kmh.is_none_or(|v| v > teleport_kmh);
        if meters >= min_jump_m && too_fast {
            teleports.push(Teleport {
                from: i,
                distance_m: float_dec(meters, 1),
                duration_s: Dec(Decimal::from(ms) / MS_PER_S),
                speed_kmh: kmh.map(|v| float_dec(v, 2)),
            });
            continue;
        }
        distance_m += meters;
        if let Some(v) = kmh {
            max_kmh = Some(max_kmh.map_or(v, |m| m.max(v)));
        }
    }
    Ok(TraceMeasure {
        bounds: bounds.id.clone(),
        bounds_version: bounds.version,
        points: n,
        distance_km: float_dec(distance_m / 1_000.0, 3),
        duration_s: Dec(Decimal::from(millis_between(&times[0], &times[n - 1])) / MS_PER_S),
        max_segment_speed_kmh: max_kmh.map(|v| float_dec(v, 2)),
        teleport_speed_kmh: bounds.teleport_speed_kmh,
        teleport_min_jump_m: bounds.teleport_min_jump_m,
        teleports,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse_request;

    fn check(json: &str) -> CalcResult<TripCheck> {
        check_trip(Catalog::builtin(), &parse_request(json)?)
    }

    fn trace(json: &str) -> CalcResult<TraceMeasure> {
        measure_trace(Catalog::builtin(), &parse_request(json)?)
    }

    #[test]
    fn average_speed_within_bounds() {
        let c = check(r#"{"mode":"bike","distance_km":"5","started_at":"2024-05-01T08:00:00+08:00","ended_at":"2024-05-01T08:20:00+08:00"}"#).unwrap();
        assert_eq!(c.avg_speed_kmh.to_string(), "15");
        assert_eq!(c.duration_s.to_string(), "1200");
        assert!(c.within_bounds);
        assert_eq!(
            (c.bounds.as_str(), c.preset.as_str()),
            ("trip-bounds-v1", "lanzhou-interim")
        );
    }

    #[test]
    fn modes_have_different_bounds() {
        // 40 km/h: too fast for a bike, fine for a bus or a metro.
        let at = |mode: &str| {
            check(&format!(r#"{{"mode":"{mode}","distance_km":"20","started_at":"2024-05-01T08:00:00Z","ended_at":"2024-05-01T08:30:00Z"}}"#)).unwrap()
        };
        assert_eq!(at("bike").problems, [TripProblem::TooFast]);
        assert!(at("bus").within_bounds);
        assert!(at("metro").within_bounds);
        assert!(at("car").within_bounds);
        assert_eq!(at("walk").problems, [TripProblem::TooFast]);
        let slow = check(r#"{"mode":"metro","distance_km":"1","started_at":"2024-05-01T08:00:00Z","ended_at":"2024-05-01T10:00:00Z"}"#).unwrap();
        assert_eq!(slow.problems, [TripProblem::TooSlow]);
        let far = check(r#"{"mode":"walk","distance_km":"31","started_at":"2024-05-01T08:00:00Z","ended_at":"2024-05-01T14:00:00Z"}"#).unwrap();
        assert_eq!(far.problems, [TripProblem::TooFar]);
    }

    #[test]
    fn bound_edges_are_inside() {
        // Exactly 35 km/h on a bike.
        let c = check(r#"{"mode":"bike","distance_km":"35","started_at":"2024-05-01T08:00:00Z","ended_at":"2024-05-01T09:00:00Z"}"#).unwrap();
        assert!(c.within_bounds, "{c:?}");
    }

    #[test]
    fn time_zones_and_fractions_are_honoured() {
        let c = check(r#"{"mode":"bike","distance_km":"1","started_at":"2024-05-01T08:00:00+08:00","ended_at":"2024-05-01T00:04:00.5Z"}"#).unwrap();
        assert_eq!(c.duration_s.to_string(), "240.5");
        assert_eq!(c.avg_speed_kmh.to_string(), "14.97");
    }

    #[test]
    fn bad_trip_inputs() {
        let cases = [
            (
                r#"{"mode":"bike","distance_km":"1","started_at":"2024-05-01T08:00:00Z","ended_at":"2024-05-01T08:00:00Z"}"#,
                ErrorCode::OutOfRange,
                "ended_at",
            ),
            (
                r#"{"mode":"bike","distance_km":"1","started_at":"yesterday","ended_at":"2024-05-01T08:00:00Z"}"#,
                ErrorCode::InvalidValue,
                "started_at",
            ),
            (
                r#"{"mode":"bike","distance_km":"1","started_at":"2024-05-01T08:00:00Z","ended_at":"2024-05-01 09:00"}"#,
                ErrorCode::InvalidValue,
                "ended_at",
            ),
            (
                r#"{"mode":"rocket","distance_km":"1","started_at":"2024-05-01T08:00:00Z","ended_at":"2024-05-01T09:00:00Z"}"#,
                ErrorCode::UnknownMode,
                "mode",
            ),
            (
                r#"{"mode":"bike","distance_km":"-1","started_at":"2024-05-01T08:00:00Z","ended_at":"2024-05-01T09:00:00Z"}"#,
                ErrorCode::OutOfRange,
                "distance_km",
            ),
        ];
        for (json, code, field) in cases {
            let e = check(json).unwrap_err();
            assert_eq!((e.code, e.field.as_str()), (code, field), "{json}");
        }
    }

    #[test]
    fn haversine_known_distances() {
        // One degree of latitude on the mean sphere: 2πR/360.
        let one_degree = haversine_m(0.0, 0.0, 1.0, 0.0);
        assert!((one_degree - 111_195.08).abs() < 0.01, "{one_degree}");
        // Lanzhou (36.0611, 103.8343) to Lanzhou New Area Zhongchuan airport
        // (36.5152, 103.6204): about 54 km.
        let d = haversine_m(36.0611, 103.8343, 36.5152, 103.6204);
        assert!((53_000.0..55_000.0).contains(&d), "{d}");
        assert_eq!(haversine_m(10.0, 20.0, 10.0, 20.0), 0.0);
        // Antipodes: half the circumference, a clamped asin argument.
        let half = haversine_m(0.0, 0.0, 0.0, 180.0);
        assert!((half - std::f64::consts::PI * EARTH_RADIUS_M).abs() < 1e-6);
    }

    #[test]
    fn trace_distance_duration_and_teleports() {
        // Three fixes 0.01° of latitude (1.112 km) apart, 4 minutes apart:
        // 16.68 km/h. Then a jump of 1° (111 km) in one minute: a teleport.
        let m = trace(
            r#"{"trace":[
            {"lat":36.00,"lon":103.8,"t":"2024-05-01T08:00:00Z"},
            {"lat":36.01,"lon":103.8,"t":"2024-05-01T08:04:00Z"},
            {"lat":"36.02","lon":"103.8","t":"2024-05-01T08:08:00Z"},
            {"lat":37.02,"lon":103.8,"t":"2024-05-01T08:09:00Z"}]}"#,
        )
        .unwrap();
        assert_eq!(m.points, 4);
        assert_eq!(m.distance_km.to_string(), "2.224");
        assert_eq!(m.duration_s.to_string(), "540");
        assert_eq!(m.max_segment_speed_kmh.unwrap().to_string(), "16.68");
        assert_eq!(m.teleports.len(), 1);
        assert_eq!(m.teleports[0].from, 2);
        assert_eq!(m.teleports[0].distance_m.to_string(), "111195.1");
    }

    #[test]
    fn jitter_is_not_a_teleport_but_a_same_time_jump_is() {
        let m = trace(
            r#"{"trace":[
            {"lat":36.0,"lon":103.8,"t":"2024-05-01T08:00:00Z"},
            {"lat":36.0005,"lon":103.8,"t":"2024-05-01T08:00:00.2Z"},
            {"lat":36.0505,"lon":103.8,"t":"2024-05-01T08:00:00.2Z"}]}"#,
        )
        .unwrap();
        assert_eq!(m.teleports.len(), 1);
        assert_eq!(m.teleports[0].from, 1);
        assert!(m.teleports[0].speed_kmh.is_none());
        assert_eq!(m.distance_km.to_string(), "0.056");
    }

    #[test]
    fn bad_traces() {
        let p = |lat: &str, t: &str| format!(r#"{{"lat":{lat},"lon":103.8,"t":"{t}"}}"#);
        let ok = p("36", "2024-05-01T08:00:00Z");
        let cases = [
            (
                format!(r#"{{"trace":[{ok}]}}"#),
                ErrorCode::TooFewItems,
                "trace".to_string(),
            ),
            (
                format!(r#"{{"trace":[{ok},{}]}}"#, p("91", "2024-05-01T08:01:00Z")),
                ErrorCode::OutOfRange,
                "trace[1].lat".into(),
            ),
            (
                format!(r#"{{"trace":[{ok},{}]}}"#, p("36", "2024-05-01T07:59:00Z")),
                ErrorCode::OutOfRange,
                "trace[1].t".into(),
            ),
            (
                format!(
                    r#"{{"trace":[{ok},{}]}}"#,
                    p("\"north\"", "2024-05-01T08:01:00Z")
                ),
                ErrorCode::InvalidValue,
                "trace[1].lat".into(),
            ),
        ];
        for (json, code, field) in cases {
            let e = trace(&json).unwrap_err();
            assert_eq!((e.code, e.field.as_str()), (code, field.as_str()), "{json}");
        }
        let many = format!(
            r#"{{"trace":[{}]}}"#,
            vec![ok.as_str(); MAX_TRACE_POINTS + 1].join(",")
        );
        assert_eq!(trace(&many).unwrap_err().code, ErrorCode::TooManyItems);
    }
}
