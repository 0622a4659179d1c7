//! `/api/v1/reserve/…` (offers to the reserve platform, its answers, a
//! lease's return, claw-back orders) and `/api/v1/public/reserve…` (its
//! cash, stock and every operation).

use actix_web::{get, post, web, HttpResponse};
use sea_orm::DatabaseConnection;
use serde::Deserialize;
use utoipa::IntoParams;

use super::answers::{self, AnswerInput, Side};
use super::claw_back::{self, ClawBackInput, ClawBackView};
use super::entity::{OperationKind, OperationStatus};
use super::leases;
use super::offers::{self, BuyBackInput, Done, LeaseInput, Offer, SwapInput};
use super::views::{self, Filter, OperationView, ReservesView};
use crate::auth::extract::Principal;
use crate::clock::Now;
use crate::error::ApiError;
use crate::market::listing;
use crate::market::participants;
use crate::market::rules::MarketRules;
use crate::pagination::{Page, PageQuery};
use crate::pricing::rules::PricingRules;

fn made(done: Done) -> HttpResponse {
    let replayed = done.replayed;
    let view = OperationView::full(done.operation);
    if replayed {
        HttpResponse::Ok().json(view)
    } else {
        HttpResponse::Created().json(view)
    }
}

async fn offer(
    db: &DatabaseConnection,
    pricing: &PricingRules,
    market: &MarketRules,
    who: &Principal,
    o: Offer,
    now: chrono::DateTime<chrono::FixedOffset>,
) -> Result<HttpResponse, ApiError> {
    Ok(made(offers::offer(db, who, pricing, market, o, now).await?))
}

/// Offer units to a reserve platform (收储, staff of the holder): at the
/// holder's applicable guidance price today. The units are held until the
/// reserve accepts (it pays from its cash), declines or the holder
/// withdraws; units bought today cannot be offered (T+1). Idempotent by
/// `client_id`.
#[utoipa::path(
    tag = "reserve",
    security(("bearer" = [])),
    request_body = BuyBackInput,
    responses(
        (status = 201, description = "Offered", body = OperationView),
        (status = 200, description = "Offered before with this `client_id`", body = OperationView),
        (status = 404, description = "Not an organisation the caller acts for, or not a reserve platform (`not_found`, `param` names it)", content_type = "application/problem+json"),
        (status = 409, description = "No guidance price in force (`no_guidance_price`), not enough units (`insufficient_units`), T+1 (`t_plus_one`), rights past their validity (`rights_expired`), `client_id` reused (`id_reused`), does not trade (`not_a_participant`)", content_type = "application/problem+json"),
        (status = 422, description = "Not an instrument code, a bad quantity or client id, an offer to itself (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/reserve/buy-backs")]
pub async fn offer_buy_back(
    db: web::Data<DatabaseConnection>,
    pricing: web::Data<PricingRules>,
    market: web::Data<MarketRules>,
    who: Principal,
    body: web::Json<BuyBackInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    offer(&db, &pricing, &market, &who, body.into_inner().into(), now).await
}

/// Offer a swap to a reserve platform (置换, staff of the holder): the
/// holder's units of `instrument` for the reserve's of
/// `wanted_instrument`, at the ratio of the holder's applicable guidance
/// prices of the two; the units it gets are rounded down and the rest of
/// the value is paid in cash by the reserve. The units given are held
/// until the answer. Idempotent by `client_id`.
#[utoipa::path(
    tag = "reserve",
    security(("bearer" = [])),
    request_body = SwapInput,
    responses(
        (status = 201, description = "Offered", body = OperationView),
        (status = 200, description = "Offered before with this `client_id`", body = OperationView),
        (status = 404, description = "Not an organisation the caller acts for, or not a reserve platform (`not_found`, `param` names it)", content_type = "application/problem+json"),
        (status = 409, description = "No guidance price in force for either instrument (`no_guidance_price`), not enough units (`insufficient_units`), T+1 (`t_plus_one`), rights of either past their validity (`rights_expired`), `client_id` reused (`id_reused`), does not trade (`not_a_participant`)", content_type = "application/problem+json"),
        (status = 422, description = "Not an instrument code, the same instrument twice, worth less than one wanted unit, a bad quantity or client id (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/reserve/swaps")]
pub async fn offer_swap(
    db: web::Data<DatabaseConnection>,
    pricing: web::Data<PricingRules>,
    market: web::Data<MarketRules>,
    who: Principal,
    body: web::Json<SwapInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    offer(&db, &pricing, &market, &who, body.into_inner().into(), now).await
}

/// Ask a reserve platform for a lease (租赁, staff of the lessee): units of
/// its stock for `term_days`, at a yearly fee (`lease_fee_rate`, 3 % by
/// default) of their guidance value, against a deposit
/// (`lease_deposit_rate`, 100 % by default). Deposit and fee are held from
/// the lessee's cash now; on acceptance the units are the lessee's and the
/// fee the reserve's. By the due day the lessee gives the same quantity
/// back; after it, the deposit pays for them at the guidance price then in
/// force. Idempotent by `client_id`.
#[utoipa::path(
    tag = "reserve",
    security(("bearer" = [])),
    request_body = LeaseInput,
    responses(
        (status = 201, description = "Asked", body = OperationView),
        (status = 200, description = "Asked before with this `client_id`", body = OperationView),
        (status = 404, description = "Not an organisation the caller acts for, or not a reserve platform (`not_found`, `param` names it)", content_type = "application/problem+json"),
        (status = 409, description = "No guidance price in force (`no_guidance_price`), not enough cash for deposit and fee (`insufficient_cash`), rights past their validity (`rights_expired`), `client_id` reused (`id_reused`), does not trade (`not_a_participant`)", content_type = "application/problem+json"),
        (status = 422, description = "Not an instrument code, a bad quantity, term or client id (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/reserve/leases")]
pub async fn ask_lease(
    db: web::Data<DatabaseConnection>,
    pricing: web::Data<PricingRules>,
    market: web::Data<MarketRules>,
    who: Principal,
    body: web::Json<LeaseInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    offer(&db, &pricing, &market, &who, body.into_inner().into(), now).await
}

/// Accept an offer (staff of the reserve platform it was made to): it
/// settles at once in one ledger transaction — a buy-back's units against
/// the reserve's cash, a swap's units both ways and the rest in cash, a
/// lease's units to the lessee and its fee to the reserve. Refused when
/// the applicable guidance price changed since the offer. Accepting again
/// answers the acceptance.
#[utoipa::path(
    tag = "reserve",
    security(("bearer" = [])),
    request_body = AnswerInput,
    responses(
        (status = 200, description = "Accepted and settled", body = OperationView),
        (status = 404, description = "No such operation, or not the reserve platform's (`not_found`)", content_type = "application/problem+json"),
        (status = 409, description = "Declined or withdrawn (`operation_not_open`); the price changed (`guidance_price_changed`); the rights lapsed meanwhile (`rights_expired`: the holder withdraws, and its units are cancelled); the reserve's cash (`insufficient_cash`) or stock (`insufficient_units`) does not cover it", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/reserve/operations/{id}/accept")]
pub async fn accept_operation(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    id: web::Path<String>,
    body: web::Json<AnswerInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let done = answers::accept(&db, &who, &id, &body, now).await?;
    Ok(HttpResponse::Ok().json(OperationView::full(done.operation)))
}

/// Decline an offer with a reason (staff of the reserve platform): what
/// it held is the holder's again.
#[utoipa::path(
    tag = "reserve",
    security(("bearer" = [])),
    request_body = AnswerInput,
    responses(
        (status = 200, description = "Declined", body = OperationView),
        (status = 404, description = "No such operation, or not the reserve platform's (`not_found`)", content_type = "application/problem+json"),
        (status = 409, description = "Answered or withdrawn already (`operation_not_open`)", content_type = "application/problem+json"),
        (status = 422, description = "No reason, or one too long (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/reserve/operations/{id}/decline")]
pub async fn decline_operation(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    id: web::Path<String>,
    body: web::Json<AnswerInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let done = answers::refuse(&db, &who, &id, &body, Side::Reserve, now).await?;
    Ok(HttpResponse::Ok().json(OperationView::full(done.operation)))
}

/// Withdraw an offer before the reserve answers (staff of the holder):
/// what it held is the holder's again.
#[utoipa::path(
    tag = "reserve",
    security(("bearer" = [])),
    request_body = AnswerInput,
    responses(
        (status = 200, description = "Withdrawn", body = OperationView),
        (status = 404, description = "No such operation, or not the holder's (`not_found`)", content_type = "application/problem+json"),
        (status = 409, description = "Answered already (`operation_not_open`)", content_type = "application/problem+json"),
        (status = 422, description = "A reason too long (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/reserve/operations/{id}/withdraw")]
pub async fn withdraw_operation(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    id: web::Path<String>,
    body: web::Json<AnswerInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let done = answers::refuse(&db, &who, &id, &body, Side::Holder, now).await?;
    Ok(HttpResponse::Ok().json(OperationView::full(done.operation)))
}

/// Give a lease's units back (staff of the lessee), by its due day: the
/// same quantity of the same instrument from any of the lessee's batches,
/// oldest first; the deposit is released in the same ledger transaction.
/// Returning again answers the return.
#[utoipa::path(
    tag = "reserve",
    security(("bearer" = [])),
    request_body = AnswerInput,
    responses(
        (status = 200, description = "Returned", body = OperationView),
        (status = 404, description = "No such lease, or not the lessee's (`not_found`)", content_type = "application/problem+json"),
        (status = 409, description = "Not an active lease, or past its due day (`operation_not_open`); not enough units (`insufficient_units`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/reserve/operations/{id}/return")]
pub async fn return_lease(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    id: web::Path<String>,
    body: web::Json<AnswerInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let done = leases::give_back(&db, &who, &id, &body, now).await?;
    Ok(HttpResponse::Ok().json(OperationView::full(done.operation)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OperationsQuery {
    /// The reserve platform or holder the caller acts for: its operations
    /// on either side.
    pub organization_id: String,
    pub kind: Option<OperationKind>,
    pub status: Option<OperationStatus>,
}

/// An organisation's reserve operations, newest first (its staff): a
/// reserve platform's with every holder, a holder's with every reserve.
#[utoipa::path(
    tag = "reserve",
    security(("bearer" = [])),
    params(OperationsQuery, PageQuery),
    responses(
        (status = 200, description = "A page of operations", body = Page<OperationView>),
        (status = 404, description = "Not an organisation the caller acts for (`not_found`)", content_type = "application/problem+json"),
        (status = 409, description = "The organisation does not trade: not approved, or of a kind that does not (`not_a_participant`)", content_type = "application/problem+json"),
        (status = 422, description = "A bad page (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/reserve/operations")]
pub async fn reserve_operations(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    query: web::Query<OperationsQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let me = participants::acting_for(
        db.get_ref(),
        &who,
        "organization_id",
        &query.organization_id,
    )
    .await?;
    let limit = page.limit()?;
    let filter = Filter {
        party: Some(&me.org.id),
        kind: query.kind,
        status: query.status,
        instrument: None,
    };
    let (rows, has_more) =
        views::operations(&db, filter, page.starting_after.clone(), limit).await?;
    let data: Vec<OperationView> = rows.into_iter().map(OperationView::full).collect();
    Ok(HttpResponse::Ok().json(Page { data, has_more }))
}

/// Order allocated rights of a closed, bankrupt or relocated enterprise
/// returned to a reserve platform without payment (无偿收回, government
/// staff), with a reason and the decision document's hash: first the
/// units its free allocations still hold unconverted, then converted
/// ones, in one ledger transaction, recorded as a settled reserve
/// operation of kind `claw_back`. Carbon credits and indicators made from
/// verified activity are never clawed back (`claw_back_not_applicable`).
#[utoipa::path(
    tag = "reserve",
    security(("bearer" = [])),
    request_body = ClawBackInput,
    responses(
        (status = 200, description = "Returned to the reserve", body = ClawBackView),
        (status = 403, description = "Not government staff or an administrator (`forbidden`)", content_type = "application/problem+json"),
        (status = 404, description = "No such organisation, or not a reserve platform (`not_found`, `param` names it)", content_type = "application/problem+json"),
        (status = 409, description = "Not allocated rights (`claw_back_not_applicable`); the enterprise holds fewer units (`insufficient_units`) or they are pledged (`units_pledged`); the reserve does not trade (`not_a_participant`); a concurrent change (`try_again`)", content_type = "application/problem+json"),
        (status = 422, description = "Not an instrument code, a bad quantity, no reason, not a SHA-256, the reserve itself (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/reserve/claw-backs")]
pub async fn order_claw_back(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    body: web::Json<ClawBackInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let done = claw_back::order(&db, &who, &body, now).await?;
    Ok(HttpResponse::Ok().json(done))
}

/// The reserve platforms: cash available and held, stock by instrument,
/// units lent out by active leases. Public: no sign-in.
#[utoipa::path(
    tag = "public",
    responses((status = 200, description = "The reserve platforms", body = ReservesView))
)]
#[get("/api/v1/public/reserve")]
pub async fn public_reserve(db: web::Data<DatabaseConnection>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(views::reserves(&db).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PublicOperationsQuery {
    pub kind: Option<OperationKind>,
    pub status: Option<OperationStatus>,
    /// One instrument's operations (what was given or borrowed).
    #[param(
        pattern = r"^TPH-(PRJ|FOR|PER|SO2|NOX|COD|NH3N|WCI|WSR|ENU|LCI|LLS)-[0-9]{4}$",
        example = "TPH-FOR-2025"
    )]
    pub instrument: Option<String>,
}

/// Every reserve operation, newest first: kind, status, instrument,
/// quantity, the guidance price paid or received, a swap's terms, a
/// lease's fee, deposit, due day and how it ended. The holder is not
/// named. Public: no sign-in.
#[utoipa::path(
    tag = "public",
    params(PublicOperationsQuery, PageQuery),
    responses(
        (status = 200, description = "A page of operations", body = Page<OperationView>),
        (status = 422, description = "Not an instrument code, a bad page (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/public/reserve/operations")]
pub async fn public_reserve_operations(
    db: web::Data<DatabaseConnection>,
    query: web::Query<PublicOperationsQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let code = listing::instrument_filter(query.instrument.as_deref())?;
    let limit = page.limit()?;
    let filter = Filter {
        party: None,
        kind: query.kind,
        status: query.status,
        instrument: code.as_deref(),
    };
    let (rows, has_more) =
        views::operations(&db, filter, page.starting_after.clone(), limit).await?;
    let data: Vec<OperationView> = rows.into_iter().map(OperationView::public).collect();
    Ok(HttpResponse::Ok().json(Page { data, has_more }))
}
