//! `/api/v1/auth/*` (sign-in, refresh, sign-out; registering is
//! `crate::me`). Thin: parse, call the service, map.

use actix_web::{post, web, HttpResponse};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::refresh;
use super::service::{self, AuthError, Login};
use super::token::{TokenKeys, ACCESS_TTL_SECS};
use crate::cache::Cache;
use crate::clock::{Now, Timestamp};
use crate::error::ApiError;
use crate::problem::ProblemCode;

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::AlreadyRegistered(what) => ApiError::Conflict {
                code: ProblemCode::AlreadyRegistered,
                detail: format!("this {what} is already registered"),
            },
            AuthError::InvalidCredentials => ApiError::Unauthorized {
                code: ProblemCode::InvalidCredentials,
                detail: e.to_string(),
            },
            AuthError::InvalidToken => ApiError::Unauthorized {
                code: ProblemCode::InvalidToken,
                detail: e.to_string(),
            },
            AuthError::TokenReused => ApiError::Unauthorized {
                code: ProblemCode::TokenReused,
                detail: e.to_string(),
            },
            AuthError::Database(e) => e.into(),
            AuthError::Hashing(_) => ApiError::internal(e),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mobile: Option<String>,
    pub created_at: String,
}

impl From<super::entity::Model> for UserView {
    fn from(u: super::entity::Model) -> Self {
        UserView {
            id: u.id,
            email: u.email,
            mobile: u.mobile,
            created_at: u.created_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The registered email address or mobile number.
    pub login: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Single-use: exchange it at `/auth/refresh` for a new pair. Presenting
    /// a used one revokes the sign-in.
    pub refresh_token: String,
}

fn tokens(
    keys: &TokenKeys,
    session: refresh::Session,
    now: Timestamp,
) -> Result<TokenResponse, ApiError> {
    let access = keys
        .issue(&session.user_id, &session.id, now.timestamp())
        .map_err(ApiError::internal)?;
    Ok(TokenResponse {
        access_token: access,
        token_type: "Bearer",
        expires_in: ACCESS_TTL_SECS,
        refresh_token: session.refresh_token,
    })
}

/// Sign in; answers a short-lived bearer access token.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 401, description = "Wrong login or password (`invalid_credentials`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/auth/login")]
pub async fn login(
    db: web::Data<DatabaseConnection>,
    keys: web::Data<TokenKeys>,
    body: web::Json<LoginRequest>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let user = service::authenticate(&db, &Login::parse(&body.login), &body.password).await?;
    let session = refresh::start_family(&db, &user.id, now).await?;
    Ok(HttpResponse::Ok().json(tokens(&keys, session, now)?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// Exchange a refresh token for a new access token and refresh token. A
/// refresh whose answer was lost may be retried with the same token for
/// `refresh_grace_secs` (60 s by default) and gets the same new refresh
/// token; after that, or once the new one was used, presenting it again
/// revokes the whole sign-in (`token_reused`).
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New token pair", body = TokenResponse),
        (status = 401, description = "Unknown, expired or revoked (`invalid_token`), or already used (`token_reused`: the whole sign-in is revoked)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/auth/refresh")]
pub async fn refresh_tokens(
    db: web::Data<DatabaseConnection>,
    cache: web::Data<Cache>,
    keys: web::Data<TokenKeys>,
    grace: web::Data<refresh::RefreshGrace>,
    body: web::Json<RefreshRequest>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let session = refresh::rotate(&db, &cache, &body.refresh_token, **grace, now).await?;
    Ok(HttpResponse::Ok().json(tokens(&keys, session, now)?))
}

/// End the sign-in a refresh token belongs to: its refresh tokens and its
/// access tokens stop working at once. Idempotent.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 204, description = "Signed out")
    )
)]
#[post("/api/v1/auth/logout")]
pub async fn logout(
    db: web::Data<DatabaseConnection>,
    cache: web::Data<Cache>,
    body: web::Json<RefreshRequest>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    refresh::logout(&db, &cache, &body.refresh_token, now).await?;
    Ok(HttpResponse::NoContent().finish())
}
