//! `/api/v1/rights/…` (allocation by a bureau's staff, conversion by the
//! holder's) and `/api/v1/public/rights/allocations` (every allocation,
//! its holder and converted quantity).

use actix_web::{get, post, web, HttpResponse};
use sea_orm::DatabaseConnection;
use serde::Deserialize;
use utoipa::IntoParams;

use super::allocation::{self, AllocationInput};
use super::conversion::{self, Conversion, ConversionInput};
use super::entity::{AllocationStatus, Origin};
use super::rules::RightsRules;
use super::views::{self, AllocationView, Filter};
use crate::auth::extract::Principal;
use crate::clock::Now;
use crate::error::ApiError;
use crate::market::listing;
use crate::pagination::{Page, PageQuery};

/// Allocate rights (确权, staff of the bureau responsible for the class):
/// a batch of the instrument for the holder, tied to a permit or project
/// identifier (unique per instrument; a free pollutant allocation's is
/// the holder's discharge permit number, its credit code checked), valid
/// until the surrender deadline of the last year its class's validity
/// covers. `free`: to an enterprise, held as unconverted until converted;
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
        (status = 422, description = "Not an instrument code or a carbon one, an origin the class does not have, a bad quantity, a permit number that is malformed or not the holder's, a holder of the wrong kind, rights no longer valid (`invalid_field`)", content_type = "application/problem+json")
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
    Ok(HttpResponse::Created().json(AllocationView::from(a)))
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
    query: web::Query<AllocationsQuery>,
    page: web::Query<PageQuery>,
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
    Ok(HttpResponse::Ok().json(Page::<AllocationView>::of(found)))
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
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let a = allocation::find(db.get_ref(), &id).await?;
    Ok(HttpResponse::Ok().json(AllocationView::from(a)))
}
