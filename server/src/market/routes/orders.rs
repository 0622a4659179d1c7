use actix_web::{get, post, web, HttpResponse};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::accounts::service::SystemAccounts;
use crate::auth::extract::{AuthUser, Principal};
use crate::clock::Now;
use crate::error::ApiError;
use crate::finance::encumbrance::for_org;
use crate::market::book;
use crate::market::entity::{order, trade, OrderKind, OrderStatus};
use crate::market::lanes::{Done, Lanes, Work};
use crate::market::money::{yuan, Step};
use crate::market::orders::{self, OrderInput};
use crate::market::rules::MarketRules;
use crate::pagination::{Page, PageQuery};

/// One trade, as its parties see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TradeView {
    pub id: String,
    pub instrument: String,
    /// The instrument's tape order.
    pub seq: i64,
    /// `book`, `pick`, `block` or `auction`.
    pub method: String,
    #[schema(example = "36.50")]
    pub price: String,
    pub quantity: String,
    /// Price × quantity, fen.
    pub value: String,
    /// Fen.
    pub buyer_fee: String,
    /// Fen.
    pub seller_fee: String,
    pub buy_order_id: Option<String>,
    pub sell_order_id: Option<String>,
    pub buyer_organization_id: String,
    pub seller_organization_id: String,
    pub taker_side: Option<String>,
    pub trading_day: String,
    pub created_at: String,
}

impl From<trade::Model> for TradeView {
    fn from(t: trade::Model) -> Self {
        let step = Step::of_code(&t.instrument);
        TradeView {
            id: t.id,
            instrument: t.instrument,
            seq: t.seq,
            method: t.method,
            price: yuan(t.price),
            quantity: step.show(t.quantity),
            value: t.value.to_string(),
            buyer_fee: t.buyer_fee.to_string(),
            seller_fee: t.seller_fee.to_string(),
            buy_order_id: t.buy_order_id,
            sell_order_id: t.sell_order_id,
            buyer_organization_id: t.buyer_organization_id,
            seller_organization_id: t.seller_organization_id,
            taker_side: t.taker_side,
            trading_day: t.trading_day,
            created_at: t.created_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderView {
    pub id: String,
    pub instrument: String,
    /// The instrument's sequence number: time priority.
    pub seq: i64,
    pub organization_id: String,
    pub client_order_id: String,
    pub kind: OrderKind,
    /// `buy` or `sell`.
    pub side: String,
    #[schema(example = "36.50")]
    pub price: String,
    pub quantity: String,
    pub remaining: String,
    pub filled: String,
    /// `gtc`, `day` or `ioc`.
    pub time_in_force: String,
    pub status: OrderStatus,
    /// Why the rest was cancelled: `cancelled` (by its owner), `ioc`,
    /// `self_trade` (it would have traded with the organisation's own
    /// order), `below_floor` (a guidance price that is a floor took effect
    /// above it).
    pub reason: Option<String>,
    pub trading_day: String,
    pub created_at: String,
    pub updated_at: String,
}

impl From<order::Model> for OrderView {
    fn from(o: order::Model) -> Self {
        let step = Step::of_code(&o.instrument);
        OrderView {
            id: o.id,
            instrument: o.instrument,
            seq: o.seq,
            organization_id: o.organization_id,
            client_order_id: o.client_order_id,
            kind: o.kind,
            side: o.side,
            price: yuan(o.price),
            quantity: step.show(o.quantity),
            remaining: step.show(o.remaining),
            filled: step.show(o.filled),
            time_in_force: o.tif,
            status: o.status,
            reason: o.reason,
            trading_day: o.trading_day,
            created_at: o.created_at.to_rfc3339(),
            updated_at: o.updated_at.to_rfc3339(),
        }
    }
}

/// An order and the trades it made when placed.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlacedView {
    pub order: OrderView,
    pub trades: Vec<TradeView>,
    /// Placed before with this `client_order_id`: nothing happened now.
    pub replayed: bool,
}

/// 201 with a new order and its trades, 200 with a replayed one.
pub(super) fn placed_response(placed: orders::Placed) -> HttpResponse {
    let view = PlacedView {
        order: placed.order.into(),
        trades: placed.trades.into_iter().map(TradeView::from).collect(),
        replayed: placed.replayed,
    };
    if view.replayed {
        HttpResponse::Ok().json(view)
    } else {
        HttpResponse::Created().json(view)
    }
}

/// Place a limit order in the continuous book (the participant's staff).
/// A sell order holds the units it may deliver, a buy order the cash for
/// price × quantity and the most its fees can be. It trades at once with
/// the resting orders it crosses, best price first and at their prices;
/// the rest rests (`gtc`, `day`) or is cancelled (`ioc`). Idempotent by
/// `client_order_id`.
#[utoipa::path(
    tag = "market",
    security(("bearer" = [])),
    request_body = OrderInput,
    responses(
        (status = 201, description = "Placed; the trades it made", body = PlacedView),
        (status = 200, description = "Placed before with this `client_order_id` (`replayed`)", body = PlacedView),
        (status = 404, description = "Not an organisation the caller acts for, or not a listed instrument (`not_found`, `param` names it)", content_type = "application/problem+json"),
        (status = 409, description = "Market closed (`market_closed`), instrument suspended (`instrument_suspended`), not enough cash (`insufficient_cash`) or units (`insufficient_units`), units bought today (`t_plus_one`), over the position limit (`position_limit`), `client_order_id` used for another order (`id_reused`), the organisation does not trade (`not_a_participant`)", content_type = "application/problem+json"),
        (status = 422, description = "Price outside today's band (`outside_band`, `detail` states it); a price off the tick, a quantity of no whole steps or over the largest order (`invalid_field`)", content_type = "application/problem+json"),
        (status = 503, description = "The instrument has `queue_orders` orders waiting on this replica, or the database cannot be reached (`unavailable`, `Retry-After`); nothing was placed, or the same `client_order_id` replays it", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/market/orders")]
pub async fn place_order(
    db: web::Data<DatabaseConnection>,
    rules: web::Data<MarketRules>,
    lanes: web::Data<Lanes>,
    who: AuthUser,
    body: web::Json<OrderInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let order = std::sync::Arc::new(orders::prepare(&who.0, &rules, &body)?);
    let work = Work::Place(order.clone());
    let done = match lanes.run(&order.code, work, now).await {
        Ok(done) => done,
        Err(e) => {
            let units = body.quantity;
            let org = &order.organization_id;
            return Err(for_org(db.get_ref(), e, org, &order.code, units)
                .await
                .into());
        }
    };
    let Done::Placed(placed) = done else {
        unreachable!("a lane answers an order with what it placed")
    };
    Ok(placed_response(orders::settled(&db, &order, placed).await?))
}

/// Cancel the rest of an open order: what it still holds is available
/// again.
#[utoipa::path(
    tag = "market",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Order id")),
    responses(
        (status = 200, description = "Cancelled", body = OrderView),
        (status = 404, description = "No such order of an organisation the caller acts for (`not_found`)", content_type = "application/problem+json"),
        (status = 409, description = "Filled, cancelled or expired already (`order_not_open`)", content_type = "application/problem+json"),
        (status = 503, description = "The instrument has `queue_orders` requests waiting on this replica, or the database cannot be reached (`unavailable`, `Retry-After`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/market/orders/{id}/cancel")]
pub async fn cancel_order(
    db: web::Data<DatabaseConnection>,
    lanes: web::Data<Lanes>,
    who: Principal,
    id: web::Path<String>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let o = orders::find_for(db.get_ref(), &who, &id).await?;
    let code = o.instrument.clone();
    let Done::Cancelled(o) = lanes.run(&code, Work::Cancel(Box::new(o)), now).await? else {
        unreachable!("a lane answers a cancel with the cancelled order")
    };
    Ok(HttpResponse::Ok().json(OrderView::from(o)))
}

/// An order with its trades.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderDetail {
    pub order: OrderView,
    pub trades: Vec<TradeView>,
}

/// One of the caller's organisations' orders, with its trades.
#[utoipa::path(
    tag = "market",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Order id")),
    responses(
        (status = 200, description = "The order", body = OrderDetail),
        (status = 404, description = "No such order of an organisation the caller acts for (`not_found`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/market/orders/{id}")]
pub async fn get_order(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let o = orders::find_for(db.get_ref(), &who, &id).await?;
    let trades = orders::trades_of(db.get_ref(), &o.id).await?;
    Ok(HttpResponse::Ok().json(OrderDetail {
        order: o.into(),
        trades: trades.into_iter().map(TradeView::from).collect(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrdersQuery {
    /// A participant the caller acts for.
    pub organization_id: String,
    /// Only orders in this state.
    pub status: Option<OrderStatus>,
}

/// A participant's orders, newest first.
#[utoipa::path(
    tag = "market",
    security(("bearer" = [])),
    params(OrdersQuery, PageQuery),
    responses(
        (status = 200, description = "A page of orders", body = Page<OrderView>),
        (status = 404, description = "Not an organisation the caller acts for (`not_found`)", content_type = "application/problem+json"),
        (status = 409, description = "The organisation does not trade (`not_a_participant`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/market/orders")]
pub async fn list_orders(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    query: web::Query<OrdersQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let rows = book::orders_of(
        db.get_ref(),
        &who,
        &query.organization_id,
        query.status,
        page.starting_after.as_deref(),
        page.limit()?,
    )
    .await?;
    Ok(HttpResponse::Ok().json(Page::<OrderView>::of(rows)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TradesQuery {
    /// A participant the caller acts for.
    pub organization_id: String,
}

/// A participant's trades (as buyer or seller), newest first.
#[utoipa::path(
    tag = "market",
    security(("bearer" = [])),
    params(TradesQuery, PageQuery),
    responses(
        (status = 200, description = "A page of trades", body = Page<TradeView>),
        (status = 404, description = "Not an organisation the caller acts for (`not_found`)", content_type = "application/problem+json"),
        (status = 409, description = "The organisation does not trade (`not_a_participant`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/market/trades")]
pub async fn list_trades(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    query: web::Query<TradesQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let rows = book::trades_of_org(
        db.get_ref(),
        &who,
        &query.organization_id,
        page.starting_after.as_deref(),
        page.limit()?,
    )
    .await?;
    Ok(HttpResponse::Ok().json(Page::<TradeView>::of(rows)))
}

/// A price level of the book: never who.
#[derive(Debug, Serialize, ToSchema)]
pub struct Level {
    #[schema(example = "36.50")]
    pub price: String,
    pub quantity: String,
    pub orders: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Depth {
    pub instrument: String,
    /// Best (highest) first.
    pub bids: Vec<Level>,
    /// Best (lowest) first.
    pub asks: Vec<Level>,
}

/// The best price levels of each side (5 by default, `pick_levels`):
/// price, quantity and number of orders, never who. Public.
#[utoipa::path(
    tag = "market",
    params(("code" = String, Path, description = "Instrument code", example = "TPH-FOR-2025")),
    responses(
        (status = 200, description = "Depth", body = Depth),
        (status = 404, description = "Not listed (`not_found`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/market/instruments/{code}/book")]
pub async fn get_depth(
    db: web::Data<DatabaseConnection>,
    rules: web::Data<MarketRules>,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let i = crate::market::listing::find(db.get_ref(), &code).await?;
    let depth = depth_of(db.get_ref(), &i.code, rules.pick_levels as u64).await?;
    Ok(HttpResponse::Ok().json(depth))
}

/// The best `n` price levels of each side of an instrument's book.
pub(super) async fn depth_of(
    db: &impl sea_orm::ConnectionTrait,
    code: &str,
    n: u64,
) -> Result<Depth, ApiError> {
    use crate::market::matching::Side;
    let bids = book::depth(db, code, Side::Buy, n).await?;
    let asks = book::depth(db, code, Side::Sell, n).await?;
    Ok(depth_view(code, bids, asks))
}

/// The depth as the API shows it, from (price, quantity, orders) levels.
pub(super) fn depth_view(
    code: &str,
    bids: Vec<(i64, i64, i64)>,
    asks: Vec<(i64, i64, i64)>,
) -> Depth {
    let step = Step::of_code(code);
    let levels = |rows: Vec<(i64, i64, i64)>| {
        rows.into_iter()
            .map(|(price, quantity, orders)| Level {
                price: yuan(price),
                quantity: step.show(quantity),
                orders,
            })
            .collect()
    };
    Depth {
        instrument: code.to_string(),
        bids: levels(bids),
        asks: levels(asks),
    }
}

/// A public list's `limit`: `default` when absent, 1 to `max`.
pub(super) fn limit_of(limit: Option<u64>, default: u64, max: u64) -> Result<u64, ApiError> {
    match limit {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::Invalid {
            param: "limit".into(),
            detail: format!("limit: must be 1 to {max}"),
        }),
    }
}

/// A trade on the public tape: never who.
#[derive(Debug, Serialize, ToSchema)]
pub struct TapeEntry {
    pub seq: i64,
    #[schema(example = "36.50")]
    pub price: String,
    pub quantity: String,
    pub method: String,
    pub time: String,
}

impl From<trade::Model> for TapeEntry {
    fn from(t: trade::Model) -> Self {
        TapeEntry {
            seq: t.seq,
            price: yuan(t.price),
            quantity: Step::of_code(&t.instrument).show(t.quantity),
            method: t.method,
            time: t.created_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Tape {
    pub instrument: String,
    /// Newest first.
    pub data: Vec<TapeEntry>,
}

/// How many of the newest entries of a public list (the tape, block
/// reports) to answer.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecentQuery {
    /// Entries, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
}

impl RecentQuery {
    pub(super) fn limit(&self) -> Result<u64, ApiError> {
        limit_of(self.limit, 50, 100)
    }
}

/// The latest book and pick trades of an instrument: price, quantity,
/// time, never who. Public.
#[utoipa::path(
    tag = "market",
    params(("code" = String, Path, description = "Instrument code", example = "TPH-FOR-2025"), RecentQuery),
    responses(
        (status = 200, description = "The tape", body = Tape),
        (status = 404, description = "Not listed (`not_found`)", content_type = "application/problem+json"),
        (status = 422, description = "Bad `limit` (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/market/instruments/{code}/trades")]
pub async fn get_tape(
    db: web::Data<DatabaseConnection>,
    code: web::Path<String>,
    query: web::Query<RecentQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = query.limit()?;
    let i = crate::market::listing::find(db.get_ref(), &code).await?;
    let data = book::tape(db.get_ref(), &i.code, limit)
        .await?
        .into_iter()
        .map(TapeEntry::from)
        .collect();
    Ok(HttpResponse::Ok().json(Tape {
        instrument: i.code,
        data,
    }))
}

/// A trading day of an instrument.
#[derive(Debug, Serialize, ToSchema)]
pub struct BarView {
    pub instrument: String,
    #[schema(example = "2026-11-30")]
    pub day: String,
    /// The first book or pick trade's price (yuan); empty without trades.
    pub open: Option<String>,
    pub high: Option<String>,
    pub low: Option<String>,
    /// The volume-weighted average of the day's book and pick trades, or
    /// the previous close without any: the next day's reference price.
    pub close: String,
    pub vwap: Option<String>,
    /// Units traded in the book and by picks.
    pub volume: String,
    /// Fen traded in the book and by picks.
    pub turnover: String,
    /// Units traded in block trades (not in the close).
    pub block_volume: String,
    pub trades: i64,
    pub previous_close: String,
}

impl From<crate::market::entity::bar::Model> for BarView {
    fn from(b: crate::market::entity::bar::Model) -> Self {
        let step = Step::of_code(&b.instrument);
        BarView {
            instrument: b.instrument,
            day: b.day,
            open: b.open.map(yuan),
            high: b.high.map(yuan),
            low: b.low.map(yuan),
            close: yuan(b.close),
            vwap: b.vwap.map(yuan),
            volume: step.show(b.volume),
            turnover: b.turnover.to_string(),
            block_volume: step.show(b.block_volume),
            trades: b.trades,
            previous_close: yuan(b.previous_close),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BarsQuery {
    /// Days, 1 to 1000 (default 250): the latest, oldest first.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u64>,
}

/// Daily bars of an instrument (JSON or CSV), oldest first. Public.
#[utoipa::path(
    tag = "market",
    params(("code" = String, Path, description = "Instrument code", example = "TPH-FOR-2025"), BarsQuery, crate::registry::disclosure::FormatQuery),
    responses(
        (status = 200, description = "Bars (JSON, or CSV)", content((Page<BarView> = "application/json"), (String = "text/csv"))),
        (status = 404, description = "Not listed (`not_found`)", content_type = "application/problem+json"),
        (status = 422, description = "Bad `limit` or `format` (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/market/instruments/{code}/bars")]
pub async fn get_bars(
    db: web::Data<DatabaseConnection>,
    code: web::Path<String>,
    query: web::Query<BarsQuery>,
    format: web::Query<crate::registry::disclosure::FormatQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = limit_of(query.limit, 250, 1000)?;
    let i = crate::market::listing::find(db.get_ref(), &code).await?;
    let data: Vec<BarView> = crate::market::close::bars(db.get_ref(), &i.code, limit)
        .await?
        .into_iter()
        .map(BarView::from)
        .collect();
    crate::registry::disclosure::answer(
        &format,
        &[
            "instrument",
            "day",
            "open",
            "high",
            "low",
            "close",
            "vwap",
            "volume",
            "turnover",
            "block_volume",
            "trades",
            "previous_close",
        ],
        data,
        false,
    )
}

/// Take a chosen resting order (点选) among the best price levels of its
/// side (5 by default), in full or in part, at its price (the
/// participant's staff). The pick holds and settles like an order and is
/// listed with the organisation's orders (`kind: pick`).
#[utoipa::path(
    tag = "market",
    security(("bearer" = [])),
    request_body = crate::market::picks::PickInput,
    responses(
        (status = 201, description = "Traded; the pick and its trade", body = PlacedView),
        (status = 200, description = "Picked before with this `client_order_id` (`replayed`)", body = PlacedView),
        (status = 404, description = "Not an organisation the caller acts for, or no such order (`not_found`, `param` names it)", content_type = "application/problem+json"),
        (status = 409, description = "The order is no longer open (`order_not_open`), not among the best levels (`not_pickable`), the taker's own (`self_trade`); market closed, suspended, not enough cash or units, T+1, position limit, `client_order_id` reused, as for orders", content_type = "application/problem+json"),
        (status = 422, description = "More than the order has left, or no whole steps (`invalid_field`); its price outside today's band (`outside_band`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/market/picks")]
pub async fn pick_order(
    db: web::Data<DatabaseConnection>,
    rules: web::Data<MarketRules>,
    feed: web::Data<crate::market::feed::Feed>,
    systems: web::Data<SystemAccounts>,
    who: Principal,
    body: web::Json<crate::market::picks::PickInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let placed = match crate::market::picks::pick(&db, &who, &rules, &systems, &body, now).await {
        Ok(p) => p,
        Err(e) => {
            let picked = <order::Entity as sea_orm::EntityTrait>::find_by_id(body.order_id.clone())
                .one(db.get_ref())
                .await
                .ok()
                .flatten();
            return Err(match picked {
                Some(o) => {
                    for_org(
                        db.get_ref(),
                        e,
                        &body.organization_id,
                        &o.instrument,
                        body.quantity,
                    )
                    .await
                }
                None => e,
            }
            .into());
        }
    };
    if !placed.replayed {
        let code = placed.order.instrument.clone();
        super::announce(&feed, &db, &rules, &code, &placed.trades).await;
    }
    Ok(placed_response(placed))
}

/// A resting order a participant may pick: never who.
#[derive(Debug, Serialize, ToSchema)]
pub struct PickableOrder {
    /// Give it as `order_id` to pick it.
    pub id: String,
    /// `buy` or `sell`.
    pub side: String,
    #[schema(example = "36.50")]
    pub price: String,
    pub remaining: String,
    /// Time priority within its price.
    pub seq: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PickableOrders {
    pub instrument: String,
    /// Bids best first, then asks best first.
    pub data: Vec<PickableOrder>,
}

/// The open orders of the best price levels of each side (5 by default),
/// for staff of trading organisations choosing one to pick.
#[utoipa::path(
    tag = "market",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Instrument code", example = "TPH-FOR-2025")),
    responses(
        (status = 200, description = "Orders one may pick", body = PickableOrders),
        (status = 403, description = "Not staff of an organisation that trades (`forbidden`)", content_type = "application/problem+json"),
        (status = 404, description = "Not listed (`not_found`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/market/instruments/{code}/orders")]
pub async fn pickable_orders(
    db: web::Data<DatabaseConnection>,
    rules: web::Data<MarketRules>,
    who: Principal,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let i = crate::market::listing::find(db.get_ref(), &code).await?;
    let step = i.step();
    let data = book::pickable(db.get_ref(), &who, &i.code, rules.pick_levels as u64)
        .await?
        .into_iter()
        .map(|o| PickableOrder {
            id: o.id,
            side: o.side,
            price: yuan(o.price),
            remaining: step.show(o.remaining),
            seq: o.seq,
        })
        .collect();
    Ok(HttpResponse::Ok().json(PickableOrders {
        instrument: i.code,
        data,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PositionView {
    pub instrument: String,
    /// Units held.
    pub units: String,
    /// Units open sell orders hold.
    pub in_orders: String,
    /// Units bought today: they can be sold from the next trading day.
    pub locked_t_plus_one: String,
    /// Units held under live pledges: not sold until released.
    pub pledged: String,
    /// Units a new sell order may take now.
    pub sellable: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PositionsView {
    pub organization_id: String,
    pub account_id: String,
    /// Fen.
    pub cash_posted: String,
    /// Fen held by buy orders and withdrawals.
    pub cash_held: String,
    /// Fen.
    pub cash_available: String,
    /// Fen of trading fees paid, as buyer and as seller.
    pub fees_paid: String,
    /// Instruments the organisation holds or sells.
    pub positions: Vec<PositionView>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PositionsQuery {
    /// A participant the caller acts for.
    pub organization_id: String,
}

/// A participant's positions per instrument (held, in orders, locked by
/// T+1, sellable), its cash and the fees it has paid.
#[utoipa::path(
    tag = "market",
    security(("bearer" = [])),
    params(PositionsQuery),
    responses(
        (status = 200, description = "Positions and cash", body = PositionsView),
        (status = 404, description = "Not an organisation the caller acts for (`not_found`)", content_type = "application/problem+json"),
        (status = 409, description = "The organisation does not trade (`not_a_participant`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/market/positions")]
pub async fn get_positions(
    db: web::Data<DatabaseConnection>,
    rules: web::Data<MarketRules>,
    who: Principal,
    query: web::Query<PositionsQuery>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let p = crate::market::positions::of(&db, &who, &query.organization_id, rules.t_plus_one, now)
        .await?;
    Ok(HttpResponse::Ok().json(PositionsView {
        organization_id: p.participant.org.id,
        account_id: p.participant.account.id,
        cash_posted: p.cash_posted.to_string(),
        cash_held: p.cash_held.to_string(),
        cash_available: (p.cash_posted - p.cash_held).to_string(),
        fees_paid: p.fees_paid.to_string(),
        positions: p
            .positions
            .into_iter()
            .map(|x| {
                let step = Step::of_code(&x.instrument);
                PositionView {
                    units: step.show(x.units),
                    in_orders: step.show(x.in_orders),
                    locked_t_plus_one: step.show(x.locked_t_plus_one),
                    pledged: step.show(x.pledged),
                    sellable: step.show(x.sellable),
                    instrument: x.instrument,
                }
            })
            .collect(),
    }))
}
