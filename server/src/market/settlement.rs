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
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set,
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

/// Cash a buy order of `remaining` lots at `limit` must hold: the value,
/// the most its fees can come to (rounded up), and, when there are fees,
/// one fen per lot for the rounding of each fill's fee (a fill's fee is
/// rounded on its own, at most half a fen more than its share).
pub fn buy_hold(
    limit: i64,
    remaining: i64,
    step: money::Step,
    fee_rate: Decimal,
) -> Result<i64, money::MoneyError> {
    let value = money::value(limit, remaining, step)?;
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
pub(crate) async fn left_in(txn: &impl ConnectionTrait, hold_id: &str) -> Result<i64, MarketError> {
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

/// What one fill moves (the DvP rule, in one place for the one-trade path
/// and the lanes' batches): the value and each side's fee, the draws on
/// the orders' holds and the units delivered per batch.
pub(super) struct Settlement {
    pub value: i64,
    pub buyer_fee: i64,
    pub seller_fee: i64,
    pub draws: Vec<Draw>,
    /// (batch, grams), in the order the sell order held them.
    pub deliveries: Vec<(String, i64)>,
}

/// Works out one fill from the sell order's lots (in position order) and
/// what each of the orders' holds still holds (`left_in`).
pub(super) fn plan(
    fill: &Fill<'_>,
    parties: &Parties<'_>,
    rules: &MarketRules,
    lots: &[order_lot::Model],
    left_in: impl Fn(&str) -> i64,
) -> Result<Settlement, MarketError> {
    let Fill {
        instrument,
        buy,
        sell,
        price,
        quantity,
        ..
    } = *fill;
    let value = money::value(price, quantity, instrument.step())
        .map_err(|e| MarketError::invalid("quantity", e.to_string()))?;
    let buyer_rate = rules.fee_rate_of_order(buy);
    let buyer_fee = money::fee(value, buyer_rate);
    let seller_fee = money::fee(value, rules.fee_rate_of_order(sell));
    let mut draws = Vec::new();

    // Units, from the sell order's batches in the order it held them.
    let mut grams = money::to_minor(quantity, instrument.minor_per_lot())
        .map_err(|e| MarketError::invalid("quantity", e.to_string()))?;
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
        // One delivery per batch: a pledge's lot may hold one batch under
        // several holds (its confirmation and each top-up).
        match deliveries.iter_mut().find(|(b, _)| *b == lot.batch_id) {
            Some((_, g)) => *g += take,
            None => deliveries.push((lot.batch_id.clone(), take)),
        }
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
    let cash = cash_hold_id(&buy.id);
    let left = left_in(&cash);
    let paid = value + buyer_fee;
    let after = buy.remaining - quantity;
    let needed = buy_hold(buy.price, after, instrument.step(), buyer_rate)
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
    Ok(Settlement {
        value,
        buyer_fee,
        seller_fee,
        draws,
        deliveries,
    })
}

/// The ledger transaction of trade `id`, and the note its audit event
/// carries.
pub(super) fn ledger_request(
    fill: &Fill<'_>,
    s: &Settlement,
    id: &str,
) -> (Request, serde_json::Value) {
    (
        Request {
            id: format!("trade:{id}"),
            memo: Some(format!(
                "{} {} @ {}",
                fill.instrument.code,
                fill.quantity,
                money::yuan(fill.price)
            )),
            command: Command::Settle {
                draws: s.draws.clone(),
            },
        },
        serde_json::json!({ "trade": id }),
    )
}

/// The trade's audit event (`market.trade`).
pub(super) fn event_body(fill: &Fill<'_>, s: &Settlement, id: &str, seq: i64) -> serde_json::Value {
    serde_json::json!({
        "trade": id,
        "instrument": fill.instrument.code,
        "seq": seq,
        "method": fill.method,
        "price": money::yuan(fill.price),
        "quantity": fill.instrument.step().show(fill.quantity),
        "value_fen": s.value,
        "buyer": fill.buy.organization_id,
        "seller": fill.sell.organization_id,
        "buyer_fee_fen": s.buyer_fee,
        "seller_fee_fen": s.seller_fee,
        "deliveries": s.deliveries.iter().map(|(b, g)| serde_json::json!({"batch": b, "grams": g})).collect::<Vec<_>>(),
    })
}

/// The trade's row and its deliveries' rows.
#[allow(clippy::too_many_arguments)]
pub(super) fn rows(
    fill: &Fill<'_>,
    parties: &Parties<'_>,
    s: &Settlement,
    id: &str,
    seq: i64,
    trading_day: &str,
    event: i64,
    now: DateTime<FixedOffset>,
) -> (trade::Model, Vec<delivery::ActiveModel>) {
    let row = trade::Model {
        id: id.to_string(),
        instrument: fill.instrument.code.clone(),
        seq,
        method: fill.method.into(),
        buy_order_id: Some(fill.buy.id.clone()),
        sell_order_id: Some(fill.sell.id.clone()),
        buyer_organization_id: fill.buy.organization_id.clone(),
        seller_organization_id: fill.sell.organization_id.clone(),
        buyer_account_id: parties.buyer.id.clone(),
        seller_account_id: parties.seller.id.clone(),
        price: fill.price,
        quantity: fill.quantity,
        value: s.value,
        buyer_fee: s.buyer_fee,
        seller_fee: s.seller_fee,
        taker_side: fill.taker_side.map(Into::into),
        trading_day: trading_day.to_string(),
        audit_event_id: event,
        created_at: now,
    };
    let deliveries = s
        .deliveries
        .iter()
        .map(|(batch_id, grams)| delivery::ActiveModel {
            trade_id: Set(id.to_string()),
            batch_id: Set(batch_id.clone()),
            grams: Set(*grams),
        })
        .collect();
    (row, deliveries)
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
    let lots = order_lot::Entity::find()
        .filter(order_lot::Column::OrderId.eq(fill.sell.id.as_str()))
        .order_by_asc(order_lot::Column::Position)
        .all(txn)
        .await?;
    // What each of the orders' holds still holds, in one read.
    let mut ids: Vec<String> = lots.iter().map(|l| l.hold_id.clone()).collect();
    ids.push(cash_hold_id(&fill.buy.id));
    let holding: std::collections::HashMap<String, i64> = hold::Entity::find()
        .filter(hold::Column::Id.is_in(ids))
        .filter(hold::Column::Status.eq("held"))
        .all(txn)
        .await?
        .into_iter()
        .map(|h| (h.id, h.amount - h.drawn))
        .collect();
    let s = plan(fill, parties, rules, &lots, |id| {
        holding.get(id).copied().unwrap_or(0)
    })?;
    let id = uuid::Uuid::now_v7().to_string();
    let seq = next_trade_seq(txn, &fill.instrument.code).await?;
    let (request, note) = ledger_request(fill, &s, &id);
    ledger::apply_within_noted(
        txn,
        &request,
        &[parties.buyer, parties.seller, parties.fees],
        note,
        now,
    )
    .await?;
    let event = crate::audit::log::append(
        txn,
        "market.trade",
        event_body(fill, &s, &id, seq),
        None,
        now,
    )
    .await?;
    let (row, deliveries) = rows(fill, parties, &s, &id, seq, trading_day, event, now);
    let row = trade::Entity::insert(row.into_active_model())
        .exec_with_returning(txn)
        .await?;
    delivery::Entity::insert_many(deliveries)
        .exec_without_returning(txn)
        .await?;
    Ok(row)
}

/// The next number of the instrument's tape. The caller holds the
/// instrument's row lock, so no other transaction numbers at once.
pub(super) async fn next_trade_seq(
    txn: &impl ConnectionTrait,
    code: &str,
) -> Result<i64, MarketError> {
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
