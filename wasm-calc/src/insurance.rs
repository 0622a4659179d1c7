//! The payout rules of forest-sink insurance, one place for the server and
//! the phone:
//!
//! - carbon-sink index insurance (碳汇指数保险, the Longyan and Zhaoqing
//!   policies): a policy year's loss of stock (t, counted up to the insured
//!   stock) at or over the trigger pays
//!   `min(maximum, max(0, loss − threshold) × price per tonne)`;
//! - price insurance (碳汇价格保险): at a settlement date the reference is
//!   the average of the closes in the averaging window, rounded to the fen,
//!   and the policy pays `min(maximum, max(0, strike − reference) × quantity)`.
//!
//! Money is yuan as decimal strings; payouts round half away from zero to
//! the fen and are also given in fen (`payout_fen`), which is what moves in
//! the ledger.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::decimal::{ensure_range, mul, Dec};
use crate::error::{CalcError, CalcResult, ErrorCode};

/// 10^9 t: more than any forest's stock.
const MAX_TONNES: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);
/// 10^7 yuan a unit: the market's highest price.
const MAX_PRICE: Decimal = Decimal::from_parts(10_000_000, 0, 0, false, 0);
/// 10^13 yuan: the ledger's largest amount in fen.
const MAX_YUAN: Decimal = Decimal::from_parts(1_316_134_912, 2_328, 0, false, 0);
/// Closes in one averaging window (a year and a day of trading days).
pub const MAX_CLOSES: usize = 366;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SinkInsuranceRequest {
    /// The policy's insured stock, t CO2e.
    pub insured_stock_t: Dec,
    /// The trigger: a year's loss at or over it pays.
    pub threshold_t: Dec,
    /// The policy year's cumulative loss (reversals), t CO2e.
    pub loss_t: Dec,
    /// Yuan per tonne of loss over the threshold.
    pub price_per_t: Dec,
    /// The most the policy pays, yuan.
    pub maximum: Dec,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SinkInsuranceEstimate {
    /// The loss counted: at most the insured stock.
    pub counted_loss_t: Dec,
    /// The loss reached the threshold.
    pub triggered: bool,
    /// `max(0, counted loss − threshold)`.
    pub excess_t: Dec,
    /// Yuan, to the fen.
    pub payout: Dec,
    #[serde(serialize_with = "crate::decimal::int_str")]
    pub payout_fen: i64,
    /// The maximum bound the payout.
    pub capped: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceInsuranceRequest {
    /// Units insured.
    pub quantity: Dec,
    /// Yuan per unit.
    pub strike: Dec,
    /// The closes of the averaging window, yuan per unit.
    pub closes: Vec<Dec>,
    /// The most the policy pays, yuan.
    pub maximum: Dec,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PriceInsuranceEstimate {
    /// The average close, rounded to the fen.
    pub reference: Dec,
    /// The reference is below the strike.
    pub in_the_money: bool,
    /// Yuan, to the fen.
    pub payout: Dec,
    #[serde(serialize_with = "crate::decimal::int_str")]
    pub payout_fen: i64,
    pub capped: bool,
}

fn non_negative(value: Dec, max: Decimal, field: &str) -> CalcResult<Decimal> {
    ensure_range(
        value.0,
        Some((Decimal::ZERO, true)),
        Some((max, true)),
        field,
    )?;
    Ok(value.0)
}

/// Rounds yuan to the fen, half away from zero (the one rounding rule).
fn to_fen(yuan: Decimal, field: &str) -> CalcResult<(Decimal, i64)> {
    let fen = mul(yuan, Decimal::ONE_HUNDRED, field)?
        .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
    let n = fen
        .to_i64()
        .ok_or_else(|| CalcError::out_of_range(field, "payout too large"))?;
    Ok((Decimal::new(n, 2), n))
}

/// `min(maximum, amount)`, rounded to the fen, and whether it was capped.
fn capped(amount: Decimal, maximum: Decimal, field: &str) -> CalcResult<(Dec, i64, bool)> {
    let (amount, _) = to_fen(amount, field)?;
    let (maximum, _) = to_fen(maximum, "maximum")?;
    let capped = amount > maximum;
    let (payout, fen) = to_fen(amount.min(maximum), field)?;
    Ok((Dec(payout), fen, capped))
}

pub fn estimate_sink(req: &SinkInsuranceRequest) -> CalcResult<SinkInsuranceEstimate> {
    let stock = non_negative(req.insured_stock_t, MAX_TONNES, "insured_stock_t")?;
    let threshold = non_negative(req.threshold_t, MAX_TONNES, "threshold_t")?;
    let loss = non_negative(req.loss_t, MAX_TONNES, "loss_t")?;
    let price = non_negative(req.price_per_t, MAX_PRICE, "price_per_t")?;
    let maximum = non_negative(req.maximum, MAX_YUAN, "maximum")?;
    if threshold > stock {
        return Err(CalcError::out_of_range(
            "threshold_t",
            format!(
                "the trigger must be at most the insured stock of {} t",
                stock.normalize()
            ),
        ));
    }
    let counted = loss.min(stock);
    let triggered = counted >= threshold;
    let excess = if triggered {
        counted - threshold
    } else {
        Decimal::ZERO
    };
    let (payout, payout_fen, capped) = capped(mul(excess, price, "loss_t")?, maximum, "loss_t")?;
    Ok(SinkInsuranceEstimate {
        counted_loss_t: Dec(counted),
        triggered,
        excess_t: Dec(excess),
        payout,
        payout_fen,
        capped,
    })
}

pub fn estimate_price(req: &PriceInsuranceRequest) -> CalcResult<PriceInsuranceEstimate> {
    let quantity = non_negative(req.quantity, MAX_TONNES, "quantity")?;
    let strike = non_negative(req.strike, MAX_PRICE, "strike")?;
    let maximum = non_negative(req.maximum, MAX_YUAN, "maximum")?;
    if req.closes.is_empty() {
        return Err(CalcError::new(
            ErrorCode::TooFewItems,
            "closes",
            "at least one close is averaged",
        ));
    }
    if req.closes.len() > MAX_CLOSES {
        return Err(CalcError::new(
            ErrorCode::TooManyItems,
            "closes",
            format!("at most {MAX_CLOSES} closes, got {}", req.closes.len()),
        ));
    }
    let mut sum = Decimal::ZERO;
    for (i, c) in req.closes.iter().enumerate() {
        let field = format!("closes[{i}]");
        sum += non_negative(*c, MAX_PRICE, &field)?;
    }
    let average = sum / Decimal::from(req.closes.len() as u64);
    let (reference, _) = to_fen(average, "closes")?;
    let in_the_money = reference < strike;
    let gap = if in_the_money {
        strike - reference
    } else {
        Decimal::ZERO
    };
    let (payout, payout_fen, capped) =
        capped(mul(gap, quantity, "quantity")?, maximum, "quantity")?;
    Ok(PriceInsuranceEstimate {
        reference: Dec(reference),
        in_the_money,
        payout,
        payout_fen,
        capped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse_request;

    fn sink(json: &str) -> CalcResult<SinkInsuranceEstimate> {
        estimate_sink(&parse_request(json)?)
    }

    fn price(json: &str) -> CalcResult<PriceInsuranceEstimate> {
        estimate_price(&parse_request(json)?)
    }

    #[test]
    fn the_bounds_are_what_they_say() {
        assert_eq!(MAX_YUAN, Decimal::from(10_000_000_000_000i64));
        assert_eq!(MAX_TONNES, Decimal::from(1_000_000_000i64));
    }

    #[test]
    fn the_index_pays_the_excess_over_the_trigger_up_to_the_maximum() {
        let e = sink(r#"{"insured_stock_t":"10000","threshold_t":"500","loss_t":"812.5","price_per_t":"40.25","maximum":"100000"}"#).unwrap();
        // 312.5 t × 40.25 = 12,578.125 → 12,578.13 yuan.
        assert_eq!(
            (e.excess_t.to_string(), e.payout.to_string(), e.payout_fen),
            ("312.5".into(), "12578.13".into(), 1_257_813)
        );
        assert!(e.triggered && !e.capped);
        let e = sink(r#"{"insured_stock_t":"10000","threshold_t":"500","loss_t":"499.99","price_per_t":"40","maximum":"100000"}"#).unwrap();
        assert_eq!((e.triggered, e.payout_fen), (false, 0));
        let e = sink(r#"{"insured_stock_t":"10000","threshold_t":"500","loss_t":"500","price_per_t":"40","maximum":"100000"}"#).unwrap();
        assert_eq!((e.triggered, e.payout_fen), (true, 0));
        // A loss beyond the insured stock counts up to it, and the maximum binds.
        let e = sink(r#"{"insured_stock_t":"1000","threshold_t":"100","loss_t":"5000","price_per_t":"50","maximum":"30000"}"#).unwrap();
        assert_eq!(
            (e.counted_loss_t.to_string(), e.payout_fen, e.capped),
            ("1000".into(), 3_000_000, true)
        );
        let e = sink(r#"{"insured_stock_t":"100","threshold_t":"101","loss_t":"1","price_per_t":"1","maximum":"1"}"#).unwrap_err();
        assert_eq!(
            (e.code, e.field.as_str()),
            (ErrorCode::OutOfRange, "threshold_t")
        );
        let e = sink(r#"{"insured_stock_t":"100","threshold_t":"1","loss_t":"-1","price_per_t":"1","maximum":"1"}"#).unwrap_err();
        assert_eq!(
            (e.code, e.field.as_str()),
            (ErrorCode::OutOfRange, "loss_t")
        );
    }

    #[test]
    fn price_insurance_pays_the_strike_over_the_average_close() {
        // Average of 30.00, 31.00, 31.01 = 30.67 (30.67 rounded): 9.33 × 1,000.
        let e = price(
            r#"{"quantity":"1000","strike":"40","closes":["30","31","31.01"],"maximum":"1000000"}"#,
        )
        .unwrap();
        assert_eq!(
            (e.reference.to_string(), e.payout_fen),
            ("30.67".into(), 933_000)
        );
        // The reference rounds half away from zero: (30.00 + 30.01) ÷ 2 = 30.005 → 30.01.
        let e =
            price(r#"{"quantity":"3","strike":"30.02","closes":["30","30.01"],"maximum":"100"}"#)
                .unwrap();
        assert_eq!(
            (e.reference.to_string(), e.payout.to_string()),
            ("30.01".into(), "0.03".into())
        );
        let e =
            price(r#"{"quantity":"1000","strike":"30","closes":["30"],"maximum":"100"}"#).unwrap();
        assert_eq!((e.in_the_money, e.payout_fen), (false, 0));
        let e = price(r#"{"quantity":"1000","strike":"40","closes":["20"],"maximum":"5000.5"}"#)
            .unwrap();
        assert_eq!((e.payout.to_string(), e.capped), ("5000.5".into(), true));
        let e = price(r#"{"quantity":"1","strike":"1","closes":[],"maximum":"1"}"#).unwrap_err();
        assert_eq!(
            (e.code, e.field.as_str()),
            (ErrorCode::TooFewItems, "closes")
        );
        let e = price(r#"{"quantity":"1","strike":"1","closes":["1","-2"],"maximum":"1"}"#)
            .unwrap_err();
        assert_eq!(
            (e.code, e.field.as_str()),
            (ErrorCode::OutOfRange, "closes[1]")
        );
    }
}
