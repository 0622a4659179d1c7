//! What an order holds from entry: cash for a buy (price × quantity and
//! the most its fees can be), units for a sell (batch by batch, oldest
//! first), after the T+1 and position-limit checks.

use chrono::{DateTime, FixedOffset};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::entity::{order, order_lot, trade, OrderStatus};
use super::error::MarketError;
use super::participants::Participant;
use super::rules::MarketRules;
use super::{money, settlement};
use crate::instruments::instrument;
use crate::ledger::entity::balance;
use crate::ledger::{self, Asset, Command, LedgerError, Request};
use crate::orgs::entity::OrgKind;
use crate::problem::ProblemCode;
use crate::registry::entity::batch;

/// The ids of the instrument's credit batches, oldest first.
pub(super) async fn batches_of(
    txn: &impl ConnectionTrait,
    code: &str,
) -> Result<Vec<String>, MarketError> {
    Ok(batch::Entity::find()
        .select_only()
        .column(batch::Column::Id)
        .filter(batch::Column::Instrument.eq(code))
        .order_by_asc(batch::Column::IssuedAt)
        .order_by_asc(batch::Column::Id)
        .into_tuple()
        .all(txn)
        .await?)
}

/// A participant's credit batches of an instrument with grams available
/// (posted − held), oldest batch first.
pub(super) async fn available_lots(
    txn: &impl ConnectionTrait,
    account_id: &str,
    code: &str,
) -> Result<Vec<(String, i64)>, MarketError> {
    let batches = batches_of(txn, code).await?;
    if batches.is_empty() {
        return Ok(Vec::new());
    }
    let assets: Vec<String> = batches.iter().map(|b| format!("credit:{b}")).collect();
    let balances = balance::Entity::find()
        .filter(balance::Column::AccountId.eq(account_id))
        .filter(balance::Column::Asset.is_in(assets))
        .all(txn)
        .await?;
    let available = |b: &str| {
        balances
            .iter()
            .filter(|x| x.asset.strip_prefix("credit:") == Some(b))
            .map(|x| x.posted - x.held)
            .sum::<i64>()
    };
    Ok(batches
        .into_iter()
        .map(|b| {
            let a = available(&b);
            (b, a)
        })
        .filter(|(_, a)| *a > 0)
        .collect())
}

/// Units of the instrument the organisation bought on `day` (locked by
/// T+1).
pub(super) async fn bought_on(
    txn: &impl ConnectionTrait,
    org_id: &str,
    code: &str,
    day: &str,
) -> Result<i64, MarketError> {
    let rows: Vec<i64> = trade::Entity::find()
        .select_only()
        .column(trade::Column::Quantity)
        .filter(trade::Column::BuyerOrganizationId.eq(org_id))
        .filter(trade::Column::Instrument.eq(code))
        .filter(trade::Column::TradingDay.eq(day))
        .into_tuple()
        .all(txn)
        .await?;
    Ok(rows.into_iter().sum())
}

/// Units of the instrument the account holds (posted, whether held or
/// not).
pub(super) async fn holding(
    txn: &impl ConnectionTrait,
    account_id: &str,
    code: &str,
    minor_per_unit: i64,
) -> Result<i64, MarketError> {
    let batches = batches_of(txn, code).await?;
    let assets: Vec<String> = batches.iter().map(|b| format!("credit:{b}")).collect();
    let posted: Vec<i64> = balance::Entity::find()
        .select_only()
        .column(balance::Column::Posted)
        .filter(balance::Column::AccountId.eq(account_id))
        .filter(balance::Column::Asset.is_in(assets))
        .into_tuple()
        .all(txn)
        .await?;
    Ok(posted.into_iter().sum::<i64>() / minor_per_unit)
}

/// Open buy orders' remaining units of the instrument.
async fn buying(txn: &impl ConnectionTrait, org_id: &str, code: &str) -> Result<i64, MarketError> {
    let rows: Vec<i64> = order::Entity::find()
        .select_only()
        .column(order::Column::Remaining)
        .filter(order::Column::OrganizationId.eq(org_id))
        .filter(order::Column::Instrument.eq(code))
        .filter(order::Column::Side.eq("buy"))
        .filter(order::Column::Status.is_in([OrderStatus::Open, OrderStatus::Pending]))
        .into_tuple()
        .all(txn)
        .await?;
    Ok(rows.into_iter().sum())
}

/// Holds what a new order may need: cash for a buy, units (batch by
/// batch, oldest first) for a sell, after the T+1 and position checks.
pub(super) async fn hold_for(
    txn: &DatabaseTransaction,
    o: &order::Model,
    who: &Participant,
    i: &instrument::Model,
    rules: &MarketRules,
    now: DateTime<FixedOffset>,
) -> Result<(), MarketError> {
    if o.side == "buy" {
        if who.org.kind != OrgKind::ReservePlatform {
            let after = holding(txn, &who.account.id, &i.code, i.minor_per_unit).await?
                + buying(txn, &who.org.id, &i.code).await?;
            if after > rules.position_limit_units {
                return Err(MarketError::Conflict(
                    ProblemCode::PositionLimit,
                    format!(
                        "holding and buying {after} units would pass the position limit of {} units in {}",
                        rules.position_limit_units, i.code
                    ),
                ));
            }
        }
        let amount = settlement::buy_hold(o.price, o.quantity, rules.fee_rate_of_order(o))
            .map_err(|e| MarketError::invalid("quantity", e.to_string()))?;
        let held = ledger::apply_within(
            txn,
            &Request {
                id: settlement::cash_hold_id(&o.id),
                memo: Some(format!("buy order {}", o.id)),
                command: Command::Hold {
                    account_id: who.account.id.clone(),
                    asset: Asset::cny(),
                    amount,
                },
            },
            &[&who.account],
            now,
        )
        .await;
        return match held {
            Ok(_) => Ok(()),
            Err(LedgerError::Insufficient { .. }) => Err(MarketError::Conflict(
                ProblemCode::InsufficientCash,
                format!(
                    "the order needs {} yuan of cash available (price × quantity and the most its fees can be)",
                    money::yuan(amount)
                ),
            )),
            Err(e) => Err(e.into()),
        };
    }
    let lots = available_lots(txn, &who.account.id, &i.code).await?;
    let available: i64 = lots.iter().map(|(_, g)| g).sum::<i64>() / i.minor_per_unit;
    let locked = if rules.t_plus_one {
        bought_on(txn, &who.org.id, &i.code, &o.trading_day).await?
    } else {
        0
    };
    if o.quantity > available {
        return Err(MarketError::Conflict(
            ProblemCode::InsufficientUnits,
            format!("{available} units of {} are available to sell", i.code),
        ));
    }
    if o.quantity > available - locked {
        return Err(MarketError::Conflict(
            ProblemCode::TPlusOne,
            format!(
                "{locked} of the {available} units available were bought today and can be sold from the next trading day"
            ),
        ));
    }
    let mut grams = money::to_minor(o.quantity, i.minor_per_unit)
        .map_err(|e| MarketError::invalid("quantity", e.to_string()))?;
    for (position, (batch_id, available)) in (0i32..).zip(lots) {
        if grams == 0 {
            break;
        }
        let take = std::cmp::min(available, grams);
        let hold_id = settlement::lot_hold_id(&o.id, position);
        ledger::apply_within(
            txn,
            &Request {
                id: hold_id.clone(),
                memo: Some(format!("sell order {}", o.id)),
                command: Command::Hold {
                    account_id: who.account.id.clone(),
                    asset: Asset::parse(&format!("credit:{batch_id}")).map_err(|e| {
                        MarketError::Database(sea_orm::DbErr::Custom(e.to_string()))
                    })?,
                    amount: take,
                },
            },
            &[&who.account],
            now,
        )
        .await
        .map_err(|e| match e {
            // Moved away meanwhile (a transfer or retirement of the batch).
            LedgerError::Insufficient { .. } => MarketError::Conflict(
                ProblemCode::InsufficientUnits,
                format!("units of {batch_id} moved meanwhile; try again"),
            ),
            other => other.into(),
        })?;
        order_lot::Entity::insert(order_lot::ActiveModel {
            order_id: Set(o.id.clone()),
            position: Set(position),
            batch_id: Set(batch_id),
            hold_id: Set(hold_id),
            grams: Set(take),
        })
        .exec_without_returning(txn)
        .await?;
        grams -= take;
    }
    Ok(())
}
