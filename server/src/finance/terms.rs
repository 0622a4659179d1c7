//! Pledge arithmetic in integers (fen and ledger grams), with the rules'
//! shares as exact decimals: what the collateral is worth, the largest
//! loan, the maintenance level, what a partial repayment frees, and how
//! enforcement's proceeds are shared out. One place for each rule; the
//! services only read and write.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

/// What `grams` are worth at `price` fen per unit of `minor` grams, in fen
/// (rounded down: collateral is never valued above what it would fetch).
pub fn value(grams: i64, price: i64, minor: i64) -> i64 {
    let v = i128::from(grams) * i128::from(price) / i128::from(minor.max(1));
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// `amount × share`, rounded down to the fen.
pub fn share_down(amount: i64, share: Decimal) -> i64 {
    (Decimal::from(amount) * share)
        .round_dp_with_strategy(0, RoundingStrategy::ToZero)
        .to_i64()
        .unwrap_or(0)
}

/// `amount × share`, rounded up to the fen.
pub fn share_up(amount: i64, share: Decimal) -> i64 {
    (Decimal::from(amount) * share)
        .round_dp_with_strategy(0, RoundingStrategy::AwayFromZero)
        .to_i64()
        .unwrap_or(i64::MAX)
}

/// The largest loan a pledge may carry: `ltv` of the collateral's value,
/// less what earlier-ranked pledges still owe on it.
pub fn max_loan(value: i64, ltv: Decimal, senior: i64) -> i64 {
    (share_down(value, ltv) - senior).max(0)
}

/// The collateral is below the maintenance level for this pledge: what is
/// left of its value after earlier ranks is less than the outstanding
/// loan ÷ `maintenance` (value × maintenance < outstanding).
pub fn under_maintenance(value: i64, senior: i64, outstanding: i64, maintenance: Decimal) -> bool {
    if outstanding <= 0 {
        return false;
    }
    let left = (value - senior).max(0);
    Decimal::from(left) * maintenance < Decimal::from(outstanding)
}

/// Grams a pledge may give back now after partial repayments: in
/// proportion to what was repaid (of every gram it ever held: `held` now
/// and `released` before), less what was given back already, and never
/// so many that the rest is below the maintenance level at `price`.
pub fn releasable(
    held: i64,
    released: i64,
    loan: i64,
    outstanding: i64,
    price: i64,
    minor: i64,
    maintenance: Decimal,
) -> Releasable {
    if outstanding <= 0 {
        return Releasable {
            by_repayment: held,
            by_maintenance: held,
        };
    }
    let ever = i128::from(held + released);
    let repaid = i128::from((loan - outstanding).max(0));
    let by_repayment = (ever * repaid / i128::from(loan.max(1))) as i64 - released;
    // Keep value × maintenance ≥ outstanding: at least
    // ⌈outstanding ÷ (maintenance × price per gram)⌉ grams stay.
    let per_gram = Decimal::from(price) * maintenance / Decimal::from(minor.max(1));
    let keep = if per_gram.is_zero() {
        held
    } else {
        (Decimal::from(outstanding) / per_gram)
            .round_dp_with_strategy(0, RoundingStrategy::AwayFromZero)
            .to_i64()
            .unwrap_or(held)
    };
    Releasable {
        by_repayment: by_repayment.clamp(0, held),
        by_maintenance: (held - keep).clamp(0, held),
    }
}

/// The two limits on a partial release, grams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Releasable {
    pub by_repayment: i64,
    pub by_maintenance: i64,
}

/// Proceeds shared out in rank order: each claim (what each pledgee is
/// owed, first rank first) is paid as far as the proceeds go; what is
/// left is the pledgor's.
pub fn waterfall(proceeds: i64, claims: &[i64]) -> (Vec<i64>, i64) {
    let mut left = proceeds.max(0);
    let paid = claims
        .iter()
        .map(|c| {
            let p = (*c).max(0).min(left);
            left -= p;
            p
        })
        .collect();
    (paid, left)
}

/// What a guarantor pays of a shortfall: its share (rounded to the fen,
/// half up), at most what it holds for the guarantee.
pub fn guarantee_payment(shortfall: i64, share: Decimal, held: i64) -> i64 {
    (Decimal::from(shortfall.max(0)) * share)
        .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
        .to_i64()
        .unwrap_or(0)
        .min(held)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_000_000;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn collateral_is_valued_down_to_the_fen_and_loans_at_most_ltv_of_it() {
        // 1,000 t at 36.00 yuan.
        assert_eq!(value(1_000 * T, 3_600, T), 3_600_000);
        // Half a gram less than a unit's worth of fen rounds down.
        assert_eq!(value(T / 2 + 1, 3, T), 1);
        assert_eq!(max_loan(3_600_000, d("0.7"), 0), 2_520_000);
        // A second rank gets what the first leaves of the ratio.
        assert_eq!(max_loan(3_600_000, d("0.7"), 2_000_000), 520_000);
        assert_eq!(max_loan(3_600_000, d("0.7"), 3_000_000), 0);
    }

    #[test]
    fn the_maintenance_level_is_the_outstanding_loan_over_the_ratio() {
        // 2,520,000 owed needs 3,150,000 of value at 0.8.
        assert!(!under_maintenance(3_150_000, 0, 2_520_000, d("0.8")));
        assert!(under_maintenance(3_149_999, 0, 2_520_000, d("0.8")));
        // After an earlier rank's 1,000,000 only 2,150,000 is left for it.
        assert!(under_maintenance(3_150_000, 1_000_000, 2_520_000, d("0.8")));
        assert!(!under_maintenance(0, 0, 0, d("0.8")));
    }

    #[test]
    fn a_partial_release_frees_in_proportion_to_repayment_and_keeps_the_maintenance_level() {
        // 1,000 t pledged for 2,520,000; 40 % repaid: 400 t by repayment;
        // at 36.00 and 0.8, 1,512,000 owed needs 525 t, so 475 t could go.
        let r = releasable(1_000 * T, 0, 2_520_000, 1_512_000, 3_600, T, d("0.8"));
        assert_eq!(r.by_repayment, 400 * T);
        assert_eq!(r.by_maintenance, 475 * T);
        // 100 t released before count against the proportion.
        let r = releasable(900 * T, 100 * T, 2_520_000, 1_512_000, 3_600, T, d("0.8"));
        assert_eq!(r.by_repayment, 300 * T);
        // At a lower price the maintenance level binds first: at 20.00,
        // 1,512,000 needs 945 t of 1,000.
        let r = releasable(1_000 * T, 0, 2_520_000, 1_512_000, 2_000, T, d("0.8"));
        assert_eq!(r.by_maintenance, 55 * T);
        // Repaid in full: everything.
        let r = releasable(1_000 * T, 0, 2_520_000, 0, 3_600, T, d("0.8"));
        assert_eq!((r.by_repayment, r.by_maintenance), (1_000 * T, 1_000 * T));
    }

    #[test]
    fn proceeds_pay_each_rank_in_turn_and_the_rest_is_the_pledgors() {
        assert_eq!(waterfall(1_000, &[600, 300]), (vec![600, 300], 100));
        assert_eq!(waterfall(700, &[600, 300]), (vec![600, 100], 0));
        assert_eq!(waterfall(500, &[600, 300]), (vec![500, 0], 0));
        assert_eq!(waterfall(0, &[]), (vec![], 0));
        let (paid, rest) = waterfall(987_654, &[123_456, 654_321, 1]);
        assert_eq!(paid.iter().sum::<i64>() + rest, 987_654);
    }

    #[test]
    fn a_guarantor_pays_its_share_of_the_shortfall_within_what_it_holds() {
        assert_eq!(guarantee_payment(1_001, d("0.5"), 10_000), 501);
        assert_eq!(guarantee_payment(1_000_000, d("0.5"), 300_000), 300_000);
        assert_eq!(guarantee_payment(0, d("0.5"), 300_000), 0);
        assert_eq!(share_up(2_520_001, d("0.5")), 1_260_001);
        assert_eq!(share_down(2_520_001, d("0.5")), 1_260_000);
    }
}
