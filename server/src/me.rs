//! A person's own account: registering (a user and their personal carbon
//! account, together), and what they see of themselves at `/api/v1/me`.
//! Above `auth`, `accounts` and `orgs`, which do not know of each other's
//! routes.

use actix_web::{get, post, web, HttpResponse};
use sea_orm::{DatabaseConnection, TransactionSession, TransactionTrait};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::auth::extract::{AuthUser, Principal};
use crate::auth::routes::UserView;
use crate::auth::service::{AuthError, Login};
use crate::auth::{self, entity as user};
use crate::clock::{Now, Timestamp};
use crate::error::ApiError;
use crate::ids::UserId;

/// Registers a person: the user and their personal carbon account exist
/// together or not at all (the unique index decides races between two
/// registrations of one login).
pub async fn register_person(
    db: &impl TransactionTrait,
    login: Login,
    password: &str,
    now: Timestamp,
) -> Result<user::Model, AuthError> {
    let txn = crate::db::begin_write(db).await?;
    let user = auth::service::create_user(&txn, login, password, now).await?;
    crate::accounts::service::open_personal(&txn, &UserId::new(user.id.clone()), now).await?;
    txn.commit().await?;
    Ok(user)
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
        min = crate::auth::password::MIN_CHARS,
        max = crate::auth::password::MAX_CHARS,
        message = "must be 10 to 128 characters"
    ))]
    pub password: String,
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
        (None, Some(mobile)) => {
            Login::Mobile(auth::service::normalize_mobile(mobile).ok_or_else(|| {
                ApiError::Invalid {
                    param: "mobile".into(),
                    detail: "mobile: is not a mainland mobile number (11 digits, 13–19…)".into(),
                }
            })?)
        }
        _ => {
            return Err(ApiError::Invalid {
                param: "email".into(),
                detail: "give exactly one of email and mobile".into(),
            })
        }
    };
    let user = register_person(db.get_ref(), who, &body.password, now).await?;
    Ok(HttpResponse::Created().json(UserView::from(user)))
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
    let found = auth::service::find(&db, &user.0)
        .await?
        .ok_or(AuthError::InvalidToken)?;
    let who = Principal::load(db.get_ref(), &UserId::new(found.id.clone())).await?;
    let account = crate::accounts::service::personal_of(db.get_ref(), &who.user_id).await?;
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
