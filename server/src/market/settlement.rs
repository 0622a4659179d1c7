//! Delivery versus payment (DESIGN.md invariant 4): one trade is one
//! ledger transaction that draws the seller's units, batch by batch in
//! the order its sell order held them (oldest first), and the buyer's cash
//! from the holds their orders placed, pays the fees and gives back cash
//! the buy order no longer needs; with the trade row, its deliveries and
//! its audit-log event, in the caller's transaction. Either all of it
//! commits or nothing does.

use chrono::{DateTime, FixedOffset};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, Set,
};

use super::entity::{delivery, order, order_lot, trade};
use super::error::MarketError;
use super::money;
use super::rules::MarketRules;
use crate::accounts::entity as account;
use crate::instruments::instrument;
use crate::ledger::entity::hold;
use crate::ledger::{self, Command, Draw, Request};

/// The prefix of the system accounts that collect trading fees.
pub const FEE_ACCOUNT: &str = "fees:market";

/// The account that collects the trading fees of instrument `code`. One
/// per instrument: every credit to it happens under its instrument's row
/// lock, so the batches of two instruments never wait (or deadlock) on
/// each other's fee rows, as they did on one account for all.
pub fn fee_account(code: &str) -> String {
    format!("{FEE_ACCOUNT}:{code}")
}

/// [`fee_account`]'s account, opened on first use (outside any
/// transaction: `systems` remembers it).
pub async fn fees_of(
    systems: &crate::accounts::service::SystemAccounts,
    db: &sea_orm::DatabaseConnection,
    code: &str,
    now: DateTime<FixedOffset>,
) -> Result<account::Model, MarketError> {
    Ok(systems.get(db, &fee_account(code), now).await?)
}

/// Cash a buy order of `remaining` units at `limit` must hold: the value,
/// the most its fees can come to (rounded up), and, when there are fees,
/// one fen per unit for the rounding of each fill's fee (a fill's fee is
/// rounded on its own, at most half a fen more than its share).
pub fn buy_hold(limit: i64, remaining: i64, fee_rate: Decimal) -> Result<i64, money::MoneyError> {
    let value = money::value(limit, remaining)?;
    if fee_rate.is_zero() {
        return Ok(value);
    }
    let fee = (Decimal::from(value) * fee_rate)
        .ceil()
        .to_i64()
        .unwrap_or(i64::MAX);
    value
        .checked_add(fee)
        .and_then(|v| v.checked_add(remaining))
        .filter(|v| *v <= money::MAX_VALUE_FEN)
        .ok_or(money::MoneyError::Value)
}

/// The ledger's hold of a buy order's cash.
pub fn cash_hold_id(order_id: &str) -> String {
    format!("order:{order_id}:cash")
}

/// The ledger's hold of a sell order's units of its `position`th batch.
pub fn lot_hold_id(order_id: &str, position: i32) -> String {
    format!("order:{order_id}:lot:{position}")
}

/// What a hold still holds (amount − drawn), or 0 when it is resolved.
async fn left_in(txn: &impl ConnectionTrait, hold_id: &str) -> Result<i64, MarketError> {
    Ok(hold::Entity::find_by_id(hold_id.to_string())
        .one(txn)
        .await?
        .filter(|h| h.status == "held")
        .map_or(0, |h| h.amount - h.drawn))
}

/// One fill between a buy order and a sell order.
pub struct Fill<'a> {
    pub instrument: &'a instrument::Model,
    pub buy: &'a order::Model,
    pub sell: &'a order::Model,
    pub price: i64,
    pub quantity: i64,
    /// `book`, `pick`, `block` or `auction`.
    pub method: &'static str,
    /// The side that took (book and pick trades).
    pub taker_side: Option<&'static str>,
}

pub struct Parties<'a> {
    pub buyer: &'a account::Model,
    pub seller: &'a account::Model,
    pub fees: &'a account::Model,
}

/// Settles one fill: units and cash move, fees are paid, the buy order's
/// surplus cash is given back; the trade, its deliveries and its event are
/// written. The orders' rows are the caller's to update. Each side pays
/// the fee rate its order was entered under (`rules`' market-wide rate for
/// orders older than per-order rates), so what a buy order holds always
/// covers its fees.
pub async fn settle(
    txn: &DatabaseTransaction,
    fill: &Fill<'_>,
    parties: &Parties<'_>,
    rules: &MarketRules,
    trading_day: &str,
    now: DateTime<FixedOffset>,
) -> Result<trade::Model, MarketError> {
    let Fill {
        instrument,
        buy,
        sell,
        price,
        quantity,
        ..
    } = *fill;
    let value = money::value(price, quantity)
        .map_err(|e| MarketError::invalid("quantity", e.to_string()))?;
    let buyer_rate = rules.fee_rate_of_order(buy);
    let buyer_fee = money::fee(value, buyer_rate);
    let seller_fee = money::fee(value, rules.fee_rate_of_order(sell));
    let mut draws = Vec::new();

    // Units, from the sell order's batches in the order it held them.
    let mut grams = money::to_minor(quantity, instrument.minor_per_unit)
        .map_err(|e| MarketError::invalid("quantity", e.to_string()))?;
    let lots = order_lot::Entity::find()
        .filter(order_lot::Column::OrderId.eq(sell.id.as_str()))
        .order_by_asc(order_lot::Column::Position)
        .all(txn)
        .await?;
    // What each of the orders' holds still holds, in one read.
    let cash = cash_hold_id(&buy.id);
    let mut ids: Vec<String> = lots.iter().map(|l| l.hold_id.clone()).collect();
    ids.push(cash.clone());
    let holding: std::collections::HashMap<String, i64> = hold::Entity::find()
        .filter(hold::Column::Id.is_in(ids))
        .filter(hold::Column::Status.eq("held"))
        .all(txn)
        .await?
        .into_iter()
        .map(|h| (h.id, h.amount - h.drawn))
        .collect();
    let left_in = |id: &str| holding.get(id).copied().unwrap_or(0);
    let mut deliveries: Vec<(String, i64)> = Vec::new();
    for lot in lots {
        if grams == 0 {
            break;
        }
        let take = left_in(&lot.hold_id).min(grams);
        if take == 0 {
            continue;
        }
        draws.push(Draw {
            hold_id: lot.hold_id.clone(),
            to_account_id: Some(parties.buyer.id.clone()),
            amount: take,
        });
        deliveries.push((lot.batch_id.clone(), take));
        grams -= take;
    }
    if grams != 0 {
        // The sell order holds exactly what it has left to deliver.
        return Err(MarketError::Database(sea_orm::DbErr::Custom(format!(
            "sell order {} holds {grams} g too few",
            sell.id
        ))));
    }

    // Cash, from the buy order's hold: the seller's proceeds net of its
    // fee, both fees, and what the rest of the order no longer needs.
    let left = left_in(&cash);
    let paid = value + buyer_fee;
    let after = buy.remaining - quantity;
    let needed = buy_hold(buy.price, after, buyer_rate)
        .map_err(|e| MarketError::invalid("quantity", e.to_string()))?;
    let surplus = left - paid - needed;
    if surplus < 0 {
        return Err(MarketError::Database(sea_orm::DbErr::Custom(format!(
            "buy order {} holds {} fen too little",
            buy.id, -surplus
        ))));
    }
    let mut pay = |to: Option<&account::Model>, amount: i64| {
        if amount > 0 {
            draws.push(Draw {
                hold_id: cash.clone(),
                to_account_id: to.map(|a| a.id.clone()),
                amount,
            });
        }
    };
    pay(Some(parties.seller), value - seller_fee);
    pay(Some(parties.fees), buyer_fee + seller_fee);
    pay(None, surplus);

    let id = uuid::Uuid::now_v7().to_string();
    let seq = next_trade_seq(txn, &instrument.code).await?;
    let body = serde_json::json!({
        "trade": id,
        "instrument": instrument.code,
        "seq": seq,
        "method": fill.method,
        "price": money::yuan(price),
        "quantity": quantity,
        "value_fen": value,
        "buyer": buy.organization_id,
        "seller": sell.organization_id,
        "buyer_fee_fen": buyer_fee,
        "seller_fee_fen": seller_fee,
        "deliveries": deliveries.iter().map(|(b, g)| serde_json::json!({"batch": b, "grams": g})).collect::<Vec<_>>(),
    });
    ledger::apply_within_noted(
        txn,
        &Request {
            id: format!("trade:{id}"),
            memo: Some(format!(
                "{} {} @ {}",
                instrument.code,
                quantity,
                money::yuan(price)
            )),
            command: Command::Settle { draws },
        },
        &[parties.buyer, parties.seller, parties.fees],
        serde_json::json!({ "trade": id }),
        now,
    )
    .await?;
    let event = crate::audit::log::append(txn, "market.trade", body, None, now).await?;
    let row = trade::Entity::insert(trade::ActiveModel {
        id: Set(id.clone()),
        instrument: Set(instrument.code.clone()),
        seq: Set(seq),
        method: Set(fill.method.into()),
        buy_order_id: Set(Some(buy.id.clone())),
        sell_order_id: Set(Some(sell.id.clone())),
        buyer_organization_id: Set(buy.organization_id.clone()),
        seller_organization_id: Set(sell.organization_id.clone()),
        buyer_account_id: Set(parties.buyer.id.clone()),
        seller_account_id: Set(parties.seller.id.clone()),
        price: Set(price),
        quantity: Set(quantity),
        value: Set(value),
        buyer_fee: Set(buyer_fee),
        seller_fee: Set(seller_fee),
        taker_side: Set(fill.taker_side.map(Into::into)),
        trading_day: Set(trading_day.to_string()),
        audit_event_id: Set(event),
        created_at: Set(now),
    })
    .exec_with_returning(txn)
    .await?;
    delivery::Entity::insert_many(deliveries.into_iter().map(|(batch_id, grams)| {
        delivery::ActiveModel {
            trade_id: Set(id.clone()),
            batch_id: Set(batch_id),
            grams: Set(grams),
        }
    }))
    .exec_without_returning(txn)
    .await?;
    Ok(row)
}

/// The next number of the instrument's tape. The caller holds the
/// instrument's row lock, so no other transaction numbers at once.
async fn next_trade_seq(txn: &impl ConnectionTrait, code: &str) -> Result<i64, MarketError> {
    let last = trade::Entity::find()
        .filter(trade::Column::Instrument.eq(code))
        .order_by_desc(trade::Column::Seq)
        .one(txn)
        .await?
        .map_or(0, |t| t.seq);
    Ok(last + 1)
}

/// Gives back everything an order still holds (its rest was cancelled,
/// expired, or it is done).
pub async fn release_all(
    txn: &DatabaseTransaction,
    o: &order::Model,
    now: DateTime<FixedOffset>,
) -> Result<(), MarketError> {
    let holds: Vec<String> = if o.side == "buy" {
        vec![cash_hold_id(&o.id)]
    } else {
        order_lot::Entity::find()
            .filter(order_lot::Column::OrderId.eq(o.id.as_str()))
            .order_by_asc(order_lot::Column::Position)
            .all(txn)
            .await?
            .into_iter()
            .map(|l| l.hold_id)
            .collect()
    };
    for hold_id in holds {
        if left_in(txn, &hold_id).await? == 0 {
            continue;
        }
        ledger::apply_within(
            txn,
            &Request {
                id: format!("{hold_id}:released"),
                memo: None,
                command: Command::Release { hold_id },
            },
            &[],
            now,
        )
        .await?;
    }
    Ok(())
}
