//! One-way bidding (单向竞价): a seller (typically the reserve platform or
//! government) announces a lot — quantity, reserve price, a window, the
//! smallest bid and a per-bidder cap (half the lot by default). Bids are
//! sealed and irrevocable and hold their cash; the public log records a
//! commitment to each bid, opened by the close. At the close of the
//! window [`super::allocation::allocate`] ranks the bids by price, then
//! time, fills the winners down the ranking and everybody pays the lowest
//! winning bid; what no bid takes goes back to the seller.
//!
//! The lot holds its units through an order of kind `auction` and each
//! bid its cash through an order of kind `bid` (both `pending`, never in
//! the book), so each winner's trade settles by
//! [`super::settlement::settle`] like every other.
//!
//! The close runs on every replica; the auction's row moves from
//! `announced` to `closed` once, under the instrument's lock, so one
//! replica allocates it.

use chrono::{DateTime, Duration, FixedOffset};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::allocation::{self, Bid};
use super::entity::{auction, order, trade, AuctionStatus, OrderKind, OrderStatus};
use super::error::MarketError;
use super::listing;
use super::matching::{Side, TimeInForce};
use super::money::{self, Step};
use super::orders::{
    begin_entry, check_floor, lock_instrument, open_order, refuse_suspended, replay_of, Placed,
    Terms,
};
use super::rules::MarketRules;
use super::settlement::{self, Fill, Parties};
use crate::accounts::entity as account;
use crate::accounts::service::SystemAccounts;
use crate::amount::Units;
use crate::auth::extract::Principal;
use crate::instruments::TradingStatus;
use crate::pagination::{self, Order};
use crate::problem::ProblemCode;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuctionInput {
    /// The seller (the caller acts for it).
    pub organization_id: String,
    /// The seller's id of the announcement, unique per organisation among
    /// its orders; replays answer the first.
    #[schema(example = "2026-12-RESERVE-01")]
    pub client_order_id: String,
    #[schema(example = "TPH-FOR-2025")]
    pub instrument: String,
    /// The lot: units, a whole number of the instrument's steps, held
    /// from the announcement.
    #[schema(value_type = String, example = "20000")]
    pub quantity: Units,
    /// Yuan per unit: no bid below it.
    #[schema(example = "36.00")]
    pub reserve_price: String,
    /// Bids are taken from here…
    #[schema(value_type = String, format = DateTime)]
    pub opens_at: DateTime<FixedOffset>,
    /// …until here (exclusive), when the auction closes.
    #[schema(value_type = String, format = DateTime)]
    pub closes_at: DateTime<FixedOffset>,
    /// Smallest bid, units (default `auction_min_bid_units`, 1,000).
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "1000")]
    pub min_bid_units: Option<Units>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BidInput {
    /// The bidder (the caller acts for it).
    pub organization_id: String,
    /// As for orders: unique per organisation, replays answer the first.
    #[schema(example = "2026-12-BID-01")]
    pub client_order_id: String,
    /// Yuan per unit, a multiple of the tick, at least the reserve price.
    #[schema(example = "37.20")]
    pub price: String,
    /// Units, a whole number of the instrument's steps, at least the
    /// auction's smallest bid; one bidder's bids add up to at most its cap.
    #[schema(value_type = String, example = "5000")]
    pub quantity: Units,
}

/// The public log's commitment to a sealed bid: SHA-256 of the canonical
/// JSON `[auction, seq, organisation, price fen, quantity, order id]`, the
/// quantity in lots (the instrument's steps: units, or hundredths of a mu
/// for land), as the close's event publishes it.
/// The order id (random) keeps the commitment from being guessed; the
/// auction's close publishes every field.
pub fn bid_commitment(o: &order::Model) -> String {
    let text = serde_json::json!([
        o.auction_id,
        o.seq,
        o.organization_id,
        o.price,
        o.quantity,
        o.id
    ])
    .to_string();
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn not_taking_bids(a: &auction::Model) -> MarketError {
    MarketError::Conflict(
        ProblemCode::AuctionNotOpen,
        format!(
            "the auction takes bids from {} until {} and is {}",
            a.opens_at.to_rfc3339(),
            a.closes_at.to_rfc3339(),
            status_text(a.status)
        ),
    )
}

fn status_text(s: AuctionStatus) -> &'static str {
    match s {
        AuctionStatus::Announced => "announced",
        AuctionStatus::Closed => "closed",
        AuctionStatus::Cancelled => "cancelled",
    }
}

async fn by_sell_order(
    db: &impl ConnectionTrait,
    sell_order_id: &str,
) -> Result<auction::Model, MarketError> {
    auction::Entity::find()
        .filter(auction::Column::SellOrderId.eq(sell_order_id))
        .one(db)
        .await?
        .ok_or(MarketError::NotFound)
}

/// An auction's terms, checked: the reserve price (fen), the window (in
/// UTC), the smallest bid and the per-bidder cap (lots).
pub(crate) struct Window {
    pub reserve: i64,
    pub opens_at: DateTime<FixedOffset>,
    pub closes_at: DateTime<FixedOffset>,
    pub min_bid: i64,
    pub cap: i64,
}

/// The one check of an auction's terms, for every lot announced.
#[allow(clippy::too_many_arguments)]
pub(crate) fn check_window(
    rules: &MarketRules,
    step: Step,
    quantity: i64,
    reserve_price: &str,
    opens_at_in: DateTime<FixedOffset>,
    closes_at_in: DateTime<FixedOffset>,
    min_bid_units: Option<Units>,
    now: DateTime<FixedOffset>,
) -> Result<Window, MarketError> {
    // Stored in UTC like every timestamp, so the close's comparison with
    // the clock holds on SQLite's text columns too.
    let utc = |t: DateTime<FixedOffset>| t.with_timezone(&chrono::Utc).fixed_offset();
    let (opens_at, closes_at) = (utc(opens_at_in), utc(closes_at_in));
    let reserve = super::orders::parse_price(step, "reserve_price", reserve_price)?;
    if closes_at_in <= opens_at_in {
        return Err(MarketError::invalid(
            "closes_at",
            "the auction closes after it opens",
        ));
    }
    if closes_at_in <= now {
        return Err(MarketError::invalid(
            "closes_at",
            "the auction must close in the future",
        ));
    }
    if closes_at_in > now + Duration::days(rules.auction_max_days) {
        return Err(MarketError::invalid(
            "closes_at",
            format!(
                "an auction runs at most {} days from its announcement",
                rules.auction_max_days
            ),
        ));
    }
    let min_bid = match min_bid_units {
        Some(units) => super::orders::lots(step, "min_bid_units", units)?,
        None => rules.auction_min_bid_units * step.lots_per_unit,
    };
    // At least one step: a lot of one step (a pledge's last unit sold by
    // its bank) goes to one bidder, as it must.
    let share = (Decimal::from(quantity) * rules.auction_bidder_cap).floor();
    let cap = std::cmp::max(share.to_i64().unwrap_or(0), 1);
    if min_bid > quantity {
        return Err(MarketError::invalid(
            "min_bid_units",
            format!(
                "the smallest bid is {} to {} units (the lot)",
                step.show(1),
                step.show(quantity)
            ),
        ));
    }
    if min_bid > cap {
        return Err(MarketError::invalid(
            "min_bid_units",
            format!(
                "the smallest bid ({}) is over the per-bidder cap of {} units ({} of the lot)",
                step.show(min_bid),
                step.show(cap),
                rules.auction_bidder_cap.normalize()
            ),
        ));
    }
    Ok(Window {
        reserve,
        opens_at,
        closes_at,
        min_bid,
        cap,
    })
}

/// What announcing answered.
pub struct Announced {
    pub auction: auction::Model,
    pub replayed: bool,
}

/// Announces a lot: its units are held until the close.
pub async fn announce(
    db: &DatabaseConnection,
    who: &Principal,
    rules: &MarketRules,
    input: &AuctionInput,
    now: DateTime<FixedOffset>,
) -> Result<Announced, MarketError> {
    let code = listing::parse_code("instrument", &input.instrument)?;
    let step = Step::of(code.class);
    let code = code.to_string();
    let quantity = super::orders::lots(step, "quantity", input.quantity)?;
    let w = check_window(
        rules,
        step,
        quantity,
        &input.reserve_price,
        input.opens_at,
        input.closes_at,
        input.min_bid_units,
        now,
    )?;
    let (reserve, opens_at, closes_at, min_bid, cap) =
        (w.reserve, w.opens_at, w.closes_at, w.min_bid, w.cap);
    let hash = hex::encode(Sha256::digest(
        serde_json::json!([
            "auction",
            code,
            quantity,
            reserve,
            input.opens_at.timestamp_micros(),
            input.closes_at.timestamp_micros(),
            min_bid
        ])
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
        let a = by_sell_order(db, &first.order.id).await?;
        return Ok(Announced {
            auction: a,
            replayed: true,
        });
    }
    let day = crate::clock::china_day(now);
    let txn = crate::db::begin_write(db).await?;
    let i = lock_instrument(&txn, &code, 1).await?;
    refuse_suspended(&i)?;
    check_floor(&i, reserve, "reserve_price", "auctions")?;
    let id = uuid::Uuid::now_v7().to_string();
    let terms = Terms {
        instrument: &i,
        kind: OrderKind::Auction,
        side: Side::Sell,
        price: reserve,
        quantity,
        tif: TimeInForce::Gtc,
        picked: None,
        status: OrderStatus::Pending,
        auction: Some(id.clone()),
    };
    let Some(lot) = open_order(&txn, who, rules, &entry, terms, &day, now).await? else {
        txn.rollback().await?;
        let first = replay_of(db, &entry).await?.ok_or(MarketError::NotFound)?;
        let a = by_sell_order(db, &first.order.id).await?;
        return Ok(Announced {
            auction: a,
            replayed: true,
        });
    };
    let a = auction::Entity::insert(auction::ActiveModel {
        id: Set(id),
        instrument: Set(i.code.clone()),
        seller_organization_id: Set(entry.me.org.id.clone()),
        sell_order_id: Set(lot.id.clone()),
        quantity: Set(quantity),
        reserve_price: Set(reserve),
        min_bid_units: Set(min_bid),
        bidder_cap_units: Set(cap),
        opens_at: Set(opens_at),
        closes_at: Set(closes_at),
        status: Set(AuctionStatus::Announced),
        clearing_price: Set(None),
        sold: Set(0),
        bids: Set(0),
        winners: Set(0),
        reason: Set(None),
        created_by: Set(who.user_id.to_string()),
        created_at: Set(now),
        closed_at: Set(None),
        pledge_id: Set(None),
    })
    .exec_with_returning(&txn)
    .await?;
    crate::audit::log::append(
        &txn,
        "market.auction_announced",
        announced_event(&a),
        None,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(Announced {
        auction: a,
        replayed: false,
    })
}

/// Places a sealed, irrevocable bid: its cash (price × quantity and the
/// most its fees can be) is held until the close.
pub async fn bid(
    db: &DatabaseConnection,
    who: &Principal,
    rules: &MarketRules,
    auction_id: &str,
    input: &BidInput,
    now: DateTime<FixedOffset>,
) -> Result<Placed, MarketError> {
    let a = find(db, auction_id).await?;
    let step = Step::of_code(&a.instrument);
    let price = super::orders::parse_price(step, "price", &input.price)?;
    let quantity = super::orders::lots(step, "quantity", input.quantity)?;
    let hash = hex::encode(Sha256::digest(
        serde_json::json!(["bid", auction_id, price, quantity])
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
        return Ok(first);
    }
    let day = crate::clock::china_day(now);
    let txn = crate::db::begin_write(db).await?;
    let i = lock_instrument(&txn, &a.instrument, 1).await?;
    // Read again under the lock: a close may have run meanwhile.
    let a = find(&txn, auction_id).await?;
    refuse_suspended(&i)?;
    if a.status != AuctionStatus::Announced || now < a.opens_at || now >= a.closes_at {
        return Err(not_taking_bids(&a));
    }
    if a.seller_organization_id == entry.me.org.id {
        return Err(MarketError::Conflict(
            ProblemCode::SelfTrade,
            "the seller does not bid for its own lot".into(),
        ));
    }
    check_floor(&i, price, "price", "bids")?;
    if price < a.reserve_price {
        return Err(MarketError::Rule(
            ProblemCode::BelowReserve,
            "price",
            format!(
                "bids are at least the reserve price of {} yuan",
                money::yuan(a.reserve_price)
            ),
        ));
    }
    if quantity < a.min_bid_units {
        return Err(MarketError::invalid(
            "quantity",
            format!("a bid is at least {} units", step.show(a.min_bid_units)),
        ));
    }
    let mine: i64 = order::Entity::find()
        .select_only()
        .column(order::Column::Quantity)
        .filter(order::Column::AuctionId.eq(a.id.as_str()))
        .filter(order::Column::Kind.eq(OrderKind::Bid))
        .filter(order::Column::OrganizationId.eq(entry.me.org.id.as_str()))
        .into_tuple::<i64>()
        .all(&txn)
        .await?
        .into_iter()
        .sum();
    if mine + quantity > a.bidder_cap_units {
        return Err(MarketError::Conflict(
            ProblemCode::BidderCap,
            format!(
                "one bidder's bids for this lot add up to at most {} units; yours would be {}",
                step.show(a.bidder_cap_units),
                step.show(mine + quantity)
            ),
        ));
    }
    let terms = Terms {
        instrument: &i,
        kind: OrderKind::Bid,
        side: Side::Buy,
        price,
        quantity,
        tif: TimeInForce::Gtc,
        picked: Some(a.sell_order_id.clone()),
        status: OrderStatus::Pending,
        auction: Some(a.id.clone()),
    };
    let Some(o) = open_order(&txn, who, rules, &entry, terms, &day, now).await? else {
        txn.rollback().await?;
        return replay_of(db, &entry).await?.ok_or(MarketError::NotFound);
    };
    auction::Entity::update_many()
        .col_expr(
            auction::Column::Bids,
            Expr::col(auction::Column::Bids).add(1),
        )
        .filter(auction::Column::Id.eq(a.id.as_str()))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(Placed {
        order: o,
        trades: Vec::new(),
        replayed: false,
    })
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<auction::Model, MarketError> {
    auction::Entity::find_by_id(id.to_string())
        .one(db)
        .await?
        .ok_or(MarketError::NotFound)
}

/// Auctions of an instrument (or all), newest first. Public.
pub async fn list(
    db: &DatabaseConnection,
    instrument: Option<&str>,
    starting_after: Option<&str>,
    limit: u64,
) -> Result<(Vec<auction::Model>, bool), MarketError> {
    let mut q = auction::Entity::find();
    if let Some(code) = instrument {
        q = q.filter(auction::Column::Instrument.eq(code));
    }
    Ok(pagination::fetch(
        db,
        q,
        auction::Column::Id,
        Order::Descending,
        starting_after,
        limit,
    )
    .await?)
}

/// The winning trades of a closed auction, in ranking order.
pub async fn results(
    db: &impl ConnectionTrait,
    a: &auction::Model,
) -> Result<Vec<trade::Model>, MarketError> {
    if a.status != AuctionStatus::Closed {
        return Ok(Vec::new());
    }
    Ok(trade::Entity::find()
        .filter(trade::Column::SellOrderId.eq(a.sell_order_id.as_str()))
        .order_by_asc(trade::Column::Seq)
        .all(db)
        .await?)
}

/// Closes every auction whose window has ended, each on its own (one that
/// fails is logged and left for the next check). Answers those this
/// replica closed.
pub async fn close_due(
    db: &DatabaseConnection,
    rules: &MarketRules,
    systems: &SystemAccounts,
    now: DateTime<FixedOffset>,
) -> Result<Vec<auction::Model>, MarketError> {
    let due: Vec<String> = auction::Entity::find()
        .select_only()
        .column(auction::Column::Id)
        .filter(auction::Column::Status.eq(AuctionStatus::Announced))
        .filter(auction::Column::ClosesAt.lte(now))
        .order_by_asc(auction::Column::ClosesAt)
        .into_tuple()
        .all(db)
        .await?;
    let mut closed = Vec::new();
    for id in due {
        match close(db, rules, systems, &id, now).await {
            Ok(true) => closed.push(find(db, &id).await?),
            Ok(false) => {}
            // One auction that cannot close (a fault, a bug) must not keep
            // the others open: it is logged and tried again at the next
            // check, the rest close now.
            Err(e) => tracing::error!(
                auction = %id,
                error = %e,
                "closing an auction failed; it is tried again at the next check"
            ),
        }
    }
    Ok(closed)
}

/// Closes one auction, once: allocates the lot, settles each winner at
/// the clearing price, gives back the losers' cash and the unsold units,
/// and publishes the bids. `false` when another replica closed it.
pub async fn close(
    db: &DatabaseConnection,
    rules: &MarketRules,
    systems: &SystemAccounts,
    id: &str,
    now: DateTime<FixedOffset>,
) -> Result<bool, MarketError> {
    let code = find(db, id).await?.instrument;
    let fees = &super::settlement::fees_of(systems, db, &code, now).await?;
    let txn = crate::db::begin_write(db).await?;
    let i = lock_instrument(&txn, &code, 1).await?;
    let a = find(&txn, id).await?;
    if a.status != AuctionStatus::Announced || a.closes_at > now {
        return Ok(false);
    }
    let lot = order::Entity::find_by_id(a.sell_order_id.clone())
        .one(&txn)
        .await?
        .ok_or(MarketError::NotFound)?;
    let bids = order::Entity::find()
        .filter(order::Column::AuctionId.eq(a.id.as_str()))
        .filter(order::Column::Kind.eq(OrderKind::Bid))
        .filter(order::Column::Status.eq(OrderStatus::Pending))
        .order_by_asc(order::Column::Seq)
        .all(&txn)
        .await?;
    let suspended = i.status == TradingStatus::Suspended;
    let outcome = if suspended {
        allocation::Allocation::default()
    } else {
        let ranked: Vec<Bid> = bids
            .iter()
            .map(|b| Bid {
                seq: b.seq as u64,
                price: b.price,
                quantity: b.quantity,
            })
            .collect();
        allocation::allocate(a.quantity, a.reserve_price, &ranked)
    };
    let day = crate::clock::china_day(now);
    let seller = account::Entity::find_by_id(lot.account_id.clone())
        .one(&txn)
        .await?
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound(lot.account_id.clone()))?;
    let won_by = |b: &order::Model| {
        outcome
            .awards
            .iter()
            .find(|(s, _)| *s == b.seq as u64)
            .map_or(0, |(_, q)| *q)
    };
    // Winners trade in ranking order, so the tape reads as the ranking.
    for (seq, won) in &outcome.awards {
        let b = bids
            .iter()
            .find(|b| b.seq as u64 == *seq)
            .expect("an award names a bid");
        let price = outcome.clearing_price.expect("a winner has a price");
        let buyer = account::Entity::find_by_id(b.account_id.clone())
            .one(&txn)
            .await?
            .ok_or_else(|| sea_orm::DbErr::RecordNotFound(b.account_id.clone()))?;
        settlement::settle(
            &txn,
            &Fill {
                instrument: &i,
                buy: b,
                sell: &lot,
                price,
                quantity: *won,
                method: "auction",
                taker_side: None,
            },
            &Parties {
                buyer: &buyer,
                seller: &seller,
                fees,
            },
            rules,
            &day,
            now,
        )
        .await?;
    }
    for b in &bids {
        let won = won_by(b);
        let (status, why) = match (won, suspended) {
            (_, true) => (OrderStatus::Cancelled, Some("suspended")),
            (w, _) if w == b.quantity => (OrderStatus::Filled, None),
            (0, _) => (OrderStatus::Cancelled, Some("not_allocated")),
            _ => (OrderStatus::Cancelled, Some("partly_allocated")),
        };
        super::orders::end_order(&txn, b, won, status, why, now).await?;
    }
    let lot_status = match (outcome.sold == a.quantity, suspended) {
        (_, true) => (OrderStatus::Cancelled, Some("suspended")),
        (true, _) => (OrderStatus::Filled, None),
        (false, _) => (OrderStatus::Cancelled, Some("unsold")),
    };
    // A pledge's units: what no bid took, batch by batch, before the lot's
    // holds are given up.
    let mut unsold = Vec::new();
    if a.pledge_id.is_some() {
        let lots = super::entity::order_lot::Entity::find()
            .filter(super::entity::order_lot::Column::OrderId.eq(lot.id.as_str()))
            .order_by_asc(super::entity::order_lot::Column::Position)
            .all(&txn)
            .await?;
        for l in lots {
            let left = settlement::left_in(&txn, &l.hold_id).await?;
            if left > 0 {
                unsold.push((l.batch_id, left));
            }
        }
    }
    super::orders::end_order(&txn, &lot, outcome.sold, lot_status.0, lot_status.1, now).await?;
    if let Some(pledge) = &a.pledge_id {
        let proceeds: i64 = trade::Entity::find()
            .filter(trade::Column::SellOrderId.eq(lot.id.as_str()))
            .all(&txn)
            .await?
            .iter()
            .map(|t| t.value - t.seller_fee)
            .sum();
        crate::finance::enforcement::auction_closed(
            &txn, pledge, &a.id, &seller, proceeds, unsold, now,
        )
        .await?;
    }
    let status = if suspended {
        AuctionStatus::Cancelled
    } else {
        AuctionStatus::Closed
    };
    let changed = auction::Entity::update_many()
        .col_expr(auction::Column::Status, Expr::value(status))
        .col_expr(
            auction::Column::ClearingPrice,
            Expr::value(outcome.clearing_price),
        )
        .col_expr(auction::Column::Sold, Expr::value(outcome.sold))
        .col_expr(
            auction::Column::Winners,
            Expr::value(outcome.awards.len() as i64),
        )
        .col_expr(
            auction::Column::Reason,
            Expr::value(suspended.then_some("the instrument was suspended at the close")),
        )
        .col_expr(auction::Column::ClosedAt, Expr::value(now))
        .filter(auction::Column::Id.eq(a.id.as_str()))
        .filter(auction::Column::Status.eq(AuctionStatus::Announced))
        .exec(&txn)
        .await?;
    if changed.rows_affected != 1 {
        txn.rollback().await?;
        return Ok(false);
    }
    let step = i.step();
    crate::audit::log::append(
        &txn,
        "market.auction_closed",
        serde_json::json!({
            "auction": a.id,
            "instrument": a.instrument,
            "status": status,
            "clearing_price": outcome.clearing_price.map(money::yuan),
            "sold": step.show(outcome.sold),
            "unsold": step.show(a.quantity - outcome.sold),
            // The sealed bids, opened: each one's commitment checks (their
            // quantities in lots, as committed).
            "bids": bids.iter().map(|b| serde_json::json!({
                "order": b.id,
                "seq": b.seq,
                "organization": b.organization_id,
                "price_fen": b.price,
                "quantity": b.quantity,
                "won": won_by(b),
            })).collect::<Vec<_>>(),
        }),
        None,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(true)
}

/// The public log's record of an announcement: the lot's terms, and the
/// pledge it sells when it is an enforcement sale.
fn announced_event(a: &auction::Model) -> serde_json::Value {
    let step = Step::of_code(&a.instrument);
    let mut body = serde_json::json!({
        "auction": a.id,
        "instrument": a.instrument,
        "seller": a.seller_organization_id,
        "quantity": step.show(a.quantity),
        "reserve_price": money::yuan(a.reserve_price),
        "min_bid_units": step.show(a.min_bid_units),
        "bidder_cap_units": step.show(a.bidder_cap_units),
        "opens_at": a.opens_at.to_rfc3339(),
        "closes_at": a.closes_at.to_rfc3339(),
    });
    if let Some(pledge) = &a.pledge_id {
        body["pledge"] = serde_json::json!(pledge);
    }
    body
}

/// A pledge's collateral put up for sale by its pledgee bank: the lot is
/// the pledge's own holds (the same batches and grams, never free in
/// between), the seller the pledgor, the auction named after the pledge.
/// In the caller's transaction (the pledge's change of status is in it).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn announce_pledged(
    txn: &sea_orm::DatabaseTransaction,
    who: &Principal,
    rules: &MarketRules,
    pledgor: &super::participants::Participant,
    code: &str,
    lots: &[crate::reserve::lots::Lot],
    terms: &PledgeAuction,
    pledge_id: &str,
    now: DateTime<FixedOffset>,
) -> Result<auction::Model, MarketError> {
    use sea_orm::IntoActiveModel;
    let i = lock_instrument(txn, code, 1).await?;
    let grams: i64 = lots.iter().map(|l| l.grams).sum();
    let quantity = grams / i.minor_per_lot();
    let w = check_window(
        rules,
        i.step(),
        quantity,
        &terms.reserve_price,
        terms.opens_at,
        terms.closes_at,
        terms.min_bid_units,
        now,
    )?;
    refuse_suspended(&i)?;
    check_floor(&i, w.reserve, "reserve_price", "auctions")?;
    let id = uuid::Uuid::now_v7().to_string();
    let entry = super::orders::Entry::on_behalf(
        pledgor.clone(),
        format!("pledge-sale-{id}"),
        String::new(),
    );
    let order_terms = Terms {
        instrument: &i,
        kind: OrderKind::Auction,
        side: Side::Sell,
        price: w.reserve,
        quantity,
        tif: TimeInForce::Gtc,
        picked: None,
        status: OrderStatus::Pending,
        auction: Some(id.clone()),
    };
    let day = crate::clock::china_day(now);
    let row = super::orders::new_order(
        &who.user_id,
        rules,
        &entry,
        &order_terms,
        i.last_sequence,
        &day,
        now,
    );
    let lot = order::Entity::insert(row.into_active_model())
        .exec_with_returning(txn)
        .await?;
    for (position, l) in (0i32..).zip(lots) {
        super::entity::order_lot::Entity::insert(
            super::entity::order_lot::Model {
                order_id: lot.id.clone(),
                position,
                batch_id: l.batch.clone(),
                hold_id: l.hold.clone(),
                grams: l.grams,
            }
            .into_active_model(),
        )
        .exec_without_returning(txn)
        .await?;
    }
    crate::audit::log::append(
        txn,
        "market.order_placed",
        super::orders::placed_event(&lot, &None),
        None,
        now,
    )
    .await?;
    let a = auction::Entity::insert(auction::ActiveModel {
        id: Set(id),
        instrument: Set(i.code.clone()),
        seller_organization_id: Set(pledgor.org.id.clone()),
        sell_order_id: Set(lot.id.clone()),
        quantity: Set(quantity),
        reserve_price: Set(w.reserve),
        min_bid_units: Set(w.min_bid),
        bidder_cap_units: Set(w.cap),
        opens_at: Set(w.opens_at),
        closes_at: Set(w.closes_at),
        status: Set(AuctionStatus::Announced),
        clearing_price: Set(None),
        sold: Set(0),
        bids: Set(0),
        winners: Set(0),
        reason: Set(None),
        created_by: Set(who.user_id.to_string()),
        created_at: Set(now),
        closed_at: Set(None),
        pledge_id: Set(Some(pledge_id.to_string())),
    })
    .exec_with_returning(txn)
    .await?;
    crate::audit::log::append(
        txn,
        "market.auction_announced",
        announced_event(&a),
        None,
        now,
    )
    .await?;
    Ok(a)
}

/// The terms a pledgee bank sells a pledge's units on by one-way bidding.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PledgeAuction {
    /// Yuan per unit: no bid below it.
    #[schema(example = "30.00")]
    pub reserve_price: String,
    #[schema(value_type = String, format = DateTime)]
    pub opens_at: DateTime<FixedOffset>,
    #[schema(value_type = String, format = DateTime)]
    pub closes_at: DateTime<FixedOffset>,
    /// Smallest bid, units (default `auction_min_bid_units`).
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "100")]
    pub min_bid_units: Option<Units>,
}
