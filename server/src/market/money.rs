//! Market arithmetic in integers, checked, with its limits in one place:
//! quantities in whole lots (a [`Step`] of the instrument's class: one
//! unit, or 0.01 mu of land), prices in fen per unit, values and fees in
//! fen. Prices travel as yuan strings with at most two decimals, quantities
//! as decimal strings of units (`"0.25"` mu); [`Step`] converts both ways.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::instruments::{Class, Code};

/// Most units in one order, bid, lot, block trade or position (10^9 t is
/// 10^15 ledger grams, the ledger's largest amount).
pub const MAX_UNITS: i64 = 1_000_000_000;
/// Highest price, in fen per unit (just under ten million yuan: seven
/// digits of yuan).
pub const MAX_PRICE_FEN: i64 = 999_999_999;
/// Largest value of one order or trade, in fen: the ledger's largest
/// amount.
pub const MAX_VALUE_FEN: i64 = crate::ledger::service::MAX_AMOUNT;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("a price is yuan with at most two decimals, above 0 and at most {max}", max = Decimal::new(MAX_PRICE_FEN, 2))]
    Price,
    #[error("a quantity is a whole number of the instrument's steps (one unit; 0.01 mu for land), at most {MAX_UNITS} units")]
    Quantity,
    #[error("a price is a multiple of the instrument's tick (0.01 yuan; 1 yuan per mu for land)")]
    Tick,
    #[error("price × quantity is more than the largest value, {max} yuan", max = Decimal::new(MAX_VALUE_FEN, 2))]
    Value,
}

/// `"50.25"` → 5025 fen. More than two decimals, zero, negative or above
/// the limit is refused.
pub fn parse_price(yuan: &str) -> Result<i64, MoneyError> {
    let (whole, frac) = yuan.split_once('.').unwrap_or((yuan, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(frac) {
        return Err(MoneyError::Price);
    }
    let d: Decimal = yuan.parse().map_err(|_| MoneyError::Price)?;
    let fen = d * Decimal::ONE_HUNDRED;
    if !fen.fract().is_zero() {
        return Err(MoneyError::Price);
    }
    fen.to_i64()
        .filter(|f| (1..=MAX_PRICE_FEN).contains(f))
        .ok_or(MoneyError::Price)
}

/// 5025 fen → `"50.25"`.
pub fn yuan(fen: i64) -> String {
    Decimal::new(fen, 2).to_string()
}

/// Price × quantity in fen, refused above [`MAX_VALUE_FEN`]. `lots` of
/// `step`: with a price on the tick the value is exact; off it (a price
/// derived by a rule, such as the reserve's), rounded to the fen half away
/// from zero.
pub fn value(price: i64, lots: i64, step: Step) -> Result<i64, MoneyError> {
    let whole = i128::from(price)
        .checked_mul(i128::from(lots))
        .ok_or(MoneyError::Value)?;
    let per = i128::from(step.lots_per_unit);
    let v = (whole + per / 2 * whole.signum()) / per;
    i64::try_from(v)
        .ok()
        .filter(|v| (0..=MAX_VALUE_FEN).contains(v))
        .ok_or(MoneyError::Value)
}

/// The fee on a side of a trade worth `value` fen: `value × rate`, rounded
/// to the fen half away from zero.
pub fn fee(value: i64, rate: Decimal) -> i64 {
    (Decimal::from(value) * rate)
        .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
        .to_i64()
        .unwrap_or(i64::MAX)
}

/// The volume-weighted average price of `volume` lots worth `turnover`
/// fen, rounded to the tick half away from zero; none without volume. The
/// daily close and the guidance price's review both use it.
pub fn vwap(turnover: i64, volume: i64, step: Step) -> Option<i64> {
    (volume > 0).then(|| {
        let per_unit =
            Decimal::from(turnover) * Decimal::from(step.lots_per_unit) / Decimal::from(volume);
        step.round_price(per_unit)
    })
}

/// The prices inside a band of `share` around `reference` (fen): from the
/// reference × (1 − share) rounded up to the tick to the reference ×
/// (1 + share) rounded down, and never below one tick.
pub fn band(reference: i64, share: Decimal, step: Step) -> (i64, i64) {
    let r = Decimal::from(reference);
    let tick = Decimal::from(step.tick);
    let low = ((r * (Decimal::ONE - share)) / tick).ceil() * tick;
    let high = ((r * (Decimal::ONE + share)) / tick).floor() * tick;
    let top = MAX_PRICE_FEN / step.tick * step.tick;
    (
        low.to_i64().unwrap_or(step.tick).max(step.tick),
        high.to_i64().unwrap_or(top).min(top),
    )
}

/// How an instrument's quantities and prices are counted: lots of a unit
/// and the price tick. From the class, so from the code alone (views need
/// no query).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub lots_per_unit: i64,
    /// Fen per unit.
    pub tick: i64,
}

impl Step {
    /// Whole units, prices to the fen: carbon and every class but land.
    pub const UNIT: Step = Step {
        lots_per_unit: 1,
        tick: 1,
    };

    pub fn of(class: Class) -> Step {
        Step {
            lots_per_unit: class.lots_per_unit(),
            tick: class.tick_fen(),
        }
    }

    /// The step of an instrument code; [`Step::UNIT`] for a code that does
    /// not parse (never stored: codes are checked at listing).
    pub fn of_code(code: &str) -> Step {
        Code::parse(code).map_or(Step::UNIT, |c| Step::of(c.class))
    }

    /// Lots in a quantity of units: a whole number of steps, from one step
    /// to [`MAX_UNITS`] units.
    pub fn lots(self, units: Decimal) -> Result<i64, MoneyError> {
        let lots = units
            .checked_mul(Decimal::from(self.lots_per_unit))
            .ok_or(MoneyError::Quantity)?;
        if !lots.fract().is_zero() {
            return Err(MoneyError::Quantity);
        }
        lots.to_i64()
            .filter(|l| (1..=self.max_lots()).contains(l))
            .ok_or(MoneyError::Quantity)
    }

    /// The most lots of one order, lot or position: [`MAX_UNITS`] units.
    pub fn max_lots(self) -> i64 {
        MAX_UNITS * self.lots_per_unit
    }

    /// Lots as the quantity of a request the platform makes itself.
    pub fn units(self, lots: i64) -> crate::amount::Units {
        crate::amount::Units(Decimal::from(lots) / Decimal::from(self.lots_per_unit))
    }

    /// Lots as decimal units, as the API shows them: 25 lots of land are
    /// `"0.25"`, 1,000 are `"10"`; carbon's are its whole units.
    pub fn show(self, lots: i64) -> String {
        (Decimal::from(lots) / Decimal::from(self.lots_per_unit))
            .normalize()
            .to_string()
    }

    /// Ledger minor units in one lot (a tonne's grams; a hundredth of a
    /// mu's 100 ten-thousandths).
    pub fn minor_per_lot(self, minor_per_unit: i64) -> i64 {
        minor_per_unit / self.lots_per_unit
    }

    /// A price the caller set: refused off the tick.
    pub fn check_price(self, fen: i64) -> Result<i64, MoneyError> {
        if fen % self.tick == 0 {
            Ok(fen)
        } else {
            Err(MoneyError::Tick)
        }
    }

    /// A price a rule derived (fen per unit, any precision), rounded to the
    /// tick half away from zero, never below one tick nor above the
    /// highest price. The one rounding of derived prices.
    pub fn round_price(self, fen: Decimal) -> i64 {
        let tick = Decimal::from(self.tick);
        let top = MAX_PRICE_FEN / self.tick * self.tick;
        ((fen / tick).round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero) * tick)
            .to_i64()
            .unwrap_or(top)
            .clamp(self.tick, top)
    }
}

/// A count (units or lots) in the ledger's minor units, `minor_each` in
/// one (a tonne is 10^6 grams; a lot of land 100 ten-thousandths of a mu).
pub fn to_minor(units: i64, minor_per_unit: i64) -> Result<i64, MoneyError> {
    units
        .checked_mul(minor_per_unit)
        .filter(|m| *m <= crate::ledger::service::MAX_AMOUNT)
        .ok_or(MoneyError::Quantity)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_are_yuan_to_the_fen() {
        assert_eq!(parse_price("50"), Ok(5_000));
        assert_eq!(parse_price("50.2"), Ok(5_020));
        assert_eq!(parse_price("50.25"), Ok(5_025));
        assert_eq!(parse_price("50.250"), Ok(5_025));
        assert_eq!(parse_price("0.01"), Ok(1));
        assert_eq!(parse_price("9999999.99"), Ok(MAX_PRICE_FEN));
        assert_eq!(parse_price("1000000"), Ok(100_000_000));
        for bad in [
            "", "0", "-1", "50.255", "10000000", "1e3", " 50", "abc", "0.001",
        ] {
            assert_eq!(parse_price(bad), Err(MoneyError::Price), "{bad:?}");
        }
        assert_eq!(yuan(5_025), "50.25");
        assert_eq!(yuan(5_000), "50.00");
    }

    #[test]
    fn values_fees_and_bands() {
        let u = Step::UNIT;
        assert_eq!(value(5_000, 3, u), Ok(15_000));
        assert_eq!(value(MAX_PRICE_FEN, MAX_UNITS, u), Err(MoneyError::Value));
        assert_eq!(value(i64::MAX, 2, u), Err(MoneyError::Value));
        assert_eq!(fee(15_000, Decimal::ZERO), 0);
        assert_eq!(fee(15_000, Decimal::new(5, 4)), 8); // 7.5 → 8
        assert_eq!(fee(10_000, Decimal::new(5, 4)), 5);
        // ±10 % of 50.00 is 45.00 to 55.00; of 33.33, 30.00 (29.997 up) to 36.66.
        assert_eq!(band(5_000, Decimal::new(1, 1), u), (4_500, 5_500));
        assert_eq!(band(3_333, Decimal::new(1, 1), u), (3_000, 3_666));
        assert_eq!(band(1, Decimal::new(1, 1), u), (1, 1));
        assert_eq!(vwap(10_001, 2, u), Some(5_001)); // 5,000.5 → 5,001
        assert_eq!(vwap(10_003, 3, u), Some(3_334));
        assert_eq!(vwap(0, 0, u), None);
        assert_eq!(to_minor(3, 1_000_000), Ok(3_000_000));
        assert_eq!(
            to_minor(MAX_UNITS + 1, 1_000_000),
            Err(MoneyError::Quantity)
        );
    }

    #[test]
    fn land_counts_hundredths_of_a_mu_at_a_yuan_tick() {
        let land = Step::of(Class::LandLinkage);
        assert_eq!(Step::of_code("TPH-LLS-2026"), land);
        assert_eq!(Step::of_code("TPH-SO2-2026"), Step::UNIT);
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(land.lots(d("0.25")), Ok(25));
        assert_eq!(land.lots(d("10")), Ok(1_000));
        assert_eq!(land.lots(d("0.001")), Err(MoneyError::Quantity));
        assert_eq!(land.lots(d("0")), Err(MoneyError::Quantity));
        assert_eq!(Step::UNIT.lots(d("0.5")), Err(MoneyError::Quantity));
        assert_eq!(Step::UNIT.lots(d("7")), Ok(7));
        assert_eq!(land.show(25), "0.25");
        assert_eq!(land.show(1_000), "10");
        assert_eq!(land.show(150), "1.5");
        assert_eq!(Step::UNIT.show(42), "42");
        assert_eq!(land.minor_per_lot(crate::instruments::MINOR_PER_MU), 100);
        // 0.25 mu at 35,000 yuan/mu is 8,750 yuan, exactly.
        assert_eq!(value(3_500_000, 25, land), Ok(875_000));
        // A derived price off the tick rounds the value to the fen.
        assert_eq!(value(3_500_050, 1, land), Ok(35_001));
        assert_eq!(land.check_price(3_500_000), Ok(3_500_000));
        assert_eq!(land.check_price(3_500_001), Err(MoneyError::Tick));
        // Bands and the VWAP land on whole yuan.
        assert_eq!(band(33_333, Decimal::new(1, 1), land), (30_000, 36_600));
        // 1 mu at 100 and 0.5 mu at 101 yuan: 100.333… → 100 yuan.
        assert_eq!(vwap(10_000 + 5_050, 150, land), Some(10_000));
        assert_eq!(land.round_price(Decimal::new(15_050, 0)), 15_100);
        assert_eq!(land.round_price(Decimal::ZERO), 100);
    }
}
