//! `/api/v1/rights/…` (allocation and verified use by a bureau's staff,
//! conversion and surrender by the holder's) and `/api/v1/public/rights/…`
//! (every allocation with its converted quantity, every compliance year
//! with its gap).

use actix_web::{get, post, web, HttpResponse};
use sea_orm::DatabaseConnection;
use serde::Deserialize;
use utoipa::IntoParams;

use super::allocation::{self, AllocationInput};
use super::compliance::{self, SurrenderInput, VerifiedUseInput};
use super::conversion::{self, Conversion, ConversionInput};
use super::entity::{AllocationStatus, ComplianceStatus, Origin};
use super::instalments::{self, InstalmentPayment};
use super::rules::RightsRules;
use super::trades::{self, RightsTradeView};
use super::views::{self, AllocationView, ComplianceView, Filter, Today};
use crate::auth::extract::Principal;
use crate::clock::Now;
use crate::error::ApiError;
use crate::instruments::Class;
use crate::market::listing;
use crate::pagination::{Page, PageQuery};

/// Allocate rights (确权, staff of the bureau responsible for the class):
/// a batch of the instrument for the holder, tied to a permit or project
/// identifier (unique per instrument; a free or paid pollutant
/// allocation's is the holder's discharge permit number, its credit code
/// checked), valid until the surrender deadline of the last year its
/// class's validity covers. `free`: to an enterprise, held as unconverted
/// until converted; `paid`: to an enterprise at a price per unit, by
/// instalments, each instalment's units held until it is paid;
/// `sale`: to the bureau's own department, which auctions them;
/// `verified`: an indicator (clean-water increment, land) confirmed from
/// verified activity.
#[utoipa::path(
    tag = "rights",
    security(("bearer" = [])),
    request_body = AllocationInput,
    responses(
        (status = 201, description = "Allocated", body = AllocationView),
        (status = 403, description = "Not staff of the bureau responsible for the class (`forbidden`)", content_type = "application/problem+json"),
        (status = 404, description = "Not a department the caller acts for, no such holder or reserve platform (`not_found`, `param` names it)", content_type = "application/problem+json"),
        (status = 409, description = "The identifier has an allocation of the instrument (`allocation_exists`); an organisation that does not trade (`not_a_participant`); a concurrent allocation (`try_again`)", content_type = "application/problem+json"),
        (status = 422, description = "Not an instrument code or a carbon one, an origin the class does not have, a bad quantity, a permit number that is malformed or not the holder's, a holder of the wrong kind, rights no longer valid, a price or instalments on an allocation that is not paid, too many instalments or a last one due after the rights lapse (`invalid_field`); a paid allocation's price below the holder's guidance price that is a floor (`below_floor`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/rights/allocations")]
pub async fn allocate(
    db: web::Data<DatabaseConnection>,
    rules: web::Data<RightsRules>,
    who: Principal,
    body: web::Json<AllocationInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let a = allocation::allocate(&db, &who, &rules, &body, now).await?;
    Ok(HttpResponse::Created().json(views::one(db.get_ref(), a, Today::of(&rules, now)).await?))
}

/// Convert units of a free allocation (补缴, staff of the holder): pay the
/// holder's applicable guidance price × the class's conversion rate
/// (`[rights]`, 1.0 by default) into the reserve platform's fund the
/// allocation names; that many units become tradeable at once.
#[utoipa::path(
    tag = "rights",
    security(("bearer" = [])),
    request_body = ConversionInput,
    params(("id" = String, Path, description = "The allocation")),
    responses(
        (status = 201, description = "Converted", body = Conversion),
        (status = 404, description = "No such allocation, or not the caller's organisation's (`not_found`)", content_type = "application/problem+json"),
        (status = 409, description = "More than the unconverted units, an allocation not free or expired (`insufficient_units`); not enough cash (`insufficient_cash`); no guidance price in force (`no_guidance_price`); a concurrent change (`try_again`)", content_type = "application/problem+json"),
        (status = 422, description = "A bad quantity (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/rights/allocations/{id}/conversions")]
pub async fn convert(
    db: web::Data<DatabaseConnection>,
    rules: web::Data<RightsRules>,
    who: Principal,
    id: web::Path<String>,
    body: web::Json<ConversionInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let done = conversion::convert(&db, &who, &rules, &id, &body, now).await?;
    Ok(HttpResponse::Created().json(done))
}

/// Pay the next unpaid instalment of a paid allocation (its holder's
/// staff), due or not: its amount goes to the allocating bureau's
/// department and its units become tradeable at once.
#[utoipa::path(
    tag = "rights",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The allocation")),
    responses(
        (status = 201, description = "Paid", body = InstalmentPayment),
        (status = 404, description = "No such allocation, or not the caller's organisation's (`not_found`)", content_type = "application/problem+json"),
        (status = 409, description = "Paid in full or not a paid allocation (`nothing_due`); expired (`rights_expired`); not enough cash (`insufficient_cash`); a concurrent payment (`try_again`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/rights/allocations/{id}/instalments")]
pub async fn pay_instalment(
    db: web::Data<DatabaseConnection>,
    rules: web::Data<RightsRules>,
    who: Principal,
    id: web::Path<String>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let done = instalments::pay_next(&db, &who, &rules, &id, now).await?;
    Ok(HttpResponse::Created().json(done))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AllocationsQuery {
    #[param(
        pattern = r"^TPH-(PRJ|FOR|PER|SO2|NOX|COD|NH3N|WCI|WSR|ENU|LCI|LLS)-[0-9]{4}$",
        example = "TPH-SO2-2026"
    )]
    pub instrument: Option<String>,
    /// One holder's allocations.
    pub organization_id: Option<String>,
    /// One bureau's allocations.
    pub bureau_organization_id: Option<String>,
    pub origin: Option<Origin>,
    pub status: Option<AllocationStatus>,
}

/// Every allocation and confirmed indicator, newest first: holder, bureau,
/// identifier, quantity, converted and unconverted units, validity.
/// Public: no sign-in.
#[utoipa::path(
    tag = "public",
    params(AllocationsQuery, PageQuery),
    responses(
        (status = 200, description = "A page of allocations", body = Page<AllocationView>),
        (status = 422, description = "Not an instrument code, a bad page (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/public/rights/allocations")]
pub async fn public_allocations(
    db: web::Data<DatabaseConnection>,
    rules: web::Data<RightsRules>,
    query: web::Query<AllocationsQuery>,
    page: web::Query<PageQuery>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let code = listing::instrument_filter(query.instrument.as_deref())?;
    let limit = page.limit()?;
    let filter = Filter {
        instrument: code.as_deref(),
        holder: query.organization_id.as_deref(),
        bureau: query.bureau_organization_id.as_deref(),
        origin: query.origin,
        status: query.status,
    };
    let found = views::list(&db, filter, page.starting_after.clone(), limit).await?;
    let today = Today::of(&rules, now);
    let (rows, has_more) = found;
    let data = views::shown(db.get_ref(), rows, today).await?;
    Ok(HttpResponse::Ok().json(Page { data, has_more }))
}

/// One allocation. Public: no sign-in.
#[utoipa::path(
    tag = "public",
    params(("id" = String, Path, description = "The allocation")),
    responses(
        (status = 200, description = "The allocation", body = AllocationView),
        (status = 404, description = "No such allocation (`not_found`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/public/rights/allocations/{id}")]
pub async fn public_allocation(
    db: web::Data<DatabaseConnection>,
    rules: web::Data<RightsRules>,
    id: web::Path<String>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let a = allocation::find(db.get_ref(), &id).await?;
    Ok(HttpResponse::Ok().json(views::one(db.get_ref(), a, Today::of(&rules, now)).await?))
}

/// Record a holder's verified use for a compliance year (staff of the
/// class's bureau): after the year ends and by its surrender deadline
/// (`surrender_days` after 31 December), once per class, year and holder.
/// Energy use comes from an accredited third party's report, whose
/// SHA-256 is required.
#[utoipa::path(
    tag = "rights",
    security(("bearer" = [])),
    request_body = VerifiedUseInput,
    responses(
        (status = 201, description = "Recorded", body = ComplianceView),
        (status = 403, description = "Not staff of the bureau responsible for the class (`forbidden`)", content_type = "application/problem+json"),
        (status = 404, description = "Not a department the caller acts for, or no such holder (`not_found`, `param` names it)", content_type = "application/problem+json"),
        (status = 409, description = "Recorded already (`compliance_recorded`); a holder that does not trade (`not_a_participant`)", content_type = "application/problem+json"),
        (status = 422, description = "A class that is not allocated, a year not ended or past its deadline, a bad quantity or report hash, a holder that is not an enterprise (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/rights/compliance")]
pub async fn record_verified_use(
    db: web::Data<DatabaseConnection>,
    rules: web::Data<RightsRules>,
    who: Principal,
    body: web::Json<VerifiedUseInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let c = compliance::record(&db, &who, &rules, &body, now).await?;
    let today = crate::clock::china_day(now);
    let mut views = views::compliance_views(db.get_ref(), vec![c], &today).await?;
    Ok(HttpResponse::Created().json(views.remove(0)))
}

/// Surrender rights for a compliance year (staff of the holder), by its
/// deadline: units of the class whose validity covers the year,
/// unconverted ones first, oldest year first, go to a sink for good (their
/// serials are recorded in the audit log). At most what is still to
/// surrender.
#[utoipa::path(
    tag = "rights",
    security(("bearer" = [])),
    request_body = SurrenderInput,
    params(("id" = String, Path, description = "The compliance year")),
    responses(
        (status = 200, description = "Surrendered", body = ComplianceView),
        (status = 404, description = "No such compliance year, or not the caller's organisation's (`not_found`)", content_type = "application/problem+json"),
        (status = 409, description = "Past the deadline (`compliance_closed`); not enough units that may cover the year (`insufficient_units`); a concurrent surrender (`try_again`)", content_type = "application/problem+json"),
        (status = 422, description = "A bad quantity, or more than is still to surrender (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/rights/compliance/{id}/surrenders")]
pub async fn surrender(
    db: web::Data<DatabaseConnection>,
    rules: web::Data<RightsRules>,
    who: Principal,
    id: web::Path<String>,
    body: web::Json<SurrenderInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let c = compliance::surrender(&db, &who, &rules, &id, &body, now).await?;
    let today = crate::clock::china_day(now);
    let mut views = views::compliance_views(db.get_ref(), vec![c], &today).await?;
    Ok(HttpResponse::Ok().json(views.remove(0)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ComplianceQuery {
    pub class: Option<Class>,
    pub year: Option<i32>,
    /// One holder's compliance years.
    pub organization_id: Option<String>,
    /// `gap`: past the deadline with less surrendered than used.
    pub status: Option<ComplianceStatus>,
}

/// Every holder's compliance years, newest first: verified use,
/// surrendered, outstanding, deadline and status (`open`, `met`, `gap` —
/// a gap is listed once the deadline has passed). Public: no sign-in.
#[utoipa::path(
    tag = "public",
    params(ComplianceQuery, PageQuery),
    responses(
        (status = 200, description = "A page of compliance years", body = Page<ComplianceView>),
        (status = 422, description = "A bad filter or page (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/public/rights/compliance")]
pub async fn public_compliance(
    db: web::Data<DatabaseConnection>,
    query: web::Query<ComplianceQuery>,
    page: web::Query<PageQuery>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let limit = page.limit()?;
    let today = crate::clock::china_day(now);
    let filter = views::ComplianceFilter {
        class: query.class,
        year: query.year,
        holder: query.organization_id.as_deref(),
        status: query.status,
    };
    let (rows, has_more) =
        views::compliance_list(&db, filter, &today, page.starting_after.clone(), limit).await?;
    let data = views::compliance_views(db.get_ref(), rows, &today).await?;
    Ok(HttpResponse::Ok().json(Page { data, has_more }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TradesQuery {
    #[param(
        pattern = r"^TPH-(PRJ|FOR|PER|SO2|NOX|COD|NH3N|WCI|WSR|ENU|LCI|LLS)-[0-9]{4}$",
        example = "TPH-SO2-2026"
    )]
    pub instrument: Option<String>,
    /// Trades the organisation bought or sold.
    pub organization_id: Option<String>,
}

/// Every trade in rights (pollutant discharge, water, energy use, land),
/// newest first, with its buyer and seller named (成交公示): book, pick and
/// auction trades at once, block trades (by agreement) once their day has
/// closed. Carbon trades are not here: their tape names nobody. Public: no
/// sign-in.
#[utoipa::path(
    tag = "public",
    params(TradesQuery, PageQuery),
    responses(
        (status = 200, description = "A page of trades", body = Page<RightsTradeView>),
        (status = 422, description = "Not an instrument code, a bad page (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/public/rights/trades")]
pub async fn public_trades(
    db: web::Data<DatabaseConnection>,
    query: web::Query<TradesQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let code = listing::instrument_filter(query.instrument.as_deref())?;
    let limit = page.limit()?;
    let filter = trades::Filter {
        instrument: code.as_deref(),
        party: query.organization_id.as_deref(),
    };
    let (data, has_more) = trades::list(&db, filter, page.starting_after.clone(), limit).await?;
    Ok(HttpResponse::Ok().json(Page { data, has_more }))
}
