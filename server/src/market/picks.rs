//! Picks (点选): a participant takes a chosen resting order among the best
//! price levels of its side, in full or in part, at its price, whatever
//! its time priority. A pick is an immediate order of kind `pick` that
//! holds and settles like any other.

use chrono::{DateTime, FixedOffset};
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::entity::{order, OrderKind, OrderStatus};
use super::error::MarketError;
use super::matching::{self, PickError, Resting, Side, TimeInForce};
use super::money::Step;
use super::orders::{
    answer, begin_entry, check_price, lock_instrument, open_order, record_fill, refuse_unless_open,
    replay_of, side_of, trade_with, Placed, Terms, Trade,
};
use super::participants::Participant;
use super::rules::MarketRules;
use super::settlement;
use crate::accounts::entity as account;
use crate::accounts::service::SystemAccounts;
use crate::auth::extract::Principal;
use crate::instruments::instrument;
use crate::problem::ProblemCode;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PickInput {
    /// The participant taking the order (the caller acts for it).
    pub organization_id: String,
    /// As for orders: unique per organisation, replays answer the first.
    #[schema(example = "2026-11-30-0002")]
    pub client_order_id: String,
    /// The resting order picked, among the best price levels of its side.
    pub order_id: String,
    /// Units, a whole number of the instrument's steps, at most what the
    /// picked order has left.
    #[schema(value_type = String, example = "10")]
    pub quantity: crate::amount::Units,
}

/// Takes a chosen resting order (run again if a deadlock aborted it).
pub async fn pick(
    db: &DatabaseConnection,
    who: &Principal,
    rules: &MarketRules,
    systems: &SystemAccounts,
    input: &PickInput,
    now: DateTime<FixedOffset>,
) -> Result<Placed, MarketError> {
    super::retry::retrying(|| pick_once(db, who, rules, systems, input, now)).await
}

/// Takes a chosen resting order (点选), in full or in part, at its price.
async fn pick_once(
    db: &DatabaseConnection,
    who: &Principal,
    rules: &MarketRules,
    systems: &SystemAccounts,
    input: &PickInput,
    now: DateTime<FixedOffset>,
) -> Result<Placed, MarketError> {
    let unknown = || MarketError::unknown("order_id", "no such resting order");
    let code = order::Entity::find_by_id(input.order_id.clone())
        .one(db)
        .await?
        .ok_or_else(unknown)?
        .instrument;
    let step = Step::of_code(&code);
    let quantity = super::orders::lots(step, "quantity", input.quantity)?;
    let hash = hex::encode(Sha256::digest(
        serde_json::json!(["pick", input.order_id, quantity])
            .to_string()
            .as_bytes(),
    ));
    let entry = begin_entry(
        db,
        who,
        step,
        1..=rules.max_order_units * step.lots_per_unit,
        &input.organization_id,
        &input.client_order_id,
        quantity,
        hash,
    )
    .await?;
    if let Some(first) = replay_of(db, &entry).await? {
        return Ok(first);
    }
    let fees = &settlement::fees_of(systems, db, &code, now).await?;
    let day = crate::clock::china_day(now);
    let txn = crate::db::begin_write(db).await?;
    let i = lock_instrument(&txn, &code, 1).await?;
    refuse_unless_open(rules, &i, now)?;
    // Read again under the lock: what it has left now.
    let target = order::Entity::find_by_id(input.order_id.clone())
        .one(&txn)
        .await?
        .ok_or_else(unknown)?;
    if target.status != OrderStatus::Open {
        return Err(MarketError::Conflict(
            ProblemCode::OrderNotOpen,
            "the picked order is filled, cancelled or expired".into(),
        ));
    }
    let side = side_of(&target);
    let levels = best_prices(&txn, &code, side, rules.pick_levels as u64).await?;
    let resting = Resting {
        seq: target.seq as u64,
        owner: target.organization_id.clone(),
        side,
        price: target.price,
        remaining: target.remaining,
    };
    matching::pick(
        &resting,
        &levels,
        rules.pick_levels as usize,
        &entry.me.org.id,
        i.last_sequence as u64,
        quantity,
    )
    .map_err(|e| match e {
        PickError::TooMuch(left) => MarketError::invalid(
            "quantity",
            format!("the order has only {} left", step.show(left)),
        ),
        PickError::NotPositive => MarketError::invalid("quantity", e.to_string()),
        PickError::NotResting(_) => unknown(),
        PickError::NotInBestLevels(_) => {
            MarketError::Conflict(ProblemCode::NotPickable, e.to_string())
        }
        PickError::SelfTrade => MarketError::Conflict(ProblemCode::SelfTrade, e.to_string()),
    })?;
    check_price(&i, rules.band, target.price, "picks")?;
    let terms = Terms {
        instrument: &i,
        kind: OrderKind::Pick,
        side: side.opposite(),
        price: target.price,
        quantity,
        tif: TimeInForce::Ioc,
        picked: Some(target.id.clone()),
        status: OrderStatus::Open,
        auction: None,
    };
    let Some(taker) = open_order(&txn, who, rules, &entry, terms, &day, now).await? else {
        txn.rollback().await?;
        return replay_of(db, &entry).await?.ok_or(MarketError::NotFound);
    };
    let taker = settle_pick(&txn, rules, fees, &i, &entry.me, taker, &target, &day, now).await?;
    txn.commit().await?;
    answer(db, taker, false).await
}

/// The distinct prices of a side's open orders, best first, at most `n`.
async fn best_prices(
    txn: &impl ConnectionTrait,
    code: &str,
    side: Side,
    n: u64,
) -> Result<Vec<i64>, MarketError> {
    Ok(super::book::depth(txn, code, side, n)
        .await?
        .into_iter()
        .map(|(price, _, _)| price)
        .collect())
}

/// Settles a pick's one fill and closes the pick.
#[allow(clippy::too_many_arguments)]
async fn settle_pick(
    txn: &DatabaseTransaction,
    rules: &MarketRules,
    fees: &account::Model,
    i: &instrument::Model,
    me: &Participant,
    taker: order::Model,
    maker: &order::Model,
    day: &str,
    now: DateTime<FixedOffset>,
) -> Result<order::Model, MarketError> {
    let at = Trade {
        price: maker.price,
        quantity: taker.quantity,
        method: "pick",
    };
    trade_with(txn, rules, fees, i, me, &taker, maker, at, day, now).await?;
    let done = record_fill(txn, &taker, taker.quantity, now).await?;
    settlement::release_all(txn, &done, now).await?;
    Ok(done)
}
