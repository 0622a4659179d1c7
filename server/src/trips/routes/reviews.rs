//! The review queue: trips the rules sent to a reviewer, and decisions.

use actix_web::{get, post, web, HttpResponse};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use validator::Validate;

use super::{TripDeps, TripView};
use crate::auth::extract::Principal;
use crate::clock::Now;
use crate::error::ApiError;
use crate::ids::TripId;
use crate::pagination::{Page, PageQuery};
use crate::problem::ProblemCode;
use crate::text::{self, Shape};
use crate::trips::entity::{review as review_entity, trip};
use crate::trips::review::{self, ReviewError};

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
    let (t, r, same) = review::get(db.get_ref(), &who, &TripId::new(id.into_inner())).await?;
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
    notices: web::Data<crate::notifications::live::Notices>,
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
    let (t, r) = review::decide(
        deps.trips(),
        &who,
        &TripId::new(id.into_inner()),
        ruling,
        now,
    )
    .await?;
    notices.announce(&t.user_id).await;
    Ok(HttpResponse::Ok().json(ReviewTripView::new(t, Some(r))))
}
