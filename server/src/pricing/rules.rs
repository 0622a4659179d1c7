//! Guidance prices' policy as configuration (`[pricing]` in the file):
//! the monthly review (Guangdong's three-month average, moved at most
//! ±20 %) and the price corridor (RGGI-style triggers), with the issue's
//! numbers as defaults.

use rust_decimal::Decimal;
use serde::Deserialize;

use super::adjustment::Limits;
use super::corridor::Corridor;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PricingRules {
    /// Calendar months between reviews of each guidance price (1:
    /// monthly, on the first day of the month, China time).
    pub review_every_months: u32,
    /// Calendar months of trades a review averages (the previous 3).
    pub review_window_months: u32,
    /// Largest move a review proposes, a share of the current price.
    #[serde(with = "rust_decimal::serde::str")]
    pub max_move: Decimal,
    /// Fewer units traded in the window than this: the review proposes no
    /// change.
    pub min_volume_units: i64,
    /// Publish a review's proposal at once instead of waiting for
    /// government staff.
    pub auto_publish: bool,
    /// The upper trigger, a multiple of the guidance price.
    #[serde(with = "rust_decimal::serde::str")]
    pub upper_trigger: Decimal,
    /// The lower trigger, a multiple of the guidance price.
    #[serde(with = "rust_decimal::serde::str")]
    pub lower_trigger: Decimal,
    /// Consecutive trading days of closes beyond a trigger that fire it.
    pub trigger_days: u32,
    /// Yearly rise of the trigger prices, a share, counted in whole years
    /// since the guidance price took effect.
    #[serde(with = "rust_decimal::serde::str")]
    pub trigger_yearly_rise: Decimal,
    /// Most units a release (upper trigger) offers from the reserve's
    /// stock.
    pub release_units: i64,
    /// Hours a release auction takes bids, from its execution.
    pub release_auction_hours: u32,
    /// Most units a support bid (lower trigger) buys.
    pub support_units: i64,
    /// The reserve's leases: the yearly fee, a share of the leased units'
    /// guidance value, paid when the lease starts.
    #[serde(with = "rust_decimal::serde::str")]
    pub lease_fee_rate: Decimal,
    /// The deposit held from the lessee, a share of the guidance value.
    #[serde(with = "rust_decimal::serde::str")]
    pub lease_deposit_rate: Decimal,
    /// The longest lease, days.
    pub lease_max_days: u32,
    /// The email or mobile number of a reserve platform's staff member on
    /// whose standing instruction the background loop executes open
    /// stabilisation actions; empty: staff execute them.
    pub auto_execute_as: String,
}

impl Default for PricingRules {
    fn default() -> Self {
        PricingRules {
            review_every_months: 1,
            review_window_months: 3,
            max_move: Decimal::new(2, 1),
            min_volume_units: 1_000,
            auto_publish: false,
            upper_trigger: Decimal::new(13, 1),
            lower_trigger: Decimal::new(7, 1),
            trigger_days: 3,
            trigger_yearly_rise: Decimal::ZERO,
            release_units: 10_000,
            release_auction_hours: 24,
            support_units: 10_000,
            lease_fee_rate: Decimal::new(3, 2),
            lease_deposit_rate: Decimal::ONE,
            lease_max_days: 1_095,
            auto_execute_as: String::new(),
        }
    }
}

impl PricingRules {
    pub fn validate(&self) -> Result<(), String> {
        let months = |name: &str, n: u32| {
            if (1..=24).contains(&n) {
                Ok(())
            } else {
                Err(format!("{name} must be 1 to 24 months"))
            }
        };
        months("review_every_months", self.review_every_months)?;
        months("review_window_months", self.review_window_months)?;
        if !(Decimal::ZERO..Decimal::ONE).contains(&self.max_move) {
            return Err("max_move must be a share from 0 to under 1".into());
        }
        if !(0..=crate::market::money::MAX_UNITS).contains(&self.min_volume_units) {
            return Err(format!(
                "min_volume_units must be 0 to {}",
                crate::market::money::MAX_UNITS
            ));
        }
        if self.upper_trigger <= Decimal::ONE || self.upper_trigger > Decimal::TEN {
            return Err("upper_trigger must be above 1 and at most 10".into());
        }
        if self.lower_trigger <= Decimal::ZERO || self.lower_trigger >= Decimal::ONE {
            return Err("lower_trigger must be above 0 and below 1".into());
        }
        if !(1..=60).contains(&self.trigger_days) {
            return Err("trigger_days must be 1 to 60".into());
        }
        if !(Decimal::ZERO..=Decimal::ONE).contains(&self.trigger_yearly_rise) {
            return Err("trigger_yearly_rise must be a share from 0 to 1".into());
        }
        for (name, units) in [
            ("release_units", self.release_units),
            ("support_units", self.support_units),
        ] {
            if !(1..=crate::market::money::MAX_UNITS).contains(&units) {
                return Err(format!(
                    "{name} must be 1 to {}",
                    crate::market::money::MAX_UNITS
                ));
            }
        }
        if !(1..=24 * 30).contains(&self.release_auction_hours) {
            return Err("release_auction_hours must be 1 to 720".into());
        }
        if !(Decimal::ZERO..=Decimal::ONE).contains(&self.lease_fee_rate) {
            return Err("lease_fee_rate must be a share from 0 to 1".into());
        }
        if self.lease_deposit_rate < Decimal::ONE || self.lease_deposit_rate > Decimal::from(5) {
            return Err(
                "lease_deposit_rate must be 1 to 5 (the deposit covers the units at least)".into(),
            );
        }
        if !(1..=3_650).contains(&self.lease_max_days) {
            return Err("lease_max_days must be 1 to 3650".into());
        }
        Ok(())
    }

    pub fn limits(&self) -> Limits {
        Limits {
            max_move: self.max_move,
            min_volume: self.min_volume_units,
        }
    }

    pub fn corridor(&self) -> Corridor {
        Corridor {
            upper: self.upper_trigger,
            lower: self.lower_trigger,
            days: self.trigger_days,
            yearly_rise: self.trigger_yearly_rise,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid_and_bad_values_are_named() {
        assert_eq!(PricingRules::default().validate(), Ok(()));
        let bad = |f: fn(&mut PricingRules), name: &str| {
            let mut r = PricingRules::default();
            f(&mut r);
            let e = r.validate().unwrap_err();
            assert!(e.starts_with(name), "{e}");
        };
        bad(|r| r.review_every_months = 0, "review_every_months");
        bad(|r| r.review_window_months = 25, "review_window_months");
        bad(|r| r.max_move = Decimal::ONE, "max_move");
        bad(|r| r.min_volume_units = -1, "min_volume_units");
        bad(|r| r.upper_trigger = Decimal::ONE, "upper_trigger");
        bad(|r| r.lower_trigger = Decimal::ONE, "lower_trigger");
        bad(|r| r.trigger_days = 0, "trigger_days");
        bad(
            |r| r.trigger_yearly_rise = Decimal::new(-1, 2),
            "trigger_yearly_rise",
        );
    }
}
