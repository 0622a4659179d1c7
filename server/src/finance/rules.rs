//! Green finance's numbers as configuration (`[finance]` in the file), the
//! issue's defaults: loans at 70 % of the collateral's value (at most
//! 80 %, the Lanzhou pollutant-rights practice), a margin call when the
//! value falls below the outstanding loan ÷ 0.8, five trading days to
//! cure, guarantees of half the loan.

use rust_decimal::Decimal;
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FinanceRules {
    /// The loan-to-value ratio a bank confirms when it names none.
    #[serde(with = "rust_decimal::serde::str")]
    pub ltv: Decimal,
    /// The largest loan-to-value ratio a bank may confirm.
    #[serde(with = "rust_decimal::serde::str")]
    pub max_ltv: Decimal,
    /// The maintenance level: a margin call when the collateral's value is
    /// below the outstanding loan ÷ this.
    #[serde(with = "rust_decimal::serde::str")]
    pub maintenance_ratio: Decimal,
    /// Trading days after a margin call's close to cure it.
    pub cure_trading_days: u32,
    /// The share of the loan a guarantee covers when the pledge names
    /// none.
    #[serde(with = "rust_decimal::serde::str")]
    pub guarantee_share: Decimal,
    /// The longest loan term, days from confirmation to maturity.
    pub max_term_days: u32,
    /// Trading days of closes a price policy averages when it names none.
    pub price_averaging_days: u32,
    /// Days after a sink policy's year during which reversals of that year
    /// still make claims; then the policy ends and the insurer's cash held
    /// for it is released.
    pub sink_claim_window_days: u32,
}

impl Default for FinanceRules {
    fn default() -> Self {
        FinanceRules {
            ltv: Decimal::new(7, 1),
            max_ltv: Decimal::new(8, 1),
            maintenance_ratio: Decimal::new(8, 1),
            cure_trading_days: 5,
            guarantee_share: Decimal::new(5, 1),
            max_term_days: 3_650,
            price_averaging_days: 20,
            sink_claim_window_days: 90,
        }
    }
}

impl FinanceRules {
    pub fn validate(&self) -> Result<(), String> {
        let share = |name: &str, d: Decimal| {
            if d > Decimal::ZERO && d <= Decimal::ONE {
                Ok(())
            } else {
                Err(format!("{name} must be a share above 0 and at most 1"))
            }
        };
        share("ltv", self.ltv)?;
        share("max_ltv", self.max_ltv)?;
        share("maintenance_ratio", self.maintenance_ratio)?;
        share("guarantee_share", self.guarantee_share)?;
        if self.ltv > self.max_ltv {
            return Err("ltv must be at most max_ltv".into());
        }
        if self.maintenance_ratio < self.max_ltv {
            // A loan at the largest ratio must not be under margin call
            // the moment it is made.
            return Err("maintenance_ratio must be at least max_ltv".into());
        }
        if !(1..=60).contains(&self.cure_trading_days) {
            return Err("cure_trading_days must be 1 to 60".into());
        }
        if !(1..=36_500).contains(&self.max_term_days) {
            return Err("max_term_days must be 1 to 36500".into());
        }
        if !(1..=carbon_calc::insurance::MAX_CLOSES as u32).contains(&self.price_averaging_days) {
            return Err(format!(
                "price_averaging_days must be 1 to {}",
                carbon_calc::insurance::MAX_CLOSES
            ));
        }
        if !(0..=366).contains(&self.sink_claim_window_days) {
            return Err("sink_claim_window_days must be 0 to 366".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_hold_and_a_maintenance_level_below_the_largest_ltv_does_not() {
        assert_eq!(FinanceRules::default().validate(), Ok(()));
        let bad = FinanceRules {
            maintenance_ratio: Decimal::new(7, 1),
            ..FinanceRules::default()
        };
        assert!(bad.validate().is_err());
        let bad = FinanceRules {
            ltv: Decimal::new(9, 1),
            ..FinanceRules::default()
        };
        assert!(bad.validate().is_err());
    }
}
