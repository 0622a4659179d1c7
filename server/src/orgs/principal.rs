//! Who is asking: the signed-in user and the roles granted to them, loaded
//! once per request by the handlers that authorise by role.

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use super::entity::{grant, Role};

#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: String,
    pub grants: Vec<(Role, Option<String>)>,
}

impl Principal {
    pub async fn load(db: &impl ConnectionTrait, user_id: &str) -> Result<Principal, DbErr> {
        let grants = grant::Entity::find()
            .filter(grant::Column::UserId.eq(user_id))
            .all(db)
            .await?
            .into_iter()
            .map(|g| (g.role, g.organization_id))
            .collect();
        Ok(Principal {
            user_id: user_id.to_string(),
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
        let user = crate::auth::routes::AuthUser::from_request(req, payload);
        let db = req
            .app_data::<actix_web::web::Data<sea_orm::DatabaseConnection>>()
            .cloned();
        Box::pin(async move {
            let user = user.await?;
            let db = db.ok_or_else(|| crate::error::ApiError::Internal("no database".into()))?;
            Ok(Principal::load(db.get_ref(), &user.0).await?)
        })
    }
}
