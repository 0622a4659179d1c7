//! Price stabilisation: at each daily close the corridor's triggers are
//! evaluated against the closes (`corridor::fired`), with the guidance
//! price in force on each day. A trigger that fires makes an action — one
//! per instrument, trigger and day, however many replicas close (the
//! table's unique key) — recording the run of closes behind it. Reserve
//! platform staff execute it: an upper trigger **releases** reserve stock
//! by one-way bidding at the trigger price; a lower one **supports** the
//! price with a bid in the book at the trigger price, within the reserve's
//! cash.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::corridor::{fired, Day, Trigger};
use super::entity::{action, guidance};
use super::rules::PricingRules;
use crate::auth::extract::Principal;
use crate::market::auctions::AuctionInput;
use crate::market::entity::bar;
use crate::market::error::MarketError;
use crate::market::matching::{Side, TimeInForce};
use crate::market::orders::OrderInput;
use crate::market::rules::MarketRules;
use crate::market::{money, participants, positions, settlement};
use crate::orgs::entity::OrgKind;
use crate::problem::ProblemCode;

pub mod status {
    pub const OPEN: &str = "open";
    pub const EXECUTED: &str = "executed";
    pub const ALL: &[&str] = &[OPEN, EXECUTED];
}

/// Closes read back to find a run: a year of trading days.
const LOOK_BACK_DAYS: u64 = 250;

fn trigger_text(t: Trigger) -> &'static str {
    match t {
        Trigger::Upper => "upper",
        Trigger::Lower => "lower",
    }
}

/// The version of `versions` (any order) in force on `day`: the rule of
/// `guidance::in_force`, over versions already read (a close measures a
/// year of days against them).
fn in_force_on<'v>(versions: &'v [guidance::Model], day: &str) -> Option<&'v guidance::Model> {
    versions
        .iter()
        .filter(|v| v.effective_from.as_str() <= day)
        .max_by(|a, b| (&a.effective_from, a.version).cmp(&(&b.effective_from, b.version)))
}

/// Evaluates the corridor after the close of `day` (the caller closes it
/// in `txn`, its bar written): the action a trigger fired, if one did.
pub async fn evaluate(
    txn: &DatabaseTransaction,
    rules: &PricingRules,
    code: &str,
    day: NaiveDate,
    now: DateTime<FixedOffset>,
) -> Result<Option<action::Model>, MarketError> {
    let versions = guidance::Entity::find()
        .filter(guidance::Column::Instrument.eq(code))
        .all(txn)
        .await?;
    if versions.is_empty() {
        return Ok(None);
    }
    let mut bars = bar::Entity::find()
        .filter(bar::Column::Instrument.eq(code))
        .filter(bar::Column::Day.lte(day.format("%Y-%m-%d").to_string()))
        .order_by_desc(bar::Column::Day)
        .limit(LOOK_BACK_DAYS)
        .all(txn)
        .await?;
    bars.reverse();
    let corridor = rules.corridor();
    // Days without a guidance price break a run: nothing to measure against.
    let mut days = Vec::with_capacity(bars.len());
    let mut last = None;
    for b in &bars {
        let Some(v) = in_force_on(&versions, &b.day) else {
            days.clear();
            continue;
        };
        let (Ok(on), Ok(since)) = (
            b.day.parse::<NaiveDate>(),
            v.effective_from.parse::<NaiveDate>(),
        ) else {
            continue;
        };
        let (upper, lower) = corridor.triggers(v.price, since, on, money::Step::of_code(code).tick);
        days.push(Day {
            close: b.close,
            upper,
            lower,
        });
        last = Some((v, upper, lower, b));
    }
    let (Some(trigger), Some((version, upper, lower, bar))) = (fired(&days, &corridor), last)
    else {
        return Ok(None);
    };
    let run = super::corridor::run(&days).map_or(0, |(_, n)| n as i32);
    let trigger_price = match trigger {
        Trigger::Upper => upper,
        Trigger::Lower => lower,
    };
    let id = uuid::Uuid::now_v7().to_string();
    let inserted = action::Entity::insert(action::ActiveModel {
        id: Set(id.clone()),
        instrument: Set(code.to_string()),
        trigger: Set(trigger_text(trigger).into()),
        day: Set(bar.day.clone()),
        close: Set(bar.close),
        trigger_price: Set(trigger_price),
        guidance_id: Set(version.id.clone()),
        guidance_price: Set(version.price),
        run_days: Set(run),
        status: Set(status::OPEN.into()),
        organization_id: Set(None),
        quantity: Set(None),
        auction_id: Set(None),
        order_id: Set(None),
        executed_by: Set(None),
        executed_at: Set(None),
        created_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([
            action::Column::Instrument,
            action::Column::Trigger,
            action::Column::Day,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    if inserted == 0 {
        return Ok(None);
    }
    crate::audit::log::append(
        txn,
        "pricing.stabilisation_triggered",
        serde_json::json!({
            "action_id": id,
            "instrument": code,
            "trigger": trigger_text(trigger),
            "day": bar.day,
            "close": money::yuan(bar.close),
            "trigger_price": money::yuan(trigger_price),
            "guidance_price": money::yuan(version.price),
            "guidance_version": version.version,
            "run_days": run,
            "trigger_days": rules.trigger_days,
        }),
        None,
        now,
    )
    .await?;
    Ok(action::Entity::find_by_id(id).one(txn).await?)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExecuteInput {
    /// The reserve platform that acts (the caller is its staff).
    pub organization_id: String,
}

/// What executing an action does in the market.
pub enum Plan {
    /// Announce this auction of reserve stock.
    Release(AuctionInput),
    /// Place this bid in the book.
    Support(OrderInput),
}

async fn find(db: &impl sea_orm::ConnectionTrait, id: &str) -> Result<action::Model, MarketError> {
    action::Entity::find_by_id(id.to_string())
        .one(db)
        .await?
        .ok_or(MarketError::NotFound)
}

/// What executing the open action `id` for the reserve platform
/// `input.organization_id` would do: release up to `release_units` of
/// what it may sell at the trigger price, or bid for up to
/// `support_units` that its cash covers at the trigger price (or today's
/// highest allowed price, when the band is below it). Both are idempotent by their
/// `client_order_id` (the action's id), so executing again after a failure
/// repeats nothing.
pub async fn plan(
    db: &DatabaseConnection,
    who: &Principal,
    id: &str,
    input: &ExecuteInput,
    pricing: &PricingRules,
    market: &MarketRules,
    now: DateTime<FixedOffset>,
) -> Result<(action::Model, Plan), MarketError> {
    let a = find(db, id).await?;
    // Staff of the organisation (its kind's role: the reserve's is `reserve`).
    let me = participants::acting_for(db, who, "organization_id", &input.organization_id).await?;
    if me.org.kind != OrgKind::ReservePlatform {
        return Err(MarketError::Forbidden(
            "only the reserve platform's staff execute stabilisation actions",
        ));
    }
    if a.status != status::OPEN {
        return Err(MarketError::Conflict(
            ProblemCode::AlreadyDecided,
            "the action was executed already".into(),
        ));
    }
    let held = positions::of(db, who, &me.org.id, market.t_plus_one, now).await?;
    let client_order_id = format!("stabilisation-{}", a.id);
    let price = money::yuan(a.trigger_price);
    let step = money::Step::of_code(&a.instrument);
    if a.trigger == trigger_text(Trigger::Upper) {
        let sellable = held
            .positions
            .iter()
            .find(|p| p.instrument == a.instrument)
            .map_or(0, |p| p.sellable);
        let quantity = sellable.min(pricing.release_units * step.lots_per_unit);
        if quantity == 0 {
            return Err(MarketError::Conflict(
                ProblemCode::InsufficientUnits,
                format!("the reserve holds no units of {} it may sell", a.instrument),
            ));
        }
        let hours = i64::from(pricing.release_auction_hours);
        // A small release takes bids smaller than the market's usual
        // smallest: no larger than a bidder may bid for at all.
        let cap = (Decimal::from(quantity) * market.auction_bidder_cap)
            .floor()
            .to_i64()
            .unwrap_or(0);
        let min_bid = (market.auction_min_bid_units * step.lots_per_unit).min(cap.max(1));
        return Ok((
            a.clone(),
            Plan::Release(AuctionInput {
                organization_id: me.org.id,
                client_order_id,
                instrument: a.instrument,
                quantity: step.units(quantity),
                reserve_price: price,
                opens_at: now,
                closes_at: now + Duration::hours(hours),
                min_bid_units: Some(step.units(min_bid)),
            }),
        ));
    }
    let instrument = crate::market::listing::find(db, &a.instrument).await?;
    let rate = market.fee_rate_of(&instrument);
    // At the trigger price, or the highest today's band allows when the
    // price has fallen further.
    let bid = a
        .trigger_price
        .min(money::band(instrument.reference_price, market.band, step).1);
    let price = money::yuan(bid);
    let cash = held.cash_posted - held.cash_held;
    // The most units the cash holds at the trigger price, fees included.
    let most = (pricing.support_units * step.lots_per_unit)
        .min(cash.saturating_mul(step.lots_per_unit) / bid.max(1));
    let (mut low, mut high) = (0i64, most);
    while low < high {
        let mid = low + (high - low + 1) / 2;
        match settlement::buy_hold(bid, mid, step, rate) {
            Ok(need) if need <= cash => low = mid,
            _ => high = mid - 1,
        }
    }
    if low == 0 {
        return Err(MarketError::Conflict(
            ProblemCode::InsufficientCash,
            format!("the reserve's cash does not buy one unit at {price} yuan"),
        ));
    }
    Ok((
        a.clone(),
        Plan::Support(OrderInput {
            organization_id: me.org.id,
            client_order_id,
            instrument: a.instrument,
            side: Side::Buy,
            price,
            quantity: step.units(low),
            time_in_force: Some(TimeInForce::Gtc),
        }),
    ))
}

/// What executing an action made in the market: the auction of a release
/// or the bid of a support, and its units.
pub enum Made {
    Auction { id: String, quantity: i64 },
    Order { id: String, quantity: i64 },
}

/// Records that `id` was executed by what its plan made (a repeat with the
/// same auction or order answers the action as it is).
pub async fn record(
    db: &DatabaseConnection,
    who: &Principal,
    id: &str,
    org_id: &str,
    made: Made,
    now: DateTime<FixedOffset>,
) -> Result<action::Model, MarketError> {
    let (quantity, auction_id, order_id) = match made {
        Made::Auction { id, quantity } => (quantity, Some(id), None),
        Made::Order { id, quantity } => (quantity, None, Some(id)),
    };
    let txn = crate::db::begin_write(db).await?;
    let done = action::Entity::update_many()
        .col_expr(action::Column::Status, Expr::value(status::EXECUTED))
        .col_expr(action::Column::OrganizationId, Expr::value(org_id))
        .col_expr(action::Column::Quantity, Expr::value(quantity))
        .col_expr(action::Column::AuctionId, Expr::value(auction_id.clone()))
        .col_expr(action::Column::OrderId, Expr::value(order_id.clone()))
        .col_expr(
            action::Column::ExecutedBy,
            Expr::value(who.user_id.as_str()),
        )
        .col_expr(action::Column::ExecutedAt, Expr::value(now))
        .filter(action::Column::Id.eq(id))
        .filter(action::Column::Status.eq(status::OPEN))
        .exec(&txn)
        .await?;
    let a = find(&txn, id).await?;
    if done.rows_affected == 0 {
        if a.auction_id == auction_id && a.order_id == order_id {
            return Ok(a);
        }
        return Err(MarketError::Conflict(
            ProblemCode::AlreadyDecided,
            "the action was executed already".into(),
        ));
    }
    crate::audit::log::append(
        &txn,
        "pricing.stabilisation_executed",
        serde_json::json!({
            "action_id": id,
            "instrument": a.instrument,
            "trigger": a.trigger,
            "organization_id": org_id,
            "quantity": money::Step::of_code(&a.instrument).show(quantity),
            "price": money::yuan(a.trigger_price),
            "auction_id": auction_id,
            "order_id": order_id,
            "by": who.user_id,
        }),
        None,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(a)
}

/// An action and what fired it (public).
#[derive(Debug, Serialize, ToSchema)]
pub struct ActionView {
    pub id: String,
    pub instrument: String,
    /// `upper` (release reserve stock) or `lower` (support the price).
    pub trigger: String,
    /// The trading day whose close fired it.
    pub day: String,
    /// That close, the trigger price and the guidance price it was measured
    /// against (yuan).
    pub close: String,
    pub trigger_price: String,
    pub guidance_price: String,
    /// Consecutive closes beyond the trigger, that day included.
    pub run_days: i32,
    /// `open` or `executed`.
    pub status: String,
    /// The reserve platform that executed it, the units released or bid
    /// for, and the auction or order it made.
    pub organization_id: Option<String>,
    pub quantity: Option<String>,
    pub auction_id: Option<String>,
    pub order_id: Option<String>,
    pub executed_at: Option<String>,
    pub created_at: String,
}

impl From<action::Model> for ActionView {
    fn from(a: action::Model) -> Self {
        let step = money::Step::of_code(&a.instrument);
        ActionView {
            id: a.id,
            instrument: a.instrument,
            trigger: a.trigger,
            day: a.day,
            close: money::yuan(a.close),
            trigger_price: money::yuan(a.trigger_price),
            guidance_price: money::yuan(a.guidance_price),
            run_days: a.run_days,
            status: a.status,
            organization_id: a.organization_id,
            quantity: a.quantity.map(|q| step.show(q)),
            auction_id: a.auction_id,
            order_id: a.order_id,
            executed_at: a.executed_at.map(|t| t.to_rfc3339()),
            created_at: a.created_at.to_rfc3339(),
        }
    }
}

/// Actions, newest first, of one instrument or all, in one status or any.
pub async fn list(
    db: &DatabaseConnection,
    instrument: Option<&str>,
    status_filter: Option<&str>,
    after: Option<String>,
    limit: u64,
) -> Result<(Vec<action::Model>, bool), MarketError> {
    let columns = super::records::Columns {
        id: action::Column::Id,
        instrument: action::Column::Instrument,
        status: action::Column::Status,
    };
    super::records::newest_first::<action::Entity>(
        db,
        columns,
        status::ALL,
        instrument,
        status_filter,
        after,
        limit,
    )
    .await
}
