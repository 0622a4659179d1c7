use actix_web::{get, post, web, HttpResponse};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::orders::{placed_response, PlacedView};
use crate::auth::extract::Principal;
use crate::clock::Now;
use crate::error::ApiError;
use crate::finance::encumbrance::for_org;
use crate::market::auctions::{self, AuctionInput, BidInput};
use crate::market::entity::{auction, AuctionStatus};
use crate::market::money::{yuan, Step};
use crate::market::rules::MarketRules;
use crate::pagination::{Page, PageQuery};

/// A one-way bidding auction (单向竞价): the announcement and, once
/// closed, its public results. Bids stay sealed until then; never who.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuctionView {
    pub id: String,
    pub instrument: String,
    /// The seller (the reserve platform, a department or any participant).
    pub seller_organization_id: String,
    /// Units offered.
    pub quantity: String,
    #[schema(example = "36.00")]
    pub reserve_price: String,
    pub min_bid_units: String,
    /// The most units one bidder's bids may add up to.
    pub bidder_cap_units: String,
    pub opens_at: String,
    pub closes_at: String,
    pub status: AuctionStatus,
    /// Bids received (their prices stay sealed until the close).
    pub bids: i64,
    /// What every winner pays: the lowest winning bid (once closed, when
    /// anything sold).
    pub clearing_price: Option<String>,
    /// Units sold at the close; the rest went back to the seller.
    pub sold: String,
    pub winners: i64,
    /// Why it was cancelled.
    pub reason: Option<String>,
    pub closed_at: Option<String>,
    /// An enforcement sale of pledged units: the pledge whose banks the
    /// proceeds pay first.
    pub pledge_id: Option<String>,
}

impl From<auction::Model> for AuctionView {
    fn from(a: auction::Model) -> Self {
        let step = Step::of_code(&a.instrument);
        AuctionView {
            id: a.id,
            instrument: a.instrument,
            seller_organization_id: a.seller_organization_id,
            quantity: step.show(a.quantity),
            reserve_price: yuan(a.reserve_price),
            min_bid_units: step.show(a.min_bid_units),
            bidder_cap_units: step.show(a.bidder_cap_units),
            opens_at: a.opens_at.to_rfc3339(),
            closes_at: a.closes_at.to_rfc3339(),
            status: a.status,
            bids: a.bids,
            clearing_price: a.clearing_price.map(yuan),
            sold: a.sold.to_string(),
            winners: a.winners,
            reason: a.reason,
            closed_at: a.closed_at.map(|t| t.to_rfc3339()),
            pledge_id: a.pledge_id,
        }
    }
}

/// One winner's allocation, as the results publish it: never who.
#[derive(Debug, Serialize, ToSchema)]
pub struct Award {
    /// Units won.
    pub quantity: String,
    #[schema(example = "36.80")]
    pub price: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuctionDetail {
    pub auction: AuctionView,
    /// Closed: each winner's units, in ranking order, all at the clearing
    /// price.
    pub awards: Vec<Award>,
    /// Announced before with this `client_order_id`: nothing happened now.
    pub replayed: bool,
}

/// Announce a lot for one-way bidding (the seller's staff): quantity,
/// reserve price, the bidding window, the smallest bid (1,000 units by
/// default); the per-bidder cap follows from `auction_bidder_cap` (half
/// the lot by default). The lot's units are held until the close.
/// Idempotent by `client_order_id`.
#[utoipa::path(
    tag = "market",
    security(("bearer" = [])),
    request_body = AuctionInput,
    responses(
        (status = 201, description = "Announced", body = AuctionDetail),
        (status = 200, description = "Announced before with this `client_order_id` (`replayed`)", body = AuctionDetail),
        (status = 404, description = "Not an organisation the caller acts for, or not a listed instrument (`not_found`, `param` names it)", content_type = "application/problem+json"),
        (status = 409, description = "Suspended (`instrument_suspended`), not enough units (`insufficient_units`), T+1 (`t_plus_one`), `client_order_id` reused (`id_reused`), does not trade (`not_a_participant`)", content_type = "application/problem+json"),
        (status = 422, description = "A window that closes before it opens, in the past or too far ahead; a smallest bid over the lot or the cap; a price off the tick (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/market/auctions")]
pub async fn announce_auction(
    db: web::Data<DatabaseConnection>,
    rules: web::Data<MarketRules>,
    who: Principal,
    body: web::Json<AuctionInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let a = match auctions::announce(&db, &who, &rules, &body, now).await {
        Ok(a) => a,
        Err(e) => {
            let (org, code) = (&body.organization_id, &body.instrument);
            return Err(for_org(db.get_ref(), e, org, code, body.quantity)
                .await
                .into());
        }
    };
    let view = AuctionDetail {
        auction: a.auction.into(),
        awards: Vec::new(),
        replayed: a.replayed,
    };
    Ok(if view.replayed {
        HttpResponse::Ok().json(view)
    } else {
        HttpResponse::Created().json(view)
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuctionsQuery {
    /// Only this instrument's auctions.
    #[param(example = "TPH-FOR-2025")]
    pub instrument: Option<String>,
}

/// Auctions, newest first: announcements and results. Public.
#[utoipa::path(
    tag = "market",
    params(AuctionsQuery, PageQuery),
    responses(
        (status = 200, description = "A page of auctions", body = Page<AuctionView>),
        (status = 422, description = "Bad `limit` or `instrument` (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/market/auctions")]
pub async fn list_auctions(
    db: web::Data<DatabaseConnection>,
    query: web::Query<AuctionsQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let code = crate::market::listing::instrument_filter(query.instrument.as_deref())?;
    let rows = auctions::list(
        &db,
        code.as_deref(),
        page.starting_after.as_deref(),
        page.limit()?,
    )
    .await?;
    Ok(HttpResponse::Ok().json(Page::<AuctionView>::of(rows)))
}

/// One auction: the announcement and, once closed, the results (clearing
/// price, units sold, each winner's units). Public.
#[utoipa::path(
    tag = "market",
    params(("id" = String, Path, description = "Auction id")),
    responses(
        (status = 200, description = "The auction", body = AuctionDetail),
        (status = 404, description = "No such auction (`not_found`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/market/auctions/{id}")]
pub async fn get_auction(
    db: web::Data<DatabaseConnection>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let a = auctions::find(db.get_ref(), &id).await?;
    let step = Step::of_code(&a.instrument);
    let awards = auctions::results(db.get_ref(), &a)
        .await?
        .into_iter()
        .map(|t| Award {
            quantity: step.show(t.quantity),
            price: yuan(t.price),
        })
        .collect();
    Ok(HttpResponse::Ok().json(AuctionDetail {
        auction: a.into(),
        awards,
        replayed: false,
    }))
}

/// Bid for an auction's lot (a participant's staff, inside the window):
/// sealed and irrevocable, at least the reserve price and the smallest
/// bid, one bidder's bids within its cap. The bid's cash (price ×
/// quantity and the most its fees can be) is held until the close; it is
/// listed with the organisation's orders (`kind: bid`, `status:
/// pending`). Idempotent by `client_order_id`.
#[utoipa::path(
    tag = "market",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Auction id")),
    request_body = BidInput,
    responses(
        (status = 201, description = "Bid placed", body = PlacedView),
        (status = 200, description = "Placed before with this `client_order_id` (`replayed`)", body = PlacedView),
        (status = 404, description = "No such auction, or not an organisation the caller acts for (`not_found`)", content_type = "application/problem+json"),
        (status = 409, description = "Not taking bids (`auction_not_open`), over the bidder's cap (`bidder_cap`), the seller's own lot (`self_trade`), not enough cash (`insufficient_cash`), position limit (`position_limit`), suspended, `client_order_id` reused", content_type = "application/problem+json"),
        (status = 422, description = "Below the reserve price (`below_reserve`); under the smallest bid, off the tick (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/market/auctions/{id}/bids")]
pub async fn place_bid(
    db: web::Data<DatabaseConnection>,
    rules: web::Data<MarketRules>,
    who: Principal,
    id: web::Path<String>,
    body: web::Json<BidInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let placed = auctions::bid(&db, &who, &rules, &id, &body, now).await?;
    Ok(placed_response(placed))
}
