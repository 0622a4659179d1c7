//! Afforestation sink between two inventories (CCER-14-001-V01; IPCC 2006
//! Vol 4 Eq 2.8): ΔCO2 = A × ΔV × SVD × BEF × (1 + R) × CF × 44/12, less a
//! buffer share held back against reversals.
//!
//! Rounding, chosen so that grams are conserved when the registry splits an
//! issuance between the holder and the buffer pool:
//! - gross grams = the exact stock change rounded half away from zero;
//! - buffer grams = gross grams × buffer fraction rounded *up* (the pool is
//!   never short);
//! - credited grams = gross − buffer, so gross = buffer + credited exactly.
//!
//! The tonne fields are those gram integers divided by 10^6, hence exact.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::decimal::{credited_grams, ensure_range, mul, Dec, GRAMS_PER_TONNE};
use crate::error::{CalcError, CalcResult};
use crate::methodology::Catalog;

pub const DEFAULT_METHODOLOGY: &str = "ccer-14-001-v01";

/// Molecular mass ratio CO2 : C.
const CO2_PER_C_NUM: Decimal = Decimal::from_parts(44, 0, 0, false, 0);
const CO2_PER_C_DEN: Decimal = Decimal::from_parts(12, 0, 0, false, 0);

fn d(n: i64, scale: u32) -> Decimal {
    Decimal::new(n, scale)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForestRequest {
    #[serde(default)]
    pub methodology: Option<String>,
    pub area_ha: Dec,
    pub volume_m3_per_ha_start: Dec,
    pub volume_m3_per_ha_end: Dec,
    /// Basic wood density SVD, t dry matter per m³.
    pub wood_density: Dec,
    /// Biomass expansion factor (stem to above-ground biomass).
    pub bef: Dec,
    pub root_shoot_ratio: Dec,
    /// Carbon fraction of dry matter; the methodology default when absent.
    #[serde(default)]
    pub carbon_fraction: Option<Dec>,
    /// Share held back in the buffer pool; the methodology default (0) when
    /// absent.
    #[serde(default)]
    pub buffer_fraction: Option<Dec>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForestEstimate {
    pub methodology: String,
    pub methodology_version: u32,
    pub carbon_fraction: Dec,
    pub buffer_fraction: Dec,
    pub gross_t: Dec,
    pub buffer_t: Dec,
    pub reduction_t: Dec,
    #[serde(serialize_with = "crate::decimal::int_str")]
    pub gross_g: i64,
    #[serde(serialize_with = "crate::decimal::int_str")]
    pub buffer_g: i64,
    #[serde(serialize_with = "crate::decimal::int_str")]
    pub credited_g: i64,
}

/// The buffer share of `gross_g` grams, rounded up so the pool is never
/// short (the registry applies this to verified quantities too).
pub fn buffer_grams(gross_g: i64, fraction: Decimal) -> CalcResult<i64> {
    mul(Decimal::from(gross_g), fraction, "buffer_fraction")?
        .round_dp_with_strategy(0, RoundingStrategy::AwayFromZero)
        .to_i64()
        .ok_or_else(|| {
            CalcError::out_of_range("buffer_fraction", "buffer does not fit in 64-bit grams")
        })
}

pub fn estimate(catalog: &Catalog, req: &ForestRequest) -> CalcResult<ForestEstimate> {
    let method = catalog.forest(
        req.methodology.as_deref().unwrap_or(DEFAULT_METHODOLOGY),
        "methodology",
    )?;
    let cf = req
        .carbon_fraction
        .unwrap_or(method.carbon_fraction_default);
    let buffer = req
        .buffer_fraction
        .unwrap_or(method.buffer_fraction_default);

    // Plausibility ranges of the inputs: wide enough for any real stand,
    // narrow enough to catch unit mistakes (m² for ha, kg for t).
    let incl = |v: Decimal| Some((v, true));
    let excl = |v: Decimal| Some((v, false));
    ensure_range(
        req.area_ha.0,
        excl(Decimal::ZERO),
        incl(d(10_000_000, 0)),
        "area_ha",
    )?;
    let vol_max = incl(d(5_000, 0));
    ensure_range(
        req.volume_m3_per_ha_start.0,
        incl(Decimal::ZERO),
        vol_max,
        "volume_m3_per_ha_start",
    )?;
    ensure_range(
        req.volume_m3_per_ha_end.0,
        incl(Decimal::ZERO),
        vol_max,
        "volume_m3_per_ha_end",
    )?;
    ensure_range(
        req.wood_density.0,
        excl(Decimal::ZERO),
        incl(d(2, 0)),
        "wood_density",
    )?;
    ensure_range(req.bef.0, incl(Decimal::ONE), incl(d(10, 0)), "bef")?;
    ensure_range(
        req.root_shoot_ratio.0,
        incl(Decimal::ZERO),
        incl(d(5, 0)),
        "root_shoot_ratio",
    )?;
    ensure_range(
        cf.0,
        excl(Decimal::ZERO),
        incl(Decimal::ONE),
        "carbon_fraction",
    )?;
    ensure_range(
        buffer.0,
        incl(Decimal::ZERO),
        excl(Decimal::ONE),
        "buffer_fraction",
    )?;

    let delta_v = req.volume_m3_per_ha_end.0 - req.volume_m3_per_ha_start.0;
    if delta_v < Decimal::ZERO {
        return Err(CalcError::out_of_range(
            "volume_m3_per_ha_end",
            "is below volume_m3_per_ha_start: a stock loss is a reversal, not a sink",
        ));
    }

    let f = "area_ha";
    let mut carbon = mul(req.area_ha.0, delta_v, f)?;
    for factor in [
        req.wood_density.0,
        req.bef.0,
        Decimal::ONE + req.root_shoot_ratio.0,
        cf.0,
    ] {
        carbon = mul(carbon, factor, f)?;
    }
    // Multiply before dividing by 12 so the only inexact step is the last.
    let gross_exact_g = mul(mul(carbon, CO2_PER_C_NUM, f)?, GRAMS_PER_TONNE, f)?
        .checked_div(CO2_PER_C_DEN)
        .ok_or_else(|| CalcError::out_of_range(f, "value too large to compute with"))?;
    let gross_g = credited_grams(gross_exact_g, f)?;
    let buffer_g = buffer_grams(gross_g, buffer.0)?;
    let credited_g = gross_g - buffer_g;
    let tonnes = |g: i64| Dec(Decimal::from(g) / GRAMS_PER_TONNE);
    Ok(ForestEstimate {
        methodology: method.id.clone(),
        methodology_version: method.version,
        carbon_fraction: cf,
        buffer_fraction: buffer,
        gross_t: tonnes(gross_g),
        buffer_t: tonnes(buffer_g),
        reduction_t: tonnes(credited_g),
        gross_g,
        buffer_g,
        credited_g,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use crate::json::parse_request;

    fn run(json: &str) -> CalcResult<ForestEstimate> {
        estimate(Catalog::builtin(), &parse_request(json)?)
    }

    const BASE: &str = r#""area_ha":"100","volume_m3_per_ha_start":"20","volume_m3_per_ha_end":"50","wood_density":"0.5","bef":"1.5","root_shoot_ratio":"0.25""#;

    #[test]
    fn formula_by_hand() {
        // C = 100 × 30 × 0.5 × 1.5 × 1.25 × 0.5 = 1406.25 t C
        // CO2 = 1406.25 × 44 / 12 = 5156.25 t
        let e = run(&format!(
            r#"{{{BASE},"carbon_fraction":"0.5","buffer_fraction":"0.2"}}"#
        ))
        .unwrap();
        assert_eq!(e.gross_t.to_string(), "5156.25");
        assert_eq!(e.buffer_t.to_string(), "1031.25");
        assert_eq!(e.reduction_t.to_string(), "4125");
        assert_eq!(e.credited_g, 4_125_000_000);
        assert_eq!(e.gross_g, e.buffer_g + e.credited_g);
    }

    #[test]
    fn defaults_come_from_the_methodology() {
        // CF 0.47: 1406.25 × 0.94 = 1321.875 t C → × 44/12 = 4846.875 t
        let e = run(&format!("{{{BASE}}}")).unwrap();
        assert_eq!(e.carbon_fraction.to_string(), "0.47");
        assert_eq!(e.buffer_fraction.to_string(), "0");
        assert_eq!(e.gross_t.to_string(), "4846.875");
        assert_eq!(e.reduction_t.to_string(), "4846.875");
        assert_eq!(
            (e.methodology.as_str(), e.methodology_version),
            ("ccer-14-001-v01", 1)
        );
    }

    #[test]
    fn inexact_thirds_round_half_away_and_buffer_rounds_up() {
        // 1 × 1 × 1 × 1 × 1 × 0.5 × 44/12 = 1.8333… t = 1 833 333.33 g
        let e = run(r#"{"area_ha":"1","volume_m3_per_ha_start":"0","volume_m3_per_ha_end":"1","wood_density":"1","bef":"1","root_shoot_ratio":"0","carbon_fraction":"0.5","buffer_fraction":"0.1"}"#).unwrap();
        assert_eq!(e.gross_g, 1_833_333);
        assert_eq!(e.buffer_g, 183_334);
        assert_eq!(e.credited_g, 1_649_999);
        assert_eq!(e.gross_t.to_string(), "1.833333");
    }

    #[test]
    fn bad_inputs_name_the_field() {
        let cases = [
            (r#""area_ha":"0""#, "area_ha"),
            (r#""wood_density":"0""#, "wood_density"),
            (r#""bef":"0.9""#, "bef"),
            (r#""root_shoot_ratio":"-0.1""#, "root_shoot_ratio"),
            (r#""carbon_fraction":"1.1""#, "carbon_fraction"),
            (r#""buffer_fraction":"1""#, "buffer_fraction"),
            (r#""volume_m3_per_ha_end":"10""#, "volume_m3_per_ha_end"),
            (r#""volume_m3_per_ha_start":"-1""#, "volume_m3_per_ha_start"),
        ];
        for (override_, field) in cases {
            let key = override_.split(':').next().unwrap();
            let base: Vec<&str> = BASE.split(',').filter(|kv| !kv.starts_with(key)).collect();
            let json = format!("{{{},{override_}}}", base.join(","));
            let e = run(&json).unwrap_err();
            assert_eq!(
                (e.code, e.field.as_str()),
                (ErrorCode::OutOfRange, field),
                "{json}"
            );
        }
        let e = run(r#"{"area_ha":"1"}"#).unwrap_err();
        assert_eq!(
            (e.code, e.field.as_str()),
            (ErrorCode::MissingField, "volume_m3_per_ha_start")
        );
        let e = run(&format!(r#"{{{BASE},"methodology":"vm0047"}}"#)).unwrap_err();
        assert_eq!(e.code, ErrorCode::UnknownMethodology);
    }
}
