//! The numbers of environmental rights as configuration (`[rights]` in the
//! file): how long each family of rights stays valid, when holders
//! surrender for a compliance year, and what converting a free allocation
//! costs (docs/decisions.md, "Other environmental rights").

use std::ops::RangeInclusive;

use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::instruments::Class;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RightsRules {
    /// Years pollutant-discharge rights stay valid, counted from their
    /// year (national guidance: 5 years in principle).
    pub pollutant_validity_years: u32,
    /// Years water rights and clean-water increment indicators stay valid.
    pub water_validity_years: u32,
    /// Years energy-use rights stay valid.
    pub energy_validity_years: u32,
    /// Years land indicators stay valid; 0: they do not lapse.
    pub land_validity_years: u32,
    /// Days after the end of a compliance year (31 December, China time)
    /// by which holders surrender rights covering the year's verified use.
    pub surrender_days: u32,
    /// Days before their last valid day that allocations show as
    /// `expiring` to their holders.
    pub expiry_warning_days: u32,
    /// Share of the applicable guidance price a holder pays the reserve
    /// platform's fund to convert freely allocated pollutant rights (补缴).
    #[serde(with = "rust_decimal::serde::str")]
    pub pollutant_conversion_rate: Decimal,
    /// The same for water-saving rights.
    #[serde(with = "rust_decimal::serde::str")]
    pub water_conversion_rate: Decimal,
    /// The same for energy-use rights.
    #[serde(with = "rust_decimal::serde::str")]
    pub energy_conversion_rate: Decimal,
    /// Yuan per kg: each pollutant's first guidance version, a floor
    /// (`rights::benchmark`; the Lanzhou 2015 benchmarks).
    pub so2_benchmark: String,
    pub nox_benchmark: String,
    pub cod_benchmark: String,
    pub nh3n_benchmark: String,
    /// The benchmark's tier for enterprises of these districts (comma
    /// separated division codes) and its adjustment (`-0.3`: 30 % below).
    pub new_area_districts: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub new_area_adjustment: Decimal,
    /// The tier for any organisation of these districts, and its
    /// adjustment.
    pub county_districts: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub county_adjustment: Decimal,
    /// Most instalments a paid allocation is paid by.
    pub max_instalments: u32,
    /// Days after a paid allocation that its first instalment falls due.
    pub first_instalment_days: u32,
    /// Days between a paid allocation's instalments.
    pub instalment_interval_days: u32,
}

impl Default for RightsRules {
    fn default() -> Self {
        RightsRules {
            pollutant_validity_years: 5,
            water_validity_years: 1,
            energy_validity_years: 1,
            land_validity_years: 0,
            surrender_days: 90,
            expiry_warning_days: 30,
            // 1.0, as the reference spells it.
            pollutant_conversion_rate: Decimal::new(10, 1),
            water_conversion_rate: Decimal::new(10, 1),
            energy_conversion_rate: Decimal::new(10, 1),
            so2_benchmark: "4.80".into(),
            nox_benchmark: "4.80".into(),
            cod_benchmark: "10.00".into(),
            nh3n_benchmark: "10.00".into(),
            new_area_districts: "620171".into(),
            new_area_adjustment: Decimal::new(-3, 1),
            county_districts: "620121,620122,620123,620111".into(),
            county_adjustment: Decimal::new(-2, 1),
            max_instalments: 5,
            first_instalment_days: 30,
            instalment_interval_days: 365,
        }
    }
}

/// The largest conversion rate: three times the guidance price.
const MAX_CONVERSION_RATE: Decimal = Decimal::from_parts(3, 0, 0, false, 0);

impl RightsRules {
    pub fn validate(&self) -> Result<(), String> {
        for (name, years, least) in [
            ("pollutant_validity_years", self.pollutant_validity_years, 1),
            ("water_validity_years", self.water_validity_years, 1),
            ("energy_validity_years", self.energy_validity_years, 1),
            ("land_validity_years", self.land_validity_years, 0),
        ] {
            if !(least..=50).contains(&years) {
                return Err(format!("{name} must be {least} to 50"));
            }
        }
        for (name, n, range) in [
            ("max_instalments", self.max_instalments, 1..=60),
            ("first_instalment_days", self.first_instalment_days, 0..=366),
            (
                "instalment_interval_days",
                self.instalment_interval_days,
                1..=366,
            ),
        ] {
            if !range.contains(&n) {
                return Err(format!(
                    "{name} must be {} to {}",
                    range.start(),
                    range.end()
                ));
            }
        }
        if !(1..=366).contains(&self.surrender_days) {
            return Err("surrender_days must be 1 to 366".into());
        }
        if self.expiry_warning_days > 366 {
            return Err("expiry_warning_days must be 0 to 366".into());
        }
        for (name, rate) in [
            ("pollutant_conversion_rate", self.pollutant_conversion_rate),
            ("water_conversion_rate", self.water_conversion_rate),
            ("energy_conversion_rate", self.energy_conversion_rate),
        ] {
            if rate < Decimal::ZERO || rate > MAX_CONVERSION_RATE || rate.scale() > 8 {
                return Err(format!(
                    "{name} must be 0 to {MAX_CONVERSION_RATE} with at most 8 decimals"
                ));
            }
        }
        for (name, price) in [
            ("so2_benchmark", &self.so2_benchmark),
            ("nox_benchmark", &self.nox_benchmark),
            ("cod_benchmark", &self.cod_benchmark),
            ("nh3n_benchmark", &self.nh3n_benchmark),
        ] {
            crate::market::money::parse_price(price).map_err(|e| format!("{name}: {e}"))?;
        }
        for (name, list) in [
            ("new_area_districts", &self.new_area_districts),
            ("county_districts", &self.county_districts),
        ] {
            let ok = list
                .split(',')
                .map(str::trim)
                .all(|d| matches!(d.len(), 2 | 4 | 6) && d.bytes().all(|b| b.is_ascii_digit()));
            if !ok {
                return Err(format!(
                    "{name} must be comma-separated division codes of 2, 4 or 6 digits"
                ));
            }
        }
        for (name, share) in [
            ("new_area_adjustment", self.new_area_adjustment),
            ("county_adjustment", self.county_adjustment),
        ] {
            if share <= Decimal::NEGATIVE_ONE || share > Decimal::ONE || share.scale() > 8 {
                return Err(format!("{name} must be above -1 and at most 1"));
            }
        }
        Ok(())
    }

    /// Years rights of `class` stay valid; `None`: they do not lapse
    /// (carbon credits, and land indicators unless configured).
    pub fn validity_years(&self, class: Class) -> Option<u32> {
        let years = match class {
            Class::CarbonProject | Class::CarbonForest | Class::CarbonPersonal => 0,
            Class::So2 | Class::Nox | Class::Cod | Class::Nh3n => self.pollutant_validity_years,
            Class::WaterIncrement | Class::WaterSaving => self.water_validity_years,
            Class::EnergyUse => self.energy_validity_years,
            Class::LandCultivated | Class::LandLinkage => self.land_validity_years,
        };
        (years > 0).then_some(years)
    }

    /// The conversion rate of a freely allocated class; `None` for classes
    /// never allocated free of charge.
    pub fn conversion_rate(&self, class: Class) -> Option<Decimal> {
        match class {
            Class::So2 | Class::Nox | Class::Cod | Class::Nh3n => {
                Some(self.pollutant_conversion_rate)
            }
            Class::WaterSaving => Some(self.water_conversion_rate),
            Class::EnergyUse => Some(self.energy_conversion_rate),
            _ => None,
        }
    }

    /// The last day holders surrender for compliance year `year`.
    pub fn surrender_deadline(&self, year: i32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, 12, 31)
            .and_then(|d| d.checked_add_days(Days::new(u64::from(self.surrender_days))))
            .unwrap_or(NaiveDate::MAX)
    }

    /// The last day rights of `class` and year `vintage` are valid: the
    /// surrender deadline of the last compliance year they cover, so that
    /// they may cover that year; `None` when they do not lapse.
    pub fn valid_until(&self, class: Class, vintage: i32) -> Option<NaiveDate> {
        let years = self.validity_years(class)?;
        let last_year = vintage.saturating_add(i32::try_from(years).ok()?) - 1;
        Some(self.surrender_deadline(last_year))
    }

    /// The days `n` instalments of an allocation made on `day` fall due:
    /// the first [`first_instalment_days`](Self::first_instalment_days)
    /// after it, then one every
    /// [`instalment_interval_days`](Self::instalment_interval_days).
    pub fn instalment_days(&self, day: NaiveDate, n: u32) -> Vec<NaiveDate> {
        (0..n)
            .map(|k| {
                let days = u64::from(self.first_instalment_days)
                    + u64::from(k) * u64::from(self.instalment_interval_days);
                day.checked_add_days(Days::new(days))
                    .unwrap_or(NaiveDate::MAX)
            })
            .collect()
    }

    /// The years whose units may cover compliance year `year`: its own and
    /// the earlier ones still valid in it. Only allocated classes owe
    /// compliance and they all lapse (their validity is at least a year,
    /// see [`RightsRules::validate`]); a class that never lapses would be
    /// covered by its own year only.
    pub fn covering_vintages(&self, class: Class, year: i32) -> RangeInclusive<i32> {
        let years = self.validity_years(class).unwrap_or(1);
        let back = i32::try_from(years).unwrap_or(i32::MAX) - 1;
        year.saturating_sub(back)..=year
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_hold_and_out_of_range_numbers_do_not() {
        assert_eq!(RightsRules::default().validate(), Ok(()));
        for bad in [
            RightsRules {
                pollutant_validity_years: 0,
                ..RightsRules::default()
            },
            RightsRules {
                surrender_days: 0,
                ..RightsRules::default()
            },
            RightsRules {
                max_instalments: 0,
                ..RightsRules::default()
            },
            RightsRules {
                instalment_interval_days: 0,
                ..RightsRules::default()
            },
            RightsRules {
                energy_conversion_rate: Decimal::new(-1, 1),
                ..RightsRules::default()
            },
            RightsRules {
                water_conversion_rate: Decimal::new(31, 1),
                ..RightsRules::default()
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn rights_stay_valid_until_the_deadline_of_their_last_year() {
        let r = RightsRules::default();
        // SO2 of 2026, valid 5 years: it may cover 2026 to 2030, whose
        // surrender deadline is 90 days after 31 December 2030.
        assert_eq!(
            r.valid_until(Class::So2, 2026),
            NaiveDate::from_ymd_opt(2031, 3, 31)
        );
        assert_eq!(
            r.valid_until(Class::EnergyUse, 2026),
            NaiveDate::from_ymd_opt(2027, 3, 31)
        );
        assert_eq!(r.valid_until(Class::LandCultivated, 2026), None);
        assert_eq!(r.valid_until(Class::CarbonForest, 2026), None);
        assert_eq!(r.covering_vintages(Class::So2, 2030), 2026..=2030);
        assert_eq!(r.covering_vintages(Class::EnergyUse, 2027), 2027..=2027);
        let day = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        assert_eq!(
            r.instalment_days(day, 3),
            [(2026, 3, 31), (2027, 3, 31), (2028, 3, 30)]
                .map(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).unwrap())
        );
        assert_eq!(
            RightsRules::default().conversion_rate(Class::Cod),
            Some(Decimal::ONE)
        );
        assert_eq!(
            RightsRules::default().conversion_rate(Class::LandLinkage),
            None
        );
    }
}
