//! Market arithmetic in integers, checked, with its limits in one place:
//! quantities in whole units, prices in fen per unit, values and fees in
//! fen. Prices travel as yuan strings with at most two decimals (the tick
//! is one fen).

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

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
    #[error("a quantity is a whole number of units from 1 to {MAX_UNITS}")]
    Quantity,
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

pub fn check_quantity(units: i64) -> Result<i64, MoneyError> {
    if (1..=MAX_UNITS).contains(&units) {
        Ok(units)
    } else {
        Err(MoneyError::Quantity)
    }
}

/// Price × quantity in fen, refused above [`MAX_VALUE_FEN`].
pub fn value(price: i64, units: i64) -> Result<i64, MoneyError> {
    price
        .checked_mul(units)
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

/// The volume-weighted average price of `volume` units worth `turnover`
/// fen, rounded to the fen half away from zero; none without volume. The
/// daily close and the guidance price's review both use it.
pub fn vwap(turnover: i64, volume: i64) -> Option<i64> {
    (volume > 0).then(|| {
        (Decimal::from(turnover) / Decimal::from(volume))
            .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
            .to_i64()
            .unwrap_or(MAX_PRICE_FEN)
    })
}

/// The prices inside a band of `share` around `reference` (fen): from the
/// reference × (1 − share) rounded up to the tick to the reference ×
/// (1 + share) rounded down, and never below one fen.
pub fn band(reference: i64, share: Decimal) -> (i64, i64) {
    let r = Decimal::from(reference);
    let low = (r * (Decimal::ONE - share))
        .ceil()
        .to_i64()
        .unwrap_or(1)
        .max(1);
    let high = (r * (Decimal::ONE + share))
        .floor()
        .to_i64()
        .unwrap_or(MAX_PRICE_FEN)
        .min(MAX_PRICE_FEN);
    (low, high)
}

/// Units in the ledger's minor units (a tonne is 10^6 grams).
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
        assert_eq!(value(5_000, 3), Ok(15_000));
        assert_eq!(value(MAX_PRICE_FEN, MAX_UNITS), Err(MoneyError::Value));
        assert_eq!(value(i64::MAX, 2), Err(MoneyError::Value));
        assert_eq!(fee(15_000, Decimal::ZERO), 0);
        assert_eq!(fee(15_000, Decimal::new(5, 4)), 8); // 7.5 → 8
        assert_eq!(fee(10_000, Decimal::new(5, 4)), 5);
        // ±10 % of 50.00 is 45.00 to 55.00; of 33.33, 30.00 (29.997 up) to 36.66.
        assert_eq!(band(5_000, Decimal::new(1, 1)), (4_500, 5_500));
        assert_eq!(band(3_333, Decimal::new(1, 1)), (3_000, 3_666));
        assert_eq!(band(1, Decimal::new(1, 1)), (1, 1));
        assert_eq!(vwap(10_001, 2), Some(5_001)); // 5,000.5 → 5,001
        assert_eq!(vwap(10_003, 3), Some(3_334));
        assert_eq!(vwap(0, 0), None);
        assert_eq!(to_minor(3, 1_000_000), Ok(3_000_000));
        assert_eq!(
            to_minor(MAX_UNITS + 1, 1_000_000),
            Err(MoneyError::Quantity)
        );
    }
}
