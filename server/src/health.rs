//! Liveness and readiness for load balancers and Kubernetes probes.

use std::time::Duration;

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

/// The database gets this long to answer a readiness probe: load
/// balancers probe often and want an answer well inside a second.
pub const READY_DATABASE_TIMEOUT: Duration = Duration::from_millis(750);

/// Readiness: the process can do useful work, that is, its database
/// answers. The cache is reported but does not decide: without Redis the
/// API fails open and keeps serving, so a Redis outage must not take
/// every replica out of the load balancer.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "Ready (`cache_state` is `unreachable` while Redis is down and the API fails open)", body = Object, example = json!({"status": "ready", "database": "ok", "cache": "redis", "cache_state": "ok"})),
        (status = 503, description = "Not ready: the database is unreachable (problem document, `Retry-After`)", content_type = "application/problem+json")
    )
)]
#[get("/readyz")]
pub async fn readyz(
    db: web::Data<DatabaseConnection>,
    cache: web::Data<Cache>,
) -> Result<HttpResponse, ApiError> {
    let answer = tokio::time::timeout(READY_DATABASE_TIMEOUT, db.ping()).await;
    if let Err(why) = answer
        .map_err(|_| "timed out".to_string())
        .and_then(|r| r.map_err(|e| e.to_string()))
    {
        tracing::warn!(error = %why, "readiness check: database unreachable");
        return Err(ApiError::Unavailable("database unreachable".into()));
    }
    let cache_state = if cache.ping().await.is_ok() {
        "ok"
    } else {
        "unreachable"
    };
    Ok(HttpResponse::Ok().json(json!({
        "status": "ready",
        "database": "ok",
        "cache": cache.backend(),
        "cache_state": cache_state
    })))
}
