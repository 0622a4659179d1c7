//! Methodologies as versioned data: commute presets, grid emission factors,
//! GWP sets, trip plausibility bounds and the forest-sink methodology. The
//! built-in tables are compiled in from `wasm-calc/methodologies/*.json`;
//! newer tables can be loaded at run time (from the server's
//! `/methodologies`) in the same JSON shape that [`Catalog`] serialises to.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::decimal::Dec;
use crate::error::{CalcError, CalcResult, ErrorCode, WHOLE_REQUEST};

/// How far a figure can be trusted; kept with every table so that a
/// second-hand number is never presented as an official one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reliability {
    Published,
    SecondHand,
    Unverified,
    Interim,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FactorUnit {
    /// Grams of reduction per kilometre travelled.
    GPerKm,
    /// Grams of reduction per trip (leg), whatever its length.
    GPerTrip,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModeFactor {
    pub mode: String,
    pub factor_g: Dec,
    pub unit: FactorUnit,
    pub source: String,
}

/// A published factor for a behaviour other than commuting, shipped so the
/// figures of a scheme stay together; no calculator uses these yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivityFactor {
    pub activity: String,
    pub factor_g: Dec,
    pub unit: String,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommutePreset {
    pub id: String,
    pub version: u32,
    pub title: String,
    pub region: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_from: Option<String>,
    pub reliability: Reliability,
    pub source: String,
    /// Id of the [`TripBounds`] table that limits this preset's trips.
    pub trip_bounds: String,
    pub factors: Vec<ModeFactor>,
    #[serde(default)]
    pub other_factors: Vec<ActivityFactor>,
}

impl CommutePreset {
    pub fn factor(&self, mode: &str) -> Option<&ModeFactor> {
        self.factors.iter().find(|f| f.mode == mode)
    }

    pub fn mode_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.factors.iter().map(|f| f.mode.as_str()).collect();
        names.sort_unstable();
        names
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GridPurpose {
    /// Average emission factor of the grid (displacement by renewables or
    /// savings, product footprints).
    AverageEmissionFactor,
    /// The series prescribed for enterprises' own GHG emission reports.
    EnterpriseGhgReporting,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridTable {
    pub id: String,
    pub version: u32,
    pub region: String,
    pub name: String,
    pub year: u16,
    pub factor_t_per_mwh: Dec,
    pub purpose: GridPurpose,
    pub reliability: Reliability,
    pub source: String,
}

/// Which regional grid the electricity of a place is on: GB/T 2260
/// division-code prefixes (a province's two digits, or four for a
/// prefecture that a province's grid split puts elsewhere) by grid region,
/// the `region` of [`GridTable`]s. The longest matching prefix wins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridRegions {
    pub id: String,
    pub version: u32,
    pub reliability: Reliability,
    pub source: String,
    pub regions: Vec<GridRegion>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridRegion {
    pub region: String,
    pub codes: Vec<String>,
}

impl GridRegions {
    /// The grid region of `division_code`, by the longest prefix listed.
    pub fn region_of(&self, division_code: &str) -> Option<&str> {
        self.regions
            .iter()
            .flat_map(|r| r.codes.iter().map(move |c| (c, r.region.as_str())))
            .filter(|(code, _)| division_code.starts_with(code.as_str()))
            .max_by_key(|(code, _)| code.len())
            .map(|(_, region)| region)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GwpSet {
    pub id: String,
    pub version: u32,
    pub title: String,
    pub horizon_years: u16,
    /// Global warming potential of methane, t CO2e per t CH4.
    pub ch4: Dec,
    pub reliability: Reliability,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModeBounds {
    pub mode: String,
    pub min_speed_kmh: Dec,
    pub max_speed_kmh: Dec,
    pub max_distance_km: Dec,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TripBounds {
    pub id: String,
    pub version: u32,
    pub source: String,
    /// A GPS segment faster than this is a teleport (spoofed or broken fix).
    pub teleport_speed_kmh: Dec,
    /// Shorter jumps are GPS jitter, not teleports, whatever their speed.
    pub teleport_min_jump_m: Dec,
    pub modes: Vec<ModeBounds>,
}

impl TripBounds {
    pub fn mode(&self, mode: &str) -> Option<&ModeBounds> {
        self.modes.iter().find(|m| m.mode == mode)
    }

    pub fn mode_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.modes.iter().map(|m| m.mode.as_str()).collect();
        names.sort_unstable();
        names
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForestMethodology {
    pub id: String,
    pub version: u32,
    pub title: String,
    pub reliability: Reliability,
    pub source: String,
    pub carbon_fraction_default: Dec,
    pub carbon_fraction_source: String,
    pub buffer_fraction_default: Dec,
}

/// Every methodology table the calculators can use. Serialises to the same
/// JSON shape that [`Catalog::load`] accepts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CatalogDocument {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_preset: Option<String>,
    #[serde(default)]
    pub commute_presets: Vec<CommutePreset>,
    #[serde(default)]
    pub grid_factors: Vec<GridTable>,
    #[serde(default)]
    pub grid_regions: Vec<GridRegions>,
    #[serde(default)]
    pub gwp_sets: Vec<GwpSet>,
    #[serde(default)]
    pub trip_bounds: Vec<TripBounds>,
    #[serde(default)]
    pub forest_methodologies: Vec<ForestMethodology>,
}

/// The catalogue the calculators read. Keyed by table id; one version of
/// each id is held at a time (the newest loaded).
#[derive(Debug, Clone, PartialEq)]
pub struct Catalog {
    default_preset: String,
    presets: BTreeMap<String, CommutePreset>,
    grids: BTreeMap<String, GridTable>,
    grid_regions: BTreeMap<String, GridRegions>,
    gwp: BTreeMap<String, GwpSet>,
    bounds: BTreeMap<String, TripBounds>,
    forest: BTreeMap<String, ForestMethodology>,
}

/// What [`Catalog::load`] did with each table it was given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct LoadReport {
    pub added: Vec<TableRef>,
    pub replaced: Vec<TableRef>,
    pub unchanged: Vec<TableRef>,
    /// Tables older than the version already held: kept out, the newer one
    /// stays.
    pub ignored_older: Vec<TableRef>,
    pub default_preset: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableRef {
    pub kind: &'static str,
    pub id: String,
    pub version: u32,
}

const BUILTIN_DOCUMENTS: &[(&str, &str)] = &[
    (
        "trip-bounds-v1.json",
        include_str!("../methodologies/trip-bounds-v1.json"),
    ),
    (
        "commute-wuhan-2024.json",
        include_str!("../methodologies/commute-wuhan-2024.json"),
    ),
    (
        "commute-shanghai-2024.json",
        include_str!("../methodologies/commute-shanghai-2024.json"),
    ),
    (
        "commute-shenzhen-2022.json",
        include_str!("../methodologies/commute-shenzhen-2022.json"),
    ),
    (
        "commute-lanzhou-interim.json",
        include_str!("../methodologies/commute-lanzhou-interim.json"),
    ),
    ("grid.json", include_str!("../methodologies/grid.json")),
    ("gwp.json", include_str!("../methodologies/gwp.json")),
    ("forest.json", include_str!("../methodologies/forest.json")),
    // Last: it names a preset that must already be loaded.
    (
        "defaults.json",
        include_str!("../methodologies/defaults.json"),
    ),
];

/// Table ids: lowercase ASCII letters, digits and hyphens, so they are safe
/// in URLs, serial prefixes and file names.
const MAX_ID_LEN: usize = 64;

trait Table: Clone + PartialEq {
    const KIND: &'static str;
    fn id(&self) -> &str;
    fn version(&self) -> u32;
}

macro_rules! table {
    ($ty:ty, $kind:literal) => {
        impl Table for $ty {
            const KIND: &'static str = $kind;
            fn id(&self) -> &str {
                &self.id
            }
            fn version(&self) -> u32 {
                self.version
            }
        }
    };
}
table!(CommutePreset, "commute_preset");
table!(GridTable, "grid_factors");
table!(GridRegions, "grid_regions");
table!(GwpSet, "gwp_set");
table!(TripBounds, "trip_bounds");
table!(ForestMethodology, "forest_methodology");

impl Catalog {
    /// The tables compiled into this build. Parsed once per process.
    pub fn builtin() -> &'static Catalog {
        static BUILTIN: OnceLock<Catalog> = OnceLock::new();
        BUILTIN.get_or_init(|| {
            let mut catalog = Catalog::empty();
            for (name, text) in BUILTIN_DOCUMENTS {
                if let Err(err) = catalog.load_json(text) {
                    // The built-in files are tested; a failure here is a
                    // broken build, not bad input.
                    panic!("built-in methodology file {name} is invalid: {err}");
                }
            }
            catalog
        })
    }

    /// A catalogue with no tables (the server replays its stored documents
    /// into one).
    pub fn empty() -> Catalog {
        Catalog {
            default_preset: String::new(),
            presets: BTreeMap::new(),
            grids: BTreeMap::new(),
            grid_regions: BTreeMap::new(),
            gwp: BTreeMap::new(),
            bounds: BTreeMap::new(),
            forest: BTreeMap::new(),
        }
    }

    pub fn default_preset_id(&self) -> &str {
        &self.default_preset
    }

    /// The named preset, or the default one when `id` is `None`.
    pub fn preset(&self, id: Option<&str>, field: &str) -> CalcResult<&CommutePreset> {
        let id = id.unwrap_or(&self.default_preset);
        lookup(&self.presets, id, field, "commute preset")
    }

    pub fn grid(&self, id: &str, field: &str) -> CalcResult<&GridTable> {
        lookup(&self.grids, id, field, "grid factor table")
    }

    pub fn grid_regions(&self, id: &str, field: &str) -> CalcResult<&GridRegions> {
        lookup(&self.grid_regions, id, field, "grid region table")
    }

    pub fn gwp(&self, id: &str, field: &str) -> CalcResult<&GwpSet> {
        lookup(&self.gwp, id, field, "GWP set")
    }

    pub fn bounds(&self, id: &str, field: &str) -> CalcResult<&TripBounds> {
        lookup(&self.bounds, id, field, "trip bounds table")
    }

    pub fn forest(&self, id: &str, field: &str) -> CalcResult<&ForestMethodology> {
        lookup(&self.forest, id, field, "forest methodology")
    }

    pub fn document(&self) -> CatalogDocument {
        CatalogDocument {
            default_preset: Some(self.default_preset.clone()),
            commute_presets: self.presets.values().cloned().collect(),
            grid_factors: self.grids.values().cloned().collect(),
            grid_regions: self.grid_regions.values().cloned().collect(),
            gwp_sets: self.gwp.values().cloned().collect(),
            trip_bounds: self.bounds.values().cloned().collect(),
            forest_methodologies: self.forest.values().cloned().collect(),
        }
    }

    /// Loads tables given as JSON in the [`CatalogDocument`] shape.
    ///
    /// Parsed without field-path tracking: table files are edited by people
    /// who get serde's line and column instead, and the path-tracking copy of
    /// every table type's parser would cost WebAssembly size on each phone.
    pub fn load_json(&mut self, json: &str) -> CalcResult<LoadReport> {
        if !crate::json::is_object_text(json) {
            return Err(CalcError::new(
                ErrorCode::InvalidMethodology,
                WHOLE_REQUEST,
                "expected a JSON object of table lists",
            ));
        }
        let doc: CatalogDocument = serde_json::from_str(json).map_err(|e| {
            CalcError::new(ErrorCode::InvalidMethodology, WHOLE_REQUEST, e.to_string())
        })?;
        self.load(doc)
    }

    /// Adds or replaces tables. A table replaces one of the same id only when
    /// its version is higher; the same version must carry the same content
    /// (a published version never changes). All or nothing: on error the
    /// catalogue is unchanged.
    pub fn load(&mut self, doc: CatalogDocument) -> CalcResult<LoadReport> {
        let mut next = self.clone();
        let mut report = LoadReport::default();
        merge(
            &mut next.presets,
            doc.commute_presets,
            "commute_presets",
            &mut report,
        )?;
        merge(
            &mut next.grids,
            doc.grid_factors,
            "grid_factors",
            &mut report,
        )?;
        merge(
            &mut next.grid_regions,
            doc.grid_regions,
            "grid_regions",
            &mut report,
        )?;
        merge(&mut next.gwp, doc.gwp_sets, "gwp_sets", &mut report)?;
        merge(
            &mut next.bounds,
            doc.trip_bounds,
            "trip_bounds",
            &mut report,
        )?;
        merge(
            &mut next.forest,
            doc.forest_methodologies,
            "forest_methodologies",
            &mut report,
        )?;
        if let Some(default) = doc.default_preset {
            next.default_preset = default;
        }
        next.validate()?;
        report.default_preset = next.default_preset.clone();
        *self = next;
        Ok(report)
    }

    /// Cross-table and value checks, run on the whole catalogue after a load.
    fn validate(&self) -> CalcResult<()> {
        let invalid = |field: String, msg: String| {
            Err(CalcError::new(ErrorCode::InvalidMethodology, field, msg))
        };
        if !self.default_preset.is_empty() && !self.presets.contains_key(&self.default_preset) {
            return invalid(
                "default_preset".into(),
                format!(
                    "names preset \"{}\", which is not loaded",
                    self.default_preset
                ),
            );
        }
        for p in self.presets.values() {
            let at = |f: &str| format!("commute_presets[id={}].{f}", p.id);
            let Some(bounds) = self.bounds.get(&p.trip_bounds) else {
                return invalid(
                    at("trip_bounds"),
                    format!(
                        "names bounds table \"{}\", which is not loaded",
                        p.trip_bounds
                    ),
                );
            };
            if p.factors.is_empty() {
                return invalid(at("factors"), "a preset needs at least one mode".into());
            }
            for (i, f) in p.factors.iter().enumerate() {
                if p.factors[..i].iter().any(|g| g.mode == f.mode) {
                    return invalid(at("factors"), format!("mode \"{}\" appears twice", f.mode));
                }
                if f.factor_g.0 <= Decimal::ZERO {
                    return invalid(
                        at("factors"),
                        format!("mode \"{}\" has a factor ≤ 0", f.mode),
                    );
                }
                if bounds.mode(&f.mode).is_none() {
                    return invalid(
                        at("factors"),
                        format!(
                            "mode \"{}\" has no plausibility bounds in \"{}\"",
                            f.mode, bounds.id
                        ),
                    );
                }
            }
        }
        for g in self.grids.values() {
            if g.factor_t_per_mwh.0 <= Decimal::ZERO {
                return invalid(
                    format!("grid_factors[id={}].factor_t_per_mwh", g.id),
                    "must be positive".into(),
                );
            }
        }
        for t in self.grid_regions.values() {
            let at = format!("grid_regions[id={}].regions", t.id);
            let mut codes = std::collections::BTreeSet::new();
            for r in &t.regions {
                if !self.grids.values().any(|g| g.region == r.region) {
                    return invalid(
                        at,
                        format!("region \"{}\" has no grid factor table", r.region),
                    );
                }
                for c in &r.codes {
                    let digits =
                        c.len() >= 2 && c.len() <= 6 && c.bytes().all(|b| b.is_ascii_digit());
                    if !digits || !codes.insert(c.as_str()) {
                        return invalid(
                            at,
                            format!("\"{c}\" is not a division-code prefix of 2 to 6 digits listed once"),
                        );
                    }
                }
            }
        }
        for g in self.gwp.values() {
            if g.ch4.0 <= Decimal::ZERO {
                return invalid(
                    format!("gwp_sets[id={}].ch4", g.id),
                    "must be positive".into(),
                );
            }
        }
        for b in self.bounds.values() {
            let at = |f: &str| format!("trip_bounds[id={}].{f}", b.id);
            if b.teleport_speed_kmh.0 <= Decimal::ZERO || b.teleport_min_jump_m.0 < Decimal::ZERO {
                return invalid(
                    at("teleport_speed_kmh"),
                    "teleport thresholds must be positive".into(),
                );
            }
            for (i, m) in b.modes.iter().enumerate() {
                if b.modes[..i].iter().any(|n| n.mode == m.mode) {
                    return invalid(at("modes"), format!("mode \"{}\" appears twice", m.mode));
                }
                if m.min_speed_kmh.0 < Decimal::ZERO
                    || m.max_speed_kmh.0 <= m.min_speed_kmh.0
                    || m.max_distance_km.0 <= Decimal::ZERO
                {
                    return invalid(
                        at("modes"),
                        format!("mode \"{}\" needs 0 ≤ min speed < max speed and a positive distance limit", m.mode),
                    );
                }
            }
        }
        for f in self.forest.values() {
            let cf = f.carbon_fraction_default.0;
            let buffer = f.buffer_fraction_default.0;
            if cf <= Decimal::ZERO
                || cf > Decimal::ONE
                || buffer < Decimal::ZERO
                || buffer >= Decimal::ONE
            {
                return invalid(
                    format!("forest_methodologies[id={}]", f.id),
                    "carbon fraction must be in (0, 1] and buffer fraction in [0, 1)".into(),
                );
            }
        }
        Ok(())
    }
}

fn lookup<'a, T: Table>(
    tables: &'a BTreeMap<String, T>,
    id: &str,
    field: &str,
    what: &str,
) -> CalcResult<&'a T> {
    tables.get(id).ok_or_else(|| {
        let known: Vec<&str> = tables.keys().map(String::as_str).collect();
        CalcError::new(
            ErrorCode::UnknownMethodology,
            field,
            format!("unknown {what} \"{id}\" (known: {})", known.join(", ")),
        )
    })
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn merge<T: Table>(
    into: &mut BTreeMap<String, T>,
    tables: Vec<T>,
    list: &str,
    report: &mut LoadReport,
) -> CalcResult<()> {
    for (i, table) in tables.into_iter().enumerate() {
        let field = format!("{list}[{i}]");
        if !valid_id(table.id()) {
            return Err(CalcError::new(
                ErrorCode::InvalidMethodology,
                format!("{field}.id"),
                format!(
                    "\"{}\" is not a table id (1–{MAX_ID_LEN} of a-z, 0-9, -)",
                    table.id()
                ),
            ));
        }
        if table.version() == 0 {
            return Err(CalcError::new(
                ErrorCode::InvalidMethodology,
                format!("{field}.version"),
                "versions start at 1",
            ));
        }
        let entry = TableRef {
            kind: T::KIND,
            id: table.id().to_string(),
            version: table.version(),
        };
        match into.get(table.id()) {
            None => {
                report.added.push(entry);
                into.insert(table.id().to_string(), table);
            }
            Some(held) if held.version() < table.version() => {
                report.replaced.push(entry);
                into.insert(table.id().to_string(), table);
            }
            Some(held) if held.version() > table.version() => report.ignored_older.push(entry),
            Some(held) if *held == table => report.unchanged.push(entry),
            Some(_) => {
                return Err(CalcError::new(
                    ErrorCode::InvalidMethodology,
                    field,
                    format!(
                        "{} \"{}\" version {} differs from the loaded table of the same version; publish a new version instead",
                        T::KIND,
                        entry.id,
                        entry.version
                    ),
                ))
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_holds_the_reference_presets_and_tables() {
        let c = Catalog::builtin();
        assert_eq!(c.default_preset_id(), "lanzhou-interim");
        for id in [
            "wuhan-2024",
            "shanghai-2024",
            "shenzhen-2022",
            "lanzhou-interim",
        ] {
            assert!(c.preset(Some(id), "preset").is_ok(), "{id}");
        }
        for id in [
            "national-2021",
            "national-2022",
            "northwest-2022",
            "national-2023",
            "northwest-2023",
        ] {
            assert!(c.grid(id, "grid").is_ok(), "{id}");
        }
        for id in ["sar", "ar4", "ar5"] {
            assert!(c.gwp(id, "gwp").is_ok(), "{id}");
        }
    }

    #[test]
    fn unknown_ids_name_the_field_and_the_known_ids() {
        let err = Catalog::builtin()
            .preset(Some("paris-2030"), "preset")
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::UnknownMethodology);
        assert_eq!(err.field, "preset");
        assert!(err.message.contains("wuhan-2024"), "{}", err.message);
    }

    fn wuhan_v(version: u32, metro: &str) -> String {
        let mut p = Catalog::builtin()
            .preset(Some("wuhan-2024"), "p")
            .unwrap()
            .clone();
        p.version = version;
        p.factors[0].factor_g = metro.parse().unwrap();
        serde_json::to_string(&CatalogDocument {
            commute_presets: vec![p],
            ..Default::default()
        })
        .unwrap()
    }

    #[test]
    fn newer_versions_replace_older_are_ignored_same_must_match() {
        let mut c = Catalog::builtin().clone();
        let report = c.load_json(&wuhan_v(2, "80")).unwrap();
        assert_eq!(report.replaced.len(), 1);
        let p = c.preset(Some("wuhan-2024"), "p").unwrap();
        assert_eq!(
            (p.version, p.factors[0].factor_g.to_string().as_str()),
            (2, "80")
        );

        let report = c.load_json(&wuhan_v(1, "78.4")).unwrap();
        assert_eq!(report.ignored_older.len(), 1);
        assert_eq!(c.preset(Some("wuhan-2024"), "p").unwrap().version, 2);

        assert_eq!(c.load_json(&wuhan_v(2, "80")).unwrap().unchanged.len(), 1);
        let before = c.clone();
        let err = c.load_json(&wuhan_v(2, "81")).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidMethodology);
        assert_eq!(c, before, "a failed load changed the catalogue");
    }

    #[test]
    fn loads_are_validated_as_a_whole() {
        let mut c = Catalog::builtin().clone();
        let before = c.clone();
        let bad = r#"{"default_preset":"nowhere"}"#;
        assert_eq!(c.load_json(bad).unwrap_err().field, "default_preset");
        let bad_bounds = wuhan_v(3, "80").replace("trip-bounds-v1", "trip-bounds-v9");
        let err = c.load_json(&bad_bounds).unwrap_err();
        assert!(err.field.ends_with(".trip_bounds"), "{err}");
        let negative = wuhan_v(3, "-1");
        assert_eq!(
            c.load_json(&negative).unwrap_err().code,
            ErrorCode::InvalidMethodology
        );
        let bad_id = wuhan_v(3, "80").replace("\"wuhan-2024\"", "\"Wuhan 2024\"");
        assert!(c.load_json(&bad_id).unwrap_err().field.ends_with(".id"));
        assert_eq!(c, before);
    }

    #[test]
    fn document_round_trips_through_load() {
        let doc = Catalog::builtin().document();
        let json = serde_json::to_string(&doc).unwrap();
        let mut empty = Catalog::empty();
        let report = empty.load_json(&json).unwrap();
        assert_eq!(&empty, Catalog::builtin());
        assert!(report.replaced.is_empty() && report.ignored_older.is_empty());
    }

    #[test]
    fn every_table_cites_a_source() {
        let doc = Catalog::builtin().document();
        assert!(doc
            .commute_presets
            .iter()
            .all(|p| !p.source.is_empty() && p.factors.iter().all(|f| !f.source.is_empty())));
        assert!(doc.grid_factors.iter().all(|g| !g.source.is_empty()));
        assert!(doc.gwp_sets.iter().all(|g| !g.source.is_empty()));
        assert!(doc.trip_bounds.iter().all(|b| !b.source.is_empty()));
        assert!(doc
            .forest_methodologies
            .iter()
            .all(|f| !f.source.is_empty()));
    }
}
