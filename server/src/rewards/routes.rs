//! `/api/v1/rewards` and `/api/v1/redemptions`. Thin: parse, call, map.

use actix_web::{get, patch, post, web, HttpResponse};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::entity::{redemption, reward};
use super::service::{self, NewReward, RewardError};
use crate::accounts::service as accounts;
use crate::auth::extract::AuthUser;
use crate::auth::extract::Principal;
use crate::clock::china_day;
use crate::clock::Now;
use crate::error::ApiError;
use crate::ledger::LedgerError;
use crate::pagination::{Page, PageQuery};
use crate::points;
use crate::problem::ProblemCode;
use crate::text::{self, Shape};

impl From<RewardError> for ApiError {
    fn from(e: RewardError) -> Self {
        match e {
            RewardError::Forbidden => ApiError::Forbidden(e.to_string()),
            RewardError::NotFound => ApiError::NotFound,
            RewardError::Invalid { param, .. } => ApiError::Invalid {
                param: param.into(),
                detail: e.to_string(),
            },
            RewardError::OutOfStock => ApiError::Conflict {
                code: ProblemCode::OutOfStock,
                detail: e.to_string(),
            },
            RewardError::InsufficientPoints => ApiError::Conflict {
                code: ProblemCode::InsufficientPoints,
                detail: e.to_string(),
            },
            RewardError::Database(e) | RewardError::Ledger(LedgerError::Database(e)) => e.into(),
            RewardError::Ledger(_) => ApiError::internal(e),
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateReward {
    /// 1 to 200 characters.
    pub name: String,
    /// Points per item, 1 to 10^9 (an integer string).
    #[validate(range(min = 1, max = service::MAX_UNITS, message = "must be 1 to 1000000000"))]
    #[serde(deserialize_with = "crate::amount::deserialize")]
    #[schema(value_type = String)]
    pub points_cost: i64,
    /// Items available, 0 to 10^9 (an integer string).
    #[validate(range(min = 0, max = service::MAX_UNITS, message = "must be 0 to 1000000000"))]
    #[serde(deserialize_with = "crate::amount::deserialize")]
    #[schema(value_type = String)]
    pub stock: i64,
    /// The partner merchant (an approved enterprise) offering it. Required
    /// of a merchant's operators; administrators may leave it out for the
    /// platform's own rewards.
    #[serde(default)]
    pub merchant_id: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateReward {
    /// The new number of items available (restocking), 0 to 10^9 (an
    /// integer string).
    #[validate(range(min = 0, max = service::MAX_UNITS, message = "must be 0 to 1000000000"))]
    #[serde(default, deserialize_with = "crate::amount::deserialize_option")]
    #[schema(value_type = Option<String>)]
    pub stock: Option<i64>,
    /// Withdraw from (false) or return to (true) the catalogue.
    #[serde(default)]
    pub active: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RewardView {
    pub id: String,
    pub name: String,
    pub points_cost: String,
    pub stock: String,
    /// Offered by this merchant; absent for the platform's own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merchant_id: Option<String>,
    pub active: bool,
}

impl From<reward::Model> for RewardView {
    fn from(r: reward::Model) -> Self {
        RewardView {
            id: r.id,
            name: r.name,
            points_cost: r.points_cost.to_string(),
            stock: r.stock.to_string(),
            merchant_id: r.merchant_id,
            active: r.active,
        }
    }
}

/// Add a reward to the catalogue (administrators; a merchant's operators
/// for that merchant).
#[utoipa::path(
    tag = "rewards",
    security(("bearer" = [])),
    request_body = CreateReward,
    responses(
        (status = 201, description = "Added", body = RewardView),
        (status = 403, description = "Neither an administrator nor an operator of `merchant_id` (`forbidden`)", content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule, or `merchant_id` is not an approved enterprise (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/rewards")]
pub async fn create_reward(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    body: web::Json<CreateReward>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    body.validate()?;
    let body = body.into_inner();
    let new = NewReward {
        name: text::field("name", &body.name, text::NAME_MAX, Shape::Line)?,
        points_cost: body.points_cost,
        stock: body.stock,
        merchant_id: body.merchant_id,
    };
    let r = service::create(db.get_ref(), &who, new, now).await?;
    Ok(HttpResponse::Created().json(RewardView::from(r)))
}

/// Restock a reward, or withdraw it from the catalogue (administrators; a
/// merchant's operators for its rewards).
#[utoipa::path(
    tag = "rewards",
    security(("bearer" = [])),
    request_body = UpdateReward,
    responses(
        (status = 200, description = "The reward as it is now", body = RewardView),
        (status = 404, description = "No such reward, or not yours to manage (`not_found`)", content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[patch("/api/v1/rewards/{id}")]
pub async fn update_reward(
    db: web::Data<DatabaseConnection>,
    who: Principal,
    id: web::Path<String>,
    body: web::Json<UpdateReward>,
) -> Result<HttpResponse, ApiError> {
    body.validate()?;
    let change = service::RewardChange {
        stock: body.stock,
        active: body.active,
    };
    let r = service::update(db.get_ref(), &who, &id, change).await?;
    Ok(HttpResponse::Ok().json(RewardView::from(r)))
}

/// The rewards on offer, in pages.
#[utoipa::path(
    tag = "rewards",
    security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, description = "A page of rewards", body = Page<RewardView>))
)]
#[get("/api/v1/rewards")]
pub async fn list_rewards(
    db: web::Data<DatabaseConnection>,
    _user: AuthUser,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let (rows, has_more) =
        service::list(db.get_ref(), page.starting_after.as_deref(), page.limit()?).await?;
    let data = rows.into_iter().map(RewardView::from).collect();
    Ok(HttpResponse::Ok().json(Page { data, has_more }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedeemRequest {
    pub reward_id: String,
    /// 1 to 100 (default 1), an integer string.
    #[serde(default = "one", deserialize_with = "crate::amount::deserialize")]
    #[schema(value_type = String)]
    pub quantity: i64,
}

fn one() -> i64 {
    1
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RedemptionView {
    pub id: String,
    pub reward_id: String,
    pub quantity: String,
    /// Points spent.
    pub points: String,
    pub created_at: String,
}

impl From<redemption::Model> for RedemptionView {
    fn from(r: redemption::Model) -> Self {
        RedemptionView {
            id: r.id,
            reward_id: r.reward_id,
            quantity: r.quantity.to_string(),
            points: r.points.to_string(),
            created_at: r.created_at.to_rfc3339(),
        }
    }
}

/// Redeem points for a reward: the stock and the points move together or
/// not at all. Send an `Idempotency-Key` to retry safely.
#[utoipa::path(
    tag = "rewards",
    security(("bearer" = [])),
    request_body = RedeemRequest,
    responses(
        (status = 201, description = "Redeemed", body = RedemptionView),
        (status = 404, description = "No such reward on offer (`not_found`)", content_type = "application/problem+json"),
        (status = 409, description = "Not enough left (`out_of_stock`) or not enough points (`insufficient_points`)", content_type = "application/problem+json"),
        (status = 422, description = "Bad quantity (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/redemptions")]
pub async fn redeem(
    db: web::Data<DatabaseConnection>,
    user: AuthUser,
    body: web::Json<RedeemRequest>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let (r, _) = service::redeem(&db, &user.0, &body.reward_id, body.quantity, now).await?;
    Ok(HttpResponse::Created().json(RedemptionView::from(r)))
}

/// The caller's redemptions, newest first.
#[utoipa::path(
    tag = "rewards",
    security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, description = "A page of redemptions", body = Page<RedemptionView>))
)]
#[get("/api/v1/redemptions")]
pub async fn list_redemptions(
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
    let data = rows.into_iter().map(RedemptionView::from).collect();
    Ok(HttpResponse::Ok().json(Page { data, has_more }))
}

/// Dates (China Standard Time) shown in the expiry schedule.
const EXPIRY_DATES_SHOWN: usize = 30;

#[derive(Debug, Serialize, ToSchema)]
pub struct ExpiringPoints {
    /// `YYYY-MM-DD`, China Standard Time.
    pub on: String,
    /// Integer string.
    pub points: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PointsView {
    /// Points held (integer string).
    pub balance: String,
    /// Points expire this many months after they were earned, oldest first.
    pub valid_months: u32,
    /// The next dates on which points expire, soonest first (at most 30).
    pub expiring: Vec<ExpiringPoints>,
}

/// The caller's points and when they expire: spending and expiry take the
/// oldest points first, so what is left of each credit expires on its own
/// date.
#[utoipa::path(
    tag = "rewards",
    security(("bearer" = [])),
    responses((status = 200, description = "Balance and expiry schedule", body = PointsView))
)]
#[get("/api/v1/me/points")]
pub async fn my_points(
    db: web::Data<DatabaseConnection>,
    validity: web::Data<points::Validity>,
    user: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let account = accounts::personal_of(db.get_ref(), &user.0)
        .await?
        .ok_or(ApiError::NotFound)?;
    let lots = points::held_by(db.get_ref(), &account.account_id(), validity.months).await?;
    // Lots come oldest first, so one date's lots are neighbours.
    let mut by_date: Vec<(String, i64)> = Vec::new();
    for lot in &lots {
        let on = china_day(lot.expires_at);
        match by_date.last_mut() {
            Some((last, sum)) if *last == on => *sum += lot.points,
            _ => by_date.push((on, lot.points)),
        }
    }
    let expiring = by_date
        .into_iter()
        .take(EXPIRY_DATES_SHOWN)
        .map(|(on, points)| ExpiringPoints {
            on,
            points: points.to_string(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(PointsView {
        balance: lots.iter().map(|l| l.points).sum::<i64>().to_string(),
        valid_months: validity.months,
        expiring,
    }))
}
