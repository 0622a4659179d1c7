//! Methane destroyed (biogas captured and flared or used): reduction =
//! t CH4 × GWP(CH4) of the chosen IPCC set.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::decimal::{credited_grams, ensure_range, mul, Dec, GRAMS_PER_TONNE};
use crate::error::CalcResult;
use crate::methodology::Catalog;

/// 10 Mt CH4 in one claim is beyond any biogas project.
const MAX_CH4_T: Decimal = Decimal::from_parts(10_000_000, 0, 0, false, 0);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MethaneRequest {
    pub ch4_t: Dec,
    /// GWP set id: `sar`, `ar4` or `ar5`.
    pub gwp: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MethaneEstimate {
    pub gwp: String,
    pub gwp_version: u32,
    pub gwp_ch4: Dec,
    pub ch4_t: Dec,
    pub reduction_t: Dec,
    #[serde(serialize_with = "crate::decimal::int_str")]
    pub credited_g: i64,
}

pub fn estimate(catalog: &Catalog, req: &MethaneRequest) -> CalcResult<MethaneEstimate> {
    let set = catalog.gwp(&req.gwp, "gwp")?;
    ensure_range(
        req.ch4_t.0,
        Some((Decimal::ZERO, true)),
        Some((MAX_CH4_T, true)),
        "ch4_t",
    )?;
    let tonnes = mul(req.ch4_t.0, set.ch4.0, "ch4_t")?;
    Ok(MethaneEstimate {
        gwp: set.id.clone(),
        gwp_version: set.version,
        gwp_ch4: set.ch4,
        ch4_t: req.ch4_t,
        reduction_t: Dec(tonnes),
        credited_g: credited_grams(mul(tonnes, GRAMS_PER_TONNE, "ch4_t")?, "ch4_t")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use crate::json::parse_request;

    fn run(json: &str) -> CalcResult<MethaneEstimate> {
        estimate(Catalog::builtin(), &parse_request(json)?)
    }

    #[test]
    fn gwp_sets_of_reference() {
        for (gwp, t) in [("sar", "258.3"), ("ar4", "307.5"), ("ar5", "344.4")] {
            let e = run(&format!(r#"{{"ch4_t":"12.3","gwp":"{gwp}"}}"#)).unwrap();
            assert_eq!(e.reduction_t.to_string(), t, "{gwp}");
        }
        let e = run(r#"{"ch4_t":"12.3","gwp":"ar5"}"#).unwrap();
        assert_eq!(e.credited_g, 344_400_000);
        assert_eq!(e.gwp_ch4.to_string(), "28");
    }

    #[test]
    fn bad_inputs() {
        let e = run(r#"{"ch4_t":"-0.1","gwp":"ar5"}"#).unwrap_err();
        assert_eq!((e.code, e.field.as_str()), (ErrorCode::OutOfRange, "ch4_t"));
        let e = run(r#"{"ch4_t":"1","gwp":"ar6"}"#).unwrap_err();
        assert_eq!(
            (e.code, e.field.as_str()),
            (ErrorCode::UnknownMethodology, "gwp")
        );
        let e = run(r#"{"ch4_t":"1"}"#).unwrap_err();
        assert_eq!((e.code, e.field.as_str()), (ErrorCode::MissingField, "gwp"));
    }
}
