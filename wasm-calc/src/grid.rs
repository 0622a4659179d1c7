//! Grid electricity displaced (renewable generation delivered to the grid,
//! or electricity saved): reduction = MWh × grid emission factor.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::decimal::{credited_grams, ensure_range, mul, Dec, GRAMS_PER_TONNE};
use crate::error::CalcResult;
use crate::methodology::{Catalog, GridPurpose};

/// Upper bound on one claim: 100 TWh, more than any single project.
const MAX_MWH: Decimal = Decimal::from_parts(100_000_000, 0, 0, false, 0);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridRequest {
    /// Grid factor table id, e.g. `northwest-2022`.
    pub grid: String,
    pub electricity_mwh: Dec,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GridEstimate {
    pub grid: String,
    pub grid_version: u32,
    pub purpose: GridPurpose,
    pub factor_t_per_mwh: Dec,
    pub electricity_mwh: Dec,
    /// Exact tonnes CO2.
    pub reduction_t: Dec,
    #[serde(serialize_with = "crate::decimal::int_str")]
    pub credited_g: i64,
}

pub fn estimate(catalog: &Catalog, req: &GridRequest) -> CalcResult<GridEstimate> {
    let table = catalog.grid(&req.grid, "grid")?;
    let mwh = req.electricity_mwh.0;
    ensure_range(
        mwh,
        Some((Decimal::ZERO, true)),
        Some((MAX_MWH, true)),
        "electricity_mwh",
    )?;
    let tonnes = mul(mwh, table.factor_t_per_mwh.0, "electricity_mwh")?;
    let grams = mul(tonnes, GRAMS_PER_TONNE, "electricity_mwh")?;
    Ok(GridEstimate {
        grid: table.id.clone(),
        grid_version: table.version,
        purpose: table.purpose,
        factor_t_per_mwh: table.factor_t_per_mwh,
        electricity_mwh: req.electricity_mwh,
        reduction_t: Dec(tonnes),
        credited_g: credited_grams(grams, "electricity_mwh")?,
    })
}

/// The table of regional grids that [`fit`] reads.
pub const REGIONAL_GRIDS: &str = "china-regional-grids";

/// How a grid factor table fits a place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "fit", rename_all = "snake_case")]
pub enum GridFit {
    /// The table is of the place's regional grid.
    Matches,
    /// The place is on `expected`'s grid; `tables` are that grid's tables.
    Differs {
        expected: String,
        tables: Vec<String>,
    },
    /// The catalogue does not know the place's grid (outside the mainland
    /// provinces, or no region table loaded).
    UnknownPlace,
}

/// Whether the grid table `grid` is the one for a project at
/// `division_code` (GB/T 2260): the grid follows from the place, so a
/// project cannot pick the table with the highest factor.
pub fn fit(catalog: &Catalog, grid: &str, division_code: &str) -> CalcResult<GridFit> {
    let table = catalog.grid(grid, "grid")?;
    let Some(expected) = catalog
        .grid_regions(REGIONAL_GRIDS, "region_code")
        .ok()
        .and_then(|t| t.region_of(division_code))
    else {
        return Ok(GridFit::UnknownPlace);
    };
    if table.region == expected {
        return Ok(GridFit::Matches);
    }
    let tables = catalog
        .document()
        .grid_factors
        .into_iter()
        .filter(|g| g.region == expected && g.purpose == GridPurpose::AverageEmissionFactor)
        .map(|g| g.id)
        .collect();
    Ok(GridFit::Differs {
        expected: expected.to_string(),
        tables,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use crate::json::parse_request;

    fn run(json: &str) -> CalcResult<GridEstimate> {
        estimate(Catalog::builtin(), &parse_request(json)?)
    }

    #[test]
    fn the_grid_follows_from_the_place() {
        let c = Catalog::builtin();
        // Lanzhou New Area (Gansu) is on the Northwest grid.
        assert_eq!(
            fit(c, "northwest-2022", "620100").unwrap(),
            GridFit::Matches
        );
        match fit(c, "north-2022", "620100").unwrap() {
            GridFit::Differs { expected, tables } => {
                assert_eq!(expected, "northwest");
                assert!(tables.contains(&"northwest-2022".to_string()), "{tables:?}");
                assert!(!tables.iter().any(|t| t.starts_with("national")));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            fit(c, "national-fossil-2022", "620100").unwrap(),
            GridFit::Differs { .. }
        ));
        // Inner Mongolia is split: Chifeng is on the Northeast grid,
        // Hohhot on the North China grid (longest prefix wins).
        assert_eq!(
            fit(c, "northeast-2022", "150402").unwrap(),
            GridFit::Matches
        );
        assert_eq!(fit(c, "north-2022", "150102").unwrap(), GridFit::Matches);
        assert_eq!(
            fit(c, "south-2022", "810000").unwrap(),
            GridFit::UnknownPlace
        );
        assert!(fit(c, "mars-2022", "620100").is_err());
    }

    #[test]
    fn issue_example_northwest_2022() {
        let e = run(r#"{"grid":"northwest-2022","electricity_mwh":"1234.5"}"#).unwrap();
        // 1234.5 × 0.5857 = 723.04665 t
        assert_eq!(e.reduction_t.to_string(), "723.04665");
        assert_eq!(e.credited_g, 723_046_650);
        assert_eq!(e.grid_version, 1);
    }

    #[test]
    fn published_factors_are_the_tables() {
        for (grid, factor) in [
            ("national-2021", "0.5568"),
            ("national-2022", "0.5366"),
            ("national-excl-market-nonfossil-2022", "0.5856"),
            ("national-fossil-2022", "0.8325"),
            ("north-2022", "0.6776"),
            ("northeast-2022", "0.5564"),
            ("east-2022", "0.5617"),
            ("central-2022", "0.5395"),
            ("northwest-2022", "0.5857"),
            ("south-2022", "0.3869"),
            ("southwest-2022", "0.2268"),
            ("national-2023", "0.5306"),
            ("north-2023", "0.6361"),
            ("northeast-2023", "0.5122"),
            ("east-2023", "0.55"),
            ("central-2023", "0.5271"),
            ("northwest-2023", "0.5543"),
            ("national-reporting-2021", "0.581"),
            ("national-reporting-2022", "0.5703"),
        ] {
            let e = run(&format!(r#"{{"grid":"{grid}","electricity_mwh":"1"}}"#)).unwrap();
            assert_eq!(e.reduction_t.to_string(), factor, "{grid}");
        }
    }

    #[test]
    fn reporting_series_is_labelled_by_purpose() {
        let e = run(r#"{"grid":"national-reporting-2022","electricity_mwh":"1"}"#).unwrap();
        assert_eq!(e.purpose, GridPurpose::EnterpriseGhgReporting);
    }

    #[test]
    fn bad_inputs() {
        let e = run(r#"{"grid":"northwest-2022","electricity_mwh":"-1"}"#).unwrap_err();
        assert_eq!(
            (e.code, e.field.as_str()),
            (ErrorCode::OutOfRange, "electricity_mwh")
        );
        let e = run(r#"{"grid":"northwest-2022","electricity_mwh":"100000001"}"#).unwrap_err();
        assert_eq!(
            (e.code, e.field.as_str()),
            (ErrorCode::OutOfRange, "electricity_mwh")
        );
        let e = run(r#"{"grid":"northwest-2031","electricity_mwh":"1"}"#).unwrap_err();
        assert_eq!(
            (e.code, e.field.as_str()),
            (ErrorCode::UnknownMethodology, "grid")
        );
        let e = run(r#"{"electricity_mwh":"1"}"#).unwrap_err();
        assert_eq!(
            (e.code, e.field.as_str()),
            (ErrorCode::MissingField, "grid")
        );
    }
}
