//! Liveness and readiness for load balancers and Kubernetes probes.

use actix_web::{get, web, HttpResponse};
use sea_orm::DatabaseConnection;
use serde_json::json;

use crate::error::ApiError;

/// The process is up and serving HTTP.
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// The process can do useful work: its database answers.
#[get("/readyz")]
pub async fn readyz(db: web::Data<DatabaseConnection>) -> Result<HttpResponse, ApiError> {
    db.ping().await.map_err(|e| {
        tracing::warn!(error = %e, "readiness check: database unreachable");
        ApiError::Unavailable("database unreachable".into())
    })?;
    Ok(HttpResponse::Ok().json(json!({"status": "ready", "database": "ok"})))
}
