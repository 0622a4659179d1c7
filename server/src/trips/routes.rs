//! `/api/v1/trips*`. Thin: parse, call the service, map.

use actix_web::{get, post, put, web, HttpResponse};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use validator::Validate;

use super::entity::{review as review_entity, trip};
use super::leaderboard::{self, Board, BoardError};
use super::review::{self, ReviewError};
use super::rules::{Reason, TripRules, TripStatus};
use super::service::{self, Logged, TripError, TripRequest, Trips};
use super::summary::{self, OrganizationSummary, Period, Summary};
use crate::accounts::service::SystemAccounts;
use crate::auth::extract::AuthUser;
use crate::auth::extract::Principal;
use crate::cache::Cache;
use crate::clock::{Now, Timestamp};
use crate::error::{ApiError, Problem};
use crate::ledger::LedgerError;
use crate::pagination::{Page, PageQuery};
use crate::problem::ProblemCode;
use crate::text::{self, Shape};

/// A single trip's body may carry a long GPS trace.
pub const TRIP_BODY_BYTES: usize = 2 * 1024 * 1024;
/// Most trips in one batch, and the batch's body limit.
pub const MAX_BATCH: usize = 100;
pub const BATCH_BODY_BYTES: usize = crate::error::MAX_BODY_BYTES;

/// The app's trip services, for handlers that log, decide or credit trips.
pub struct TripDeps {
    db: web::Data<DatabaseConnection>,
    cache: web::Data<Cache>,
    rules: web::Data<TripRules>,
    systems: web::Data<SystemAccounts>,
    /// The catalogue when the request came: one request computes with one.
    catalog: std::sync::Arc<carbon_calc::Catalog>,
}

impl TripDeps {
    pub fn trips(&self) -> Trips<'_> {
        Trips {
            db: &self.db,
            cache: &self.cache,
            rules: &self.rules,
            catalog: &self.catalog,
            systems: &self.systems,
        }
    }
}

impl actix_web::FromRequest for TripDeps {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &actix_web::HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        fn data<T: 'static>(req: &actix_web::HttpRequest) -> Result<web::Data<T>, ApiError> {
            req.app_data::<web::Data<T>>()
                .cloned()
                .ok_or_else(|| ApiError::internal(std::any::type_name::<T>()))
        }
        std::future::ready((|| {
            Ok(TripDeps {
                db: data(req)?,
                cache: data(req)?,
                rules: data(req)?,
                systems: data(req)?,
                catalog: data::<crate::methodologies::Methodologies>(req)?.current(),
            })
        })())
    }
}

impl From<TripError> for ApiError {
    fn from(e: TripError) -> Self {
        match e {
            TripError::Calc(c) => ApiError::Calc(c),
            TripError::Invalid { param, .. } => ApiError::Invalid {
                param: param.into(),
                detail: e.to_string(),
            },
            TripError::ClientIdReused => ApiError::Conflict {
                code: ProblemCode::ClientTripIdReused,
                detail: e.to_string(),
            },
            TripError::Database(e) | TripError::Ledger(LedgerError::Database(e)) => e.into(),
            TripError::NoAccount | TripError::Ledger(_) => ApiError::internal(e),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TripView {
    pub id: String,
    pub client_trip_id: String,
    #[schema(value_type = TripStatus)]
    pub status: String,
    /// Why it was rejected or sent to review, or credited less.
    pub reasons: Vec<Reason>,
    /// `gps`, `self_declared`, or `partner` (made from a partner's record).
    pub source: String,
    /// When a partner's record (transit operator, bike-share) confirmed or
    /// created the trip.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmed_at: Option<String>,
    /// The methodology the server computed with.
    pub preset: String,
    pub preset_version: i32,
    /// The exact reduction, grams CO2e (decimal string).
    pub reduction_g: String,
    /// Grams credited to the personal account (integer string).
    pub credited_g: String,
    /// Points credited (integer string).
    pub points: String,
    /// Sum of the declared leg distances.
    pub distance_km: String,
    /// What the GPS trace measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub measured_km: Option<String>,
    #[schema(value_type = Vec<Object>)]
    pub legs: Value,
    pub started_at: String,
    pub ended_at: String,
    pub created_at: String,
    /// Credited, but held for review: the same journey came from another
    /// account. The points stay until a reviewer decides.
    pub held_for_review: bool,
}

impl From<trip::Model> for TripView {
    fn from(t: trip::Model) -> Self {
        TripView {
            reasons: serde_json::from_str(&t.reasons).unwrap_or_default(),
            legs: serde_json::from_str(&t.legs).unwrap_or(Value::Null),
            id: t.id,
            client_trip_id: t.client_trip_id,
            status: t.status.as_str().to_string(),
            source: t.source.as_str().to_string(),
            confirmed_at: t.confirmed_at.map(|c| c.to_rfc3339()),
            preset: t.preset,
            preset_version: t.preset_version,
            reduction_g: t.reduction_g,
            credited_g: t.credited_g.to_string(),
            points: t.points.to_string(),
            distance_km: t.distance_km,
            measured_km: t.measured_km,
            started_at: t.started_at.to_rfc3339(),
            ended_at: t.ended_at.to_rfc3339(),
            created_at: t.created_at.to_rfc3339(),
            held_for_review: t.held_for_review,
        }
    }
}

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
    let (rows, has_more) = service::page_own(
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
    let trip = service::find_own(db.get_ref(), &user.0, &id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(TripView::from(trip)))
}

impl From<ReviewError> for ApiError {
    fn from(e: ReviewError) -> Self {
        match e {
            ReviewError::Forbidden => ApiError::Forbidden(e.to_string()),
            ReviewError::NotFound => ApiError::NotFound,
            ReviewError::AlreadyDecided(_) => ApiError::Conflict {
                code: ProblemCode::AlreadyDecided,
                detail: e.to_string(),
            },
            ReviewError::Trip(t) => t.into(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewView {
    pub reviewer_id: String,
    /// `approved` or `rejected`.
    pub decision: String,
    pub reason: String,
    pub created_at: String,
}

/// A trip as a reviewer sees it: whose it is, its GPS trace, the decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewTripView {
    #[serde(flatten)]
    pub trip: TripView,
    pub user_id: String,
    #[schema(value_type = Option<Vec<Object>>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review: Option<ReviewView>,
    /// Live trips of other accounts with the same journey (reason
    /// `same_journey_as_another_account`; up to 20): decide them together.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub same_journey_as: Vec<String>,
}

impl ReviewTripView {
    fn new(t: trip::Model, r: Option<review_entity::Model>) -> Self {
        ReviewTripView {
            user_id: t.user_id.clone(),
            trace: t
                .trace
                .as_deref()
                .and_then(|s| serde_json::from_str(s).ok()),
            review: r.map(|r| ReviewView {
                reviewer_id: r.reviewer_id,
                decision: r.decision,
                reason: r.reason,
                created_at: r.created_at.to_rfc3339(),
            }),
            trip: TripView::from(t),
            same_journey_as: Vec::new(),
        }
    }
}

/// Trips waiting for review, oldest first (verifiers, administrators).
#[utoipa::path(
    tag = "reviews",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of trips waiting for review", body = Page<ReviewTripView>),
        (status = 403, description = "Needs the verifier or admin role (`forbidden`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/reviews/trips")]
pub async fn pending_reviews(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let (rows, has_more) = review::pending(
        db.get_ref(),
        &who,
        page.starting_after.as_deref(),
        page.limit()?,
    )
    .await?;
    let data = rows
        .into_iter()
        .map(|t| ReviewTripView::new(t, None))
        .collect();
    Ok(HttpResponse::Ok().json(Page { data, has_more }))
}

/// One trip with its trace and decision (verifiers, administrators).
#[utoipa::path(
    tag = "reviews",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The trip", body = ReviewTripView),
        (status = 403, description = "Needs the verifier or admin role (`forbidden`)", content_type = "application/problem+json"),
        (status = 404, description = "No such trip (`not_found`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/reviews/trips/{id}")]
pub async fn review_trip(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (t, r, same) = review::get(db.get_ref(), &who, &id).await?;
    let mut view = ReviewTripView::new(t, r);
    view.same_journey_as = same;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct ReviewDecision {
    /// `approve` or `reject`.
    #[schema(example = "approve")]
    pub decision: Verdict,
    /// Why, 1 to 500 characters; recorded with the reviewer's id.
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[schema(as = TripVerdict)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Approve,
    Reject,
}

/// Decide a trip waiting for review. Approving credits it within the day's
/// limits as they stand now; rejecting records `rejected_by_reviewer`.
#[utoipa::path(
    tag = "reviews",
    security(("bearer" = [])),
    request_body = ReviewDecision,
    responses(
        (status = 200, description = "Decided", body = ReviewTripView),
        (status = 403, description = "Needs the verifier or admin role (`forbidden`)", content_type = "application/problem+json"),
        (status = 404, description = "No such trip (`not_found`)", content_type = "application/problem+json"),
        (status = 409, description = "Not waiting for review (`already_decided`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/reviews/trips/{id}")]
pub async fn decide_review(
    deps: TripDeps,
    who: Principal,
    id: web::Path<String>,
    body: web::Json<ReviewDecision>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let reason = text::field("reason", &body.reason, text::REASON_MAX, Shape::Paragraph)?;
    let ruling = review::Ruling {
        approve: body.decision == Verdict::Approve,
        reason: &reason,
    };
    let (t, r) = review::decide(deps.trips(), &who, &id, ruling, now).await?;
    Ok(HttpResponse::Ok().json(ReviewTripView::new(t, Some(r))))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// `YYYY-MM` (China Standard Time); the current month when absent.
    #[param(pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])$")]
    pub period: Option<String>,
}

impl PeriodQuery {
    fn period(&self, now: Timestamp) -> Result<Period, ApiError> {
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

impl From<BoardError> for ApiError {
    fn from(e: BoardError) -> Self {
        match e {
            BoardError::Forbidden => ApiError::Forbidden(e.to_string()),
            BoardError::Database(e) => e.into(),
            BoardError::Cache(_) => ApiError::Unavailable(
                "rankings are kept in the cache, which cannot be reached just now; retry shortly"
                    .into(),
            ),
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BoardQuery {
    /// `all` (default) or `organization`.
    pub scope: Option<String>,
    /// With `scope=organization`: the department or enterprise.
    pub organization_id: Option<String>,
    /// `YYYY-MM` (China Standard Time); the current month when absent.
    #[param(pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])$")]
    pub period: Option<String>,
    /// Entries, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
}

impl BoardQuery {
    fn scope(&self) -> Result<leaderboard::Scope, ApiError> {
        match (self.scope.as_deref(), &self.organization_id) {
            (None | Some("all"), _) => Ok(leaderboard::Scope::All),
            (Some("organization"), Some(org)) => Ok(leaderboard::Scope::Organization(org.clone())),
            (Some("organization"), None) => Err(ApiError::Invalid {
                param: "organization_id".into(),
                detail: "organization_id: required with scope=organization".into(),
            }),
            _ => Err(ApiError::Invalid {
                param: "scope".into(),
                detail: "scope: all or organization".into(),
            }),
        }
    }

    fn period(&self, now: Timestamp) -> Result<Period, ApiError> {
        PeriodQuery {
            period: self.period.clone(),
        }
        .period(now)
    }
}

/// The month's ranking by credited grams: everyone, or one organisation's
/// members (for its members, staff and administrators). Opted-out people
/// are ranked as `anonymous`.
#[utoipa::path(
    tag = "trips",
    security(("bearer" = [])),
    params(BoardQuery),
    responses(
        (status = 200, description = "The ranking, and the caller's place", body = Board),
        (status = 403, description = "Not a member or staff of the organisation (`forbidden`)", content_type = "application/problem+json"),
        (status = 422, description = "Bad `scope`, `period` or `limit` (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/leaderboards")]
pub async fn leaderboards(
    db: web::Data<DatabaseConnection>,
    cache: web::Data<Cache>,
    who: Principal,
    query: web::Query<BoardQuery>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let scope = query.scope()?;
    let period = query.period(now)?;
    let limit = PageQuery {
        limit: query.limit,
        starting_after: None,
    }
    .limit()?;
    let board =
        leaderboard::board(db.get_ref(), &cache, &who, &period, &scope, limit as usize).await?;
    Ok(HttpResponse::Ok().json(board))
}

/// Rebuild a leaderboard from the trips now (administrators).
#[utoipa::path(
    tag = "trips",
    security(("bearer" = [])),
    params(BoardQuery),
    responses(
        (status = 204, description = "Rebuilt"),
        (status = 403, description = "Needs the admin role (`forbidden`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/leaderboards/rebuild")]
pub async fn rebuild_leaderboard(
    db: web::Data<DatabaseConnection>,
    cache: web::Data<Cache>,
    who: Principal,
    query: web::Query<BoardQuery>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    if !who.is_admin() {
        return Err(ApiError::Forbidden(
            "only administrators rebuild leaderboards".into(),
        ));
    }
    leaderboard::rebuild(db.get_ref(), &cache, &query.period(now)?, &query.scope()?).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Privacy {
    /// Show me as `anonymous` on leaderboards.
    pub leaderboard_opt_out: bool,
}

/// The caller's privacy choices.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    request_body = Privacy,
    responses((status = 200, description = "Saved", body = Privacy))
)]
#[put("/api/v1/me/privacy")]
pub async fn set_privacy(
    db: web::Data<DatabaseConnection>,
    user: AuthUser,
    body: web::Json<Privacy>,
) -> Result<HttpResponse, ApiError> {
    crate::auth::service::set_leaderboard_opt_out(db.get_ref(), &user.0, body.leaderboard_opt_out)
        .await?;
    Ok(HttpResponse::Ok().json(body.into_inner()))
}
