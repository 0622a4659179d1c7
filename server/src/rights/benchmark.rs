//! The Lanzhou 2015 pollutant benchmarks as the first guidance version of
//! each pollutant instrument: when rights of a pollutant and year are first
//! allocated and the instrument has no guidance price yet, its benchmark
//! (`[rights]`, SO2 and NOx 4.80 yuan/kg, COD and NH3-N 10.00) is
//! published as a floor, with the plan's tiers (Lanzhou New Area
//! enterprises 30 % below, the three counties and Honggu district 20 %
//! below). The benchmark is then what trades may not go under, what the
//! reserve pays and what pledges are valued at; government staff publish
//! later versions as for any instrument.

use chrono::{DateTime, FixedOffset};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter};

use super::rules::RightsRules;
use crate::instruments::{Class, Code};
use crate::market::error::MarketError;
use crate::orgs::entity::OrgKind;
use crate::pricing::entity::guidance;
use crate::pricing::guidance::{check, publish_in, PublishInput};
use crate::pricing::tiers::Tier;

/// The version the rules give `code`, if it is a pollutant's.
pub fn first_version(rules: &RightsRules, code: &Code) -> Option<PublishInput> {
    let price = match code.class {
        Class::So2 => &rules.so2_benchmark,
        Class::Nox => &rules.nox_benchmark,
        Class::Cod => &rules.cod_benchmark,
        Class::Nh3n => &rules.nh3n_benchmark,
        _ => return None,
    };
    let districts = |list: &str| -> Vec<String> {
        list.split(',')
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(str::to_string)
            .collect()
    };
    let mut tiers = Vec::new();
    if rules.new_area_adjustment != Decimal::ZERO {
        tiers.push(Tier {
            name: "兰州新区企业".into(),
            districts: districts(&rules.new_area_districts),
            kinds: vec![OrgKind::Enterprise],
            adjustment: rules.new_area_adjustment,
        });
    }
    if rules.county_adjustment != Decimal::ZERO {
        tiers.push(Tier {
            name: "三县及红古区".into(),
            districts: districts(&rules.county_districts),
            kinds: Vec::new(),
            adjustment: rules.county_adjustment,
        });
    }
    Some(PublishInput {
        instrument: code.to_string(),
        price: price.clone(),
        effective_from: None,
        floor: true,
        tiers,
        reason: "兰州市2015年排污权基准价（首个指导价）".into(),
    })
}

/// Publishes the benchmark of a pollutant instrument that has no guidance
/// version yet, in the allocation's transaction, by its allocator.
pub async fn ensure(
    txn: &DatabaseTransaction,
    rules: &RightsRules,
    code: &Code,
    publisher: &str,
    now: DateTime<FixedOffset>,
) -> Result<(), MarketError> {
    let Some(input) = first_version(rules, code) else {
        return Ok(());
    };
    let any = guidance::Entity::find()
        .filter(guidance::Column::Instrument.eq(code.to_string()))
        .one(txn)
        .await?;
    if any.is_some() {
        return Ok(());
    }
    let checked = check(input, crate::clock::china_date(now))?;
    publish_in(txn, publisher, checked, None, now).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_the_lanzhou_benchmarks_with_their_tiers() {
        let rules = RightsRules::default();
        let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        for (class, price) in [
            (Class::So2, 480),
            (Class::Nox, 480),
            (Class::Cod, 1000),
            (Class::Nh3n, 1000),
        ] {
            let v = first_version(&rules, &Code::new(class, 2026)).unwrap();
            assert!(v.floor);
            assert_eq!(v.tiers.len(), 2);
            assert_eq!(v.tiers[0].adjustment, Decimal::new(-3, 1));
            assert_eq!(v.tiers[0].districts, ["620171"]);
            assert_eq!(
                v.tiers[1].districts,
                ["620121", "620122", "620123", "620111"]
            );
            assert_eq!(check(v, today).unwrap().price, price);
        }
        assert!(first_version(&rules, &Code::new(Class::EnergyUse, 2026)).is_none());
    }
}
