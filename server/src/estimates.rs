//! The calculator over HTTP, for clients without the WebAssembly package:
//! `POST /api/v1/estimates/commute` runs the same `carbon-calc` entry point
//! as the package (same JSON in, same JSON and error codes out), and
//! `GET /api/v1/methodologies[/{id}]` publishes the tables the server
//! applies, so clients can estimate offline with exactly them.

use actix_web::{get, post, web, HttpResponse};
use carbon_calc::Catalog;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::methodologies::Methodologies;

/// Runs a `carbon-calc` function on a JSON body.
fn calc(catalog: &Catalog, function: &str, body: &Value) -> Result<HttpResponse, ApiError> {
    let answer =
        carbon_calc::json::call(catalog, function, &body.to_string()).map_err(ApiError::Calc)?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(answer))
}

/// Estimate a commute's reduction, exactly as the WebAssembly package's
/// `estimateCommute` does.
#[utoipa::path(
    tag = "estimates",
    request_body(
        content = carbon_calc::commute::CommuteRequest,
        description = "carbon-calc's commute request: `preset` (optional; the default preset when absent) and `legs` of `mode` and `distance_km` (a decimal string; optional for per-trip modes)",
        example = json!({"preset": "wuhan-2024", "legs": [{"mode": "metro", "distance_km": "7.35"}, {"mode": "bus"}]})
    ),
    responses(
        (status = 200, description = "The estimate: `preset`, `preset_version`, exact `reduction_g` (decimal string), `credited_g` (rounded half away from zero) and per-leg detail", body = carbon_calc::commute::CommuteEstimate),
        (status = 422, description = "The calculator refused the request: `code` is carbon-calc's (`unknown_mode`, `unknown_methodology`, `out_of_range`, `missing_field`, …), `param` the JSON path of the field", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/estimates/commute")]
pub async fn estimate_commute(
    methodologies: web::Data<Methodologies>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    calc(&methodologies.current(), "estimateCommute", &body)
}

/// Every methodology table (commute presets, grid factors, GWP sets, trip
/// bounds, forest methodologies) with id, version, reliability and source.
#[utoipa::path(
    tag = "estimates",
    responses(
        (status = 200, description = "The tables, as `carbon-calc --methodologies` and the WebAssembly `loadMethodologies` accept them", body = Object)
    )
)]
#[get("/api/v1/methodologies")]
pub async fn list_methodologies(methodologies: web::Data<Methodologies>) -> HttpResponse {
    HttpResponse::Ok().json(methodologies.current().document())
}

/// One methodology table by id, with the kind of table it is.
#[utoipa::path(
    tag = "estimates",
    responses(
        (status = 200, description = "`kind` (`commute_presets`, `grid_factors`, `gwp_sets`, `trip_bounds`, `forest_methodologies`) and `table`", body = Object),
        (status = 404, description = "No table with this id (`not_found`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/methodologies/{id}")]
pub async fn get_methodology(
    methodologies: web::Data<Methodologies>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let document =
        serde_json::to_value(methodologies.current().document()).map_err(ApiError::internal)?;
    let found = document.as_object().and_then(|kinds| {
        kinds.iter().find_map(|(kind, tables)| {
            tables
                .as_array()?
                .iter()
                .find(|t| t["id"] == id.as_str())
                .map(|t| json!({"kind": kind, "table": t}))
        })
    });
    found
        .map(|f| HttpResponse::Ok().json(f))
        .ok_or(ApiError::NotFound)
}
