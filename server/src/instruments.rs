//! What is tradeable: instrument classes, their codes, units and the ledger
//! assets they deliver. The registry tags every batch it issues with its
//! instrument; the market, and later guidance prices, the reserve and
//! pledges, work on instruments and never on one kind of right. A new
//! kind of right is a new [`Class`] here, not new matching or settlement.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Grams of CO2e in one tonne, the unit of every carbon instrument.
pub const GRAMS_PER_TONNE: i64 = 1_000_000;

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
}

impl Class {
    /// The middle of the instrument code: `TPH-<tag>-<vintage>`.
    pub fn tag(self) -> &'static str {
        match self {
            Class::CarbonProject => "PRJ",
            Class::CarbonForest => "FOR",
            Class::CarbonPersonal => "PER",
        }
    }

    pub fn from_tag(tag: &str) -> Option<Class> {
        [
            Class::CarbonProject,
            Class::CarbonForest,
            Class::CarbonPersonal,
        ]
        .into_iter()
        .find(|c| c.tag() == tag)
    }

    /// The unit a quantity is counted in, and the ledger's minor units in
    /// one of it.
    pub fn unit(self) -> (&'static str, i64) {
        match self {
            Class::CarbonProject | Class::CarbonForest | Class::CarbonPersonal => {
                ("tCO2e", GRAMS_PER_TONNE)
            }
        }
    }

    /// Rights allocated to holders by a department (which may take them
    /// back without payment: claw-back), as opposed to credits issued
    /// for verified reductions, which are never taken back.
    pub fn allocated(self) -> bool {
        match self {
            Class::CarbonProject | Class::CarbonForest | Class::CarbonPersonal => false,
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

/// An instrument code, `TPH-<PRJ|FOR|PER>-<vintage>`.
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
pub const CODE_PATTERN: &str = "^TPH-(PRJ|FOR|PER)-[0-9]{4}$";

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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_refuse_anything_else() {
        for (class, tag) in [
            (Class::CarbonProject, "PRJ"),
            (Class::CarbonForest, "FOR"),
            (Class::CarbonPersonal, "PER"),
        ] {
            let code = Code::new(class, 2025);
            assert_eq!(code.to_string(), format!("TPH-{tag}-2025"));
            assert_eq!(Code::parse(&code.to_string()), Some(code));
        }
        let pattern = regex::Regex::new(CODE_PATTERN).unwrap();
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
