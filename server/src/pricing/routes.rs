//! `/api/v1/guidance-prices` (publishing; an organisation's applicable
//! price) and `/api/v1/public/guidance-prices` (every version, JSON or
//! CSV).

use actix_web::{get, post, web, HttpResponse};
use sea_orm::DatabaseConnection;
use serde::Deserialize;
use utoipa::IntoParams;

use super::execution::{self, Market};
use super::guidance::{self, ApplicableView, GuidanceView, PublishInput};
use super::review::{self, PriceReviewDecisionInput, PriceReviewView};
use super::rules::PricingRules;
use super::stabilisation::{self, ActionView, ExecuteInput};
use crate::auth::extract::Principal;
use crate::clock::Now;
use crate::error::ApiError;
use crate::market::feed::Feed;
use crate::market::lanes::Lanes;
use crate::market::listing;
use crate::market::rules::MarketRules;
use crate::pagination::{Page, PageQuery};
use crate::registry::disclosure::{answer, FormatQuery};

/// Publish a guidance price for an instrument (government staff,
/// administrators): a new version with its base price, tiers by district
/// and kind of organisation, whether it is a floor, the first day it is in
/// force and why. Versions are never edited, only superseded; each is in
/// the audit log. In force today, it applies at once (a floor cancels the
/// book orders resting below it); later, from the close before its day.
#[utoipa::path(
    tag = "pricing",
    security(("bearer" = [])),
    request_body = PublishInput,
    responses(
        (status = 201, description = "Published", body = GuidanceView),
        (status = 403, description = "Not government staff or an administrator (`forbidden`)", content_type = "application/problem+json"),
        (status = 409, description = "Another version of the instrument was published at the same moment (`try_again`)", content_type = "application/problem+json"),
        (status = 422, description = "Not an instrument code, a bad price, a day in the past or over a year ahead, a bad tier (`param` is `tiers`, `detail` names it), no reason (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/guidance-prices")]
pub async fn publish_guidance_price(
    db: web::Data<DatabaseConnection>,
    rules: web::Data<MarketRules>,
    feed: web::Data<Feed>,
    who: Principal,
    body: web::Json<PublishInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let published = guidance::publish(db.get_ref(), &who, body.into_inner(), now).await?;
    // A floor in force at once may have cancelled resting orders.
    if listing::find(db.get_ref(), &published.instrument)
        .await
        .is_ok()
    {
        crate::market::routes::announce(&feed, &db, &rules, &published.instrument, &[]).await;
    }
    Ok(HttpResponse::Created().json(published))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InstrumentQuery {
    /// The instrument, listed or not.
    #[param(
        pattern = r"^TPH-(PRJ|FOR|PER|SO2|NOX|COD|NH3N|WCI|WSR|ENU|LCI|LLS)-[0-9]{4}$",
        example = "TPH-FOR-2025"
    )]
    pub instrument: String,
}

const COLUMNS: &[&str] = &[
    "id",
    "instrument",
    "version",
    "price",
    "effective_from",
    "floor",
    "tiers",
    "reason",
    "published_by",
    "review_id",
    "created_at",
];

/// Every guidance price of an instrument, newest version first, with its
/// tiers and the prices they give. Public: no sign-in. `?format=csv` for
/// a spreadsheet (tiers as JSON; `x-has-more` tells to page on).
#[utoipa::path(
    tag = "public",
    params(InstrumentQuery, PageQuery, FormatQuery),
    responses(
        (status = 200, description = "A page of versions (JSON, or CSV with `x-has-more`)", content((Page<GuidanceView> = "application/json"), (String = "text/csv"))),
        (status = 422, description = "Not an instrument code, a bad page (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/public/guidance-prices")]
pub async fn guidance_price_history(
    db: web::Data<DatabaseConnection>,
    query: web::Query<InstrumentQuery>,
    page: web::Query<PageQuery>,
    format: web::Query<FormatQuery>,
) -> Result<HttpResponse, ApiError> {
    let code = listing::parse_code("instrument", &query.instrument)?.to_string();
    let limit = page.limit()?;
    let (rows, has_more) =
        guidance::history(db.get_ref(), &code, page.starting_after.clone(), limit).await?;
    let data: Vec<GuidanceView> = rows.into_iter().map(GuidanceView::from).collect();
    answer(&format, COLUMNS, data, has_more)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApplicableQuery {
    #[param(
        pattern = r"^TPH-(PRJ|FOR|PER|SO2|NOX|COD|NH3N|WCI|WSR|ENU|LCI|LLS)-[0-9]{4}$",
        example = "TPH-FOR-2025"
    )]
    pub instrument: String,
    /// An organisation the caller acts for (government staff and
    /// administrators: any).
    pub organization_id: String,
}

/// The guidance price that applies to an organisation today: the version
/// in force and the tier its registered district and kind select.
#[utoipa::path(
    tag = "pricing",
    security(("bearer" = [])),
    params(ApplicableQuery),
    responses(
        (status = 200, description = "The applicable price", body = ApplicableView),
        (status = 404, description = "Not an organisation the caller acts for (`not_found`, `param` is `organization_id`)", content_type = "application/problem+json"),
        (status = 409, description = "No guidance price in force (`no_guidance_price`)", content_type = "application/problem+json"),
        (status = 422, description = "Not an instrument code (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/guidance-prices/applicable")]
pub async fn applicable_guidance_price(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    query: web::Query<ApplicableQuery>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let view = guidance::applicable(
        db.get_ref(),
        &who,
        &query.instrument,
        &query.organization_id,
        now,
    )
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReviewQuery {
    /// One instrument's reviews; all when absent.
    #[param(
        pattern = r"^TPH-(PRJ|FOR|PER|SO2|NOX|COD|NH3N|WCI|WSR|ENU|LCI|LLS)-[0-9]{4}$",
        example = "TPH-FOR-2025"
    )]
    pub instrument: Option<String>,
    /// `proposed` (waiting for a decision), `published` or `rejected`.
    #[param(pattern = "^(proposed|published|rejected)$")]
    pub status: Option<String>,
}

/// The monthly reviews of guidance prices, newest first: the window of
/// trades each read, its volume-weighted average, the proposed price and
/// why, and what was decided. Public: no sign-in.
#[utoipa::path(
    tag = "public",
    params(ReviewQuery, PageQuery),
    responses(
        (status = 200, description = "A page of reviews", body = Page<PriceReviewView>),
        (status = 422, description = "Not an instrument code, an unknown status, a bad page (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/public/guidance-reviews")]
pub async fn guidance_reviews(
    db: web::Data<DatabaseConnection>,
    query: web::Query<ReviewQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = page.limit()?;
    let (rows, has_more) = review::list(
        db.get_ref(),
        listing::instrument_filter(query.instrument.as_deref())?.as_deref(),
        query.status.as_deref(),
        page.starting_after.clone(),
        limit,
    )
    .await?;
    let data: Vec<PriceReviewView> = rows.into_iter().map(PriceReviewView::from).collect();
    Ok(HttpResponse::Ok().json(Page { data, has_more }))
}

/// Decide a proposed review (government staff, administrators): `approve`
/// publishes the proposed price, `amend` another (`price`, with a
/// `reason`), `reject` nothing (with a `reason`). What is published keeps
/// the tiers and floor of the version in force and is in force from
/// `effective_from` (today by default). Decided once.
#[utoipa::path(
    tag = "pricing",
    security(("bearer" = [])),
    request_body = PriceReviewDecisionInput,
    responses(
        (status = 200, description = "The decided review", body = PriceReviewView),
        (status = 403, description = "Not government staff or an administrator (`forbidden`)", content_type = "application/problem+json"),
        (status = 404, description = "No such review (`not_found`)", content_type = "application/problem+json"),
        (status = 409, description = "Decided already (`already_decided`); no guidance price in force (`no_guidance_price`)", content_type = "application/problem+json"),
        (status = 422, description = "A price not to amend or none to amend, no reason to amend or reject, a day in the past (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/guidance-reviews/{id}/decision")]
pub async fn decide_guidance_review(
    db: web::Data<DatabaseConnection>,
    rules: web::Data<MarketRules>,
    feed: web::Data<Feed>,
    who: Principal,
    id: web::Path<String>,
    body: web::Json<PriceReviewDecisionInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let decided = review::decide(db.get_ref(), &who, &id, &body, now).await?;
    if decided.guidance_id.is_some()
        && listing::find(db.get_ref(), &decided.instrument)
            .await
            .is_ok()
    {
        crate::market::routes::announce(&feed, &db, &rules, &decided.instrument, &[]).await;
    }
    Ok(HttpResponse::Ok().json(PriceReviewView::from(decided)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActionQuery {
    /// One instrument's actions; all when absent.
    #[param(
        pattern = r"^TPH-(PRJ|FOR|PER|SO2|NOX|COD|NH3N|WCI|WSR|ENU|LCI|LLS)-[0-9]{4}$",
        example = "TPH-FOR-2025"
    )]
    pub instrument: Option<String>,
    /// `open` (waiting for the reserve platform) or `executed`.
    #[param(pattern = "^(open|executed)$")]
    pub status: Option<String>,
}

/// Price stabilisation actions, newest first: which trigger fired on
/// which day's close, against which guidance and trigger price, after how
/// many closes beyond it, and what the reserve platform did. Public: no
/// sign-in.
#[utoipa::path(
    tag = "public",
    params(ActionQuery, PageQuery),
    responses(
        (status = 200, description = "A page of actions", body = Page<ActionView>),
        (status = 422, description = "Not an instrument code, an unknown status, a bad page (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/public/stabilisation-actions")]
pub async fn stabilisation_actions(
    db: web::Data<DatabaseConnection>,
    query: web::Query<ActionQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = page.limit()?;
    let (rows, has_more) = stabilisation::list(
        db.get_ref(),
        listing::instrument_filter(query.instrument.as_deref())?.as_deref(),
        query.status.as_deref(),
        page.starting_after.clone(),
        limit,
    )
    .await?;
    let data: Vec<ActionView> = rows.into_iter().map(ActionView::from).collect();
    Ok(HttpResponse::Ok().json(Page { data, has_more }))
}

/// Execute an open stabilisation action (staff of the reserve platform):
/// an upper trigger announces a one-way bidding auction of the reserve's
/// stock — up to `release_units`, what it may sell — at the trigger price,
/// taking bids for `release_auction_hours`; a lower trigger places a
/// good-till-cancelled bid in the book at the trigger price for up to
/// `support_units` that its cash covers. Executed once; a repeat after a
/// lost answer makes nothing twice (the auction or order's
/// `client_order_id` is `stabilisation-<action id>`).
/// With `[pricing] auto_execute_as` set, the server executes open actions
/// itself as that staff member.
#[utoipa::path(
    tag = "pricing",
    security(("bearer" = [])),
    request_body = ExecuteInput,
    responses(
        (status = 200, description = "Executed", body = ActionView),
        (status = 403, description = "Not staff of a reserve platform (`forbidden`)", content_type = "application/problem+json"),
        (status = 404, description = "No such action, or not an organisation the caller acts for (`not_found`)", content_type = "application/problem+json"),
        (status = 409, description = "Executed already (`already_decided`); no units to release (`insufficient_units`) or cash to bid (`insufficient_cash`); the market closed (`market_closed`), the instrument suspended (`instrument_suspended`)", content_type = "application/problem+json"),
        (status = 422, description = "The trigger price is outside today's band (`outside_band`) or below a floor (`below_floor`)", content_type = "application/problem+json"),
        (status = 503, description = "The instrument's queue is full, or the database cannot be reached (`unavailable`); execute again", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/stabilisation-actions/{id}/execute")]
#[allow(clippy::too_many_arguments)]
pub async fn execute_stabilisation_action(
    db: web::Data<DatabaseConnection>,
    pricing: web::Data<PricingRules>,
    rules: web::Data<MarketRules>,
    lanes: web::Data<Lanes>,
    feed: web::Data<Feed>,
    who: Principal,
    id: web::Path<String>,
    body: web::Json<ExecuteInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let market = Market {
        db: &db,
        lanes: &lanes,
        feed: &feed,
        rules: &rules,
    };
    let done = execution::execute(&market, &pricing, &who, &id, &body, now).await?;
    Ok(HttpResponse::Ok().json(ActionView::from(done)))
}
