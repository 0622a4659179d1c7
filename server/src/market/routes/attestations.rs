use actix_web::{get, web, HttpRequest, HttpResponse};
use sea_orm::DatabaseConnection;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::extract::Principal;
use crate::error::ApiError;
use crate::market::attestation::{self, Attestation};
use crate::market::money::yuan;
use crate::printable::{self, PrintFormat};
use crate::registry::rules::RegistryRules;

/// A trade's attestation (交易鉴证) for its two parties: JSON, or the
/// printable page with a QR code of the public check. Carries the trade's
/// audit-log leaf, inclusion proof and signed tree head once sealed.
#[utoipa::path(
    tag = "market",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Trade id"), PrintFormat),
    responses(
        (status = 200, description = "The attestation (JSON, or the printable HTML page)", content((Attestation = "application/json"), (String = "text/html"))),
        (status = 404, description = "No such trade, or the caller is staff of neither party (`not_found`)", content_type = "application/problem+json"),
        (status = 422, description = "An unknown `format` (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/market/trades/{id}/attestation")]
pub async fn get_attestation(
    db: web::Data<DatabaseConnection>,
    rules: web::Data<RegistryRules>,
    who: Principal,
    req: HttpRequest,
    id: web::Path<String>,
    q: web::Query<PrintFormat>,
) -> Result<HttpResponse, ApiError> {
    let html = printable::wants_html(q.format.as_deref(), &req)?;
    let (t, buyer, seller) = attestation::trade_for(&db, &who, &id).await?;
    let a = attestation::build(&db, &rules.public_base_url, t, buyer, seller).await?;
    Ok(if html {
        HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(attestation::html(&a))
    } else {
        HttpResponse::Ok().json(a)
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublicDelivery {
    pub batch_id: String,
    /// Ledger minor units (grams CO2e for carbon).
    pub amount: String,
}

/// A trade as anyone may check it: never who.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicTrade {
    pub id: String,
    pub instrument: String,
    pub seq: i64,
    /// `book`, `pick`, `block` or `auction`.
    pub method: String,
    #[schema(example = "36.50")]
    pub price: String,
    pub quantity: String,
    /// Price × quantity, fen.
    pub value: String,
    pub trading_day: String,
    pub time: String,
    pub deliveries: Vec<PublicDelivery>,
    /// The trade's leaf in the public audit log, once sealed (its
    /// inclusion proof: `GET /api/v1/audit/proofs/inclusion`).
    pub audit_leaf_index: Option<u64>,
}

/// One trade, where an attestation's QR code leads: what the tape shows,
/// the method and the batches delivered, never who. A block trade appears
/// after the close of its day. Public.
#[utoipa::path(
    tag = "public",
    params(("id" = String, Path, description = "Trade id")),
    responses(
        (status = 200, description = "The trade", body = PublicTrade),
        (status = 404, description = "No such trade, or a block trade of a day not closed yet (`not_found`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/public/trades/{id}")]
pub async fn public_trade(
    db: web::Data<DatabaseConnection>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (t, deliveries, leaf) = attestation::public_trade(&db, &id).await?;
    Ok(HttpResponse::Ok().json(PublicTrade {
        id: t.id,
        quantity: crate::market::money::Step::of_code(&t.instrument).show(t.quantity),
        instrument: t.instrument,
        seq: t.seq,
        method: t.method,
        price: yuan(t.price),
        value: t.value.to_string(),
        trading_day: t.trading_day,
        time: t.created_at.to_rfc3339(),
        deliveries: deliveries
            .into_iter()
            .map(|d| PublicDelivery {
                batch_id: d.batch_id,
                amount: d.grams.to_string(),
            })
            .collect(),
        audit_leaf_index: leaf,
    }))
}
