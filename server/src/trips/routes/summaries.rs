//! Monthly summaries: a person's own, an organisation's members' and the
//! region's.

use actix_web::{get, web, HttpResponse};
use sea_orm::DatabaseConnection;
use serde::Deserialize;

use crate::auth::extract::AuthUser;
use crate::auth::extract::Principal;
use crate::auth::roles::Role;
use crate::clock::{Now, Timestamp};
use crate::error::ApiError;
use crate::trips::summary::{self, OrganizationSummary, Period, RegionSummary, Summary};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// `YYYY-MM` (China Standard Time); the current month when absent.
    #[param(pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])$")]
    pub period: Option<String>,
}

impl PeriodQuery {
    pub(super) fn period(&self, now: Timestamp) -> Result<Period, ApiError> {
        match &self.period {
            None => Ok(Period::of(now)),
            Some(p) => Period::parse(p).ok_or_else(|| ApiError::Invalid {
                param: "period".into(),
                detail: "period: a month as YYYY-MM".into(),
            }),
        }
    }
}

/// The caller's month: trips by outcome, credited grams and points, by mode.
#[utoipa::path(
    tag = "trips",
    security(("bearer" = [])),
    params(PeriodQuery),
    responses(
        (status = 200, description = "The month's summary", body = Summary),
        (status = 422, description = "Bad `period` (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/me/summary")]
pub async fn my_summary(
    db: web::Data<DatabaseConnection>,
    user: AuthUser,
    query: web::Query<PeriodQuery>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let period = query.period(now)?;
    Ok(HttpResponse::Ok().json(summary::of_person(db.get_ref(), &user.0, &period).await?))
}

/// A department's or enterprise's members in aggregate for a month (its
/// staff, administrators). No member's trips are shown.
#[utoipa::path(
    tag = "organizations",
    security(("bearer" = [])),
    params(PeriodQuery),
    responses(
        (status = 200, description = "The members' month in aggregate", body = OrganizationSummary),
        (status = 403, description = "Not the organisation's staff (`forbidden`)", content_type = "application/problem+json"),
        (status = 404, description = "No such organisation (`not_found`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/organizations/{id}/summary")]
pub async fn organization_summary(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    id: web::Path<String>,
    query: web::Query<PeriodQuery>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let period = query.period(now)?;
    Ok(HttpResponse::Ok().json(summary::of_organization(db.get_ref(), &who, &id, &period).await?))
}

/// Everyone's trips of a month in aggregate: people with a credited trip,
/// trips by outcome, credited grams and points, by mode (government staff,
/// the service centre, administrators). No one's trips are shown.
#[utoipa::path(
    tag = "trips",
    security(("bearer" = [])),
    params(PeriodQuery),
    responses(
        (status = 200, description = "The region's month in aggregate", body = RegionSummary),
        (status = 403, description = "Not government staff, the service centre or an administrator (`forbidden`)", content_type = "application/problem+json"),
        (status = 422, description = "Bad `period` (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/statistics/personal")]
pub async fn region_summary(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    query: web::Query<PeriodQuery>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    if !(who.is_admin() || who.has_role(Role::Government) || who.has_role(Role::Verifier)) {
        return Err(ApiError::Forbidden(
            "the region's statistics are for government staff, the service centre and administrators".into(),
        ));
    }
    let period = query.period(now)?;
    Ok(HttpResponse::Ok().json(summary::of_region(db.get_ref(), &period).await?))
}
