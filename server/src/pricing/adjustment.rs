//! The monthly review of a guidance price, as a pure rule: from the market
//! of the last months, the next price to propose (Guangdong's policy
//! reserve price is the volume-weighted average of the previous three
//! calendar months' listing trades). Book and pick trades count, as in the
//! daily close; block and auction trades do not.

use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use crate::market::money;

/// What the rule is told: the price in force and the period's book trades.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Market {
    /// The guidance price in force, fen per unit.
    pub current: i64,
    /// Lots traded in the book and by picks in the review period.
    pub volume: i64,
    /// Their value, fen.
    pub turnover: i64,
    /// The instrument's lots and tick: the proposal is on the tick.
    pub step: money::Step,
}

/// The rule's settings (`[pricing]`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Largest move from the current price, a share (0.2 is ±20 %).
    pub max_move: Decimal,
    /// Below this many units traded in the period, no change.
    pub min_volume: i64,
}

/// Why the proposal is what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// Too little traded: the current price again.
    LowVolume,
    /// The period's volume-weighted average price.
    Vwap,
    /// The average was more than `max_move` above: the highest allowed.
    CappedUp,
    /// The average was more than `max_move` below: the lowest allowed.
    CappedDown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proposal {
    /// Fen per unit.
    pub price: i64,
    /// The period's average, when anything traded.
    pub vwap: Option<i64>,
    pub basis: Basis,
}

/// The next guidance price: the period's volume-weighted average, kept
/// within `max_move` of the current price (the band's rounding: inward, to
/// the tick), or the current price when fewer than `min_volume` units
/// traded.
pub fn propose(market: Market, limits: Limits) -> Proposal {
    let step = market.step;
    let vwap = money::vwap(market.turnover, market.volume, step);
    let enough = (limits.min_volume * step.lots_per_unit).max(1);
    let Some(average) = vwap.filter(|_| market.volume >= enough) else {
        return Proposal {
            price: market.current,
            vwap,
            basis: Basis::LowVolume,
        };
    };
    let (low, high) = money::band(market.current, limits.max_move, step);
    let (price, basis) = if average > high {
        (high, Basis::CappedUp)
    } else if average < low {
        (low, Basis::CappedDown)
    } else {
        (average, Basis::Vwap)
    };
    Proposal { price, vwap, basis }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        max_move: Decimal::from_parts(2, 0, 0, false, 1),
        min_volume: 1_000,
    };

    #[test]
    fn the_average_moved_at_most_the_limit() {
        // (current, volume, turnover) → (price, vwap, basis)
        let cases = [
            // 1,000 t for 38,000 yuan: 38.00 within ±20 % of 36.00.
            ((3_600, 1_000, 3_800_000), (3_800, Some(3_800), Basis::Vwap)),
            // Exactly +20 %: 43.20 is allowed as it is.
            ((3_600, 1_000, 4_320_000), (4_320, Some(4_320), Basis::Vwap)),
            // One fen over: capped at 43.20.
            (
                (3_600, 1_000, 4_321_000),
                (4_320, Some(4_321), Basis::CappedUp),
            ),
            (
                (3_600, 1_000, 9_000_000),
                (4_320, Some(9_000), Basis::CappedUp),
            ),
            // Exactly −20 %: 28.80; below it, capped.
            ((3_600, 1_000, 2_880_000), (2_880, Some(2_880), Basis::Vwap)),
            (
                (3_600, 1_000, 1_000_000),
                (2_880, Some(1_000), Basis::CappedDown),
            ),
            // The cap rounds inward: ±20 % of 33.33 is 26.67 (26.664 up) to 39.99 (39.996 down).
            (
                (3_333, 1_000, 1_000_000),
                (2_667, Some(1_000), Basis::CappedDown),
            ),
            (
                (3_333, 1_000, 9_000_000),
                (3_999, Some(9_000), Basis::CappedUp),
            ),
            // The average rounds half away from zero: 1,000 t for 33,336.67 yuan is 33.33667 → 33.34.
            ((3_333, 1_000, 3_333_667), (3_334, Some(3_334), Basis::Vwap)),
            // Too little traded: no change, the average still recorded.
            (
                (3_600, 999, 4_000_000),
                (3_600, Some(4_004), Basis::LowVolume),
            ),
            // Nothing traded.
            ((3_600, 0, 0), (3_600, None, Basis::LowVolume)),
        ];
        for ((current, volume, turnover), (price, vwap, basis)) in cases {
            let got = propose(
                Market {
                    current,
                    volume,
                    turnover,
                    step: money::Step::UNIT,
                },
                LIMITS,
            );
            assert_eq!(
                got,
                Proposal { price, vwap, basis },
                "current {current}, volume {volume}, turnover {turnover}"
            );
        }
    }

    #[test]
    fn a_minimum_of_zero_still_needs_a_trade() {
        let limits = Limits {
            min_volume: 0,
            ..LIMITS
        };
        let none = propose(
            Market {
                current: 3_600,
                volume: 0,
                turnover: 0,
                step: money::Step::UNIT,
            },
            limits,
        );
        assert_eq!((none.price, none.basis), (3_600, Basis::LowVolume));
        let one = propose(
            Market {
                current: 3_600,
                volume: 1,
                turnover: 3_700,
                step: money::Step::UNIT,
            },
            limits,
        );
        assert_eq!((one.price, one.basis), (3_700, Basis::Vwap));
    }
}
