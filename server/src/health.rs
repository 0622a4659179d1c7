//! Liveness and readiness for load balancers and Kubernetes probes.

use actix_web::{get, web, HttpResponse};
use sea_orm::DatabaseConnection;
use serde_json::json;

use crate::cache::Cache;
use crate::error::ApiError;

/// Liveness: the process is up and serving HTTP.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "The process is up", body = Object, example = json!({"status": "ok"})))
)]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// Readiness: the process can do useful work (its database answers, and
/// Redis when one is configured).
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Object, example = json!({"status": "ready", "database": "ok", "cache": "redis"})),
        (status = 503, description = "Not ready: a dependency is unreachable (problem document)", content_type = "application/problem+json")
    )
)]
#[get("/readyz")]
pub async fn readyz(
    db: web::Data<DatabaseConnection>,
    cache: web::Data<Cache>,
) -> Result<HttpResponse, ApiError> {
    db.ping().await.map_err(|e| {
        tracing::warn!(error = %e, "readiness check: database unreachable");
        ApiError::Unavailable("database unreachable".into())
    })?;
    cache.ping().await.map_err(|e| {
        tracing::warn!(error = %e, "readiness check: redis unreachable");
        ApiError::Unavailable("redis unreachable".into())
    })?;
    Ok(HttpResponse::Ok()
        .json(json!({"status": "ready", "database": "ok", "cache": cache.backend()})))
}
