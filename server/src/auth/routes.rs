//! `/api/v1/auth/*` and `/api/v1/me`. Thin: parse, call the service, map.

use std::future::Future;
use std::pin::Pin;

use actix_web::{get, post, web, FromRequest, HttpRequest, HttpResponse};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::refresh;
use super::service::{self, AuthError, Login};
use super::token::{TokenKeys, ACCESS_TTL_SECS};
use crate::cache::Cache;
use crate::clock::{Now, Timestamp};
use crate::error::ApiError;
use crate::problem::ProblemCode;
use crate::rate_limit;

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
            AuthError::Hashing(_) => ApiError::Internal(e.to_string()),
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// Email address; give this or `mobile`.
    #[validate(email(message = "is not an email address"), length(max = 254))]
    pub email: Option<String>,
    /// Mainland mobile number, e.g. `13800138000` or `+86 138 0013 8000`.
    pub mobile: Option<String>,
    /// 10 to 128 characters.
    #[schema(min_length = 10, max_length = 128)]
    #[validate(length(
        min = super::password::MIN_CHARS,
        max = super::password::MAX_CHARS,
        message = "must be 10 to 128 characters"
    ))]
    pub password: String,
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

/// Register with an email address or a mobile number and a password.
#[utoipa::path(
    tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Registered", body = UserView),
        (status = 409, description = "Already registered (`already_registered`)", content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule (`invalid_field`, `param` names it)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/auth/register")]
pub async fn register(
    db: web::Data<DatabaseConnection>,
    body: web::Json<RegisterRequest>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    body.validate()?;
    let body = body.into_inner();
    let who = match (&body.email, &body.mobile) {
        (Some(email), None) => Login::email(email),
        (None, Some(mobile)) => Login::Mobile(service::normalize_mobile(mobile).ok_or_else(
            || ApiError::Invalid {
                param: "mobile".into(),
                detail: "mobile: is not a mainland mobile number (11 digits, 13–19…)".into(),
            },
        )?),
        _ => {
            return Err(ApiError::Invalid {
                param: "email".into(),
                detail: "give exactly one of email and mobile".into(),
            })
        }
    };
    let user = service::register(db.get_ref(), who, &body.password, now).await?;
    Ok(HttpResponse::Created().json(UserView::from(user)))
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
        .map_err(ApiError::Internal)?;
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

/// Authenticated requests per minute one user may make.
#[derive(Clone, Copy)]
pub struct UserRateLimit(pub u32);

/// The signed-in user's id, from a valid `Authorization: Bearer` token
/// whose sign-in is not revoked. Counts the request against the user's rate
/// limit (429 with `Retry-After` beyond it).
pub struct AuthUser(pub String);

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<AuthUser, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let now = req
            .app_data::<web::Data<crate::clock::Clock>>()
            .map(|clock| clock.now());
        let bearer = req
            .app_data::<web::Data<TokenKeys>>()
            .zip(req.headers().get("authorization"))
            .zip(now)
            .and_then(|((keys, h), now)| {
                let token = h.to_str().ok()?.strip_prefix("Bearer ")?;
                keys.verify(token.trim(), now.timestamp())
            });
        let cache = req.app_data::<web::Data<Cache>>().cloned();
        let db = req.app_data::<web::Data<DatabaseConnection>>().cloned();
        let revocations = req
            .app_data::<web::Data<crate::auth::revocation::Revocations>>()
            .cloned();
        let limit = req
            .app_data::<web::Data<UserRateLimit>>()
            .map_or(u32::MAX, |l| l.0);
        Box::pin(async move {
            let (Some(cache), Some(db), Some(revocations), Some(now)) =
                (cache, db, revocations, now)
            else {
                return Err(ApiError::Internal(
                    "cache, database, revocations or clock not configured".into(),
                ));
            };
            let bearer = bearer.ok_or(AuthError::InvalidToken)?;
            if revocations
                .is_revoked(&db, &cache, &bearer.session_id, now)
                .await?
            {
                return Err(AuthError::InvalidToken.into());
            }
            rate_limit::check(&cache, &format!("user:{}", bearer.user_id), limit).await?;
            Ok(AuthUser(bearer.user_id))
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeView {
    #[serde(flatten)]
    pub user: UserView,
    /// The personal carbon account.
    pub account_id: Option<String>,
    /// Roles held, each in an organisation (`admin`: platform-wide).
    pub roles: Vec<crate::orgs::routes::GrantView>,
    /// Organisations the user is an approved member of.
    pub member_of: Vec<String>,
}

/// The signed-in user, their personal account, roles and memberships.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The signed-in user", body = MeView),
        (status = 401, description = "Missing, invalid or expired token (`invalid_token`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/me")]
pub async fn me(
    db: web::Data<DatabaseConnection>,
    user: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let found = service::find(&db, &user.0)
        .await?
        .ok_or(AuthError::InvalidToken)?;
    let who = crate::orgs::principal::Principal::load(db.get_ref(), &found.id).await?;
    let account = crate::accounts::service::personal_of(db.get_ref(), &found.id).await?;
    let member_of = crate::orgs::service::memberships_of(db.get_ref(), &found.id)
        .await?
        .into_iter()
        .map(|m| m.organization_id)
        .collect();
    Ok(HttpResponse::Ok().json(MeView {
        user: UserView::from(found),
        account_id: account.map(|a| a.id),
        roles: who
            .grants
            .into_iter()
            .map(|(role, organization_id)| crate::orgs::routes::GrantView {
                role,
                organization_id,
            })
            .collect(),
        member_of,
    }))
}
