//! Orders of the continuous book: entry (with the units or cash they may
//! need held), matching against the resting orders by the pure rule in
//! [`super::matching`], settlement of each fill, cancellation.
//!
//! One instrument's orders are serialised on its row: the order's
//! transaction first takes the instrument's next sequence number
//! (`UPDATE … SET last_sequence = last_sequence + 1`), which holds the row
//! until it commits, so several replicas may take orders and each sees the
//! book as the orders before it left it.

use chrono::{DateTime, FixedOffset};
use rust_decimal::Decimal;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder,
};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::entity::{order, trade, OrderKind, OrderStatus};
use super::error::MarketError;
use super::listing;
use super::matching::{Side, TimeInForce};
use super::money::{self, Step};
use super::participants::{self, Participant};
use super::rules::MarketRules;
use super::settlement::{self, Fill, Parties};
use crate::accounts::entity as account;
use crate::amount::Units;
use crate::auth::extract::Principal;
use crate::ids::UserId;
use crate::instruments::{instrument, TradingStatus};
use crate::problem::ProblemCode;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderInput {
    /// The participant the order is for (the caller acts for it).
    pub organization_id: String,
    /// The caller's id of the order, unique per organisation: the same id
    /// with the same order answers the first result; with another, 409.
    #[schema(example = "2026-11-30-0001")]
    pub client_order_id: String,
    #[schema(example = "TPH-FOR-2025")]
    pub instrument: String,
    pub side: Side,
    /// Yuan per unit, a multiple of the instrument's tick (0.01; 1 per mu of
    /// land), inside today's band.
    #[schema(example = "36.50")]
    pub price: String,
    /// Units, a whole number of the instrument's steps (`quantity_step`:
    /// one unit; 0.01 mu for land).
    #[schema(value_type = String, example = "100")]
    pub quantity: Units,
    /// `gtc` (default), `day` or `ioc`.
    #[serde(default)]
    pub time_in_force: Option<TimeInForce>,
}

/// What placing an order did.
pub struct Placed {
    pub order: order::Model,
    pub trades: Vec<trade::Model>,
    /// The same `client_order_id` and order were placed before: nothing
    /// happened now.
    pub replayed: bool,
}

fn request_hash(input: &OrderInput, tif: TimeInForce, price: i64, lots: i64) -> String {
    let canonical = serde_json::json!([input.instrument, input.side, price, lots, tif,]);
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

/// The orders and the trades of one order, as placing it answered.
pub(super) async fn answer(
    db: &impl ConnectionTrait,
    o: order::Model,
    replayed: bool,
) -> Result<Placed, MarketError> {
    let trades = trades_of(db, &o.id).await?;
    Ok(Placed {
        order: o,
        trades,
        replayed,
    })
}

pub async fn trades_of(
    db: &impl ConnectionTrait,
    order_id: &str,
) -> Result<Vec<trade::Model>, MarketError> {
    Ok(trade::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(trade::Column::BuyOrderId.eq(order_id))
                .add(trade::Column::SellOrderId.eq(order_id)),
        )
        .order_by_asc(trade::Column::Seq)
        .all(db)
        .await?)
}

/// Locks the instrument's row for this transaction and takes its next
/// `n` sequence numbers (the last is the returned `last_sequence`): every
/// order of one instrument after this waits.
pub(crate) async fn lock_instrument(
    txn: &DatabaseTransaction,
    code: &str,
    n: i64,
) -> Result<instrument::Model, MarketError> {
    let locked = instrument::Entity::update_many()
        .col_expr(
            instrument::Column::LastSequence,
            Expr::col(instrument::Column::LastSequence).add(n),
        )
        .filter(instrument::Column::Code.eq(code))
        .exec_with_returning(txn)
        .await?;
    locked.into_iter().next().ok_or_else(|| {
        MarketError::unknown("instrument", format!("{code} is not a listed instrument"))
    })
}

pub(super) fn refuse_suspended(i: &instrument::Model) -> Result<(), MarketError> {
    if i.status == TradingStatus::Suspended {
        return Err(MarketError::Conflict(
            ProblemCode::InstrumentSuspended,
            format!("{} is suspended", i.code),
        ));
    }
    Ok(())
}

pub(super) fn refuse_unless_open(
    rules: &MarketRules,
    i: &instrument::Model,
    now: DateTime<FixedOffset>,
) -> Result<(), MarketError> {
    refuse_suspended(i)?;
    if !rules.is_open(now) {
        return Err(MarketError::Conflict(
            ProblemCode::MarketClosed,
            format!(
                "the market is closed: {}",
                rules.closed_detail("sessions are", &rules.sessions, now)
            ),
        ));
    }
    Ok(())
}

/// No price below the instrument's floor: its guidance price when that is
/// a floor (`pricing::guidance`).
pub(super) fn check_floor(
    i: &instrument::Model,
    price: i64,
    param: &'static str,
    what: &str,
) -> Result<(), MarketError> {
    match i.floor_price {
        Some(floor) if price < floor => Err(MarketError::Rule(
            ProblemCode::BelowFloor,
            param,
            format!(
                "{what} of {} are priced at least at its guidance price, {} yuan, which is a floor",
                i.code,
                money::yuan(floor)
            ),
        )),
        _ => Ok(()),
    }
}

/// A price inside today's band of `share` around the reference price and
/// not below the floor.
pub(super) fn check_price(
    i: &instrument::Model,
    share: Decimal,
    price: i64,
    what: &str,
) -> Result<(), MarketError> {
    check_floor(i, price, "price", what)?;
    check_band(i.reference_price, share, i.step(), price, what)
}

fn check_band(
    reference: i64,
    share: Decimal,
    step: Step,
    price: i64,
    what: &str,
) -> Result<(), MarketError> {
    let (low, high) = money::band(reference, share, step);
    if (low..=high).contains(&price) {
        Ok(())
    } else {
        Err(MarketError::Rule(
            ProblemCode::OutsideBand,
            "price",
            format!(
                "{what} today are priced from {} to {} yuan (±{}% of the reference price {})",
                money::yuan(low),
                money::yuan(high),
                (share * Decimal::ONE_HUNDRED).normalize(),
                money::yuan(reference)
            ),
        ))
    }
}

/// A price in a request for an instrument of `step`: yuan to the fen and
/// on the tick.
pub(crate) fn parse_price(step: Step, param: &'static str, yuan: &str) -> Result<i64, MarketError> {
    money::parse_price(yuan)
        .and_then(|fen| step.check_price(fen))
        .map_err(|e| MarketError::invalid(param, e.to_string()))
}

/// A quantity in a request, in lots of `step`.
pub(crate) fn lots(step: Step, param: &'static str, units: Units) -> Result<i64, MarketError> {
    step.lots(units.0)
        .map_err(|e| MarketError::invalid(param, e.to_string()))
}

pub(super) fn side_of(o: &order::Model) -> Side {
    if o.side == "buy" {
        Side::Buy
    } else {
        Side::Sell
    }
}

/// An order entry's participant and client id, checked.
pub(super) struct Entry {
    pub me: Participant,
    client_order_id: String,
    hash: String,
}

impl Entry {
    pub(super) fn client_id(&self) -> String {
        self.client_order_id.clone()
    }

    /// An entry the platform makes for a participant, under a client id of
    /// its own making (a block trade's acceptance).
    pub(super) fn on_behalf(me: Participant, client_order_id: String, hash: String) -> Entry {
        Entry {
            me,
            client_order_id,
            hash,
        }
    }
}

/// The first answer to this `client_order_id`, if it was used: the same
/// order replays, another is refused.
pub(super) async fn replay_of(
    db: &DatabaseConnection,
    entry: &Entry,
) -> Result<Option<Placed>, MarketError> {
    replay_of_id(db, &entry.me.org.id, &entry.client_order_id, &entry.hash).await
}

async fn replay_of_id(
    db: &DatabaseConnection,
    organization_id: &str,
    client_order_id: &str,
    hash: &str,
) -> Result<Option<Placed>, MarketError> {
    let Some(first) = order::Entity::find()
        .filter(order::Column::OrganizationId.eq(organization_id))
        .filter(order::Column::ClientOrderId.eq(client_order_id))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if first.request_hash != hash {
        return Err(MarketError::Conflict(
            ProblemCode::IdReused,
            format!("client_order_id {client_order_id:?} was used for a different order"),
        ));
    }
    Ok(Some(answer(db, first, true).await?))
}

/// Who places the order and under which client id; checks the quantity
/// against the sizes the kind of order takes (`sizes`, lots of `step`:
/// book orders one step to the largest order, block trades from the block
/// minimum).
#[allow(clippy::too_many_arguments)]
pub(super) async fn begin_entry(
    db: &DatabaseConnection,
    who: &Principal,
    step: Step,
    sizes: std::ops::RangeInclusive<i64>,
    organization_id: &str,
    client_order_id: &str,
    quantity: i64,
    hash: String,
) -> Result<Entry, MarketError> {
    let me = participants::acting_for(db, who, "organization_id", organization_id).await?;
    let client_order_id = entry_fields(step, sizes, client_order_id, quantity)?;
    Ok(Entry {
        me,
        client_order_id,
        hash,
    })
}

/// An entry's client id, cleaned, and its quantity checked against
/// `sizes`.
fn entry_fields(
    step: Step,
    sizes: std::ops::RangeInclusive<i64>,
    client_order_id: &str,
    quantity: i64,
) -> Result<String, MarketError> {
    let client_order_id = crate::text::clean(
        client_order_id,
        crate::text::CODE_MAX,
        crate::text::Shape::Line,
    )
    .map_err(|e| MarketError::invalid("client_order_id", e.to_string()))?;
    if !sizes.contains(&quantity) {
        return Err(MarketError::invalid(
            "quantity",
            format!(
                "this order is {} to {} units, in steps of {}",
                step.show(*sizes.start()),
                step.show(*sizes.end()),
                step.show(1)
            ),
        ));
    }
    Ok(client_order_id)
}

/// A new order's terms.
pub(super) struct Terms<'a> {
    pub instrument: &'a instrument::Model,
    pub kind: OrderKind,
    pub side: Side,
    pub price: i64,
    pub quantity: i64,
    pub tif: TimeInForce,
    pub picked: Option<String>,
    /// `Open` for the book; `Pending` for orders that hold outside it
    /// (block proposals, auction lots and bids).
    pub status: OrderStatus,
    pub auction: Option<String>,
}

/// Writes the order with the instrument's sequence number, holds what it
/// may need and logs it. `None` when a concurrent request with the same
/// client id won (the caller rolls back and answers the first).
pub(super) async fn open_order(
    txn: &DatabaseTransaction,
    who: &Principal,
    rules: &MarketRules,
    entry: &Entry,
    terms: Terms<'_>,
    day: &str,
    now: DateTime<FixedOffset>,
) -> Result<Option<order::Model>, MarketError> {
    let i = terms.instrument;
    let row = new_order(
        &who.user_id,
        rules,
        entry,
        &terms,
        i.last_sequence,
        day,
        now,
    );
    let inserted = order::Entity::insert(row.into_active_model())
        .exec_with_returning(txn)
        .await;
    let o = match inserted {
        Ok(o) => o,
        Err(e) if crate::registry::error::unique_violation(&e) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    super::holds::hold_for(txn, &o, &entry.me, i, rules, now).await?;
    let event = placed_event(&o, &terms.picked);
    let kind = if o.kind == OrderKind::Bid {
        "market.bid_placed"
    } else {
        "market.order_placed"
    };
    crate::audit::log::append(txn, kind, event, None, now).await?;
    Ok(Some(o))
}

/// A new order's row, numbered `seq`.
pub(super) fn new_order(
    placed_by: &UserId,
    rules: &MarketRules,
    entry: &Entry,
    terms: &Terms<'_>,
    seq: i64,
    day: &str,
    now: DateTime<FixedOffset>,
) -> order::Model {
    let i = terms.instrument;
    order::Model {
        id: uuid::Uuid::now_v7().to_string(),
        instrument: i.code.clone(),
        seq,
        organization_id: entry.me.org.id.clone(),
        account_id: entry.me.account.id.clone(),
        placed_by: placed_by.to_string(),
        client_order_id: entry.client_order_id.clone(),
        request_hash: entry.hash.clone(),
        kind: terms.kind,
        side: terms.side.as_str().into(),
        price: terms.price,
        quantity: terms.quantity,
        remaining: terms.quantity,
        filled: 0,
        tif: tif_str(terms.tif).into(),
        status: terms.status,
        reason: None,
        picked_order_id: terms.picked.clone(),
        trading_day: day.to_string(),
        created_at: now,
        updated_at: now,
        auction_id: terms.auction.clone(),
        fee_rate: Some(rules.fee_rate_of(i).normalize().to_string()),
    }
}

/// The audit event of a new order (`market.order_placed`), or of a bid
/// (`market.bid_placed`): sealed, the public log commits to the bid and
/// the auction's close reveals it (with the order id that opens the
/// commitment).
pub(super) fn placed_event(o: &order::Model, picked: &Option<String>) -> serde_json::Value {
    if o.kind == OrderKind::Bid {
        serde_json::json!({
            "auction": o.auction_id,
            "instrument": o.instrument,
            "seq": o.seq,
            "commitment": super::auctions::bid_commitment(o),
        })
    } else {
        serde_json::json!({
            "order": o.id,
            "instrument": o.instrument,
            "seq": o.seq,
            "kind": o.kind,
            "organization": o.organization_id,
            "side": o.side,
            "price": money::yuan(o.price),
            "quantity": Step::of_code(&o.instrument).show(o.quantity),
            "time_in_force": o.tif,
            "picked": picked,
            "auction": o.auction_id,
        })
    }
}

/// A book order checked as far as it can be without the database: its
/// instrument code, price, size and client id. Who it is for is checked
/// in its lane's batch (one read of the organisations and the users'
/// grants for the batch), so a role revoked a moment ago stops it.
pub struct Prepared {
    pub code: String,
    pub(super) price: i64,
    quantity: i64,
    pub(super) side: Side,
    tif: TimeInForce,
    pub(super) placed_by: UserId,
    pub(super) organization_id: String,
    client_order_id: String,
    hash: String,
}

impl Prepared {
    pub(super) fn quantity(&self) -> i64 {
        self.quantity
    }

    pub(super) fn tif(&self) -> TimeInForce {
        self.tif
    }

    /// The order's entry once its batch found `me` to be the participant
    /// its user acts for.
    pub(super) fn entry(&self, me: Participant) -> Entry {
        Entry {
            me,
            client_order_id: self.client_order_id.clone(),
            hash: self.hash.clone(),
        }
    }
}

/// Checks an order's request without reading anything. Who it is for,
/// and an earlier use of its client id, are found in its lane's batch,
/// which answers a replay as [`settled`] does.
pub fn prepare(
    placed_by: &UserId,
    rules: &MarketRules,
    input: &OrderInput,
) -> Result<Prepared, MarketError> {
    let code = listing::parse_code("instrument", &input.instrument)?;
    let step = Step::of(code.class);
    let price = parse_price(step, "price", &input.price)?;
    let quantity = lots(step, "quantity", input.quantity)?;
    let tif = input.time_in_force.unwrap_or(TimeInForce::Gtc);
    let hash = request_hash(input, tif, price, quantity);
    let client_order_id = entry_fields(
        step,
        1..=rules.max_order_units * step.lots_per_unit,
        &input.client_order_id,
        quantity,
    )?;
    Ok(Prepared {
        code: code.to_string(),
        price,
        quantity,
        side: input.side,
        tif,
        placed_by: placed_by.clone(),
        organization_id: input.organization_id.clone(),
        client_order_id,
        hash,
    })
}

/// Places a limit order on its own (run again if a deadlock aborted it);
/// the HTTP route goes through the instrument's lane
/// ([`super::lanes`]), which places many in one transaction.
pub async fn place(
    db: &DatabaseConnection,
    who: &Principal,
    rules: &MarketRules,
    fees: &account::Model,
    input: &OrderInput,
    now: DateTime<FixedOffset>,
) -> Result<Placed, MarketError> {
    let order = std::sync::Arc::new(prepare(&who.user_id, rules, input)?);
    let work = super::engine::Work::Place(order.clone());
    let mut lane = super::engine::Lane::default();
    let works = [(work, now)];
    let mut group = [super::engine::Group {
        code: &order.code,
        fees,
        lane: &mut lane,
        works: &works,
    }];
    let mut done = super::engine::run(db, rules, &mut group).await?;
    match done.remove(0).pop().expect("one answer per request")? {
        super::engine::Done::Placed(placed) => settled(db, &order, placed).await,
        super::engine::Done::Cancelled(_) => Err(MarketError::NotFound),
    }
}

/// The answer to an order once its transaction committed: `placed` is
/// `None` when a concurrent request with the same client id won.
pub async fn settled(
    db: &DatabaseConnection,
    order: &Prepared,
    placed: Option<Placed>,
) -> Result<Placed, MarketError> {
    match placed {
        Some(placed) => Ok(placed),
        None => replay_of_id(
            db,
            &order.organization_id,
            &order.client_order_id,
            &order.hash,
        )
        .await?
        .ok_or(MarketError::NotFound),
    }
}

pub(super) fn tif_str(tif: TimeInForce) -> &'static str {
    match tif {
        TimeInForce::Gtc => "gtc",
        TimeInForce::Day => "day",
        TimeInForce::Ioc => "ioc",
    }
}

/// Where and how much one fill trades.
pub(super) struct Trade {
    pub price: i64,
    pub quantity: i64,
    /// `book` or `pick`.
    pub method: &'static str,
}

/// Settles one fill of `taker` against the resting `maker` and records it
/// on the maker (a filled buy order gives back the cash it no longer
/// needs); answers the trade. The taker's row is the caller's to update.
#[allow(clippy::too_many_arguments)]
pub(super) async fn trade_with(
    txn: &DatabaseTransaction,
    rules: &MarketRules,
    fees: &account::Model,
    i: &instrument::Model,
    me: &Participant,
    taker: &order::Model,
    maker: &order::Model,
    at: Trade,
    day: &str,
    now: DateTime<FixedOffset>,
) -> Result<trade::Model, MarketError> {
    let maker_account = if maker.account_id == me.account.id {
        me.account.clone()
    } else {
        account::Entity::find_by_id(maker.account_id.clone())
            .one(txn)
            .await?
            .ok_or_else(|| sea_orm::DbErr::RecordNotFound(maker.account_id.clone()))?
    };
    let side = side_of(taker);
    let (buy, sell, buyer, seller) = match side {
        Side::Buy => (taker, maker, &me.account, &maker_account),
        Side::Sell => (maker, taker, &maker_account, &me.account),
    };
    let made = settlement::settle(
        txn,
        &Fill {
            instrument: i,
            buy,
            sell,
            price: at.price,
            quantity: at.quantity,
            method: at.method,
            taker_side: Some(side.as_str()),
        },
        &Parties {
            buyer,
            seller,
            fees,
        },
        rules,
        day,
        now,
    )
    .await?;
    let done = record_fill(txn, maker, at.quantity, now).await?;
    if done.status == OrderStatus::Filled && done.side == "buy" {
        settlement::release_all(txn, &done, now).await?;
    }
    Ok(made)
}

/// A resting order lost `quantity` to a fill; answers it as it is now.
pub(super) async fn record_fill(
    txn: &impl ConnectionTrait,
    maker: &order::Model,
    quantity: i64,
    now: DateTime<FixedOffset>,
) -> Result<order::Model, MarketError> {
    let left = maker.remaining - quantity;
    order::Entity::update_many()
        .col_expr(order::Column::Remaining, Expr::value(left))
        .col_expr(order::Column::Filled, Expr::value(maker.filled + quantity))
        .col_expr(
            order::Column::Status,
            Expr::value(if left == 0 {
                OrderStatus::Filled
            } else {
                OrderStatus::Open
            }),
        )
        .col_expr(order::Column::UpdatedAt, Expr::value(now))
        .filter(order::Column::Id.eq(maker.id.as_str()))
        .exec_with_returning(txn)
        .await?
        .into_iter()
        .next()
        .ok_or(MarketError::NotFound)
}

/// The order `id`, when `who` acts for its organisation (otherwise it
/// looks absent).
pub async fn find_for(
    db: &impl ConnectionTrait,
    who: &Principal,
    id: &str,
) -> Result<order::Model, MarketError> {
    let o = order::Entity::find_by_id(id.to_string())
        .one(db)
        .await?
        .ok_or(MarketError::NotFound)?;
    let org = crate::orgs::entity::organization::Entity::find_by_id(o.organization_id.clone())
        .one(db)
        .await?
        .ok_or(MarketError::NotFound)?;
    if !who.has_role_in(org.kind.staff_role(), &org.id) {
        return Err(MarketError::NotFound);
    }
    Ok(o)
}

/// Cancels the rest of an open order and gives back what it holds, on
/// its own; the HTTP route goes through the instrument's lane.
pub async fn cancel(
    db: &DatabaseConnection,
    who: &Principal,
    id: &str,
    now: DateTime<FixedOffset>,
) -> Result<order::Model, MarketError> {
    let o = find_for(db, who, id).await?;
    let txn = crate::db::begin_write(db).await?;
    // In line with the instrument's matching, so a fill and a cancel of
    // one order never interleave.
    lock_instrument(&txn, &o.instrument, 1).await?;
    let cancelled = cancel_in(&txn, &o, now).await?;
    txn.commit().await?;
    Ok(cancelled)
}

/// Cancels `o` in the caller's transaction, which holds its instrument's
/// lock.
pub async fn cancel_in(
    txn: &DatabaseTransaction,
    o: &order::Model,
    now: DateTime<FixedOffset>,
) -> Result<order::Model, MarketError> {
    let changed = order::Entity::update_many()
        .col_expr(order::Column::Status, Expr::value(OrderStatus::Cancelled))
        .col_expr(order::Column::Reason, Expr::value("cancelled"))
        .col_expr(order::Column::UpdatedAt, Expr::value(now))
        .filter(order::Column::Id.eq(o.id.as_str()))
        .filter(order::Column::Status.eq(OrderStatus::Open))
        .exec_with_returning(txn)
        .await?;
    let Some(cancelled) = changed.into_iter().next() else {
        return Err(not_open(o));
    };
    settlement::release_all(txn, &cancelled, now).await?;
    crate::audit::log::append(
        txn,
        "market.order_cancelled",
        cancelled_event(&cancelled),
        None,
        now,
    )
    .await?;
    Ok(cancelled)
}

/// Why order `o` cannot be cancelled: it is not open.
pub(super) fn not_open(o: &order::Model) -> MarketError {
    let detail = match o.kind {
        OrderKind::Bid => "bids are irrevocable: the auction's close decides them",
        OrderKind::Auction => "an auction lot stays offered until the auction closes",
        OrderKind::Block => "a block proposal is withdrawn (POST /api/v1/market/blocks/{id}/withdraw), not cancelled",
        _ => "the order is filled, cancelled or expired",
    };
    MarketError::Conflict(ProblemCode::OrderNotOpen, detail.into())
}

/// The audit event of a cancelled order.
pub(super) fn cancelled_event(o: &order::Model) -> serde_json::Value {
    serde_json::json!({
        "order": o.id,
        "instrument": o.instrument,
        "organization": o.organization_id,
        "remaining": Step::of_code(&o.instrument).show(o.remaining),
    })
}

/// Ends an order that is not in the book (a block proposal, an auction
/// lot or bid) with `filled` units traded, and gives back what it still
/// holds.
pub(super) async fn end_order(
    txn: &DatabaseTransaction,
    o: &order::Model,
    filled: i64,
    status: OrderStatus,
    why: Option<&str>,
    now: DateTime<FixedOffset>,
) -> Result<(), MarketError> {
    order::Entity::update_many()
        .col_expr(order::Column::Filled, Expr::value(filled))
        .col_expr(order::Column::Remaining, Expr::value(o.quantity - filled))
        .col_expr(order::Column::Status, Expr::value(status))
        .col_expr(order::Column::Reason, Expr::value(why))
        .col_expr(order::Column::UpdatedAt, Expr::value(now))
        .filter(order::Column::Id.eq(o.id.as_str()))
        .exec(txn)
        .await?;
    let done = order::Entity::find_by_id(o.id.clone())
        .one(txn)
        .await?
        .ok_or(MarketError::NotFound)?;
    settlement::release_all(txn, &done, now).await
}
