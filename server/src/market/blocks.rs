//! Block trades (大宗协议): a seller proposes a quantity of at least the
//! block minimum (100,000 units by default) at a price inside the block
//! band (±30 % of the reference price) to a named buyer organisation; the
//! buyer accepts or declines by the end of the trading day, inside the
//! block window (13:00–15:00 by default). Acceptance settles at once,
//! delivery versus payment like every trade. The day's close expires what
//! is left unanswered; accepted blocks are published after the close.
//!
//! Both sides hold through orders of kind `block` that never rest in the
//! book (status `pending` until the answer): the proposal's sell order
//! holds the units from the proposal, the buyer's order the cash from the
//! acceptance, so settlement is [`super::settlement::settle`] unchanged.

use chrono::{DateTime, FixedOffset};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, QueryOrder, Set,
};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::entity::{block, order, trade, BlockStatus, OrderKind, OrderStatus};
use super::error::MarketError;
use super::listing;
use super::matching::{Side, TimeInForce};
use super::money::{self, Step};
use super::orders::{
    begin_entry, check_price, lock_instrument, open_order, refuse_suspended, replay_of, Entry,
    Terms,
};
use super::participants::{self, Participant};
use super::rules::MarketRules;
use super::settlement::{self, Fill, Parties};
use crate::accounts::entity as account;
use crate::accounts::service::SystemAccounts;
use crate::auth::extract::Principal;
use crate::pagination::{self, Order};
use crate::problem::ProblemCode;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BlockInput {
    /// The seller (the caller acts for it).
    pub organization_id: String,
    /// The seller's id of the proposal, unique per organisation among its
    /// orders: the same id with the same proposal answers the first; with
    /// another, 409.
    #[schema(example = "2026-11-30-B-01")]
    pub client_order_id: String,
    #[schema(example = "TPH-FOR-2025")]
    pub instrument: String,
    /// The one organisation that may accept it.
    pub buyer_organization_id: String,
    /// Yuan per unit, a multiple of the tick, inside the block band.
    #[schema(example = "36.50")]
    pub price: String,
    /// Units, a whole number of the instrument's steps, at least the block
    /// minimum (the instrument's `block_min_units`).
    #[schema(value_type = String, example = "100000")]
    pub quantity: crate::amount::Units,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BlockAnswer {
    /// The buyer (accept, decline) or the seller (withdraw) the caller
    /// acts for.
    pub organization_id: String,
    /// Why (declining or withdrawing), shown to the other party.
    pub reason: Option<String>,
}

/// A proposal and, once accepted, its trade.
pub struct Answered {
    pub block: block::Model,
    pub trade: Option<trade::Model>,
    /// Nothing happened now: the same proposal or acceptance was made
    /// before.
    pub replayed: bool,
}

async fn answered(
    db: &impl ConnectionTrait,
    b: block::Model,
    replayed: bool,
) -> Result<Answered, MarketError> {
    let trade = match &b.trade_id {
        Some(id) => trade::Entity::find_by_id(id.clone()).one(db).await?,
        None => None,
    };
    Ok(Answered {
        block: b,
        trade,
        replayed,
    })
}

fn window_closed(rules: &MarketRules, now: DateTime<FixedOffset>) -> MarketError {
    MarketError::Conflict(
        ProblemCode::MarketClosed,
        rules.closed_detail(
            "block trades are proposed and answered",
            &rules.block_window,
            now,
        ),
    )
}

async fn by_sell_order(
    db: &impl ConnectionTrait,
    sell_order_id: &str,
) -> Result<block::Model, MarketError> {
    block::Entity::find()
        .filter(block::Column::SellOrderId.eq(sell_order_id))
        .one(db)
        .await?
        .ok_or(MarketError::NotFound)
}

/// Proposes a block trade to a named buyer: the units are held until it
/// is answered, withdrawn or expires.
pub async fn propose(
    db: &DatabaseConnection,
    who: &Principal,
    rules: &MarketRules,
    input: &BlockInput,
    now: DateTime<FixedOffset>,
) -> Result<Answered, MarketError> {
    let code = listing::parse_code("instrument", &input.instrument)?;
    let step = Step::of(code.class);
    let code = code.to_string();
    let price = super::orders::parse_price(step, "price", &input.price)?;
    let quantity = super::orders::lots(step, "quantity", input.quantity)?;
    let hash = hex::encode(Sha256::digest(
        serde_json::json!(["block", code, input.buyer_organization_id, price, quantity])
            .to_string()
            .as_bytes(),
    ));
    let entry = begin_entry(
        db,
        who,
        step,
        1..=step.max_lots(),
        &input.organization_id,
        &input.client_order_id,
        quantity,
        hash,
    )
    .await?;
    if let Some(first) = replay_of(db, &entry).await? {
        let b = by_sell_order(db, &first.order.id).await?;
        return answered(db, b, true).await;
    }
    let buyer =
        participants::participant(db, "buyer_organization_id", &input.buyer_organization_id)
            .await?;
    if buyer.org.id == entry.me.org.id {
        return Err(MarketError::invalid(
            "buyer_organization_id",
            "a block trade is between two organisations",
        ));
    }
    let day = crate::clock::china_day(now);
    let txn = crate::db::begin_write(db).await?;
    let i = lock_instrument(&txn, &code, 1).await?;
    refuse_suspended(&i)?;
    if !rules.block_window_open(now) {
        return Err(window_closed(rules, now));
    }
    let smallest = rules.block_min_of(&i) * step.lots_per_unit;
    if quantity < smallest {
        return Err(MarketError::invalid(
            "quantity",
            format!(
                "a block trade in {} is {} to {} units",
                i.code,
                step.show(smallest),
                money::MAX_UNITS
            ),
        ));
    }
    check_price(&i, rules.block_band, price, "block trades")?;
    let terms = Terms {
        instrument: &i,
        kind: OrderKind::Block,
        side: Side::Sell,
        price,
        quantity,
        tif: TimeInForce::Day,
        picked: None,
        status: OrderStatus::Pending,
        auction: None,
    };
    let Some(sell) = open_order(&txn, who, rules, &entry, terms, &day, now).await? else {
        txn.rollback().await?;
        let first = replay_of(db, &entry).await?.ok_or(MarketError::NotFound)?;
        let b = by_sell_order(db, &first.order.id).await?;
        return answered(db, b, true).await;
    };
    let b = block::Entity::insert(block::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        instrument: Set(i.code.clone()),
        seller_organization_id: Set(entry.me.org.id.clone()),
        buyer_organization_id: Set(buyer.org.id.clone()),
        sell_order_id: Set(sell.id.clone()),
        buy_order_id: Set(None),
        price: Set(price),
        quantity: Set(quantity),
        status: Set(BlockStatus::Proposed),
        trading_day: Set(day),
        trade_id: Set(None),
        reason: Set(None),
        proposed_by: Set(who.user_id.to_string()),
        decided_by: Set(None),
        created_at: Set(now),
        decided_at: Set(None),
    })
    .exec_with_returning(&txn)
    .await?;
    crate::audit::log::append(
        &txn,
        "market.block_proposed",
        serde_json::json!({
            "block": b.id,
            "instrument": b.instrument,
            "seller": b.seller_organization_id,
            "buyer": b.buyer_organization_id,
            "price": money::yuan(b.price),
            "quantity": Step::of_code(&b.instrument).show(b.quantity),
            "trading_day": b.trading_day,
        }),
        None,
        now,
    )
    .await?;
    txn.commit().await?;
    answered(db, b, false).await
}

/// Which party of a block the caller answers for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Party {
    Buyer,
    Seller,
}

/// The block `id`, when `who` acts for the organisation named in
/// `answer` and it is the block's `party` (otherwise the block looks
/// absent), with that participant.
async fn block_for(
    db: &impl ConnectionTrait,
    who: &Principal,
    id: &str,
    answer: &BlockAnswer,
    party: Party,
) -> Result<(block::Model, Participant), MarketError> {
    let me = participants::acting_for(db, who, "organization_id", &answer.organization_id).await?;
    let b = block::Entity::find_by_id(id.to_string())
        .one(db)
        .await?
        .ok_or(MarketError::NotFound)?;
    let theirs = match party {
        Party::Buyer => &b.buyer_organization_id,
        Party::Seller => &b.seller_organization_id,
    };
    if *theirs != me.org.id {
        return Err(MarketError::NotFound);
    }
    Ok((b, me))
}

fn not_open(b: &block::Model) -> MarketError {
    MarketError::Conflict(
        ProblemCode::BlockNotOpen,
        format!(
            "the block trade is {} (proposals are answered on their trading day, {})",
            serde_json::to_value(b.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            b.trading_day
        ),
    )
}

/// Reads the block again under the instrument's lock: still proposed, and
/// still its trading day.
async fn still_proposed(
    txn: &DatabaseTransaction,
    id: &str,
    now: DateTime<FixedOffset>,
) -> Result<block::Model, MarketError> {
    let b = block::Entity::find_by_id(id.to_string())
        .one(txn)
        .await?
        .ok_or(MarketError::NotFound)?;
    if b.status != BlockStatus::Proposed {
        return Err(not_open(&b));
    }
    if b.trading_day != crate::clock::china_day(now) {
        // Its day is over; the close expires it.
        return Err(MarketError::Conflict(
            ProblemCode::BlockNotOpen,
            format!(
                "the proposal was for trading day {} and has expired",
                b.trading_day
            ),
        ));
    }
    Ok(b)
}

/// The buyer accepts: its cash is held and the trade settles at once
/// (run again if a deadlock aborted it).
pub async fn accept(
    db: &DatabaseConnection,
    who: &Principal,
    rules: &MarketRules,
    systems: &SystemAccounts,
    id: &str,
    answer: &BlockAnswer,
    now: DateTime<FixedOffset>,
) -> Result<Answered, MarketError> {
    super::retry::retrying(|| accept_once(db, who, rules, systems, id, answer, now)).await
}

/// The buyer accepts: its cash is held and the trade settles at once.
/// Accepting again answers the first acceptance.
async fn accept_once(
    db: &DatabaseConnection,
    who: &Principal,
    rules: &MarketRules,
    systems: &SystemAccounts,
    id: &str,
    answer: &BlockAnswer,
    now: DateTime<FixedOffset>,
) -> Result<Answered, MarketError> {
    let (b, me) = block_for(db, who, id, answer, Party::Buyer).await?;
    if b.status == BlockStatus::Accepted {
        return answered(db, b, true).await;
    }
    let fees = &super::settlement::fees_of(systems, db, &b.instrument, now).await?;
    let txn = crate::db::begin_write(db).await?;
    let i = lock_instrument(&txn, &b.instrument, 1).await?;
    let b = match still_proposed(&txn, id, now).await {
        Ok(b) => b,
        Err(e) => {
            txn.rollback().await?;
            // A concurrent acceptance won: answer it.
            let now_b = block::Entity::find_by_id(id.to_string())
                .one(db)
                .await?
                .ok_or(MarketError::NotFound)?;
            if now_b.status == BlockStatus::Accepted {
                return answered(db, now_b, true).await;
            }
            return Err(e);
        }
    };
    refuse_suspended(&i)?;
    if !rules.block_window_open(now) {
        return Err(window_closed(rules, now));
    }
    let sell = order::Entity::find_by_id(b.sell_order_id.clone())
        .one(&txn)
        .await?
        .ok_or(MarketError::NotFound)?;
    // One acceptance per block: its client id is the block's.
    let hash = hex::encode(Sha256::digest(format!("accept:{}", b.id).as_bytes()));
    let entry = Entry::on_behalf(me.clone(), format!("block:{}", b.id), hash);
    let terms = Terms {
        instrument: &i,
        kind: OrderKind::Block,
        side: Side::Buy,
        price: b.price,
        quantity: b.quantity,
        tif: TimeInForce::Day,
        picked: Some(sell.id.clone()),
        status: OrderStatus::Pending,
        auction: None,
    };
    let day = b.trading_day.clone();
    let buy = open_order(&txn, who, rules, &entry, terms, &day, now)
        .await?
        .ok_or(MarketError::Conflict(
            ProblemCode::BlockNotOpen,
            "the block trade was answered meanwhile".into(),
        ))?;
    let seller = account::Entity::find_by_id(sell.account_id.clone())
        .one(&txn)
        .await?
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound(sell.account_id.clone()))?;
    let t = settlement::settle(
        &txn,
        &Fill {
            instrument: &i,
            buy: &buy,
            sell: &sell,
            price: b.price,
            quantity: b.quantity,
            method: "block",
            taker_side: None,
        },
        &Parties {
            buyer: &me.account,
            seller: &seller,
            fees,
        },
        rules,
        &day,
        now,
    )
    .await?;
    for o in [&buy, &sell] {
        order::Entity::update_many()
            .col_expr(order::Column::Remaining, Expr::value(0i64))
            .col_expr(order::Column::Filled, Expr::value(o.quantity))
            .col_expr(order::Column::Status, Expr::value(OrderStatus::Filled))
            .col_expr(order::Column::UpdatedAt, Expr::value(now))
            .filter(order::Column::Id.eq(o.id.as_str()))
            .exec(&txn)
            .await?;
    }
    let b = decide(
        &txn,
        &b,
        BlockStatus::Accepted,
        who,
        None,
        Some((&buy.id, &t.id)),
        now,
    )
    .await?;
    txn.commit().await?;
    answered(db, b, false).await
}

/// The buyer declines, or the seller withdraws: the units are the
/// seller's to use again.
async fn refuse(
    db: &DatabaseConnection,
    who: &Principal,
    id: &str,
    answer: &BlockAnswer,
    party: Party,
    now: DateTime<FixedOffset>,
) -> Result<Answered, MarketError> {
    let reason = crate::text::clean_optional(
        answer.reason.as_deref(),
        crate::text::REASON_MAX,
        crate::text::Shape::Paragraph,
    )
    .map_err(|e| MarketError::invalid("reason", e.to_string()))?;
    let (b, _) = block_for(db, who, id, answer, party).await?;
    let txn = crate::db::begin_write(db).await?;
    lock_instrument(&txn, &b.instrument, 1).await?;
    let b = still_proposed(&txn, id, now).await?;
    let (status, why) = match party {
        Party::Buyer => (BlockStatus::Declined, "declined"),
        Party::Seller => (BlockStatus::Withdrawn, "withdrawn"),
    };
    end_proposal(&txn, &b, OrderStatus::Cancelled, why, now).await?;
    let b = decide(&txn, &b, status, who, reason, None, now).await?;
    txn.commit().await?;
    answered(db, b, false).await
}

pub async fn decline(
    db: &DatabaseConnection,
    who: &Principal,
    id: &str,
    answer: &BlockAnswer,
    now: DateTime<FixedOffset>,
) -> Result<Answered, MarketError> {
    refuse(db, who, id, answer, Party::Buyer, now).await
}

pub async fn withdraw(
    db: &DatabaseConnection,
    who: &Principal,
    id: &str,
    answer: &BlockAnswer,
    now: DateTime<FixedOffset>,
) -> Result<Answered, MarketError> {
    refuse(db, who, id, answer, Party::Seller, now).await
}

/// Ends a proposal's sell order (`status`, `why`) and gives its units
/// back.
async fn end_proposal(
    txn: &DatabaseTransaction,
    b: &block::Model,
    status: OrderStatus,
    why: &str,
    now: DateTime<FixedOffset>,
) -> Result<(), MarketError> {
    let sell = order::Entity::find_by_id(b.sell_order_id.clone())
        .one(txn)
        .await?
        .ok_or(MarketError::NotFound)?;
    super::orders::end_order(txn, &sell, 0, status, Some(why), now).await
}

/// Records the block's outcome and logs it.
async fn decide(
    txn: &DatabaseTransaction,
    b: &block::Model,
    status: BlockStatus,
    who: &Principal,
    reason: Option<String>,
    settled: Option<(&str, &str)>,
    now: DateTime<FixedOffset>,
) -> Result<block::Model, MarketError> {
    let mut row: block::ActiveModel = b.clone().into();
    row.status = Set(status);
    row.reason = Set(reason.clone());
    row.decided_by = Set(Some(who.user_id.to_string()));
    row.decided_at = Set(Some(now));
    if let Some((buy, trade)) = settled {
        row.buy_order_id = Set(Some(buy.to_string()));
        row.trade_id = Set(Some(trade.to_string()));
    }
    let b = sea_orm::ActiveModelTrait::update(row, txn).await?;
    crate::audit::log::append(
        txn,
        "market.block_decided",
        serde_json::json!({
            "block": b.id,
            "instrument": b.instrument,
            "status": b.status,
            "trade": b.trade_id,
            "reason": reason,
        }),
        None,
        now,
    )
    .await?;
    Ok(b)
}

/// At the close of `day`: the instrument's proposals of that day (or
/// before) still unanswered expire and give their units back.
pub(super) async fn expire(
    txn: &DatabaseTransaction,
    code: &str,
    day: &str,
    now: DateTime<FixedOffset>,
) -> Result<usize, MarketError> {
    let due = block::Entity::find()
        .filter(block::Column::Instrument.eq(code))
        .filter(block::Column::Status.eq(BlockStatus::Proposed))
        .filter(block::Column::TradingDay.lte(day))
        .all(txn)
        .await?;
    for b in &due {
        end_proposal(txn, b, OrderStatus::Expired, "expired", now).await?;
        block::Entity::update_many()
            .col_expr(block::Column::Status, Expr::value(BlockStatus::Expired))
            .col_expr(block::Column::DecidedAt, Expr::value(now))
            .filter(block::Column::Id.eq(b.id.as_str()))
            .exec(txn)
            .await?;
    }
    Ok(due.len())
}

/// The block `id`, for staff of its seller or its buyer.
pub async fn find_for(
    db: &DatabaseConnection,
    who: &Principal,
    id: &str,
) -> Result<Answered, MarketError> {
    let b = block::Entity::find_by_id(id.to_string())
        .one(db)
        .await?
        .ok_or(MarketError::NotFound)?;
    let mut parties = Vec::new();
    for org in [&b.seller_organization_id, &b.buyer_organization_id] {
        if let Some(o) = crate::orgs::entity::organization::Entity::find_by_id(org.clone())
            .one(db)
            .await?
        {
            parties.push(o);
        }
    }
    if !parties
        .iter()
        .any(|o| who.has_role_in(o.kind.staff_role(), &o.id))
    {
        return Err(MarketError::NotFound);
    }
    answered(db, b, false).await
}

/// A participant's block trades, as seller or buyer, newest first.
pub async fn of_org(
    db: &DatabaseConnection,
    who: &Principal,
    org_id: &str,
    status: Option<BlockStatus>,
    starting_after: Option<&str>,
    limit: u64,
) -> Result<(Vec<block::Model>, bool), MarketError> {
    participants::acting_for(db, who, "organization_id", org_id).await?;
    let mut q = block::Entity::find().filter(
        sea_orm::Condition::any()
            .add(block::Column::SellerOrganizationId.eq(org_id))
            .add(block::Column::BuyerOrganizationId.eq(org_id)),
    );
    if let Some(s) = status {
        q = q.filter(block::Column::Status.eq(s));
    }
    Ok(pagination::fetch(
        db,
        q,
        block::Column::Id,
        Order::Descending,
        starting_after,
        limit,
    )
    .await?)
}

/// The instrument's block trades of closed days (published after the
/// close), newest first, at most `limit`: day, price, quantity, time.
pub async fn reports(
    db: &DatabaseConnection,
    code: &str,
    limit: u64,
) -> Result<Vec<trade::Model>, MarketError> {
    use sea_orm::QuerySelect;
    let Some(last) = super::close::last_closed_day(db, code).await? else {
        return Ok(Vec::new());
    };
    Ok(trade::Entity::find()
        .filter(trade::Column::Instrument.eq(code))
        .filter(trade::Column::Method.eq("block"))
        .filter(trade::Column::TradingDay.lte(last.as_str()))
        .order_by_desc(trade::Column::Seq)
        .limit(limit)
        .all(db)
        .await?)
}
