//! Commute reductions: Σ over legs of factor × distance (per-km modes) or
//! factor (per-trip modes), with the preset's factors.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::decimal::{credited_grams, Dec};
use crate::error::{CalcError, CalcResult, ErrorCode};
use crate::methodology::{Catalog, FactorUnit};

/// A commute may have at most this many legs (walk–metro–bus chains are
/// short; long lists are automation).
pub const MAX_LEGS: usize = 10;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CommuteRequest {
    /// Preset id; the catalogue's default (`lanzhou-interim`) when absent.
    #[serde(default)]
    pub preset: Option<String>,
    pub legs: Vec<Leg>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Leg {
    /// A mode of the preset (`metro`, `bus`, `bike`, …).
    pub mode: String,
    /// Kilometres, a decimal string. Required for per-km modes; optional
    /// (and only range-checked) for per-trip modes.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "7.35"))]
    pub distance_km: Option<Dec>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommuteEstimate {
    pub preset: String,
    pub preset_version: u32,
    /// Exact sum of the legs, grams CO2e (decimal string).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub reduction_g: Dec,
    /// `reduction_g` rounded half away from zero (integer string).
    #[serde(serialize_with = "crate::decimal::int_str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub credited_g: i64,
    pub legs: Vec<LegEstimate>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LegEstimate {
    pub mode: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub distance_km: Option<Dec>,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub factor_g: Dec,
    pub unit: FactorUnit,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub reduction_g: Dec,
}

pub fn estimate(catalog: &Catalog, req: &CommuteRequest) -> CalcResult<CommuteEstimate> {
    let preset = catalog.preset(req.preset.as_deref(), "preset")?;
    let bounds = catalog.bounds(&preset.trip_bounds, "preset")?;
    if req.legs.is_empty() {
        return Err(CalcError::new(
            ErrorCode::TooFewItems,
            "legs",
            "at least one leg is required",
        ));
    }
    if req.legs.len() > MAX_LEGS {
        return Err(CalcError::new(
            ErrorCode::TooManyItems,
            "legs",
            format!(
                "at most {MAX_LEGS} legs per commute, got {}",
                req.legs.len()
            ),
        ));
    }
    let mut total = Decimal::ZERO;
    let mut legs = Vec::with_capacity(req.legs.len());
    for (i, leg) in req.legs.iter().enumerate() {
        // Paths are built only when an error needs them (hot on phones).
        let mode_field = || format!("legs[{i}].mode");
        let distance_field = || format!("legs[{i}].distance_km");
        let factor = preset.factor(&leg.mode).ok_or_else(|| {
            CalcError::new(
                ErrorCode::UnknownMode,
                mode_field(),
                format!(
                    "mode \"{}\" is not defined by preset {} (defined: {})",
                    leg.mode,
                    preset.id,
                    preset.mode_names().join(", ")
                ),
            )
        })?;
        // Validation guarantees every preset mode has bounds.
        let limit = bounds
            .mode(&leg.mode)
            .ok_or_else(|| CalcError::new(ErrorCode::UnknownMode, mode_field(), "no bounds"))?
            .max_distance_km
            .0;
        if let Some(d) = leg.distance_km {
            if d.0 < Decimal::ZERO {
                return Err(CalcError::out_of_range(
                    distance_field(),
                    format!("must be at least 0, got {d}"),
                ));
            }
            if d.0 > limit {
                return Err(CalcError::out_of_range(
                    distance_field(),
                    format!(
                        "{} km exceeds the {} limit of {} km ({} v{})",
                        d,
                        leg.mode,
                        limit.normalize(),
                        bounds.id,
                        bounds.version
                    ),
                ));
            }
        }
        let reduction = match factor.unit {
            FactorUnit::GPerKm => {
                let d = leg.distance_km.ok_or_else(|| {
                    CalcError::new(
                        ErrorCode::MissingField,
                        distance_field(),
                        format!("is required for {} (a per-km mode)", leg.mode),
                    )
                })?;
                factor.factor_g.0.checked_mul(d.0).ok_or_else(|| {
                    CalcError::out_of_range(distance_field(), "value too large to compute with")
                })?
            }
            FactorUnit::GPerTrip => factor.factor_g.0,
        };
        total = total
            .checked_add(reduction)
            .ok_or_else(|| CalcError::out_of_range("legs", "total too large"))?;
        legs.push(LegEstimate {
            mode: leg.mode.clone(),
            distance_km: leg.distance_km,
            factor_g: factor.factor_g,
            unit: factor.unit,
            reduction_g: Dec(reduction),
        });
    }
    Ok(CommuteEstimate {
        preset: preset.id.clone(),
        preset_version: preset.version,
        reduction_g: Dec(total),
        credited_g: credited_grams(total, "legs")?,
        legs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse_request;

    fn run(json: &str) -> CalcResult<CommuteEstimate> {
        estimate(Catalog::builtin(), &parse_request(json)?)
    }

    #[test]
    fn issue_example_wuhan_multi_leg() {
        let e = run(r#"{"preset":"wuhan-2024","legs":[{"mode":"metro","distance_km":"7.35"},{"mode":"bus"},{"mode":"bike","distance_km":"1.2"}]}"#).unwrap();
        // 78.4 × 7.35 + 212.5 + 93.3 × 1.2 = 576.24 + 212.5 + 111.96
        assert_eq!(e.reduction_g.to_string(), "900.7");
        assert_eq!(e.credited_g, 901);
        assert_eq!((e.preset.as_str(), e.preset_version), ("wuhan-2024", 1));
        let legs: Vec<String> = e.legs.iter().map(|l| l.reduction_g.to_string()).collect();
        assert_eq!(legs, ["576.24", "212.5", "111.96"]);
    }

    #[test]
    fn default_preset_is_lanzhou_interim() {
        let e = run(r#"{"legs":[{"mode":"bus"}]}"#).unwrap();
        assert_eq!(e.preset, "lanzhou-interim");
        assert_eq!(e.reduction_g.to_string(), "212.5");
        assert_eq!(e.credited_g, 213);
    }

    #[test]
    fn per_trip_factors_count_once_per_leg_whatever_the_distance() {
        let e = run(r#"{"preset":"shanghai-2024","legs":[{"mode":"bus","distance_km":"30"},{"mode":"bus"}]}"#).unwrap();
        assert_eq!(e.reduction_g.to_string(), "844");
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (
                r#"{"preset":"wuhan-2024","legs":[{"mode":"car","distance_km":"3"}]}"#,
                ErrorCode::UnknownMode,
                "legs[0].mode",
            ),
            (
                r#"{"preset":"shenzhen-2022","legs":[{"mode":"bus"}]}"#,
                ErrorCode::UnknownMode,
                "legs[0].mode",
            ),
            (
                r#"{"legs":[{"mode":"bus"},{"mode":"metro"}]}"#,
                ErrorCode::MissingField,
                "legs[1].distance_km",
            ),
            (
                r#"{"legs":[{"mode":"metro","distance_km":"-1"}]}"#,
                ErrorCode::OutOfRange,
                "legs[0].distance_km",
            ),
            (
                r#"{"legs":[{"mode":"bus","distance_km":"-1"}]}"#,
                ErrorCode::OutOfRange,
                "legs[0].distance_km",
            ),
            (
                r#"{"legs":[{"mode":"bike","distance_km":"60.01"}]}"#,
                ErrorCode::OutOfRange,
                "legs[0].distance_km",
            ),
            (r#"{"legs":[]}"#, ErrorCode::TooFewItems, "legs"),
            (
                r#"{"preset":"mars-2099","legs":[{"mode":"bus"}]}"#,
                ErrorCode::UnknownMethodology,
                "preset",
            ),
            (
                r#"{"legs":[{"mode":"metro","distance_km":"abc"}]}"#,
                ErrorCode::InvalidValue,
                "legs[0].distance_km",
            ),
        ];
        for (json, code, field) in cases {
            let e = run(json).unwrap_err();
            assert_eq!((e.code, e.field.as_str()), (code, field), "{json}: {e}");
        }
        let eleven = format!(r#"{{"legs":[{}]}}"#, [r#"{"mode":"bus"}"#; 11].join(","));
        let e = run(&eleven).unwrap_err();
        assert_eq!(
            (e.code, e.field.as_str()),
            (ErrorCode::TooManyItems, "legs")
        );
        let ten = format!(r#"{{"legs":[{}]}}"#, [r#"{"mode":"bus"}"#; 10].join(","));
        assert_eq!(run(&ten).unwrap().credited_g, 2125);
    }

    #[test]
    fn the_limit_itself_is_allowed() {
        let e = run(r#"{"legs":[{"mode":"bike","distance_km":"60"}]}"#).unwrap();
        assert_eq!(e.reduction_g.to_string(), "5598");
    }
}
