use actix_web::{get, post, web, HttpResponse};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::extract::Principal;
use crate::clock::Now;
use crate::error::ApiError;
use crate::instruments::{instrument, Class, TradingStatus};
use crate::market::error::MarketError;
use crate::market::listing;
use crate::market::money::{self, yuan};
use crate::market::rules::MarketRules;

/// Prices from `low` to `high`, both included (yuan).
#[derive(Debug, Serialize, ToSchema)]
pub struct PriceBand {
    #[schema(example = "45.00")]
    pub low: String,
    #[schema(example = "55.00")]
    pub high: String,
}

impl PriceBand {
    fn around(reference: i64, share: rust_decimal::Decimal) -> PriceBand {
        let (low, high) = money::band(reference, share);
        PriceBand {
            low: yuan(low),
            high: yuan(high),
        }
    }
}

/// A tradeable instrument and its rules today.
#[derive(Debug, Serialize, ToSchema)]
pub struct InstrumentView {
    #[schema(example = "TPH-FOR-2025")]
    pub code: String,
    pub class: Class,
    pub vintage: i32,
    /// What one unit is (`tCO2e`).
    pub unit: String,
    /// Ledger minor units in one unit (a tonne is 1,000,000 grams).
    pub minor_per_unit: String,
    pub status: TradingStatus,
    /// Yuan per unit: the previous close, or the listing price before the
    /// first close. Bands are around it.
    #[schema(example = "50.00")]
    pub reference_price: String,
    /// Where book orders and picks may be priced today.
    pub band: PriceBand,
    /// Where block trades may be priced today.
    pub block_band: PriceBand,
    /// Prices are multiples of this (yuan).
    #[schema(example = "0.01")]
    pub tick: String,
    /// Quantities are whole multiples of this many units.
    #[schema(example = "1")]
    pub quantity_step: String,
    /// Smallest block trade, in units.
    pub block_min_units: String,
    /// Largest book order, in units.
    pub max_order_units: String,
    /// Fee on each side of a trade, a share of its value.
    #[schema(example = "0")]
    pub fee_rate: String,
    pub listed_at: String,
    pub updated_at: String,
}

impl InstrumentView {
    pub fn new(i: instrument::Model, rules: &MarketRules) -> InstrumentView {
        InstrumentView {
            band: PriceBand::around(i.reference_price, rules.band),
            block_band: PriceBand::around(i.reference_price, rules.block_band),
            code: i.code,
            class: i.class,
            vintage: i.vintage,
            unit: i.unit,
            minor_per_unit: i.minor_per_unit.to_string(),
            status: i.status,
            reference_price: yuan(i.reference_price),
            tick: "0.01".into(),
            quantity_step: "1".into(),
            block_min_units: rules.block_min_units.to_string(),
            max_order_units: rules.max_order_units.to_string(),
            fee_rate: rules.fee_rate.normalize().to_string(),
            listed_at: i.listed_at.to_rfc3339(),
            updated_at: i.updated_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InstrumentList {
    pub data: Vec<InstrumentView>,
}

/// Every listed or suspended instrument, with its reference price and
/// bands. Public: no sign-in.
#[utoipa::path(
    tag = "market",
    responses((status = 200, description = "Instruments by code", body = InstrumentList))
)]
#[get("/api/v1/market/instruments")]
pub async fn list_instruments(
    db: web::Data<DatabaseConnection>,
    rules: web::Data<MarketRules>,
) -> Result<HttpResponse, ApiError> {
    let data = listing::all(db.get_ref())
        .await?
        .into_iter()
        .map(|i| InstrumentView::new(i, &rules))
        .collect();
    Ok(HttpResponse::Ok().json(InstrumentList { data }))
}

/// One instrument. Public: no sign-in.
#[utoipa::path(
    tag = "market",
    params(("code" = String, Path, description = "Instrument code", example = "TPH-FOR-2025")),
    responses(
        (status = 200, description = "The instrument", body = InstrumentView),
        (status = 404, description = "Not listed (`not_found`)", content_type = "application/problem+json")
    )
)]
#[get("/api/v1/market/instruments/{code}")]
pub async fn get_instrument(
    db: web::Data<DatabaseConnection>,
    rules: web::Data<MarketRules>,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let i = listing::find(db.get_ref(), &code).await?;
    Ok(HttpResponse::Ok().json(InstrumentView::new(i, &rules)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListingInput {
    /// `TPH-PRJ-<vintage>`, `TPH-FOR-<vintage>` or `TPH-PER-<vintage>`.
    #[schema(example = "TPH-FOR-2025", pattern = "^TPH-(PRJ|FOR|PER)-[0-9]{4}$")]
    pub code: String,
    /// Yuan per unit, at most two decimals: the reference price until the
    /// first close.
    #[schema(example = "36.00")]
    pub reference_price: String,
}

/// List an instrument for trading (government staff, administrators).
#[utoipa::path(
    tag = "market",
    security(("bearer" = [])),
    request_body = ListingInput,
    responses(
        (status = 201, description = "Listed", body = InstrumentView),
        (status = 403, description = "Not government staff or an administrator (`forbidden`)", content_type = "application/problem+json"),
        (status = 409, description = "Listed already (`already_listed`)", content_type = "application/problem+json"),
        (status = 422, description = "Not an instrument code, or a bad price (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/market/instruments")]
pub async fn list_instrument(
    db: web::Data<DatabaseConnection>,
    rules: web::Data<MarketRules>,
    who: Principal,
    body: web::Json<ListingInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let code = listing::parse_code("code", &body.code)?;
    let price = money::parse_price(&body.reference_price)
        .map_err(|e| MarketError::invalid("reference_price", e.to_string()))?;
    let i = listing::list(db.get_ref(), &who, &code, price, now).await?;
    Ok(HttpResponse::Created().json(InstrumentView::new(i, &rules)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChangeInput {
    /// Why, for the public record (audit log).
    #[schema(example = "abnormal trading under review", max_length = 500)]
    pub reason: String,
}

/// Suspend trading in an instrument (government staff, administrators):
/// no orders, picks, block trades or bids until it resumes.
#[utoipa::path(
    tag = "market",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Instrument code", example = "TPH-FOR-2025")),
    request_body = StatusChangeInput,
    responses(
        (status = 200, description = "Suspended", body = InstrumentView),
        (status = 403, description = "Not government staff or an administrator (`forbidden`)", content_type = "application/problem+json"),
        (status = 404, description = "Not listed (`not_found`)", content_type = "application/problem+json"),
        (status = 409, description = "Suspended already (`instrument_suspended`)", content_type = "application/problem+json"),
        (status = 422, description = "No reason (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/market/instruments/{code}/suspend")]
pub async fn suspend_instrument(
    db: web::Data<DatabaseConnection>,
    rules: web::Data<MarketRules>,
    who: Principal,
    code: web::Path<String>,
    body: web::Json<StatusChangeInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let i = listing::set_status(
        db.get_ref(),
        &who,
        &code,
        TradingStatus::Suspended,
        &body.reason,
        now,
    )
    .await?;
    Ok(HttpResponse::Ok().json(InstrumentView::new(i, &rules)))
}

/// Resume trading in a suspended instrument (government staff,
/// administrators).
#[utoipa::path(
    tag = "market",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Instrument code", example = "TPH-FOR-2025")),
    request_body = StatusChangeInput,
    responses(
        (status = 200, description = "Trading again", body = InstrumentView),
        (status = 403, description = "Not government staff or an administrator (`forbidden`)", content_type = "application/problem+json"),
        (status = 404, description = "Not listed (`not_found`)", content_type = "application/problem+json"),
        (status = 409, description = "Not suspended (`not_suspended`)", content_type = "application/problem+json"),
        (status = 422, description = "No reason (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/market/instruments/{code}/resume")]
pub async fn resume_instrument(
    db: web::Data<DatabaseConnection>,
    rules: web::Data<MarketRules>,
    who: Principal,
    code: web::Path<String>,
    body: web::Json<StatusChangeInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let i = listing::set_status(
        db.get_ref(),
        &who,
        &code,
        TradingStatus::Listed,
        &body.reason,
        now,
    )
    .await?;
    Ok(HttpResponse::Ok().json(InstrumentView::new(i, &rules)))
}
