//! Monthly leaderboards, and rebuilding them.

use actix_web::{get, post, web, HttpResponse};
use sea_orm::DatabaseConnection;
use serde::Deserialize;

use super::summaries::PeriodQuery;
use crate::auth::extract::Principal;
use crate::cache::Cache;
use crate::clock::{Now, Timestamp};
use crate::error::ApiError;
use crate::pagination::PageQuery;
use crate::trips::leaderboard::{self, Board, BoardError};
use crate::trips::summary::Period;

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
