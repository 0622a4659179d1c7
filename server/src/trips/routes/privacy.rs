//! The caller's privacy choices.

use actix_web::{put, web, HttpResponse};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::extract::AuthUser;
use crate::error::ApiError;

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
