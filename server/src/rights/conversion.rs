//! Conversion (补缴): the holder of a free allocation pays the applicable
//! guidance price × the class's conversion rate into the reserve
//! platform's fund the allocation names, and that many units stop being
//! held as unconverted, in one database transaction. Until then they are
//! the holder's but only the reserve may take them (claw-back).

use chrono::{DateTime, FixedOffset};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::allocation::find;
use super::entity::{allocation, AllocationStatus, Origin};
use super::payment::{pay_for_units, Payment};
use super::rules::RightsRules;
use crate::auth::extract::Principal;
use crate::market::error::MarketError;
use crate::market::{money, participants};
use crate::problem::ProblemCode;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConversionInput {
    /// Units to convert (whole steps of the class), at most the
    /// allocation's unconverted units.
    #[schema(value_type = String, example = "5000")]
    pub quantity: crate::amount::Units,
}

/// What a conversion cost.
#[derive(Debug, Serialize, ToSchema)]
pub struct Conversion {
    pub allocation: super::views::AllocationView,
    /// Units converted now.
    #[schema(example = "5000")]
    pub quantity: String,
    /// The holder's applicable guidance price, yuan per unit.
    #[schema(example = "3.36")]
    pub guidance_price: String,
    /// The class's conversion rate.
    #[schema(example = "1")]
    pub rate: String,
    /// Yuan paid into the reserve platform's fund.
    #[schema(example = "16800.00")]
    pub amount: String,
    pub reserve_organization_id: String,
}

/// price × quantity (units) × rate in fen, rounded half away from zero.
pub fn amount(price: i64, quantity: Decimal, rate: Decimal) -> Result<i64, MarketError> {
    (Decimal::from(price) * quantity)
        .checked_mul(rate)
        .map(|d| d.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero))
        .and_then(|d| d.to_i64())
        .filter(|v| (0..=money::MAX_VALUE_FEN).contains(v))
        .ok_or_else(|| MarketError::invalid("quantity", money::MoneyError::Value.to_string()))
}

pub async fn convert(
    db: &DatabaseConnection,
    who: &Principal,
    rules: &RightsRules,
    id: &str,
    input: &ConversionInput,
    now: DateTime<FixedOffset>,
) -> Result<Conversion, MarketError> {
    let a = find(db, id).await?;
    if !who.acts_for(&a.holder_organization_id) {
        return Err(MarketError::NotFound);
    }
    let holder = participants::acting_for(db, who, "id", &a.holder_organization_id).await?;
    if a.status == AllocationStatus::Expired {
        return Err(MarketError::Conflict(
            ProblemCode::RightsExpired,
            format!(
                "allocation {} has expired: nothing is left to convert",
                a.id
            ),
        ));
    }
    if a.origin != Origin::Free {
        return Err(MarketError::Conflict(
            ProblemCode::InsufficientUnits,
            format!(
                "allocation {} is not converted: {}",
                a.id,
                match a.origin {
                    Origin::Paid => "a paid allocation's units are freed by paying its instalments",
                    Origin::Sale => "rights for sale are tradeable already",
                    Origin::Free | Origin::Verified => "an indicator is tradeable already",
                }
            ),
        ));
    }
    crate::rights::expiry::refuse_lapsed(db, &a.batch_id, now).await?;
    let (_, minor) = a.class.unit();
    let (lots, grams) = super::quantity(a.class, "quantity", input.quantity)?;
    if grams > a.unconverted_g {
        return Err(MarketError::Conflict(
            ProblemCode::InsufficientUnits,
            format!(
                "{} units of allocation {} are unconverted",
                crate::finance::views::units(a.unconverted_g, minor),
                a.id
            ),
        ));
    }
    let reserve_id = a.reserve_organization_id.clone().ok_or_else(|| {
        sea_orm::DbErr::Custom(format!("free allocation {} without a fund", a.id))
    })?;
    let reserve = participants::account_of(db, &reserve_id).await?;
    let price = crate::reserve::offers::price_for(db, &a.instrument, &holder.org, now).await?;
    let rate = rules.conversion_rate(a.class).ok_or_else(|| {
        sea_orm::DbErr::Custom(format!("{} is never allocated free", a.instrument))
    })?;
    let step = money::Step::of(a.class);
    let paid = amount(price, input.quantity.0, rate)?;
    let txn = crate::db::begin_write(db).await?;
    let conversion_id = uuid::Uuid::now_v7().to_string();
    pay_for_units(
        &txn,
        &a,
        Payment {
            payer: &holder.account,
            payee: &reserve,
            fen: paid,
            grams,
            key: format!("conversion:{conversion_id}"),
            what: format!("converting {} units", step.show(lots)),
        },
        now,
    )
    .await?;
    crate::audit::log::append(
        &txn,
        "rights.converted",
        json!({
            "allocation": a.id,
            "batch": a.batch_id,
            "instrument": a.instrument,
            "holder_organization": a.holder_organization_id,
            "quantity": step.show(lots),
            "guidance_price": money::yuan(price),
            "rate": rate.normalize().to_string(),
            "amount": money::yuan(paid),
            "reserve": reserve_id,
            "by": who.user_id,
        }),
        None,
        now,
    )
    .await?;
    let a = find(&txn, &a.id).await?;
    txn.commit().await?;
    Ok(Conversion {
        allocation: super::views::one(db, a, super::views::Today::of(rules, now)).await?,
        quantity: step.show(lots),
        guidance_price: money::yuan(price),
        rate: rate.normalize().to_string(),
        amount: money::yuan(paid),
        reserve_organization_id: reserve_id,
    })
}

/// When units held unconverted would have covered `wanted` minor units
/// of `batches` (with `available` free), the refusal that says so.
pub async fn unconverted_refusal(
    db: &impl ConnectionTrait,
    account_id: &str,
    what: &str,
    batches: &[String],
    available: i64,
    wanted: i64,
    minor: i64,
) -> Result<Option<MarketError>, MarketError> {
    let Some(org) = crate::accounts::entity::Entity::find_by_id(account_id.to_string())
        .one(db)
        .await?
        .and_then(|a| a.organization_id)
    else {
        return Ok(None);
    };
    let held: i64 = allocation::Entity::find()
        .filter(allocation::Column::HolderOrganizationId.eq(org))
        .filter(allocation::Column::BatchId.is_in(batches.iter().map(String::as_str)))
        .filter(allocation::Column::UnconvertedG.gt(0))
        .all(db)
        .await?
        .iter()
        .map(|a| a.unconverted_g)
        .sum();
    if held == 0 || available + held < wanted {
        return Ok(None);
    }
    Ok(Some(MarketError::Conflict(
        ProblemCode::UnitsUnconverted,
        format!(
            "only {} of {what} are converted and free; {} were allocated and are not converted or paid for: convert them (补缴) or pay their instalments first",
            crate::finance::views::units(std::cmp::max(available, 0), minor),
            crate::finance::views::units(held, minor),
        ),
    )))
}
