//! What is tradeable: instrument classes, their codes, units and the ledger
//! assets they deliver. The registry tags every batch it issues with its
//! instrument; the market, guidance prices, the reserve and pledges work on
//! instruments and never on one kind of right. A new kind of right is a
//! new [`Class`] here, not new matching or settlement.
//!
//! Besides carbon, the Lanzhou plan's other four markets: pollutant
//! discharge (SO2, NOx, COD, NH3-N, in kg), water (clean-water increment
//! indicators and key users' water-saving rights, in m³), energy use (in
//! tce) and land indicators (new cultivated land and construction-land
//! linkage surplus, in mu).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Grams of CO2e in one tonne, the unit of every carbon instrument.
pub const GRAMS_PER_TONNE: i64 = 1_000_000;

/// Ledger minor units in one mu of land: a ten-thousandth of a mu. A mu is
/// 666⅔ m², no whole number of m²; at this grain both a hundredth of a mu
/// (100) and a square metre (15) are whole.
pub const MINOR_PER_MU: i64 = 10_000;

/// A tradeable class of rights.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// Project reductions (efficiency, renewable power, biogas, other).
    #[sea_orm(string_value = "carbon_project")]
    CarbonProject,
    /// Forest carbon sinks.
    #[sea_orm(string_value = "carbon_forest")]
    CarbonForest,
    /// Aggregated personal reductions.
    #[sea_orm(string_value = "carbon_personal")]
    CarbonPersonal,
    /// Sulphur dioxide discharge rights (二氧化硫排污权).
    #[sea_orm(string_value = "so2")]
    So2,
    /// Nitrogen oxides discharge rights (氮氧化物排污权).
    #[sea_orm(string_value = "nox")]
    Nox,
    /// Chemical oxygen demand discharge rights (化学需氧量排污权).
    #[sea_orm(string_value = "cod")]
    Cod,
    /// Ammonia nitrogen discharge rights (氨氮排污权).
    #[sea_orm(string_value = "nh3n")]
    Nh3n,
    /// Clean-water increment responsibility indicators (清水增量责任指标):
    /// verified reclaimed water used in place of fresh water.
    #[sea_orm(string_value = "water_increment")]
    WaterIncrement,
    /// A key water user's water-saving right (用水权): surplus of its
    /// allocation after the year's verified use.
    #[sea_orm(string_value = "water_saving")]
    WaterSaving,
    /// Energy-use rights (用能权) of enterprises using over 5,000 tce a year.
    #[sea_orm(string_value = "energy_use")]
    EnergyUse,
    /// New cultivated-land indicators (新增耕地指标).
    #[sea_orm(string_value = "land_cultivated")]
    LandCultivated,
    /// Urban–rural construction-land linkage surplus indicators
    /// (城乡建设用地增减挂钩节余指标).
    #[sea_orm(string_value = "land_linkage")]
    LandLinkage,
}

impl Class {
    /// The middle of the instrument code: `TPH-<tag>-<vintage>`.
    pub fn tag(self) -> &'static str {
        match self {
            Class::CarbonProject => "PRJ",
            Class::CarbonForest => "FOR",
            Class::CarbonPersonal => "PER",
            Class::So2 => "SO2",
            Class::Nox => "NOX",
            Class::Cod => "COD",
            Class::Nh3n => "NH3N",
            Class::WaterIncrement => "WCI",
            Class::WaterSaving => "WSR",
            Class::EnergyUse => "ENU",
            Class::LandCultivated => "LCI",
            Class::LandLinkage => "LLS",
        }
    }

    /// Every class, carbon first.
    pub const ALL: [Class; 12] = [
        Class::CarbonProject,
        Class::CarbonForest,
        Class::CarbonPersonal,
        Class::So2,
        Class::Nox,
        Class::Cod,
        Class::Nh3n,
        Class::WaterIncrement,
        Class::WaterSaving,
        Class::EnergyUse,
        Class::LandCultivated,
        Class::LandLinkage,
    ];

    pub fn from_tag(tag: &str) -> Option<Class> {
        Class::ALL.into_iter().find(|c| c.tag() == tag)
    }

    /// The unit a quantity is counted in, and the ledger's minor units in
    /// one of it: grams of CO2e in a tonne, grams of a pollutant in a kg,
    /// litres in a m³, kg of coal equivalent in a tce, ten-thousandths of a
    /// mu ([`MINOR_PER_MU`]).
    pub fn unit(self) -> (&'static str, i64) {
        match self {
            Class::CarbonProject | Class::CarbonForest | Class::CarbonPersonal => {
                ("tCO2e", GRAMS_PER_TONNE)
            }
            Class::So2 | Class::Nox | Class::Cod | Class::Nh3n => ("kg", 1_000),
            Class::WaterIncrement | Class::WaterSaving => ("m3", 1_000),
            Class::EnergyUse => ("tce", 1_000),
            Class::LandCultivated | Class::LandLinkage => ("mu", MINOR_PER_MU),
        }
    }

    /// How many steps ("lots") of a market quantity make one unit: the
    /// market counts whole lots inside and shows decimal units outside.
    /// Land indicators trade in hundredths of a mu (0.01 mu, the plan's
    /// step); every other class in whole units. Part of the unit's
    /// definition, not a setting: changing it rescales stored quantities.
    pub fn lots_per_unit(self) -> i64 {
        match self {
            Class::LandCultivated | Class::LandLinkage => 100,
            _ => 1,
        }
    }

    /// Prices of this class are multiples of this many fen per unit: one
    /// fen, and one yuan per mu for land, so that a tick times a step is a
    /// whole fen and every value (price × lots ÷ lots per unit) is exact.
    pub fn tick_fen(self) -> i64 {
        self.lots_per_unit()
    }

    /// Pollutant-discharge rights (SO2, NOx, COD, NH3-N): allocated under
    /// a discharge permit, valid for several years, priced at the Lanzhou
    /// benchmarks.
    pub fn pollutant(self) -> bool {
        matches!(self, Class::So2 | Class::Nox | Class::Cod | Class::Nh3n)
    }

    /// Rights allocated to holders by a department (which may take them
    /// back without payment: claw-back), as opposed to credits issued for
    /// verified reductions and indicators created from verified activity
    /// (reclaimed water used, land restored), which are never taken back.
    pub fn allocated(self) -> bool {
        match self {
            Class::So2
            | Class::Nox
            | Class::Cod
            | Class::Nh3n
            | Class::WaterSaving
            | Class::EnergyUse => true,
            Class::CarbonProject
            | Class::CarbonForest
            | Class::CarbonPersonal
            | Class::WaterIncrement
            | Class::LandCultivated
            | Class::LandLinkage => false,
        }
    }

    /// The bureau whose staff allocate rights of this class and confirm
    /// their verified use; none for carbon, which the service centre
    /// verifies and issues.
    pub fn bureau(self) -> Option<crate::orgs::entity::Bureau> {
        use crate::orgs::entity::Bureau;
        match self {
            Class::CarbonProject | Class::CarbonForest | Class::CarbonPersonal => None,
            Class::So2 | Class::Nox | Class::Cod | Class::Nh3n => Some(Bureau::Ecology),
            Class::WaterIncrement | Class::WaterSaving => Some(Bureau::Water),
            Class::EnergyUse => Some(Bureau::EconomicDevelopment),
            Class::LandCultivated | Class::LandLinkage => Some(Bureau::NaturalResources),
        }
    }

    /// The class of a credit batch: aggregated personal reductions, forest
    /// sinks (afforestation projects) or other project reductions.
    pub fn of_batch(batch_kind: &str, project_kind: Option<&str>) -> Class {
        match (batch_kind, project_kind) {
            ("personal", _) => Class::CarbonPersonal,
            (_, Some("afforestation")) => Class::CarbonForest,
            _ => Class::CarbonProject,
        }
    }
}

/// An instrument code, `TPH-<tag>-<vintage>` (`TPH-FOR-2025`,
/// `TPH-SO2-2026`); for rights the vintage is the year they are for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Code {
    pub class: Class,
    pub vintage: i32,
}

impl Code {
    pub fn new(class: Class, vintage: i32) -> Code {
        Code { class, vintage }
    }

    pub fn parse(text: &str) -> Option<Code> {
        let mut parts = text.split('-');
        let (Some("TPH"), Some(tag), Some(year), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let class = Class::from_tag(tag)?;
        if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(Code {
            class,
            vintage: year.parse().ok()?,
        })
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TPH-{}-{}", self.class.tag(), self.vintage)
    }
}

/// The pattern of instrument codes, for the API's documents.
pub const CODE_PATTERN: &str = "^TPH-(PRJ|FOR|PER|SO2|NOX|COD|NH3N|WCI|WSR|ENU|LCI|LLS)-[0-9]{4}$";

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum TradingStatus {
    /// Open for trading in the market's sessions.
    #[sea_orm(string_value = "listed")]
    Listed,
    /// No orders, picks, block trades or bids until resumed.
    #[sea_orm(string_value = "suspended")]
    Suspended,
}

pub mod instrument {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "instruments")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub code: String,
        pub class: Class,
        pub vintage: i32,
        pub unit: String,
        pub minor_per_unit: i64,
        pub status: TradingStatus,
        /// Fen per unit: set at listing, then each day's close.
        pub reference_price: i64,
        pub last_sequence: i64,
        /// This instrument's smallest block trade, units; `None`: the
        /// market-wide `block_min_units`.
        pub block_min_units: Option<i64>,
        /// This instrument's fee rate per side (a decimal share of the
        /// value); `None`: the market-wide `fee_rate`.
        pub fee_rate: Option<String>,
        pub listed_by: String,
        /// The guidance price in force (its base price, fen per unit), if
        /// one was published: `pricing` sets it at publication, listing
        /// and each daily close.
        pub guidance_price: Option<i64>,
        /// No book order, pick, block trade or auction below this (fen per
        /// unit): the guidance price in force when it is a floor.
        pub floor_price: Option<i64>,
        pub listed_at: DateTimeWithTimeZone,
        pub updated_at: DateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
    impl Model {
        /// How this instrument's quantities and prices are counted.
        pub fn step(&self) -> crate::market::money::Step {
            crate::market::money::Step::of(self.class)
        }

        /// Ledger minor units in one lot of this instrument.
        pub fn minor_per_lot(&self) -> i64 {
            self.step().minor_per_lot(self.minor_per_unit)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_refuse_anything_else() {
        let pattern = regex::Regex::new(CODE_PATTERN).unwrap();
        for (class, tag) in [
            (Class::CarbonProject, "PRJ"),
            (Class::CarbonForest, "FOR"),
            (Class::CarbonPersonal, "PER"),
            (Class::So2, "SO2"),
            (Class::Nh3n, "NH3N"),
            (Class::LandLinkage, "LLS"),
        ] {
            let code = Code::new(class, 2025);
            assert_eq!(code.to_string(), format!("TPH-{tag}-2025"));
            assert_eq!(Code::parse(&code.to_string()), Some(code));
        }
        // Every class's code is one the published pattern accepts, and tags
        // are unique.
        for class in Class::ALL {
            let code = Code::new(class, 2026).to_string();
            assert!(pattern.is_match(&code), "{code}");
            assert_eq!(Class::from_tag(class.tag()), Some(class));
        }
        for bad in [
            "",
            "TPH-FOR",
            "TPH-FOR-25",
            "TPH-XYZ-2025",
            "tph-FOR-2025",
            "TPH-FOR-2025-1",
            "TPH-FOR-２０２５",
        ] {
            assert_eq!(Code::parse(bad), None, "{bad}");
            assert!(!pattern.is_match(bad), "{bad}");
        }
        assert!(pattern.is_match("TPH-PER-2026"));
        for bad in ["TPH-so2-2026", "TPH-NH3-2026", "TPH-SO2-26"] {
            assert_eq!(Code::parse(bad), None, "{bad}");
            assert!(!pattern.is_match(bad), "{bad}");
        }
    }

    #[test]
    fn each_class_counts_in_its_own_unit() {
        assert_eq!(Class::CarbonForest.unit(), ("tCO2e", 1_000_000));
        assert_eq!(Class::Cod.unit(), ("kg", 1_000));
        assert_eq!(Class::WaterIncrement.unit(), ("m3", 1_000));
        assert_eq!(Class::EnergyUse.unit(), ("tce", 1_000));
        // A hundredth of a mu and a square metre are both whole.
        let (unit, minor) = Class::LandCultivated.unit();
        assert_eq!((unit, minor % 100, minor * 3 % 2_000), ("mu", 0, 0));
        // Each right has its bureau; carbon has none.
        use crate::orgs::entity::Bureau;
        assert_eq!(Class::CarbonPersonal.bureau(), None);
        assert_eq!(Class::Nh3n.bureau(), Some(Bureau::Ecology));
        assert_eq!(Class::WaterIncrement.bureau(), Some(Bureau::Water));
        assert_eq!(Class::EnergyUse.bureau(), Some(Bureau::EconomicDevelopment));
        assert_eq!(Class::LandLinkage.bureau(), Some(Bureau::NaturalResources));
        assert!(Class::ALL[3..].iter().all(|c| c.bureau().is_some()));
        // Allocated rights may be clawed back; credits and indicators made
        // from verified activity may not.
        let allocated: Vec<Class> = Class::ALL.into_iter().filter(|c| c.allocated()).collect();
        assert_eq!(
            allocated,
            [
                Class::So2,
                Class::Nox,
                Class::Cod,
                Class::Nh3n,
                Class::WaterSaving,
                Class::EnergyUse
            ]
        );
    }

    #[test]
    fn batches_belong_to_their_class() {
        assert_eq!(Class::of_batch("personal", None), Class::CarbonPersonal);
        assert_eq!(
            Class::of_batch("project", Some("afforestation")),
            Class::CarbonForest
        );
        assert_eq!(
            Class::of_batch("project", Some("biogas")),
            Class::CarbonProject
        );
        assert_eq!(Class::of_batch("project", None), Class::CarbonProject);
    }
}
