//! Tiers of a guidance price: adjustments of the base price by where an
//! organisation is registered and what kind it is (the Lanzhou 2015
//! pollutant benchmark: Lanzhou New Area enterprises 30 % below the base,
//! the three counties and Honggu district 20 % below). Pure: which tier
//! applies and the price it gives.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::market::money::Step;
use crate::orgs::entity::OrgKind;

/// Most tiers one version holds.
pub const MAX_TIERS: usize = 20;
/// Most districts one tier names.
pub const MAX_DISTRICTS: usize = 50;

/// One tier: the organisations it applies to and its adjustment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    /// What the published version calls it.
    #[schema(example = "兰州新区企业")]
    pub name: String,
    /// Administrative division codes (GB/T 2260: 2, 4 or 6 digits) the
    /// organisation's registration falls in, read from its unified social
    /// credit code (characters 3 to 8); `6201` covers all of Lanzhou.
    /// Empty: any district.
    #[serde(default)]
    #[schema(example = json!(["620171"]))]
    pub districts: Vec<String>,
    /// Kinds of organisation it applies to; empty: any kind.
    #[serde(default)]
    pub kinds: Vec<OrgKind>,
    /// The share added to the base price: `-0.3` is 30 % below it.
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String, example = "-0.3")]
    pub adjustment: Decimal,
}

/// What decides an organisation's tier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    /// Six digits: the division its unified social credit code names.
    pub district: String,
    pub kind: OrgKind,
}

impl Party {
    pub fn new(uscc: &str, kind: OrgKind) -> Party {
        Party {
            district: uscc.chars().skip(2).take(6).collect(),
            kind,
        }
    }
}

impl Tier {
    fn applies_to(&self, party: &Party) -> bool {
        (self.districts.is_empty()
            || self
                .districts
                .iter()
                .any(|d| party.district.starts_with(d.as_str())))
            && (self.kinds.is_empty() || self.kinds.contains(&party.kind))
    }

    /// Checked as published (the `i`th tier): a name (trimmed), districts
    /// of 2, 4 or 6 digits, a district or a kind named, an adjustment above
    /// −1 and at most 1 with at most 4 decimals. The error starts with the
    /// field it is about (`tiers[1].adjustment: …`).
    pub fn checked(mut self, i: usize) -> Result<Tier, String> {
        let field = |f: &str, why: String| format!("tiers[{i}].{f}: {why}");
        self.name = crate::text::clean(&self.name, 100, crate::text::Shape::Line)
            .map_err(|e| field("name", e.to_string()))?;
        if self.districts.len() > MAX_DISTRICTS {
            return Err(field("districts", format!("at most {MAX_DISTRICTS}")));
        }
        for d in &self.districts {
            if !matches!(d.len(), 2 | 4 | 6) || !d.bytes().all(|b| b.is_ascii_digit()) {
                return Err(field(
                    "districts",
                    format!("{d:?} is not a division code of 2, 4 or 6 digits"),
                ));
            }
        }
        if self.districts.is_empty() && self.kinds.is_empty() {
            return Err(field(
                "districts",
                "a tier names the districts or the kinds of organisation it is for (the base price is for everyone else)".into(),
            ));
        }
        if self.adjustment <= -Decimal::ONE
            || self.adjustment > Decimal::ONE
            || self.adjustment.scale() > 4
        {
            return Err(field(
                "adjustment",
                "a share above -1 and at most 1, with at most 4 decimals (-0.3 is 30 % below)"
                    .into(),
            ));
        }
        self.adjustment = self.adjustment.normalize();
        Ok(self)
    }
}

/// The tier that applies to `party` (the first that matches, in order),
/// and the price it gives: base × (1 + adjustment), to the instrument's
/// tick (`step`: a fen, a yuan per mu of land) half away from zero, at
/// least one tick.
pub fn applicable<'t>(
    base: i64,
    tiers: &'t [Tier],
    party: &Party,
    step: Step,
) -> (Option<&'t Tier>, i64) {
    match tiers.iter().find(|t| t.applies_to(party)) {
        None => (None, base),
        Some(tier) => (Some(tier), price_of(base, tier, step)),
    }
}

/// The price `tier` gives for a base price of `base` fen.
pub fn price_of(base: i64, tier: &Tier, step: Step) -> i64 {
    step.round_price(Decimal::from(base) * (Decimal::ONE + tier.adjustment))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lanzhou_2015() -> Vec<Tier> {
        vec![
            Tier {
                name: "兰州新区企业".into(),
                districts: vec!["620171".into()],
                kinds: vec![OrgKind::Enterprise],
                adjustment: Decimal::new(-3, 1),
            },
            Tier {
                name: "三县及红古区企业".into(),
                districts: ["620121", "620122", "620123", "620111"]
                    .map(String::from)
                    .to_vec(),
                kinds: vec![],
                adjustment: Decimal::new(-2, 1),
            },
        ]
    }

    #[test]
    fn the_first_matching_tier_sets_the_price() {
        let tiers = lanzhou_2015();
        // SO2 at ¥4.80/kg: 480 fen.
        let cases = [
            (
                "91620171MA7XXXXXXX",
                OrgKind::Enterprise,
                Some("兰州新区企业"),
                336,
            ),
            // The New Area's tier is for enterprises only.
            ("91620171MA7XXXXXXX", OrgKind::Bank, None, 480),
            (
                "91620122MA7XXXXXXX",
                OrgKind::Enterprise,
                Some("三县及红古区企业"),
                384,
            ),
            (
                "91620111MA7XXXXXXX",
                OrgKind::ReservePlatform,
                Some("三县及红古区企业"),
                384,
            ),
            ("91620102MA7XXXXXXX", OrgKind::Enterprise, None, 480),
        ];
        for (uscc, kind, tier, price) in cases {
            let (t, p) = applicable(480, &tiers, &Party::new(uscc, kind), Step::UNIT);
            assert_eq!(
                (t.map(|t| t.name.as_str()), p),
                (tier, price),
                "{uscc} {kind:?}"
            );
        }
        // Shorter codes cover what they contain: 6201 is all of Lanzhou.
        let city = [Tier {
            name: "兰州市".into(),
            districts: vec!["6201".into()],
            kinds: vec![],
            adjustment: Decimal::new(1, 1),
        }];
        assert_eq!(
            applicable(
                480,
                &city,
                &Party::new("91620171MA7XXXXXXX", OrgKind::Enterprise),
                Step::UNIT
            )
            .1,
            528
        );
        assert_eq!(
            applicable(
                480,
                &city,
                &Party::new("91510100MA7XXXXXXX", OrgKind::Enterprise),
                Step::UNIT
            )
            .1,
            480
        );
    }

    #[test]
    fn prices_round_half_away_from_zero_and_stay_above_zero() {
        let tier = |adjustment: Decimal| {
            [Tier {
                name: "t".into(),
                districts: vec![],
                kinds: vec![OrgKind::Enterprise],
                adjustment,
            }]
        };
        let party = Party::new("91620171MA7XXXXXXX", OrgKind::Enterprise);
        // 333 × 0.85 = 283.05 → 283; 335 × 0.9 = 301.5 → 302.
        assert_eq!(
            applicable(333, &tier(Decimal::new(-15, 2)), &party, Step::UNIT).1,
            283
        );
        assert_eq!(
            applicable(335, &tier(Decimal::new(-1, 1)), &party, Step::UNIT).1,
            302
        );
        assert_eq!(
            applicable(1, &tier(Decimal::new(-9999, 4)), &party, Step::UNIT).1,
            1
        );
        // Land's tick is a yuan a mu: 35,000.00 × 0.7 = 24,500.00, and
        // 33,333.00 × 0.7 = 23,333.10 → 23,333.00.
        let land = Step::of(crate::instruments::Class::LandLinkage);
        assert_eq!(
            applicable(3_500_000, &tier(Decimal::new(-3, 1)), &party, land).1,
            2_450_000
        );
        assert_eq!(
            applicable(3_333_300, &tier(Decimal::new(-3, 1)), &party, land).1,
            2_333_300
        );
    }

    #[test]
    fn tiers_are_checked_and_the_field_named() {
        for t in lanzhou_2015() {
            assert_eq!(t.clone().checked(0), Ok(t));
        }
        let mut spaced = lanzhou_2015().remove(0);
        spaced.name = " 兰州新区企业 ".into();
        assert_eq!(spaced.checked(0).unwrap().name, "兰州新区企业");
        let bad = |f: fn(&mut Tier)| {
            let mut t = lanzhou_2015().remove(0);
            f(&mut t);
            let e = t.checked(1).unwrap_err();
            e[..e.find(':').unwrap()].to_string()
        };
        assert_eq!(bad(|t| t.name = " ".into()), "tiers[1].name");
        assert_eq!(
            bad(|t| t.districts = vec!["62017".into()]),
            "tiers[1].districts"
        );
        assert_eq!(
            bad(|t| t.districts = vec!["62o171".into()]),
            "tiers[1].districts"
        );
        assert_eq!(
            bad(|t| {
                t.districts.clear();
                t.kinds.clear()
            }),
            "tiers[1].districts"
        );
        assert_eq!(bad(|t| t.adjustment = -Decimal::ONE), "tiers[1].adjustment");
        assert_eq!(
            bad(|t| t.adjustment = Decimal::new(11, 1)),
            "tiers[1].adjustment"
        );
        assert_eq!(
            bad(|t| t.adjustment = Decimal::new(-12345, 5)),
            "tiers[1].adjustment"
        );
    }
}
