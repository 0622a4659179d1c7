//! Who is asking, for handlers: the signed-in user ([`AuthUser`]: a valid,
//! unrevoked bearer token, counted against the per-user rate limit) and,
//! for handlers that authorise by role, the user with their roles
//! ([`Principal`]).

use std::future::Future;
use std::pin::Pin;

use actix_web::{web, FromRequest, HttpRequest};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};

use super::roles::{grant, Role};
use super::service::AuthError;
use super::token::TokenKeys;
use crate::cache::Cache;
use crate::error::ApiError;
use crate::ids::UserId;
use crate::rate_limit;

/// Authenticated requests per minute one user may make.
#[derive(Clone, Copy)]
pub struct UserRateLimit(pub u32);

/// The signed-in user's id, from a valid `Authorization: Bearer` token
/// whose sign-in is not revoked. Counts the request against the user's rate
/// limit (429 with `Retry-After` beyond it).
pub struct AuthUser(pub UserId);

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
                return Err(ApiError::internal(
                    "cache, database, revocations or clock not configured",
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
            Ok(AuthUser(UserId::new(bearer.user_id)))
        })
    }
}

#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: UserId,
    pub grants: Vec<(Role, Option<String>)>,
}

impl Principal {
    pub async fn load(db: &impl ConnectionTrait, user_id: &UserId) -> Result<Principal, DbErr> {
        let grants = grant::Entity::find()
            .filter(grant::Column::UserId.eq(user_id))
            .all(db)
            .await?
            .into_iter()
            .map(|g| (g.role, g.organization_id))
            .collect();
        Ok(Principal {
            user_id: user_id.clone(),
            grants,
        })
    }

    pub fn is_admin(&self) -> bool {
        self.grants.iter().any(|(r, _)| *r == Role::Admin)
    }

    /// Holds `role` in some organisation.
    pub fn has_role(&self, role: Role) -> bool {
        self.grants.iter().any(|(r, _)| *r == role)
    }

    /// Holds `role` in organisation `org_id`.
    pub fn has_role_in(&self, role: Role, org_id: &str) -> bool {
        self.grants
            .iter()
            .any(|(r, o)| *r == role && o.as_deref() == Some(org_id))
    }

    /// Holds any role in organisation `org_id`.
    pub fn acts_for(&self, org_id: &str) -> bool {
        self.grants
            .iter()
            .any(|(_, o)| o.as_deref() == Some(org_id))
    }
}

/// The signed-in user with their roles, for handlers that authorise by
/// role: 401 without a valid token.
impl actix_web::FromRequest for Principal {
    type Error = crate::error::ApiError;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(
        req: &actix_web::HttpRequest,
        payload: &mut actix_web::dev::Payload,
    ) -> Self::Future {
        let user = crate::auth::extract::AuthUser::from_request(req, payload);
        let db = req
            .app_data::<actix_web::web::Data<sea_orm::DatabaseConnection>>()
            .cloned();
        Box::pin(async move {
            let user = user.await?;
            let db = db.ok_or_else(|| crate::error::ApiError::internal("no database"))?;
            Ok(Principal::load(db.get_ref(), &user.0).await?)
        })
    }
}
