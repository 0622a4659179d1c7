use actix_web::{get, post, web, HttpResponse};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::extract::Principal;
use crate::clock::Now;
use crate::error::ApiError;
use crate::instruments::{instrument, Class, TradingStatus};
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
    fn around(reference: i64, share: rust_decimal::Decimal, step: money::Step) -> PriceBand {
        let (low, high) = money::band(reference, share, step);
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
    /// Prices are multiples of this (yuan per unit: 0.01; 1 per mu for
    /// land).
    #[schema(example = "0.01")]
    pub tick: String,
    /// Quantities are whole multiples of this many units (1; 0.01 mu
    /// for land).
    #[schema(example = "1")]
    pub quantity_step: String,
    /// Smallest block trade, in units: the instrument's own, or the
    /// market-wide setting.
    pub block_min_units: String,
    /// Largest book order, in units.
    pub max_order_units: String,
    /// Fee on each side of a trade, a share of its value: the
    /// instrument's own, or the market-wide setting. An order pays the
    /// rate it was entered under.
    #[schema(example = "0")]
    pub fee_rate: String,
    /// The guidance price in force today (its base price, yuan per unit),
    /// if one was published (`/api/v1/public/guidance-prices`).
    #[schema(example = "36.00")]
    pub guidance_price: Option<String>,
    /// No order, pick, block trade or auction price below this today: the
    /// guidance price, when it is a floor (`below_floor`).
    #[schema(example = "36.00")]
    pub floor_price: Option<String>,
    pub listed_at: String,
    pub updated_at: String,
}

impl InstrumentView {
    pub fn new(i: instrument::Model, rules: &MarketRules) -> InstrumentView {
        let (block_min_units, fee_rate) = (rules.block_min_of(&i), rules.fee_rate_of(&i));
        let step = i.step();
        InstrumentView {
            band: PriceBand::around(i.reference_price, rules.band, step),
            block_band: PriceBand::around(i.reference_price, rules.block_band, step),
            code: i.code,
            class: i.class,
            vintage: i.vintage,
            unit: i.unit,
            minor_per_unit: i.minor_per_unit.to_string(),
            status: i.status,
            reference_price: yuan(i.reference_price),
            tick: yuan(step.tick),
            quantity_step: step.show(1),
            block_min_units: block_min_units.to_string(),
            max_order_units: rules.max_order_units.to_string(),
            fee_rate: fee_rate.normalize().to_string(),
            guidance_price: i.guidance_price.map(yuan),
            floor_price: i.floor_price.map(yuan),
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
    #[schema(
        example = "TPH-FOR-2025",
        pattern = "^TPH-(PRJ|FOR|PER|SO2|NOX|COD|NH3N|WCI|WSR|ENU|LCI|LLS)-[0-9]{4}$"
    )]
    pub code: String,
    /// Yuan per unit, on the class's tick: the reference price until the
    /// first close. The guidance price in force is that price: leave this
    /// out, or give the same; without a guidance price it is needed.
    #[schema(example = "36.00")]
    pub reference_price: Option<String>,
    /// This instrument's smallest block trade, whole units (default: the
    /// market-wide `block_min_units`).
    #[serde(default, deserialize_with = "crate::amount::deserialize_option")]
    #[schema(value_type = Option<String>, example = "100000")]
    pub block_min_units: Option<i64>,
    /// This instrument's fee per side, a decimal share of the value, 0 to
    /// 0.1 (default: the market-wide `fee_rate`).
    #[schema(example = "0.0003", pattern = "^[0-9]+(\\.[0-9]{1,8})?$")]
    pub fee_rate: Option<String>,
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
        (status = 422, description = "Not an instrument code, a bad price, no reference price without a guidance price or one unlike it (`invalid_field`)", content_type = "application/problem+json")
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
    let price = body
        .reference_price
        .as_deref()
        .map(|p| {
            crate::market::orders::parse_price(money::Step::of(code.class), "reference_price", p)
        })
        .transpose()?;
    let own = listing::OwnRules::parse(body.block_min_units, body.fee_rate.as_deref())?;
    let i = listing::list(db.get_ref(), &who, &code, price, own, now).await?;
    Ok(HttpResponse::Created().json(InstrumentView::new(i, &rules)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InstrumentRulesInput {
    /// The smallest block trade, whole units; absent: the market-wide
    /// setting.
    #[serde(default, deserialize_with = "crate::amount::deserialize_option")]
    #[schema(value_type = Option<String>, example = "100000")]
    pub block_min_units: Option<i64>,
    /// The fee per side, a decimal share of the value, 0 to 0.1; absent:
    /// the market-wide setting.
    #[schema(example = "0.0003", pattern = "^[0-9]+(\\.[0-9]{1,8})?$")]
    pub fee_rate: Option<String>,
    /// Why, for the public record (audit log).
    #[schema(example = "fee schedule of 2027", max_length = 500)]
    pub reason: String,
}

/// Set an instrument's own rules (government staff, administrators): its
/// block-trade minimum and fee rate, each replacing the market-wide
/// setting; a field left out goes back to the setting. Orders resting now
/// keep the fee rate they were entered under.
#[utoipa::path(
    tag = "market",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Instrument code", example = "TPH-FOR-2025")),
    request_body = InstrumentRulesInput,
    responses(
        (status = 200, description = "The instrument with its rules", body = InstrumentView),
        (status = 403, description = "Not government staff or an administrator (`forbidden`)", content_type = "application/problem+json"),
        (status = 404, description = "Not listed (`not_found`)", content_type = "application/problem+json"),
        (status = 422, description = "A minimum or rate out of range, or no reason (`invalid_field`)", content_type = "application/problem+json")
    )
)]
#[post("/api/v1/market/instruments/{code}/rules")]
pub async fn set_instrument_rules(
    db: web::Data<DatabaseConnection>,
    rules: web::Data<MarketRules>,
    who: Principal,
    code: web::Path<String>,
    body: web::Json<InstrumentRulesInput>,
    Now(now): Now,
) -> Result<HttpResponse, ApiError> {
    let own = listing::OwnRules::parse(body.block_min_units, body.fee_rate.as_deref())?;
    let i = listing::set_rules(db.get_ref(), &who, &code, own, &body.reason, now).await?;
    Ok(HttpResponse::Ok().json(InstrumentView::new(i, &rules)))
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
