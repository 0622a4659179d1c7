//! The daily close. After each trading day's last session (round the
//! clock, at midnight China time), per instrument: the closing price is the
//! volume-weighted average of the day's book and pick trades (block and
//! auction trades excluded), or the previous close without any; the day's
//! bar is written; `day` orders expire and give back what they hold; the
//! next day's reference price (and so its bands) is the close, and its
//! guidance price and floor the version in force on the next trading day;
//! the price corridor's triggers are evaluated (`pricing::stabilisation`)
//! pledged collateral valued (`finance::valuation`) and price insurance
//! settled (`finance::claims`).
//!
//! Safe with several replicas: each instrument's close runs under its row
//! lock and writes its bar once (the bar's key is instrument and day).

use chrono::{DateTime, FixedOffset, NaiveDate};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set};

use super::entity::{bar, order, trade, OrderStatus};
use super::error::MarketError;
use super::orders::lock_instrument;
use super::rules::MarketRules;
use super::{money, settlement};
use crate::instruments::instrument;

/// Days one run closes at most per instrument (a replica that was down for
/// longer catches up over several runs).
const MAX_DAYS_PER_RUN: usize = 30;

/// The bar of `day` from its trades (oldest first, quantities in lots of
/// `step`), after `previous`.
pub fn bar_of(
    previous: i64,
    step: money::Step,
    trades: &[trade::Model],
) -> (Option<[i64; 4]>, i64, i64, i64, i64) {
    let book: Vec<&trade::Model> = trades
        .iter()
        .filter(|t| t.method == "book" || t.method == "pick")
        .collect();
    let volume: i64 = book.iter().map(|t| t.quantity).sum();
    let turnover: i64 = book.iter().map(|t| t.value).sum();
    let block: i64 = trades
        .iter()
        .filter(|t| t.method == "block")
        .map(|t| t.quantity)
        .sum();
    let prices = (!book.is_empty()).then(|| {
        let vwap = money::vwap(turnover, volume, step).unwrap_or(previous);
        [
            book[0].price,
            book.iter().map(|t| t.price).max().unwrap_or(previous),
            book.iter().map(|t| t.price).min().unwrap_or(previous),
            vwap,
        ]
    });
    let close = prices.map_or(previous, |p| p[3]);
    (prices, close, volume, turnover, block)
}

/// Closes `day` for one instrument, once. `true` when this call closed it.
pub async fn close_day(
    db: &DatabaseConnection,
    rules: &MarketRules,
    pricing: &crate::pricing::rules::PricingRules,
    finance: &crate::finance::rules::FinanceRules,
    code: &str,
    day: NaiveDate,
    now: DateTime<FixedOffset>,
) -> Result<bool, MarketError> {
    let day_text = day.format("%Y-%m-%d").to_string();
    let txn = crate::db::begin_write(db).await?;
    let i = lock_instrument(&txn, code, 1).await?;
    if bar::Entity::find_by_id((code.to_string(), day_text.clone()))
        .one(&txn)
        .await?
        .is_some()
    {
        return Ok(false);
    }
    let trades = trade::Entity::find()
        .filter(trade::Column::Instrument.eq(code))
        .filter(trade::Column::TradingDay.eq(day_text.as_str()))
        .order_by_asc(trade::Column::Seq)
        .all(&txn)
        .await?;
    let previous = i.reference_price;
    let (prices, close, volume, turnover, block) = bar_of(previous, i.step(), &trades);
    let row = bar::ActiveModel {
        instrument: Set(code.to_string()),
        day: Set(day_text.clone()),
        open: Set(prices.map(|p| p[0])),
        high: Set(prices.map(|p| p[1])),
        low: Set(prices.map(|p| p[2])),
        close: Set(close),
        vwap: Set(prices.map(|p| p[3])),
        volume: Set(volume),
        turnover: Set(turnover),
        block_volume: Set(block),
        trades: Set(trades.len() as i64),
        previous_close: Set(previous),
        closed_at: Set(now),
    };
    bar::Entity::insert(row)
        .exec_without_returning(&txn)
        .await?;
    instrument::Entity::update_many()
        .col_expr(instrument::Column::ReferencePrice, Expr::value(close))
        .col_expr(instrument::Column::UpdatedAt, Expr::value(now))
        .filter(instrument::Column::Code.eq(code))
        .exec(&txn)
        .await?;
    // `day` orders of this day (or an earlier one missed) expire.
    let expiring = order::Entity::find()
        .filter(order::Column::Instrument.eq(code))
        .filter(order::Column::Status.eq(OrderStatus::Open))
        .filter(order::Column::Tif.eq("day"))
        .filter(order::Column::TradingDay.lte(day_text.as_str()))
        .all(&txn)
        .await?;
    for o in &expiring {
        order::Entity::update_many()
            .col_expr(order::Column::Status, Expr::value(OrderStatus::Expired))
            .col_expr(order::Column::Reason, Expr::value("expired"))
            .col_expr(order::Column::UpdatedAt, Expr::value(now))
            .filter(order::Column::Id.eq(o.id.as_str()))
            .exec(&txn)
            .await?;
        settlement::release_all(&txn, o, now).await?;
    }
    let expired_blocks = super::blocks::expire(&txn, code, &day_text, now).await?;
    // The guidance price (and floor) of the next trading day.
    crate::pricing::guidance::refresh_instrument(&txn, code, rules.next_trading_day(day), now)
        .await?;
    // The price corridor, against the guidance price of each day.
    crate::pricing::stabilisation::evaluate(&txn, pricing, code, day, now).await?;
    // Pledged collateral, at the lower of guidance price and close.
    crate::finance::valuation::at_close(&txn, finance, rules, code, day, close, now).await?;
    // Price insurance policies whose last day has come settle on it.
    crate::finance::claims::settle_price(&txn, code, day, now).await?;
    crate::audit::log::append(
        &txn,
        "market.daily_close",
        serde_json::json!({
            "instrument": code,
            "day": day_text,
            "close": money::yuan(close),
            "previous_close": money::yuan(previous),
            "volume": i.step().show(volume),
            "turnover_fen": turnover,
            "block_volume": i.step().show(block),
            "trades": trades.len(),
            "expired_orders": expiring.len(),
            "expired_blocks": expired_blocks,
        }),
        None,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(true)
}

/// Closes every trading day whose close has passed, for every instrument,
/// from the day after its last bar (or its listing). Answers the closes
/// made.
pub async fn run_due(
    db: &DatabaseConnection,
    rules: &MarketRules,
    pricing: &crate::pricing::rules::PricingRules,
    finance: &crate::finance::rules::FinanceRules,
    now: DateTime<FixedOffset>,
) -> Result<usize, MarketError> {
    let mut closed = 0;
    for i in super::listing::all(db).await? {
        let last = bar::Entity::find()
            .filter(bar::Column::Instrument.eq(i.code.as_str()))
            .order_by_desc(bar::Column::Day)
            .one(db)
            .await?
            .and_then(|b| NaiveDate::parse_from_str(&b.day, "%Y-%m-%d").ok());
        // The day before the listing: the listing day closes too.
        let after = last.unwrap_or_else(|| {
            crate::clock::china_date(i.listed_at)
                .pred_opt()
                .unwrap_or(NaiveDate::MIN)
        });
        for day in rules.closes_due(after, now, MAX_DAYS_PER_RUN) {
            if close_day(db, rules, pricing, finance, &i.code, day, now).await? {
                closed += 1;
            }
        }
    }
    Ok(closed)
}

/// The last day of `code` that has closed (its bar is written), if any:
/// what happened on it and before may be published.
pub async fn last_closed_day(
    db: &impl sea_orm::ConnectionTrait,
    code: &str,
) -> Result<Option<String>, MarketError> {
    Ok(bar::Entity::find()
        .filter(bar::Column::Instrument.eq(code))
        .order_by_desc(bar::Column::Day)
        .one(db)
        .await?
        .map(|b| b.day))
}

/// The latest `limit` bars of an instrument, oldest first.
pub async fn bars(
    db: &DatabaseConnection,
    code: &str,
    limit: u64,
) -> Result<Vec<bar::Model>, MarketError> {
    use sea_orm::QuerySelect;
    let mut rows = bar::Entity::find()
        .filter(bar::Column::Instrument.eq(code))
        .order_by_desc(bar::Column::Day)
        .limit(limit)
        .all(db)
        .await?;
    rows.reverse();
    Ok(rows)
}
