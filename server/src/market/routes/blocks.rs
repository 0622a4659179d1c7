use actix_web::{get, post, web, HttpResponse};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::orders::TradeView;
use crate::accounts::service::SystemAccounts;
use crate::auth::extract::Principal;
use crate::clock::Now;
use crate::error::ApiError;
use crate::finance::encumbrance::for_org;
use crate::market::blocks::{self, Answered, BlockAnswer, BlockInput};
use crate::market::entity::{block, BlockStatus};
use crate::market::money::{yuan, Step};
use crate::market::rules::MarketRules;
use crate::pagination::{Page, PageQuery};

/// A block trade (大宗协议) as its two parties see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct BlockView {
    pub id: String,
    pub instrument: String,
    pub seller_organization_id: String,
    pub buyer_organization_id: String,
    #[schema(example = "36.50")]
    pub price: String,
    pub quantity: String,
    pub status: BlockStatus,
    /// The trading day it must be answered on.
    pub trading_day: String,
    /// The seller's order of kind `block` that holds the units.
    pub sell_order_id: String,
    pub buy_order_id: Option<String>,
    pub trade_id: Option<String>,
    /// Why it was declined or withdrawn.
    pub reason: Option<String>,
    pub created_at: String,
    pub decided_at: Option<String>,
}

impl From<block::Model> for BlockView {
    fn from(b: block::Model) -> Self {
        let step = Step::of_code(&b.instrument);
        BlockView {
            id: b.id,
            instrument: b.instrument,
            seller_organization_id: b.seller_organization_id,
            buyer_organization_id: b.buyer_organization_id,
            price: yuan(b.price),
            quantity: step.show(b.quantity),
            status: b.status,
            trading_day: b.trading_day,
            sell_order_id: b.sell_order_id,
            buy_order_id: b.buy_order_id,
            trade_id: b.trade_id,
            reason: b.reason,
            created_at: b.created_at.to_rfc3339(),
            decided_at: b.decided_at.map(|t| t.to_rfc3339()),
        }
    }
}

/// A block trade and, once accepted, its trade.
#[derive(Debug, Serialize, ToSchema)]
pub struct BlockDetail {
    pub block: BlockView,
    pub trade: Option<TradeView>,
    /// Proposed or accepted before: nothing happened now.
    pub replayed: bool,
}

fn detail(a: Answered) -> BlockDetail {
    BlockDetail {
        block: a.block.into(),
        trade: a.trade.map(TradeView::from),
        replayed: a.replayed,
    }
}

/// Propose a block trade (大宗协议) to a named buyer organisation (the
/// seller's staff): at least the block minimum (100,000 units by
/// default), inside the block band (±30 % of the reference price), in the
/// block window (13:00–15:00 China time by default). The units are held
/// until the buyer answers, the seller withdraws or the day closes.
/// Idempotent by `client_order_id`.
#[utoipa::path(
    tag = "market",
    security(("bearer" = [])),
    request_body = BlockInput,
    responses(
        (status = 201, description = "Proposed", body = BlockDetail),
        (status = 200, description = "Proposed before with this `client_order_id` (`replayed`)", body = BlockDetail),
        (status = 404, description = "Not an organisation the caller acts for, no such buyer, or not a listed instrument (`not_found`, `param` names it)", content_type = "application/problem+json"),
        (status = 409, description = "Outside the block window (`market_closed`), suspended (`instrument_suspended`), not enough units (`insufficient_units`), T+1 (`t_plus_one`), `client_order_id` reused (`id_reused`), seller or buyer does not trade (`not_a_participant`)", content_type = "application/problem+json"),
        (status = 422, description = "Price outside the block band (`outside_band`); below the block minimum, off the tick, the seller as buyer (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/market/blocks")]
pub async fn propose_block(
    db: web::Data<DatabaseConnection>,
    rules: web::Data<MarketRules>,
    who: Principal,
    body: web::Json<BlockInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let a = match blocks::propose(&db, &who, &rules, &body, now).await {
        Ok(a) => a,
        Err(e) => {
            let (org, code) = (&body.organization_id, &body.instrument);
            return Err(for_org(db.get_ref(), e, org, code, body.quantity)
                .await
                .into());
        }
    };
    Ok(if a.replayed {
        HttpResponse::Ok().json(detail(a))
    } else {
        HttpResponse::Created().json(detail(a))
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BlocksQuery {
    /// A participant the caller acts for: its proposals as seller and as
    /// buyer.
    pub organization_id: String,
    pub status: Option<BlockStatus>,
}

/// A participant's block trades, proposed and received, newest first.
#[utoipa::path(
    tag = "market",
    security(("bearer" = [])),
    params(BlocksQuery, PageQuery),
    responses(
        (status = 200, description = "A page of block trades", body = Page<BlockView>),
        (status = 404, description = "Not an organisation the caller acts for (`not_found`)", content_type = "application/problem+json"),
        (status = 409, description = "The organisation does not trade (`not_a_participant`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/market/blocks")]
pub async fn list_blocks(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    query: web::Query<BlocksQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let rows = blocks::of_org(
        &db,
        &who,
        &query.organization_id,
        query.status,
        page.starting_after.as_deref(),
        page.limit()?,
    )
    .await?;
    Ok(HttpResponse::Ok().json(Page::<BlockView>::of(rows)))
}

/// One block trade, for staff of its seller or buyer.
#[utoipa::path(
    tag = "market",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Block trade id")),
    responses(
        (status = 200, description = "The block trade", body = BlockDetail),
        (status = 404, description = "No such block trade of an organisation the caller acts for (`not_found`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/market/blocks/{id}")]
pub async fn get_block(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let a = blocks::find_for(&db, &who, &id).await?;
    Ok(HttpResponse::Ok().json(detail(a)))
}

/// Accept a block trade (the named buyer's staff, in the block window, on
/// its trading day): the buyer's cash is held and the trade settles at
/// once, units against cash. Accepting again answers the first
/// acceptance.
#[utoipa::path(
    tag = "market",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Block trade id")),
    request_body = BlockAnswer,
    responses(
        (status = 201, description = "Accepted and settled", body = BlockDetail),
        (status = 200, description = "Accepted before (`replayed`)", body = BlockDetail),
        (status = 404, description = "No such block trade for an organisation the caller acts for as buyer (`not_found`)", content_type = "application/problem+json"),
        (status = 409, description = "Declined, withdrawn or expired (`block_not_open`); outside the block window (`market_closed`), suspended, not enough cash (`insufficient_cash`), position limit (`position_limit`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/market/blocks/{id}/accept")]
pub async fn accept_block(
    db: web::Data<DatabaseConnection>,
    rules: web::Data<MarketRules>,
    systems: web::Data<SystemAccounts>,
    who: Principal,
    id: web::Path<String>,
    body: web::Json<BlockAnswer>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let a = blocks::accept(&db, &who, &rules, &systems, &id, &body, now).await?;
    Ok(if a.replayed {
        HttpResponse::Ok().json(detail(a))
    } else {
        HttpResponse::Created().json(detail(a))
    })
}

/// Decline a block trade (the named buyer's staff): the seller's units are
/// available again.
#[utoipa::path(
    tag = "market",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Block trade id")),
    request_body = BlockAnswer,
    responses(
        (status = 200, description = "Declined", body = BlockDetail),
        (status = 404, description = "No such block trade for an organisation the caller acts for as buyer (`not_found`)", content_type = "application/problem+json"),
        (status = 409, description = "Answered, withdrawn or expired already (`block_not_open`)", content_type = "application/problem+json"),
        (status = 422, description = "A bad `reason` (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/market/blocks/{id}/decline")]
pub async fn decline_block(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    id: web::Path<String>,
    body: web::Json<BlockAnswer>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let a = blocks::decline(&db, &who, &id, &body, now).await?;
    Ok(HttpResponse::Ok().json(detail(a)))
}

/// Withdraw a block proposal before it is answered (the seller's staff):
/// its units are available again.
#[utoipa::path(
    tag = "market",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Block trade id")),
    request_body = BlockAnswer,
    responses(
        (status = 200, description = "Withdrawn", body = BlockDetail),
        (status = 404, description = "No such block trade for an organisation the caller acts for as seller (`not_found`)", content_type = "application/problem+json"),
        (status = 409, description = "Answered or expired already (`block_not_open`)", content_type = "application/problem+json"),
        (status = 422, description = "A bad `reason` (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/market/blocks/{id}/withdraw")]
pub async fn withdraw_block(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    id: web::Path<String>,
    body: web::Json<BlockAnswer>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let a = blocks::withdraw(&db, &who, &id, &body, now).await?;
    Ok(HttpResponse::Ok().json(detail(a)))
}

/// A block trade as published after its day's close: never who.
#[derive(Debug, Serialize, ToSchema)]
pub struct BlockReport {
    pub trading_day: String,
    #[schema(example = "36.50")]
    pub price: String,
    pub quantity: String,
    /// Fen.
    pub value: String,
    pub time: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BlockReports {
    pub instrument: String,
    /// Newest first.
    pub data: Vec<BlockReport>,
}

/// Block trades of an instrument, published after the close of their
/// day: day, price, quantity, time — never who. Public.
#[utoipa::path(
    tag = "market",
    params(("code" = String, Path, description = "Instrument code", example = "TPH-FOR-2025"), super::orders::RecentQuery),
    responses(
        (status = 200, description = "Block-trade reports", body = BlockReports),
        (status = 404, description = "Not listed (`not_found`)", content_type = "application/problem+json"),
        (status = 422, description = "Bad `limit` (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/market/instruments/{code}/blocks")]
pub async fn block_reports(
    db: web::Data<DatabaseConnection>,
    code: web::Path<String>,
    query: web::Query<super::orders::RecentQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = query.limit()?;
    let i = crate::market::listing::find(db.get_ref(), &code).await?;
    let step = i.step();
    let data = blocks::reports(&db, &i.code, limit)
        .await?
        .into_iter()
        .map(|t| BlockReport {
            trading_day: t.trading_day,
            price: yuan(t.price),
            quantity: step.show(t.quantity),
            value: t.value.to_string(),
            time: t.created_at.to_rfc3339(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(BlockReports {
        instrument: i.code,
        data,
    }))
}
