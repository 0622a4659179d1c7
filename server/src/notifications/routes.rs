use actix_web::{get, post, web, HttpResponse};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::entity::{notification, NotificationKind};
use super::service;
use crate::auth::extract::AuthUser;
use crate::clock::Now;
use crate::error::ApiError;
use crate::pagination::{Page, PageQuery};

/// One notification. `body` holds the kind's fields: `trip_reviewed`
/// {`trip_id`, `status` (`credited` or `rejected`), `reason`,
/// `credited_g`, `points`}; `organization_decided` {`organization_id`,
/// `name`, `status`, `reason`}; `membership_decided` {`organization_id`,
/// `membership_id`, `status`}.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationView {
    pub id: String,
    pub kind: NotificationKind,
    #[schema(value_type = Object)]
    pub body: serde_json::Value,
    pub created_at: String,
    /// When the person marked it read; absent while unread.
    pub read_at: Option<String>,
}

impl From<notification::Model> for NotificationView {
    fn from(n: notification::Model) -> Self {
        NotificationView {
            id: n.id,
            kind: n.kind,
            // Written by `notify` from a JSON value.
            body: serde_json::from_str(&n.body).unwrap_or_default(),
            created_at: n.created_at.to_rfc3339(),
            read_at: n.read_at.map(|t| t.to_rfc3339()),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboxQuery {
    /// Only the unread ones.
    #[serde(default)]
    pub unread: bool,
}

/// The caller's notifications, newest first.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(InboxQuery, PageQuery),
    responses(
        (status = 200, description = "A page of notifications", body = Page<NotificationView>),
        (status = 422, description = "A bad `limit` or `starting_after` (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/me/notifications")]
pub async fn inbox(
    db: web::Data<DatabaseConnection>,
    who: AuthUser,
    query: web::Query<InboxQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let rows = service::inbox(
        db.get_ref(),
        who.0.as_str(),
        query.unread,
        page.starting_after.clone(),
        page.limit()?,
    )
    .await?;
    Ok(HttpResponse::Ok().json(Page::<NotificationView>::of(rows)))
}

/// Marks one of the caller's notifications read (again: unchanged).
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Notification id")),
    responses(
        (status = 200, description = "The notification, read", body = NotificationView),
        (status = 404, description = "No notification of the caller's with this id (`not_found`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/me/notifications/{id}/read")]
pub async fn mark_read(
    db: web::Data<DatabaseConnection>,
    who: AuthUser,
    id: web::Path<String>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let n = service::mark_read(db.get_ref(), who.0.as_str(), &id, now)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(NotificationView::from(n)))
}

/// Whether a kind of notification reaches the person.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationSetting {
    pub kind: NotificationKind,
    pub enabled: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationSettings {
    pub data: Vec<NotificationSetting>,
}

async fn settings_of(
    db: &DatabaseConnection,
    who: &AuthUser,
) -> Result<NotificationSettings, ApiError> {
    let data = service::settings(db, who.0.as_str())
        .await?
        .into_iter()
        .map(|(kind, enabled)| NotificationSetting { kind, enabled })
        .collect();
    Ok(NotificationSettings { data })
}

/// Every kind of notification and whether it reaches the caller (all do
/// until switched off).
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    responses((status = 200, description = "Every kind", body = NotificationSettings))
)]
#[get("/api/v1/me/notification-settings")]
pub async fn get_settings(
    db: web::Data<DatabaseConnection>,
    who: AuthUser,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(settings_of(&db, &who).await?))
}

/// Switches a kind on or off for the caller: from now on, notifications of
/// a kind switched off are not written.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    request_body = NotificationSetting,
    responses(
        (status = 200, description = "Every kind, as now set", body = NotificationSettings),
        (status = 400, description = "An unknown kind (`invalid_value`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/me/notification-settings")]
pub async fn set_setting(
    db: web::Data<DatabaseConnection>,
    who: AuthUser,
    body: web::Json<NotificationSetting>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    service::set(db.get_ref(), who.0.as_str(), body.kind, body.enabled, now).await?;
    Ok(HttpResponse::Ok().json(settings_of(&db, &who).await?))
}
