//! What a swap and a lease come to, in lots of each instrument's
//! [`Step`] and fen: pure rules, table-tested here and used by the offers.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use crate::market::money::{self, MoneyError, Step};

/// A swap of `quantity` lots (of `step`) worth `price` per unit for lots
/// of `wanted` worth `wanted_price` per unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Swap {
    /// What the holder gives, fen.
    pub value: i64,
    /// Lots of the wanted instrument the value buys, rounded down (the
    /// reserve never gives more than it receives).
    pub wanted_quantity: i64,
    /// The rest of the value, fen, paid by the reserve (less than one
    /// wanted lot's price).
    pub cash: i64,
}

pub fn swap(
    quantity: i64,
    price: i64,
    step: Step,
    wanted_price: i64,
    wanted: Step,
) -> Result<Swap, MoneyError> {
    let value = money::value(price, quantity, step)?;
    if wanted_price <= 0 {
        return Err(MoneyError::Price);
    }
    let wanted_quantity =
        (i128::from(value) * i128::from(wanted.lots_per_unit) / i128::from(wanted_price)) as i64;
    // Rounded half away, a whole value at most `value` stays at most it.
    let given = money::value(wanted_price, wanted_quantity, wanted)?;
    Ok(Swap {
        value,
        wanted_quantity,
        cash: value - given,
    })
}

/// A lease of `quantity` lots of `step` worth `price` per unit for
/// `term_days`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    pub value: i64,
    /// `value × yearly rate × term_days ÷ 365`, rounded up to the fen:
    /// paid to the reserve when the lease starts.
    pub fee: i64,
    /// `value × deposit rate`, rounded up to the fen: held from the
    /// lessee until the units come back or pay for them.
    pub deposit: i64,
}

pub fn lease(
    quantity: i64,
    price: i64,
    step: Step,
    term_days: i32,
    yearly_fee_rate: Decimal,
    deposit_rate: Decimal,
) -> Result<Lease, MoneyError> {
    let value = money::value(price, quantity, step)?;
    let fen = |d: Decimal| {
        d.ceil()
            .to_i64()
            .filter(|f| *f <= money::MAX_VALUE_FEN)
            .ok_or(MoneyError::Value)
    };
    let fee = fen(
        Decimal::from(value) * yearly_fee_rate * Decimal::from(term_days) / Decimal::from(365),
    )?;
    let deposit = fen(Decimal::from(value) * deposit_rate)?;
    Ok(Lease {
        value,
        fee,
        deposit,
    })
}

/// What a lease not returned comes to when its deposit pays: the units at
/// `price` (the guidance price then in force), from the deposit as far as
/// it goes. Returns (from the deposit, the deposit left to give back, not
/// covered).
pub fn paid_from_deposit(
    quantity: i64,
    price: i64,
    step: Step,
    deposit: i64,
) -> Result<(i64, i64, i64), MoneyError> {
    let value = money::value(price, quantity, step)?;
    let taken = value.min(deposit);
    Ok((taken, deposit - taken, value - taken))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swaps_round_units_down_and_pay_the_rest() {
        // (quantity, price, wanted price) → (value, wanted units, cash)
        let cases = [
            (100, 5_000, 5_000, (500_000, 100, 0)),
            (100, 5_000, 4_000, (500_000, 125, 0)),
            (100, 5_000, 3_000, (500_000, 166, 2_000)),
            (1, 2_999, 3_000, (2_999, 0, 2_999)),
            (3, 1, 2, (3, 1, 1)),
            (7, 4_321, 1_234, (30_247, 24, 631)),
        ];
        for (q, p, w, (value, units, cash)) in cases {
            let s = swap(q, p, Step::UNIT, w, Step::UNIT).unwrap();
            assert_eq!(
                (s.value, s.wanted_quantity, s.cash),
                (value, units, cash),
                "{q}×{p}→{w}"
            );
            assert_eq!(s.wanted_quantity * w + s.cash, s.value);
            assert!(s.cash < w);
        }
        assert!(swap(1, 100, Step::UNIT, 0, Step::UNIT).is_err());
        assert!(swap(i64::MAX, 100, Step::UNIT, 1, Step::UNIT).is_err());
        // 2 t at ¥50 for land at ¥333.50 a mu: ¥100 buys 0.29 mu (¥96.715,
        // ¥96.72 to the fen), the rest in cash.
        let land = Step::of(crate::instruments::Class::LandLinkage);
        let s = swap(2, 5_000, Step::UNIT, 33_350, land).unwrap();
        assert_eq!((s.value, s.wanted_quantity, s.cash), (10_000, 29, 328));
    }

    #[test]
    fn lease_fees_and_deposits_round_up_to_the_fen() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        // 100 units at ¥50 = ¥5,000; 3 % a year.
        let l = lease(100, 5_000, Step::UNIT, 365, d("0.03"), d("1")).unwrap();
        assert_eq!((l.value, l.fee, l.deposit), (500_000, 15_000, 500_000));
        // 30 days: 500,000 × 0.03 × 30 / 365 = 1,232.87… → 1,233.
        let l = lease(100, 5_000, Step::UNIT, 30, d("0.03"), d("1")).unwrap();
        assert_eq!(l.fee, 1_233);
        // A deposit of 120 % of 3 × ¥0.01 = 3.6 fen → 4.
        let l = lease(3, 1, Step::UNIT, 1, d("0"), d("1.2")).unwrap();
        assert_eq!((l.fee, l.deposit), (0, 4));
    }

    #[test]
    fn a_deposit_pays_as_far_as_it_goes() {
        assert_eq!(
            paid_from_deposit(100, 5_000, Step::UNIT, 500_000).unwrap(),
            (500_000, 0, 0)
        );
        assert_eq!(
            paid_from_deposit(100, 4_000, Step::UNIT, 500_000).unwrap(),
            (400_000, 100_000, 0)
        );
        assert_eq!(
            paid_from_deposit(100, 6_000, Step::UNIT, 500_000).unwrap(),
            (500_000, 0, 100_000)
        );
    }
}
