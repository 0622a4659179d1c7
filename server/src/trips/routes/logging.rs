//! Logging trips: one, a batch recorded offline, and the caller's own.

use actix_web::{get, post, web, HttpResponse};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::{TripDeps, TripView, MAX_BATCH};
use crate::auth::extract::AuthUser;
use crate::clock::Now;
use crate::error::{ApiError, Problem};
use crate::pagination::{Page, PageQuery};
use crate::trips::history;
use crate::trips::service::{self, Logged, TripRequest};

/// Log a trip. The server recomputes the reduction with carbon-calc,
/// checks plausibility and the daily rules, and answers `credited`,
/// `rejected` (with reasons) or `pending_review`. Sending the same
/// `client_trip_id` again answers the first result (200) and credits
/// nothing twice.
#[utoipa::path(
    tag = "trips",
    security(("bearer" = [])),
    request_body = TripRequest,
    responses(
        (status = 201, description = "Logged", body = TripView),
        (status = 200, description = "Logged before: the first result", body = TripView),
        (status = 409, description = "This `client_trip_id` was used for a different trip (`client_trip_id_reused`)", content_type = "application/problem+json"),
        (status = 422, description = "Not a computable trip: carbon-calc's codes (`unknown_mode`, `out_of_range`, …) or `invalid_field`; `param` names the field", content_type = "application/problem+json")
    )
)]
#[post("")]
pub async fn log_trip(
    deps: TripDeps,
    user: AuthUser,
    body: web::Json<TripRequest>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let logged = service::log_trip(deps.trips(), &user.0, &body, now).await?;
    Ok(respond(logged))
}

fn respond(logged: Logged) -> HttpResponse {
    let mut res = if logged.replayed {
        HttpResponse::Ok()
    } else {
        HttpResponse::Created()
    };
    res.json(TripView::from(logged.trip))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// 1 to 100 trips, each as `POST /api/v1/trips` takes it.
    #[schema(value_type = Vec<TripRequest>)]
    pub trips: Vec<Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchItem {
    /// Position in the request.
    pub index: usize,
    /// What `POST /api/v1/trips` would have answered: 201, 200 (logged
    /// before), or an error status with `problem`.
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trip: Option<TripView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<Problem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResponse {
    pub results: Vec<BatchItem>,
}

/// Log up to 100 trips recorded offline. Each is processed on its own and
/// answered on its own: one bad trip does not sink the others. Safe to
/// resend whole.
#[utoipa::path(
    tag = "trips",
    security(("bearer" = [])),
    request_body = BatchRequest,
    responses(
        (status = 200, description = "One result per trip, in order", body = BatchResponse),
        (status = 422, description = "No trips, or more than 100 (`invalid_field`, `param` = `trips`)", content_type = "application/problem+json")
    )
)]
#[post("")]
pub async fn log_batch(
    deps: TripDeps,
    user: AuthUser,
    body: web::Json<BatchRequest>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    if body.trips.is_empty() || body.trips.len() > MAX_BATCH {
        return Err(ApiError::Invalid {
            param: "trips".into(),
            detail: format!("trips: send 1 to {MAX_BATCH} trips"),
        });
    }
    let mut results = Vec::with_capacity(body.trips.len());
    for (index, item) in body.trips.iter().enumerate() {
        let outcome = match serde_json::from_value::<TripRequest>(item.clone()) {
            Ok(req) => service::log_trip(deps.trips(), &user.0, &req, now)
                .await
                .map_err(ApiError::from),
            // As `POST /api/v1/trips` would refuse it: the same code and
            // `param`.
            Err(e) => Err(crate::error::body_error(e)),
        };
        results.push(match outcome {
            Ok(logged) => BatchItem {
                index,
                status: if logged.replayed { 200 } else { 201 },
                trip: Some(TripView::from(logged.trip)),
                problem: None,
            },
            Err(e) => {
                let problem = e.problem();
                BatchItem {
                    index,
                    status: problem.status,
                    trip: None,
                    problem: Some(problem),
                }
            }
        });
    }
    Ok(HttpResponse::Ok().json(BatchResponse { results }))
}

/// The caller's trips, newest first, in pages.
#[utoipa::path(
    tag = "trips",
    security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, description = "A page of trips", body = Page<TripView>))
)]
#[get("")]
pub async fn list_trips(
    db: web::Data<DatabaseConnection>,
    user: AuthUser,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let (rows, has_more) = history::page_own(
        db.get_ref(),
        &user.0,
        page.starting_after.as_deref(),
        page.limit()?,
    )
    .await?;
    let data = rows.into_iter().map(TripView::from).collect();
    Ok(HttpResponse::Ok().json(Page { data, has_more }))
}

/// One of the caller's trips.
#[utoipa::path(
    tag = "trips",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The trip", body = TripView),
        (status = 404, description = "No such trip, or not yours (`not_found`)", content_type = "application/problem+json")
    )
)]
#[get("/{id}")]
pub async fn get_trip(
    db: web::Data<DatabaseConnection>,
    user: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let trip = history::find_own(db.get_ref(), &user.0, &id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(TripView::from(trip)))
}
